"""The within-family sign split of gamma: the ``crossing`` N_c estimator (:class:`WithinFamilyCrossing`) and
its vectorised pieces (:func:`balanced_split`, :func:`law_fit`, :func:`crossing_values`). See
:mod:`cape.critical` for the method; :mod:`cape.critical` re-exports every name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._columns import line_zero
from ._format import finite_or_none as _f
from ._format import fmt_params
from ._stats import percentile_ci
from .coupling import MIN_DELTA, gamma_steps
from .errors import DataError
from .nc_result import HORIZON, FamilyData, NcResult, _insufficient, _pow10


def _weights(d1: np.ndarray, se2: np.ndarray) -> np.ndarray:
    """Precision of gamma_k = d2/d1 from the noise of d2: ``d1^2 / (se2_k^2 + se2_{k+1}^2)``."""
    var = se2[..., :-1] ** 2 + se2[..., 1:] ** 2
    var = np.where(var > 0, var, np.nanmin(np.where(var > 0, var, np.inf)) if np.any(var > 0) else 1.0)
    return d1 ** 2 / var


def balanced_split(mid: np.ndarray, g: np.ndarray, w: np.ndarray):
    """Locate the sign change of gamma by the balanced split (vectorised over rows).

    Args:
        mid: ``(..., J)`` or ``(J,)`` log10 midpoints, ascending along the last axis.
        g: ``(B, J)`` gamma with NaN for skipped intervals.
        w: ``(B, J)`` precision weights.

    Returns:
        ``(x, kind, lower_idx, upper_idx)``: interpolated zero (NaN when none), kind 0 = crossing,
        3 = gamma <= 0 throughout (flip above), 4 = gamma > 0 throughout (flip below), 5 = no usable interval;
        and the interval indices bracketing the crossing.
    """
    g = np.atleast_2d(g)
    B, J = g.shape
    mid = np.broadcast_to(mid, (B, J))
    valid = np.isfinite(g)
    z = np.where(valid, g * np.sqrt(np.where(valid, w, 0.0)), 0.0)
    pos = np.maximum(z, 0.0)
    neg = np.maximum(-z, 0.0)
    zeros = np.zeros((B, 1))
    cost = np.concatenate([zeros, np.cumsum(pos, 1)], 1) + np.concatenate(
        [np.cumsum(neg[:, ::-1], 1)[:, ::-1], zeros], 1)
    s = np.argmin(cost, 1)
    idx = np.arange(J)
    prev = np.where(valid & (idx < s[:, None]), idx, -1).max(1)
    nxt = np.where(valid & (idx >= s[:, None]), idx, J).min(1)
    has = (prev >= 0) & (nxt < J)
    r = np.arange(B)
    j = np.clip(prev, 0, J - 1)
    k = np.clip(nxt, 0, J - 1)
    gj, gk = g[r, j], g[r, k]
    mj, mk = mid[r, j], mid[r, k]
    bracket = (gj <= 0) & (gk > 0)
    den = np.where(bracket, gk - gj, 1.0)
    t = np.where(bracket, -gj / den, 0.5)
    x = np.where(has, mj + t * (mk - mj), np.nan)
    kind = np.where(has, 0, np.where(~valid.any(1), 5, np.where(nxt >= J, 3, 4)))
    return x, kind, j, k


def law_fit(mid: np.ndarray, g: np.ndarray, w: np.ndarray):
    """Weighted fit of the running-coupling law ``gamma = g0 (x - x_c)`` per row.

    Returns ``(x_c, g0, n_used)`` (NaN where fewer than 2 intervals or a flat design).
    """
    g = np.atleast_2d(g)
    B, J = g.shape
    mid = np.broadcast_to(mid, (B, J))
    valid = np.isfinite(g) & np.isfinite(w)
    ww = np.where(valid, w, 0.0)
    gg = np.where(valid, g, 0.0)
    sw = ww.sum(1)
    sx = (ww * mid).sum(1)
    sy = (ww * gg).sum(1)
    sxx = (ww * mid * mid).sum(1)
    sxy = (ww * mid * gg).sum(1)
    n = valid.sum(1)
    xc, b = line_zero(sw, sx, sy, sxx, sxy, n)
    return xc, b, n


def crossing_values(logn: np.ndarray, s1: np.ndarray, s2: np.ndarray, se2: np.ndarray, *,
                    min_delta: float = MIN_DELTA, horizon: float = HORIZON, mid: np.ndarray | None = None):
    """The within-family N_c estimator on ``(B, K)`` score arrays (B replicates), vectorised.

    Returns ``(x, kind)``: log10 N_c per row in the extended reals (``+inf``: no flip, gamma <= 0 throughout;
    ``-inf``: gamma > 0 throughout; NaN: no usable interval) and the kind (0 observed crossing,
    1 extrapolated from the law fit, 3/4/5 as in :func:`balanced_split`).
    """
    s1 = np.atleast_2d(s1)
    s2 = np.atleast_2d(s2)
    if mid is None and np.ndim(se2) == 1 and s1.ndim == 2 and s1.shape[0] > 1 and s1.shape == s2.shape:
        from ._columns import crossing_columns  # the same numbers, one vectorised step per interval

        return crossing_columns(logn, np.ascontiguousarray(s1.T), np.ascontiguousarray(s2.T),
                                np.asarray(se2, dtype=float), min_delta=min_delta, horizon=horizon)
    g, m, d1, _ = gamma_steps(logn, s1, s2, min_delta=min_delta)
    if mid is None:
        mid = m
    w = _weights(d1, np.broadcast_to(se2, s2.shape))
    x, kind, _, _ = balanced_split(mid, g, w)
    xc, g0, nfit = law_fit(mid, g, w)
    g0 = np.where(nfit >= 3, g0, np.nan)  # a 2-point "fit" always passes through both points: not evidence
    lo = np.min(mid, axis=-1) if np.ndim(mid) > 1 else mid[0]
    hi = np.max(mid, axis=-1) if np.ndim(mid) > 1 else mid[-1]
    lo_range = logn[0]
    hi_range = logn[-1]
    up = (kind == 3) & (g0 > 0) & (xc > hi) & (xc <= hi_range + horizon)
    down = (kind == 4) & (g0 > 0) & (xc < lo) & (xc >= lo_range - horizon)
    out = np.where(kind == 0, x, np.where(kind == 3, np.inf, np.where(kind == 4, -np.inf, np.nan)))
    out = np.where(up | down, xc, out)
    kind = np.where(up | down, 1, kind)
    return out, kind


class WithinFamilyCrossing:
    """Default N_c estimator: balanced sign split of gamma, law-fit extrapolation, noise bootstrap.

    Args:
        min_delta: skip steps with ``|dB1| <= min_delta`` pp.
        horizon: furthest extrapolation (decades beyond the measured range).
    """

    name = "crossing"

    def __init__(self, *, min_delta: float = MIN_DELTA, horizon: float = HORIZON):
        self.min_delta = min_delta
        self.horizon = horizon

    def estimate(self, fd: FamilyData, *, n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95,
                 bootstrap: str = "noise") -> NcResult:
        if bootstrap not in ("noise", "intervals", "both"):
            raise DataError(f"bootstrap must be 'noise', 'intervals' or 'both' for method='crossing', "
                            f"not {bootstrap!r}")
        K = len(fd.models)
        base: dict[str, Any] = {"level": level, "bootstrap": bootstrap, "seed": seed, "n_boot": n_boot}
        if K < 3:
            return _insufficient(self.name, f"family {fd.family!r}: {K} usable model(s); N_c needs at least 3 "
                                 "(two consecutive-size steps)", **base)
        logn = fd.logn
        s1, s2 = fd.scores[:, 0], fd.scores[:, 1]
        se2 = fd.se[:, 1]
        g, mid, d1, _ = gamma_steps(logn, s1, s2, min_delta=self.min_delta)
        nvalid = int(np.isfinite(g).sum())
        rng_n = (float(fd.params[0]), float(fd.params[-1]))
        base["size_range"] = rng_n
        if nvalid < 2:
            return _insufficient(self.name, f"family {fd.family!r}: only {nvalid} usable step(s) (others have "
                                 f"|d{fd.b1}| <= {self.min_delta:g} pp or equal sizes); N_c needs at least 2",
                                 **base)
        if np.ptp(s2) == 0:
            return _insufficient(self.name, f"family {fd.family!r}: {fd.b2} is constant across the family; "
                                 "gamma is 0 everywhere and N_c is undefined", **base)
        x0, kind0 = crossing_values(logn, s1[None], s2[None], se2, min_delta=self.min_delta, horizon=self.horizon)
        x0, kind0 = float(x0[0]), int(kind0[0])
        w = _weights(d1, se2)
        _, _, jl, ku = balanced_split(mid, g[None], w[None])
        xfit, g0, _ = law_fit(mid, g[None], w[None])
        reps = self._replicates(fd, n_boot, seed, bootstrap)
        reps_ok = reps[~np.isnan(reps)]
        lo, hi = percentile_ci(reps_ok, level) if reps_ok.size else (math.nan, math.nan)
        used = mid[np.isfinite(g)]
        if hi == -np.inf:  # nearly every replicate: gamma > 0 throughout -> N_c below the first measured step
            hi = float(used.min())
        if lo == np.inf:  # nearly every replicate: gamma <= 0 throughout -> N_c above the last measured step
            lo = float(used.max())
        n_fin = int(np.isfinite(reps_ok).sum())
        frac_above = float(np.mean(reps_ok == np.inf)) if reps_ok.size else math.nan
        frac_below = float(np.mean(reps_ok == -np.inf)) if reps_ok.size else math.nan
        details = {"gamma_law_g0": _f(g0[0]), "gamma_law_log10_nc": _f(xfit[0]),
                   "raw_log10_nc": _f(x0), "frac_no_flip_above": _f(frac_above),
                   "frac_no_flip_below": _f(frac_below), "n_steps_used": nvalid}
        if reps_ok.size:
            fin = reps_ok[np.isfinite(reps_ok)]
            if fin.size:
                details["replicate_median"] = _pow10(float(np.median(fin)))
        bounded = math.isfinite(lo) and math.isfinite(hi)
        bracket = None
        if kind0 == 0:
            bracket = (fd.models[int(jl[0]) + 1], fd.models[int(ku[0]) + 1])
            bracket = (f"{fd.models[int(jl[0])]}->{fd.models[int(jl[0]) + 1]}",
                       f"{fd.models[int(ku[0])]}->{fd.models[int(ku[0]) + 1]}")
        common = dict(base, n_valid=n_fin, details=details,
                      ci_low_unbounded=(lo == -np.inf), ci_high_unbounded=(hi == np.inf))
        ci_lo = _pow10(lo)
        ci_hi = _pow10(hi)
        if n_boot == 0:
            bounded = math.isfinite(x0)
        if bounded and math.isfinite(x0):
            inside = logn[0] <= x0 <= logn[-1]
            status = "observed" if (kind0 == 0 and inside) else "extrapolated"
            where = ("between the steps " + " and ".join(bracket)) if (kind0 == 0 and bracket) else \
                ("above the last measured step" if x0 > mid[np.isfinite(g)].max() else
                 "below the first measured step")
            msg = (f"gamma changes sign {where}" if status == "observed" else
                   f"no sign change inside the range; the gamma law g0 log10(N/N_c) puts N_c {where}")
            return NcResult(self.name, _pow10(x0), ci_lo, ci_hi, status, bracket=bracket if kind0 == 0 else None,
                            message=msg, **common)
        if bounded and not math.isfinite(x0):
            # the point estimate has no flip but nearly every replicate does: report the replicate median
            med = float(np.median(reps_ok[np.isfinite(reps_ok)]))
            status = "observed" if logn[0] <= med <= logn[-1] else "extrapolated"
            return NcResult(self.name, _pow10(med), ci_lo, ci_hi, status,
                            message="no flip in the point estimate but in nearly all noise replicates; "
                                    "estimate is the replicate median", **common)
        direction, txt = _no_flip_text(g, x0, kind0, lo, hi)
        return NcResult(self.name, None, ci_lo, ci_hi, "none", direction=direction, message=txt, **common)

    def _replicates(self, fd: FamilyData, n_boot: int, seed: int | None, bootstrap: str) -> np.ndarray:
        """log10 N_c of ``n_boot`` bootstrap replicates (``+-inf``: no flip on that side; NaN: no interval)."""
        rng = np.random.default_rng(seed)
        if n_boot <= 0:
            return np.empty(0)
        K, logn = len(fd.models), fd.logn
        s1, s2 = fd.scores[:, 0], fd.scores[:, 1]
        se1, se2 = fd.se[:, 0], fd.se[:, 1]
        if bootstrap == "noise":  # replicates in columns: (K, n_boot), the same draws and numbers
            from ._columns import crossing_columns

            S1 = s1[:, None] + np.ascontiguousarray(rng.standard_normal((n_boot, K)).T) * se1[:, None]
            S2 = s2[:, None] + np.ascontiguousarray(rng.standard_normal((n_boot, K)).T) * se2[:, None]
            return crossing_columns(logn, S1, S2, se2, min_delta=self.min_delta, horizon=self.horizon)[0]
        if bootstrap == "both":
            S1 = s1 + rng.standard_normal((n_boot, K)) * se1
            S2 = s2 + rng.standard_normal((n_boot, K)) * se2
        else:
            S1 = np.broadcast_to(s1, (n_boot, K))
            S2 = np.broadcast_to(s2, (n_boot, K))
        return self._interval_reps(logn, S1, S2, se2, rng, n_boot)

    def _interval_reps(self, logn, S1, S2, se2, rng, n_boot):
        """Resample the intervals (with replacement, kept in size order) of each replicate."""
        g, mid, d1, _ = gamma_steps(logn, S1, S2, min_delta=self.min_delta)
        w = _weights(d1, np.broadcast_to(se2, S2.shape))
        J = g.shape[1]
        idx = np.sort(rng.integers(0, J, size=(n_boot, J)), axis=1)
        r = np.arange(n_boot)[:, None]
        gi, wi, mi = g[r, idx], w[r, idx], mid[idx]
        x, kind, _, _ = balanced_split(mi, gi, wi)
        xc, g0, nfit = law_fit(mi, gi, wi)
        g0 = np.where(nfit >= 3, g0, np.nan)
        lo_m, hi_m = mi.min(1), mi.max(1)
        up = (kind == 3) & (g0 > 0) & (xc > hi_m) & (xc <= logn[-1] + self.horizon)
        down = (kind == 4) & (g0 > 0) & (xc < lo_m) & (xc >= logn[0] - self.horizon)
        out = np.where(kind == 0, x, np.where(kind == 3, np.inf, np.where(kind == 4, -np.inf, np.nan)))
        return np.where(up | down, xc, out)


def _no_flip_text(g: np.ndarray, x0: float, kind0: int, lo: float, hi: float) -> tuple[str | None, str]:
    """``(direction, message)`` of a family whose flip the bootstrap does not establish."""
    if hi == np.inf and lo == -np.inf:
        direction, txt = None, "the data cannot place a flip at all (95% CI unbounded on both sides)"
    elif hi == np.inf:
        direction = "above"
        bound = _pow10(lo)
        txt = (_lean_text(g, negative=True) if kind0 in (3,) else
               "the sign change seen is within the noise") + \
              (f"; a flip, if any, lies above {fmt_params(bound)}" if bound else "")
    else:
        direction = "below"
        bound = _pow10(hi)
        txt = (_lean_text(g, negative=False) if kind0 == 4 else
               "the sign change seen is within the noise") + \
              (f"; a flip, if any, lies below {fmt_params(bound)}" if bound else "")
    if kind0 == 0:
        txt += f" (raw crossing at {fmt_params(_pow10(x0))} not significant)"
    elif kind0 == 1:
        txt = (f"the gamma law extrapolates a flip to {fmt_params(_pow10(x0))}, outside the measured steps, but the "
               f"95% CI is unbounded" + (f" (N_c > {fmt_params(_pow10(lo))})" if math.isfinite(lo) else
                                         f" (N_c < {fmt_params(_pow10(hi))})" if math.isfinite(hi) else ""))
    return direction, txt


def _lean_text(g: np.ndarray, *, negative: bool) -> str:
    """What the measured gamma steps say when the sign split puts every step on one side: true to the steps
    (it never says "every step" when one of them has the other sign)."""
    gv = g[np.isfinite(g)]
    other = int(np.sum(gv > 0)) if negative else int(np.sum(gv <= 0))
    if other == 0:
        return ("gamma <= 0 at every measured step (tax throughout)" if negative else
                "gamma > 0 at every measured step (cooperative throughout)")
    sign = "negative" if negative else "positive"
    return (f"gamma is {sign} on balance: the {other} step(s) of the other sign out of {gv.size} are within the "
            "noise")
