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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """With ``pytest -n 2 --dist loadgroup`` (``make check``, ``make test``), keep each test module on one worker:
    a module-scoped fixture (a whole report, tiny saved models, a fitted panel) is then computed once, not once
    per worker. An explicit ``xdist_group`` mark (the browser tests, Ray) still wins. xdist sends the largest
    groups first, so the long modules start early and the single doctests fill in at the end."""
    for item in items:
        if isinstance(item, pytest.Function) and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.fixture(autouse=True, scope="session")
def _streamlit_scans_components_once():
    """Streamlit's ``AppTest`` scans the metadata of every installed distribution for custom components each time
    an app test starts (about 0.25 s of CPU with this project's packages, dozens of times a run); the installed
    packages do not change during a test run, so the first scan is reused. Only where Streamlit is already loaded
    (the dashboard tests import it when collected)."""
    if "streamlit" not in sys.modules:
        yield
        return
    import functools

    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(manifest_scanner, "scan_component_manifests",
                   functools.cache(manifest_scanner.scan_component_manifests))
        yield
