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

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._format import finite_or_none as _f
from ._format import fmt_params
from ._runcache import once_per_run
from ._validate import check_pair as resolve_pair
from ._validate import check_level, check_n_boot, check_seed, check_table
from .coupling import DEFAULT_PAIR, MIN_DELTA, family_seed, score_frame
from .errors import AnalysisError, DataError
from .nc_crossing import WithinFamilyCrossing, _lean_text, _weights, balanced_split, crossing_values, law_fit
from .nc_pooled import (
    PaperQuadraticVertex,
    PooledData,
    PooledOffsets,
    _count_sums,
    _demeaned_vertex,
    _family_runs,
    _pooled_columns,
    _pooled_replicates,
    _usable_sorted,
    _vertex_from_sums,
    pooled_data,
)
from .nc_result import (
    HORIZON,
    FamilyData,
    NcResult,
    _insufficient,
    _is_score_frame,
    _pow10,
    families_data,
    family_data,
)

__all__ = ["ESTIMATORS", "FIT_HORIZON", "HORIZON", "FamilyData", "NcResult", "PaperQuadraticVertex", "PooledData",
           "PooledGammaLine", "PooledOffsets", "SmoothFitVertex", "WithinFamilyCrossing", "balanced_split",
           "critical_scale", "crossing_values", "families_data", "family_data", "law_fit", "measured_noise",
           "pooled_data", "pooled_gamma_line", "with_measured_noise"]
_PRIVATE = (_count_sums, _demeaned_vertex, _family_runs, _insufficient, _lean_text, _pooled_columns,
            _pooled_replicates, _usable_sorted, _vertex_from_sums, _weights)  # re-exported for older imports


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
