"""The fast bootstrap paths give exactly the numbers of the straightforward ones.

``cape diagnose`` lays its resamples out in columns (models x replicates) and reads each family from arrays
split once; these tests pin every number to the row-layout / one-family computation, bit for bit:

* the column kernels against their row-layout counterparts on random inputs (ties, small steps, zero errors);
* the population r bootstrap against the row-layout resampling it replaced;
* a whole diagnosis of a messy 16-family cohort (missing scores and sizes, tied sizes, constant scores, 0-13
  models per family) against the JSON the one-family implementation wrote (``tests/data/
  cohort_messy16_diagnose.json``, produced before the column kernels with ``cape diagnose --scores
  tests/data/cohort_messy16.csv --json --n-boot 400 --seed 3``); the two pooled fits, whose sums are now
  added in another order, to 1e-5 relative.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cape._columns import column_sum, crossing_columns, pearson_columns
from cape._stats import pearson_rows, percentile_ci
from cape.cli import main
from cape.coupling import population_r
from cape.critical import crossing_values

DATA = Path(__file__).parent / "data"


def _same(a, b) -> bool:
    """Equal bit for bit: values, NaN positions and the sign of zeros."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True) and \
        np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("n", [*range(1, 20), 64, 127, 128, 129, 300])
def test_column_sum_is_numpys_sum(n):
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n, 500)) * 10.0 ** rng.uniform(-8, 8, size=(n, 500))
    a[rng.random(a.shape) < 0.05] = -0.0
    a[:, :3] = -0.0  # all-negative-zero columns: numpy's sum starts from +0
    assert _same(column_sum(a), np.ascontiguousarray(a.T).sum(axis=-1))
    assert _same(column_sum(a) / n, np.ascontiguousarray(a.T).mean(axis=-1))


def _family(rng, t):
    K = int(rng.integers(3, 20))
    logn = np.sort(rng.uniform(7, 11, K))
    if t % 5 == 0:
        logn[2] = logn[1]  # tied sizes: skipped steps
    s1 = 30 + 8 * (logn - 7) + rng.normal(0, rng.uniform(0.1, 3), K)
    s2 = 40 + rng.uniform(-3, 3) * (logn - rng.uniform(8, 10)) ** 2 + rng.normal(0, 1, K)
    se1, se2 = rng.uniform(0.2, 2, K), rng.uniform(0.2, 2, K)
    if t % 7 == 0:
        se2[0] = 0.0
    return logn, s1, s2, se1, se2


def test_crossing_columns_equal_the_row_computation():
    rng = np.random.default_rng(3)
    for t in range(120):
        logn, s1, s2, se1, se2 = _family(rng, t)
        B, K = int(rng.integers(1, 300)), logn.size
        z1, z2 = rng.standard_normal((B, K)), rng.standard_normal((B, K))
        if t % 3 == 0:  # rounded draws: exact ties in the split cost and gamma = 0 steps
            z1, z2 = np.round(z1), np.round(z2 * 2) / 2
        S1, S2 = s1 + z1 * se1, s2 + z2 * se2
        md = (0.5, 0.0, 2.0)[t % 3]
        mid = (logn[:-1] + logn[1:]) / 2.0  # an explicit mid keeps crossing_values on its row layout
        ref, kref = crossing_values(logn, S1, S2, se2, min_delta=md, horizon=1.0, mid=mid)
        got, kgot = crossing_columns(logn, np.ascontiguousarray(S1.T), np.ascontiguousarray(S2.T), se2,
                                     min_delta=md, horizon=1.0)
        assert _same(got, ref) and np.array_equal(kgot, kref), t
        via, kvia = crossing_values(logn, S1, S2, se2, min_delta=md, horizon=1.0)  # dispatches to columns
        assert _same(via, ref) and np.array_equal(kvia, kref), t
        r_rows = pearson_rows(S1, S2)
        assert _same(pearson_columns(np.ascontiguousarray(S1.T), np.ascontiguousarray(S2.T)), r_rows), t


def test_population_r_bootstrap_equals_row_resampling():
    rng = np.random.default_rng(9)
    for n in (3, 5, 8, 11):
        x, y = rng.normal(50, 5, n), rng.normal(40, 3, n)
        res = population_r(x, y, n_boot=5000, n_perm=300, seed=17)
        stream = np.random.default_rng(17)  # the replaced computation: rows of resamples, 4096 at a time
        rb = np.concatenate([pearson_rows(x[i], y[i]) for i in
                             (stream.integers(0, n, size=(min(4096, 5000 - s), n)) for s in range(0, 5000, 4096))])
        lo, hi = percentile_ci(rb, 0.95)
        assert res.ci_boot == (lo, hi)


def test_diagnose_equals_the_one_family_implementation(capsys):
    """Every number of the diagnosis, per family and pooled, equals what the one-family code printed."""
    want = json.loads((DATA / "cohort_messy16_diagnose.json").read_text())
    assert main(["diagnose", "--scores", str(DATA / "cohort_messy16.csv"), "--json", "--n-boot", "400",
                 "--seed", "3"]) == 0
    got = json.loads(capsys.readouterr().out)
    got.pop("source"), want.pop("source")
    assert [f["family"] for f in got["families"]] == [f["family"] for f in want["families"]]
    for g, w in zip(got["families"], want["families"]):
        assert g == w, g["family"]
    # the pooled fits add each resample's terms through its draw counts in float64 (the golden gathered every
    # draw, the offsets fit in float32 cells): the same resamples, sums in another order, numbers to 1e-5
    for est in ("offsets", "paper"):
        _assert_close(got["pooled"].pop(est), want["pooled"].pop(est), rel=1e-5)
    assert got == want


def _assert_close(got, want, *, rel: float, path: str = "") -> None:
    """``got == want`` with numbers compared to ``rel`` relative."""
    if isinstance(want, dict):
        assert list(got) == list(want), path
        for k in want:
            _assert_close(got[k], want[k], rel=rel, path=f"{path}/{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_close(g, w, rel=rel, path=f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got == pytest.approx(want, rel=rel), path
    else:
        assert got == want, path


def test_threaded_families_equal_serial(monkeypatch):
    """The per-family loop spread over threads gives the serial results, in the same order."""
    from cape.diagnose import diagnose
    from cape.ingest import read_any

    table = read_any(DATA / "cohort_messy16.csv")[0]
    monkeypatch.setenv("CAPE_THREADS", "1")
    serial = diagnose(table, n_boot=300, seed=5).to_dict()
    monkeypatch.setenv("CAPE_THREADS", "3")
    threaded = diagnose(table, n_boot=300, seed=5).to_dict()
    assert threaded == serial


def test_tune_allocator_is_idempotent():
    from cape._memory import tune_allocator

    first = tune_allocator()
    assert tune_allocator() is first


@pytest.mark.parametrize("null", ["permute", "normal"])
def test_width_null_equals_row_computation(null):
    from cape.width import _null_r

    rng = np.random.default_rng(4)
    sc = np.column_stack([rng.normal(50, 5, 7), rng.normal(40, 3, 7)])
    w = np.sort(rng.uniform(1, 10, 7))
    stream = np.random.default_rng(12)  # the replaced computation: draws in rows
    if null == "permute":
        x1 = sc[:, 0][np.argsort(stream.random((900, 7)), axis=1)]
        x2 = sc[:, 1][np.argsort(stream.random((900, 7)), axis=1)]
    else:
        x1 = stream.normal(sc[:, 0].mean(), sc[:, 0].std(ddof=1), size=(900, 7))
        x2 = stream.normal(sc[:, 1].mean(), sc[:, 1].std(ddof=1), size=(900, 7))
    ref = pearson_rows(x1 / w, x2 / w)
    assert _same(_null_r(sc, w, null, 900, 12), ref[np.isfinite(ref)])


def test_fields_dict_equals_asdict():
    """The results' to_dict() skip asdict's deep copies; the dicts are the same."""
    from dataclasses import asdict

    from cape._format import fields_dict
    from cape.diagnose import diagnose

    res = diagnose(n_boot=200, seed=1)
    objs = [res.pooled.offsets, res.pooled.paper, res.pooled.paper_headline, res.pooled.population, *res.noise]
    for f in res.families:
        objs += [f.nc, f.r, f.width, *(f.coupling.intervals if f.coupling else ())]
    objs = [o for o in objs if o is not None]
    assert len(objs) > 80
    for o in objs:
        assert fields_dict(o) == asdict(o), type(o).__name__


@pytest.mark.parametrize("n", range(1, 9))
def test_all_permutations_in_itertools_order(n):
    """The exact permutation test's orderings, built block by block, are itertools' lexicographic ones."""
    import itertools

    from cape._stats import _all_permutations

    want = np.array(list(itertools.permutations(range(n))), dtype=np.intp).reshape(-1, n)
    got = _all_permutations(n)
    assert got.shape == want.shape and np.array_equal(got, want)
    assert not got.flags.writeable
