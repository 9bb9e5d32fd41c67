"""The dashboard's launcher (cape.dashboard.serve): Streamlit's own command line plus a background warm-up."""

from __future__ import annotations

import sys
import types

import pytest

pytest.importorskip("streamlit")

from cape.dashboard import SCORES_ENV, serve, streamlit_command  # noqa: E402
from cape.dashboard.views import _library  # noqa: E402


def _fake_runtime(monkeypatch, state: str):
    rt = types.SimpleNamespace(state=types.SimpleNamespace(value=state))
    mod = types.SimpleNamespace(Runtime=types.SimpleNamespace(_instance=rt))
    monkeypatch.setitem(sys.modules, "streamlit.runtime.runtime", mod)
    return rt


def test_command_runs_streamlit_through_the_launcher():
    cmd = streamlit_command(port=8765)
    assert cmd[1:4] == ["-m", "cape.dashboard.serve", "run"]
    assert cmd[4].endswith("app.py")


def test_warm_gives_up_when_the_server_never_starts(monkeypatch):
    monkeypatch.setitem(sys.modules, "streamlit.runtime.runtime", types.SimpleNamespace())
    assert serve.warm(wait_s=0.1) is False


@pytest.mark.parametrize("state", [None, "ONE_OR_MORE_SESSIONS_CONNECTED"])
def test_warm_turns_the_garbage_collector_back_on(monkeypatch, state):
    """The launcher starts with the collector off; the warm-up turns it on whether it builds the first chart or
    gives up."""
    import gc

    if state is None:
        monkeypatch.setitem(sys.modules, "streamlit.runtime.runtime", types.SimpleNamespace())
    else:
        monkeypatch.setattr(_library, "_EMBEDDED", {})
        _fake_runtime(monkeypatch, state)
    gc.disable()
    try:
        serve.warm(wait_s=0.1 if state is None else 5)
        assert gc.isenabled()
    finally:
        gc.enable()


def test_warm_waits_while_the_runtime_is_still_starting(monkeypatch):
    _fake_runtime(monkeypatch, "INITIAL")
    assert serve.warm(wait_s=0.1) is False


def test_warm_computes_the_embedded_diagnosis_before_any_session(monkeypatch):
    from cape.diagnose import diagnose

    monkeypatch.delenv(SCORES_ENV, raising=False)
    monkeypatch.setattr(_library, "_EMBEDDED", {})
    monkeypatch.setattr(_library, "_FIGURES", {})
    _fake_runtime(monkeypatch, "NO_SESSIONS_CONNECTED")
    assert serve.warm(wait_s=5, idle_s=0.2) is True
    assert list(_library._FIGURES) == [("HellaSwag", "TruthfulQA", 1000)]  # the Overview's first chart, built
    res = _library._EMBEDDED[("HellaSwag", "TruthfulQA", 0)]
    assert _library.embedded_diagnosis() is res  # kept: the page reuses it
    ref = diagnose(None)
    assert [f.family for f in res.families] == [f.family for f in ref.families]
    assert res.pooled.to_dict() == ref.pooled.to_dict()


def test_warm_leaves_the_analysis_to_the_page_once_a_browser_is_connected(monkeypatch):
    monkeypatch.setattr(_library, "_EMBEDDED", {})
    monkeypatch.setattr(_library, "_FIGURES", {})
    _fake_runtime(monkeypatch, "ONE_OR_MORE_SESSIONS_CONNECTED")
    assert serve.warm(wait_s=5) is True
    assert _library._EMBEDDED == {}


def test_warm_leaves_the_analysis_to_the_page_when_a_browser_connects_while_it_waits(monkeypatch):
    import threading

    monkeypatch.delenv(SCORES_ENV, raising=False)
    monkeypatch.setattr(_library, "_EMBEDDED", {})
    monkeypatch.setattr(_library, "_FIGURES", {})
    rt = _fake_runtime(monkeypatch, "NO_SESSIONS_CONNECTED")
    connect = threading.Timer(0.3, lambda: setattr(rt.state, "value", "ONE_OR_MORE_SESSIONS_CONNECTED"))
    connect.start()
    try:
        assert serve.warm(wait_s=5, idle_s=30) is True  # returns when the session connects, not after 30 s
    finally:
        connect.cancel()
    assert list(_library._FIGURES) == [("HellaSwag", "TruthfulQA", 1000)] and _library._EMBEDDED == {}


def test_embedded_diagnosis_keeps_at_most_sixteen_pairs(monkeypatch):
    calls = []
    monkeypatch.setattr(_library, "_EMBEDDED", {})
    monkeypatch.setattr("cape.diagnose.diagnose", lambda t, b1, b2, seed: calls.append((b1, b2, seed)) or (b1, b2))
    for i in range(20):
        _library.embedded_diagnosis("HellaSwag", f"B{i}")
    assert len(_library._EMBEDDED) == 16 and ("HellaSwag", "B0", 0) not in _library._EMBEDDED
    assert _library.embedded_diagnosis("HellaSwag", "B19") == ("HellaSwag", "B19")
    assert len(calls) == 20  # the last pair came from the store


def test_embedded_phase_figure_is_built_once_with_its_legend_laid_out(monkeypatch):
    from cape import data, plots

    monkeypatch.setattr(_library, "_FIGURES", {})
    fig = _library.embedded_phase_figure(width_px=1000)
    assert _library.embedded_phase_figure(width_px=1000) is fig
    fresh = plots.legend_below(plots.phase_diagram(data.load_base()), width_px=1000)
    assert fig.to_json() == fresh.to_json()
    assert fig.layout.legend.orientation == "h" and fig.layout.meta["cape_legend_rows"] >= 1
    h = fig.layout.height
    plots.legend_below(fig, width_px=1000)  # what the page's show_figure does: nothing more
    assert fig.layout.height == h
