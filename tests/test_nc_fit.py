"""The smooth-fit N_c estimator, the measured noise and the simulation study behind the choice."""

import math

import numpy as np
import pandas as pd
import pytest

from cape import data
from cape.coupling import score_frame
from cape.critical import critical_scale
from cape.nc_fit import fit_vertex, slope_z_curve
from cape.nc_simulation import SHAPES, run_study, simulate_shape
from cape.noise import apply_noise, estimate_noise, noise_from_groups


def frame(x, hs, tqa, family="F", se=None):
    d = pd.DataFrame({"model": [f"{family}-{i}" for i in range(len(x))], "family": family,
                      "params": 10 ** np.asarray(x, float), "HellaSwag": hs, "TruthfulQA": tqa})
    if se is not None:
        d["se:HellaSwag"], d["se:TruthfulQA"] = se
    return d


def test_slope_z_matches_the_hand_computed_quadratic():
    x = np.array([8.0, 8.5, 9.0, 9.5, 10.0])
    y = 40 + 3.0 * (x - 9.2) ** 2
    fit = fit_vertex(x, y, np.full(5, 1.0), degree=2)
    _a, b, c = fit.coef
    u = x - 9.0
    assert c == pytest.approx(3.0, abs=1e-9) and fit.vertex == pytest.approx(9.2, abs=1e-3)
    # Var(c) = 1 / sum((u^2 - proj)^2) for unit weights: centred u^2 on this design has var 0.0875 * 5
    X = np.vander(u, 3, increasing=True)
    cov = np.linalg.inv(X.T @ X)
    assert fit.curvature_z == pytest.approx(3.0 / math.sqrt(cov[2, 2]), rel=1e-9)
    s, z = slope_z_curve(np.array(fit.coef), np.array(fit.cov), np.array([-1.0]))
    assert s[0] == pytest.approx(b - 2 * c, abs=1e-9)
    assert z[0] == pytest.approx((b - 2 * c) / math.sqrt(cov[1, 1] - 4 * cov[1, 2] + 4 * cov[2, 2]), rel=1e-9)
    assert fit.kind == "flip" and fit.slope_z[0] < -fit.q and fit.slope_z[1] > fit.q
    # the interval is snapped outward to measured sizes and holds the lowest point's neighbours
    assert fit.lo == pytest.approx(8.5) and fit.hi == pytest.approx(10.0)


def test_statuses_each_with_their_z():
    x = np.linspace(8.0, 10.4, 8)
    hs = 25 + 15 * (x - 8)
    se = (0.3, 0.5)
    u = critical_scale(frame(x, hs, 35 + 4.0 * (x - 9.3) ** 2, se=se), n_boot=0, noise="stated")
    assert u.status == "observed" and u.ci_low < 10 ** 9.3 < u.ci_high and abs(math.log10(u.estimate) - 9.3) < 0.05
    assert u.details["slope_z_smallest"] < -1.96 < 1.96 < u.details["slope_z_largest"]
    assert f"slope z = {u.details['slope_z_smallest']:+.1f}" in u.message and "tax to bonus" in u.message
    rev = critical_scale(frame(x, hs, 45 - 4.0 * (x - 9.3) ** 2, se=se), n_boot=0, noise="stated")
    assert rev.status == "reversal" and "bonus to tax" in rev.message and rev.ci_low < 10 ** 9.3 < rev.ci_high
    down = critical_scale(frame(x, hs, 48 - 6 * (x - 8), se=se), n_boot=0, noise="stated")
    assert down.status == "none" and down.direction == "above" and down.ci_high_unbounded
    assert down.ci_low == pytest.approx(10 ** 10.4) and "significantly negative (tax)" in down.message
    up = critical_scale(frame(x, hs, 30 + 6 * (x - 8), se=se), n_boot=0, noise="stated")
    assert up.status == "none" and up.direction == "below" and up.ci_low_unbounded
    xe = np.linspace(8.0, 9.6, 7)  # vertex 0.3 decades above the range
    ext = critical_scale(frame(xe, 25 + 15 * (xe - 8), 35 + 10.0 * (xe - 9.9) ** 2, se=(0.1, 0.1)), n_boot=0,
                         noise="stated")
    assert ext.status == "extrapolated" and ext.ci_low < 10 ** 9.9 < ext.ci_high and "extrapolated" in ext.message
    flat = critical_scale(frame(x, hs, 40 + np.array([0.5, -0.5, 0.2, 0, -0.3, 0.4, -0.1, 0.1])), n_boot=0,
                          noise="stated")
    assert flat.status == "none" and flat.ci_low_unbounded and flat.ci_high_unbounded
    assert "cannot place a flip" in flat.message


def test_lack_of_fit_widens_instead_of_overclaiming():
    x = np.linspace(8.0, 10.4, 8)
    hs = 25 + 15 * (x - 8)
    wiggle = np.array([3.0, -3.0, 3.0, -3.0, 3.0, -3.0, 3.0, -3.0])
    tqa = 35 + 4.0 * (x - 9.3) ** 2 + wiggle
    r = critical_scale(frame(x, hs, tqa, se=(0.3, 0.5)), n_boot=0, noise="stated")
    assert r.details["lack_of_fit_p"] < 0.05 and r.details["variance_scale"] > 10
    assert r.details["critical_value"] == pytest.approx(2.5706, abs=1e-3)  # Student t, 5 df


def test_three_sizes_are_not_enough_for_the_fit():
    r = critical_scale(frame([8, 9, 10], [30, 40, 50], [45, 40, 44]), n_boot=0)
    assert r.status == "insufficient" and "at least 4" in r.message


def test_noise_measured_from_residuals_recovers_the_planted_extra_noise():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(40):
        x = np.sort(rng.uniform(8, 10.5, 7))
        y = 40 + 3 * (x - 9.2) ** 2 + rng.normal(0, math.hypot(1.0, 2.0), 7)  # stated 1, true sqrt(5)
        groups.append((x, y, np.full(7, 1.0)))
    est = noise_from_groups("TruthfulQA", groups)
    assert est.df == 40 * 4 and est.noisier_than_stated and est.p < 1e-6
    assert est.extra_sd == pytest.approx(2.0, abs=0.25)
    assert f"{est.extra_sd:.2g} pp" in est.message and f"{est.df} df" in est.message
    honest = noise_from_groups("TruthfulQA", [(x, 40 + 3 * (x - 9.2) ** 2 + rng.normal(0, 1.0, 7), se)
                                              for x, _, se in groups])
    assert not honest.noisier_than_stated and honest.extra_sd < 0.3


def test_noise_is_added_and_the_input_kept():
    f = score_frame(data.load_base(), ("HellaSwag", "TruthfulQA"))
    before = f.copy()
    est = [estimate_noise(f, b) for b in ("HellaSwag", "TruthfulQA")]
    g = apply_noise(f, est)
    pd.testing.assert_frame_equal(f, before)
    hs = est[0]
    assert hs.noisier_than_stated and hs.extra_sd > 1.0  # HellaSwag: far more scatter than 10,042 items give
    np.testing.assert_allclose(g["se:HellaSwag"], np.sqrt(f["se:HellaSwag"] ** 2 + hs.extra_sd ** 2))


@pytest.mark.parametrize("shape", SHAPES)
def test_generators_plant_what_they_say(shape):
    fam = simulate_shape(np.random.default_rng(1), shape, n_models=8, noise_sd=1.0, depth=4.0)
    x, t = np.array(fam.truth["log10_n"]), np.array(fam.truth["tqa"])
    if fam.kind == "flip":
        assert np.all(np.diff(t[x < fam.log10_nc]) < 0) and np.all(np.diff(t[x > fam.log10_nc]) > 0)
        assert min(t[0], t[-1]) - t.min() <= 4.0 + 1e-9
    elif fam.kind == "reversal":
        assert np.all(np.diff(t[x < fam.log10_nc]) > 0) and np.all(np.diff(t[x > fam.log10_nc]) < 0)
    else:
        d = np.diff(t)
        assert np.all(d > 0) or np.all(d < 0)


def test_small_simulation_study_meets_the_targets():
    s = run_study(3, cohort_size=6, seed=11)
    assert s.n == 4 * 3 * 3 * 6
    assert s.coverage >= 0.93, s.to_dict()
    # per regime <= 5% in the full benchmark (benchmarks/bench_nc.py); here a few families per regime
    assert s.false_flip_all <= 0.05, s.to_dict()
    assert s.power_target >= 0.75, s.to_dict()


# ---------------------------------------------------------------------------------------------- population
def _cohort(ncs, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    parts = []
    for i, xc in enumerate(ncs):
        x = np.linspace(8.0, 11.0, 8)
        tqa = 35 + 6.0 * (x - xc) ** 2 + rng.normal(0, noise, 8)
        parts.append(frame(x, 25 + 15 * (x - 8), tqa, family=f"F{i}", se=(0.3, noise)))
    return pd.concat(parts, ignore_index=True)


def test_population_random_effects_numbers_match_a_hand_computation():
    from statsmodels.stats.meta_analysis import combine_effects

    from cape.population import population_nc

    pop = population_nc(_cohort([9.0, 9.3, 9.6, 9.9, 10.2]), noise="stated")
    assert pop.status == "estimated" and set(pop.flipping) == {"F0", "F1", "F2", "F3", "F4"}
    y, se = np.array(pop.log10_nc), np.array(pop.se)
    ref = combine_effects(y, se ** 2, method_re="dl")
    assert math.log10(pop.typical) == pytest.approx(float(ref.mean_effect_re), abs=1e-9)
    assert pop.spread == pytest.approx(math.sqrt(ref.tau2), abs=1e-9)
    # the planted N_c spread 0.3 decades apart over 1.2 decades: heterogeneity is found and said
    assert pop.homogeneous is False and pop.q_p < 0.05 and "rejected" in pop.message
    assert pop.spread_ci[0] <= pop.spread <= pop.spread_ci[1]
    assert pop.typical_ci[0] < 10 ** 9.6 < pop.typical_ci[1]
    assert "observed" not in pop.message and f"Q = {pop.q:.1f} on 4 df" in pop.message
    same = population_nc(_cohort([9.5] * 5, seed=2), noise="stated")
    assert same.homogeneous is True and "not rejected" in same.message and same.spread_ci[0] == 0.0


def test_population_membership_is_explicit():
    from cape.population import population_nc

    pop = population_nc(data.load_base())
    assert pop.excluded["Phi-3-mini-4k"].startswith("not a base model") and pop.excluded["Phi"] == "data recipe curated"
    assert "recipe web" in pop.membership and "Phi" not in pop.members
    plain = population_nc(_cohort([9.2, 9.8]), noise="stated")
    assert "plain frame" in plain.membership


def test_diagnose_json_carries_noise_population_and_instruct_choice():
    import json

    from cape.diagnose import diagnose

    res = diagnose(families=["Pythia", "OPT", "Phi"], n_boot=200, seed=0, width=False)
    d = json.loads(json.dumps(res.to_dict(), default=str))
    assert d["method"] == "fit" and d["noise_mode"] == "data"
    assert {n["benchmark"] for n in d["noise"]} == {"HellaSwag", "TruthfulQA"}
    assert d["pooled"]["population"]["status"] in ("none", "single family", "estimated")
    assert "Phi-3-mini-4k" not in res.family("Phi").models
    assert any("Phi-3-mini-4k" in m for m in res.messages)
    kept = diagnose(families=["Phi"], n_boot=200, seed=0, width=False, keep_instruct=True)
    assert "Phi-3-mini-4k" in kept.family("Phi").models
    assert res.family("Pythia").nc.details["sign_split"]["status"] == "none"


def test_population_random_effects_survive_identical_estimates():
    """Families that agree exactly: the Hartung-Knapp variance can round below zero; the CI must not crash."""
    import numpy as np

    from cape.population import _random_effects

    base = dict(members=("a", "b", "c", "d"), excluded={}, membership="m", flipping=("a", "b", "c", "d"),
                log10_nc=(9.5,) * 4, se=(0.1,) * 4, no_flip=(), insufficient=())
    r = _random_effects(np.full(4, 9.5), np.full(4, 0.1), base, 0.95, "note", "")
    assert r.typical == pytest.approx(10 ** 9.5)
    lo, hi = r.typical_ci
    assert lo <= r.typical <= hi and r.spread == 0.0


def test_random_effects_truncates_a_negative_tau2():
    """Q below its degrees of freedom: DerSimonian-Laird's tau^2 is 0 (statsmodels reports it negative), so
    the typical N_c is the inverse-variance mean and its interval is finite (it used to crash or land outside
    the estimates)."""
    from cape.population import _random_effects

    y = np.array([9.875929790720544, 9.304794551865662, 9.161148416763066])
    se = np.array([0.6664656439923121, 0.2648446835713267, 0.5685992148370179])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of statsmodels' arithmetic reaches the user's terminal
        res = _random_effects(y, se, {"members": (), "excluded": {}, "membership": "", "flipping": ("a", "b", "c"),
                                      "log10_nc": tuple(y), "se": tuple(se), "no_flip": (), "insufficient": (),
                                      "level": 0.95, "family_results": {}}, 0.95, "", "")
    w = 1 / se ** 2
    assert res.spread == 0.0
    assert np.log10(res.typical) == pytest.approx(np.sum(w * y) / np.sum(w), rel=1e-12)
    lo, hi = res.typical_ci
    assert 10 ** y.min() < res.typical < 10 ** y.max() and lo < res.typical < hi and np.isfinite(hi)
