"""Critical scale N_c: where the local coupling gamma_12 changes sign from negative to positive.

Four estimators, each a small strategy object registered in :data:`ESTIMATORS` (``method=...``):

``fit`` (default, within one family)
    a weighted quadratic of B2 in log10 N and the confidence set of the zero of its slope, snapped to the
    measured models (:mod:`cape.nc_fit`, :class:`SmoothFitVertex`); statuses ``observed``, ``extrapolated``,
    ``reversal``, ``none``, ``insufficient``. Standard errors include the extra noise measured from the data
    (:mod:`cape.noise`, ``noise="data"``). The sign split below runs beside it as a robustness check. Chosen
    by the simulation study of ``benchmarks/bench_nc.py`` (docs/methods-nc.md).

``crossing`` (within one family; the robustness check)
    gamma is computed between consecutive sizes (:func:`cape.coupling.gamma_steps`) and placed at the
    log-midpoints. The crossing is located by a *balanced sign split*: the split of the size axis that
    minimises the total evidence against "gamma <= 0 below, gamma > 0 above", each interval's evidence
    being its z-score ``|dB2| / se(dB2)`` (so a noisy step counts less than a clear one). The zero is then
    interpolated linearly in log10 N between the two intervals around the split. A crossing found this way
    lies inside the family's measured range: status ``observed``. Without a sign change, the running
    coupling law ``gamma = g0 log10(N/N_c)`` is fitted (weighted least squares, weights
    ``dB1^2 / var(dB2)``); when ``g0 > 0`` and the implied zero lies beyond the range on the side the data
    point to (at most ``horizon`` decades away), the status is ``extrapolated``. Otherwise there is no flip.

    Why the balanced split and not "the last sign change" (a persistent-flip rule; docs/methods.md, "The balanced sign split"):
    with realistic benchmark noise a family crossing once shows spurious extra sign changes; taking the
    last one biases N_c upward (+0.2 decades in simulation, 95% CIs covering 89%), the balanced split is
    unbiased (CIs covering 96-97%, see docs/methods.md, "The balanced sign split").

    95% CI: parametric bootstrap of the benchmark noise (``bootstrap="noise"``, default): every score is
    redrawn as ``score + se * z`` with its own standard error (the stderr given with the data, otherwise the
    binomial error of the benchmark's item count: ``ScoreTable.stderr_wide``), and the whole estimator is
    rerun on each replicate (vectorised over replicates). A replicate without a flip counts as
    ``+inf`` (flip above the range) or ``-inf`` (cooperative already below it), so the percentile CI can
    be unbounded on one side: an honest "N_c > 2B" instead of an invented upper end. ``"intervals"``
    resamples the gamma intervals with replacement (order kept), ``"both"`` does both. Resampling
    intervals treats 3-8 steps as exchangeable, which they are not, so it is offered, not the default.

    Status from the CI: a flip is reported (``observed``/``extrapolated``) only when the CI is bounded
    on both sides, i.e. fewer than 2.5% of replicates lack a flip on either side; otherwise ``none``
    (``direction`` says which side stays open). On simulated families (:mod:`cape.simulate`) with binomial
    noise this gives >= 95% coverage of a planted N_c and ``none`` for ~98% of families without a flip.

``pooled`` (several families)
    TruthfulQA is a quadratic in ``x = log10 N`` with a *family-specific offset* and a shared shape,
    ``TQA = alpha_f + b1 x + b2 x^2`` (weighted least squares, weights ``1/se^2``); N_c is the vertex
    ``x* = -b1 / (2 b2)`` when ``b2 > 0`` (gamma = dTQA/dHS vanishes there when HS rises with size,
    docs/methods.md, "Critical scale"). Offsets stop one family's level from being read as another's trend, which is what
    the paper's pooled fit does. CI: models resampled with replacement within each family (counts kept)
    plus benchmark noise, vectorised via the within-family (demeaned) normal equations.

``paper``
    The published procedure (docs/methods.md, "The paper's procedure"): ``np.polyfit(log10 N, TQA, 2)`` over the pooled table
    (DS-BOOT14: Pythia + Llama-1 + Llama-2), bootstrap of individual models with the legacy
    ``RandomState(42)`` stream (``np.random.choice(14, 14)`` x 10,000), keep resamples with ``a > 0`` and
    ``7 < x* < 12``, report the median and the 2.5/97.5 percentiles: 3.494B [2.916B, 13.404B]. The
    resample indices are drawn in one call, which gives exactly the stream of the sequential calls.

Example:
    >>> from cape import data
    >>> res = critical_scale(data.fixture_table("boot14"), method="paper")
    >>> round(res.estimate / 1e9, 3), round(res.ci_low / 1e9, 3), round(res.ci_high / 1e9, 3)
    (3.494, 2.916, 13.404)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import _memory
from ._format import finite_or_none as _f
from ._format import fmt_params
from ._memory import check_memory, chunk_rows, row_slices
from ._runcache import once_per_run
from ._stats import percentile_ci
from ._validate import check_pair as resolve_pair
from ._validate import check_level, check_n_boot, check_seed, check_table
from .coupling import (
    DEFAULT_PAIR,
    MIN_DELTA,
    family_arrays,
    family_seed,
    gamma_steps,
    score_frame,
    size_order,
)
from .errors import AnalysisError, DataError

HORIZON = 1.0  # decades beyond the measured range that an extrapolated N_c may lie


# ---------------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class NcResult:
    """An N_c estimate with its CI and status. All sizes are raw parameter counts.

    Attributes:
        method: estimator name (``crossing``, ``pooled``, ``paper``).
        estimate: point estimate (None when there is no flip or too little data).
        ci_low, ci_high: percentile CI ends; None where the CI is unbounded (see ``ci_*_unbounded``).
        status: ``observed`` (flip inside the measured size range), ``extrapolated`` (outside it, from a
            fit), ``none`` (no flip established), ``insufficient`` (too little data).
        direction: for ``none``: ``above`` (gamma stays <= 0: a flip, if any, lies above the range / the CI
            lower end), ``below`` (gamma > 0 throughout: cooperative at all measured sizes), or None.
        bracket: the two interval midpoints' upper models around an observed crossing.
        size_range: smallest and largest parameter count used.
        n_boot, n_valid: replicates drawn and replicates with a finite N_c.
        bootstrap: the resampling scheme; seed: RNG seed.
        message: one sentence for people.
        details: estimator-specific numbers (fit coefficients, median/mean, 68% CI, ...).
    """

    method: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    status: str
    level: float = 0.95
    direction: str | None = None
    bracket: tuple[str, str] | None = None
    size_range: tuple[float, float] | None = None
    n_boot: int = 0
    n_valid: int = 0
    bootstrap: str = "noise"
    seed: int | None = None
    ci_low_unbounded: bool = False
    ci_high_unbounded: bool = False
    message: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bracket"] = list(self.bracket) if self.bracket else None
        d["size_range"] = list(self.size_range) if self.size_range else None
        return d

    def summary(self) -> str:
        """``"3.49B [2.92B, 13.4B] (observed)"``-style text."""
        lo = "0" if self.ci_low_unbounded else fmt_params(self.ci_low)
        hi = "∞" if self.ci_high_unbounded else fmt_params(self.ci_high)
        ci = f"[{lo}, {hi}]" if (self.ci_low is not None or self.ci_high is not None
                                 or self.ci_low_unbounded or self.ci_high_unbounded) else ""
        return f"{fmt_params(self.estimate)} {ci} ({self.status})".replace("  ", " ")


def _insufficient(method: str, msg: str, **kw) -> NcResult:
    return NcResult(method=method, estimate=None, ci_low=None, ci_high=None, status="insufficient", message=msg,
                    **kw)


def _pow10(x: float) -> float | None:
    return float(10.0 ** x) if (x is not None and math.isfinite(x)) else None


# ---------------------------------------------------------------------------------------------- within family
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
    den = sw * sxx - sx ** 2
    n = valid.sum(1)
    ok = (n >= 2) & (den > 1e-12 * np.maximum(sw * sxx, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(ok, (sw * sxy - sx * sy) / np.where(ok, den, 1.0), np.nan)
        a = np.where(ok, (sy - b * sx) / np.where(sw > 0, sw, 1.0), np.nan)
        xc = np.where(ok & (b != 0), -a / np.where(b != 0, b, 1.0), np.nan)
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


@dataclass(frozen=True)
class FamilyData:
    """Arrays of one family, sorted by size: names, raw sizes, scores (K, 2) and standard errors (K, 2)."""

    family: str
    b1: str
    b2: str
    models: tuple[str, ...]
    params: np.ndarray
    scores: np.ndarray
    se: np.ndarray
    dropped: dict

    @property
    def logn(self) -> np.ndarray:
        return np.log10(self.params)


def family_data(table, family: str | None = None, pair: Sequence[str] | str = DEFAULT_PAIR) -> FamilyData:
    """Collect one family's sorted scores and their standard errors (given stderr, else binomial).

    ``table``: a ScoreTable, a wide frame, or (fastest, when looping over families) the frame of
    :func:`cape.coupling.score_frame`. Models sharing a parameter count are kept (their step is skipped).
    """
    b1, b2 = resolve_pair(pair)
    frame = score_frame(table, (b1, b2)) if not _is_score_frame(table, (b1, b2)) else table
    models, params, sc, dropped, se = family_arrays(frame, family, (b1, b2), with_se=True)
    fam = family
    if fam is None:
        fams = frame["family"].dropna().astype(str).unique()
        fam = fams[0] if len(fams) == 1 else "family"
    bad = ~np.isfinite(se)
    if bad.any():
        from . import catalog

        for j, b in enumerate((b1, b2)):
            se[bad[:, j], j] = [catalog.binomial_stderr(v, b) for v in sc[bad[:, j], j]]
    return FamilyData(str(fam), b1, b2, tuple(models), params, sc, se, dropped)


def families_data(frame, pair: Sequence[str] | str, families: Sequence[str]) -> dict[str, FamilyData]:
    """:func:`family_data` of each of ``families`` (those with rows) from a score frame, split once.

    The same arrays as one :func:`family_data` call per family, without re-reading the frame each time.
    """
    b1, b2 = resolve_pair(pair)
    pos_of = frame.groupby(frame["family"].astype(str), sort=False).indices
    names = np.asarray([str(m) for m in frame.index], dtype=object)
    params_all = frame["params"].to_numpy(dtype=float)
    sc_all = frame[[b1, b2]].to_numpy(dtype=float)
    se_all = frame[[f"se:{b1}", f"se:{b2}"]].to_numpy(dtype=float)
    out = {}
    for fam in families:
        rows = pos_of.get(str(fam))
        if rows is None:
            continue
        params, sc = params_all[rows], sc_all[rows]
        good = np.isfinite(params) & np.isfinite(sc).all(axis=1)
        dropped: dict[str, str] = {}
        for i in np.flatnonzero(~good):
            dropped[names[rows[i]]] = ("no parameter count" if not math.isfinite(params[i]) else
                                       "no " + ", ".join(b for b, v in zip((b1, b2), sc[i]) if not math.isfinite(v))
                                       + " score")
        keep = np.flatnonzero(good)
        keep = keep[size_order(params[keep], names[rows][keep])]
        se = se_all[rows][keep]
        bad = ~np.isfinite(se)
        if bad.any():
            from . import catalog

            for j, b in enumerate((b1, b2)):
                se[bad[:, j], j] = [catalog.binomial_stderr(v, b) for v in sc[keep][bad[:, j], j]]
        out[str(fam)] = FamilyData(str(fam), b1, b2, tuple(str(m) for m in names[rows][keep]), params[keep],
                                   sc[keep], se, dropped)
    return out


def _is_score_frame(table, bs) -> bool:
    return hasattr(table, "columns") and all(f"se:{b}" in table.columns for b in bs)


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
        se1, se2 = fd.se[:, 0], fd.se[:, 1]
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
        # bootstrap
        rng = np.random.default_rng(seed)
        reps = np.empty(0)
        if n_boot > 0:
            if bootstrap == "noise":  # replicates in columns: (K, n_boot), the same draws and numbers
                from ._columns import crossing_columns

                S1 = s1[:, None] + np.ascontiguousarray(rng.standard_normal((n_boot, K)).T) * se1[:, None]
                S2 = s2[:, None] + np.ascontiguousarray(rng.standard_normal((n_boot, K)).T) * se2[:, None]
                reps, _ = crossing_columns(logn, S1, S2, se2, min_delta=self.min_delta, horizon=self.horizon)
            else:
                if bootstrap == "both":
                    S1 = s1 + rng.standard_normal((n_boot, K)) * se1
                    S2 = s2 + rng.standard_normal((n_boot, K)) * se2
                else:
                    S1 = np.broadcast_to(s1, (n_boot, K))
                    S2 = np.broadcast_to(s2, (n_boot, K))
                reps = self._interval_reps(logn, S1, S2, se2, rng, n_boot)
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
        # no flip established
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
        return NcResult(self.name, None, ci_lo, ci_hi, "none", direction=direction, message=txt, **common)

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


# ---------------------------------------------------------------------------------------------- pooled
@dataclass(frozen=True)
class PooledData:
    families: tuple[str, ...]
    fam_idx: np.ndarray
    models: tuple[str, ...]
    logn: np.ndarray
    y: np.ndarray
    se: np.ndarray


def pooled_data(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, families: Sequence[str] | None = None,
                min_models: int = 3, order: str = "family") -> PooledData:
    """Models of every family with at least ``min_models`` usable models (B2 scores, sizes, errors).

    ``order="input"`` keeps the table's row order (the paper's legacy bootstrap indexes rows, so its result
    depends on it); ``"family"`` groups by family, each sorted by size.
    """
    b1, b2 = resolve_pair(pair)
    frame = table if _is_score_frame(table, (b1, b2)) else score_frame(table, (b1, b2))
    fams = list(families) if families is not None else list(dict.fromkeys(frame["family"].dropna().astype(str)))
    keep_f: list[str] = []
    blocks: list[np.ndarray] = []
    cols = _pooled_columns(frame, b1, b2)
    groups = frame.groupby(frame["family"].astype(str), sort=False).indices  # positions, split once
    names = np.asarray(frame.index.astype(str), dtype=object)
    for f in fams:
        pos = _usable_sorted(cols, names, groups.get(str(f)))
        if pos.size < min_models or np.unique(cols[0][pos]).size < 2:
            continue
        keep_f.append(str(f))
        blocks.append(pos)
    allpos = np.concatenate(blocks) if blocks else np.zeros(0, int)
    idx = np.repeat(np.arange(len(blocks)), [b.size for b in blocks]).astype(int)
    models = [str(names[i]) for i in allpos]
    pdata = PooledData(tuple(keep_f), idx, tuple(models), np.log10(cols[0][allpos]), cols[1][allpos],
                       cols[2][allpos])
    if order == "input" and models:
        rank = {m: i for i, m in enumerate(frame.index.astype(str))}
        o = np.argsort([rank[m] for m in models], kind="stable")
        pdata = PooledData(pdata.families, pdata.fam_idx[o], tuple(models[i] for i in o), pdata.logn[o],
                           pdata.y[o], pdata.se[o])
    return pdata


def _pooled_columns(frame, b1: str, b2: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(params, B2, se(B2), usable)`` arrays of a score frame (usable: size, B1 and B2 present), a missing
    error replaced by the binomial one."""
    params = frame["params"].to_numpy(dtype=float)
    y = frame[b2].to_numpy(dtype=float)
    se = frame[f"se:{b2}"].to_numpy(dtype=float).copy()
    usable = np.isfinite(params) & np.isfinite(y) & np.isfinite(frame[b1].to_numpy(dtype=float))
    fill = usable & ~np.isfinite(se)
    if fill.any():
        from . import catalog

        se[fill] = [catalog.binomial_stderr(v, b2) for v in y[fill]]
    return params, y, se, usable


def _usable_sorted(cols, names, pos) -> np.ndarray:
    """A family's usable row positions in :func:`cape.coupling.size_order` (size, then name)."""
    if pos is None:
        return np.zeros(0, int)
    pos = pos[cols[3][pos]]
    return pos[size_order(cols[0][pos], names[pos])]


def _demeaned_vertex(x, y, w, fam_idx, center):
    """Vertex of ``y = alpha_f + b1 x + b2 x^2`` per row (rows = replicates), family offsets partialled out
    (Frisch-Waugh: weighted within-family demeaning, then a 2x2 normal system).

    x, y, w: ``(B, n)`` with the columns grouped by family (``fam_idx`` non-decreasing). Returns ``(x*, b2)``.
    """
    fam_idx = np.asarray(fam_idx)
    starts = np.flatnonzero(np.r_[True, fam_idx[1:] != fam_idx[:-1]])
    counts = np.diff(np.r_[starts, fam_idx.size])
    xc = x - center
    q = xc * xc
    wsum = np.add.reduceat(w, starts, axis=1)
    wsafe = np.where(wsum > 0, wsum, 1.0)

    def dm(v):
        mean_f = np.add.reduceat(w * v, starts, axis=1) / wsafe
        return v - np.repeat(mean_f, counts, axis=1)

    q_, x_, y_ = dm(q), dm(xc), dm(y)
    sums = [(w * q_ * q_).sum(1), (w * q_ * x_).sum(1), (w * x_ * x_).sum(1), (w * q_ * y_).sum(1),
            (w * x_ * y_).sum(1)]
    return _vertex_from_sums(*sums, center)


def _vertex_from_sums(a11, a12, a22, r1, r2, center):
    """Vertex ``x*`` and curvature ``b2`` from the demeaned normal-equation sums (one value per replicate)."""
    det = a11 * a22 - a12 ** 2
    ok = det > 1e-10 * np.maximum(a11 * a22, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        b2 = np.where(ok, (r1 * a22 - r2 * a12) / np.where(ok, det, 1.0), np.nan)
        b1 = np.where(ok, (a11 * r2 - a12 * r1) / np.where(ok, det, 1.0), np.nan)
        vx = np.where(b2 > 0, -b1 / (2 * np.where(b2 != 0, b2, 1.0)) + center, np.nan)
    return vx, b2


class PooledOffsets:
    """Pooled quadratic TQA(log N) with family-specific offsets; bootstrap stratified by family + noise."""

    name = "pooled"

    def __init__(self, *, horizon: float = HORIZON, min_models: int = 3):
        self.horizon = horizon
        self.min_models = min_models

    def estimate(self, pdata: PooledData, *, n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95,
                 bootstrap: str = "models") -> NcResult:
        if bootstrap not in ("models", "noise", "both"):
            raise DataError(f"bootstrap must be 'models', 'noise' or 'both' for method='pooled', not {bootstrap!r}")
        base: dict[str, Any] = {"level": level, "bootstrap": bootstrap, "seed": seed, "n_boot": n_boot}
        n = pdata.y.size
        F = len(pdata.families)
        if F == 0 or n < F + 3:
            return _insufficient(self.name, f"pooled N_c needs families with >= {self.min_models} models and at "
                                 f"least {F + 3} models in all; got {n} model(s) in {F} family(ies)", **base)
        base["size_range"] = (float(10 ** pdata.logn.min()), float(10 ** pdata.logn.max()))
        if np.any(np.diff(pdata.fam_idx) < 0):
            raise AnalysisError("pooled data must be grouped by family (use order='family')")
        w = 1.0 / np.maximum(pdata.se, 1e-6) ** 2
        center = float(np.mean(pdata.logn))
        vx, b2 = _demeaned_vertex(pdata.logn[None], pdata.y[None], w[None], pdata.fam_idx, center)
        x0 = float(vx[0])
        lo_r, hi_r = pdata.logn.min(), pdata.logn.max()
        rng = np.random.default_rng(seed)
        reps = np.empty(0)
        if n_boot > 0:
            reps, b2r = _pooled_replicates(pdata, w, center, n_boot, rng, bootstrap)
            reps = np.where(np.isnan(reps) & (b2r <= 0), np.inf, reps)  # no U shape: no vertex (flip) at all
            reps = np.where(reps > hi_r + self.horizon, np.inf, reps)
            reps = np.where(reps < lo_r - self.horizon, -np.inf, reps)
        ok = reps[~np.isnan(reps)]
        lo, hi = percentile_ci(ok, level) if ok.size else (math.nan, math.nan)
        if n_boot == 0:  # no bootstrap: the point estimate alone, CI absent
            lo = hi = x0 if math.isfinite(x0) else math.nan
        details = {"families": list(pdata.families), "n_models": int(n), "b2": _f(b2[0]),
                   "frac_no_vertex": _f(float(np.mean(np.isinf(reps))) if reps.size else None)}
        common = dict(base, n_valid=int(np.isfinite(ok).sum()), details=details,
                      ci_low_unbounded=(lo == -np.inf), ci_high_unbounded=(hi == np.inf))
        bounded = math.isfinite(lo) and math.isfinite(hi)
        if not math.isfinite(x0) or x0 > hi_r + self.horizon or x0 < lo_r - self.horizon:
            return NcResult(self.name, None, _pow10(lo), _pow10(hi), "none", direction=None,
                            message="the pooled quadratic with family offsets has no minimum in or near the range",
                            **common)
        status = "observed" if lo_r <= x0 <= hi_r else "extrapolated"
        if not bounded:
            return NcResult(self.name, None, _pow10(lo), _pow10(hi), "none",
                            direction="above" if hi == np.inf else "below",
                            message=f"vertex at {fmt_params(_pow10(x0))} but the 95% CI is unbounded "
                                    "(the U shape is not established)", details=dict(details,
                                                                                     point=_pow10(x0)),
                            **{k: v for k, v in common.items() if k != "details"})
        if n_boot == 0:
            return NcResult(self.name, _pow10(x0), None, None, status,
                            message=f"shared U-shape vertex over {F} families (no bootstrap: no CI)",
                            **dict(common, ci_low_unbounded=False, ci_high_unbounded=False))
        return NcResult(self.name, _pow10(x0), _pow10(lo), _pow10(hi), status,
                        message=f"shared U-shape vertex over {F} families with their own offsets", **common)


def _family_runs(fam_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First position and length of each family's block (``fam_idx`` grouped, non-decreasing)."""
    starts = np.flatnonzero(np.r_[True, fam_idx[1:] != fam_idx[:-1]])
    return starts, np.diff(np.r_[starts, fam_idx.size])


def _demeaned_sums(X, Y, W) -> np.ndarray:
    """The five demeaned normal-equation sums of blocks of one family each: ``(G, k, B)`` -> ``(5, B)``
    (models on axis 1, replicates last and contiguous, so every sum adds whole rows)."""
    sw = W.sum(1, keepdims=True)

    def dm(v):
        return v - (W * v).sum(1, keepdims=True) / sw

    q = X * X
    wq, wx = W * dm(q), W * dm(X)  # sum w (u - u_f)(v - v_f) = sum w (u - u_f) v: only two demeaned
    def tot(v):  # within a family in the cells' precision, across families in float64
        return v.sum(1).sum(0, dtype=np.float64)

    return np.stack([tot(wq * q), tot(wq * X), tot(wx * X), tot(wq * Y), tot(wx * Y)])


#: float64 arrays of one bootstrap cell alive at once in the pooled replicates (sizes the chunks)
_CELL_ARRAYS = 12


def _pooled_replicates(pdata: PooledData, w: np.ndarray, center: float, n_boot: int, rng: np.random.Generator,
                       bootstrap: str) -> tuple[np.ndarray, np.ndarray]:
    """Replicate vertices and curvatures of the pooled fit with family offsets, in bounded memory.

    ``models``: each family's resample is reduced to its five demeaned sums (in float32, added up in float64)
    before the next family is drawn (families of equal size drawn together, rows chunked when one family is
    large); ``noise``: row chunks;
    ``both``: the within-family draws kept as small integers, then row chunks. The random stream is the one
    of a single ``(n_boot, n)`` block, so the replicates equal the unchunked computation's.
    """
    n = pdata.y.size
    x = pdata.logn - center
    starts, counts = _family_runs(pdata.fam_idx)
    if bootstrap == "models":
        # float32 cells (each family's sums are short), float64 totals; y centred so that its level costs no
        # digits (the demeaned sums do not depend on it): the intervals print the same as in float64 (tested)
        x32, y32, w32 = (x.astype(np.float32), (pdata.y - pdata.y.mean()).astype(np.float32),
                         w.astype(np.float32))
        acc = np.zeros((5, n_boot))
        F, i = len(starts), 0
        while i < F:
            k, j = int(counts[i]), i
            while j < F and counts[j] == k:
                j += 1
            rows = chunk_rows(n_boot, k * 8 * _CELL_ARRAYS)
            per = max(1, _memory.CHUNK_BYTES // (n_boot * k * 8 * _CELL_ARRAYS)) if rows == n_boot else 1
            for g0 in range(i, j, per):
                g1 = min(j, g0 + per)
                for sl in row_slices(n_boot, rows):
                    draw = rng.integers(0, k, size=(g1 - g0, sl.stop - sl.start, k))  # the stream's order
                    pos = starts[g0:g1, None, None] + draw.transpose(0, 2, 1)
                    acc[:, sl] += _demeaned_sums(x32[pos], y32[pos], w32[pos])
            i = j
        return _vertex_from_sums(acc[0], acc[1], acc[2], acc[3], acc[4], center)
    loc = None
    if bootstrap == "both":  # every family's draws come before the noise in the stream: keep them, compactly
        dt = np.min_scalar_type(int(counts.max()))
        check_memory(n_boot * n * dt.itemsize + _memory.CHUNK_BYTES, f"the pooled bootstrap ({n_boot} resamples x {n} "
                     "models, models and noise)", "the number of resamples (--n-boot)")
        loc = np.empty((n_boot, n), dtype=dt)
        for s0, k in zip(starts, counts):
            loc[:, s0:s0 + k] = rng.integers(0, k, size=(n_boot, k))
    first = np.repeat(starts, counts)
    reps, b2 = np.empty(n_boot), np.empty(n_boot)
    for sl in row_slices(n_boot, chunk_rows(n_boot, n * 8 * _CELL_ARRAYS)):
        c = sl.stop - sl.start
        idx = np.broadcast_to(np.arange(n), (c, n)) if loc is None else first + loc[sl]
        Y = pdata.y[idx] + rng.standard_normal((c, n)) * pdata.se[idx]
        reps[sl], b2[sl] = _demeaned_vertex(pdata.logn[idx], Y, w[idx], pdata.fam_idx, center)
    return reps, b2


# ---------------------------------------------------------------------------------------------- paper
class PaperQuadraticVertex:
    """The paper's estimator, exactly (docs/methods.md, "The paper's procedure"): pooled quadratic vertex, legacy RandomState."""

    name = "paper"

    def __init__(self, *, seed: int = 42, x_window: tuple[float, float] = (7.0, 12.0)):
        self.seed = seed
        self.x_window = x_window

    def fit(self, logn: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        """``np.polyfit(log10 N, y, 2)`` coefficients ``(a, b, c)``."""
        a, b, c = np.polyfit(logn, y, 2)
        return float(a), float(b), float(c)

    def replicate_vertices(self, logn: np.ndarray, y: np.ndarray, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
        """Vertices ``x*`` and curvatures ``a`` of every legacy-stream resample (vectorised)."""
        n = logn.size
        rs = np.random.RandomState(self.seed)
        center = float(np.mean(logn))
        xs, a_s = np.empty(n_boot), np.empty(n_boot)
        for sl in row_slices(n_boot, chunk_rows(n_boot, n * 8 * 8)):  # same stream as one (n_boot, n) block
            idx = rs.randint(0, n, size=(sl.stop - sl.start, n))  # == rows of n_boot x choice(n, n)
            xs[sl], a_s[sl] = self._chunk_vertices(logn[idx] - center, y[idx], center)
        return xs, a_s

    @staticmethod
    def _chunk_vertices(X: np.ndarray, Y: np.ndarray, center: float) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and curvatures of the quadratic fits of the rows of ``X`` (centred) and ``Y``."""
        n_boot, n = X.shape
        X2 = X * X
        s0 = float(n)
        s1, s2, s3, s4 = X.sum(1), X2.sum(1), (X2 * X).sum(1), (X2 * X2).sum(1)
        ty, txy, tx2y = Y.sum(1), (X * Y).sum(1), (X2 * Y).sum(1)
        A = np.stack([np.stack([s4, s3, s2], -1), np.stack([s3, s2, s1], -1),
                      np.stack([s2, s1, np.full_like(s1, s0)], -1)], -2)
        r = np.stack([tx2y, txy, ty], -1)
        coef = np.full((n_boot, 3), np.nan)
        det = np.linalg.det(A)
        good = np.abs(det) > 1e-9
        coef[good] = np.linalg.solve(A[good], r[good][..., None])[..., 0]
        for i in np.flatnonzero(~good):  # rank-deficient resamples: polyfit's least-squares solution
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                coef[i] = np.polyfit(X[i], Y[i], 2)
        a, b = coef[:, 0], coef[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = -b / (2 * a) + center
        return xs, a

    def replicate_vertices_loop(self, logn: np.ndarray, y: np.ndarray, n_boot: int):
        """The original per-resample loop (``np.random.seed``-style stream, ``np.polyfit`` each time).

        Kept as the reference the vectorised path is checked against (tests, benchmark).
        """
        import warnings

        rs = np.random.RandomState(self.seed)
        n = logn.size
        xs = np.empty(n_boot)
        a_s = np.empty(n_boot)
        for i in range(n_boot):
            idx = rs.choice(n, n, replace=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a, b, _ = np.polyfit(logn[idx], y[idx], 2)
            a_s[i] = a
            xs[i] = -b / (2 * a) if a != 0 else np.nan
        return xs, a_s

    def estimate(self, pdata: PooledData, *, n_boot: int = 10_000, seed: int | None = None,
                 level: float = 0.95, bootstrap: str = "legacy") -> NcResult:
        n = pdata.y.size
        base: dict[str, Any] = {"level": level, "bootstrap": "legacy-models", "seed": self.seed, "n_boot": n_boot}
        if n < 4:
            return _insufficient(self.name, f"the paper's quadratic needs at least 4 models, got {n}", **base)
        a, b, c = self.fit(pdata.logn, pdata.y)
        point = -b / (2 * a) if a > 0 else math.nan
        xs, ar = self.replicate_vertices(pdata.logn, pdata.y, n_boot)
        keep = (ar > 0) & (xs > self.x_window[0]) & (xs < self.x_window[1])
        nstar = 10 ** xs[keep]
        base["size_range"] = (float(10 ** pdata.logn.min()), float(10 ** pdata.logn.max()))
        if nstar.size == 0:
            return NcResult(self.name, None, None, None, "none", n_valid=0,
                            message="no resample gives a U-shaped quadratic with its vertex in 1e7-1e12", **base)
        alpha = (1 - level) / 2 * 100
        lo, hi = np.percentile(nstar, [alpha, 100 - alpha])
        l68, h68 = np.percentile(nstar, [16, 84])
        med = float(np.median(nstar))
        details = {"a": a, "b": b, "c": c, "point_vertex": _pow10(point), "point_vertex_tqa":
                   (a * point ** 2 + b * point + c) if math.isfinite(point) else None,
                   "median": med, "mean": float(np.mean(nstar)), "ci68": [float(l68), float(h68)],
                   "valid_fraction": float(keep.mean()), "families": list(pdata.families), "n_models": int(n)}
        status = "observed" if pdata.logn.min() <= math.log10(med) <= pdata.logn.max() else "extrapolated"
        return NcResult(self.name, med, float(lo), float(hi), status, n_valid=int(keep.sum()),
                        message=f"median of {int(keep.sum())}/{n_boot} valid legacy resamples of the pooled quadratic "
                                "vertex (unstratified; mixes family levels)", details=details, **base)


# ---------------------------------------------------------------------------------------------- smooth fit
FIT_HORIZON = 0.5  # decades beyond the measured range that the whole CI of an extrapolated flip may reach


class SmoothFitVertex:
    """Default N_c estimator: weighted quadratic of B2 in log N, Fieller interval of its slope's zero.

    See :mod:`cape.nc_fit` for the model. Statuses: ``observed`` (a significant U with its minimum inside the
    measured range), ``extrapolated`` (a significant U whose whole CI lies within ``horizon`` decades beyond
    it), ``reversal`` (a significant inverted U inside the range: bonus turning into tax), ``none``,
    ``insufficient``. The balanced sign split of gamma (:class:`WithinFamilyCrossing`) runs beside it as a
    robustness check (``details["sign_split"]``) when ``n_boot > 0``.

    Args:
        horizon: furthest reach (decades beyond the measured range) of an extrapolated flip's CI.
        min_delta: ``|dB1|`` threshold of the sign-split check.
    """

    name = "fit"

    def __init__(self, *, horizon: float = FIT_HORIZON, min_delta: float = MIN_DELTA, degree: int = 2,
                 snap: bool = True):
        self.snap = snap
        self.horizon = horizon
        self.min_delta = min_delta
        self.degree = degree

    def estimate(self, fd: FamilyData, *, n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95,
                 bootstrap: str = "noise") -> NcResult:
        from .nc_fit import fit_vertex, rise_z

        base: dict[str, Any] = {"level": level, "bootstrap": "none (Fieller interval)", "seed": seed, "n_boot": 0}
        x, s1, s2 = fd.logn, fd.scores[:, 0], fd.scores[:, 1]
        nsize = int(np.unique(fd.params).size)
        if len(s2) and np.ptp(s2) == 0:
            return _insufficient(self.name, f"family {fd.family!r}: {fd.b2} is constant across the family; "
                                 "gamma is 0 everywhere and N_c is undefined", **base)
        if nsize < 4:
            return _insufficient(self.name, f"family {fd.family!r}: {nsize} distinct size(s); the smooth fit needs "
                                 "at least 4 (a curve through 3 points cannot be checked against the noise)",
                                 **base)
        base["size_range"] = (float(fd.params[0]), float(fd.params[-1]))
        vf = fit_vertex(x, s2, fd.se[:, 1], level=level, degree=self.degree, horizon=self.horizon,
                        snap=self.snap)
        hz = rise_z(x, s1, fd.se[:, 0])
        zl, zh = vf.slope_z
        details: dict[str, Any] = {"curvature_z": _f(vf.curvature_z), "slope_z_smallest": _f(zl), "slope_z_largest": _f(zh),
                   f"{fd.b1}_rise_z": _f(hz), "fit_kind": vf.kind, "fit_coef": [_f(v) for v in vf.coef],
                   "fit_degree": len(vf.coef) - 1, "fit_center_log10": vf.center, "lack_of_fit_chi2": _f(vf.chi2),
                   "lack_of_fit_df": vf.df, "lack_of_fit_p": _f(vf.p_lack), "variance_scale": _f(vf.scale),
                   "critical_value": vf.q}
        if n_boot > 0:
            ss = WithinFamilyCrossing(min_delta=self.min_delta).estimate(fd, n_boot=n_boot, seed=seed, level=level,
                                                                         bootstrap=bootstrap)
            details["sign_split"] = {"status": ss.status, "estimate": ss.estimate, "ci_low": ss.ci_low,
                                     "ci_high": ss.ci_high, "summary": ss.summary(), "message": ss.message}
        status, est, lo, hi, direction, msg = _fit_status(vf, fd, hz, self.horizon)
        return NcResult(self.name, est, lo, hi, status, level=level, direction=direction,
                        ci_low_unbounded=status == "none" and lo is None,
                        ci_high_unbounded=status == "none" and hi is None,
                        message=msg, details=details, **{k: v for k, v in base.items() if k != "level"})


def _fit_status(vf, fd: FamilyData, hz: float, horizon: float):
    """``(status, estimate, ci_low, ci_high, direction, message)`` of a :class:`~cape.nc_fit.VertexFit`."""
    b2 = fd.b2
    lo_r, hi_r = vf.x_range
    zl, zh = vf.slope_z
    ends = f"slope z = {zl:+.1f} at {fmt_params(fd.params[0])}, {zh:+.1f} at {fmt_params(fd.params[-1])}"
    if not (hz > 2):
        return ("none", None, None, None, None,
                (f"{fd.b1} does not rise clearly across {fd.family} (slope z = {hz:+.1f}), so gamma's sign is not "
                f"set by {b2}'s slope; no N_c"))
    v, lo, hi = _pow10(vf.vertex), _pow10(vf.lo), _pow10(vf.hi)
    ci = f"95% CI [{fmt_params(lo)}, {fmt_params(hi)}]"
    if vf.kind == "flip":
        return ("observed", v, lo, hi, None,
                (f"the fitted {b2} curve falls then rises ({ends}): gamma turns from tax to bonus at {fmt_params(v)} "
                f"({ci}), inside the measured range"))
    if vf.kind == "reversal":
        return ("reversal", v, lo, hi, None,
                (f"the fitted {b2} curve rises then falls ({ends}): gamma turns from bonus to tax at {fmt_params(v)} "
                f"({ci}), a reversal"))
    if vf.kind == "flip_extrapolated":
        side = "above" if vf.vertex > hi_r else ("below" if vf.vertex < lo_r else "at the edge of")
        dist = vf.vertex - hi_r if vf.vertex > hi_r else (lo_r - vf.vertex if vf.vertex < lo_r else 0.0)
        side = f"{dist:.2g} decades {side}" if dist > 0 else side
        return ("extrapolated", v, lo, hi, None,
                (f"within the measured range the slope of {b2} does not change sign significantly ({ends}); the "
                f"fitted curve, continued up to {horizon:g} decades beyond it, bottoms out at {fmt_params(v)} ({ci}), "
                f"{side} the range: an extrapolated flip"))
    if vf.kind == "reversal_extrapolated":
        return ("none", None, None, None, None,
                (f"the fitted {b2} curve, continued up to {horizon:g} decades beyond the range, peaks at "
                f"{fmt_params(v)} ({ci}): an extrapolated reversal (bonus to tax), not a flip; within the range "
                f"{ends}"))
    if zl < -vf.q and zh < -vf.q:
        top = float(fd.params[-1])
        return ("none", None, top, None, "above",
                (f"the fitted slope of {b2}, hence gamma, is significantly negative (tax) at both ends of the range "
                f"({ends}); a flip, if any, lies above {fmt_params(top)}"))
    if zl > vf.q and zh > vf.q:
        bottom = float(fd.params[0])
        return ("none", None, None, bottom, "below",
                (f"the fitted slope of {b2}, hence gamma, is significantly positive (bonus) at both ends of the "
                f"range ({ends}); a flip, if any, lies below {fmt_params(bottom)}"))
    direction = "above" if (zl < 0 and zh < 0) else ("below" if (zl > 0 and zh > 0) else None)
    return ("none", None, None, None, direction,
            (f"the slope of {b2} is not significantly of opposite signs at the two ends of the range ({ends}, "
            f"critical |z| = {vf.q:.2f}): the data cannot place a flip"))


ESTIMATORS = {"fit": SmoothFitVertex, "crossing": WithinFamilyCrossing, "pooled": PooledOffsets,
              "paper": PaperQuadraticVertex}


@once_per_run
def critical_scale(table, method: str = "fit", *, family: str | None = None,
                   pair: Sequence[str] | str = DEFAULT_PAIR, families: Sequence[str] | None = None,
                   n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95, bootstrap: str | None = None,
                   noise: str = "data", **options) -> NcResult:
    """Estimate N_c with its CI and status.

    Args:
        table: a ScoreTable (or wide frame with ``family``, ``params`` and the two benchmarks).
        method: ``"fit"`` (one family; default: smooth fit, :class:`SmoothFitVertex`), ``"crossing"`` (one
            family: the sign split of gamma), ``"pooled"`` (family offsets) or ``"paper"``.
        family: the family for ``fit``/``crossing`` (required when the table holds several).
        pair: ``(B1, B2)``; gamma = dB2/dB1.
        families: families to pool (``pooled``/``paper``; default all with >= 3 models).
        n_boot: bootstrap replicates (the paper used 10,000).
        seed: RNG seed (``paper`` always uses its legacy seed 42).
        level: CI level.
        bootstrap: resampling scheme: crossing ``noise``/``intervals``/``both``; pooled ``models``/``noise``/
            ``both``.
        noise: ``"data"`` (default): every standard error gains the extra noise measured from the table's
            families (:mod:`cape.noise`); ``"stated"``: the stated (or binomial) errors as they are. The
            ``paper`` method ignores it.
        **options: estimator settings (``min_delta``, ``horizon``, ...).

    Returns:
        :class:`NcResult` (raw parameter counts).

    Example:
        >>> from cape import data
        >>> r = critical_scale(data.load_base(), family="Pythia", n_boot=0)
        >>> r.status, r.direction
        ('none', 'above')
    """
    table = check_table(table)
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed)
    level = check_level(level)
    try:
        est = ESTIMATORS[method](**options)
    except KeyError:
        raise DataError(f"unknown N_c method {method!r}; known: {', '.join(ESTIMATORS)}") from None
    kw: dict[str, Any] = {"n_boot": n_boot, "seed": seed, "level": level}
    if bootstrap is not None:
        kw["bootstrap"] = bootstrap
    if noise not in ("data", "stated"):
        raise DataError(f"noise must be 'data' or 'stated', not {noise!r}")
    measured = ()
    if noise == "data" and method != "paper":
        table, measured = measured_noise(table, pair)
    if method in ("fit", "crossing"):
        fd = family_data(table, family, pair)
        kw["seed"] = family_seed(seed, fd.family)  # the family's own stream: same numbers in every command
        return _with_noise(est.estimate(fd, **kw), measured)
    if method == "paper":
        pdata = pooled_data(table, pair, families=families, min_models=1, order="input")
    else:
        pdata = pooled_data(table, pair, families=families, min_models=est.min_models)
    return _with_noise(est.estimate(pdata, **kw), measured)


def _with_noise(res: NcResult, measured) -> NcResult:
    """The result with the noise it used in ``details["noise"]`` and a warning sentence when the data are
    noisier than their stated errors."""
    if not measured:
        return res
    from dataclasses import replace

    noisy = [e for e in measured if e.noisier_than_stated]
    msg = res.message + ("".join(f"; warning: {e.message}" for e in noisy))
    return replace(res, message=msg, details=dict(res.details, noise=[e.to_dict() for e in measured]))


def measured_noise(table, pair: Sequence[str] | str = DEFAULT_PAIR, families: Sequence[str] | None = None):
    """``(frame, estimates)``: :func:`with_measured_noise` and the :class:`~cape.noise.NoiseEstimate` of each
    benchmark."""
    from .noise import apply_noise, estimate_noise

    b1, b2 = resolve_pair(pair)
    frame = table if _is_score_frame(table, (b1, b2)) else score_frame(table, (b1, b2))
    est = tuple(estimate_noise(frame, b, families=families) for b in (b1, b2))
    return apply_noise(frame, est), est


def with_measured_noise(table, pair: Sequence[str] | str = DEFAULT_PAIR, families: Sequence[str] | None = None):
    """The score frame of ``table`` with each benchmark's measured extra noise added to its standard errors
    (:func:`cape.noise.estimate_noise` over ``families``, default all)."""
    return measured_noise(table, pair, families)[0]


# ---------------------------------------------------------------------------------------------- paper 2.3a
@dataclass(frozen=True)
class PooledGammaLine:
    """The paper script's secondary estimator: gamma between neighbours of the pooled size-sorted list."""

    slope: float
    intercept: float
    nc: float | None
    n_steps: int

    def to_dict(self) -> dict:
        return asdict(self)


def pooled_gamma_line(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, min_delta: float = MIN_DELTA
                      ) -> PooledGammaLine:
    """Sort all models by N *across families* (as ``bootstrap_Nc.py`` does; it mixes families), take
    consecutive gammas with ``|dB1| > min_delta`` and fit a line in log10 N; N_c where it crosses zero.

    Shown for comparison only: it contradicts the within-family definition (docs/methods.md, "Critical scale").
    """
    b1, b2 = resolve_pair(pair)
    frame = table if _is_score_frame(table, (b1, b2)) else score_frame(table, (b1, b2))
    wide = frame.dropna(subset=["params", b1, b2]).sort_values("params", kind="stable")
    x = np.log10(wide["params"].to_numpy(float))
    d1 = np.diff(wide[b1].to_numpy(float))
    d2 = np.diff(wide[b2].to_numpy(float))
    ok = np.abs(d1) > min_delta  # as in the script: steps between equal sizes are kept
    g = d2[ok] / d1[ok]
    mid = ((x[:-1] + x[1:]) / 2)[ok]
    if ok.sum() < 2:
        raise AnalysisError("fewer than 2 usable pooled steps")
    s, i = np.polyfit(mid, g, 1)
    return PooledGammaLine(float(s), float(i), _pow10(-i / s) if s > 0 else None, int(ok.sum()))


# ---------------------------------------------------------------------------------------------- claims
