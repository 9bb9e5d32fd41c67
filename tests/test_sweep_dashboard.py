"""The dashboard's Internals view reads a sweep folder: the across-models summary and the failure records."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("streamlit")

from test_sweep_summaries import EXCEPTIONS, _heads_file  # noqa: E402

from cape.sweep.models import study_models  # noqa: E402

pytestmark = pytest.mark.slow


def test_internals_view_summarizes_a_sweep_folder(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from cape.dashboard import RESULTS_ENV, app_path

    for m in study_models("paper40"):
        _heads_file(tmp_path, m, EXCEPTIONS.get(m, 0))
    (tmp_path / "big.heads.failed.json").write_text(json.dumps(
        {"kind": "sweep_failure", "task_kind": "heads", "model_id": "bigscience/bloom", "reason": "out of memory: x",
         "attempts": [{}, {}]}))
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    at = AppTest.from_file(str(app_path()), default_timeout=120)
    at.query_params["view"] = "internals"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("38/40 = 95% [83.5%, 98.6%]" in c.value for c in at.caption)
    assert any("bigscience/bloom: heads failed after 2 attempt(s): out of memory: x" in w.value for w in at.warning)
    table = at.dataframe[1].value
    opt = table[(table["by"] == "family") & (table["group"] == "OPT")].iloc[0]
    assert (opt["k"], opt["n"]) == (6, 8)
