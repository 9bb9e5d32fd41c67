"""One computation per run: derived frames of a score table are built once per table and benchmark set."""

from __future__ import annotations

import pandas as pd

from cape import data
from cape.coupling import score_frame
from cape.scores import ScoreTable

PAIR = ("HellaSwag", "TruthfulQA")


def test_score_frame_built_once_per_table_and_benchmarks(monkeypatch):
    base = data.load_base()
    table = ScoreTable(base.long, units="percent", name="fresh copy", infer_family=False)  # no views built yet
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


def test_compute_once_shares_results_inside_the_block_only():
    from cape._runcache import compute_once
    from cape.diagnose import diagnose

    with compute_once() as cache:
        a = diagnose(n_boot=200, families=["Pythia", "OPT"], headline=False)
        b = diagnose(n_boot=200, families=["Pythia", "OPT"], headline=False)
        c = diagnose(n_boot=300, families=["Pythia", "OPT"], headline=False)
        with compute_once() as inner:  # nested blocks share the outer cache
            assert inner is cache
            assert diagnose(n_boot=200, families=["Pythia", "OPT"], headline=False) is a
    assert a is b and c is not a
    assert cache[("calls",)]["diagnose"] == 2 and cache[("hits",)]["diagnose"] == 2
    d = diagnose(n_boot=200, families=["Pythia", "OPT"], headline=False)  # outside: computed afresh, equal
    assert d is not a and d.to_dict() == a.to_dict()


def test_copies_of_a_frame_share_one_computation():
    from cape._runcache import compute_once
    from cape.noise import estimate_noise

    table = data.load_base()
    with compute_once() as cache:
        n1 = estimate_noise(score_frame(table, PAIR), "TruthfulQA")
        n2 = estimate_noise(score_frame(table, PAIR), "TruthfulQA")  # another copy of the same frame
        other = score_frame(table, PAIR)
        other.iloc[0, other.columns.get_loc("TruthfulQA")] += 1.0
        n3 = estimate_noise(other, "TruthfulQA")  # different content: computed
    assert n1 is n2 and n3 is not n1
    assert cache[("calls",)]["estimate_noise"] == 2
    assert estimate_noise(score_frame(table, PAIR), "TruthfulQA").to_dict() == n1.to_dict()


def test_unkeyable_arguments_are_computed_every_time():
    from cape._runcache import compute_once, once_per_run

    calls = []

    @once_per_run
    def f(x):
        calls.append(1)
        return len(calls)

    class Opaque:
        pass

    with compute_once():
        assert f(1) == f(1) == 1
        o = Opaque()
        assert f(o) == 2 and f(o) == 3
