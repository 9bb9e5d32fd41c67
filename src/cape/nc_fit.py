"""The smooth-fit N_c estimator: a weighted polynomial of TruthfulQA in log N and the confidence set of the
zero of its slope.

Model. Within one family, with ``u = log10 N - mean(log10 N)``, ``B2(u) = sum_j beta_j u^j + e``,
``e ~ N(0, se^2)`` (degree 3 by default, 2 with four sizes), where ``se`` is each score's standard error
including the extra noise measured from the data (:mod:`cape.noise`). Since ``B1`` (HellaSwag) rises with
size, ``gamma = dB2/dB1`` has the sign of the slope ``f'(u)``: a tax-to-bonus flip is a zero of ``f'`` where
it turns from negative to positive (a minimum of B2), a bonus-to-tax reversal one where it turns from
positive to negative (a maximum).

Interval. For a fixed ``u0``, ``f'(u0) = 0`` is a linear hypothesis about ``beta``: its z statistic
``f'(u0) / sd(f'(u0))`` is standard normal when ``u0`` is the true zero. The confidence set of the zero is
every ``u0`` where ``|z(u0)| <= q`` (for a quadratic this is Fieller's interval); under the model its coverage
is exact, and it needs no resampling. A flip is *observed* when the slope is significantly negative at the
smallest size and significantly positive at the largest: the interval is then the stretch between the last
significantly negative and the first significantly positive point. The same test on the range extended by
``horizon`` decades gives an *extrapolated* flip. Otherwise the data cannot place a flip, and the estimator says
so instead of inventing an interval end.

Why a cubic: a quadratic forces both arms of the U to the same curvature, and on asymmetric or hinge-like
curves its vertex sits off the true minimum by more than its interval (coverage near 50% in our simulation);
the cubic term absorbs the asymmetry at a small cost in power (see ``benchmarks/bench_nc.py``).

Noise. ``q`` is the normal quantile when the errors are known (stated, or stated plus the measured extra
noise). When the family's own residuals reject its errors (chi-square lack-of-fit test, ``p < 0.05``) the
covariance is scaled by ``chi2 / df`` and ``q`` becomes Student's: the interval widens instead of
over-claiming.

Example:
    >>> import numpy as np
    >>> x = np.log10([1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11])
    >>> y = 40 + 4.0 * (x - 9.6) ** 2
    >>> fit = fit_vertex(x, y, np.full(7, 1.0))
    >>> round(fit.vertex, 2), fit.kind
    (9.6, 'flip')
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ._dist import chi2_sf, normal_quantile, t_quantile


@dataclass(frozen=True)
class VertexFit:
    """A weighted quadratic fit of a score against ``log10 N`` and the confidence set of its slope's zero.

    Attributes:
        center: mean log10 N (the fit's origin).
        coef: polynomial coefficients in ``u = log10 N - center`` (constant first); cov: their covariance
            (scaled).
        curvature_z: z of the quadratic coefficient.
        vertex: log10 N of the slope's zero (NaN for ``none``).
        kind: ``flip``, ``flip_extrapolated``, ``reversal``, ``reversal_extrapolated`` or ``none``.
        lo, hi: ends of the interval (log10 N; NaN for ``none``).
        slope_z: z of the slope ``f'`` at the smallest and largest size.
        chi2, df, p_lack: lack of fit against the errors; scale: the variance factor applied (>= 1).
        q: critical value used; level: confidence level.
        x_range: smallest and largest log10 N.
    """

    center: float
    coef: tuple[float, ...]
    cov: tuple
    curvature_z: float
    vertex: float
    kind: str
    lo: float
    hi: float
    slope_z: tuple[float, float]
    chi2: float
    df: int
    p_lack: float | None
    scale: float
    q: float
    level: float
    x_range: tuple[float, float]

    def to_dict(self) -> dict:
        return asdict(self)


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray):
    Xw = X * np.sqrt(w)[:, None]
    G = Xw.T @ Xw
    cov = np.linalg.pinv(G)
    beta = cov @ (Xw.T @ (y * np.sqrt(w)))
    r = y - X @ beta
    return beta, cov, float(np.sum(w * r * r))


def _critical(level: float, df: int | None) -> float:
    p = 0.5 + level / 2.0
    return t_quantile(p, df) if df else normal_quantile(p)


def slope_z_curve(beta: np.ndarray, cov: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slope ``f'(u)`` of the polynomial ``sum beta_j u^j`` and its z on a grid ``u``."""
    d = beta.size - 1
    G = np.stack([np.zeros_like(u)] + [j * u ** (j - 1) for j in range(1, d + 1)], 1)
    slope = G @ beta
    var = np.einsum("ij,jk,ik->i", G, cov, G)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, slope / np.sqrt(np.where(var > 0, var, 1.0)), np.sign(slope) * np.inf)
    return slope, z


def fit_vertex(x: np.ndarray, y: np.ndarray, se: np.ndarray, *, level: float = 0.95, degree: int = 2,
               alpha_lack: float = 0.05, grid: int = 241, horizon: float = 0.5, snap: bool = True) -> VertexFit:
    """Fit ``y = sum_j beta_j u^j`` (weights ``1/se^2``) and the confidence set of the slope's zero.

    The set is ``{u : |f'(u)| / sd(f'(u)) <= q}`` on a grid over the measured range extended by ``horizon``
    decades on each side; for ``degree=2`` it is Fieller's interval.

    Args:
        x: log10 parameter counts (at least ``degree + 1`` distinct).
        y: scores (percent); se: their standard errors (percent), measured extra noise included.
        level: confidence level of the set; degree: polynomial degree (2 or 3; lowered to ``distinct - 1``
            when there are too few sizes).
        alpha_lack: level of the lack-of-fit test that switches to the residual variance and Student's q.
        grid: grid points; horizon: decades beyond the range where the set is also evaluated.

    Returns:
        :class:`VertexFit` (log10 N units).
    """
    x = np.asarray(x, float)
    degree = int(min(degree, np.unique(x).size - 1))
    center = float(x.mean())
    u = x - center
    y = np.asarray(y, float)
    X = np.vander(u, degree + 1, increasing=True)
    w = 1.0 / np.maximum(np.asarray(se, float), 1e-6) ** 2
    beta, cov, chi2 = _wls(X, np.asarray(y, float), w)
    df = int(x.size - degree - 1)
    p_lack = chi2_sf(chi2, df) if df > 0 else None
    scale, q = 1.0, _critical(level, None)
    if p_lack is not None and p_lack < alpha_lack:
        scale, q = chi2 / df, _critical(level, df)
    cov = cov * scale
    lo_r, hi_r = float(u.min()), float(u.max())
    ug = np.linspace(lo_r - horizon, hi_r + horizon, grid)
    ug = np.union1d(ug, [lo_r, hi_r])
    slope, z = slope_z_curve(beta, cov, ug)
    inside = (ug >= lo_r) & (ug <= hi_r)
    kind, lo, hi, vertex, zc = _classify(ug, slope, z, inside, q, beta, cov)
    if snap and kind != "none":
        if kind in ("flip", "reversal"):  # the lowest (highest) measured score and its neighbours
            m = int(np.argmin(y) if kind == "flip" else np.argmax(y))
            lo, hi = min(lo, float(u[max(m - 1, 0)])), max(hi, float(u[min(m + 1, u.size - 1)]))
        below, above = u[u <= lo + 1e-12], u[u >= hi - 1e-12]
        lo = float(below.max()) if below.size else lo
        hi = float(above.min()) if above.size else hi
    _, zend = slope_z_curve(beta, cov, np.array([lo_r, hi_r]))
    return VertexFit(center, tuple(float(v) for v in beta), tuple(map(tuple, cov.tolist())), zc,
                     vertex + center, kind, lo + center, hi + center, (float(zend[0]), float(zend[1])), chi2, df,
                     p_lack, scale, q, level, (float(x.min()), float(x.max())))


def _classify(ug, slope, z, inside, q, beta, cov):
    """Read the flip off the slope's z curve: ``(kind, lo, hi, vertex, curvature_z)`` in centred units.

    ``kind``: ``flip`` / ``flip_extrapolated`` (slope significantly negative at the low end and positive at
    the high end of the range / of the extended window; ``[lo, hi]`` the hull of the set between them),
    ``reversal`` / ``reversal_extrapolated`` (the mirror image), ``none``.
    """
    zc = math.nan
    if beta.size >= 3 and cov[2, 2] > 0:
        zc = float(beta[2] / math.sqrt(cov[2, 2]))
    for region, tag in ((inside, ""), (np.ones_like(inside), "_extrapolated")):
        idx = np.flatnonzero(region)
        z0, z1 = z[idx[0]], z[idx[-1]]
        for sign, name in ((1.0, "flip"), (-1.0, "reversal")):
            if sign * z0 < -q and sign * z1 > q:
                zz = z[idx]
                low_sig = np.flatnonzero(sign * zz < -q)
                high_sig = np.flatnonzero(sign * zz > q)
                a = low_sig[low_sig < high_sig.max()].max() if np.any(low_sig < high_sig.max()) else 0
                b = high_sig[high_sig > a].min()
                lo, hi = float(ug[idx[a]]), float(ug[idx[b]])
                # the slope's zero between them (linear interpolation on the grid)
                seg = slice(idx[a], idx[b] + 1)
                s = slope[seg] * sign
                k = int(np.flatnonzero((s[:-1] <= 0) & (s[1:] > 0))[0]) if np.any((s[:-1] <= 0) & (s[1:] > 0)) else 0
                g = ug[seg]
                v = float(g[k] - s[k] * (g[k + 1] - g[k]) / (s[k + 1] - s[k])) if s[k + 1] != s[k] else float(g[k])
                return name + tag, lo, hi, v, zc
    return "none", math.nan, math.nan, math.nan, zc


def rise_z(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> float:
    """z of the weighted linear slope of ``y`` on ``x`` (is B1 rising with size?)."""
    u = np.asarray(x, float) - np.mean(x)
    X = np.stack([np.ones_like(u), u], 1)
    beta, cov, _ = _wls(X, np.asarray(y, float), 1.0 / np.maximum(np.asarray(se, float), 1e-6) ** 2)
    return float(beta[1] / math.sqrt(cov[1, 1])) if cov[1, 1] > 0 else math.nan
