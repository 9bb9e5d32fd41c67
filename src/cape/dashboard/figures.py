"""Plotly figure builders shared by the dashboard and the static HTML report.

Every builder takes a :class:`~cape.scores.ScoreTable` or a library result object and returns a
``plotly.graph_objects.Figure``; none computes a statistic itself. Hover labels show model, family, parameter
count, source and shots. Colours are stable per family (:func:`family_colors`), so a family has the same colour
in every figure.

Example:
    >>> from cape import data
    >>> from cape.dashboard.figures import phase_diagram
    >>> fig = phase_diagram(data.load_base())
    >>> len(fig.data) > 1
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..commands._common import fmt_params

# A qualitative palette with enough distinct colours for ~20 families (Plotly's D3 + Dark24 subset).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000075", "#f032e6", "#469990", "#800000", "#e6a100", "#222222",
           "#6b8e23", "#4363d8", "#9a6324", "#a9a9a9")
PHASE_COLORS = {"tax": "#d62728", "transition": "#bcbd22", "bonus": "#2ca02c", "cooperative": "#2ca02c",
                "competitive": "#d62728", "undetermined": "#7f7f7f"}
UPLOAD_SYMBOL = "star"
HEIGHT = 460


def family_colors(families: Iterable[str]) -> dict[str, str]:
    """A stable colour per family: assigned in sorted-name order, so the same set gives the same colours."""
    fams = sorted({str(f) for f in families if f is not None and not (isinstance(f, float) and math.isnan(f))})
    return {f: PALETTE[i % len(PALETTE)] for i, f in enumerate(fams)}


def plotly_config(name: str) -> dict:
    """Plotly config for a chart: the toolbar's camera button saves a PNG named after the figure, no logo,
    no link to an online editor (everything stays on the user's machine)."""
    return {"displaylogo": False, "showSendToCloud": False,
            "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
            "modeBarButtonsToRemove": ["sendDataToCloud"]}


def _layout(fig: go.Figure, *, title: str, x: str, y: str, log_x: bool = False, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(template="plotly_white", title={"text": title, "x": 0.01, "xanchor": "left"},
                      height=height, margin={"l": 60, "r": 20, "t": 60, "b": 50},
                      legend={"title": {"text": ""}, "itemsizing": "constant"}, hovermode="closest")
    fig.update_xaxes(title_text=x, type="log" if log_x else "-", showline=True, linecolor="#999",
                     zeroline=False)
    fig.update_yaxes(title_text=y, showline=True, linecolor="#999", zeroline=False)
    return fig


def _short(s, n: int = 70) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)) or s is pd.NA:
        return "—"
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def _shots(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return str(int(v))


def hover_frame(table, benchmarks: Sequence[str]) -> pd.DataFrame:
    """One row per model: family, params, the scores of ``benchmarks`` and the hover fields (source and shots
    of each benchmark's score). Models missing any of the benchmarks are dropped."""
    wide = table.wide(list(benchmarks), force=True).dropna(subset=list(benchmarks))
    long = table.long
    long = long[long["benchmark"].isin(list(benchmarks))]
    src = long.groupby("model")["source"].agg(lambda s: "; ".join(sorted({_short(v, 50) for v in s.dropna()}))
                                              or "—")
    shots = long.assign(sh=[_shots(v) for v in long["shots"]]).groupby("model").apply(
        lambda g: ", ".join(f"{b} {s}" for b, s in zip(g["benchmark"], g["sh"])), include_groups=False)
    out = wide.copy()
    out["source"] = src.reindex(out.index).fillna("—")
    out["shots"] = shots.reindex(out.index).fillna("n/a")
    out["params_txt"] = [fmt_params(p) for p in out["params"]]
    out["family"] = out["family"].astype(object).where(out["family"].notna(), "unknown")
    return out


def hover_template(x: str, y: str, *, x_fmt: str = "%{x:.1f}", y_fmt: str = "%{y:.1f}") -> str:
    """Hover text: model, family, params, the two coordinates, source and shots (from ``customdata``)."""
    return ("<b>%{customdata[0]}</b><br>family: %{customdata[1]}<br>params: %{customdata[2]}"
            f"<br>{x}: {x_fmt}<br>{y}: {y_fmt}"
            "<br>source: %{customdata[3]}<br>shots: %{customdata[4]}<extra></extra>")


def phase_diagram(table, *, b1: str = "HellaSwag", b2: str = "TruthfulQA", uploaded: Iterable[str] = (),
                  highlight: dict | None = None, families: Sequence[str] | None = None,
                  title: str | None = None) -> go.Figure:
    """Phase diagram: ``b2`` against ``b1``, one trajectory per family ordered by parameter count (log N sets
    the marker size), so a falling line is a family paying an alignment tax as it scales.

    Args:
        table: the scores (:class:`~cape.scores.ScoreTable`).
        b1, b2: x and y benchmarks (canonical names or aliases).
        uploaded: names of models that came from the user's files; drawn as stars on their family's colour.
        highlight: optional ``{"model": str, "x": float, "y": float, "label": str}`` drawn as a large ring (the
            model being diagnosed).
        families: restrict to these families (default all).
        title: figure title.

    Returns:
        A Plotly figure with one line+marker trace per family (trace name = family).
    """
    from .. import catalog

    b1, b2 = catalog.canonical(b1), catalog.canonical(b2)
    df = hover_frame(table, [b1, b2])
    if families is not None:
        df = df[df["family"].isin(list(families))]
    colors = family_colors(df["family"].unique())
    up = set(uploaded)
    fig = go.Figure()
    logs = np.log10(df["params"].astype(float).where(df["params"] > 0))
    lo, hi = (np.nanmin(logs), np.nanmax(logs)) if logs.notna().any() else (7.0, 11.0)
    for fam, g in df.assign(_logn=logs).groupby("family", sort=True):
        g = g.sort_values("params", na_position="last")
        size = 7 + 11 * ((g["_logn"].fillna(lo) - lo) / max(hi - lo, 1e-9))
        sym = ["star" if m in up else "circle" for m in g.index]
        cd = np.column_stack([g.index.astype(str), g["family"].astype(str), g["params_txt"], g["source"],
                              g["shots"]])
        fig.add_trace(go.Scatter(
            x=g[b1], y=g[b2], mode="lines+markers" if len(g) > 1 else "markers", name=str(fam),
            line={"color": colors[fam], "width": 1.6},
            marker={"color": colors[fam], "size": size, "symbol": sym, "line": {"color": "white", "width": 0.8}},
            customdata=cd, hovertemplate=hover_template(b1, b2), legendgroup=str(fam)))
    if highlight:
        fig.add_trace(go.Scatter(
            x=[highlight["x"]], y=[highlight["y"]], mode="markers+text", name=highlight.get("label", "your model"),
            text=[highlight.get("label", highlight.get("model", "your model"))], textposition="top center",
            marker={"size": 20, "symbol": "circle-open", "color": "black", "line": {"width": 3}},
            hovertemplate=f"<b>{highlight.get('model', 'your model')}</b><br>{b1}: %{{x:.1f}}<br>"
                          f"{b2}: %{{y:.1f}}<extra></extra>"))
    return _layout(fig, title=title or f"Phase diagram: {b2} vs {b1} (marker size = log N)",
                   x=f"{b1} (%)", y=f"{b2} (%)")


def scores_vs_params(table, benchmark: str, *, uploaded: Iterable[str] = (), families: Sequence[str] | None = None,
                     title: str | None = None) -> go.Figure:
    """One benchmark against parameter count (log axis), one line per family."""
    from .. import catalog

    b = catalog.canonical(benchmark)
    df = hover_frame(table, [b]).dropna(subset=["params"])
    if families is not None:
        df = df[df["family"].isin(list(families))]
    colors = family_colors(df["family"].unique())
    up = set(uploaded)
    fig = go.Figure()
    for fam, g in df.groupby("family", sort=True):
        g = g.sort_values("params")
        cd = np.column_stack([g.index.astype(str), g["family"].astype(str), g["params_txt"], g["source"],
                              g["shots"]])
        fig.add_trace(go.Scatter(
            x=g["params"], y=g[b], mode="lines+markers", name=str(fam), line={"color": colors[fam]},
            marker={"color": colors[fam], "size": 8, "symbol": ["star" if m in up else "circle" for m in g.index]},
            customdata=cd, hovertemplate=hover_template("N", b, x_fmt="%{customdata[2]}")))
    return _layout(fig, title=title or f"{b} vs parameter count", x="parameters N", y=f"{b} (%)", log_x=True)


def figure_html(fig: go.Figure, *, name: str = "figure") -> str:
    """A standalone HTML page holding ``fig`` with Plotly's JavaScript inlined (opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True, config=plotly_config(name))


def figure_png(fig: go.Figure, *, scale: float = 2.0) -> bytes:
    """PNG bytes of ``fig`` through kaleido (needs a Chromium on the machine)."""
    return fig.to_image(format="png", scale=scale)


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
    colors = family_colors(hf["lab"].astype(str).unique())
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
                              g["pi_half"], g["subset"].astype(str), [_short(src.get(m), 50) for m in g.index]])
        sym = ["circle" if f else ("star" if s == "added" else "circle-open") for f, s in
               zip(g["in_fit"], g["subset"])]
        fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers", name=lab, customdata=cd,
                                 marker={"color": colors[lab], "size": 10, "symbol": sym,
                                         "line": {"width": 1.5, "color": colors[lab]}},
                                 hovertemplate=_frontier_hover(cfg.x, cfg.y)))
    return _layout(fig, title=title or f"Frontier: {cfg.y} vs {cfg.x} (open = shown, not fitted)",
                   x=f"{cfg.x} (%)", y=f"{cfg.y} (%)")


def h_field_figure(rep, *, title: str | None = None) -> go.Figure:
    """h per model (points of y) with its prediction-interval half-width as error bar, sorted, coloured by lab."""
    hf = rep.h_field.table.sort_values("h")
    colors = family_colors(hf["lab"].astype(str).unique())
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
    return _layout(fig, title=title or f"h-field per model ({rep.config.y} residual, points; bars = 95% PI)",
                   x="", y="h (points)", height=520)


def lab_h_figure(rep, *, title: str | None = None) -> go.Figure:
    """Mean h per lab with its spread (SD), and each lab's models as points."""
    lt = rep.labs.table.sort_values("mean_h")
    hf = rep.h_field.table
    colors = family_colors(hf["lab"].astype(str).unique())
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
    return _layout(fig, title=title or "h-field per lab (mean ± SD over fitted models)", x="lab", y="h (points)")


def lab_trajectory_figure(rep, *, title: str | None = None) -> go.Figure:
    """Each lab's h over its release dates; reallocations (|dh| above the threshold) ringed."""
    tr = rep.labs.trajectory.copy()
    tr["when"] = pd.to_datetime(tr["date"].astype(str), errors="coerce", format="mixed")
    tr = tr.dropna(subset=["when"])
    colors = family_colors(tr["lab"].astype(str).unique())
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
    return _layout(fig, title=title or "h trajectory per lab over release dates (rings: reallocation)",
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
    return _layout(fig, title=title or f"Rotation diagnostic: ratio {s.ratio:.3f} vs threshold {s.threshold:g} "
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
    return _layout(fig, title=title, x="", y="", height=420)


# ---------------------------------------------------------------------------------------------- claims
VERDICT_COLORS = {"reproduces": "#2ca02c", "differs": "#d62728", "not computable": "#9e9e9e"}
CLAIM_GROUPS = {"A": "abstract", "M": "main text", "S": "supplement", "B": "frontier paper"}


def claims_figure(rows: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Verdict counts per part of the paper (claim ids ``A*`` abstract, ``M*`` main text, ``S*`` supplement,
    ``B*`` companion frontier paper)."""
    df = rows.copy()
    df["part"] = [CLAIM_GROUPS.get(str(i)[:1].upper(), "other") for i in df["id"]]
    fig = go.Figure()
    for v, col in VERDICT_COLORS.items():
        d = df[df["verdict"] == v]
        cnt = d.groupby("part")["id"].agg(list)
        fig.add_trace(go.Bar(y=cnt.index.tolist(), x=[len(x) for x in cnt], name=v, orientation="h",
                             marker_color=col, customdata=[", ".join(map(str, x)) for x in cnt],
                             hovertemplate="%{y}: %{x} " + v + "<br>%{customdata}<extra></extra>"))
    fig.update_layout(barmode="stack")
    return _layout(fig, title=title or "Paper claims: verdict of the computation", x="claims", y="",
                   height=300)
