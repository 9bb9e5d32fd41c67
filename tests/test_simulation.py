"""Synthetic families with a planted N_c (cape.simulate) and the calibration of the within-family CI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cape import catalog
from cape.critical import critical_scale
from cape.simulate import coverage_study, observe, simulate_families, simulate_family


def test_generator_plants_the_gamma_zero_crossing():
    fam = simulate_family(np.random.default_rng(3), nc=2e9, n_models=8)
    x = np.array(fam.truth["log10_n"])
    hs, tqa = np.array(fam.truth["hs"]), np.array(fam.truth["tqa"])
    assert np.all(np.diff(hs) > 0)  # HS rises with size, so gamma's sign is dTQA's sign
    below, above = x < math.log10(2e9), x > math.log10(2e9)
    assert np.all(np.diff(tqa[below]) < 0) and np.all(np.diff(tqa[above]) > 0)
    assert fam.nc == 2e9 and len(fam.frame) == 8
    assert fam.table().n_models == 8


def test_generator_without_flip_is_monotone():
    for f in simulate_families(20, seed=2, flip=False):
        t = np.diff(f.truth["tqa"])
        assert f.nc is None and (np.all(t > 0) or np.all(t < 0))


def test_binomial_noise_has_the_item_count_variance():
    rng = np.random.default_rng(0)
    draws = observe(np.full(20000, 40.0), "TruthfulQA", rng)
    assert draws.std() == pytest.approx(catalog.binomial_stderr(40.0, "TruthfulQA"), rel=0.03)
    assert np.allclose(draws * catalog.info("TruthfulQA").n_items / 100, np.round(draws * 817 / 100))


def test_noise_free_planted_family_is_recovered():
    fam = simulate_family(np.random.default_rng(5), nc=3e9, n_models=8)
    f = fam.frame.assign(HellaSwag=fam.truth["hs"], TruthfulQA=fam.truth["tqa"])
    r = critical_scale(f, n_boot=1000, seed=0)
    assert r.status == "observed" and abs(math.log10(r.estimate) - math.log10(3e9)) < 0.2


def test_ci_covers_planted_nc_at_least_90_percent():
    cs = coverage_study(220, flip=True, seed=0, n_boot=1500)
    assert cs.n == 220
    assert cs.coverage >= 0.90, cs
    # the claim is not bought with "always unbounded": a good share of families get a two-sided CI,
    # and those still cover
    assert cs.status.get("observed", 0) + cs.status.get("extrapolated", 0) >= 0.35 * cs.n, cs
    assert cs.coverage_when_bounded >= 0.90, cs


def test_families_without_flip_are_reported_none():
    cs = coverage_study(220, flip=False, seed=1, n_boot=1500)
    assert cs.none_rate >= 0.90, cs
