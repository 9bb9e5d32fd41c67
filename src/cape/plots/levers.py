"""Figures of the lever analysis: effect per lever with its CI, and the equivalent-scale chart.

Both take a :class:`~cape.levers.results.LeverReport` and return a ``plotly.graph_objects.Figure``; no
statistic is computed here.

Example:
    >>> from cape import data
    >>> from cape.levers import lever_effects
    >>> from cape.plots.levers import lever_effects_figure
    >>> fig = lever_effects_figure(lever_effects(data.load_base(), ["gqa", "recipe"], n_boot=200, n_perm=200))
    >>> [t.name for t in fig.data]
    ['not significant', 'not identifiable']
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ..levers.results import LeverReport, fmt_size

SIGNIFICANT, NOT_SIGNIFICANT, NOT_IDENTIFIABLE = "#2ca02c", "#1f77b4", "#9e9e9e"
HEIGHT_ROW = 34


def _label(e) -> str:
    if e.kind == "categorical":
        return f"{e.lever}: {e.levels[-1]} vs {e.levels[0]}" if len(e.levels) > 1 else e.lever
    if e.kind == "paired":
        return "post-training vs base"
    if e.kind == "generation":
        return "generation (+1)"
    return f"{e.lever} (+1 unit)"


def lever_effects_figure(rep: LeverReport, *, title: str | None = None) -> go.Figure:
    """Forest plot: each lever's effect with its 95% CI (green: p < alpha; grey ticks at 0: not identifiable)."""
    fig = go.Figure()
    groups = {"significant": ([], SIGNIFICANT), "not significant": ([], NOT_SIGNIFICANT),
              "not identifiable": ([], NOT_IDENTIFIABLE)}
    for e in rep.levers:
        key = "not identifiable" if not e.identifiable else ("significant" if e.significant else "not significant")
        groups[key][0].append(e)
    for name, (es, color) in groups.items():
        if not es:
            continue
        ident = name != "not identifiable"
        fig.add_trace(go.Scatter(
            x=[e.effect if ident else 0.0 for e in es], y=[_label(e) for e in es], mode="markers", name=name,
            marker={"color": color, "size": 10, "symbol": "circle" if ident else "x-thin-open",
                    "line": {"width": 2, "color": color}},
            error_x={"type": "data", "symmetric": False, "visible": ident,
                     "array": [(e.ci_high - e.effect) if ident else 0 for e in es],
                     "arrayminus": [(e.effect - e.ci_low) if ident else 0 for e in es]},
            customdata=[[e.message] for e in es], hovertemplate="%{customdata[0]}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#555", "dash": "dot"})
    unit = "gamma" if rep.measure == "gamma" else f"{rep.pair[1]} points at matched {rep.pair[0]}"
    fig.update_layout(title=title or f"Effect of each lever on coupling at matched scale ({rep.measure})",
                      xaxis_title=f"effect ({unit}), 95% CI (inverted permutation test)", template="plotly_white",
                      height=140 + HEIGHT_ROW * max(1, len(rep.levers)), margin={"l": 10, "r": 10, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(autorange="reversed")
    return fig


def equivalent_scale_figure(rep: LeverReport, *, title: str | None = None) -> go.Figure:
    """Equivalent-scale chart: for each lever with a reading, the reference size that couples like a model at
    ``at`` with the lever (log axis, CI bars; an open end is drawn to the axis edge)."""
    fig = go.Figure()
    at = float(rep.settings.get("at", 1e9))
    rows = [e for e in rep.levers if e.identifiable and e.equivalent_scale is not None
            and e.equivalent_scale.equivalent_params is not None]
    lo_edge, hi_edge = at / 1e3, at * 1e3
    for e in rows:
        q = e.equivalent_scale
        lo = q.ci_low if q.ci_low is not None else lo_edge
        hi = q.ci_high if q.ci_high is not None else hi_edge
        lo, hi = max(lo, lo_edge), min(hi, hi_edge)
        color = SIGNIFICANT if e.significant else NOT_SIGNIFICANT
        fig.add_trace(go.Scatter(x=[lo, hi], y=[_label(e)] * 2, mode="lines", line={"color": color, "width": 3},
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=[min(max(q.equivalent_params, lo_edge), hi_edge)], y=[_label(e)],
                                 mode="markers", marker={"color": color, "size": 11}, showlegend=False,
                                 customdata=[[q.sentence]], hovertemplate="%{customdata[0]}<extra></extra>"))
    fig.add_vline(x=at, line={"color": "#555", "dash": "dot"}, annotation_text=f"{fmt_size(at)} (no change)")
    if not rows:
        fig.add_annotation(text="no lever with an equivalent-scale reading in these data", showarrow=False,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=title or f"Equivalent scale: a {fmt_size(at)} model with the lever couples like a "
                                     "reference model of size …",
                      xaxis={"type": "log", "title": "equivalent parameters (95% CI; clipped at 1000x)",
                             "range": [math.log10(lo_edge), math.log10(hi_edge)]},
                      template="plotly_white", height=160 + HEIGHT_ROW * max(1, len(rows)),
                      margin={"l": 10, "r": 10, "t": 50, "b": 40})
    return fig
