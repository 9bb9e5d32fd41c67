"""N_c estimators (cape.critical): the paper's exact procedure, the within-family crossing, pooled offsets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cape import data
from cape.critical import (ESTIMATORS, PaperQuadraticVertex, balanced_split, critical_scale, crossing_values,
                           law_fit, pooled_data, pooled_gamma_line)
from cape.errors import DataError


@pytest.fixture(scope="module")
def b14():
    return data.fixture_table("boot14")


@pytest.fixture(scope="module")
def paper(b14):
    return critical_scale(b14, method="paper")


def frame(x, hs, tqa, family="F"):
    return pd.DataFrame({"model": [f"{family}-{i}" for i in range(len(x))], "family": family,
                         "params": 10 ** np.asarray(x, float), "HellaSwag": hs, "TruthfulQA": tqa})


# ---------------------------------------------------------------------------------------------- paper method
def test_paper_method_reproduces_headline_exactly(paper):
    assert round(paper.estimate / 1e9, 3) == 3.494
    assert round(paper.ci_low / 1e9, 3) == 2.916
    assert round(paper.ci_high / 1e9, 3) == 13.404
    assert paper.n_valid == 9953 and paper.n_boot == 10_000
    d = paper.details
    assert [round(v / 1e9, 3) for v in d["ci68"]] == [3.148, 4.326]
    assert round(d["mean"] / 1e9, 2) == 5.88
    # full-data quadratic (the "universal web-trained TQA curve")
    assert d["a"] == pytest.approx(4.53164617, abs=1e-7) and d["b"] == pytest.approx(-86.42060681, abs=1e-7)
    assert d["point_vertex"] / 1e9 == pytest.approx(3.43, abs=0.005)
    assert d["point_vertex_tqa"] == pytest.approx(35.75, abs=0.005)


def test_vectorised_legacy_stream_equals_the_per_resample_loop(b14):
    est = PaperQuadraticVertex()
    pdata = pooled_data(b14, min_models=1, order="input")
    xs, a = est.replicate_vertices(pdata.logn, pdata.y, 1500)
    xl, al = est.replicate_vertices_loop(pdata.logn, pdata.y, 1500)
    assert np.allclose(xs, xl, rtol=0, atol=1e-8) and np.allclose(a, al, atol=1e-8)


def test_paper_result_depends_on_row_order_as_the_script_does(b14):
    df = data.fixture("boot14")
    swapped = pd.concat([df[df.family == "Llama-2"], df[df.family != "Llama-2"]])
    from cape.scores import ScoreTable

    r = critical_scale(ScoreTable.from_wide(swapped), method="paper")
    assert r.n_valid != 9953  # another row order is another resample stream


def test_pooled_gamma_line_reproduces_secondary_estimator(b14):
    line = pooled_gamma_line(b14)
    assert line.slope == pytest.approx(0.7426, abs=5e-5) and line.intercept == pytest.approx(-7.1848, abs=5e-5)
    assert line.nc / 1e9 == pytest.approx(4.73, abs=0.005) and line.n_steps == 12


# ---------------------------------------------------------------------------------------------- within family
def test_noise_free_u_shape_gives_observed_nc_near_truth():
    x = np.linspace(8.0, 10.4, 8)
    hs = 25 + 15 * (x - 8)
    tqa = 35 + 4.0 * (x - 9.3) ** 2
    f = frame(x, hs, tqa)
    r = critical_scale(f, method="crossing", noise="stated", n_boot=2000, seed=1)
    assert r.status == "observed" and r.bracket is not None
    assert abs(math.log10(r.estimate) - 9.3) < 0.15
    assert r.ci_low < 10 ** 9.3 < r.ci_high
    assert r.size_range == (pytest.approx(1e8), pytest.approx(10 ** 10.4))


def test_monotone_families_report_none_with_direction():
    x = np.linspace(8.0, 10.2, 7)
    hs = 25 + 15 * (x - 8)
    down = critical_scale(frame(x, hs, 48 - 6 * (x - 8)), method="crossing", noise="stated", n_boot=1000, seed=0)
    assert down.status == "none" and down.direction == "above" and down.estimate is None
    assert down.ci_high_unbounded and down.ci_high is None and down.ci_low is not None
    up = critical_scale(frame(x, hs, 30 + 6 * (x - 8)), method="crossing", noise="stated", n_boot=1000, seed=0)
    assert up.status == "none" and up.direction == "below" and up.ci_low_unbounded


def test_extrapolated_when_the_law_puts_the_zero_beyond_the_range():
    x = np.linspace(8.0, 9.6, 7)  # vertex at 10.0: gamma negative everywhere, rising linearly toward zero
    hs = 25 + 15 * (x - 8)
    tqa = 35 + 10.0 * (x - 10.0) ** 2
    precise = frame(x, hs, tqa).assign(**{"se:HellaSwag": 0.1, "se:TruthfulQA": 0.2})
    r = critical_scale(precise, method="crossing", noise="stated", n_boot=2000, seed=0)
    assert r.status == "extrapolated"
    assert 9.6 < math.log10(r.estimate) < 10.6
    assert r.details["gamma_law_g0"] > 0
    # with realistic binomial noise the same family cannot exclude "no flip": none, open above
    noisy = critical_scale(frame(x, hs, tqa), method="crossing", noise="stated", n_boot=2000, seed=0)
    assert noisy.status == "none" and noisy.ci_high_unbounded and "extrapolates" in noisy.message


def test_too_little_data_gives_insufficient_with_message():
    r = critical_scale(frame([8, 9], [30, 40], [45, 44]), method="crossing", noise="stated", n_boot=100)
    assert r.status == "insufficient" and "at least 3" in r.message and r.estimate is None
    c = critical_scale(frame([8, 9, 10], [30, 40, 50], [40, 40, 40]), method="crossing", noise="stated", n_boot=100)
    assert c.status == "insufficient" and "constant" in c.message
    s = critical_scale(frame([8, 9, 10], [30, 30.2, 30.4], [40, 41, 42]), method="crossing", noise="stated", n_boot=100)
    assert s.status == "insufficient" and "usable step" in s.message


def test_seeded_and_deterministic():
    x = np.linspace(8.0, 10.4, 6)
    f = frame(x, 25 + 15 * (x - 8), 35 + 4.0 * (x - 9.4) ** 2 + np.array([0.5, -0.4, 0.3, 0.0, -0.6, 0.2]))
    a = critical_scale(f, method="crossing", noise="stated", n_boot=3000, seed=11)
    b = critical_scale(f, method="crossing", noise="stated", n_boot=3000, seed=11)
    c = critical_scale(f, method="crossing", noise="stated", n_boot=3000, seed=12)
    assert a == b and (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_bootstrap_schemes_and_bad_options():
    x = np.linspace(8.0, 10.4, 8)
    f = frame(x, 25 + 15 * (x - 8), 35 + 4.0 * (x - 9.3) ** 2)
    for scheme in ("noise", "intervals", "both"):
        r = critical_scale(f, method="crossing", noise="stated", n_boot=1000, seed=0, bootstrap=scheme)
        assert r.bootstrap == scheme and r.status in ("observed", "none", "extrapolated")
    with pytest.raises(DataError):
        critical_scale(f, method="crossing", bootstrap="models")
    with pytest.raises(DataError):
        critical_scale(f, method="magic")
    assert set(ESTIMATORS) == {"fit", "crossing", "pooled", "paper"}


def test_stderr_in_the_table_is_used():
    x = np.linspace(8.0, 10.4, 6)
    f = frame(x, 25 + 15 * (x - 8), 35 + 4.0 * (x - 9.3) ** 2)
    tight = critical_scale(f.assign(**{"se:HellaSwag": 0.01, "se:TruthfulQA": 0.01}), method="crossing", noise="stated", n_boot=1000, seed=0)
    loose = critical_scale(f.assign(**{"se:HellaSwag": 0.5, "se:TruthfulQA": 3.0}), method="crossing", noise="stated", n_boot=1000, seed=0)
    w = lambda r: (math.log10(r.ci_high) - math.log10(r.ci_low)) if (r.ci_high and r.ci_low) else math.inf  # noqa
    assert w(tight) < w(loose)


def test_balanced_split_ignores_a_lone_noisy_sign_change():
    mid = np.array([8.0, 8.5, 9.0, 9.5, 10.0, 10.5])
    g = np.array([[-0.5, -0.4, -0.3, 0.3, 0.4, -0.05]])  # last step slightly negative: noise, not a flip back
    w = np.ones_like(g) * 10
    x, kind, j, k = balanced_split(mid, g, w)
    assert kind[0] == 0 and 9.0 < x[0] < 9.5
    xc, g0, n = law_fit(mid, g, w)
    assert n[0] == 6 and g0[0] > 0


def test_crossing_values_maps_no_flip_to_infinities():
    x = np.log10([1e8, 1e9, 1e10, 1e11])
    s1 = np.array([[30, 40, 50, 60.0], [30, 40, 50, 60.0]])
    s2 = np.array([[45, 44, 43, 42.0], [40, 41, 42, 43.0]])
    v, kind = crossing_values(x, s1, s2, np.full(4, 1.0))
    assert v[0] == np.inf and v[1] == -np.inf and list(kind) == [3, 4]


# ---------------------------------------------------------------------------------------------- pooled
def test_pooled_offsets_recover_a_shared_vertex_across_offset_families():
    rng = np.random.default_rng(0)
    parts = []
    for i, (lo, off) in enumerate([(7.9, 0.0), (8.5, 6.0), (9.2, -4.0)]):
        x = np.linspace(lo, lo + 1.6, 5)
        hs = 25 + 15 * (x - 7.5)
        tqa = 35 + off + 4.0 * (x - 9.5) ** 2 + rng.normal(0, 0.3, x.size)
        parts.append(frame(x, hs, tqa, family=f"F{i}"))
    df = pd.concat(parts)
    r = critical_scale(df, method="pooled", n_boot=2000, seed=0)
    assert r.status == "observed" and abs(math.log10(r.estimate) - 9.5) < 0.1
    assert r.ci_low < 10 ** 9.5 < r.ci_high
    assert r.details["families"] == ["F0", "F1", "F2"]
    p = critical_scale(df, method="pooled", n_boot=0)
    assert p.estimate == pytest.approx(r.estimate) and p.ci_low is None
    # the paper's pooled quadratic ignores the offsets and lands elsewhere
    naive = critical_scale(df, method="paper", n_boot=500)
    assert abs(math.log10(naive.details["point_vertex"]) - 9.5) > abs(math.log10(r.estimate) - 9.5)


def test_pooled_needs_enough_models():
    r = critical_scale(frame([8, 9], [30, 40], [45, 44]), method="pooled", n_boot=10)
    assert r.status == "insufficient"


def test_embedded_pythia_has_no_within_family_flip():
    # within Pythia gamma never turns positive; the 3.5B is a pooled artefact
    r = critical_scale(data.load_base(), family="Pythia", n_boot=3000, seed=0)
    assert r.status == "none" and r.direction == "above"
    assert r.ci_low == 12e9 and r.ci_high_unbounded  # the slope is significantly negative at 12B (z = -2.3)
    assert r.details["slope_z_largest"] == pytest.approx(-2.3, abs=0.05)
    assert r.details["sign_split"]["status"] == "none"  # the robustness check agrees


def test_summary_text(paper):
    assert paper.summary().startswith("3.49B [2.92B, 13.4B]")
    d = paper.to_dict()
    assert {"estimate", "ci_low", "ci_high", "status"} <= set(d)
