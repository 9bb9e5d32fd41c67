"""Families: the N_c table (every family's N_c with CI and status, r with CI) and one family in detail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import plots as figures
from .. import state
from ..widgets import show_figure, show_table
from . import _library


def render() -> None:
    st.title("Families")
    table = state.combined_table()
    res = _library.pooled_choice(table, key="pool_uploads_families")
    pn = res.pooled_nc
    c = st.columns(3)
    c[0].metric("families", len(res.families))
    c[1].metric("pooled N_c (family offsets)", figures.nc_short(pn), help=pn.summary() if pn is not None else None)
    ph = res.pooled.paper_headline or res.pooled.paper
    c[2].metric("paper procedure", figures.nc_short(ph), help=ph.summary() if ph is not None else None)
    st.caption(f"Pooled N_c: {pn.summary() if pn is not None else '—'} ({res.pooled.message}); the paper's pooled "
               f"quadratic-vertex bootstrap: {ph.summary() if ph is not None else '—'}.")
    st.caption("N_c is where the local coupling γ = ΔTruthfulQA/ΔHellaSwag turns from negative to positive "
               "within a family; 'none' with direction 'above' means γ stays ≤ 0 over the measured sizes (a flip, "
               "if any, lies above the CI's lower end).")
    show_figure(figures.nc_forest_figure(res), "nc_per_family", data=res.nc_frame())
    show_table(figures.nc_table(res), "N_c table", column_config={
        "message": st.column_config.TextColumn("message", width="large")})
    for m in res.messages:
        st.caption(m)

    st.divider()
    st.subheader("One family")
    names = [f.family for f in res.families]
    default = names.index("Pythia") if "Pythia" in names else 0
    fam = st.selectbox("family", names, index=default, key="fam_pick")
    fd = res.family(fam)
    c = st.columns(4)
    c[0].metric("models", fd.n_models)
    r = fd.r
    c[1].metric("r(HS, TQA)", f"{r.r:+.3f}" if r is not None and r.r is not None else "—",
                help=(f"95% CI [{r.ci_low:+.3f}, {r.ci_high:+.3f}], permutation p = {r.p_perm:.3g}"
                      if r is not None and r.ci_low is not None and r.p_perm is not None else None))
    c[2].metric("N_c", figures.nc_short(fd.nc), help=fd.nc.summary() if fd.nc is not None else None)
    path = fd.phase_path()
    c[3].metric("tax / transition / bonus steps",
                f"{path.count('tax')} / {path.count('transition')} / {path.count('bonus')}")
    st.caption(f"N_c {fd.nc.summary() if fd.nc is not None else '—'}: {fd.message}. Phase path: "
               + (" → ".join(path) or "—") + ".")
    for m in fd.messages:
        st.caption("note: " + m)
    left, right = st.columns(2)
    with left:
        show_figure(figures.phase_diagram(table, families=[fam], uploaded=state.uploaded_models(),
                                          title=f"{fam}: TruthfulQA vs HellaSwag"), "family_phase_diagram", half=True)
    with right:
        show_figure(figures.gamma_figure(res, families=[fam], pooled=False, title=f"{fam}: γ against N and N_c"),
                    "family_gamma", half=True)
    if fd.coupling is not None:
        show_table(fd.coupling.to_frame(), f"{fam} intervals")
    w = _library.width(table, fam, res.pair)
    if w is not None and w.status == "ok":
        st.markdown("**Width normalisation** (scores divided by d_model / 512)")
        st.write(f"r {w.r_raw:+.3f} → {w.r_norm:+.3f}; {w.message}.")
