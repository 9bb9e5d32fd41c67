"""Local coupling, population r, coupling matrix, phases and the small coupling laws (cape.coupling)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cape import data
from cape.coupling import (PHASE_SCHEMES, PhaseScheme, coupling_matrix, flow_fixed_point, gamma_steps,
                           isocline_phase, local_coupling, pearson_pvalue, pearson_rows, percentile_ci,
                           phase_label, population_coupling, population_r, redistribution, resolve_pair,
                           running_law)
from cape.errors import AnalysisError, DataError


@pytest.fixture(scope="module")
def p8():
    return data.fixture_table("pythia8", family="Pythia")


def fam(rows, family="F"):
    """Wide frame from (model, params, HS, TQA) rows."""
    return pd.DataFrame(rows, columns=["model", "params", "HellaSwag", "TruthfulQA"]).assign(family=family)


def test_pythia_gammas_computed_from_fixture(p8):
    fc = local_coupling(p8)
    d = data.fixture("pythia8").sort_values("params")
    expect = np.diff(d["TruthfulQA"]) / np.diff(d["HellaSwag"])
    assert np.allclose(fc.gammas(), expect)
    # the published Pythia gammas: -0.68, -0.33, -0.26, 0.00, -0.42, -0.79, -0.30
    assert [round(g, 2) for g in fc.gammas()] == [-0.68, -0.33, -0.26, 0.0, -0.42, -0.79, -0.30]
    assert fc.phase_path() == ["tax", "tax", "tax", "transition", "tax", "tax", "tax"]
    # gamma sits at the log-midpoint; the per-model phase is that of the interval ending at the model
    iv = fc.intervals[0]
    assert iv.n_mid == pytest.approx(math.sqrt(7e7 * 1.6e8))
    assert fc.model_phases["Pythia-70M"] is None and fc.model_phases["Pythia-1.4B"] == "transition"


def test_small_step_is_skipped_and_reported_never_infinite():
    f = fam([("a", 1e8, 30.0, 45.0), ("b", 2e8, 30.3, 44.0), ("c", 4e8, 35.0, 43.0)])
    fc = local_coupling(f)
    assert fc.intervals[0].status == "small_step" and fc.intervals[0].gamma is None
    assert fc.intervals[0].phase is None
    assert fc.intervals[1].gamma == pytest.approx(-1.0 / 4.7)
    assert any("skipped" in m for m in fc.messages)
    # threshold is configurable
    assert local_coupling(f, min_delta=0.2).intervals[0].gamma == pytest.approx(-1.0 / 0.3)


def test_negative_step_flagged_with_comovement_sign():
    f = fam([("a", 1e9, 60.0, 40.0), ("b", 2e9, 55.0, 36.0), ("c", 4e9, 62.0, 38.0)])
    fc = local_coupling(f)
    iv = fc.intervals[0]
    assert "negative_step" in iv.flags
    assert iv.gamma == pytest.approx(0.8) and iv.comove == 1  # both fall: gamma > 0, co-movement +
    assert fc.intervals[1].flags == () and fc.intervals[1].comove == 1
    assert any("falls with size" in m for m in fc.messages)


def test_equal_sizes_are_skipped():
    f = fam([("a", 4e9, 83.5, 52.1), ("b", 4e9, 84.2, 48.3), ("c", 8e9, 86.0, 50.0)])
    fc = local_coupling(f)
    assert fc.intervals[0].status == "equal_n" and fc.intervals[0].gamma is None
    assert fc.intervals[1].status == "ok"


def test_gamma_steps_vectorised_matches_rowwise():
    rng = np.random.default_rng(1)
    x = np.log10([1e8, 3e8, 1e9, 3e9])
    s1 = rng.uniform(20, 80, (50, 4))
    s2 = rng.uniform(20, 60, (50, 4))
    g, mid, d1, d2 = gamma_steps(x, s1, s2)
    for i in (0, 7, 49):
        gi, _, _, _ = gamma_steps(x, s1[i], s2[i])
        assert np.allclose(g[i], gi, equal_nan=True)
    assert np.all(np.isnan(g[np.abs(d1) <= 0.5]))
    assert np.allclose(mid, (x[:-1] + x[1:]) / 2)


def test_phase_schemes_and_custom_thresholds():
    assert phase_label(-0.05) == "transition" and phase_label(-0.11) == "tax" and phase_label(0.2) == "bonus"
    assert phase_label(0.1) == "transition"  # |gamma| <= 0.1 is transition
    assert PHASE_SCHEMES["sign"].label(-0.05) == "tax"
    assert PHASE_SCHEMES["quickstart"].label(-0.2) == "transition"
    assert phase_label(-0.2, (-0.3, 0.3)) == "transition"
    assert phase_label(None) is None and phase_label(float("nan")) is None
    with pytest.raises(DataError):
        PhaseScheme("bad", 0.5, -0.5)
    with pytest.raises(DataError):
        phase_label(0.0, "nope")


def test_population_r_reproduces_pythia_and_scipy(p8):
    pc = population_coupling(p8, n_boot=4000, n_perm=4000, seed=3)
    assert pc.r == pytest.approx(-0.9886, abs=5e-5)
    d = data.fixture("pythia8")
    r, p = stats.pearsonr(d["HellaSwag"], d["TruthfulQA"])
    assert pc.r == pytest.approx(r, abs=1e-12)
    assert pc.p == pytest.approx(p, rel=1e-6) and pc.p == pytest.approx(3.65e-6, rel=0.01)
    assert pc.ci_low < pc.r < pc.ci_high <= -0.9
    # n = 8: all 40,320 orderings enumerated; only the identity and its mirror reach |r| = 0.9886
    assert pc.p_perm == pytest.approx(2 / 40320) and pc.p_perm_method == "exact" and pc.n_permutations == 40320
    again = population_coupling(p8, n_boot=4000, n_perm=4000, seed=3)
    assert again == pc  # seeded


def test_pearson_pvalue_matches_scipy():
    rng = np.random.default_rng(0)
    for n in (3, 4, 8, 25, 200):
        x, y = rng.standard_normal(n), rng.standard_normal(n)
        r, p = stats.pearsonr(x, y)
        assert pearson_pvalue(r, n) == pytest.approx(p, rel=1e-7, abs=1e-300)
    assert pearson_pvalue(1.0, 5) == 0.0 and pearson_pvalue(0.5, 2) is None


def test_population_r_degenerate_inputs_have_status_not_nan():
    c = population_r([1, 2, 3, 4], [5, 5, 5, 5], b1="HS", b2="TQA")
    assert c.status == "constant" and c.r is None and "constant" in c.message
    few = population_r([1, 2], [3, 4])
    assert few.status == "insufficient" and few.r is None
    three = population_r([1, 2, 3.5], [3, 1, 2], n_boot=200, n_perm=200)
    assert three.status == "few_models" and three.r is not None
    nan = population_r([1, 2, np.nan, 4, 5], [2, 1, 3, 5, 4], n_boot=0, n_perm=0)
    assert nan.n == 4


def test_pearson_rows_and_percentile_ci():
    x = np.array([[1.0, 2, 3], [1, 1, 1]])
    y = np.array([[2.0, 4, 7], [1, 2, 3]])
    r = pearson_rows(x, y)
    assert r[0] == pytest.approx(np.corrcoef(x[0], y[0])[0, 1]) and np.isnan(r[1])
    lo, hi = percentile_ci(np.r_[np.arange(100.0), np.inf * np.ones(10)], 0.95)
    assert hi == np.inf and 0 < lo < 5
    assert percentile_ci(np.arange(101.0), 0.9) == pytest.approx((5.0, 95.0))


def test_coupling_matrix_pythia(p8):
    cm = coupling_matrix(p8, ["HellaSwag", "TruthfulQA", "ARC-Challenge"])
    hs_tqa = np.median(local_coupling(p8).gammas())
    assert cm.gamma[0][1] == pytest.approx(hs_tqa)
    assert cm.gamma[0][0] == 1.0 and cm.n_steps[0][1] == 7
    assert ("HellaSwag", "TruthfulQA") in cm.competing and ("HellaSwag", "ARC-Challenge") in cm.cooperating
    assert cm.frac_positive[0][2] == 1.0  # gamma(HS, ARC) positive at all 7 steps
    mean = coupling_matrix(p8, ["HellaSwag", "TruthfulQA"], agg="mean")
    assert mean.gamma[0][1] == pytest.approx(np.mean(local_coupling(p8).gammas()))
    assert len(cm.corr_eigenvalues) == 3 and min(cm.corr_eigenvalues) > -1e-12
    assert cm.to_frame().shape == (3, 3)


def test_coupling_matrix_never_mixes_families():
    a = fam([("a1", 1e8, 30, 40), ("a2", 1e9, 40, 38)], "A")
    b = fam([("b1", 1e9, 70, 60), ("b2", 1e10, 80, 70)], "B")
    both = pd.concat([a, b]).set_index("model")
    cm = coupling_matrix(both, ["HellaSwag", "TruthfulQA"])
    assert cm.n_steps[0][1] == 2  # a1->a2 and b1->b2, never a2->b1
    assert cm.gamma[0][1] == pytest.approx(np.median([(38 - 40) / 10, (70 - 60) / 10]))


def test_pair_resolution_and_errors(p8):
    assert resolve_pair("HS:TQA") == ("HellaSwag", "TruthfulQA")
    assert resolve_pair(("arc", "tqa")) == ("ARC-Challenge", "TruthfulQA")
    with pytest.raises(DataError):
        resolve_pair("HS")
    with pytest.raises(DataError):
        resolve_pair("HS:HS")
    with pytest.raises(DataError):
        local_coupling(p8, "HS:GPQA")  # not in the table
    with pytest.raises(AnalysisError):
        local_coupling(fam([("a", 1e9, 50, 40)]))


def test_missing_scores_drop_the_model_with_a_message():
    f = fam([("a", 1e8, 30, 45), ("b", 2e8, np.nan, 44), ("c", 4e8, 40, 41), ("d", np.nan, 50, 40)])
    fc = local_coupling(f)
    assert fc.models == ("a", "c") and set(fc.dropped) == {"b", "d"}
    assert any("b left out" in m for m in fc.messages)


def test_running_law_fixed_point_isocline_redistribution(p8):
    law = running_law(data.load_base())
    assert law.n >= 30 and law.A is not None and 0 <= law.r2 <= 1
    fp = flow_fixed_point([125e6, 1.3e9, 6.7e9, 13e9], [0.514, 0.645, 0.741, 0.876])
    assert fp.fixed_point == pytest.approx(0.530, abs=5e-4) and fp.a == pytest.approx(1.49, abs=0.005)
    assert not fp.stable
    # a/b from OLMo's figure values: the curve passes through OLMo's TQA at OLMo's mean HS
    ab = 0.36 ** 2 / ((0.625 + 0.764) / 2)
    assert ab == pytest.approx(0.1866, abs=5e-5)
    assert isocline_phase(0.6945, 0.36, a_over_b=ab, boundary=0.001) == "transition"
    assert isocline_phase(50, 45) == "bonus" and isocline_phase(50, 45, direction="reversed") == "tax"
    rd = redistribution(p8)
    assert rd.mean == pytest.approx(45.8, abs=0.05) and rd.cv == pytest.approx(0.395, abs=0.001)
