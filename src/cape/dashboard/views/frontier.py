"""Frontier: SWE-bench Verified vs GPQA Diamond with the population line, the h-field per model and per lab,
each lab's trajectory, leave-one-lab-out error and the benchmark-rotation diagnostic."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import catalog
from ... import plots as figures
from .. import state
from ..widgets import show_figure, show_table
from . import _library


def _frontier_uploads():
    """The session's uploaded models that have both frontier axes (shown as 'added', not fitted)."""
    from ...scores import ScoreTable

    need = {"SWE-bench Verified", "GPQA Diamond"}
    tabs = [t for t, _ in state.uploads().values() if need <= set(t.benchmarks)]
    if not tabs:
        return None
    t = tabs[0] if len(tabs) == 1 else ScoreTable.concat(tabs, name="uploads")
    return t.filter(benchmarks=[b for b in t.benchmarks if catalog.info(b).kind == "frontier"])


def render() -> None:
    st.title("Frontier")
    c1, c2, c3 = st.columns([1, 1, 1])
    post = c1.checkbox("fit post-cutoff models too", value=False, key="fr_post",
                       help="Default: the paper's 34-model panel is fitted; newer models are shown, not fitted.")
    method = c2.radio("population line", ["fit", "paper"], horizontal=True, key="fr_method",
                      help="'paper' rounds the line to the published precision (0.513 x + 46.4).")
    seed = int(c3.number_input("bootstrap seed", value=0, step=1, key="fr_seed"))
    rep = _library.frontier(post, method, seed, _frontier_uploads())
    c = rep.coupling
    m = st.columns(4)
    m[0].metric("population r", f"{c.r:+.3f}", help=f"95% bootstrap CI [{c.r_ci_boot[0]:+.3f}, {c.r_ci_boot[1]:+.3f}]"
                                                   f"; p = {c.p:.2g}")
    m[1].metric("slope", f"{c.slope:.3f}", help=f"95% t CI [{c.slope_ci_t[0]:.3f}, {c.slope_ci_t[1]:.3f}]")
    m[2].metric("intercept", f"{c.intercept:.1f}")
    m[3].metric("LOLO MAE (points)", f"{rep.lolo.mean_mae:.1f} ± {rep.lolo.sd_mae:.1f}",
                help=f"{rep.lolo.n_labs} labs with ≥ {rep.lolo.min_models} models")
    st.caption(f"r 95% CI (bootstrap) [{c.r_ci_boot[0]:+.3f}, {c.r_ci_boot[1]:+.3f}], n = {c.n} fitted models. "
               + " ".join(rep.notes))
    show_figure(figures.frontier_scatter(rep, sources=_library.frontier_sources()), "frontier_scatter",
                data=rep.to_frame())
    show_figure(figures.h_field_figure(rep), "h_field_models", data=rep.h_field.to_frame())
    left, right = st.columns(2)
    with left:
        show_figure(figures.lab_h_figure(rep), "h_field_labs", data=rep.labs.to_frame(), half=True)
    with right:
        show_figure(figures.lab_trajectory_figure(rep), "h_trajectory", data=rep.labs.trajectory, half=True)
    st.subheader("Per-lab statistics")
    show_table(rep.labs.to_frame(), "lab statistics")
    st.subheader("Leave-one-lab-out")
    st.caption(f"Mean MAE {rep.lolo.mean_mae:.2f} ± {rep.lolo.sd_mae:.2f} points of {rep.config.y} "
               f"(population SD over {rep.lolo.n_labs} labs with ≥ {rep.lolo.min_models} models).")
    show_table(rep.lolo.labs, "leave-one-lab-out")
    st.subheader("Benchmark rotation")
    (st.warning if rep.saturation.rotate else st.success)(rep.saturation.message)
    show_figure(figures.saturation_figure(rep), "rotation", data=rep.saturation.to_frame())
    ta = rep.three_axis
    if ta is not None:
        st.subheader("Three-axis sub-panel")
        st.caption(f"{', '.join(ta.benchmarks)} on {len(ta.models)} models ({ta.source}): det = {ta.det:.3f}, "
                   f"d_eff (covariance) = {ta.d_eff_cov:.2f}, PSD: {ta.psd}.")
        show_figure(figures.matrix_heatmap(ta.corr, [catalog.info(b).short for b in ta.benchmarks],
                                           title="correlation matrix"), "three_axis_corr",
                    data=pd.DataFrame(ta.corr, index=list(ta.benchmarks), columns=list(ta.benchmarks)))
