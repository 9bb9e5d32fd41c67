"""Eigenstructure figures: d_eff per phase, spectra and loadings."""

from __future__ import annotations


import plotly.graph_objects as go

from .. import catalog
from .base import PHASE_COLORS, apply_layout


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
    return apply_layout(fig, title=title or "d_eff per group (95% bootstrap CI)",
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
    return apply_layout(fig, title=title or "Share of variance per component", x="", y="explained",
                   height=380)


def loadings_figure(e, *, title: str | None = None, n_pc: int = 3) -> go.Figure:
    """Loadings of the first ``n_pc`` principal components on the benchmarks."""
    lf = e.loadings_frame().iloc[:n_pc]
    cols = [catalog.info(b).short if catalog.lookup(b) else b for b in lf.columns]
    fig = go.Figure(go.Heatmap(z=lf.to_numpy(float), x=cols, y=list(lf.index), zmin=-1, zmax=1,
                               colorscale="RdBu", text=[[f"{v:+.2f}" for v in r] for r in lf.to_numpy(float)],
                               texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{z:+.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return apply_layout(fig, title=title or "Loadings", x="", y="", height=300)
