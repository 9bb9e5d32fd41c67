"""Bounded-memory bootstraps: chunked replicates equal the single-block computation, and a run that would not
fit in memory is refused up front with one sentence naming the option that lowers it."""

from __future__ import annotations

import numpy as np
import pytest

from cape import _memory, data
from cape.cli import main
from cape.coupling import score_frame
from cape._stats import stratified_indices as _stratified_indices
from cape.critical import PaperQuadraticVertex, PooledOffsets, _demeaned_vertex, family_data, pooled_data
from cape.diagnose import diagnose
from cape.errors import MemoryBudgetError

PAIR = ("HellaSwag", "TruthfulQA")


@pytest.fixture(scope="module")
def pdata():
    return pooled_data(data.load_base(), PAIR, families=["Pythia", "Llama-2", "OPT", "BLOOM", "Cerebras-GPT"])


def _single_block(p, n_boot, seed, bootstrap):
    """The pooled replicates as one (n_boot, n) block: the computation before chunking, kept as reference."""
    rng = np.random.default_rng(seed)
    n = p.y.size
    w = 1.0 / np.maximum(p.se, 1e-6) ** 2
    center = float(np.mean(p.logn))
    idx = (_stratified_indices(p.fam_idx, n_boot, rng) if bootstrap in ("models", "both")
           else np.broadcast_to(np.arange(n), (n_boot, n)))
    Y = p.y[idx]
    if bootstrap in ("noise", "both"):
        Y = Y + rng.standard_normal(Y.shape) * p.se[idx]
    return _demeaned_vertex(p.logn[idx], Y, w[idx], p.fam_idx, center)


@pytest.mark.parametrize("bootstrap", ["models", "noise", "both"])
@pytest.mark.parametrize("budget", [2 ** 12, 2 ** 26])  # a few rows per chunk; everything in one chunk
def test_pooled_replicates_equal_single_block(pdata, monkeypatch, bootstrap, budget):
    from cape.critical import _pooled_replicates

    monkeypatch.setattr(_memory, "CHUNK_BYTES", budget)
    w = 1.0 / np.maximum(pdata.se, 1e-6) ** 2
    center = float(np.mean(pdata.logn))
    got, b2 = _pooled_replicates(pdata, w, center, 997, np.random.default_rng(7), bootstrap)
    ref, b2_ref = _single_block(pdata, 997, 7, bootstrap)
    # models: each resample's sums from its draw counts, in another order than the gathered single block
    np.testing.assert_allclose(b2, b2_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got, ref, rtol=1e-9, equal_nan=True)
    assert np.isnan(got).sum() == np.isnan(ref).sum()


def test_draw_count_sums_print_the_single_block_interval(pdata):
    """The default (models) pooled bootstrap sums each resample through its draw counts: its interval equals the
    single-block computation's (every draw gathered) to the printed digits and to 1e-9 relative."""
    from cape._stats import percentile_ci

    res = PooledOffsets().estimate(pdata, n_boot=4000, seed=5)
    ref, b2 = _single_block(pdata, 4000, 5, "models")
    hi_r, lo_r = pdata.logn.max(), pdata.logn.min()
    ref = np.where(np.isnan(ref) & (b2 <= 0), np.inf, ref)
    ref = np.where(ref > hi_r + 1.0, np.inf, np.where(ref < lo_r - 1.0, -np.inf, ref))
    lo, hi = percentile_ci(ref[~np.isnan(ref)], 0.95)
    assert f"{res.ci_low:.4g} {res.ci_high:.4g}" == f"{10 ** lo:.4g} {10 ** hi:.4g}"
    np.testing.assert_allclose([res.ci_low, res.ci_high], [10 ** lo, 10 ** hi], rtol=1e-9)


def test_pooled_estimate_same_interval_whatever_the_chunk(pdata, monkeypatch):
    big = PooledOffsets().estimate(pdata, n_boot=2000, seed=3)
    monkeypatch.setattr(_memory, "CHUNK_BYTES", 2 ** 13)
    small = PooledOffsets().estimate(pdata, n_boot=2000, seed=3)
    assert (f"{small.estimate:.4g}", f"{small.ci_low:.4g}", f"{small.ci_high:.4g}") == \
        (f"{big.estimate:.4g}", f"{big.ci_low:.4g}", f"{big.ci_high:.4g}")
    assert small.n_valid == big.n_valid


def test_paper_vertices_chunked_equal_per_resample_loop(pdata, monkeypatch):
    monkeypatch.setattr(_memory, "CHUNK_BYTES", 2 ** 12)  # ~ a few resamples per chunk
    est = PaperQuadraticVertex()
    xs, a = est.replicate_vertices(pdata.logn, pdata.y, 600)
    xl, al = est.replicate_vertices_loop(pdata.logn, pdata.y, 600)
    np.testing.assert_allclose(a, al, rtol=1e-6, atol=1e-9)
    ok = np.isfinite(xl) & (np.abs(al) > 1e-6)
    np.testing.assert_allclose(xs[ok], xl[ok], rtol=1e-6)


def test_pooled_data_matches_family_data():
    """The array path of pooled_data keeps exactly the models family_data keeps, in size order."""
    frame = score_frame(data.load_base(), PAIR)
    p = pooled_data(frame, PAIR)
    for fi, fam in enumerate(p.families):
        fd = family_data(frame, fam, PAIR)
        sel = p.fam_idx == fi
        assert tuple(np.array(p.models)[sel]) == fd.models
        np.testing.assert_array_equal(p.y[sel], fd.scores[:, 1])
        np.testing.assert_array_equal(p.se[sel], fd.se[:, 1])
        np.testing.assert_allclose(p.logn[sel], fd.logn)


def test_chunk_rows_bounds():
    assert _memory.chunk_rows(10_000, 8 * 8, budget=8 * 8 * 100) == 100
    assert _memory.chunk_rows(10, 8, budget=10 ** 9) == 10
    assert _memory.chunk_rows(10, 10 ** 9, budget=8) == 1
    assert [(s.start, s.stop) for s in _memory.row_slices(7, 3)] == [(0, 3), (3, 6), (6, 7)]


def test_diagnose_refuses_before_running_out_of_memory(monkeypatch):
    monkeypatch.setenv(_memory.LIMIT_ENV, "1M")
    with pytest.raises(MemoryBudgetError, match=r"family .* needs about .* lower the number of resamples \(--n-boot\)"):
        diagnose(n_boot=10_000)
    monkeypatch.setenv(_memory.LIMIT_ENV, "64M")
    assert diagnose(n_boot=200, families=["Pythia"], headline=False).families[0].status == "ok"


def test_cli_memory_refusal_is_one_sentence(monkeypatch, capsys):
    monkeypatch.setenv(_memory.LIMIT_ENV, "1M")
    assert main(["diagnose", "--n-boot", "10000"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "--n-boot" in err and "\n" not in err and "Traceback" not in err


def test_bad_memory_limit_named(monkeypatch):
    monkeypatch.setenv(_memory.LIMIT_ENV, "lots")
    with pytest.raises(MemoryBudgetError, match="CAPE_MEMORY_LIMIT='lots' is not a size"):
        _memory.available_bytes()
    monkeypatch.setenv(_memory.LIMIT_ENV, "1.5G")
    assert _memory.available_bytes() == int(1.5 * 2 ** 30)


def test_exact_permutation_p_equals_the_full_recomputation():
    """The exact permutation test reads each ordering's r as one dot product (means and sums of squares do not
    change under a permutation); it equals Pearson r recomputed for every ordering."""
    from itertools import permutations

    from cape._stats import pearson_rows, permutation_p

    rng = np.random.default_rng(0)
    for n in range(3, 9):
        for t in range(6):
            x = rng.normal(size=n)
            y = np.round(rng.normal(size=n)) if t % 2 else rng.normal(size=n)  # ties in y half the time
            r = float(pearson_rows(x[None], y[None])[0])
            perm = np.array(list(permutations(range(n))))
            ref = float(np.mean(np.abs(pearson_rows(np.broadcast_to(x, perm.shape), y[perm])) >= abs(r) - 1e-12))
            p, how, k = permutation_p(x, y, r, n_perm=0, rng=rng)
            assert (p, how, k) == (ref, "exact", perm.shape[0])
