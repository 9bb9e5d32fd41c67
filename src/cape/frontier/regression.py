"""Population line of the frontier panel: Pearson r, OLS with standard errors and t intervals, pairs bootstrap."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .._stats import percentile_ci
from .._validate import check_level, check_n_boot, check_same_length, check_seed
from ..errors import AnalysisError


# ---------------------------------------------------------------------------------------------- regression
@dataclass(frozen=True)
class LinearCoupling:
    """Population coupling of two axes: Pearson r and the OLS line ``y = slope * x + intercept``.

    Attributes:
        n: models in the fit.
        r, p: Pearson correlation and its two-sided p-value (scipy ``pearsonr``).
        slope, intercept: OLS coefficients (points of y per point of x; points of y).
        se_slope, se_intercept: classical OLS standard errors.
        slope_ci_t, intercept_ci_t: t intervals at ``ci`` (n - 2 degrees of freedom).
        r_ci_fisher: Fisher-z interval for r.
        r_ci_boot, slope_ci_boot, intercept_ci_boot: percentile pairs-bootstrap intervals.
        residual_sd: residual standard deviation s (n - 2 dof), points of y.
        x_mean, sxx: mean of x and its sum of squared deviations (for prediction intervals).
        ci, n_boot, seed: the settings behind the intervals.
    """

    n: int
    r: float
    p: float
    slope: float
    intercept: float
    se_slope: float
    se_intercept: float
    slope_ci_t: tuple[float, float]
    intercept_ci_t: tuple[float, float]
    r_ci_fisher: tuple[float, float]
    r_ci_boot: tuple[float, float]
    slope_ci_boot: tuple[float, float]
    intercept_ci_boot: tuple[float, float]
    residual_sd: float
    x_mean: float
    sxx: float
    ci: float
    n_boot: int
    seed: int
    x_name: str = "x"
    y_name: str = "y"

    @property
    def t_crit(self) -> float:
        from scipy import stats

        return float(stats.t.ppf(0.5 + self.ci / 2, self.n - 2))

    def predict(self, x) -> np.ndarray:
        """Fitted y at ``x`` (array-like, points of x)."""
        return self.slope * np.asarray(x, dtype=float) + self.intercept

    def prediction_halfwidth(self, x) -> np.ndarray:
        """Half-width of the ``ci`` prediction interval for a new model at ``x``:
        ``t * s * sqrt(1 + 1/n + (x - mean x)^2 / Sxx)`` (points of y)."""
        x = np.asarray(x, dtype=float)
        return self.t_crit * self.residual_sd * np.sqrt(1 + 1 / self.n + (x - self.x_mean) ** 2 / self.sxx)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["t_crit"] = self.t_crit
        return d


def bootstrap_line(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """Pairs bootstrap of r, slope and intercept, vectorised over resamples.

    Returns arrays of length ``n_boot`` (NaN where a resample has constant x or y).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    xs, ys = x[idx], y[idx]
    xm, ym = xs.mean(axis=1, keepdims=True), ys.mean(axis=1, keepdims=True)
    dx, dy = xs - xm, ys - ym
    sxx, syy, sxy = (dx * dx).sum(1), (dy * dy).sum(1), (dx * dy).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
        r = np.where((sxx > 0) & (syy > 0), sxy / np.sqrt(sxx * syy), np.nan)
    intercept = ym[:, 0] - slope * xm[:, 0]
    return {"r": r, "slope": slope, "intercept": intercept}


def linear_coupling(x: Sequence[float], y: Sequence[float], *, ci: float = 0.95, n_boot: int = 2000,
                    seed: int = 0, x_name: str = "x", y_name: str = "y") -> LinearCoupling:
    """Pearson r, OLS line, standard errors, t / Fisher / bootstrap intervals of ``y`` on ``x``.

    Args:
        x, y: scores of the same models (percent).
        ci: confidence level.
        n_boot: pairs-bootstrap resamples (0 skips the bootstrap: its intervals are NaN).
        seed: bootstrap seed.

    Returns:
        :class:`LinearCoupling`.

    Raises:
        AnalysisError: fewer than 3 models, or a constant axis.

    Example:
        >>> lc = linear_coupling([1, 2, 3, 4], [2.0, 4.1, 5.9, 8.0], n_boot=200)
        >>> round(lc.slope, 2), lc.r > 0.99
        (1.98, True)
    """
    ci = check_level(ci, "ci")
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed, allow_none=False)
    check_same_length(x, y, "x", "y")
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n < 3:
        raise AnalysisError(f"population coupling of {y_name} on {x_name} needs at least 3 models, got {n}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        axis = x_name if np.ptp(x) == 0 else y_name
        raise AnalysisError(f"population coupling: every model has the same {axis} score; r is undefined")
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    dof = n - 2
    s = float(math.sqrt((resid ** 2).sum() / dof)) if dof > 0 else float("nan")
    se_slope = s / math.sqrt(sxx)
    se_int = s * math.sqrt(1 / n + xm ** 2 / sxx)
    t = float(stats.t.ppf(0.5 + ci / 2, dof)) if dof > 0 else float("nan")
    r, p = stats.pearsonr(x, y)
    r = float(r)
    if n > 3 and abs(r) < 1:
        z, zse = math.atanh(r), 1 / math.sqrt(n - 3)
        zq = float(stats.norm.ppf(0.5 + ci / 2))
        r_fisher = (math.tanh(z - zq * zse), math.tanh(z + zq * zse))
    else:
        r_fisher = (float("nan"), float("nan"))
    if n_boot > 0:
        b = bootstrap_line(x, y, n_boot=n_boot, seed=seed)
        r_b, sl_b, in_b = (percentile_ci(b[k], ci) for k in ("r", "slope", "intercept"))
    else:
        r_b = sl_b = in_b = (float("nan"), float("nan"))
    return LinearCoupling(
        n=n, r=r, p=float(p), slope=float(slope), intercept=float(intercept), se_slope=float(se_slope),
        se_intercept=float(se_int), slope_ci_t=(float(slope - t * se_slope), float(slope + t * se_slope)),
        intercept_ci_t=(float(intercept - t * se_int), float(intercept + t * se_int)), r_ci_fisher=r_fisher,
        r_ci_boot=r_b, slope_ci_boot=sl_b, intercept_ci_boot=in_b, residual_sd=s, x_mean=float(xm), sxx=sxx,
        ci=ci, n_boot=n_boot, seed=seed, x_name=x_name, y_name=y_name)


#: How the line used for h is read off the fit: strategies by name.
LINE_METHODS: dict[str, Callable[[LinearCoupling], tuple[float, float]]] = {
    "fit": lambda c: (c.slope, c.intercept),
    # the paper freezes the fit at its published precision: slope 3 decimals, intercept 1 decimal
    "paper": lambda c: (round(c.slope, 3), round(c.intercept, 1)),
}
