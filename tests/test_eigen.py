"""Eigenstructure, participation ratio and per-phase d_eff (cape.eigen)."""

from __future__ import annotations

import numpy as np
import pytest

from cape import data
from cape.eigen import eigen_spectrum, model_phases, participation_ratio, phase_spectra, spectrum_of


def test_pythia_correlation_spectrum_reproduces():
    e = eigen_spectrum(data.fixture_table("pythia8"), use="corr", n_boot=0)
    assert [round(v, 4) for v in e.eigenvalues] == [4.0954, 0.8271, 0.0573, 0.0133, 0.0067]
    assert round(e.explained[0], 3) == 0.819 and round(e.explained[1], 3) == 0.165
    assert round(e.d_eff, 2) == 1.43
    assert e.det == pytest.approx(1.75e-5, rel=0.01)
    load = dict(zip(e.benchmarks, e.loadings[0]))
    assert load["TruthfulQA"] < 0 < load["HellaSwag"]  # TQA anti-aligned with the others on PC1
    assert abs(load["TruthfulQA"]) == pytest.approx(0.484, abs=5e-4)


def test_covariance_pr_is_dominated_by_hellaswag():
    e = eigen_spectrum(data.fixture_table("pythia8"), use="cov", n_boot=0)
    assert round(e.d_eff, 2) == 1.03


def test_frontier_nc3_covariance_pr():
    nc3 = data.fixture("nc3")
    cols = ["SWE-bench Verified", "GPQA Diamond", "IFEval"]
    e = spectrum_of(nc3[cols].to_numpy(float), np.arange(4), cols, use="cov", n_boot=0)
    assert round(e.d_eff, 3) == 1.751 and e.n_models == 4 and e.status == "ok"  # 4 models: rank 3 at most
    ec = spectrum_of(nc3[cols].to_numpy(float), np.arange(4), cols, use="corr", n_boot=0)
    assert round(ec.d_eff, 2) == 1.95


def test_participation_ratio_bounds_and_clipping():
    assert participation_ratio([1, 0, 0]) == pytest.approx(1.0)
    assert participation_ratio([1, 1, 1, 1]) == pytest.approx(4.0)
    assert participation_ratio([1, 1, -1e-12]) == pytest.approx(2.0)
    batch = participation_ratio(np.array([[1.0, 0], [1, 1]]))
    assert batch.tolist() == [1.0, 2.0]


def test_bootstrap_ci_brackets_point_and_is_seeded():
    t = data.load_base()
    a = eigen_spectrum(t, n_boot=800, seed=4)
    b = eigen_spectrum(t, n_boot=800, seed=4)
    assert a == b
    assert a.d_eff_ci[0] <= a.d_eff <= a.d_eff_ci[1]
    assert 1 <= a.d_eff <= 5 and a.n_families > 5


def test_phase_spectra_never_pool_phases():
    t = data.load_base()
    ph = model_phases(t)
    assert ph["Pythia-70M"] is None and ph["Pythia-1.4B"] == "transition" and ph["Pythia-12B"] == "tax"
    ps = phase_spectra(t, n_boot=300, seed=0)
    total = sum(v.n_models for v in ps.phases.values())
    assert total + len(ps.unassigned) <= t.n_models
    for name, r in ps.phases.items():
        assert r.n_models == sum(1 for m, p in ph.items() if p == name and m not in r.dropped)
        if r.d_eff is not None:
            assert 1 <= r.d_eff <= 5
    corr = phase_spectra(t, use="corr", n_boot=0)
    assert corr.use == "corr" and set(corr.phases) == set(ps.phases)
    assert list(ps.to_frame()["phase"]) == list(ps.phases)


def test_degenerate_inputs_have_status():
    X = np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]])
    c = spectrum_of(X, np.zeros(3), ["HellaSwag", "TruthfulQA"], use="corr", n_boot=10)
    assert c.status == "constant" and c.d_eff is None
    few = spectrum_of(X[:2], np.zeros(2), ["HellaSwag", "TruthfulQA"], n_boot=10)
    assert few.status == "insufficient"
    single = spectrum_of(np.random.default_rng(0).normal(size=(6, 3)), np.arange(6), ["a", "b", "c"], n_boot=50)
    assert "one model per family" in single.message and single.d_eff_ci[0] is not None
