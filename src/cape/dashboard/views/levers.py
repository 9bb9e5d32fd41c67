"""Levers: what moves coupling at matched scale (recipe, width, attention, vocabulary, generation, post-training)."""

from __future__ import annotations

import streamlit as st

from ...plots.levers import equivalent_scale_figure, lever_effects_figure
from .. import state
from ..state import HASH_FUNCS
from ..widgets import show_figure, show_table


@st.cache_data(show_spinner="Estimating the levers…", hash_funcs=HASH_FUNCS, max_entries=16)
def _levers(table, measure: str, at: float, seed: int = 0):
    from ...levers import lever_effects

    return lever_effects(table, measure=measure, at=at, seed=seed, n_boot=1000, n_perm=1000)


def render() -> None:
    st.title("Levers")
    st.caption("Each lever's effect on coupling at matched scale, families as the units: p from shuffling the "
               "lever across families, 95% CI from inverting that test (it excludes 0 exactly when p < 0.05); 1000 "
               "shuffles here, `cape levers` uses 2000. With fewer than 3 families on a side a lever is 'not "
               "identifiable' and gets no estimate.")
    table = state.combined_table()
    c = st.columns(2)
    measure = c[0].radio("coupling measure", ["gamma", "residual"], horizontal=True, key="lev_measure",
                         help="gamma: ΔTQA/ΔHS between consecutive sizes; residual: TQA at matched HS and size")
    at = c[1].select_slider("equivalent-scale reading at", options=[1e8, 3e8, 1e9, 3e9, 1e10], value=1e9,
                            format_func=lambda v: f"{v / 1e9:g}B", key="lev_at")
    rep = _levers(table, measure, float(at))
    m = st.columns(3)
    m[0].metric("families", rep.n_families)
    m[1].metric("identifiable levers", sum(e.identifiable for e in rep.levers))
    m[2].metric("significant (p < 0.05)", sum(bool(e.significant) for e in rep.levers))
    show_figure(lever_effects_figure(rep), "lever_effects", data=rep.to_frame())
    show_figure(equivalent_scale_figure(rep), "equivalent_scale")
    df = rep.to_frame()[["lever", "levels", "effect", "ci_low", "ci_high", "p", "n_families", "identifiable",
                         "message"]]
    df["levels"] = df["levels"].map(" vs ".join)
    df["n_families"] = df["n_families"].map(lambda d: ", ".join(f"{k} {v}" for k, v in d.items()))
    show_table(df, "levers", column_config={"message": st.column_config.TextColumn("message", width="large")})
    for e in rep.levers:
        if e.equivalent_scale is not None and e.identifiable:
            st.caption(e.equivalent_scale.sentence)
    for cl in rep.collinear:
        st.warning(f"{cl['levers'][0]} and {cl['levers'][1]} are collinear in these families (r = {cl['r']:+.2f}, "
                   f"{cl['n_families']} families): their effects cannot be separated.")
