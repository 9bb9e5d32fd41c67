"""Every N_c message type, produced and checked against the numbers it summarises."""

import math

import numpy as np
import pandas as pd
import pytest

from cape._format import fmt_params
from cape.coupling import score_frame
from cape.critical import critical_scale
from cape.diagnose import step_reversals
from cape.noise import noise_from_groups
from cape.population import population_nc

X = np.linspace(8.0, 10.4, 8)
HS = 25 + 15 * (X - 8)


def frame(x, hs, tqa, family="F", se=(0.3, 0.5)):
    d = pd.DataFrame({"model": [f"{family}-{i}" for i in range(len(x))], "family": family,
                      "params": np.round(10 ** np.asarray(x, float), -3), "HellaSwag": hs, "TruthfulQA": tqa})
    d["se:HellaSwag"], d["se:TruthfulQA"] = se
    return d


def check_common(r):
    d = r.details
    zl, zh = d["slope_z_smallest"], d["slope_z_largest"]
    assert f"slope z = {zl:+.1f} at {fmt_params(r.size_range[0])}" in r.message
    assert f"{zh:+.1f} at {fmt_params(r.size_range[1])}" in r.message
    return zl, zh, d["critical_value"]


def test_observed_message():
    r = critical_scale(frame(X, HS, 35 + 4.0 * (X - 9.3) ** 2), n_boot=0, noise="stated")
    zl, zh, q = check_common(r)
    assert r.status == "observed" and zl < -q and zh > q  # "falls then rises" is what the z values say
    assert f"tax to bonus at {fmt_params(r.estimate)} (95% CI [{fmt_params(r.ci_low)}, {fmt_params(r.ci_high)}])" \
        in r.message and "inside the measured range" in r.message
    assert r.size_range[0] <= r.estimate <= r.size_range[1]


def test_reversal_message():
    r = critical_scale(frame(X, HS, 45 - 4.0 * (X - 9.3) ** 2), n_boot=0, noise="stated")
    zl, zh, q = check_common(r)
    assert r.status == "reversal" and zl > q and zh < -q and "rises then falls" in r.message
    assert f"bonus to tax at {fmt_params(r.estimate)}" in r.message


def test_extrapolated_message():
    xe = np.linspace(8.0, 9.6, 7)
    r = critical_scale(frame(xe, 25 + 15 * (xe - 8), 35 + 10.0 * (xe - 9.9) ** 2, se=(0.1, 0.1)), n_boot=0,
                       noise="stated")
    zl, zh, q = check_common(r)
    assert r.status == "extrapolated" and not (zl < -q and zh > q)  # no significant sign change inside
    d = math.log10(r.estimate) - math.log10(r.size_range[1])
    assert f"bottoms out at {fmt_params(r.estimate)}" in r.message and f"{d:.2g} decades above" in r.message


@pytest.mark.parametrize("tqa,word,sign", [(48 - 6 * (X - 8), "significantly negative (tax)", -1),
                                            (30 + 6 * (X - 8), "significantly positive (bonus)", 1)])
def test_none_monotone_messages(tqa, word, sign):
    r = critical_scale(frame(X, HS, tqa), n_boot=0, noise="stated")
    zl, zh, q = check_common(r)
    assert r.status == "none" and word in r.message
    assert sign * zl > q and sign * zh > q
    bound = r.ci_low if sign < 0 else r.ci_high
    assert f"lies {'above' if sign < 0 else 'below'} {fmt_params(bound)}" in r.message


def test_none_undecided_message():
    r = critical_scale(frame(X, HS, 40 + np.array([0.5, -0.5, 0.2, 0, -0.3, 0.4, -0.1, 0.1])), n_boot=0,
                       noise="stated")
    zl, zh, q = check_common(r)
    assert r.status == "none" and not (abs(zl) > q and abs(zh) > q and zl * zh < 0)
    assert f"critical |z| = {q:.2f}" in r.message and "cannot place a flip" in r.message


def test_insufficient_and_hs_flat_messages():
    r = critical_scale(frame(X[:3], HS[:3], [40, 38, 41]), n_boot=0)
    assert r.status == "insufficient" and "3 distinct size(s)" in r.message
    flat = critical_scale(frame(X, np.full(8, 30.0) + np.array([0.1, -0.1] * 4), 35 + 4.0 * (X - 9.3) ** 2),
                          n_boot=0, noise="stated")
    hz = flat.details["HellaSwag_rise_z"]
    assert flat.status == "none" and f"slope z = {hz:+.1f}" in flat.message and abs(hz) < 2


def test_sign_split_never_says_every_step_when_one_differs():
    tqa = 45 - 2.0 * (X - 8) + np.array([0, 0, 0, 0, 0, 1.2, 0, 0])  # one small positive step
    r = critical_scale(frame(X, HS, tqa), method="crossing", n_boot=500, noise="stated")
    g = np.diff(tqa) / np.diff(HS)
    if "every measured step" in r.message:
        assert np.all(g <= 0)
    else:
        assert f"the {int(np.sum(g > 0))} step(s) of the other sign out of {g.size}" in r.message


def test_step_reversal_message_numbers():
    f = score_frame(frame(X[:5], HS[:5], [40.0, 42.0, 44.5, 37.0, 38.0], se=(0.3, 1.0)), ("HellaSwag", "TruthfulQA"))
    msgs = step_reversals(f, "HellaSwag", "TruthfulQA")
    assert len(msgs) == 1
    d2, d1 = 37.0 - 44.5, HS[3] - HS[2]
    z = d2 / math.sqrt(2.0)
    assert f"TruthfulQA {d2:+.1f} pp while HellaSwag {d1:+.1f} pp (gamma {d2 / d1:+.2f}, z = {z:+.1f})" in msgs[0]
    assert "F-2 -> F-3" in msgs[0] and f"after gamma {2.5 / (HS[2] - HS[1]):+.2f} at F-1 -> F-2" in msgs[0]


def test_noise_and_population_messages_carry_their_numbers():
    rng = np.random.default_rng(0)
    groups = [(np.sort(rng.uniform(8, 10.5, 7)), None, np.full(7, 1.0)) for _ in range(20)]
    groups = [(x, 40 + 3 * (x - 9.2) ** 2 + rng.normal(0, 2.5, 7), se) for x, _, se in groups]
    e = noise_from_groups("TruthfulQA", groups)
    assert f"chi-square {e.chi2:.1f} on {e.df} df, p = {e.p:.2g}" in e.message
    assert f"{math.sqrt(e.dispersion):.2g}x more" in e.message and f"{e.extra_sd:.2g} pp" in e.message
    parts = [frame(X, HS, 35 + 6.0 * (X - xc) ** 2 + rng.normal(0, 0.5, 8), family=f"F{i}")
             for i, xc in enumerate([9.0, 9.4, 9.8])]
    pop = population_nc(pd.concat(parts, ignore_index=True), noise="stated")
    assert pop.status == "estimated"
    assert f"Q = {pop.q:.1f} on {pop.q_df} df, p = {pop.q_p:.2g}" in pop.message
    assert f"{fmt_params(pop.typical)} [{fmt_params(pop.typical_ci[0])}, {fmt_params(pop.typical_ci[1])}]" \
        in pop.message
    assert f"{pop.spread:.2g} decades [{pop.spread_ci[0]:.2g}, {pop.spread_ci[1]:.2g}]" in pop.message
    assert ("not rejected" in pop.message) == (pop.q_p >= 0.05)


def test_critical_scale_warns_when_data_are_noisier_than_stated():
    rng = np.random.default_rng(5)
    parts = [frame(X, HS + rng.normal(0, 0.3, 8), 35 + 4.0 * (X - 9.3) ** 2 + rng.normal(0, 3.0, 8), family=f"F{i}",
                   se=(0.3, 1.0)) for i in range(6)]
    r = critical_scale(pd.concat(parts, ignore_index=True), family="F0", n_boot=0)
    tqa = [e for e in r.details["noise"] if e["benchmark"] == "TruthfulQA"][0]
    assert tqa["noisier_than_stated"] and tqa["extra_sd"] > 1.5
    assert "; warning: TruthfulQA scores scatter" in r.message and f"{tqa['extra_sd']:.2g} pp" in r.message
    quiet = critical_scale(pd.concat(parts, ignore_index=True), family="F0", n_boot=0, noise="stated")
    assert "warning" not in quiet.message and "noise" not in quiet.details
