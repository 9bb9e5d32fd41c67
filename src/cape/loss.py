"""Loss power law, the loss-blindness check and gradient-norm laws (docs/methods.md, "Loss power law").

Loss-blindness: the validation loss of a family follows one smooth power law through the scale where the
benchmark coupling flips, so loss alone cannot see the transition. :func:`loss_power_law` fits

    L(N) = E + A N^(-alpha)

by nonlinear least squares (``scipy.optimize.curve_fit``, start ``p0 = (1.5, 150, 0.24)``, N in raw
parameters) and reports R^2, the parameter standard errors (from the fit covariance; CIs are
``estimate +- t_{0.975, n-3} SE``), the MAPE, and the *collapse* ``v_k = N_k^alpha (L_k - E)``: if the power law
holds, v is constant; its coefficient of variation (std/mean, ddof 0 as in the paper) measures how well.

:func:`gradient_laws` fits the gradient-norm exponent ``beta`` (``log10 |grad L|`` vs ``log10 N``), the
gradient-loss law (``log |grad L|`` vs ``log L``) and each model's residual from the power law (the
"dip at 1B").

Example:
    >>> from cape import data
    >>> p8 = data.fixture("pythia8")
    >>> fit = loss_power_law(p8["params"], p8["val_loss"])
    >>> round(fit.r2, 4), round(fit.alpha, 3), round(100 * fit.collapse_cv, 2)
    (0.9994, 0.238, 0.85)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._format import finite_or_none as _f
from ._runcache import once_per_run
from ._validate import check_same_length
from .errors import AnalysisError


@dataclass(frozen=True)
class LossFit:
    """Fit of ``L(N) = E + A N^-alpha`` and the collapse of ``N^alpha (L - E)``.

    Attributes:
        E, A, alpha: parameters (L in nats, N raw); ``*_se`` their standard errors; ``*_ci`` 95% CIs.
        r2: coefficient of determination; mape: mean absolute percentage error of the fit (%).
        collapse: ``N_k^alpha (L_k - E)`` per model; collapse_mean; collapse_cv (ddof 0) and
            collapse_cv_ddof1.
        residual_pct: per-model ``(L - fit)/fit`` in percent (where loss would show a transition, if it did).
        status: ``ok`` / ``insufficient`` / ``failed``.
    """

    n: int
    E: float | None
    A: float | None
    alpha: float | None
    E_se: float | None
    A_se: float | None
    alpha_se: float | None
    alpha_ci: tuple[float | None, float | None]
    r2: float | None
    mape: float | None
    collapse: tuple[float, ...]
    collapse_mean: float | None
    collapse_cv: float | None
    collapse_cv_ddof1: float | None
    residual_pct: tuple[float, ...]
    status: str
    message: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["alpha_ci"] = list(self.alpha_ci)
        return d


def _power(n, E, A, alpha):
    return E + A * np.power(n, -alpha)


@once_per_run
def loss_power_law(params: Sequence[float], loss: Sequence[float], *,
                   p0: tuple[float, float, float] = (1.5, 150.0, 0.24)) -> LossFit:
    """Fit ``L(N) = E + A N^-alpha`` and the loss collapse.

    Args:
        params: raw parameter counts.
        loss: validation losses (nats).
        p0: starting values ``(E, A, alpha)`` (the paper's).

    Returns:
        :class:`LossFit` (status ``insufficient`` with fewer than 4 models: 3 parameters need a residual).
    """
    check_same_length(params, loss, "params", "loss")
    from scipy import optimize, stats

    N = np.asarray(params, dtype=float)
    L = np.asarray(loss, dtype=float)
    ok = np.isfinite(N) & np.isfinite(L) & (N > 0)
    N, L = N[ok], L[ok]
    n = int(N.size)
    empty: dict[str, Any] = dict(E=None, A=None, alpha=None, E_se=None, A_se=None, alpha_se=None, alpha_ci=(None, None), r2=None,
                 mape=None, collapse=(), collapse_mean=None, collapse_cv=None, collapse_cv_ddof1=None,
                 residual_pct=())
    if n < 4:
        return LossFit(n=n, **empty, status="insufficient",
                       message=f"{n} model(s) with a loss; the 3-parameter power law needs at least 4")
    if np.ptp(L) == 0:
        return LossFit(n=n, **empty, status="insufficient", message="the loss is constant across the models")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, pcov = optimize.curve_fit(_power, N, L, p0=p0, maxfev=20000)
    except (RuntimeError, ValueError) as e:
        return LossFit(n=n, **empty, status="failed", message=f"the power-law fit did not converge ({e})")
    E, A, alpha = (float(v) for v in popt)
    se = np.sqrt(np.clip(np.diag(pcov), 0, None)) if np.isfinite(pcov).all() else np.full(3, np.nan)
    pred = _power(N, E, A, alpha)
    ss_res = float(np.sum((L - pred) ** 2))
    ss_tot = float(np.sum((L - L.mean()) ** 2))
    v = np.power(N, alpha) * (L - E)
    dof = n - 3
    t = float(stats.t.ppf(0.975, dof)) if dof > 0 else math.nan
    return LossFit(n=n, E=E, A=A, alpha=alpha, E_se=_f(se[0]), A_se=_f(se[1]), alpha_se=_f(se[2]),
                   alpha_ci=(_f(alpha - t * se[2]), _f(alpha + t * se[2])), r2=_f(1 - ss_res / ss_tot),
                   mape=_f(100 * np.mean(np.abs(L - pred) / L)), collapse=tuple(float(x) for x in v),
                   collapse_mean=_f(v.mean()), collapse_cv=_f(v.std(ddof=0) / v.mean()),
                   collapse_cv_ddof1=_f(v.std(ddof=1) / v.mean()),
                   residual_pct=tuple(float(x) for x in 100 * (L - pred) / pred), status="ok")


@dataclass(frozen=True)
class GradientLaws:
    """Gradient-norm scaling on a ladder of models.

    Attributes:
        beta, beta_se: minus the slope of ``log10 |grad|`` on ``log10 N`` and its OLS standard error;
            r_n, p_n: its Pearson r and p.
        loss_slope, loss_slope_se, r_loss: slope of ``log |grad|`` on ``log L`` ("|grad| ~ L^k").
        residual_pct: per-model ``(G - G_fit)/G_fit`` in percent from the N power law.
        models: names in order.
    """

    n: int
    models: tuple[str, ...]
    beta: float | None
    beta_se: float | None
    r_n: float | None
    p_n: float | None
    loss_slope: float | None
    loss_slope_se: float | None
    r_loss: float | None
    residual_pct: tuple[float, ...]
    status: str
    message: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def gradient_laws(params: Sequence[float], grad_norm: Sequence[float], loss: Sequence[float],
                  models: Sequence[str] | None = None) -> GradientLaws:
    """Fit ``|grad L| ~ N^-beta`` and ``|grad L| ~ L^k`` by OLS in log-log space.

    Example:
        >>> from cape import data
        >>> g6 = data.fixture("grad6")
        >>> gl = gradient_laws(g6["params"], g6["grad_norm"], g6["loss"])
        >>> round(gl.beta, 3), round(gl.loss_slope, 3)
        (0.401, 3.448)
    """
    check_same_length(params, grad_norm, "params", "grad_norm")
    check_same_length(params, loss, "params", "loss")
    from scipy import stats

    N = np.asarray(params, float)
    G = np.asarray(grad_norm, float)
    L = np.asarray(loss, float)
    names = tuple(models) if models is not None else tuple(f"m{i}" for i in range(N.size))
    n = int(N.size)
    if n < 3:
        return GradientLaws(n, names, None, None, None, None, None, None, None, (), "insufficient",
                            f"{n} model(s); a log-log slope with an error needs at least 3")
    a = stats.linregress(np.log10(N), np.log10(G))
    b = stats.linregress(np.log10(L), np.log10(G))
    fit = 10 ** (a.intercept + a.slope * np.log10(N))
    return GradientLaws(n, names, _f(-a.slope), _f(a.stderr), _f(a.rvalue), _f(a.pvalue), _f(b.slope),
                        _f(b.stderr), _f(b.rvalue), tuple(float(x) for x in 100 * (G - fit) / fit), "ok")


def loss_blindness(table=None, *, family: str = "Pythia"):
    """The loss fit for a family with a ``val_loss`` column (default: the Pythia fixture).

    Returns the :class:`LossFit`; pair it with the family's coupling flip (``cape.critical``) to read
    "loss is smooth where coupling flips".
    """
    from .data import fixture

    df = fixture("pythia8") if table is None else table
    if "val_loss" not in df.columns:
        raise AnalysisError(f"family {family!r}: no val_loss column")
    return loss_power_law(df["params"], df["val_loss"])


# ---------------------------------------------------------------------------------------------- claims
