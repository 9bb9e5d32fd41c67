"""Discovery of a sparse capability ODE with pysindy: cross-validated thresholds, bagged ensemble.

    dB_i/dlog10 N = c_i0 + sum_j c_ij B_j + sum_{j<=k} d_ijk B_j B_k

Procedure (:func:`discover`):

1. trajectories: each family's models sorted by N, with every benchmark of the state present
   (:func:`~cape.dynamics.trajectories.prepare`; what is dropped is reported, short families warn);
2. samples ``(B, dB/dlog10 N)`` from secant slopes at interval midpoints (uneven spacing exact), in fractions
   (default) or standardised units, pooled over families;
3. STLSQ thresholds chosen by cross-validation of the derivative prediction (leave one family out, or one
   point out for a single family), one per equation, by the one-standard-error rule (the sparsest model
   within one standard error of the best). The constant ``c_i0`` is a free intercept (never thresholded), so
   the sparsest candidate is "constant rate per decade", not "no change"; ``intercept=False`` thresholds it
   like every other term;
4. the point model fitted with pysindy (``PolynomialLibrary(degree)``, ``STLSQ(threshold, alpha)``; see
   :func:`~cape.dynamics.sparse.fit_pysindy`);
5. a bagged ensemble (``n_models`` bootstrap resamples of the samples, the same thresholds, vectorised)
   giving each term an inclusion probability and a percentile interval for its coefficient;
6. the in-sample trajectory fit: the point model integrated from each family's smallest model.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._format import Line, TextSummary, TextTable
from .._runcache import once_per_run
from .._validate import check_level, check_seed
from ..errors import AnalysisError
from .integrate import simulate
from .metrics import ErrorTable, errors
from .sparse import (CVResult, bootstrap_weights, cross_validate, features, fit_pysindy, library, stlsq_batch,
                     threshold_grid, thresholds_json)
from .summary import discovery_blocks
from .trajectories import (Cohort, Dropped, Samples, Trajectory, Units, make_samples, make_units, prepare,
                           short_names)

#: STLSQ ridge penalty. pysindy's default (0.05) is too strong for fraction-unit libraries whose columns are
#: nearly collinear (B, B^2, B_j B_k over a narrow range): the ridge spreads a true term over its correlated
#: neighbours and thresholding then keeps spurious ones (measured on synthetic systems in the tests). 1e-3
#: only stabilises underdetermined fits; the final refit on the support is unpenalised either way.
DEFAULT_ALPHA = 1e-3


@dataclass(frozen=True, eq=False)
class Discovery(TextSummary):
    """A discovered sparse ODE with its ensemble, cross-validation and fit.

    Attributes:
        benchmarks: canonical names of the state variables; ``names`` their short symbols.
        feature_names: library terms (pysindy's names over the short symbols, ``"1"`` the constant).
        powers: library exponents ``(F, d)``.
        degree: library degree.
        units: the regression units (:class:`~cape.dynamics.trajectories.Units`).
        derivative: derivative strategy name.
        alpha: STLSQ ridge penalty; ``intercept`` whether the constant is exempt from thresholding.
        trajectories: the training families' trajectories; ``families`` their names.
        dropped: families/models left out, with reasons; ``warnings``: short-trajectory warnings.
        n_samples: derivative samples fitted.
        threshold: the STLSQ threshold per equation ``(d,)``; ``cv`` the cross-validation that chose it (None
            if fixed).
        coef: point-model coefficients ``(d, F)`` (pysindy), in ``units`` per decade.
        equations_pysindy: the point model as pysindy prints it.
        n_models, seed: ensemble size and seed; ``ensemble`` the member coefficients ``(n_models, d, F)``.
        inclusion: fraction of members in which each term is non-zero ``(d, F)``.
        median, lo, hi: member coefficient median and percentile interval at ``level``.
        fit: in-sample trajectory fit (each training family integrated from its smallest model, families
            whose integration diverged left out), or None.
        fit_by_family: the same per family (``diverged`` set where the integration left the valid range).
    """

    benchmarks: tuple[str, ...]
    names: tuple[str, ...]
    feature_names: tuple[str, ...]
    powers: np.ndarray
    degree: int
    units: Units
    derivative: str
    alpha: float
    intercept: bool
    trajectories: tuple[Trajectory, ...]
    dropped: tuple[Dropped, ...]
    warnings: tuple[str, ...]
    n_samples: int
    threshold: np.ndarray
    cv: CVResult | None
    coef: np.ndarray
    equations_pysindy: tuple[str, ...]
    n_models: int
    seed: int
    ensemble: np.ndarray
    inclusion: np.ndarray
    median: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    level: float
    fit: ErrorTable | None
    fit_by_family: dict

    # ----------------------------------------------------------------------------------------- views
    @property
    def families(self) -> list[str]:
        return [t.family for t in self.trajectories]

    @property
    def n_terms(self) -> int:
        return int(np.count_nonzero(self.coef))

    @property
    def diverged_families(self) -> list[str]:
        """Training families whose in-sample integration diverged."""
        return [f for f, e in self.fit_by_family.items() if e.diverged]

    @property
    def status(self) -> str:
        """``ok``, or ``null model`` when every coefficient is zero (nothing beats predicting no change)."""
        return "ok" if self.n_terms else "null model"

    def rhs(self, percent: np.ndarray) -> np.ndarray:
        """``dB/dlog10 N`` in percent points per decade at scores ``percent`` ``(..., d)``."""
        s = self.units.to_state(percent)
        return np.einsum("...f,df->...d", features(s, self.powers), self.coef) * self.units.scale

    def simulate(self, y0_percent: np.ndarray, x0: float, x_eval: np.ndarray, *, ensemble: bool = False):
        """Integrate the point model (or every ensemble member) from ``(x0, y0)``; percent at ``x_eval``."""
        c = self.ensemble if ensemble else self.coef
        return simulate(c, self.powers, self.units, y0_percent, x0, x_eval)

    def term_label(self, f: int) -> str:
        name = self.feature_names[f]
        return "" if name == "1" else name.replace(" ", "·")

    def equations(self, *, min_inclusion: float = 0.0, precision: int = 3, probabilities: bool = True) -> list[str]:
        """Readable equations, one per benchmark, e.g. ``dTQA/dlog10N = -0.254 + 0.451·HS [p=0.93]``.

        Terms of the point model are shown with ``precision`` significant digits and their ensemble inclusion
        probability (not for the constant when it is a free intercept: it is in every member by construction);
        ``min_inclusion`` hides terms included in fewer members than that.
        """
        out = []
        for i, nm in enumerate(self.names):
            parts = []
            for f in range(len(self.feature_names)):
                c = self.coef[i, f]
                if c == 0 or self.inclusion[i, f] < min_inclusion:
                    continue
                lab = self.term_label(f)
                mag = f"{abs(c):.{precision}g}"
                body = f"{mag}·{lab}" if lab else mag
                if probabilities and self.n_models and not (self.intercept and f == 0):
                    body += f" [p={self.inclusion[i, f]:.2f}]"
                sign = "-" if c < 0 else "+"
                parts.append((sign, body))
            if not parts:
                rhs = "0"
            else:
                first_sign, first = parts[0]
                rhs = ("-" if first_sign == "-" else "") + first
                rhs += "".join(f" {s} {b}" for s, b in parts[1:])
            out.append(f"d{nm}/dlog10N = {rhs}")
        return out

    def to_frame(self):
        """One row per (equation, term): point coefficient, ensemble median and interval, inclusion."""
        import pandas as pd

        rows = []
        for i, nm in enumerate(self.names):
            for f, fn in enumerate(self.feature_names):
                rows.append({"equation": nm, "term": fn, "coef": self.coef[i, f], "median": self.median[i, f],
                             "lo": self.lo[i, f], "hi": self.hi[i, f], "inclusion": self.inclusion[i, f]})
        return pd.DataFrame(rows)

    def summary_blocks(self) -> list[Line | TextTable]:
        """The system as lines and tables (what ``cape ode`` prints above the held-out test)."""
        return discovery_blocks(self)

    def to_dict(self) -> dict:
        return {
            "benchmarks": list(self.benchmarks), "names": list(self.names),
            "feature_names": list(self.feature_names), "degree": self.degree, "units": self.units.to_dict(),
            "derivative": self.derivative, "alpha": self.alpha, "intercept": self.intercept, "families": self.families,
            "n_points": {t.family: t.n_points for t in self.trajectories},
            "dropped": [d.to_dict() for d in self.dropped], "warnings": list(self.warnings),
            "n_samples": self.n_samples, "threshold": thresholds_json(self.threshold),
            "cv": self.cv.to_dict() if self.cv is not None else None,
            "status": self.status, "n_terms": self.n_terms,
            "equations": self.equations(), "equations_pysindy": list(self.equations_pysindy),
            "coef": self.coef.tolist(), "n_models": self.n_models, "seed": self.seed, "level": self.level,
            "inclusion": self.inclusion.tolist(), "median": self.median.tolist(), "lo": self.lo.tolist(),
            "hi": self.hi.tolist(),
            "fit": self.fit.to_dict() if self.fit is not None else None,
            "fit_by_family": {k: v.to_dict() for k, v in self.fit_by_family.items()},
            "diverged_families": self.diverged_families,
        }


# --------------------------------------------------------------------------------------------- fitting
@once_per_run
def fit_system(trajectories: Sequence[Trajectory], *, degree: int = 2, threshold: float | None = None,
               n_models: int = 100, seed: int = 0, derivative: str = "secant", units: str | Units = "fraction",
               alpha: float = DEFAULT_ALPHA, cv_rule: str = "1se", per_equation: bool = True,
               intercept: bool = True, n_thresholds: int = 25, level: float = 0.95,
               sample_mask: np.ndarray | None = None, dropped: Sequence[Dropped] = (),
               warnings_: Sequence[str] = (), trajectory_fit: bool = True) -> Discovery:
    """Discover the sparse ODE on prepared trajectories (the engine behind :func:`discover`).

    Args:
        trajectories: training trajectories (all with the same benchmarks).
        degree: library degree (1: linear with constant; 2: adds pairwise products and squares).
        threshold: fixed STLSQ threshold (scalar or one per equation); None chooses it by cross-validation.
        n_models: ensemble size (bootstrap resamples of the samples); 0 skips the ensemble.
        seed: seed of ``numpy.random.default_rng`` for the ensemble.
        derivative: ``"secant"`` or ``"finite_difference"``.
        units: ``"fraction"``, ``"standardised"`` or a :class:`Units`.
        alpha: STLSQ ridge penalty (default :data:`DEFAULT_ALPHA`).
        cv_rule: ``"1se"`` or ``"min"``.
        per_equation: choose a threshold per equation (default) rather than one for all.
        intercept: never threshold the constant term (an unpenalised intercept, as in penalised regression),
            so the sparsest candidate is "constant rate" rather than "no change"; False thresholds it like
            every other term (pysindy's plain STLSQ).
        n_thresholds: size of the threshold grid.
        level: coverage of the coefficient intervals.
        sample_mask: fit only these samples (used for per-phase fits).
        trajectory_fit: integrate each family from its smallest model to report the fit error.

    Returns:
        A :class:`Discovery`.
    """
    if not trajectories:
        raise AnalysisError("no usable family to fit (every family was dropped)")
    if n_models < 0:
        raise AnalysisError(f"n_models must be >= 0, not {n_models}")
    bs = trajectories[0].benchmarks
    names = short_names(bs)
    u = units if isinstance(units, Units) else make_units(units, trajectories)
    samples = make_samples(trajectories, u, derivative)
    if sample_mask is not None:
        samples = samples.subset(sample_mask)
    if samples.n < 2:
        raise AnalysisError(f"only {samples.n} derivative sample(s) to fit; need at least 2")
    powers, fnames = library(len(bs), degree, names)
    theta = features(samples.states, powers)
    y = samples.derivs
    cv = None
    if threshold is None:
        grid = threshold_grid(theta, y, alpha, n_thresholds, intercept=intercept)
        cv = cross_validate(theta, y, samples.groups, grid, alpha=alpha, rule=cv_rule, per_equation=per_equation,
                            intercept=intercept)
        thr = cv.chosen
    else:
        thr = np.broadcast_to(np.asarray(threshold, dtype=float), (len(bs),)).copy()
        if (thr < 0).any():
            raise AnalysisError(f"threshold must be >= 0, not {threshold}")
    st, dv, xs = samples.split_by_group()
    model, coef = fit_pysindy(st, dv, xs, degree, thr, alpha, names, intercept=intercept)
    eqs = tuple(f"({nm})' = {e}" for nm, e in zip(names, model.equations(precision=4)))
    ens, inc, med, lo, hi = _ensemble(theta, y, thr, coef.shape, n_models=n_models, seed=seed, alpha=alpha,
                                      intercept=intercept, level=level)
    fit, by_fam = (_trajectory_fit(trajectories, coef, powers, u, bs) if trajectory_fit and sample_mask is None
                   else (None, {}))
    return Discovery(bs, tuple(names), tuple(fnames), powers, degree, u, derivative, float(alpha), bool(intercept),
                     tuple(trajectories), tuple(dropped), tuple(warnings_), samples.n, thr, cv, coef, eqs,
                     int(n_models), int(seed), ens, inc, med, lo, hi, float(level), fit, by_fam)


def _ensemble(theta: np.ndarray, y: np.ndarray, thr: np.ndarray, shape: tuple[int, int], *, n_models: int,
              seed: int, alpha: float, intercept: bool, level: float) -> tuple[np.ndarray, ...]:
    """The bootstrap ensemble of STLSQ refits: the coefficients ``[models, d, F]``, each term's inclusion
    share, median and ``level`` interval (NaN without an ensemble)."""
    d, F = shape
    if n_models <= 0:
        nan = np.full((d, F), np.nan)
        return np.zeros((0, d, F)), nan, nan, nan, nan
    W = bootstrap_weights(len(y), n_models, np.random.default_rng(seed))
    ens = stlsq_batch(theta, y, W, thr[None, :], alpha=alpha, intercept=intercept)
    q = (1.0 - level) / 2.0
    lo, hi = np.quantile(ens, [q, 1.0 - q], axis=0)
    return ens, (ens != 0).mean(axis=0), np.median(ens, axis=0), lo, hi


def _trajectory_fit(trajectories: Sequence[Trajectory], coef: np.ndarray, powers: np.ndarray, u: Units,
                    bs: tuple[str, ...]) -> tuple[ErrorTable | None, dict[str, ErrorTable]]:
    """Each family integrated from its smallest model: its errors, and the errors over the families that did
    not diverge."""
    P, O, by_fam = [], [], {}
    for t in trajectories:
        if t.n_points < 2:
            continue
        pred = simulate(coef, powers, u, t.scores[0], t.x[0], t.x[1:])
        by_fam[t.family] = errors(pred, t.scores[1:], bs)
        if not np.isnan(pred).any():  # diverged families are reported per family, not averaged in
            P.append(pred)
            O.append(t.scores[1:])
    return (errors(np.vstack(P), np.vstack(O), bs) if P else None), by_fam


def load_scores(scores):
    """``scores`` if given, else the embedded base cohort."""
    if scores is None:
        from ..data import load_base

        return load_base()
    return scores


@once_per_run
def discover(scores=None, *, families: Sequence[str] | str | None = ("Pythia",),
             benchmarks: Sequence[str] | str | None = None, degree: int = 2, threshold: float | None = None,
             n_models: int = 100, seed: int = 0, derivative: str = "secant", units: str = "fraction",
             alpha: float = DEFAULT_ALPHA, cv_rule: str = "1se", per_equation: bool = True,
             intercept: bool = True, base_only: bool = True, level: float = 0.95) -> Discovery:
    """Discover a sparse polynomial ODE ``dB/dlog10 N = f(B)`` from families' scaling trajectories.

    Args:
        scores: a :class:`~cape.scores.ScoreTable` (default: the embedded base cohort).
        families: training families (default Pythia; None: every family with all benchmarks).
        benchmarks: the state vector, at least 2 (default HS, TQA, ARC, WG, MMLU).
        degree, threshold, n_models, seed, derivative, units, alpha, cv_rule, per_equation, intercept, level:
            see :func:`fit_system`.
        base_only: leave instruct/chat models out.

    Returns:
        A :class:`Discovery`.

    Example:
        >>> d = discover(families=["Pythia"], benchmarks="HS,TQA", n_models=20)   # doctest: +SKIP
        >>> print("\\n".join(d.equations()))                                     # doctest: +SKIP
    """
    level = check_level(level)
    seed = check_seed(seed, allow_none=False)
    table = load_scores(scores)
    cohort = prepare(table, benchmarks, families=families, base_only=base_only, warn=False)
    _emit(cohort)
    return fit_system(cohort.trajectories, degree=degree, threshold=threshold, n_models=n_models, seed=seed,
                      derivative=derivative, units=units, alpha=alpha, cv_rule=cv_rule,
                      per_equation=per_equation, intercept=intercept, level=level, dropped=cohort.dropped,
                      warnings_=cohort.warnings)


def _emit(cohort: Cohort) -> None:
    from .trajectories import SparseTrajectoryWarning

    for w in cohort.warnings:
        warnings.warn(w, SparseTrajectoryWarning, stacklevel=3)


__all__ = ["Discovery", "discover", "fit_system", "load_scores", "Samples"]
