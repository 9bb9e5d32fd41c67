"""Dynamics figures: ODE terms, held-out errors and predictions, scale predictions."""

from __future__ import annotations


import numpy as np
import plotly.graph_objects as go

from .._format import fmt_params
from .base import apply_layout
from .doctor import is_finite


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
    return apply_layout(fig, title=title or f"Discovered ODE: term inclusion over {disc.n_models} bagged fits "
                                       "(cells: point coefficient)", x="", y="", height=360)


def holdout_errors_figure(h, *, title: str | None = None) -> go.Figure:
    """Overall MAPE of each method on the held-out family (sparse ODE with its ensemble interval)."""
    names = [m.label for m in h.methods]
    ys = [m.errors.overall_mape for m in h.methods]
    err_hi, err_lo = [], []
    for m in h.methods:
        if m.mape_interval is not None and all(is_finite(v) for v in m.mape_interval) and is_finite(m.errors.overall_mape):
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
    return apply_layout(fig, title=title or f"Held-out {h.holdout}: error per method (red: sparse ODE)",
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
    return apply_layout(fig, title=title or f"{h.holdout}: {benchmark}, observed vs predicted",
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
        if is_finite(p.predicted[j]):
            fig.add_trace(go.Scatter(
                x=[p.start_params, p.params], y=[p.start_scores[j], p.predicted[j]], mode="lines+markers",
                line={"color": col, "dash": "dash"}, marker={"symbol": ["circle", "diamond"], "size": [6, 14]},
                error_y={"type": "data", "symmetric": False, "array": [0, max(p.hi[j] - p.predicted[j], 0.0)],
                         "arrayminus": [0, max(p.predicted[j] - p.lo[j], 0.0)]},
                legendgroup=b, showlegend=False,
                hovertemplate=f"predicted {b} at {fmt_params(p.params)}: %{{y:.1f}} "
                              f"[{p.lo[j]:.1f}, {p.hi[j]:.1f}]<extra></extra>"))
    fig.add_vline(x=p.params, line={"color": "#999", "dash": "dot"})
    return apply_layout(fig, title=title or f"{p.family} at {fmt_params(p.params)} ({p.status}): predicted scores with "
                                       f"{int(round(p.level * 100))}% prediction intervals",
                   x="parameters N (log)", y="score (%)", log_x=True)
