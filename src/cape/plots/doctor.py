"""Doctor figures: a model's gamma against its family, phase probabilities, residuals, the N_c band."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from .._format import fmt_params
from .base import PHASE_COLORS, apply_layout, shorten


# ---------------------------------------------------------------------------------------------- the doctor
def is_finite(v) -> bool:
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
    if is_finite(lo) or is_finite(hi):
        a = float(lo) if is_finite(lo) else x_range[0]
        b = float(hi) if is_finite(hi) else x_range[1]
        fig.add_vrect(x0=a, x1=b, fillcolor=color, opacity=0.10, line_width=0, layer="below")
    if is_finite(nc):
        fig.add_vline(x=float(nc), line={"color": color, "dash": "dash", "width": 1.5})
        fig.add_annotation(x=math.log10(float(nc)), y=1.0, yref="paper", text=f"{label} {fmt_params(nc)}"
                           + (f" ({status})" if status else ""), showarrow=False, yanchor="bottom",
                           font={"size": 11, "color": color})


def doctor_gamma_figure(res, family_coupling=None, *, title: str | None = None,
                        family_label: str | None = None) -> go.Figure:
    """The diagnosed model on its family's gamma(N): the family's intervals (grey), the model's own intervals
    with their score-noise CIs (coloured by phase), the family's N_c with its CI band and the model's size.
    ``family_label`` names the family's line in the legend (default ``"<family> (embedded)"``)."""
    fig = go.Figure()
    xs = []
    if family_coupling is not None:
        iv = [i for i in family_coupling.intervals if i.gamma is not None]
        if iv:
            xs += [i.n_mid for i in iv]
            fig.add_trace(go.Scatter(
                x=[i.n_mid for i in iv], y=[i.gamma for i in iv], mode="lines+markers",
                name=family_label or f"{family_coupling.family} (embedded)", line={"color": "#bbb"},
                marker={"color": "#999", "size": 7},
                text=[f"{i.lower} → {i.upper}" for i in iv],
                hovertemplate="%{text}<br>γ = %{y:.2f}<extra></extra>"))
    own = [c for c in (s.to_dict() for s in res.coupling) if is_finite(c.get("n_lower")) and is_finite(c.get("n_upper"))]
    for c in own:
        n_mid = math.sqrt(float(c["n_lower"]) * float(c["n_upper"]))
        xs.append(n_mid)
        g = c.get("gamma")
        ci = c.get("ci") or (None, None)
        ph = c.get("phase") or "undetermined"
        y = float(g) if is_finite(g) else 0.0
        err = {}
        if is_finite(g) and is_finite(ci[0]) and is_finite(ci[1]):
            err = {"type": "data", "symmetric": False, "array": [max(float(ci[1]) - y, 0.0)],
                   "arrayminus": [max(y - float(ci[0]), 0.0)], "color": PHASE_COLORS.get(ph, "#555"), "thickness": 2}
        fig.add_trace(go.Scatter(
            x=[n_mid], y=[y], mode="markers", name=f"{c['lower']} → {c['upper']}",
            marker={"color": PHASE_COLORS.get(ph, "#555"), "size": 14, "symbol": "diamond",
                    "line": {"color": "black", "width": 1}}, error_y=err,
            hovertemplate=(f"<b>{c['lower']} → {c['upper']}</b><br>γ = %{{y:.2f}}<br>phase: {ph}"
                           f"<br>{c.get('note') or c.get('status', '')}<extra></extra>")))
    if is_finite(res.params):
        xs.append(float(res.params))
        fig.add_vline(x=float(res.params), line={"color": "black", "dash": "dot", "width": 1})
    lo_x = min(xs) / 3 if xs else 1e7
    hi_x = max(xs) * 3 if xs else 1e12
    cr = res.critical.to_dict() if res.critical else {}
    ci = cr.get("ci") or (None, None)
    add_nc_band(fig, cr.get("nc"), ci[0], ci[1], label="N_c", x_range=(lo_x, hi_x), status=cr.get("status", ""))
    th = res.phase.thresholds if res.phase else (-0.1, 0.1)
    fig.add_hrect(y0=th[0], y1=th[1], fillcolor=PHASE_COLORS["transition"], opacity=0.12, line_width=0,
                  layer="below")
    fig.add_hline(y=0, line={"color": "#666", "width": 1})
    fig.update_xaxes(range=[math.log10(lo_x), math.log10(hi_x)])
    b1, b2 = res.axes
    return apply_layout(fig, title=title or f"{res.family}: local coupling γ = Δ{b2}/Δ{b1} against N "
                                       "(band: transition; shaded: N_c CI)",
                   x="parameters N (log)", y="γ", log_x=True)


def phase_probability_figure(res, *, title: str | None = None) -> go.Figure:
    """Share of score-noise draws giving each phase (the phase's confidence)."""
    p = res.phase.probabilities if res.phase else {}
    fig = go.Figure()
    for k in ("tax", "transition", "bonus", "undetermined"):
        v = float(p.get(k) or 0.0)
        fig.add_trace(go.Bar(x=[v], y=["phase"], orientation="h", name=k, marker_color=PHASE_COLORS.get(k),
                             text=[f"{k} {v:.0%}" if v >= 0.08 else ""], textposition="inside",
                             hovertemplate=f"{k}: %{{x:.1%}}<extra></extra>"))
    fig.update_layout(barmode="stack", showlegend=False)
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    return apply_layout(fig, title=title or "Phase under score noise (share of draws)", x="", y="", height=190)


def residuals_figure(res, *, title: str | None = None) -> go.Figure:
    """The model's residual from each reference trend with the trend's prediction-interval half-width."""
    rs = [r.to_dict() for r in res.residuals if is_finite(r.value)]
    fig = go.Figure(go.Bar(
        y=[shorten(r["reference"], 60) for r in rs], x=[float(r["value"]) for r in rs], orientation="h",
        marker_color=["#1f77b4" if float(r["value"]) >= 0 else "#d62728" for r in rs],
        error_x={"type": "data", "array": [float(r["pi_half"]) if is_finite(r.get("pi_half")) else 0.0 for r in rs],
                 "color": "#555", "thickness": 1.5},
        customdata=[[r.get("reading", ""), r.get("unit", "")] for r in rs],
        hovertemplate="%{y}<br>residual %{x:+.2f} %{customdata[1]}<br>%{customdata[0]}<extra></extra>"))
    fig.add_vline(x=0, line={"color": "#666", "width": 1})
    fig.update_yaxes(autorange="reversed")
    unit = rs[0]["unit"] if rs else "points"
    return apply_layout(fig, title=title or "Residuals from reference trends (bars: 95% prediction interval)",
                   x=f"residual ({unit})", y="", height=120 + 45 * max(len(rs), 1))


def highlight_point(fig: go.Figure, x: float, y: float, label: str, *, b1: str = "x", b2: str = "y") -> go.Figure:
    """Add the diagnosed model as a large black ring with its label."""
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", name=label, text=[label],
                             textposition="top center",
                             marker={"size": 22, "symbol": "circle-open", "color": "black", "line": {"width": 3}},
                             hovertemplate=f"<b>{label}</b><br>{b1}: %{{x:.1f}}<br>{b2}: %{{y:.1f}}<extra></extra>"))
    return fig
