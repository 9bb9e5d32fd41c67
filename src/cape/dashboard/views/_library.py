"""Cached calls into the library for the views (``st.cache_data`` keyed on the inputs).

Each wrapper is one library call; tables are hashed by content (:data:`cape.dashboard.state.HASH_FUNCS`).
"""

from __future__ import annotations

import importlib
import threading
from functools import lru_cache

import streamlit as st

from ..state import HASH_FUNCS


@lru_cache(maxsize=None)
def has(module: str) -> bool:
    """Whether a library module imports on this installation."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


_EMBEDDED: dict[tuple, object] = {}
_EMBEDDED_LOCK = threading.Lock()
_EMBEDDED_MAX = 16


def embedded_diagnosis(b1: str = "HellaSwag", b2: str = "TruthfulQA", seed: int = 0):
    """:func:`cape.diagnose.diagnose` of the embedded cohort, computed once per server process.

    The server's warm-up (:mod:`cape.dashboard.serve`) calls it before the first browser session connects, so
    the Overview's diagnosis is ready when the page asks for it; a caller arriving while it is being computed
    waits for that result instead of computing it a second time. The embedded data never change while the
    server runs, so the result (a frozen dataclass, shared read-only) stays valid; at most 16 benchmark pairs
    are kept.
    """
    from ...diagnose import diagnose

    key = (b1, b2, int(seed))
    with _EMBEDDED_LOCK:
        if key not in _EMBEDDED:
            if len(_EMBEDDED) >= _EMBEDDED_MAX:
                _EMBEDDED.pop(next(iter(_EMBEDDED)))
            _EMBEDDED[key] = diagnose(None, b1=b1, b2=b2, seed=seed)
        return _EMBEDDED[key]


_FIGURES: dict[tuple, object] = {}
_FIGURES_LOCK = threading.Lock()


def embedded_phase_figure(b1: str = "HellaSwag", b2: str = "TruthfulQA", *, width_px: float = 1000):
    """The embedded cohort's phase diagram with its legend laid out, built once per server process (by the
    warm-up, before the first session) and shared read-only by every session that shows the Overview unfiltered.
    At most 16 benchmark pairs are kept."""
    from ... import data, plots

    key = (b1, b2, width_px)
    with _FIGURES_LOCK:
        if key not in _FIGURES:
            if len(_FIGURES) >= _EMBEDDED_MAX:
                _FIGURES.pop(next(iter(_FIGURES)))
            _FIGURES[key] = plots.legend_below(plots.phase_diagram(data.load_base(), b1=b1, b2=b2),
                                               width_px=width_px)
        return _FIGURES[key]


@st.cache_data(show_spinner="Diagnosing the families…", hash_funcs=HASH_FUNCS, max_entries=16)
def diagnosis(table, b1: str = "HellaSwag", b2: str = "TruthfulQA", seed: int = 0, embedded: bool = False):
    """:func:`cape.diagnose.diagnose` of ``table`` (``embedded=True``: the embedded cohort, which adds the
    paper's headline computed from its own 14-model table; see :func:`embedded_diagnosis`)."""
    from ...diagnose import diagnose

    if embedded:
        return embedded_diagnosis(b1, b2, seed)
    return diagnose(table, b1=b1, b2=b2, seed=seed)


def diagnosis_of(table, b1: str = "HellaSwag", b2: str = "TruthfulQA", seed: int = 0):
    """:func:`diagnosis` of the dashboard's current table (the embedded cohort when nothing was added)."""
    from .. import state

    return diagnosis(table, b1, b2, seed, embedded=state.is_embedded(table))


def pooled_choice(table, b1: str = "HellaSwag", b2: str = "TruthfulQA", *, key: str = "pool_uploads"):
    """The diagnosis of ``table`` with its pooled N_c as the user chose: with uploads, a visible checkbox says
    whether the uploaded families join the cohort's pooled N_c (off by default: the pooled N_c stays the
    embedded cohort's, and the uploaded families are diagnosed on their own)."""
    from dataclasses import replace

    from .. import state

    res = diagnosis_of(table, b1, b2)
    ups = state.uploaded_models()
    if not ups:
        return res
    pool = st.checkbox("Pool the uploaded families into the cohort's N_c", value=False, key=key,
                       help="Off: the pooled N_c is the embedded cohort's; your families are shown beside it.")
    if pool:
        st.caption("Pooled N_c includes your uploaded families.")
        return res
    base = diagnosis(state.embedded_table(), b1, b2, 0, embedded=True)
    st.caption("Pooled N_c: the embedded cohort only (your uploaded families are shown, not pooled).")
    return replace(res, pooled=base.pooled)


@st.cache_data(show_spinner="Computing the paper's claims…")
def claims() -> list[dict]:
    """Every provider's claims as dicts (computed from the embedded data)."""
    from ...paper import all_claims

    return [c.to_dict() for c in all_claims()]


@st.cache_data(show_spinner="Fitting the frontier panel…", hash_funcs=HASH_FUNCS, max_entries=16)
def frontier(include_post_cutoff: bool = False, h_method: str = "fit", seed: int = 0, added=None):
    """:func:`cape.frontier.frontier_report` on the embedded panel (plus the session's frontier uploads)."""
    from ...frontier import FrontierConfig, frontier_report

    cfg = FrontierConfig(include_post_cutoff=include_post_cutoff, h_method=h_method, seed=seed)
    return frontier_report(config=cfg, added=added)


@st.cache_data(show_spinner=False)
def frontier_sources() -> dict:
    """Model -> source text of the embedded frontier scores (for hover labels)."""
    from ... import data

    long = data.load_frontier().long
    return long.groupby("model")["source"].agg(lambda s: "; ".join(sorted(set(s.dropna())))).to_dict()


@st.cache_data(show_spinner="Running the doctor…", hash_funcs=HASH_FUNCS, max_entries=64)
def doctor(model: str | None = None, *, family: str | None = None, params: float | None = None,
           scores: tuple = (), d_model: float | None = None, lab: str | None = None, name: str | None = None,
           table=None, with_cohort: bool = False):
    """:func:`cape.doctor.diagnose_model` (``scores`` as a tuple of (benchmark, percent) pairs)."""
    from ...doctor import diagnose_model

    return diagnose_model(model, family=family, params=params, scores=dict(scores) or None, d_model=d_model,
                          lab=lab, name=name, table=table, with_cohort=with_cohort)


@st.cache_data(show_spinner=False, hash_funcs=HASH_FUNCS, max_entries=64)
def family_coupling(table, family: str, pair: tuple):
    """:func:`cape.coupling.local_coupling` of one family of ``table`` (None when it has too few models)."""
    from ...coupling import local_coupling
    from ...errors import CapeError

    try:
        return local_coupling(table, tuple(pair), family=family)
    except CapeError:
        return None


@st.cache_data(show_spinner=False)
def frontier_panel_models() -> tuple:
    from ...frontier import embedded_panel

    return tuple(embedded_panel().index)


@st.cache_data(show_spinner=False, hash_funcs=HASH_FUNCS, max_entries=64)
def width(table, family: str, pair: tuple, seed: int = 0):
    """:func:`cape.width.width_normalized_r` of one family (None when it cannot be computed)."""
    from ...errors import CapeError
    from ...width import width_normalized_r

    try:
        return width_normalized_r(table, tuple(pair), family=family, seed=seed)
    except CapeError:
        return None


@st.cache_data(show_spinner="Computing spectra…", hash_funcs=HASH_FUNCS, max_entries=16)
def spectra(table, use: str = "cov", n_boot: int = 1000, seed: int = 0):
    """``{"all": eigen_spectrum, "tax"/"transition"/"bonus": phase_spectra}`` from :mod:`cape.eigen`, and the
    models without a phase."""
    from ...eigen import eigen_spectrum, phase_spectra

    out = {"all": eigen_spectrum(table, use=use, n_boot=n_boot, seed=seed)}
    ps = phase_spectra(table, use=use, n_boot=n_boot, seed=seed)
    for k in ("tax", "transition", "bonus"):
        if k in ps.phases:
            out[k] = ps.phases[k]
    return out, ps.unassigned


def _quiet(fn, *a, **k):
    """Run a library call, collecting its warnings (shown as captions instead of console noise)."""
    import warnings

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn(*a, **k)
    return out, tuple(sorted({str(x.message) for x in w}))


@st.cache_data(show_spinner="Discovering the ODE…", hash_funcs=HASH_FUNCS, max_entries=16)
def discovery(table, families: tuple, benchmarks: tuple, n_models: int = 100, seed: int = 0):
    """:func:`cape.dynamics.discover` -> ``(Discovery, warnings)``."""
    from ...dynamics import discover

    return _quiet(discover, table, families=list(families), benchmarks=list(benchmarks), n_models=n_models,
                  seed=seed)


@st.cache_data(show_spinner="Cross-predicting the held-out family…", hash_funcs=HASH_FUNCS, max_entries=16)
def holdout(table, train: tuple, holdout_family: str, benchmarks: tuple, n_models: int = 100, seed: int = 0):
    """:func:`cape.dynamics.cross_predict` -> ``(HoldoutResult, warnings)``."""
    from ...dynamics import cross_predict

    return _quiet(cross_predict, table, train=list(train), holdout=holdout_family, benchmarks=list(benchmarks),
                  n_models=n_models, seed=seed)


@st.cache_data(show_spinner="Predicting…", hash_funcs=HASH_FUNCS, max_entries=32)
def scale_prediction(table, family: str, params: float, benchmarks: tuple, n_models: int = 200, seed: int = 0):
    """:func:`cape.dynamics.predict_scale` -> ``(ScalePrediction, warnings)``."""
    from ...dynamics import predict_scale

    return _quiet(predict_scale, family, params, table, benchmarks=list(benchmarks), n_models=n_models, seed=seed)


def _is_steering_eval(d: dict) -> bool:
    return d.get("kind") in ("steer_eval", "steering_eval", "steering") or {"sweep", "mc", "layers",
                                                                              "strength"} <= set(d)


@st.cache_data(show_spinner="Reading result files…", max_entries=16)
def internals_folder(folder: str, stamp: tuple = ()) -> dict:
    """Result files under ``folder`` read with :func:`cape.internals.results.read_result`:
    ``{"heads": [...], "layers": [...], "steering": [...], "other": [names], "errors": [messages]}``.
    ``stamp`` (names and modification times) keys the cache so new files are picked up."""
    from pathlib import Path

    from ...internals.results import read_result

    out = {"heads": [], "layers": [], "steering": [], "other": [], "errors": []}
    for p in sorted(Path(folder).rglob("*.json")):
        try:
            d = read_result(p)
        except Exception as e:  # a broken file is reported, not fatal
            out["errors"].append(str(e))
            continue
        if not isinstance(d, dict):
            out["other"].append(p.name)
            continue
        d["_file"] = p.name
        kind = d.get("kind") or d.get("analysis")
        if kind == "heads":
            out["heads"].append(d)
        elif kind == "layers":
            out["layers"].append(d)
        elif _is_steering_eval(d):
            out["steering"].append(d)
        else:
            out["other"].append(p.name)
    return out


def folder_stamp(folder: str) -> tuple:
    from pathlib import Path

    try:
        return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(Path(folder).rglob("*.json")))
    except OSError:
        return ()


@st.cache_data(show_spinner=False, max_entries=16)
def sanity(profiles: dict, units: dict | None = None) -> list:
    """:func:`cape.internals.results.sanity_warnings` on per-layer profiles / per-unit values."""
    import numpy as np

    from ...internals.results import sanity_warnings

    u = {k: np.asarray(v, dtype=float) for k, v in (units or {}).items()}
    return sanity_warnings(profiles, u or None)
