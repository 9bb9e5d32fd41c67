"""Eigenstructure: d_eff per phase with bootstrap CIs, the spectra and the loadings (:mod:`cape.eigen`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import plots as figures
from .. import state
from ..widgets import show_figure, show_table
from . import _library


def render() -> None:
    st.title("Eigenstructure")
    table = state.combined_table()
    c1, c2, c3 = st.columns(3)
    use = c1.radio("matrix", ["cov", "corr"], horizontal=True, key="eg_use",
                   help="covariance (the paper's Methods) or correlation (its dashboard)")
    n_boot = int(c2.select_slider("bootstrap resamples", [200, 500, 1000, 2000, 5000], value=1000, key="eg_nboot"))
    seed = int(c3.number_input("seed", value=0, step=1, key="eg_seed"))
    spectra, unassigned = _library.spectra(table, use, n_boot, seed)
    st.caption("Each model takes the phase of the within-family interval ending at it; the smallest model of each "
               f"family has none ({len(unassigned)} models unassigned). Bootstrap resamples models within families.")
    rows = [{"group": k, "n_models": e.n_models, "n_families": e.n_families, "d_eff": e.d_eff,
             "ci_low": e.d_eff_ci[0], "ci_high": e.d_eff_ci[1], "det": e.det, "status": e.status,
             "benchmarks": ", ".join(e.benchmarks)} for k, e in spectra.items()]
    left, right = st.columns(2)
    with left:
        show_figure(figures.deff_figure(spectra), "d_eff_per_phase", data=pd.DataFrame(rows), half=True)
    with right:
        ev = pd.DataFrame({k: pd.Series(e.eigenvalues, index=[f"PC{i + 1}" for i in range(len(e.eigenvalues))])
                           for k, e in spectra.items()})
        show_figure(figures.spectrum_figure(spectra), "spectra", data=ev, half=True)
    show_table(pd.DataFrame(rows), "d_eff per phase")
    st.subheader("Loadings")
    groups = list(spectra)
    g = st.radio("group", groups, horizontal=True, key="eg_group")
    e = spectra[g]
    show_figure(figures.loadings_figure(e, title=f"Loadings ({g}, {use})"), f"loadings_{g}",
                data=e.loadings_frame())
    if e.message:
        st.caption(e.message)
