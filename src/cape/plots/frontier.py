"""Frontier figures: the population scatter, the h-field, per-lab h and trajectories, saturation, heatmaps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import apply_layout, shorten, family_colors


# ---------------------------------------------------------------------------------------------- frontier
def _frontier_hover(x: str, y: str) -> str:
    return ("<b>%{customdata[0]}</b><br>lab: %{customdata[1]}<br>released: %{customdata[2]}"
            f"<br>{x}: %{{x:.1f}}<br>{y}: %{{y:.1f}}"
            "<br>h: %{customdata[3]:+.1f} (±%{customdata[4]:.1f}, 95% PI)<br>subset: %{customdata[5]}"
            "<br>source: %{customdata[6]}<extra></extra>")


def frontier_scatter(rep, *, sources: dict | None = None, title: str | None = None) -> go.Figure:
    """The frontier panel: y against x per lab, the population line with its prediction band; models not in
    the fit (post-cutoff, added) drawn open.

    Args:
        rep: a :class:`cape.frontier.FrontierReport`.
        sources: optional ``{model: source text}`` for the hover.
    """
    cfg, c, hf = rep.config, rep.coupling, rep.h_field.table
    colors = family_colors(hf["lab"].astype(str).unique(), domain="lab")
    xs = np.linspace(float(hf["x"].min()) - 2, float(hf["x"].max()) + 2, 120)
    half = c.prediction_halfwidth(xs)
    pred = c.predict(xs)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.r_[xs, xs[::-1]], y=np.r_[pred + half, (pred - half)[::-1]], fill="toself",
                             fillcolor="rgba(120,120,120,0.13)", line={"width": 0}, hoverinfo="skip",
                             name=f"{int(round(c.ci * 100))}% prediction band"))
    fig.add_trace(go.Scatter(x=xs, y=pred, mode="lines", line={"color": "#444", "dash": "dash"},
                             name=f"population: y = {c.slope:.3f}x + {c.intercept:.1f} (r = {c.r:+.2f}, n = {c.n})",
                             hoverinfo="skip"))
    src = sources or {}
    for lab, g in hf.groupby("lab", sort=True):
        lab = str(lab)
        cd = np.column_stack([g.index.astype(str), [lab] * len(g), g["date"].astype(str).fillna("—"), g["h"],
                              g["pi_half"], g["subset"].astype(str), [shorten(src.get(m), 50) for m in g.index]])
        sym = ["circle" if f else ("star" if s == "added" else "circle-open") for f, s in
               zip(g["in_fit"], g["subset"])]
        fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers", name=lab, customdata=cd,
                                 marker={"color": colors[lab], "size": 10, "symbol": sym,
                                         "line": {"width": 1.5, "color": colors[lab]}},
                                 hovertemplate=_frontier_hover(cfg.x, cfg.y)))
    return apply_layout(fig, title=title or f"Frontier: {cfg.y} vs {cfg.x} (open = shown, not fitted)",
                   x=f"{cfg.x} (%)", y=f"{cfg.y} (%)")


def h_field_figure(rep, *, title: str | None = None) -> go.Figure:
    """h per model (points of y) with its prediction-interval half-width as error bar, sorted, coloured by lab."""
    hf = rep.h_field.table.sort_values("h")
    colors = family_colors(hf["lab"].astype(str).unique(), domain="lab")
    fig = go.Figure()
    for lab, g in hf.groupby("lab", sort=True):
        lab = str(lab)
        fig.add_trace(go.Bar(
            x=g.index.astype(str), y=g["h"], name=lab, marker_color=colors[lab],
            marker_pattern_shape=["" if f else "/" for f in g["in_fit"]],
            error_y={"type": "data", "array": g["pi_half"], "thickness": 1, "color": "#777"},
            customdata=np.column_stack([g["subset"].astype(str), g["direction"].astype(str)]),
            hovertemplate="<b>%{x}</b><br>lab: " + lab + "<br>h: %{y:+.1f} points<br>%{customdata[1]}"
                          "<br>subset: %{customdata[0]}<extra></extra>"))
    band = rep.config.h_band
    for yv in (-band, band):
        fig.add_hline(y=yv, line={"color": "#999", "dash": "dot", "width": 1})
    fig.update_xaxes(categoryorder="array", categoryarray=list(hf.index.astype(str)), tickangle=-50)
    return apply_layout(fig, title=title or f"h-field per model ({rep.config.y} residual, points; bars = 95% PI)",
                   x="", y="h (points)", height=520)


def lab_h_figure(rep, *, title: str | None = None) -> go.Figure:
    """Mean h per lab with its spread (SD), and each lab's models as points."""
    lt = rep.labs.table.sort_values("mean_h")
    hf = rep.h_field.table
    colors = family_colors(hf["lab"].astype(str).unique(), domain="lab")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=lt.index.astype(str), y=lt["mean_h"], name="mean h",
                         marker_color=[colors.get(str(lab), "#888") for lab in lt.index],
                         error_y={"type": "data", "array": lt["sd_h"].fillna(0), "thickness": 1, "color": "#555"},
                         customdata=np.column_stack([lt["n"], lt["direction"].astype(str)]),
                         hovertemplate="<b>%{x}</b><br>mean h: %{y:+.1f}<br>models: %{customdata[0]}"
                                       "<br>%{customdata[1]}<extra></extra>", opacity=0.75))
    fig.add_trace(go.Scatter(x=hf["lab"].astype(str), y=hf["h"], mode="markers", name="models",
                             marker={"color": "#222", "size": 6, "symbol": "line-ew-open"},
                             text=hf.index.astype(str),
                             hovertemplate="<b>%{text}</b><br>h: %{y:+.1f}<extra></extra>"))
    fig.update_xaxes(categoryorder="array", categoryarray=list(lt.index.astype(str)))
    return apply_layout(fig, title=title or "h per lab (mean ± SD)", x="lab", y="h (points)")


def lab_trajectory_figure(rep, *, title: str | None = None) -> go.Figure:
    """Each lab's h over its release dates; reallocations (|dh| above the threshold) ringed."""
    tr = rep.labs.trajectory.copy()
    tr["when"] = pd.to_datetime(tr["date"].astype(str), errors="coerce", format="mixed")
    tr = tr.dropna(subset=["when"])
    colors = family_colors(tr["lab"].astype(str).unique(), domain="lab")
    fig = go.Figure()
    for lab, g in tr.groupby("lab", sort=True):
        lab = str(lab)
        g = g.sort_values("when")
        fig.add_trace(go.Scatter(
            x=g["when"], y=g["h"], mode="lines+markers", name=lab, line={"color": colors[lab]},
            marker={"size": [13 if r else 7 for r in g["reallocation"]],
                    "symbol": ["circle-open-dot" if r else "circle" for r in g["reallocation"]]},
            customdata=np.column_stack([g["model"].astype(str), g["dh"].astype(float)]),
            hovertemplate="<b>%{customdata[0]}</b><br>" + lab + "<br>%{x|%Y-%m-%d}<br>h: %{y:+.1f}"
                          "<br>dh: %{customdata[1]:+.1f}<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    return apply_layout(fig, title=title or "h per lab over release dates (rings: reallocation)",
                   x="release date", y="h (points)")


def saturation_figure(rep, *, title: str | None = None) -> go.Figure:
    """Rotation diagnostic: the top-k models on the old and the new axis, with the two spreads."""
    s = rep.saturation
    rk = s.ranking
    top = rk[rk["in_top_k"]].sort_values("rank")
    hf = rep.h_field.table
    xcol, ycol = "x", "y"
    fig = go.Figure()
    names = top.index.astype(str)
    fig.add_trace(go.Bar(x=names, y=hf.loc[top.index, xcol], name=f"{s.old} (spread {s.spread_old:.1f})",
                         marker_color="#1f77b4"))
    fig.add_trace(go.Bar(x=names, y=hf.loc[top.index, ycol], name=f"{s.new} (spread {s.spread_new:.1f})",
                         marker_color="#ff7f0e"))
    fig.update_layout(barmode="group")
    verdict = "rotate" if s.rotate else "keep"
    return apply_layout(fig, title=title or f"Rotation diagnostic: ratio {s.ratio:.3f} vs threshold {s.threshold:g} "
                                       f"→ {verdict} {s.old}", x=f"top-{s.top_k} models (by {s.rank_by} axis)",
                   y="score (%)")


def matrix_heatmap(mat, labels: Sequence[str], *, title: str, zmin: float = -1, zmax: float = 1,
                   colorscale: str = "RdBu", fmt: str = ".2f") -> go.Figure:
    """A labelled heatmap (correlation matrices, loadings) with the values written in the cells."""
    m = np.asarray(mat, dtype=float)
    labels = [str(x) for x in labels]
    fig = go.Figure(go.Heatmap(z=m, x=labels, y=labels if m.shape[0] == len(labels) else None, zmin=zmin,
                               zmax=zmax, colorscale=colorscale, text=[[format(v, fmt) for v in r] for r in m],
                               texttemplate="%{text}", hovertemplate="%{y} / %{x}: %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return apply_layout(fig, title=title, x="", y="", height=420)
