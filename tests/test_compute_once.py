"""One computation per run: derived frames of a score table are built once per table and benchmark set."""

from __future__ import annotations

import pandas as pd

from cape import data
from cape.coupling import score_frame
from cape.scores import ScoreTable

PAIR = ("HellaSwag", "TruthfulQA")


def test_score_frame_built_once_per_table_and_benchmarks(monkeypatch):
    table = data.load_base()
    calls = []
    real = ScoreTable._wide
    monkeypatch.setattr(ScoreTable, "_wide", lambda self, bs, dropna: calls.append(tuple(bs)) or real(self, bs,
                                                                                                       dropna))
    a = score_frame(table, PAIR)
    b = score_frame(table, ("hs", "tqa"))  # aliases: the same benchmark set
    assert calls == [PAIR]
    pd.testing.assert_frame_equal(a, b)
    score_frame(table, ("HellaSwag", "MMLU"))
    assert calls == [PAIR, ("HellaSwag", "MMLU")]
    # each caller gets its own copy
    a.loc[a.index[0], "HellaSwag"] = -1.0
    assert score_frame(table, PAIR).iloc[0]["HellaSwag"] != -1.0
    # another table (even a filtered view of this one) has its own views
    sub = table.filter(family="Pythia")
    assert len(score_frame(sub, PAIR)) < len(a) and calls[-1] == PAIR


def test_memoised_views_equal_fresh_ones():
    table = data.load_base()
    fresh = ScoreTable(table.long, name="copy")
    pd.testing.assert_frame_equal(table.wide(PAIR), fresh._wide(list(PAIR), False))
    pd.testing.assert_frame_equal(table.stderr_wide(PAIR), fresh._stderr_wide(list(PAIR)))
    table.wide(PAIR)
    pd.testing.assert_frame_equal(table.wide(PAIR, dropna=True), fresh.wide(PAIR, dropna=True))
