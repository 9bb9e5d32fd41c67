"""Small-sample statistics: Fisher-z intervals of r, exact permutation p, per-family seeds, tied sizes."""

import math

import numpy as np
import pandas as pd
import pytest

from cape import data
from cape.coupling import (
    family_seed,
    fisher_ci,
    local_coupling,
    permutation_p,
    population_r,
)
from cape.critical import critical_scale
from cape.diagnose import diagnose


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_fisher_interval_covers_rho_for_three_to_eight_models(n):
    rng = np.random.default_rng(n)
    for rho in (0.0, 0.6, -0.95):
        z = rng.standard_normal((4000, n, 2))
        x = z[..., 0]
        y = rho * x + math.sqrt(1 - rho ** 2) * z[..., 1]
        xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
        r = (xc * yc).sum(1) / np.sqrt((xc ** 2).sum(1) * (yc ** 2).sum(1))
        hit = np.mean([lo <= rho <= hi for lo, hi in (fisher_ci(float(v), n) for v in r)])
        assert 0.93 <= hit <= (1.0 if n == 3 else 0.975), (n, rho, hit)


def test_fisher_interval_numbers_and_the_degenerate_bootstrap_it_replaces():
    lo, hi = fisher_ci(0.5, 12)
    # atanh(0.5) = 0.549306; 1.959964 / 3 = 0.653321
    assert lo == pytest.approx(math.tanh(0.549306 - 0.653321), abs=1e-5)
    assert hi == pytest.approx(math.tanh(0.549306 + 0.653321), abs=1e-5)
    assert fisher_ci(0.99, 3) == (-1.0, 1.0)
    three = population_r([1, 2, 3.5], [3, 1, 2.2], n_boot=2000, seed=0)
    assert (three.ci_low, three.ci_high) == (-1.0, 1.0) and "three points cannot bound it" in three.message


def test_exact_permutation_p_by_enumeration_and_monte_carlo_above():
    x = np.arange(4.0)
    y = np.array([1.0, 2, 4, 3])
    r = float(np.corrcoef(x, y)[0, 1])  # 0.8; |r*| >= 0.8 for 8 of 24 orderings: r* = 1, three adjacent swaps, mirrors
    p, how, k = permutation_p(x, y, r, n_perm=0, rng=np.random.default_rng(0))
    assert (how, k) == ("exact", 24) and p == pytest.approx(8 / 24)
    rng = np.random.default_rng(1)
    x9, y9 = rng.standard_normal(9), rng.standard_normal(9)
    r9 = float(np.corrcoef(x9, y9)[0, 1])
    p9, how9, k9 = permutation_p(x9, y9, r9, n_perm=5000, rng=np.random.default_rng(2))
    assert how9 == "monte carlo" and k9 == 5000 and 0 < p9 <= 1
    pc = population_r(x9, y9, n_perm=5000)
    assert pc.p_perm_method == "monte carlo" and abs(pc.p_perm - pc.p) < 0.05  # t test and permutation agree


def test_family_seed_is_the_same_in_diagnose_alone_and_critical_scale():
    base = data.load_base()
    every = diagnose(base, n_boot=300, seed=5, width=False).family("Falcon")
    alone = diagnose(base, families=["Falcon"], n_boot=300, seed=5, width=False).family("Falcon")
    direct = critical_scale(base, family="Falcon", n_boot=300, seed=5)
    assert every.nc.to_dict() == alone.nc.to_dict()
    assert (direct.ci_low, direct.ci_high, direct.estimate) == (every.nc.ci_low, every.nc.ci_high,
                                                               every.nc.estimate)
    assert every.r.ci_boot == alone.r.ci_boot
    assert family_seed(5, "Falcon") == every.nc.seed != family_seed(5, "Pythia")


def test_tied_sizes_follow_one_rule_whatever_the_row_order():
    rows = [("A-1", 1e9, 40.0, 45.0), ("A-2a", 2e9, 50.0, 41.0), ("A-2b", 2e9, 48.0, 44.0), ("A-4", 4e9, 60.0, 40.0),
            ("A-8", 8e9, 70.0, 43.0)]
    frame = pd.DataFrame(rows, columns=["model", "params", "HellaSwag", "TruthfulQA"]).assign(family="A")
    swapped = frame.iloc[[0, 2, 1, 3, 4]]
    a = local_coupling(frame, family="A")
    b = local_coupling(swapped, family="A")
    assert [iv.to_dict() for iv in a.intervals] == [iv.to_dict() for iv in b.intervals]
    assert [(iv.lower, iv.upper) for iv in a.intervals][:3] == [("A-1", "A-2a"), ("A-2a", "A-2b"), ("A-2b", "A-4")]
    assert critical_scale(frame, family="A", n_boot=200).to_dict() == \
        critical_scale(swapped, family="A", n_boot=200).to_dict()
