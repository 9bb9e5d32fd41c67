"""Dynamics: the discovered sparse ODE, held-out cross-prediction against baselines, and a family's scores
predicted at a chosen scale with prediction intervals (:mod:`cape.dynamics`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import catalog
from ...errors import CapeError
from ... import plots as figures
from .. import state
from ..widgets import show_figure, show_table
from . import _library


def _complete_families(table, benchmarks) -> list[str]:
    wide = table.wide(list(benchmarks), force=True).dropna(subset=list(benchmarks))
    n = wide.groupby("family").size()
    return sorted(n[n >= 2].index.astype(str))


def render() -> None:
    st.title("Dynamics")
    table = state.combined_table()
    base = [b for b in catalog.BASE_FIVE if b in table.benchmarks]
    c1, c2 = st.columns([3, 1])
    benches = c1.multiselect("state variables (benchmarks)", base, default=base, key="dy_benches")
    n_models = int(c2.select_slider("ensemble size", [20, 50, 100, 200], value=100, key="dy_nmodels"))
    if len(benches) < 2:
        st.info("Choose at least two benchmarks.")
        return
    benches = tuple(b for b in base if b in benches)
    fams = _complete_families(table, benches)
    c1, c2, c3 = st.columns([3, 1, 1])
    train = c1.multiselect("discover on families", fams, default=[f for f in ("Pythia",) if f in fams],
                           key="dy_train")
    holdout_opts = [f for f in fams if f not in train]
    ho = c2.selectbox("held-out family", holdout_opts,
                      index=holdout_opts.index("Llama-2") if "Llama-2" in holdout_opts else 0, key="dy_holdout")
    seed = int(c3.number_input("seed", value=0, step=1, key="dy_seed"))
    if not train:
        st.info("Choose at least one training family.")
        return
    try:
        disc, warns = _library.discovery(table, tuple(train), benches, n_models, seed)
    except CapeError as e:
        st.error(str(e))
        return
    st.subheader("Discovered equations")
    st.code("\n".join(disc.equations()), language="text")
    st.caption(f"pysindy STLSQ on {', '.join(disc.families)} ({disc.n_samples} derivative samples), degree "
               f"{disc.degree}, thresholds by cross-validation; status: {disc.status}; term probabilities from "
               f"{disc.n_models} bagged fits."
               + (f" In-sample fit: MAPE {disc.fit.overall_mape:.2f}%, MAE {disc.fit.overall_mae:.2f} points."
                  if disc.fit is not None else ""))
    for w in warns + tuple(disc.warnings):
        st.caption("note: " + w)
    show_figure(figures.ode_terms_figure(disc), "ode_terms", data=disc.to_frame())

    _holdout_section(table, tuple(train), ho, benches, n_models, seed)
    _prediction_section(table, benches, seed)


def _holdout_section(table, train: tuple[str, ...], ho, benches: tuple[str, ...], n_models: int, seed: int) -> None:
    """The held-out family predicted by the discovered system and the baselines: errors and predictions."""
    st.subheader(f"Held-out prediction: {ho}")
    if ho is None:
        st.info("No family left to hold out.")
    else:
        try:
            h, hw = _library.holdout(table, train, ho, benches, n_models, seed)
        except CapeError as e:
            st.error(str(e))
            h = None
        if h is not None:
            st.write(h.verdict)
            left, right = st.columns(2)
            with left:
                show_figure(figures.holdout_errors_figure(h), "holdout_errors", data=h.to_frame(), half=True)
            with right:
                b = st.selectbox("benchmark", list(h.benchmarks), key="dy_ho_bench",
                                 format_func=lambda x: catalog.info(x).short)
                show_figure(figures.holdout_prediction_figure(h, b), "holdout_predictions",
                            data=h.predictions_frame(), half=True)
            show_table(h.to_frame(), "held-out errors")



def _prediction_section(table, benches: tuple[str, ...], seed: int) -> None:
    """A family's scores, phase and gamma predicted at a size the user types."""
    st.subheader("Predict a family at a chosen scale")
    c1, c2 = st.columns([2, 1])
    all_fams = _complete_families(table, benches) or table.families
    fam = c1.selectbox("family", all_fams, index=all_fams.index("Pythia") if "Pythia" in all_fams else 0,
                       key="dy_pred_family")
    ptxt = c2.text_input("parameter count", value="30B", key="dy_pred_params", help="1e10, 30B or 350M")
    from .diagnose import parse_params

    try:
        n = parse_params(ptxt)
        if n is None:
            return
        p, pw = _library.scale_prediction(table, fam, n, benches, 200, seed)
    except CapeError as e:
        st.error(str(e))
        return
    cols = st.columns(3)
    cols[0].metric("predicted phase", p.phase or "—",
                   help=", ".join(f"{k} {v:.0%}" for k, v in (p.phase_probability or {}).items()))
    cols[1].metric("predicted γ", f"{p.gamma:+.2f}" if p.gamma is not None else "—")
    cols[2].metric("status", p.status, help=f"integrated from {p.start_model}")
    show_figure(figures.scale_prediction_figure(p, table), "scale_prediction", data=p.to_frame())
    show_table(p.to_frame().round(2), "scale prediction")
