"""Shared figure plumbing: palette, stable family colours, layout, hover labels, HTML/PNG export, and the
cohort's phase diagram."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from .. import catalog, data
from .._format import fmt_params
from ..errors import DataError


# A qualitative palette with enough distinct colours for ~20 families (Plotly's D3 + Dark24 subset).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#000075", "#f032e6", "#469990", "#800000", "#e6a100", "#222222",
           "#6b8e23", "#4363d8", "#9a6324", "#a9a9a9")
PHASE_COLORS = {"tax": "#d62728", "transition": "#bcbd22", "bonus": "#2ca02c", "cooperative": "#2ca02c",
                "competitive": "#d62728", "undetermined": "#7f7f7f"}
#: Colours of families that are not in the embedded cohort (uploads, other score files): none of them is in
#: :data:`PALETTE`, so an uploaded family never shares a colour with an embedded one.
EXTRA_PALETTE = ("#00a087", "#ff4f9a", "#7b2cbf", "#f4a300", "#0096c7", "#a0522d", "#3a86ff", "#bc4749",
                 "#06d6a0", "#8338ec")
UPLOAD_SYMBOL = "star"
HEIGHT = 460


@functools.lru_cache(maxsize=2)
def _known(domain: str) -> tuple[str, ...]:
    """The embedded families (or frontier labs), whose colours are fixed whatever subset a figure shows."""
    try:
        if domain == "lab":
            return tuple(sorted(data.frontier_models()["lab"].astype(str).unique()))
        if domain == "family":
            return tuple(data.load_base().families)
        return ()
    except Exception:  # noqa: BLE001 - no embedded data: every name is "new"
        return ()


def family_colors(families: Iterable[str], *, domain: str = "family") -> dict[str, str]:
    """A colour per family (``domain="lab"``: per frontier lab) that does not depend on which others are shown:
    the embedded cohort's families have fixed colours from :data:`PALETTE`; other names (uploads) take
    :data:`EXTRA_PALETTE` in sorted order, so they never share a colour with an embedded family."""
    fams = sorted({str(f) for f in families if f is not None and not (isinstance(f, float) and math.isnan(f))})
    known = _known(domain)
    extra = [f for f in fams if f not in known]
    out = {}
    for f in fams:
        if f in known:
            out[f] = PALETTE[known.index(f) % len(PALETTE)]
        else:  # not embedded: a colour of its own, never one an embedded family uses
            out[f] = EXTRA_PALETTE[extra.index(f) % len(EXTRA_PALETTE)]
    return out


def plotly_config(name: str) -> dict:
    """Plotly config for a chart: the toolbar's camera button saves a PNG named after the figure, no logo,
    no link to an online editor (everything stays on the user's machine)."""
    return {"displaylogo": False, "showSendToCloud": False,
            "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
            "modeBarButtonsToRemove": ["sendDataToCloud"]}


def _white_template(fig: go.Figure) -> None:
    """Give ``fig`` Plotly's registered ``plotly_white`` template as Plotly gives a new figure its default one:
    without validating the template again (it was validated when registered). ``update_layout(template=...)``
    validates and copies the whole template, about 10 ms a figure, two thirds of a small figure's cost."""
    layout = fig.layout
    validate = layout._validate
    layout._validate = False
    try:
        layout.template = pio.templates["plotly_white"]
    finally:
        layout._validate = validate


def apply_layout(fig: go.Figure, *, title: str, x: str, y: str, log_x: bool = False, height: int = HEIGHT) -> go.Figure:
    _white_template(fig)
    fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left"},
                      height=height, margin={"l": 60, "r": 20, "t": 60, "b": 50},
                      legend={"title": {"text": ""}, "itemsizing": "constant"}, hovermode="closest")
    fig.update_xaxes(title_text=x, type="log" if log_x else "-", showline=True, linecolor="#999",
                     zeroline=False)
    fig.update_yaxes(title_text=y, showline=True, linecolor="#999", zeroline=False)
    return fig


LEGEND_ROW_PX = 24  # one row of a horizontal legend (12 px font)


def legend_rows(names: Sequence[str], width_px: float) -> int:
    """How many rows a horizontal Plotly legend of ``names`` takes in ``width_px`` pixels (an item is about
    40 px of symbol and gap plus 7 px per character; rows are filled greedily, as Plotly does)."""
    rows, used = 0, 0.0
    for n in names:
        w = 40 + 7 * len(str(n))
        if rows == 0 or used + w > width_px:
            rows, used = rows + 1, w
        else:
            used += w
    return rows


def legend_below(fig: go.Figure, *, width_px: float = 900) -> go.Figure:
    """Put the legend in rows under the plot and make the figure taller by those rows, so it never scrolls and
    every entry is visible (Plotly scrolls a vertical legend that outgrows the plot).

    Args:
        fig: the figure (changed in place and returned).
        width_px: the width the chart is drawn at, in pixels (about 900 full width, 450 in half a page).

    Returns:
        ``fig``. A figure without a legend (no named trace, or a single trace) is left as it is.
    """
    names = list(dict.fromkeys(t.name for t in fig.data if t.showlegend is not False and t.name))
    # Plotly draws a legend by default once a figure has two visible traces, even if one of them is kept out
    # of the legend; a single trace gets none
    drawn = fig.layout.showlegend is True or sum(t.visible is not False for t in fig.data) > 1
    if not names or fig.layout.showlegend is False or not drawn:
        return fig
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if meta.get("cape_legend_rows"):
        return fig  # already laid out (the height was grown once)
    rows = legend_rows(names, width_px * 0.95)
    extra = LEGEND_ROW_PX * rows + 8
    bottom = (fig.layout.margin.b if fig.layout.margin.b is not None else 50) + extra
    fig.update_layout(height=(fig.layout.height or HEIGHT) + extra, margin={"b": bottom},
                      legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom",
                              "xanchor": "left", "x": 0, "maxheight": 1.0, "font": {"size": 12}},
                      meta={**meta, "cape_legend_rows": rows})
    return fig


def shorten(s, n: int = 70) -> str:
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
        raise DataError(f"{table.name}: no {', '.join(missing)} scores (benchmarks present: "
                        f"{', '.join(table.benchmarks)})")
    wide = table.wide(list(benchmarks), force=True).dropna(subset=list(benchmarks))
    long = table.long
    long = long[long["benchmark"].isin(list(benchmarks))]
    src = long.groupby("model")["source"].agg(lambda s: "; ".join(sorted({shorten(v, 50) for v in s.dropna()}))
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
            x=g[b1].to_numpy(dtype=float), y=g[b2].to_numpy(dtype=float),  # arrays: Plotly takes them as they are
            mode="lines+markers" if len(g) > 1 else "markers", name=str(fam),
            line={"color": colors[fam], "width": 1.6},
            marker={"color": colors[fam], "size": size, "symbol": sym, "line": {"color": edge, "width": 0.8}},
            customdata=cd, hovertemplate=hover_template(b1, b2), legendgroup=str(fam)))
    return apply_layout(fig, title=title or f"Phase diagram: {b2} vs {b1} (marker size = log N)",
                   x=f"{b1} (%)", y=f"{b2} (%)")


def figure_html(fig: go.Figure, *, name: str = "figure") -> str:
    """A standalone HTML page holding ``fig`` with Plotly's JavaScript inlined (opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True, config=plotly_config(name))


def figure_png(fig: go.Figure, *, scale: float = 2.0) -> bytes:
    """PNG bytes of ``fig`` through kaleido (needs a Chromium on the machine)."""
    return fig.to_image(format="png", scale=scale)
