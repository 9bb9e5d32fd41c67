"""Session-wide test settings.

Rich consoles fix their width when they are created; a wide, fixed width makes the human-readable CLI output
the tests read independent of the terminal (or of pytest-xdist workers) running them.
"""

from __future__ import annotations

import os
import sys

import pytest

os.environ["COLUMNS"] = "200"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Put back ``sys.modules["__main__"]`` after each test. Streamlit's ``AppTest`` replaces it with the dashboard
    script and leaves it there; a process pool started later with ``spawn`` would then run that script (and import
    Streamlit) in every worker it starts."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def _claims_memo():
    from cape import paper
    from cape._runcache import compute_once

    compute = paper.all_claims
    memo: dict = {}

    def all_claims_once(providers=paper.PROVIDERS, *, ledger: bool = True, internals: str | None = None,
                        keep_instruct: bool = False):
        if internals is not None:  # a results folder may change between calls: never shared
            return compute(providers, ledger=ledger, internals=internals, keep_instruct=keep_instruct)
        key = (tuple(providers), ledger, keep_instruct)
        if key not in memo:
            with compute_once():
                memo[key] = compute(providers, ledger=ledger, keep_instruct=keep_instruct)
        return list(memo[key])

    return all_claims_once


@pytest.fixture
def claims_once(_claims_memo, monkeypatch):
    """``cape.paper.all_claims`` computed once per test process and shared: the claims are seeded, hence the same
    on every call, and frozen, so the tests that read them or drive a command showing them need not recompute the
    whole table (seconds) each time. The commands look the function up when they run, so they see this one."""
    from cape import paper
    from cape.paper import registry

    monkeypatch.setattr(paper, "all_claims", _claims_memo)
    monkeypatch.setattr(registry, "all_claims", _claims_memo)
    return _claims_memo
