"""Tests of cape.dynamics: sparse ODE discovery, baselines, held-out prediction, paper reproductions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cape.dynamics import (cross_predict, discover, paper_holdout, paper_ode_fit, paper_per_phase, per_phase,
                           predict_scale, prepare)
from cape.dynamics.holdout import BASELINES, HoldoutResult
from cape.dynamics.integrate import simulate
from cape.dynamics.paper import PaperHoldout
from cape.dynamics.predict import parse_params
from cape.dynamics.sparse import bootstrap_weights, features, fit_pysindy, library, stlsq_batch
from cape.dynamics.trajectories import (SparseTrajectoryWarning, Units, make_samples, make_units)
from cape.errors import AnalysisError, NotFoundError
from cape.scores import ScoreTable

BS3 = ("HellaSwag", "TruthfulQA", "ARC-Challenge")


# ---------------------------------------------------------------------------------------------- synthetic data
def _true_rhs(_t, y):
    """A sparse system in fractions over (HS, TQA, ARC): 5 active terms + 3 constants."""
    h, q, _a = y
    return [0.30 - 0.30 * h, 0.05 - 0.40 * h * q, 0.25 * h - 0.08]


#: True coefficients keyed by (equation, library term) in pysindy's names over HS, TQA, ARC.
TRUE = {("HS", "1"): 0.30, ("HS", "HS"): -0.30, ("TQA", "1"): 0.05, ("TQA", "HS TQA"): -0.40,
        ("ARC", "1"): -0.08, ("ARC", "HS"): 0.25}


def synthetic(seed: int = 3, noise_pp: float = 0.1, n_fam: int = 8, n_pts: int = 7) -> ScoreTable:
    """Families integrated from random starts on *uneven* log10 N grids, with Gaussian noise in points."""
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(seed)
    rows = []
    for f in range(n_fam):
        y0 = [rng.uniform(0.2, 0.5), rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.35)]
        x = np.concatenate([[7.5], 7.5 + np.cumsum(rng.uniform(0.2, 0.6, n_pts - 1))])
        sol = solve_ivp(_true_rhs, (x[0], x[-1]), y0, t_eval=x, rtol=1e-10, atol=1e-12)
        y = sol.y.T * 100 + rng.normal(0, noise_pp, sol.y.T.shape)
        for k in range(n_pts):
            rows.append({"model": f"S{f}-{k}", "family": f"S{f}", "params": 10 ** x[k],
                         "HellaSwag": y[k, 0], "TruthfulQA": y[k, 1], "ARC-Challenge": y[k, 2]})
    return ScoreTable.from_wide(pd.DataFrame(rows))


def noise_table(seed: int = 0, noise_pp: float = 1.0, n_fam: int = 8, n_pts: int = 6) -> ScoreTable:
    """No dynamics at all: every family sits at fixed levels, plus measurement noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in range(n_fam):
        level = rng.uniform(30, 60, 3)
        x = 8 + np.sort(rng.uniform(0, 3, n_pts))
        for k in range(n_pts):
            v = level + rng.normal(0, noise_pp, 3)
            rows.append({"model": f"N{f}-{k}", "family": f"N{f}", "params": 10 ** x[k], "HellaSwag": v[0],
                         "TruthfulQA": v[1], "ARC-Challenge": v[2]})
    return ScoreTable.from_wide(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def recovered():
    return discover(synthetic(), families=None, benchmarks="HS,TQA,ARC", degree=2, n_models=100, seed=1)


# ---------------------------------------------------------------------------------------------- recovery
def test_recovers_support_of_known_sparse_system(recovered):
    d = recovered
    found = {(d.names[i], d.feature_names[f]) for i, f in zip(*np.nonzero(d.coef))}
    assert found == set(TRUE)


def test_recovered_coefficients_within_tolerance(recovered):
    d = recovered
    for (eq, term), v in TRUE.items():
        c = d.coef[d.names.index(eq), d.feature_names.index(term)]
        assert c == pytest.approx(v, abs=0.02), (eq, term, c)


def test_true_terms_have_high_inclusion_probability(recovered):
    d = recovered
    true_inc = [d.inclusion[d.names.index(eq), d.feature_names.index(term)] for eq, term in TRUE if term != "1"]
    # (the free intercept is in every member by construction)
    assert min(true_inc) >= 0.6
    # every other (non-constant) term is rarely included, and never as often as a true term
    mask = np.ones_like(d.inclusion, dtype=bool)
    for eq, term in TRUE:
        mask[d.names.index(eq), d.feature_names.index(term)] = False
    mask[:, 0] = False
    assert d.inclusion[mask].mean() < 0.02
    assert d.inclusion[mask].max() < min(true_inc)


def test_no_spurious_terms_in_pure_noise():
    for seed in (0, 1, 2):
        d = discover(noise_table(seed), families=None, benchmarks="HS,TQA,ARC", degree=2, n_models=100, seed=seed)
        assert not np.any(d.coef[:, 1:]), d.equations()
        # what is left is the free constant: exactly the mean secant slope of the noise
        s = make_samples(d.trajectories, d.units, "secant")
        np.testing.assert_allclose(d.coef[:, 0], s.derivs.mean(axis=0), atol=1e-12)
        # and no term is included in a majority of the ensemble members either
        assert d.inclusion[:, 1:].max() < 0.5


def test_no_terms_in_pure_noise_when_constant_is_thresholded():
    d = discover(noise_table(5), families=None, benchmarks="HS,TQA,ARC", degree=2, n_models=50, intercept=False)
    assert d.status == "null model"
    assert d.equations()[0].endswith("= 0")


def test_recovery_degree_1_and_standardised_units():
    # the linear part of the system alone: HS and ARC equations are linear
    d = discover(synthetic(seed=4), families=None, benchmarks="HS,TQA,ARC", degree=1, n_models=20)
    i = d.names.index("HS")
    assert d.coef[i, d.feature_names.index("HS")] == pytest.approx(-0.30, abs=0.03)
    z = discover(synthetic(seed=4), families=None, benchmarks="HS,TQA,ARC", degree=2, n_models=20,
                 units="standardised")
    assert z.units.name == "standardised"
    # in standardised units dHS/dx = -0.30 HS still has one linear term (plus the constant)
    assert z.coef[i, z.feature_names.index("HS")] == pytest.approx(-0.30, abs=0.03)


# ---------------------------------------------------------------------------------------------- engine
def test_batched_stlsq_equals_pysindy():
    rng = np.random.default_rng(1)
    powers, names = library(3, 2, ["a", "b", "c"])
    s = rng.random((40, 3))
    th = features(s, powers)
    y = np.c_[0.3 - 0.5 * s[:, 1], 0.2 * s[:, 0] * s[:, 2], -0.01 + 0 * s[:, 0]] + rng.normal(0, 0.01, (40, 3))
    for thr in (0.0, 0.02, 0.1, [0.05, 0.1, 0.3]):
        for ic in (True, False):
            _, c = fit_pysindy([s[:20], s[20:]], [y[:20], y[20:]], [np.arange(20.0), np.arange(20.0)], 2, thr,
                               0.05, ["a", "b", "c"], intercept=ic)
            cb = stlsq_batch(th, y, np.ones((1, 40)), thr, alpha=0.05, intercept=ic)[0]
            np.testing.assert_allclose(cb, c, atol=1e-10)


def test_bootstrap_weights_equal_duplicated_rows_in_pysindy():
    rng = np.random.default_rng(2)
    powers, _ = library(2, 2, ["a", "b"])
    s = rng.random((30, 2))
    y = np.c_[0.2 - 0.4 * s[:, 0], 0.3 * s[:, 0] * s[:, 1]] + rng.normal(0, 0.01, (30, 2))
    idx = rng.integers(0, 30, 30)
    w = np.bincount(idx, minlength=30).astype(float)[None]
    _, c = fit_pysindy([s[idx]], [y[idx]], [np.arange(30.0)], 2, 0.05, 0.05, ["a", "b"], intercept=False)
    np.testing.assert_allclose(stlsq_batch(features(s, powers), y, w, 0.05, alpha=0.05)[0], c, atol=1e-10)


def test_two_level_bootstrap_weights():
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2], [3, 5, 2])
    w = bootstrap_weights(10, 500, rng, groups=groups)
    assert w.shape == (500, 10)
    # each draw has as many samples as families drawn x their sizes; totals vary, mean close to n
    assert abs(w.sum(axis=1).mean() - 10) < 0.5
    # sometimes a whole family is absent
    assert ((w[:, groups == 2].sum(axis=1)) == 0).mean() > 0.2


def test_secant_derivatives_exact_on_uneven_grid():
    x = np.array([7.0, 7.1, 7.9, 8.05, 9.3])
    scores = np.c_[10 * x - 40, 80 - 4 * x]
    t = ScoreTable.from_wide(pd.DataFrame({"model": [f"m{i}" for i in range(5)], "family": "F",
                                           "params": 10 ** x, "HellaSwag": scores[:, 0],
                                           "TruthfulQA": scores[:, 1]}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = prepare(t, "HS,TQA")
    u = make_units("fraction", c.trajectories)
    s = make_samples(c.trajectories, u, "secant")
    np.testing.assert_allclose(s.derivs, np.tile([0.10, -0.04], (4, 1)), atol=1e-12)
    np.testing.assert_allclose(s.x, (x[1:] + x[:-1]) / 2)
    fd = make_samples(c.trajectories, u, "finite_difference")
    np.testing.assert_allclose(fd.derivs, np.tile([0.10, -0.04], (5, 1)), atol=1e-10)


def test_uneven_spacing_recovers_rate():
    # B(x) solves dB/dx = 0.3 - 0.3 B exactly; sampled on a very uneven grid, the secant scheme recovers it
    x = np.array([7.0, 7.15, 7.3, 8.2, 8.3, 9.4, 10.0])
    b = 1 - 0.7 * np.exp(-0.3 * (x - 7.0))
    tq = 0.4 + 0.0 * x
    t = ScoreTable.from_wide(pd.DataFrame({"model": [f"m{i}" for i in range(7)], "family": "F",
                                           "params": 10 ** x, "HellaSwag": b * 100, "TruthfulQA": tq * 100}))
    d = discover(t, families=["F"], benchmarks="HS,TQA", degree=1, threshold=0.01, n_models=0)
    i = d.names.index("HS")
    assert d.coef[i, d.feature_names.index("HS")] == pytest.approx(-0.30, abs=0.01)


def test_simulate_forward_backward_and_divergence():
    u = Units("fraction", np.zeros(1), np.full(1, 100.0))
    pw = np.array([[0], [1]])
    out = simulate(np.array([[0.1, 0.0]]), pw, u, np.array([20.0]), 9.0, np.array([8.0, 9.0, 10.0]))
    np.testing.assert_allclose(out[:, 0], [10.0, 20.0, 30.0], atol=1e-6)
    # an exploding member is NaN, the others are untouched
    c = np.array([[[0.1, 0.0]], [[0.0, 5.0]]])
    out = simulate(c, pw, u, np.array([20.0]), 9.0, np.array([10.0]))
    assert np.isnan(out[1]).all() and out[0, 0, 0] == pytest.approx(30.0, abs=1e-6)


def test_ensemble_deterministic_by_seed():
    t = synthetic(seed=6)
    a = discover(t, families=None, benchmarks="HS,TQA,ARC", n_models=30, seed=7)
    b = discover(t, families=None, benchmarks="HS,TQA,ARC", n_models=30, seed=7)
    c = discover(t, families=None, benchmarks="HS,TQA,ARC", n_models=30, seed=8)
    np.testing.assert_array_equal(a.ensemble, b.ensemble)
    assert not np.array_equal(a.ensemble, c.ensemble)


# ---------------------------------------------------------------------------------------------- data handling
def test_short_trajectory_warns_and_drops_are_reported():
    from cape.data import load_base

    with pytest.warns(SparseTrajectoryWarning, match="Llama-2 has only 3"):
        c = prepare(load_base(), None, families=["Pythia", "Llama-2", "Gemma", "Mistral"])
    assert c.families == ["Pythia", "Llama-2"]
    reasons = {(d.family, d.model): d.reason for d in c.dropped}
    assert "no ARC, WG, MMLU scores" in reasons[("Gemma", None)]
    assert "only 1 complete model" in reasons[("Mistral", None)]
    with pytest.raises(NotFoundError, match="Pythia"):
        prepare(load_base(), None, families=["Pyhtia"])
    with pytest.raises(AnalysisError, match="at least 2 benchmarks"):
        prepare(load_base(), "HS")


# ---------------------------------------------------------------------------------------------- paper numbers
def test_paper_ode_fit_reproduces_2_63():
    f = paper_ode_fit()
    assert round(f.overall, 2) == 2.63
    np.testing.assert_allclose(f.per_benchmark, [4.71, 1.23, 3.25, 1.47, 2.56], atol=0.005)
    assert f.n_parameters == 30 and f.n_numbers == 35
    ev = np.sort_complex(f.eigenvalues)
    assert ev.real.max() == pytest.approx(0.210, abs=0.001)  # the one real unstable mode
    assert abs(f.overall - 2.6) <= 0.05  # the published "2.6%"


def test_paper_holdout_reproduces_5_65():
    h = paper_holdout()
    assert isinstance(h, PaperHoldout)
    assert round(h.mape, 2) == 5.65
    np.testing.assert_allclose(h.signed_pct, [-8.53, -2.28, -6.13], atol=0.005)
    np.testing.assert_allclose(h.coefficients, [4.3396, -83.2967, 435.0963], atol=5e-4)
    # the spec's polynomial-degree table (Pythia + Llama-1 -> Llama-2): 9.6 / 5.6 / 5.9 / 6.0
    got = [round(paper_holdout(degree=k).mape, 1) for k in (1, 2, 3, 4)]
    assert got == [9.6, 5.6, 5.9, 6.0]
    # and through the strategy entry point
    assert round(cross_predict(method="paper").mape, 2) == 5.65


def test_paper_per_phase_reproduces_0_12_to_0_75():
    p = paper_per_phase()
    assert round(p.tax, 4) == 0.1201 and round(p.bonus, 4) == 0.7506
    assert round(p.ratio, 2) == 6.25
    assert p.phases["tax"]["n_intervals"] == 3 and p.phases["bonus"]["n_intervals"] == 2
    assert round(p.phases["full"]["b"], 4) == 0.0492
    assert round(p.phases["transition"]["b"], 3) == -1.993
    assert p.sign_flip is False
    assert per_phase(method="paper").tax == p.tax


def test_paper_claims():
    from cape.paper.dynamics import paper_claims

    claims = {c.id: c for c in paper_claims()}
    assert set(claims) == {"M11", "M12", "M13", "A10"}
    assert claims["M11"].verdict == "reproduces" and claims["M11"].computed_value == "2.63%"
    assert claims["M13"].verdict == "reproduces" and "0.1201 / 0.7506 / 6.25x" in claims["M13"].computed_value
    assert claims["A10"].computed_value.startswith("5.65%") and claims["A10"].verdict == "differs"
    assert claims["M12"].verdict == "differs"
    assert all(c.sound_value for c in claims.values())


# ---------------------------------------------------------------------------------------------- held-out test
@pytest.fixture(scope="module")
def default_holdout():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cross_predict(n_models=50, seed=0)


def test_cross_predict_default_split(default_holdout):
    r = default_holdout
    assert isinstance(r, HoldoutResult)
    assert r.train == ("Pythia",) and r.holdout == "Llama-2" and r.start_model == "Llama-2-7B"
    assert r.models == ("Llama-2-13B", "Llama-2-70B")
    assert {m.method for m in r.methods} == {"sindy", *BASELINES}
    mapes = [m.errors.overall_mape for m in r.methods]
    assert mapes == sorted(mapes)  # best first
    assert r.winner == r.methods[0].method
    s = r.method("sindy")
    assert s.lo is not None and s.mape_interval[0] <= s.mape_interval[1]
    assert "sparse ODE ranks" in r.verdict
    # last value carried forward: error is |B_k - B_7B| exactly
    lv = r.method("last_value")
    np.testing.assert_allclose(lv.predictions, np.tile([77.2, 38.8, 52.9, 69.5, 45.3], (2, 1)))
    assert lv.errors.mae[0] == pytest.approx(np.mean(np.abs(r.observed[:, 0] - 77.2)), abs=1e-9)
    frame = r.to_frame()
    assert set(frame["benchmark"]) == {*r.benchmarks, "overall"}


def test_linear_ode_baseline_matches_dense_lsq(default_holdout):
    """The dense linear ODE baseline is the paper's M11 estimator applied to the split."""
    from cape.data import load_base

    r = default_holdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        py = prepare(load_base(), None, families=["Pythia"]).trajectories[0]
        ll = prepare(load_base(), None, families=["Llama-2"]).trajectories[0]
    b, x = py.scores, py.x
    mid = (b[1:] + b[:-1]) / 2
    slope = np.diff(b, axis=0) / np.diff(x)[:, None]
    w = np.linalg.lstsq(np.c_[mid, np.ones(7)], slope, rcond=None)[0]
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _t, y: w[:-1].T @ y + w[-1], (ll.x[0], ll.x[-1]), ll.scores[0], t_eval=ll.x[1:],
                    rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(r.method("linear_ode").predictions, sol.y.T, atol=1e-3)


def test_holdout_errors():
    with pytest.raises(AnalysisError, match="both trained on and held out"):
        cross_predict(train=["Pythia"], holdout="Pythia", n_models=0)
    with pytest.raises(AnalysisError, match="method must be"):
        cross_predict(method="magic")


def test_any_split_and_subset_of_benchmarks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = cross_predict(train=["Pythia", "BLOOM"], holdout="OPT", benchmarks="HS,TQA", degree=1, n_models=20)
    assert r.benchmarks == ("HellaSwag", "TruthfulQA") and len(r.models) == 7
    assert all(np.isfinite(m.errors.overall_mae) for m in r.methods if m.method != "sindy")


# ---------------------------------------------------------------------------------------------- phases, predict
def test_per_phase_sound():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = per_phase(degree=1, n_models=50)
    assert c.counts["tax"] > 10 and c.counts["bonus"] > 5
    assert c.headline is not None and c.headline["equation"] == "TQA" and c.headline["term"] == "HS"
    for r in c.rows:
        if r["exceeds_spread"]:
            assert r["diff_lo"] > 0 or r["diff_hi"] < 0
    assert "beyond the ensemble spread" in c.verdict
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = per_phase(degree=1, n_models=20, split="scale", nc=3e9)
    assert s.counts["tax"] + s.counts["bonus"] + s.counts["transition"] == sum(s.counts.values())
    with pytest.raises(AnalysisError, match="split='gamma' needs"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_phase(benchmarks="ARC,WG", n_models=0)


def test_predict_scale_interval_and_phase():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = predict_scale("Pythia", 3e10, n_models=100, seed=0)
    assert p.start_model == "Pythia-12B" and p.status == "extrapolated"
    assert np.all(np.isfinite(p.predicted))
    assert np.all(p.lo <= p.hi) and np.all(p.lo >= 0) and np.all(p.hi <= 100)
    assert p.phase in ("tax", "transition", "bonus", "undetermined")
    assert sum(p.phase_probability.values()) == pytest.approx(1.0)
    d = p.to_dict()
    assert d["family"] == "Pythia" and len(d["predicted"]) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = predict_scale("Pythia", 3e10, n_models=100, seed=0)
    np.testing.assert_array_equal(p.lo, q.lo)


def test_parse_params():
    assert parse_params("70B") == 7e10 and parse_params("350M") == 3.5e8 and parse_params("1.2e10") == 1.2e10
    with pytest.raises(AnalysisError):
        parse_params("7")
    with pytest.raises(AnalysisError):
        parse_params("seven")


def test_every_family_held_out_in_turn():
    from cape.dynamics import cross_predict_all

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sw = cross_predict_all(degree=1, n_models=5, benchmarks="HS,TQA,ARC")
    fams = [r.holdout for r in sw.results]
    assert "Pythia" in fams and "Llama-2" in fams and "Falcon" in fams
    for r in sw.results:
        assert r.holdout not in r.train
    assert sum(sw.wins.values()) == pytest.approx(len(sw.results))
    assert set(sw.median_mape) == {"sindy", *BASELINES}
    assert "Held out" in sw.verdict
