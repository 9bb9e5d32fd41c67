"""Predict a family's scores at a new scale from the discovered ODE, with prediction intervals and phase.

The system is discovered on the training families (default: every family with all benchmarks) and
integrated from the family's largest model to ``log10`` of the new parameter count (backwards when the new
size is smaller). Intervals come from a two-level bootstrap: families drawn with replacement, then each
drawn family's intervals drawn with replacement; every resample is refitted with STLSQ at the
cross-validated thresholds and integrated (all at once, vectorised). Each draw also gets the benchmark's
binomial measurement noise at the predicted score (:func:`cape.catalog.binomial_stderr`), so the interval is
for a measured score, not only for the mean.

The predicted phase uses the local coupling between the family's largest model and the new point,
``gamma = dTQA/dHS`` (docs/methods.md, "Local coupling" and "Phases"): tax ``< -0.1 <=`` transition ``<= 0.1 <`` bonus; undetermined
when the predicted HS change is at most 0.5 points. Its probability is the share of bootstrap draws in each
phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import catalog
from .._validate import check_level, check_seed
from ..errors import AnalysisError
from .discovery import DEFAULT_ALPHA, Discovery, _emit, fit_system, load_scores
from .integrate import simulate
from .sparse import bootstrap_weights, features, stlsq_batch, thresholds_json
from .trajectories import Trajectory, make_samples, phase_label, prepare


@dataclass(frozen=True, eq=False)
class ScalePrediction:
    """Predicted scores of one family at a new parameter count.

    Attributes:
        family, params: the family and the new parameter count; ``start_model``/``start_params`` the model
            integrated from (the family's largest).
        benchmarks: canonical names.
        start_scores: the start model's scores (percent).
        predicted: point prediction (percent), ``(d,)``; NaN if the integration diverged.
        lo, hi: prediction interval at ``level`` (bootstrap over points and families, plus measurement noise),
            clipped to 0-100.
        status: ``extrapolated`` (outside the family's size range) or ``inside range``.
        gamma: predicted local coupling between the start model and the new point (None without HS and TQA,
            when the new size is below the start model, or when the HS change is at most 0.5 points).
        phase: predicted phase label; ``phase_probability`` the share of bootstrap draws per phase.
        n_boot, n_diverged: bootstrap draws and how many diverged.
        discovery: the system used.
        level, seed.
    """

    family: str
    params: float
    start_model: str
    start_params: float
    benchmarks: tuple[str, ...]
    start_scores: np.ndarray
    predicted: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    status: str
    gamma: float | None
    phase: str | None
    phase_probability: dict
    n_boot: int
    n_diverged: int
    discovery: Discovery
    level: float
    seed: int

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"benchmark": list(self.benchmarks), "start": self.start_scores,
                             "predicted": self.predicted, "lo": self.lo, "hi": self.hi})

    def to_dict(self) -> dict:
        return {"family": self.family, "params": self.params, "start_model": self.start_model,
                "start_params": self.start_params, "benchmarks": list(self.benchmarks),
                "start_scores": self.start_scores.tolist(), "predicted": self.predicted.tolist(),
                "lo": self.lo.tolist(), "hi": self.hi.tolist(), "level": self.level, "status": self.status,
                "gamma": self.gamma, "phase": self.phase, "phase_probability": self.phase_probability,
                "n_boot": self.n_boot, "n_diverged": self.n_diverged, "seed": self.seed,
                "train": self.discovery.families, "equations": self.discovery.equations(),
                "threshold": thresholds_json(self.discovery.threshold), "degree": self.discovery.degree,
                "dropped": [d.to_dict() for d in self.discovery.dropped],
                "warnings": list(self.discovery.warnings)}


def _gamma(start: np.ndarray, pred: np.ndarray, i_hs: int, i_tqa: int, min_delta: float = 0.5) -> np.ndarray:
    dh = pred[..., i_hs] - start[i_hs]
    dt = pred[..., i_tqa] - start[i_tqa]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(dh) > min_delta, dt / dh, np.nan)


def predict_family(disc: Discovery, target: Trajectory, params: float, *, n_boot: int = 200, seed: int = 0,
                   level: float = 0.95, noise: bool = True) -> ScalePrediction:
    """Predict ``target``'s scores at ``params`` with the discovered system ``disc`` (see the module doc)."""
    if not (np.isfinite(params) and params > 0):
        raise AnalysisError(f"parameter count must be a positive number, not {params!r}")
    bs = disc.benchmarks
    x_new = float(np.log10(params))
    start = target.scores[-1]
    x0 = float(target.x[-1])
    if abs(x_new - x0) < 1e-12:
        raise AnalysisError(f"{target.family}'s largest model {target.models[-1]} already has "
                            f"{params:g} parameters; ask for another size")
    pred = disc.simulate(start, x0, np.array([x_new]))[0]
    # two-level bootstrap refits, integrated together
    samples = make_samples(disc.trajectories, disc.units, disc.derivative)
    theta = features(samples.states, disc.powers)
    rng = np.random.default_rng(seed)
    W = bootstrap_weights(samples.n, n_boot, rng, groups=samples.groups)
    coefs = stlsq_batch(theta, samples.derivs, W, disc.threshold[None, :], alpha=disc.alpha,
                        intercept=disc.intercept)
    draws = simulate(coefs, disc.powers, disc.units, start, x0, np.array([x_new]))[:, 0, :]
    ok = ~np.isnan(draws).any(axis=1)
    good = draws[ok]
    if noise and len(good):
        n_items = np.array([catalog.info(b).n_items for b in bs], dtype=float)
        p = np.clip(good, 0.0, 100.0) / 100.0
        good = good + rng.standard_normal(good.shape) * 100.0 * np.sqrt(p * (1.0 - p) / n_items)
    q = (1.0 - level) / 2.0
    if len(good):
        # scores are bounded: the interval is reported inside 0-100 (the point prediction is not clipped)
        lo, hi = np.quantile(np.clip(good, 0.0, 100.0), [q, 1 - q], axis=0)
    else:
        lo = hi = np.full(len(bs), np.nan)
    gamma = phase = None
    probs: dict = {}
    if "HellaSwag" in bs and "TruthfulQA" in bs:
        ih, it = bs.index("HellaSwag"), bs.index("TruthfulQA")
        if x_new > x0 and not np.isnan(pred).any():
            g = float(_gamma(start, pred, ih, it))
            gamma = None if np.isnan(g) else g
            phase = phase_label(g)
            gd = _gamma(start, good, ih, it)
            labels = np.array([phase_label(v) for v in gd])
            n = max(len(labels), 1)
            probs = {p: float((labels == p).sum() / n) for p in ("tax", "transition", "bonus", "undetermined")}
    lo_f, hi_f = float(target.params[0]), float(target.params[-1])
    status = "inside range" if lo_f <= params <= hi_f else "extrapolated"
    return ScalePrediction(target.family, float(params), target.models[-1], float(target.params[-1]), bs,
                           start.copy(), pred, lo, hi, status, gamma, phase, probs, int(n_boot),
                           int((~ok).sum()), disc, float(level), int(seed))


def predict_scale(family: str, params: float, scores=None, *, train: Sequence[str] | str | None = None,
                  benchmarks: Sequence[str] | str | None = None, degree: int = 2, threshold: float | None = None,
                  n_models: int = 200, seed: int = 0, units: str = "fraction", alpha: float = DEFAULT_ALPHA,
                  cv_rule: str = "1se", per_equation: bool = True, intercept: bool = True,
                  base_only: bool = True, level: float = 0.95, noise: bool = True) -> ScalePrediction:
    """Predict ``family``'s benchmark scores at ``params`` parameters.

    Args:
        family: the family (its largest complete model is the starting point; one model is enough).
        params: the new parameter count (raw number, e.g. ``3e10``).
        scores: a ScoreTable (default: the embedded cohort).
        train: families the system is discovered on (default every family with all benchmarks).
        benchmarks: the state vector (default the five base benchmarks).
        degree, threshold, units, alpha, cv_rule, per_equation, intercept: as in
            :func:`~cape.dynamics.discovery.fit_system`.
        n_models: bootstrap draws for the interval.
        seed: seed of ``numpy.random.default_rng``.
        level: interval coverage.
        noise: add binomial measurement noise to each draw (a prediction interval for a measured score).

    Returns:
        :class:`ScalePrediction`.

    Example:
        >>> p = predict_scale("Pythia", 3e10, n_models=100)     # doctest: +SKIP
        >>> p.predicted, p.lo, p.hi, p.phase                     # doctest: +SKIP
    """
    level = check_level(level)
    seed = check_seed(seed, allow_none=False)
    table = load_scores(scores)
    tc = prepare(table, benchmarks, families=[family], base_only=base_only, min_points=1, warn=False)
    target = tc.get(family)
    fams = None if train is None else ([train] if isinstance(train, str) else list(train))
    cohort = prepare(table, benchmarks, families=fams, base_only=base_only, warn=False)
    _emit(cohort)
    disc = fit_system(cohort.trajectories, degree=degree, threshold=threshold, n_models=0, seed=seed,
                      units=units, alpha=alpha, cv_rule=cv_rule, per_equation=per_equation,
                      intercept=intercept, level=level,
                      dropped=cohort.dropped, warnings_=cohort.warnings, trajectory_fit=False)
    return predict_family(disc, target, params, n_boot=n_models, seed=seed, level=level, noise=noise)


def parse_params(text: str | float) -> float:
    """A parameter count from ``"7e9"``, ``"7B"``, ``"350M"``, ``"1.2T"`` or a number.

    Example:
        >>> parse_params("70B"), parse_params("350m"), parse_params("1.2e10")
        (70000000000.0, 350000000.0, 12000000000.0)
    """
    if isinstance(text, (int, float)):
        v = float(text)
    else:
        s = str(text).strip().replace("_", "").replace(",", "")
        mult = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
        try:
            if s and s[-1].lower() in mult:
                v = float(s[:-1]) * mult[s[-1].lower()]
            else:
                v = float(s)
        except ValueError:
            raise AnalysisError(f"--params {text!r} is not a parameter count (expected e.g. 7e9, 7B, 350M)") from None
    if not np.isfinite(v) or v <= 0:
        raise AnalysisError(f"--params {text!r} must be a positive parameter count")
    if v < 1e5:
        raise AnalysisError(f"--params {text!r} is {v:g}: give the raw count (7e9) or a suffix (7B), "
                            "not billions as a bare number")
    if v > 1e14:
        raise AnalysisError(f"--params {text!r} is {v:g}, an absurd parameter count (over 1e14)")
    return v


__all__ = ["ScalePrediction", "predict_scale", "predict_family", "parse_params"]
