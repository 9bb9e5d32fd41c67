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

import functools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._format import fmt_params

# A qualitative palette with enough distinct colours for ~20 families (Plotly's D3 + Dark24 subset).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000075", "#f032e6", "#469990", "#800000", "#e6a100", "#222222",
           "#6b8e23", "#4363d8", "#9a6324", "#a9a9a9")
PHASE_COLORS = {"tax": "#d62728", "transition": "#bcbd22", "bonus": "#2ca02c", "cooperative": "#2ca02c",
                "competitive": "#d62728", "undetermined": "#7f7f7f"}
UPLOAD_SYMBOL = "star"
HEIGHT = 460


@functools.lru_cache(maxsize=2)
def _known(domain: str) -> tuple[str, ...]:
    """The embedded families (or frontier labs), whose colours are fixed whatever subset a figure shows."""
    try:
        from .. import data

        if domain == "lab":
            return tuple(sorted(data.frontier_models()["lab"].astype(str).unique()))
        if domain == "family":
            return tuple(data.load_base().families)
        return ()
    except Exception:  # noqa: BLE001 - no embedded data: every name is "new"
        return ()


def family_colors(families: Iterable[str], *, domain: str = "family") -> dict[str, str]:
    """A colour per family (``domain="lab"``: per frontier lab) that does not depend on which others are shown:
    the embedded cohort's families have fixed colours; other names follow them in sorted order."""
    fams = sorted({str(f) for f in families if f is not None and not (isinstance(f, float) and math.isnan(f))})
    known = _known(domain)
    extra = [f for f in fams if f not in known]
    out = {}
    for f in fams:
        i = known.index(f) if f in known else len(known) + extra.index(f)
        out[f] = PALETTE[i % len(PALETTE)]
    return out


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
    of each benchmark's score). Models missing any of the benchmarks are dropped.

    Raises:
        DataError: the table holds none of ``benchmarks``' scores for any model.
    """
    missing = [b for b in benchmarks if b not in table.benchmarks]
    if missing:
        from ..errors import DataError

        raise DataError(f"{table.name}: no {', '.join(missing)} scores (benchmarks present: "
                        f"{', '.join(table.benchmarks)})")
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
                  families: Sequence[str] | None = None, title: str | None = None) -> go.Figure:
    """Phase diagram: ``b2`` against ``b1``, one trajectory per family ordered by parameter count (log N sets
    the marker size), so a falling line is a family paying an alignment tax as it scales.

    Args:
        table: the scores (:class:`~cape.scores.ScoreTable`).
        b1, b2: x and y benchmarks (canonical names or aliases).
        uploaded: names of models that came from the user's files; drawn as outlined stars in their family's
            colour (a diagnosed model is ringed with :func:`highlight_point`).
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
        size = np.where([m in up for m in g.index], size + 8, size)
        edge = ["black" if m in up else "white" for m in g.index]
        cd = np.column_stack([g.index.astype(str), g["family"].astype(str), g["params_txt"], g["source"],
                              g["shots"]])
        fig.add_trace(go.Scatter(
            x=g[b1], y=g[b2], mode="lines+markers" if len(g) > 1 else "markers", name=str(fam),
            line={"color": colors[fam], "width": 1.6},
            marker={"color": colors[fam], "size": size, "symbol": sym, "line": {"color": edge, "width": 0.8}},
            customdata=cd, hovertemplate=hover_template(b1, b2), legendgroup=str(fam)))
    return _layout(fig, title=title or f"Phase diagram: {b2} vs {b1} (marker size = log N)",
                   x=f"{b1} (%)", y=f"{b2} (%)")


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
    return _layout(fig, title=title or f"h-field per model ({rep.config.y} residual, points; bars = 95% PI)",
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
    return _layout(fig, title=title or "h per lab (mean ± SD)", x="lab", y="h (points)")


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
    return _layout(fig, title=title or "h per lab over release dates (rings: reallocation)",
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


# ---------------------------------------------------------------------------------------------- the doctor
def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def add_nc_band(fig: go.Figure, nc: float | None, lo: float | None, hi: float | None, *, label: str = "N_c",
                color: str = "#555", x_range: tuple[float, float] | None = None, status: str = "") -> None:
    """Draw N_c as a dashed vertical line with its CI as a shaded band on a log-N axis. An open CI end (None)
    runs to the edge of ``x_range``."""
    if x_range is None:
        x_range = (1e7, 1e12)
    if _finite(lo) or _finite(hi):
        a = float(lo) if _finite(lo) else x_range[0]
        b = float(hi) if _finite(hi) else x_range[1]
        fig.add_vrect(x0=a, x1=b, fillcolor=color, opacity=0.10, line_width=0, layer="below")
    if _finite(nc):
        fig.add_vline(x=float(nc), line={"color": color, "dash": "dash", "width": 1.5})
        fig.add_annotation(x=math.log10(float(nc)), y=1.0, yref="paper", text=f"{label} {fmt_params(nc)}"
                           + (f" ({status})" if status else ""), showarrow=False, yanchor="bottom",
                           font={"size": 11, "color": color})


def doctor_gamma_figure(res, family_coupling=None, *, title: str | None = None) -> go.Figure:
    """The diagnosed model on its family's gamma(N): the family's intervals (grey), the model's own intervals
    with their score-noise CIs (coloured by phase), the family's N_c with its CI band and the model's size."""
    fig = go.Figure()
    xs = []
    if family_coupling is not None:
        iv = [i for i in family_coupling.intervals if i.gamma is not None]
        if iv:
            xs += [i.n_mid for i in iv]
            fig.add_trace(go.Scatter(
                x=[i.n_mid for i in iv], y=[i.gamma for i in iv], mode="lines+markers",
                name=f"{family_coupling.family} (embedded)", line={"color": "#bbb"},
                marker={"color": "#999", "size": 7},
                text=[f"{i.lower} → {i.upper}" for i in iv],
                hovertemplate="%{text}<br>γ = %{y:.2f}<extra></extra>"))
    own = [c for c in res.coupling if _finite(c.get("n_lower")) and _finite(c.get("n_upper"))]
    for c in own:
        n_mid = math.sqrt(float(c["n_lower"]) * float(c["n_upper"]))
        xs.append(n_mid)
        g = c.get("gamma")
        ci = c.get("ci") or (None, None)
        ph = c.get("phase") or "undetermined"
        y = float(g) if _finite(g) else 0.0
        err = {}
        if _finite(g) and _finite(ci[0]) and _finite(ci[1]):
            err = {"type": "data", "symmetric": False, "array": [max(float(ci[1]) - y, 0.0)],
                   "arrayminus": [max(y - float(ci[0]), 0.0)], "color": PHASE_COLORS.get(ph, "#555"), "thickness": 2}
        fig.add_trace(go.Scatter(
            x=[n_mid], y=[y], mode="markers", name=f"{c['lower']} → {c['upper']}",
            marker={"color": PHASE_COLORS.get(ph, "#555"), "size": 14, "symbol": "diamond",
                    "line": {"color": "black", "width": 1}}, error_y=err,
            hovertemplate=(f"<b>{c['lower']} → {c['upper']}</b><br>γ = %{{y:.2f}}<br>phase: {ph}"
                           f"<br>{c.get('note') or c.get('status', '')}<extra></extra>")))
    if _finite(res.params):
        xs.append(float(res.params))
        fig.add_vline(x=float(res.params), line={"color": "black", "dash": "dot", "width": 1})
    lo_x = min(xs) / 3 if xs else 1e7
    hi_x = max(xs) * 3 if xs else 1e12
    cr = res.critical or {}
    ci = cr.get("ci") or (None, None)
    add_nc_band(fig, cr.get("nc"), ci[0], ci[1], label="N_c", x_range=(lo_x, hi_x), status=cr.get("status", ""))
    th = (res.phase or {}).get("thresholds") or (-0.1, 0.1)
    fig.add_hrect(y0=th[0], y1=th[1], fillcolor=PHASE_COLORS["transition"], opacity=0.12, line_width=0,
                  layer="below")
    fig.add_hline(y=0, line={"color": "#666", "width": 1})
    fig.update_xaxes(range=[math.log10(lo_x), math.log10(hi_x)])
    b1, b2 = res.axes
    return _layout(fig, title=title or f"{res.family}: local coupling γ = Δ{b2}/Δ{b1} against N "
                                       "(band: transition; shaded: N_c CI)",
                   x="parameters N (log)", y="γ", log_x=True)


def phase_probability_figure(res, *, title: str | None = None) -> go.Figure:
    """Share of score-noise draws giving each phase (the phase's confidence)."""
    p = (res.phase or {}).get("probabilities") or {}
    fig = go.Figure()
    for k in ("tax", "transition", "bonus", "undetermined"):
        v = float(p.get(k) or 0.0)
        fig.add_trace(go.Bar(x=[v], y=["phase"], orientation="h", name=k, marker_color=PHASE_COLORS.get(k),
                             text=[f"{k} {v:.0%}" if v >= 0.08 else ""], textposition="inside",
                             hovertemplate=f"{k}: %{{x:.1%}}<extra></extra>"))
    fig.update_layout(barmode="stack", showlegend=False)
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, title=title or "Phase under score noise (share of draws)", x="", y="", height=190)


def residuals_figure(res, *, title: str | None = None) -> go.Figure:
    """The model's residual from each reference trend with the trend's prediction-interval half-width."""
    rs = [r for r in res.residuals if _finite(r.get("value"))]
    fig = go.Figure(go.Bar(
        y=[_short(r["reference"], 60) for r in rs], x=[float(r["value"]) for r in rs], orientation="h",
        marker_color=["#1f77b4" if float(r["value"]) >= 0 else "#d62728" for r in rs],
        error_x={"type": "data", "array": [float(r["pi_half"]) if _finite(r.get("pi_half")) else 0.0 for r in rs],
                 "color": "#555", "thickness": 1.5},
        customdata=[[r.get("reading", ""), r.get("unit", "")] for r in rs],
        hovertemplate="%{y}<br>residual %{x:+.2f} %{customdata[1]}<br>%{customdata[0]}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#666", "width": 1})
    fig.update_yaxes(autorange="reversed")
    unit = rs[0]["unit"] if rs else "points"
    return _layout(fig, title=title or "Residuals from reference trends (bars: 95% prediction interval)",
                   x=f"residual ({unit})", y="", height=120 + 45 * max(len(rs), 1))


def legend_below(fig: go.Figure) -> go.Figure:
    """Move the legend under the plot (for half-width charts)."""
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0})
    return fig


def highlight_point(fig: go.Figure, x: float, y: float, label: str, *, b1: str = "x", b2: str = "y") -> go.Figure:
    """Add the diagnosed model as a large black ring with its label."""
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", name=label, text=[label],
                             textposition="top center",
                             marker={"size": 22, "symbol": "circle-open", "color": "black", "line": {"width": 3}},
                             hovertemplate=f"<b>{label}</b><br>{b1}: %{{x:.1f}}<br>{b2}: %{{y:.1f}}<extra></extra>"))
    return fig


# ---------------------------------------------------------------------------------------------- gamma(N), N_c
GAMMA_CLIP = 4.0


def gamma_frame(res) -> pd.DataFrame:
    """The diagnosis' interval table (:meth:`cape.diagnose.DiagnosisResult.gamma_frame`)."""
    return res.gamma_frame()


def nc_frame(res) -> pd.DataFrame:
    """The diagnosis' N_c table (:meth:`cape.diagnose.DiagnosisResult.nc_frame`)."""
    return res.nc_frame()


def nc_short(nc) -> str:
    """An N_c result in a few characters for a metric tile: ``8.6B``, ``> 4.1B`` (no flip measured, the open side
    of the CI), ``< 2B`` (cooperative throughout) or the status."""
    if nc is None:
        return "—"
    if nc.estimate is not None:
        return fmt_params(nc.estimate)
    if nc.direction == "above" and nc.ci_low is not None:
        return f"> {fmt_params(nc.ci_low)}"
    if nc.direction == "below" and nc.ci_high is not None:
        return f"< {fmt_params(nc.ci_high)}"
    return nc.status


def _nc_ends(nc, x_range):
    lo = nc.ci_low if nc.ci_low is not None else (x_range[0] if nc.ci_low_unbounded else None)
    hi = nc.ci_high if nc.ci_high is not None else (x_range[1] if nc.ci_high_unbounded else None)
    return lo, hi


def gamma_figure(res, *, families: Sequence[str] | None = None, pooled: bool = True,
                 title: str | None = None) -> go.Figure:
    """Each family's local coupling gamma against N (log axis, at the intervals' geometric midpoints), with
    each family's N_c and CI band where one is established, and the pooled N_c with its CI.

    Args:
        res: a :class:`cape.diagnose.DiagnosisResult`.
        families: restrict to these families.
        pooled: draw the pooled N_c (family offsets) with its CI band.
    """
    g = res.gamma_frame()
    g = g[g["gamma"].notna()]
    if families is not None:
        g = g[g["family"].isin(list(families))]
    colors = family_colors([f.family for f in res.families])
    fig = go.Figure()
    for fam, d in g.groupby("family", sort=True):
        d = d.sort_values("N_mid")
        cd = np.column_stack([d["lower"].astype(str) + " → " + d["upper"].astype(str), d["phase"].astype(str),
                              [fmt_params(v) for v in d["N_lower"]], [fmt_params(v) for v in d["N_upper"]],
                              d["status"].astype(str)])
        fig.add_trace(go.Scatter(
            x=d["N_mid"], y=d["gamma"].clip(-GAMMA_CLIP * 1.05, GAMMA_CLIP * 1.05), mode="lines+markers",
            name=str(fam), line={"color": colors.get(fam)}, marker={"size": 8, "color": colors.get(fam)},
            customdata=np.column_stack([cd, d["gamma"]]), legendgroup=str(fam),
            hovertemplate="<b>%{customdata[0]}</b><br>family: " + str(fam) +
                          "<br>N: %{customdata[2]} → %{customdata[3]}<br>γ = %{customdata[5]:.3f}"
                          "<br>phase: %{customdata[1]}<extra></extra>"))
    xs = g["N_mid"].to_numpy(float)
    x_range = (float(np.nanmin(xs)) / 3, float(np.nanmax(xs)) * 3) if len(xs) else (1e7, 1e12)
    for f in res.families:
        if families is not None and f.family not in families:
            continue
        nc = f.nc
        if (nc is not None and nc.status == "none" and families is not None and len(families) == 1
                and (nc.ci_low is not None or nc.ci_high is not None)):
            # one family without a flip: shade where a flip could still lie (the open side of its CI)
            a, b = (nc.ci_low, x_range[1]) if nc.direction == "above" else (x_range[0], nc.ci_high)
            if a is not None and b is not None:
                fig.add_vrect(x0=a, x1=b, fillcolor=colors.get(f.family, "#555"), opacity=0.08, line_width=0,
                              layer="below")
                above = nc.direction == "above"
                fig.add_annotation(x=0.99 if above else 0.01, xref="paper", y=1.0, yref="paper",
                                   xanchor="right" if above else "left", yanchor="bottom",
                                   showarrow=False, font={"size": 11, "color": "#555"},
                                   text=(f"no flip measured: N_c > {fmt_params(a)}, if any" if above
                                         else f"cooperative throughout: N_c < {fmt_params(b)}"))
        if nc is None or nc.estimate is None or nc.status not in ("observed", "extrapolated"):
            continue
        lo, hi = _nc_ends(nc, x_range)
        add_nc_band(fig, nc.estimate, lo, hi, label=f"N_c {f.family}", color=colors.get(f.family, "#555"),
                    x_range=x_range, status=nc.status)
    pn = res.pooled_nc
    if pooled and pn is not None and pn.estimate is not None:
        lo, hi = _nc_ends(pn, x_range)
        add_nc_band(fig, pn.estimate, lo, hi, label="pooled N_c", color="#333", x_range=x_range, status=pn.status)
    fig.add_hrect(y0=-0.1, y1=0.1, fillcolor=PHASE_COLORS["transition"], opacity=0.12, line_width=0, layer="below")
    fig.add_hline(y=0, line={"color": "#666", "width": 1})
    n_out = int((g["gamma"].abs() > GAMMA_CLIP).sum())
    if n_out:
        fig.update_yaxes(range=[-GAMMA_CLIP * 1.1, GAMMA_CLIP * 1.1])
        fig.add_annotation(x=0.99, y=0.02, xref="paper", yref="paper", xanchor="right", showarrow=False,
                           text=f"{n_out} step(s) with |γ| > {GAMMA_CLIP:g} drawn at the edge (hover: value)",
                           font={"size": 10, "color": "#777"})
    fig.update_xaxes(range=[math.log10(x_range[0]), math.log10(x_range[1])])
    return _layout(fig, title=title or f"Local coupling γ = Δ{res.b2}/Δ{res.b1} against N, N_c with 95% CI "
                                       "(band: transition |γ| ≤ 0.1)", x="parameters N (log)", y="γ", log_x=True)


def nc_forest_figure(res, *, families: Sequence[str] | None = None, title: str | None = None) -> go.Figure:
    """N_c per family with its 95% CI (arrows where the CI is open), coloured by status, and the pooled
    estimates; families without enough data are listed with their status."""
    rows = []
    for f in res.families:
        if families is not None and f.family not in families:
            continue
        rows.append((f.family, f.nc, f.status))
    pooled = [("pooled (family offsets)", res.pooled.offsets, "pooled"), ("pooled (paper procedure)",
                                                                         res.pooled.paper, "pooled")]
    if res.pooled.paper_headline is not None:
        pooled.append(("paper headline (14 models)", res.pooled.paper_headline, "pooled"))
    rows += [p for p in pooled if p[1] is not None]
    allx = [v for _, nc, _ in rows if nc is not None for v in (nc.estimate, nc.ci_low, nc.ci_high) if _finite(v)]
    lo_x = min(allx) / 3 if allx else 1e8
    hi_x = max(allx) * 3 if allx else 1e12
    status_color = {"observed": "#2ca02c", "extrapolated": "#ff7f0e", "none": "#7f7f7f", "insufficient": "#bbb"}
    fig = go.Figure()
    for name, nc, fstat in rows:
        st_ = nc.status if nc is not None else "insufficient"
        col = "#000" if fstat == "pooled" else status_color.get(st_, "#555")
        if nc is None or (nc.estimate is None and nc.ci_low is None and nc.ci_high is None):
            fig.add_trace(go.Scatter(x=[lo_x], y=[name], mode="text", text=["  insufficient data"],
                                     textposition="middle right", showlegend=False, hoverinfo="skip",
                                     textfont={"color": "#999", "size": 11}))
            continue
        edge = (lo_x * 1.3, hi_x / 1.3)  # open ends stop short of the frame so their arrows show
        a, b = _nc_ends(nc, edge)
        if nc.status == "none" and nc.direction == "above" and a is not None:
            b = edge[1]
        if nc.status == "none" and nc.direction == "below" and b is not None:
            a = edge[0]
        if a is not None and b is not None:
            fig.add_trace(go.Scatter(x=[a, b], y=[name, name], mode="lines", line={"color": col, "width": 3},
                                     showlegend=False, hoverinfo="skip", opacity=0.6))
            for end, open_ in ((a, nc.ci_low is None or (nc.status == "none" and nc.direction == "below")),
                               (b, nc.ci_high is None or (nc.status == "none" and nc.direction == "above"))):
                if open_:
                    sym = "triangle-right" if end == b else "triangle-left"
                    fig.add_trace(go.Scatter(x=[end], y=[name], mode="markers", showlegend=False, hoverinfo="skip",
                                             marker={"symbol": sym, "size": 10, "color": col}))
        summ = nc.summary() if hasattr(nc, "summary") else ""
        if nc.estimate is not None:
            fig.add_trace(go.Scatter(x=[nc.estimate], y=[name], mode="markers", showlegend=False,
                                     marker={"size": 12, "color": col, "symbol": "diamond"},
                                     hovertemplate=f"<b>{name}</b><br>{summ}<br>{_short(nc.message, 90)}"
                                                   "<extra></extra>"))
        else:
            mid = a if nc.direction == "above" else b
            fig.add_trace(go.Scatter(x=[mid], y=[name], mode="markers", showlegend=False,
                                     marker={"size": 9, "color": col, "symbol": "line-ns-open",
                                             "line": {"width": 2, "color": col}},
                                     hovertemplate=f"<b>{name}</b><br>{summ}<br>{_short(nc.message, 90)}"
                                                   "<extra></extra>"))
    for k, c in status_color.items():
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=k, marker={"color": c, "size": 10}))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[math.log10(lo_x), math.log10(hi_x)])
    return _layout(fig, title=title or "N_c per family with 95% CI (arrow: open end; no diamond: no flip)",
                   x="N_c (parameters, log)", y="", log_x=True, height=max(320, 26 * len(rows) + 120))


# ---------------------------------------------------------------------------------------------- eigenstructure
PHASE_ORDER = ("tax", "transition", "bonus")


def deff_figure(spectra: dict, *, title: str | None = None) -> go.Figure:
    """d_eff with its bootstrap CI for each group (``{"all": EigenResult, "tax": ..., ...}``)."""
    names, ys, lo, hi, text, cols = [], [], [], [], [], []
    for k, e in spectra.items():
        if e is None or e.d_eff is None:
            continue
        names.append(k)
        ys.append(e.d_eff)
        a, b = e.d_eff_ci
        lo.append(max(e.d_eff - a, 0.0) if a is not None else 0.0)
        hi.append(max(b - e.d_eff, 0.0) if b is not None else 0.0)
        text.append(f"n = {e.n_models} models, {e.n_families} families; CI "
                    + (f"[{a:.3f}, {b:.3f}]" if a is not None and b is not None else "—"))
        cols.append(PHASE_COLORS.get(k, "#1f77b4"))
    fig = go.Figure(go.Scatter(x=names, y=ys, mode="markers", marker={"size": 14, "color": cols},
                               error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                                        "thickness": 2, "width": 8},
                               customdata=text, hovertemplate="<b>%{x}</b><br>d_eff = %{y:.3f}<br>%{customdata}"
                                                              "<extra></extra>", showlegend=False))
    fig.add_hline(y=1, line={"color": "#999", "dash": "dot"})
    return _layout(fig, title=title or "d_eff per group (95% bootstrap CI)",
                   x="", y="d_eff", height=380)


def spectrum_figure(spectra: dict, *, title: str | None = None) -> go.Figure:
    """Explained share of each principal component, one line per group."""
    fig = go.Figure()
    for k, e in spectra.items():
        if e is None or not e.explained:
            continue
        fig.add_trace(go.Scatter(x=[f"PC{i + 1}" for i in range(len(e.explained))], y=list(e.explained),
                                 mode="lines+markers", name=f"{k} (n = {e.n_models})",
                                 line={"color": PHASE_COLORS.get(k, "#1f77b4")},
                                 hovertemplate="%{x}: %{y:.1%}<extra>" + k + "</extra>"))
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, title=title or "Share of variance per component", x="", y="explained",
                   height=380)


def loadings_figure(e, *, title: str | None = None, n_pc: int = 3) -> go.Figure:
    """Loadings of the first ``n_pc`` principal components on the benchmarks."""
    from .. import catalog

    lf = e.loadings_frame().iloc[:n_pc]
    cols = [catalog.info(b).short if catalog.lookup(b) else b for b in lf.columns]
    fig = go.Figure(go.Heatmap(z=lf.to_numpy(float), x=cols, y=list(lf.index), zmin=-1, zmax=1,
                               colorscale="RdBu", text=[[f"{v:+.2f}" for v in r] for r in lf.to_numpy(float)],
                               texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{z:+.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title=title or "Loadings", x="", y="", height=300)


# ---------------------------------------------------------------------------------------------- dynamics
BENCH_COLORS = {"HellaSwag": "#1f77b4", "TruthfulQA": "#d62728", "ARC-Challenge": "#2ca02c", "WinoGrande": "#9467bd",
                "MMLU": "#ff7f0e", "SWE-bench Verified": "#17becf", "GPQA Diamond": "#8c564b", "IFEval": "#e377c2"}


def ode_terms_figure(disc, *, title: str | None = None) -> go.Figure:
    """Term inclusion probabilities of the discovered ODE (equation x library term), point coefficients in the
    cells."""
    inc = np.asarray(disc.inclusion, dtype=float)
    coef = np.asarray(disc.coef, dtype=float)
    terms = [t if t != "1" else "const" for t in disc.feature_names]
    eqs = [f"d{n}/dlog N" for n in disc.names]
    text = [[(f"{c:+.3g}" if c != 0 else "") for c in row] for row in coef]
    fig = go.Figure(go.Heatmap(z=inc, x=terms, y=eqs, zmin=0, zmax=1, colorscale="Blues", text=text,
                               texttemplate="%{text}", colorbar={"title": {"text": "inclusion"}},
                               hovertemplate="%{y} · %{x}<br>inclusion %{z:.2f}<br>coef %{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-45)
    return _layout(fig, title=title or f"Discovered ODE: term inclusion over {disc.n_models} bagged fits "
                                       "(cells: point coefficient)", x="", y="", height=360)


def holdout_errors_figure(h, *, title: str | None = None) -> go.Figure:
    """Overall MAPE of each method on the held-out family (sparse ODE with its ensemble interval)."""
    names = [m.label for m in h.methods]
    ys = [m.errors.overall_mape for m in h.methods]
    err_hi, err_lo = [], []
    for m in h.methods:
        if m.mape_interval is not None and all(_finite(v) for v in m.mape_interval) and _finite(m.errors.overall_mape):
            err_lo.append(max(m.errors.overall_mape - m.mape_interval[0], 0.0))
            err_hi.append(max(m.mape_interval[1] - m.errors.overall_mape, 0.0))
        else:
            err_lo.append(0.0)
            err_hi.append(0.0)
    cols = ["#d62728" if m.method == "sindy" else "#7f7f7f" for m in h.methods]
    fig = go.Figure(go.Bar(x=names, y=ys, marker_color=cols,
                           error_y={"type": "data", "symmetric": False, "array": err_hi, "arrayminus": err_lo},
                           customdata=[m.description for m in h.methods],
                           hovertemplate="<b>%{x}</b><br>MAPE %{y:.2f}%<br>%{customdata}<extra></extra>"))
    return _layout(fig, title=title or f"Held-out {h.holdout}: error per method (red: sparse ODE)",
                   x="", y="MAPE (%)", height=380)


def holdout_prediction_figure(h, benchmark: str, *, title: str | None = None) -> go.Figure:
    """Observed vs predicted scores of the held-out family for one benchmark, every method."""
    j = list(h.benchmarks).index(benchmark)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(h.params), y=h.observed[:, j], mode="lines+markers", name="observed",
                             line={"color": "black", "width": 3}, marker={"size": 10},
                             text=list(h.models), hovertemplate="%{text}<br>observed %{y:.1f}<extra></extra>"))
    for m in h.methods:
        err = None
        if m.lo is not None and m.hi is not None:
            err = {"type": "data", "symmetric": False, "array": np.maximum(m.hi[:, j] - m.predictions[:, j], 0),
                   "arrayminus": np.maximum(m.predictions[:, j] - m.lo[:, j], 0)}
        fig.add_trace(go.Scatter(x=list(h.params), y=m.predictions[:, j], mode="lines+markers", name=m.label,
                                 line={"dash": "solid" if m.method == "sindy" else "dot",
                                       "color": "#d62728" if m.method == "sindy" else None},
                                 error_y=err, text=list(h.models),
                                 hovertemplate="%{text}<br>" + m.label + ": %{y:.1f}<extra></extra>"))
    return _layout(fig, title=title or f"{h.holdout}: {benchmark}, observed vs predicted",
                   x="parameters N (log)", y=f"{benchmark} (%)", log_x=True)


def scale_prediction_figure(p, table, *, title: str | None = None) -> go.Figure:
    """A family's measured scores against N and the predicted scores at the new size with their intervals."""
    wide = table.filter(family=p.family).wide(list(p.benchmarks), force=True).sort_values("params")
    fig = go.Figure()
    for j, b in enumerate(p.benchmarks):
        col = BENCH_COLORS.get(b)
        d = wide.dropna(subset=[b])
        fig.add_trace(go.Scatter(x=d["params"], y=d[b], mode="lines+markers", name=b, legendgroup=b,
                                 line={"color": col}, text=d.index.astype(str),
                                 hovertemplate="%{text}<br>" + b + ": %{y:.1f}<extra></extra>"))
        if _finite(p.predicted[j]):
            fig.add_trace(go.Scatter(
                x=[p.start_params, p.params], y=[p.start_scores[j], p.predicted[j]], mode="lines+markers",
                line={"color": col, "dash": "dash"}, marker={"symbol": ["circle", "diamond"], "size": [6, 14]},
                error_y={"type": "data", "symmetric": False, "array": [0, max(p.hi[j] - p.predicted[j], 0.0)],
                         "arrayminus": [0, max(p.predicted[j] - p.lo[j], 0.0)]},
                legendgroup=b, showlegend=False,
                hovertemplate=f"predicted {b} at {fmt_params(p.params)}: %{{y:.1f}} "
                              f"[{p.lo[j]:.1f}, {p.hi[j]:.1f}]<extra></extra>"))
    fig.add_vline(x=p.params, line={"color": "#999", "dash": "dot"})
    return _layout(fig, title=title or f"{p.family} at {fmt_params(p.params)} ({p.status}): predicted scores with "
                                       f"{int(round(p.level * 100))}% prediction intervals",
                   x="parameters N (log)", y="score (%)", log_x=True)


# ---------------------------------------------------------------------------------------------- internals
def _model_label(payload: dict) -> str:
    prov = payload.get("provenance") or {}
    mid = str(prov.get("model_id") or payload.get("model_id") or payload.get("_file", "model"))
    return mid.rstrip("/").split("/")[-1] or mid


def _arr2(v) -> np.ndarray:
    return np.array([[np.nan if x is None else float(x) for x in row] for row in (v or [])], dtype=float)


def _arr1(v) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in (v or [])], dtype=float)


def heads_heatmap(payload: dict, *, title: str | None = None) -> go.Figure:
    """Per-head coupling (layer x head) of one ``heads`` result file, with each head's CI in the hover."""
    z = _arr2(payload.get("cosine"))
    lo, hi = _arr2(payload.get("ci_low")), _arr2(payload.get("ci_high"))
    cd = np.dstack([lo, hi]) if lo.shape == z.shape and hi.shape == z.shape else None
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"h{j}" for j in range(z.shape[1] if z.ndim == 2 else 0)], y=list(range(z.shape[0])),
        zmin=-1, zmax=1, colorscale="RdBu", customdata=cd, colorbar={"title": {"text": "coupling"}},
        hovertemplate="layer %{y}, %{x}: %{z:+.3f}" + (" [%{customdata[0]:+.2f}, %{customdata[1]:+.2f}]"
                                                      if cd is not None else "") + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed", dtick=1)
    s = payload.get("summary") or {}
    sub = (f"{s.get('pct_cooperative', float('nan')):.0f}% cooperative, {s.get('n_competing', '—')} competing"
           if s else "")
    return _layout(fig, title=title or f"{_model_label(payload)}: per-head coupling ({payload.get('measure', '')}) "
                                       f"{sub}", x="head", y="layer",
                   height=max(300, 18 * (z.shape[0] if z.ndim == 2 else 10) + 140))


def layer_profiles_figure(layers: Sequence[dict], heads: Sequence[dict] = (), *, measure: str = "contrast",
                          title: str | None = None) -> go.Figure:
    """Per-layer coupling against relative depth for every model: ``layers`` files (with CI bands) and the
    per-layer means of ``heads`` files (dashed)."""
    fig = go.Figure()
    labels = [_model_label(p) for p in list(layers) + list(heads)]
    colors = family_colors(labels, domain="model")
    for p in layers:
        lc = (p.get("layer_coupling") or {}).get(measure)
        if not lc:
            continue
        y = _arr1(lc.get("cosine"))
        n = len(y)
        x = np.arange(n) / max(n - 1, 1)
        lab = _model_label(p)
        lo, hi = _arr1(lc.get("ci_low")), _arr1(lc.get("ci_high"))
        if len(lo) == n and len(hi) == n:
            fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", line={"width": 0},
                                     fillcolor=colors[lab], opacity=0.15, hoverinfo="skip", showlegend=False,
                                     legendgroup=lab))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=f"{lab} (layers)", legendgroup=lab,
                                 line={"color": colors[lab]}, customdata=np.arange(n),
                                 hovertemplate=lab + "<br>layer %{customdata}: %{y:+.3f}<extra></extra>"))
    for p in heads:
        y = _arr1(p.get("per_layer"))
        n = len(y)
        if not n:
            continue
        lab = _model_label(p)
        fig.add_trace(go.Scatter(x=np.arange(n) / max(n - 1, 1), y=y, mode="lines+markers",
                                 name=f"{lab} (head mean)", line={"color": colors[lab], "dash": "dash"},
                                 customdata=np.arange(n),
                                 hovertemplate=lab + "<br>layer %{customdata}: mean head %{y:+.3f}<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    return _layout(fig, title=title or f"Per-layer coupling ({measure}) against relative depth (bands: 95% CI)",
                   x="relative depth (layer / (L - 1))", y="coupling")


def drep_figure(layers: Sequence[dict], *, title: str | None = None) -> go.Figure:
    """Representational dimensionality d_rep per layer for every ``layers`` file."""
    fig = go.Figure()
    colors = family_colors([_model_label(p) for p in layers], domain="model")
    for p in layers:
        d = p.get("d_rep") or {}
        y = _arr1(d.get("per_layer"))
        if not len(y):
            continue
        lab = _model_label(p)
        x = np.arange(len(y)) / max(len(y) - 1, 1)
        lo, hi = _arr1(d.get("ci_low")), _arr1(d.get("ci_high"))
        if len(lo) == len(y) and len(hi) == len(y):  # the bootstrap CI as a band (it need not contain the point)
            fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", line={"width": 0},
                                     fillcolor=colors[lab], opacity=0.15, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=lab, line={"color": colors[lab]},
                                 hovertemplate=lab + "<br>d_rep %{y:.2f}<extra></extra>"))
    return _layout(fig, title=title or "d_rep per layer (band: bootstrap CI)", x="relative depth", y="d_rep")


def bottleneck_figure(layers: Sequence[dict], *, measure: str = "contrast", title: str | None = None) -> go.Figure:
    """Coupling in hidden, logit and GELU(hidden) space per model (the projection bottleneck)."""
    spaces = (("hidden", "#1f77b4"), ("logits", "#d62728"), ("gelu_hidden", "#2ca02c"))
    fig = go.Figure()
    labs = [_model_label(p) for p in layers]
    for sp, col in spaces:
        ys, lo, hi = [], [], []
        for p in layers:
            b = ((p.get("bottleneck") or {}).get(measure) or {}).get(sp) or {}
            c = b.get("cosine")
            ys.append(np.nan if c is None else float(c))
            lo.append(max(ys[-1] - float(b["ci_low"]), 0.0) if b.get("ci_low") is not None and c is not None else 0.0)
            hi.append(max(float(b["ci_high"]) - ys[-1], 0.0) if b.get("ci_high") is not None and c is not None
                      else 0.0)
        fig.add_trace(go.Bar(x=labs, y=ys, name=sp, marker_color=col,
                             error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo}))
    fig.update_layout(barmode="group")
    return _layout(fig, title=title or f"Projection bottleneck ({measure})",
                   x="", y="coupling", height=380)


def steering_sweep_figure(ev: dict, *, value: str = "margin_gain", title: str | None = None) -> go.Figure:
    """Layer x strength sweep of a steering evaluation (gain over unsteered on held-out items)."""
    cells = pd.DataFrame(ev.get("sweep") or [])
    fig = go.Figure()
    if not cells.empty:
        piv = cells.pivot_table(index="layer", columns="strength", values=value, aggfunc="mean")
        lim = float(np.nanmax(np.abs(piv.to_numpy()))) or 1.0
        fig.add_trace(go.Heatmap(z=piv.to_numpy(), x=[f"{c:g}" for c in piv.columns], y=list(piv.index),
                                 zmin=-lim, zmax=lim, colorscale="RdBu", colorbar={"title": {"text": value}},
                                 hovertemplate="layer %{y}, strength %{x}: %{z:+.3f}<extra></extra>"))
        for lay, lab in ((ev.get("quarter_layer"), "L/4"), (ev.get("validated_layer"), "validated")):
            if lay is not None:
                fig.add_hline(y=lay, line={"color": "black", "dash": "dot", "width": 1},
                              annotation_text=lab, annotation_position="right")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title=title or f"{_model_label(ev)}: steering sweep ({value}, held-out items)",
                   x="strength", y="layer", height=380)


def steering_mc_figure(evals: Sequence[dict], *, title: str | None = None) -> go.Figure:
    """Paired change in the truthful-vs-false log-probability margin (steered - unsteered) with its CI."""
    labs, ys, lo, hi, txt = [], [], [], [], []
    for ev in evals:
        mc = ev.get("mc") or {}
        if mc.get("margin_diff") is None:
            continue
        labs.append(f"{_model_label(ev)} L{','.join(map(str, ev.get('layers') or []))} ×{ev.get('strength')}")
        y = float(mc["margin_diff"])
        ci = mc.get("margin_diff_ci") or [y, y]
        ys.append(y)
        lo.append(max(y - float(ci[0]), 0.0))
        hi.append(max(float(ci[1]) - y, 0.0))
        txt.append(f"{mc.get('verdict', '')}; accuracy {mc.get('accuracy_unsteered', float('nan')):.2f} → "
                   f"{mc.get('accuracy_steered', float('nan')):.2f}")
    fig = go.Figure(go.Bar(x=labs, y=ys, error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
                           marker_color=["#2ca02c" if y - l > 0 else ("#d62728" if y + h < 0 else "#7f7f7f")
                                         for y, l, h in zip(ys, lo, hi)],
                           customdata=txt, hovertemplate="%{x}<br>Δ margin %{y:+.3f} nats<br>%{customdata}"
                                                         "<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#666", "width": 1})
    return _layout(fig, title=title or "Steering: change in truthful margin on held-out items (95% CI)",
                   x="", y="Δ margin (nats)", height=380)


# ---------------------------------------------------------------------------------------------- tables
def _ci_text(nc) -> str:
    """``[4.15B, ∞)``-style CI of an N_c result (``0`` / ``∞`` for an unbounded end, ``—`` when absent)."""
    if nc is None or (nc.ci_low is None and nc.ci_high is None and not nc.ci_low_unbounded
                      and not nc.ci_high_unbounded):
        return "—"
    lo = "0" if nc.ci_low_unbounded or (nc.ci_low is None and nc.ci_high is not None) else fmt_params(nc.ci_low)
    hi = "∞" if nc.ci_high_unbounded or (nc.ci_high is None and nc.ci_low is not None) else fmt_params(nc.ci_high)
    return f"[{lo}, {hi}{')' if hi == '∞' else ']'}"


def nc_table(res) -> pd.DataFrame:
    """The diagnosis' N_c table made readable: N_c (``> 4.2B`` when no flip is measured), its CI as text, status,
    direction, r with its CI, and the family's message."""
    df = res.nc_frame()
    out = pd.DataFrame({
        "family": df["family"], "models": df["n_models"],
        "N_c": [nc_short(f.nc) if f.nc is not None and f.nc.status != "insufficient" else "—"
                for f in res.families],
        "95% CI": [_ci_text(f.nc) for f in res.families],
        "status": df["status"], "direction": df["direction"].fillna(""),
        "r": df["r"].round(3), "r 95% CI": [f"[{a:+.2f}, {b:+.2f}]" if pd.notna(a) else "—"
                                           for a, b in zip(df["r_ci_low"], df["r_ci_high"])],
        "message": [f.message for f in res.families],
    })
    return out
