"""Overview: the phase diagram (one trajectory per family, ordered by log N) and each family's gamma(N)."""

from __future__ import annotations

import streamlit as st

from ... import plots as figures
from .. import state
from ..widgets import show_figure


def render(*, first_chart_only: bool = False) -> None:
    """Draw the Overview (``first_chart_only``: its title, caption and phase diagram only, the session's first
    run before the browser has painted that chart; see :mod:`cape.dashboard.first_paint`)."""
    st.title("Overview")
    table = state.combined_table()
    ups = state.uploaded_models()
    nf = len(table.families)
    st.caption(f"{table.n_models} models in {nf} famil{'y' if nf == 1 else 'ies'}"
               + (f", {len(ups)} uploaded this session (stars)" if ups else "")
               + ". Hover a point for model, family, source and shots.")
    benches = [b for b in table.benchmarks]
    i1 = benches.index("HellaSwag") if "HellaSwag" in benches else 0
    i2 = benches.index("TruthfulQA") if "TruthfulQA" in benches else min(1, len(benches) - 1)
    # The chart is sent before its controls (drawn above it): the browser draws the first chart without
    # waiting for the select boxes' scripts. The controls' values this rerun come from the session.
    controls = st.container()
    b1 = st.session_state.get("ov_b1") if st.session_state.get("ov_b1") in benches else benches[i1]
    b2 = st.session_state.get("ov_b2") if st.session_state.get("ov_b2") in benches else benches[i2]
    fams = [f for f in st.session_state.get("ov_fams") or [] if f in table.families] or None
    if fams is None and state.is_embedded(table):  # the unfiltered embedded cohort: built once per server
        from ..widgets import FULL_WIDTH_PX
        from . import _library

        fig = _library.embedded_phase_figure(b1, b2, width_px=FULL_WIDTH_PX)
    else:
        fig = figures.phase_diagram(table, b1=b1, b2=b2, uploaded=ups, families=fams)
    if first_chart_only:  # the same chart element as below: the full page's rerun keeps it, drawn
        show_figure(fig, "phase_diagram", downloads=False)
        return
    show_figure(fig, "phase_diagram", data=table.wide([b1, b2], force=True))
    with controls:
        c1, c2, c3 = st.columns([1, 1, 3])
        c1.selectbox("x benchmark", benches, index=i1, key="ov_b1")
        c2.selectbox("y benchmark", benches, index=i2, key="ov_b2")
        c3.multiselect("families", table.families, default=[], key="ov_fams", placeholder="all families")
    _gamma_panel(table, b1, b2, fams)


def _gamma_panel(table, b1, b2, fams) -> None:
    from ...errors import CapeError
    from . import _library

    if not _library.has("cape.diagnose"):
        return
    try:
        res = _library.pooled_choice(table, b1, b2, key="pool_uploads_overview")
    except CapeError as e:
        st.info(f"No coupling diagnosis for {b1} / {b2}: {e}")
        return
    from ...gamma_error import gamma_errors
    from ...report.headline import headline, pooled_notes

    st.info(headline(res))
    notes = pooled_notes(res)
    if res.pooled_nc is not None:  # the shared-quadratic note is the last one
        notes[-1] += " Per-family N_c with CIs: see Families."
    for note in notes:
        st.caption(note)
    errs = gamma_errors(res, table)
    show_figure(figures.gamma_figure(res, families=fams, errors=errs), "gamma_vs_N", data=errs)
