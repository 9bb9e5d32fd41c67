"""Bootstrap kernels in column layout: replicates along the last axis, models (or intervals) along the first.

The bootstraps draw ``(replicates, models)`` blocks, and the statistics reduce over a handful of models per
replicate. Reducing over a short last axis costs numpy one small loop per replicate; laid out as
``(models, replicates)`` every step is one vectorised operation over all replicates. The kernels here
compute exactly the numbers of their row-layout counterparts (:func:`cape._stats.pearson_rows`,
:func:`cape.critical.crossing_values`): the element-wise steps are the same numpy operations, and every sum
over models adds in the order numpy's own sum uses (:func:`column_sum`), so the results are bit-identical
(checked in the tests), only faster.

Only numpy; no cape imports beyond constants passed in.
"""

from __future__ import annotations

import numpy as np

_UNROLL = 8  # numpy's pairwise summation: 8 accumulators
_BLOCK = 128  # numpy's pairwise summation: block size below which it does not split


def _pairwise(rows, lo: int, n: int):
    """numpy's pairwise sum of ``rows[lo:lo + n]`` (each row an array), in numpy's order."""
    if n < _UNROLL:
        res = 0.0 + rows[lo]
        for i in range(lo + 1, lo + n):
            res = res + rows[i]
        return res
    if n <= _BLOCK:
        acc = [rows[lo + j] for j in range(_UNROLL)]
        i = _UNROLL
        while i < n - n % _UNROLL:
            acc = [acc[j] + rows[lo + i + j] for j in range(_UNROLL)]
            i += _UNROLL
        res = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
        for k in range(lo + i, lo + n):
            res = res + rows[k]
        return res
    n2 = n // 2
    n2 -= n2 % _UNROLL
    return _pairwise(rows, lo, n2) + _pairwise(rows, lo + n2, n - n2)


def column_sum(a: np.ndarray) -> np.ndarray:
    """``a.T.sum(axis=-1)`` bit for bit, for ``a`` of shape ``(n, B)``: the sum over the first axis in the
    order numpy adds a contiguous last axis (pairwise, 8-way unrolled, starting from 0).

    Args:
        a: ``(n, B)`` array (n >= 1).

    Returns:
        ``(B,)`` sums.
    """
    n = a.shape[0]
    if n == 0:
        return np.zeros(a.shape[1:])
    return 0.0 + _pairwise(a, 0, n)


def pearson_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`cape._stats.pearson_rows` of ``x.T`` and ``y.T`` (bit-identical): Pearson r of each column.

    Args:
        x, y: ``(n, B)`` arrays, one replicate per column.

    Returns:
        ``(B,)`` correlations (NaN where a column has no variance).
    """
    n = x.shape[0]
    xc = x - column_sum(x) / n
    yc = y - column_sum(y) / n
    sxy = column_sum(xc * yc)
    sxx = column_sum(xc * xc)
    syy = column_sum(yc * yc)
    den = np.sqrt(sxx * syy)
    scale = np.maximum(np.abs(x).max(axis=0), 1.0) * np.maximum(np.abs(y).max(axis=0), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 1e-12 * scale, sxy / np.where(den > 0, den, 1.0), np.nan)
    return np.clip(r, -1.0, 1.0)


def _weights(d1: np.ndarray, se2: np.ndarray) -> np.ndarray:
    """:func:`cape.critical._weights` with the errors ``se2`` (K,) shared by every replicate column."""
    var = se2[:-1] ** 2 + se2[1:] ** 2
    var = np.where(var > 0, var, np.nanmin(np.where(var > 0, var, np.inf)) if np.any(var > 0) else 1.0)
    return d1 ** 2 / var[:, None]


def _split(mid: np.ndarray, g: np.ndarray, w: np.ndarray):
    """:func:`cape.critical.balanced_split` in column layout: ``g``, ``w`` ``(J, B)``, ``mid`` ``(J,)``.

    The cumulative sums, the first minimum of the split cost and the bracketing intervals are running loops
    over the J intervals, each step vectorised over the replicates (same values as the row version)."""
    J, B = g.shape
    valid = np.isfinite(g)
    z = np.where(valid, g * np.sqrt(np.where(valid, w, 0.0)), 0.0)
    pos = np.maximum(z, 0.0)
    neg = np.maximum(-z, 0.0)
    up = [pos[0]]  # cumulative sums, forwards (pos) and backwards (neg)
    for i in range(1, J):
        up.append(up[-1] + pos[i])
    down = [neg[J - 1]]
    for i in range(J - 2, -1, -1):
        down.append(down[-1] + neg[i])
    down.reverse()
    zero = np.zeros(B)
    best = zero + down[0]
    s = np.zeros(B, dtype=np.intp)
    best_nan = np.isnan(best)
    for i in range(1, J + 1):  # argmin: first minimum (first NaN, as numpy, should one occur)
        c = up[i - 1] + (down[i] if i < J else zero)
        c_nan = np.isnan(c)
        better = (c < best) | (c_nan & ~best_nan)
        best = np.where(better, c, best)
        best_nan |= c_nan
        s[better] = i
    prev = np.full(B, -1, dtype=np.intp)
    nxt = np.full(B, J, dtype=np.intp)
    for i in range(J):
        prev[valid[i] & (i < s)] = i
    for i in range(J - 1, -1, -1):
        nxt[valid[i] & (i >= s)] = i
    has = (prev >= 0) & (nxt < J)
    r = np.arange(B)
    j = np.clip(prev, 0, J - 1)
    k = np.clip(nxt, 0, J - 1)
    flat = g.ravel()
    gj, gk = flat.take(j * B + r), flat.take(k * B + r)
    mj, mk = mid[j], mid[k]
    bracket = (gj <= 0) & (gk > 0)
    den = np.where(bracket, gk - gj, 1.0)
    t = np.where(bracket, -gj / den, 0.5)
    x = np.where(has, mj + t * (mk - mj), np.nan)
    kind = np.where(has, 0, np.where(~valid.any(0), 5, np.where(nxt >= J, 3, 4)))
    return x, kind


def _law(mid: np.ndarray, g: np.ndarray, w: np.ndarray):
    """:func:`cape.critical.law_fit` in column layout."""
    valid = np.isfinite(g) & np.isfinite(w)
    ww = np.where(valid, w, 0.0)
    gg = np.where(valid, g, 0.0)
    m = mid[:, None]
    sw = column_sum(ww)
    sx = column_sum(ww * m)
    sy = column_sum(ww * gg)
    sxx = column_sum(ww * m * m)
    sxy = column_sum(ww * m * gg)
    n = valid.sum(0)
    xc, b = line_zero(sw, sx, sy, sxx, sxy, n)
    return xc, b, n


def line_zero(sw, sx, sy, sxx, sxy, n) -> tuple[np.ndarray, np.ndarray]:
    """Zero ``x_c = -a / b`` and slope ``b`` of the weighted line ``y = a + b x`` from its weighted sums
    (``sw = sum w``, ``sx = sum w x``, ``sy``, ``sxx``, ``sxy``) and point counts ``n``, element-wise; NaN where
    fewer than 2 points, a flat design or a zero slope. The one closing step of both layouts of the law fit."""
    den = sw * sxx - sx ** 2
    ok = (n >= 2) & (den > 1e-12 * np.maximum(sw * sxx, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(ok, (sw * sxy - sx * sy) / np.where(ok, den, 1.0), np.nan)
        a = np.where(ok, (sy - b * sx) / np.where(sw > 0, sw, 1.0), np.nan)
        xc = np.where(ok & (b != 0), -a / np.where(b != 0, b, 1.0), np.nan)
    return xc, b


def crossing_columns(logn: np.ndarray, s1: np.ndarray, s2: np.ndarray, se2: np.ndarray, *, min_delta: float,
                     horizon: float):
    """:func:`cape.critical.crossing_values` on ``(K, B)`` score columns (bit-identical, one replicate per
    column) with the errors ``se2`` (K,) shared by every replicate.

    Returns:
        ``(x, kind)`` as :func:`cape.critical.crossing_values`: log10 N_c per replicate (``+-inf`` for no flip
        on either side, NaN for no usable interval) and its kind.
    """
    logn = np.asarray(logn, dtype=float)
    d1 = np.diff(s1, axis=0)
    d2 = np.diff(s2, axis=0)
    ok = (np.abs(d1) > min_delta) & (np.diff(logn) > 0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(ok, d2 / np.where(ok, d1, 1.0), np.nan)
    mid = (logn[:-1] + logn[1:]) / 2.0
    w = _weights(d1, np.asarray(se2, dtype=float))
    with np.errstate(invalid="ignore"):
        x, kind = _split(mid, g, w)
    xc, g0, nfit = _law(mid, g, w)
    g0 = np.where(nfit >= 3, g0, np.nan)
    lo, hi = mid[0], mid[-1]
    up = (kind == 3) & (g0 > 0) & (xc > hi) & (xc <= logn[-1] + horizon)
    down = (kind == 4) & (g0 > 0) & (xc < lo) & (xc >= logn[0] - horizon)
    out = np.where(kind == 0, x, np.where(kind == 3, np.inf, np.where(kind == 4, -np.inf, np.nan)))
    out = np.where(up | down, xc, out)
    kind = np.where(up | down, 1, kind)
    return out, kind
