"""Coupling figures: gamma against scale per family and the N_c forest plot."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._format import fmt_params
from .base import PHASE_COLORS, apply_layout, shorten, family_colors
from .doctor import is_finite, add_nc_band


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
                 title: str | None = None, errors: pd.DataFrame | None = None) -> go.Figure:
    """Each family's local coupling gamma against N (log axis, at the intervals' geometric midpoints), with
    each family's N_c and CI band where one is established, and the pooled N_c with its CI.

    Args:
        res: a :class:`cape.diagnose.DiagnosisResult`.
        families: restrict to these families.
        pooled: draw the pooled N_c (family offsets) with its CI band.
        errors: the interval table with a ``gamma_se`` column (:func:`cape.gamma_error.gamma_errors`): drawn as
            ±1 standard error bars.
    """
    g = errors if errors is not None and "gamma_se" in errors.columns else res.gamma_frame()
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
            error_y=({"type": "data", "array": d["gamma_se"].astype(float).fillna(0).to_numpy(), "visible": True,
                      "thickness": 1, "width": 2, "color": colors.get(fam)} if "gamma_se" in d.columns else None),
            hovertemplate="<b>%{customdata[0]}</b><br>family: " + str(fam) +
                          "<br>N: %{customdata[2]} → %{customdata[3]}<br>γ = %{customdata[5]:.3f}"
                          "<br>phase: %{customdata[1]}<extra></extra>"))
    xs = g["N_mid"].to_numpy(float)
    x_range = (float(np.nanmin(xs)) / 3, float(np.nanmax(xs)) * 3) if len(xs) else (1e7, 1e12)
    _nc_bands(fig, res, families, colors, x_range, pooled)
    _phase_bands(fig)
    fig.add_hline(y=0, line={"color": "#666", "width": 1})
    if len(g):  # the axis follows the points, not the longest error bar
        lo_y, hi_y = float(g["gamma"].clip(-GAMMA_CLIP, GAMMA_CLIP).min()), float(g["gamma"].clip(-GAMMA_CLIP,
                                                                                                   GAMMA_CLIP).max())
        fig.update_yaxes(range=[min(-1.0, lo_y - 0.5), max(1.0, hi_y + 0.5)])
    n_out = int((g["gamma"].abs() > GAMMA_CLIP).sum())
    if n_out:
        fig.update_yaxes(range=[-GAMMA_CLIP * 1.1, GAMMA_CLIP * 1.1])
        fig.add_annotation(x=0.99, y=0.02, xref="paper", yref="paper", xanchor="right", showarrow=False,
                           text=f"{n_out} step(s) with |γ| > {GAMMA_CLIP:g} drawn at the edge (hover: value)",
                           font={"size": 10, "color": "#777"})
    fig.update_xaxes(range=[math.log10(x_range[0]), math.log10(x_range[1])])
    return apply_layout(fig, title=title or f"Local coupling γ = Δ{res.b2}/Δ{res.b1} against N, N_c with 95% CI "
                                       "(band: transition |γ| ≤ 0.1)", x="parameters N (log)", y="γ", log_x=True)


def _nc_bands(fig: go.Figure, res, families: Sequence[str] | None, colors: dict, x_range: tuple[float, float],
              pooled: bool) -> None:
    """Each family's N_c with its CI band (or, for one family without a flip, where a flip could still lie) and
    the pooled N_c."""
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


def _phase_bands(fig: go.Figure) -> None:
    """The tax / transition / bonus bands of gamma with their labels."""
    fig.add_hrect(y0=-0.1, y1=0.1, fillcolor=PHASE_COLORS["transition"], opacity=0.12, line_width=0, layer="below")
    fig.add_hrect(y0=0.1, y1=GAMMA_CLIP * 1.1, fillcolor=PHASE_COLORS["bonus"], opacity=0.05, line_width=0,
                  layer="below")
    fig.add_hrect(y0=-GAMMA_CLIP * 1.1, y1=-0.1, fillcolor=PHASE_COLORS["tax"], opacity=0.05, line_width=0,
                  layer="below")
    for name, y, anchor in (("bonus: cooperate", 1.0, "top"), ("tax: compete", 0.0, "bottom")):
        fig.add_annotation(x=0.005, xref="paper", y=y, yref="paper", xanchor="left", yanchor=anchor, showarrow=False,
                           text=f"<b>{name}</b>", font={"size": 11, "color": PHASE_COLORS[name.split(':')[0]]})
    fig.add_annotation(x=0.005, xref="paper", y=0.1, yref="y", xanchor="left", yanchor="bottom", showarrow=False,
                       text="transition", font={"size": 10, "color": PHASE_COLORS["transition"]})


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
    allx = [v for _, nc, _ in rows if nc is not None for v in (nc.estimate, nc.ci_low, nc.ci_high) if is_finite(v)]
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
                                     hovertemplate=f"<b>{name}</b><br>{summ}<br>{shorten(nc.message, 90)}"
                                                   "<extra></extra>"))
        else:
            mid = a if nc.direction == "above" else b
            fig.add_trace(go.Scatter(x=[mid], y=[name], mode="markers", showlegend=False,
                                     marker={"size": 9, "color": col, "symbol": "line-ns-open",
                                             "line": {"width": 2, "color": col}},
                                     hovertemplate=f"<b>{name}</b><br>{summ}<br>{shorten(nc.message, 90)}"
                                                   "<extra></extra>"))
    for k, c in status_color.items():
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=k, marker={"color": c, "size": 10}))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[math.log10(lo_x), math.log10(hi_x)])
    return apply_layout(fig, title=title or "N_c per family with 95% CI (arrow: open end; no diamond: no flip)",
                   x="N_c (parameters, log)", y="", log_x=True, height=max(320, 26 * len(rows) + 120))
