"""Internals figures: per-head heatmaps, layer profiles, d_rep, the bottleneck and steering sweeps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .base import apply_layout, family_colors


# ---------------------------------------------------------------------------------------------- internals
def model_label(payload: dict) -> str:
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
    return apply_layout(fig, title=title or f"{model_label(payload)}: per-head coupling ({payload.get('measure', '')}) "
                                       f"{sub}", x="head", y="layer",
                   height=max(300, 18 * (z.shape[0] if z.ndim == 2 else 10) + 140))


def layer_profiles_figure(layers: Sequence[dict], heads: Sequence[dict] = (), *, measure: str = "contrast",
                          title: str | None = None) -> go.Figure:
    """Per-layer coupling against relative depth for every model: ``layers`` files (with CI bands) and the
    per-layer means of ``heads`` files (dashed)."""
    fig = go.Figure()
    labels = [model_label(p) for p in list(layers) + list(heads)]
    colors = family_colors(labels, domain="model")
    for p in layers:
        lc = (p.get("layer_coupling") or {}).get(measure)
        if not lc:
            continue
        y = _arr1(lc.get("cosine"))
        n = len(y)
        x = np.arange(n) / max(n - 1, 1)
        lab = model_label(p)
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
        lab = model_label(p)
        fig.add_trace(go.Scatter(x=np.arange(n) / max(n - 1, 1), y=y, mode="lines+markers",
                                 name=f"{lab} (head mean)", line={"color": colors[lab], "dash": "dash"},
                                 customdata=np.arange(n),
                                 hovertemplate=lab + "<br>layer %{customdata}: mean head %{y:+.3f}<extra></extra>"))
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    return apply_layout(fig, title=title or f"Per-layer coupling ({measure}) against relative depth (bands: 95% CI)",
                   x="relative depth (layer / (L - 1))", y="coupling")


def drep_figure(layers: Sequence[dict], *, title: str | None = None) -> go.Figure:
    """Representational dimensionality d_rep per layer for every ``layers`` file."""
    fig = go.Figure()
    colors = family_colors([model_label(p) for p in layers], domain="model")
    for p in layers:
        d = p.get("d_rep") or {}
        y = _arr1(d.get("per_layer"))
        if not len(y):
            continue
        lab = model_label(p)
        x = np.arange(len(y)) / max(len(y) - 1, 1)
        lo, hi = _arr1(d.get("ci_low")), _arr1(d.get("ci_high"))
        if len(lo) == len(y) and len(hi) == len(y):  # the bootstrap CI as a band (it need not contain the point)
            fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", line={"width": 0},
                                     fillcolor=colors[lab], opacity=0.15, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=lab, line={"color": colors[lab]},
                                 hovertemplate=lab + "<br>d_rep %{y:.2f}<extra></extra>"))
    return apply_layout(fig, title=title or "d_rep per layer (band: bootstrap CI)", x="relative depth", y="d_rep")


def bottleneck_figure(layers: Sequence[dict], *, measure: str = "contrast", title: str | None = None) -> go.Figure:
    """Coupling in hidden, logit and GELU(hidden) space per model (the projection bottleneck)."""
    spaces = (("hidden", "#1f77b4"), ("logits", "#d62728"), ("gelu_hidden", "#2ca02c"))
    fig = go.Figure()
    labs = [model_label(p) for p in layers]
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
    return apply_layout(fig, title=title or f"Projection bottleneck ({measure})",
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
    return apply_layout(fig, title=title or f"{model_label(ev)}: steering sweep ({value}, held-out items)",
                   x="strength", y="layer", height=380)


def steering_mc_figure(evals: Sequence[dict], *, title: str | None = None) -> go.Figure:
    """Paired change in the truthful-vs-false log-probability margin (steered - unsteered) with its CI."""
    labs, ys, lo, hi, txt = [], [], [], [], []
    for ev in evals:
        mc = ev.get("mc") or {}
        if mc.get("margin_diff") is None:
            continue
        labs.append(f"{model_label(ev)} L{','.join(map(str, ev.get('layers') or []))} ×{ev.get('strength')}")
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
    return apply_layout(fig, title=title or "Steering: change in truthful margin on held-out items (95% CI)",
                   x="", y="Δ margin (nats)", height=380)
