"""Cached calls into the library for the views (``st.cache_data`` keyed on the inputs).

Each wrapper is one library call; tables are hashed by content (:data:`cape.dashboard.state.HASH_FUNCS`).
"""

from __future__ import annotations

import importlib
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


@st.cache_data(show_spinner="Diagnosing the families…", hash_funcs=HASH_FUNCS, max_entries=16)
def diagnosis(table, b1: str = "HellaSwag", b2: str = "TruthfulQA", seed: int = 0):
    from ...diagnose import diagnose

    return diagnose(table, b1=b1, b2=b2, seed=seed)


@st.cache_data(show_spinner="Computing the paper's claims…")
def claims() -> list[dict]:
    """Every provider's claims as dicts (computed from the embedded data)."""
    from ...claims import all_claims

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
