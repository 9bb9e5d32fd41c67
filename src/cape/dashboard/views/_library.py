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
