"""Coupling measures: values, vectorised bootstrap and permutation null, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from cape.errors import AnalysisError
from cape.internals.measures import benjamini_hochberg, cosine_rows, unit_coupling


def _sets(rng, n=30, units=5, dim=6, shift_r=None, shift_t=None, noise=1.0):
    base_r = rng.normal(size=(n, units, dim)).astype(np.float32)
    base_t = rng.normal(size=(n, units, dim)).astype(np.float32)
    r_pos = base_r + (shift_r if shift_r is not None else 0) + noise * rng.normal(size=base_r.shape)
    t_pos = base_t + (shift_t if shift_t is not None else 0) + noise * rng.normal(size=base_t.shape)
    return r_pos, base_r, t_pos, base_t


def test_contrast_measure_recovers_planted_alignment():
    rng = np.random.default_rng(1)
    d = rng.normal(size=(5, 6))
    signs = np.array([1.0, -1.0, 1.0, -1.0, 0.0])[:, None]
    sets = _sets(rng, shift_r=3 * d, shift_t=3 * d * signs, noise=0.3)
    s = unit_coupling(*sets, n_boot=300, n_perm=300, seed=0)
    assert s.cosine[0] > 0.9 and s.cosine[2] > 0.9
    assert s.cosine[1] < -0.9 and s.cosine[3] < -0.9
    assert s.p_lower[1] < 0.01 and s.p_upper[0] < 0.01
    assert s.p_lower[4] > 0.01 and s.p_upper[4] > 0.01  # no truthfulness direction: not different from chance
    assert np.all(s.ci_low[:4] <= s.cosine[:4] + 1e-9) and np.all(s.cosine[:4] <= s.ci_high[:4] + 1e-9)
    assert np.all(np.abs(s.null_mean) < 0.5 * np.abs(np.einsum("ud,ud->u", 3 * d, 3 * d)))


def test_paper_measure_is_cosine_of_raw_means():
    rng = np.random.default_rng(2)
    r_pos, r_neg, t_pos, t_neg = _sets(rng)
    s = unit_coupling(r_pos, r_neg, t_pos, t_neg, measure="paper", n_boot=0, n_perm=0)
    expected = cosine_rows(np.concatenate([r_pos, r_neg]).mean(0), np.concatenate([t_pos, t_neg]).mean(0))
    np.testing.assert_allclose(s.cosine, expected, atol=1e-6)
    assert np.isnan(s.ci_low).all() and np.isnan(s.p_lower).all()


def test_vectorised_equals_one_unit_at_a_time():
    rng = np.random.default_rng(3)
    sets = _sets(rng, units=4)
    for measure in ("contrast", "paper"):
        allu = unit_coupling(*sets, measure=measure, n_boot=50, n_perm=50, seed=7)
        for u in range(4):
            one = unit_coupling(*(x[:, u : u + 1] for x in sets), measure=measure, n_boot=50, n_perm=50, seed=7)
            np.testing.assert_allclose(one.cosine[0], allu.cosine[u], atol=1e-6)
            np.testing.assert_allclose(one.ci_low[0], allu.ci_low[u], atol=1e-6)
            np.testing.assert_allclose(one.p_lower[0], allu.p_lower[u])


def test_deterministic_given_seed_and_seed_matters():
    rng = np.random.default_rng(4)
    sets = _sets(rng)
    a = unit_coupling(*sets, n_boot=100, n_perm=100, seed=11)
    b = unit_coupling(*sets, n_boot=100, n_perm=100, seed=11)
    c = unit_coupling(*sets, n_boot=100, n_perm=100, seed=12)
    for name in ("cosine", "ci_low", "ci_high", "p_lower", "p_upper"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.ci_low, c.ci_low)


def test_null_is_calibrated_on_pure_noise():
    rng = np.random.default_rng(5)
    sets = _sets(rng, n=40, units=200, dim=4)
    s = unit_coupling(*sets, n_boot=0, n_perm=200, seed=0)
    frac = float(np.mean(s.p_lower < 0.05))
    assert 0.01 < frac < 0.11


def test_dead_unit_has_undefined_coupling():
    z = np.zeros((5, 1, 3), dtype=np.float32)
    s = unit_coupling(z, z, z + 1, z, n_boot=10, n_perm=10)
    assert np.isnan(s.cosine[0]) and np.isnan(s.p_lower[0])


def test_bad_shapes_are_clear_errors():
    a = np.zeros((5, 2, 3))
    with pytest.raises(AnalysisError):
        unit_coupling(a, a[:, :1], a, a)
    with pytest.raises(AnalysisError):
        unit_coupling(a[:1], a[:1], a, a)
    with pytest.raises(AnalysisError, match="Unknown coupling measure"):
        unit_coupling(a, a, a, a, measure="nope")


def test_benjamini_hochberg():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan])
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.5])  # sorted p*m/rank, then running min
    assert np.isnan(q[4])
