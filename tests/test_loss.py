"""Loss power law, loss collapse, gradient laws (cape.loss)."""

from __future__ import annotations

import numpy as np
import pytest

from cape import data
from cape.loss import gradient_laws, loss_blindness, loss_power_law


@pytest.fixture(scope="module")
def fit():
    p8 = data.fixture("pythia8")
    return loss_power_law(p8["params"], p8["val_loss"])


def test_pythia_loss_fit_reproduces(fit):
    assert fit.status == "ok" and fit.n == 8
    assert round(fit.E, 3) == 1.533 and round(fit.A, 1) == 153.6 and round(fit.alpha, 3) == 0.238
    assert round(fit.alpha_se, 3) == 0.015
    assert round(fit.r2, 4) == 0.9994
    assert fit.alpha_ci[0] < fit.alpha < fit.alpha_ci[1]


def test_loss_collapse_cv(fit):
    assert round(100 * fit.collapse_cv, 1) == 0.8  # published "CV = 0.8%"
    assert round(fit.collapse_mean) == 154
    assert fit.collapse_cv_ddof1 > fit.collapse_cv
    v = np.array(fit.collapse)
    assert v.std() / v.mean() == pytest.approx(fit.collapse_cv)
    # with the published rounded parameters the collapse is 154.39 +- 1.30, CV 0.84%
    p8 = data.fixture("pythia8")
    vr = p8["params"].to_numpy(float) ** 0.238 * (p8["val_loss"].to_numpy(float) - 1.533)
    assert round(vr.mean(), 2) == 154.39 and round(100 * vr.std() / vr.mean(), 2) == 0.84


def test_loss_is_blind_to_the_flip(fit):
    # no model deviates from the power law by more than 1%: nothing marks the coupling flip in the loss
    assert max(abs(r) for r in fit.residual_pct) < 1.0
    assert loss_blindness().r2 == fit.r2


def test_too_few_or_constant():
    assert loss_power_law([1e8, 1e9, 1e10], [3.0, 2.5, 2.2]).status == "insufficient"
    c = loss_power_law([1e8, 1e9, 1e10, 1e11], [2.0, 2.0, 2.0, 2.0])
    assert c.status == "insufficient" and c.r2 is None


def test_gradient_laws_grad6():
    g6 = data.fixture("grad6")
    g = gradient_laws(g6["params"], g6["grad_norm"], g6["loss"], g6["model"])
    assert round(g.beta, 3) == 0.401 and round(g.beta_se, 3) == 0.085 and round(g.r_n, 3) == -0.921
    assert round(g.loss_slope, 3) == 3.448 and round(g.r_loss, 3) == 0.934
    dip = g.residual_pct[list(g.models).index("Pythia-1B")]
    assert round(dip, 1) == -36.8
    assert gradient_laws([1e8, 1e9], [10, 5], [3, 2]).status == "insufficient"
