"""Shared statistics helpers: one home for each small estimator every analysis uses.

Only numpy at module level (``scipy.special`` is imported lazily by :func:`pearson_pvalue`), so importing this
module costs nothing. Randomness only through a ``numpy.random.Generator`` the caller passes in.

Example:
    >>> import numpy as np
    >>> percentile_ci(np.arange(101.0), level=0.5)
    (25.0, 75.0)
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["EXACT_PERMUTATIONS", "fisher_ci", "participation_ratio", "pearson_pvalue", "pearson_rows", "percentile_ci",
           "permutation_p", "stratified_indices"]


def percentile_ci(samples, level: float = 0.95) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap ``samples``.

    The one behaviour used throughout CAPE: NaN samples (failed resamples) are dropped; infinite samples are
    kept (they sort to the ends, so a CI end can be ``+-inf``: an honest "unbounded"); with fewer than two
    samples left the interval is ``(nan, nan)``. Quantiles use linear interpolation (numpy's default).

    Args:
        samples: bootstrap replicates (any shape; flattened).
        level: confidence level in (0, 1), e.g. 0.95.

    Returns:
        ``(low, high)`` as floats (NaN when undefined).

    Example:
        >>> percentile_ci([1.0, float("nan"), 3.0], 0.5)
        (1.5, 2.5)
        >>> percentile_ci([2.0])
        (nan, nan)
    """
    s = np.asarray(samples, dtype=float).ravel()
    s = s[~np.isnan(s)]
    if s.size < 2:
        return (math.nan, math.nan)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(s, [a, 1.0 - a], method="linear") if np.isfinite(s).all() else _quantile_inf(s, a)
    return (float(lo), float(hi))


def _quantile_inf(s: np.ndarray, a: float) -> tuple[float, float]:
    """Linear-interpolation quantiles at ``a`` and ``1 - a`` of samples that include infinities."""
    s = np.sort(s)
    n = s.size
    out = []
    for q in (a, 1.0 - a):
        pos = q * (n - 1)
        i, j = int(math.floor(pos)), int(math.ceil(pos))
        lo, hi = s[i], s[j]
        if not (np.isfinite(lo) and np.isfinite(hi)):
            out.append(lo if q < 0.5 else hi)
        else:
            out.append(lo + (hi - lo) * (pos - i))
    return out[0], out[1]


def pearson_rows(x, y) -> np.ndarray:
    """Pearson r of each row of ``x`` with the same row of ``y`` (shape ``(..., n)`` -> ``(...)``).

    Rows with zero variance give NaN. Used by every vectorised bootstrap and permutation in CAPE.

    Example:
        >>> import numpy as np
        >>> round(float(pearson_rows(np.array([[1., 2, 3]]), np.array([[2., 4, 7]]))[0]), 3)
        0.993
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sxy = (xc * yc).sum(axis=-1)
    sxx = (xc * xc).sum(axis=-1)
    syy = (yc * yc).sum(axis=-1)
    den = np.sqrt(sxx * syy)
    scale = np.maximum(np.abs(x).max(axis=-1), 1.0) * np.maximum(np.abs(y).max(axis=-1), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 1e-12 * scale, sxy / np.where(den > 0, den, 1.0), np.nan)
    return np.clip(r, -1.0, 1.0)


def _t_two_sided_exact(t2: float, df: int) -> float:
    """``P(|T| > t)`` for Student's t with integer ``df`` by the finite closed form (Abramowitz and Stegun
    26.7.3/26.7.4): ``A = (2/pi)(theta + sin theta (cos theta + 2/3 cos^3 theta + ...))`` for odd ``df``,
    ``A = sin theta (1 + 1/2 cos^2 theta + 1*3/(2*4) cos^4 theta + ...)`` for even, ``theta = atan(t/sqrt(df))``;
    the p-value is ``1 - A``. Exact up to rounding, so accurate to ~1e-15 absolute."""
    theta = math.atan(math.sqrt(t2 / df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:
        term = total = math.cos(theta) if df > 1 else 0.0
        for k in range(3, df, 2):  # coefficients 2/3, 2*4/(3*5), ... times cos^k
            term *= c2 * (k - 1) / k
            total += term
        a = 2.0 / math.pi * (theta + s * total)
    else:
        term = total = 1.0
        for k in range(2, df, 2):  # coefficients 1/2, 1*3/(2*4), ... times cos^k
            term *= c2 * (k - 1) / k
            total += term
        a = s * total
    return max(0.0, 1.0 - a)


def pearson_pvalue(r: float, n: int) -> float | None:
    """Two-sided p-value of Pearson's r under normality (the t test of ``scipy.stats.pearsonr``):
    ``P(|T_df| > t)`` with ``t^2 = r^2 df / (1 - r^2)``, ``df = n - 2``.

    Computed by the exact finite form of Student's t for integer degrees of freedom (no import); when that
    would leave fewer than ~9 significant digits (p < 1e-6) or ``df > 300``, by ``scipy.special.betainc``
    (``I_{df/(df+t^2)}(df/2, 1/2)``), which is kept off the common path because importing it takes longer
    than a whole ``cape diagnose`` bootstrap. The two agree to 2e-9 relative (checked in the tests).

    Example:
        >>> f"{pearson_pvalue(-0.9886223474431346, 8):.3e}"
        '3.651e-06'
    """
    if r is None or not math.isfinite(r) or n < 3:
        return None
    df = n - 2
    if abs(r) >= 1.0:
        return 0.0
    t2 = r * r * df / (1.0 - r * r)
    if df <= 300:
        p = _t_two_sided_exact(t2, df)
        if p >= 1e-6:
            return p
    from scipy.special import betainc  # noqa: PLC0415 - lazy: scipy.special only for this

    return float(betainc(df / 2.0, 0.5, df / (df + t2)))


EXACT_PERMUTATIONS = 100_000  # n! at or below this: the permutation p-value enumerates every permutation


def fisher_ci(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a correlation by Fisher's z: ``tanh(atanh r +- z_q / sqrt(n - 3))``.

    Percentile bootstrap intervals of r are degenerate for a handful of models (at n = 3 almost every resample
    repeats a point and gives ``|r*| = 1``); Fisher's interval keeps its level from n = 4 on (coverage
    95-97% in simulation, checked in the tests for n = 3..8). At n = 3 the interval is the whole ``[-1, 1]``:
    three points cannot bound r.

    Args:
        r: sample correlation; n: number of pairs; level: two-sided confidence level.

    Returns:
        ``(low, high)``.

    Example:
        >>> [round(v, 3) for v in fisher_ci(-0.9886, 8)]
        [-0.998, -0.936]
    """
    if n <= 3:
        return (-1.0, 1.0)
    from statistics import NormalDist

    q = NormalDist().inv_cdf(0.5 + level / 2.0)
    z = math.atanh(max(min(r, 1.0 - 1e-15), -1.0 + 1e-15))
    h = q / math.sqrt(n - 3)
    return (math.tanh(z - h), math.tanh(z + h))


@lru_cache(maxsize=16)
def _all_permutations(n: int) -> np.ndarray:
    """Every ordering of ``range(n)`` as rows, in lexicographic order (``itertools.permutations``' order),
    built once per ``n``; read-only.

    Built block by block: the orderings that start with ``i`` are ``i`` followed by the orderings of the
    other ``n - 1`` values, which are those of ``range(n - 1)`` with every value ``>= i`` raised by one.
    """
    perm = np.zeros((1, 0), dtype=np.intp)
    for m in range(1, n + 1):
        k = perm.shape[0]
        out = np.empty((m * k, m), dtype=np.intp)
        for i in range(m):
            out[i * k:(i + 1) * k, 0] = i
            out[i * k:(i + 1) * k, 1:] = perm + (perm >= i)
        perm = out
    perm.setflags(write=False)
    return perm


def _permuted_r(x: np.ndarray, y: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Pearson r of ``x`` with each reordering ``y[perm[k]]``: the means and sums of squares do not change
    under a permutation, so each r is one dot product (NaN when either variable is constant)."""
    xc = x - x.mean()
    yc = y - y.mean()
    den = math.sqrt(float(xc @ xc) * float(yc @ yc))
    scale = max(float(np.abs(x).max()), 1.0) * max(float(np.abs(y).max()), 1.0)
    if not den > 1e-12 * scale:
        return np.full(perm.shape[0], np.nan)
    return np.clip(yc[perm] @ xc / den, -1.0, 1.0)


def permutation_p(x: np.ndarray, y: np.ndarray, r: float, *, n_perm: int, rng: np.random.Generator
                  ) -> tuple[float | None, str, int]:
    """Two-sided permutation p-value of Pearson's r.

    Exact (every one of the ``n!`` orderings, ``#{|r*| >= |r|} / n!``) when ``n! <= 100,000`` (n <= 8);
    Monte Carlo above (``(1 + #{|r*| >= |r|}) / (1 + n_perm)``).

    Returns:
        ``(p, method, n_permutations)``; method ``"exact"`` or ``"monte carlo"``; p None when ``n_perm == 0``
        and the test would be Monte Carlo.

    Example:
        >>> import numpy as np
        >>> p, how, k = permutation_p(np.arange(4.), np.array([1., 2, 4, 3]), 0.8, n_perm=0,
        ...                           rng=np.random.default_rng(0))
        >>> round(p, 4), how, k
        (0.3333, 'exact', 24)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    tol = 1e-12
    if math.factorial(n) <= EXACT_PERMUTATIONS:
        perm = _all_permutations(n)
        rp = _permuted_r(x, y, perm)
        return float(np.mean(np.abs(rp) >= abs(r) - tol)), "exact", int(perm.shape[0])
    if n_perm <= 0:
        return None, "monte carlo", 0
    hits = 0
    for start in range(0, n_perm, 4096):  # chunks keep memory at 4096 x n
        m = min(4096, n_perm - start)
        perm = np.argsort(rng.random((m, n)), axis=1)
        hits += int(np.sum(np.abs(pearson_rows(np.broadcast_to(x, (m, n)), y[perm])) >= abs(r) - tol))
    return float((1 + hits) / (1 + n_perm)), "monte carlo", int(n_perm)


def stratified_indices(groups, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap positions resampled within each group (group sizes and positions kept).

    Args:
        groups: group label of every row (any hashable labels, 1-D).
        n_boot: number of resamples.
        rng: the generator that draws them.

    Returns:
        Integer array ``(n_boot, n)``: row ``b`` indexes the rows of resample ``b``.

    Example:
        >>> import numpy as np
        >>> idx = stratified_indices(np.array([0, 0, 1]), 4, np.random.default_rng(0))
        >>> idx.shape, bool((idx[:, 2] == 2).all())
        ((4, 3), True)
    """
    g = np.asarray(groups)
    n = g.size
    out = np.empty((n_boot, n), dtype=int)
    for f in np.unique(g):
        pos = np.flatnonzero(g == f)
        out[:, pos] = pos[rng.integers(0, pos.size, size=(n_boot, pos.size))]
    return out


def participation_ratio(eigenvalues, *, axis: int = -1):
    """``(sum lambda)^2 / sum lambda^2`` with negative eigenvalues clipped to 0 (vectorised over ``axis``).

    Between 1 (one direction carries everything) and the number of eigenvalues (all equal); NaN for an
    all-zero spectrum.

    Args:
        eigenvalues: spectrum (any shape; reduced over ``axis``).
        axis: the axis holding one spectrum.

    Returns:
        A numpy float (or array, one value per spectrum).

    Example:
        >>> round(float(participation_ratio([1.0, 1.0, 0.0])), 3)
        2.0
    """
    lam = np.clip(np.asarray(eigenvalues, dtype=float), 0.0, None)
    top = lam.max(axis=axis, keepdims=True) if lam.size else lam
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(top > 0, lam / np.where(top > 0, top, 1.0), 0.0)  # scale-free: no underflow in squares
    s = lam.sum(axis=axis)
    s2 = (lam * lam).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s2 > 0, s * s / np.where(s2 > 0, s2, 1.0), np.nan)
