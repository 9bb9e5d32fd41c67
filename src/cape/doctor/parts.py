"""The parts of a diagnosis (:class:`~cape.doctor.results.DoctorResult`): typed, frozen, each with ``to_dict()``.

A coupling step against a neighbour, the phase reading, the family's critical scale, a residual from a trend,
the d_eff context and the frontier context. ``to_dict()`` gives the keys ``cape doctor --json`` prints, in its
order; an optional part a path does not compute (e.g. a frontier step's sizes) is left out of the dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _some(d: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """``d`` without the ``optional`` keys whose value is None."""
    return {k: v for k, v in d.items() if not (k in optional and v is None)}


@dataclass(frozen=True)
class CouplingStep:
    """Local coupling over one interval next to the model.

    Attributes:
        lower, upper: the interval's models (smaller first; frontier: ordered by SWE).
        role: ``below`` (the interval ends at the model) or ``above``.
        n_lower, n_upper: their parameter counts (None on the frontier path, where sizes are unknown).
        d1, d2: score steps on the two axes (points).
        gamma: ``d2 / d1`` (None when the step is skipped).
        ci: score-noise percentile interval of gamma at the config's level (``[low, high]``, None ends).
        phase: ``tax`` / ``transition`` / ``bonus`` (None when gamma is None).
        status: ``ok`` or why the step was skipped (``small_step``, ``equal_n``).
        note: a sentence on a skipped or odd step (empty when none).
    """

    lower: str
    upper: str
    role: str
    d1: float
    d2: float
    gamma: float | None
    ci: list
    phase: str | None
    status: str
    note: str = ""
    n_lower: float | None = None
    n_upper: float | None = None

    def to_dict(self) -> dict:
        return _some({"lower": self.lower, "upper": self.upper, "role": self.role, "n_lower": self.n_lower,
                      "n_upper": self.n_upper, "d1": self.d1, "d2": self.d2, "gamma": self.gamma,
                      "ci": list(self.ci), "phase": self.phase, "status": self.status, "note": self.note},
                     ("n_lower", "n_upper"))


@dataclass(frozen=True)
class PhaseReading:
    """The model's phase with its confidence.

    Attributes:
        label: ``tax`` / ``transition`` / ``bonus`` (None: undetermined).
        gamma, gamma_ci: the gamma it is read from and its interval (None / ``[None, None]`` when read from the
            population coupling r).
        interval: which interval (``"A → B"``) or ``population (all labs)``.
        confidence: the share of draws giving ``label``.
        probabilities: tax / transition / bonus / undetermined shares of the draws.
        n_boot: draws (score-noise draws or bootstrap resamples).
        thresholds: ``[phase_lower, phase_upper]``.
        method: one sentence on how the phase was read.
    """

    label: str | None
    gamma: float | None
    gamma_ci: list
    interval: str
    confidence: float | None
    probabilities: dict[str, float]
    n_boot: int
    thresholds: list[float]
    method: str

    def to_dict(self) -> dict:
        return {"label": self.label, "gamma": self.gamma, "gamma_ci": list(self.gamma_ci), "interval": self.interval,
                "confidence": self.confidence, "probabilities": dict(self.probabilities), "n_boot": self.n_boot,
                "thresholds": list(self.thresholds), "method": self.method}


@dataclass(frozen=True)
class CriticalContext:
    """The family's critical scale N_c and the model's position relative to it.

    Attributes:
        nc: N_c (parameters; None when none is established).
        ci: ``[low, high]`` (0 / inf for an open end; None ends when unknown).
        status: as :class:`cape.critical.NcResult` (``observed``, ``extrapolated``, ``none``,
            ``insufficient``).
        direction: for ``none``, where a flip could still lie (``above`` / ``below``).
        summary: N_c with its CI in one short phrase; method: the estimator.
        position: ``below`` / ``near`` / ``above`` / ``unresolved`` (None when the model has no size).
        message: one sentence for the summary.
        ci_note: how ``near`` was judged when N_c has no CI (None otherwise).
    """

    nc: float | None
    ci: list
    status: str
    direction: str | None
    summary: str
    method: str
    position: str | None
    message: str
    ci_note: str | None = None

    def to_dict(self) -> dict:
        return _some({"nc": self.nc, "ci": list(self.ci), "status": self.status, "direction": self.direction,
                      "summary": self.summary, "method": self.method, "position": self.position,
                      "message": self.message, "ci_note": self.ci_note}, ("ci_note",))


@dataclass(frozen=True)
class Residual:
    """The model's distance from one reference trend.

    Attributes:
        key: ``family``, ``web``, ``paper``, ``population`` or ``lolo``.
        reference: which trend, in words.
        value: observed minus predicted (``unit``); predicted: the trend's value at the model.
        unit: e.g. ``TruthfulQA points``.
        pi_half: half-width of the prediction interval at the config's level (None when not computed).
        reading: one sentence.
    """

    key: str
    reference: str
    value: float
    unit: str
    predicted: float
    pi_half: float | None
    reading: str

    def to_dict(self) -> dict:
        return {"key": self.key, "reference": self.reference, "value": self.value, "unit": self.unit,
                "predicted": self.predicted, "pi_half": self.pi_half, "reading": self.reading}


@dataclass(frozen=True)
class DEffContext:
    """Effective dimensionality of the model's phase in the cohort (or of the frontier's three-axis sub-panel).

    Attributes:
        phase: the phase it is computed for (None: unknown, or the frontier sub-panel).
        d_eff: participation ratio (None when not available); ci: its ``[low, high]``; n: models.
        groups: per phase, ``{n, n_families, d_eff, ci, status}`` (None on the frontier path).
        benchmarks: the benchmarks it spans; method: the estimator (both None when it could not be computed).
        message: one sentence for the summary.
    """

    phase: str | None
    d_eff: float | None
    ci: list
    n: int
    message: str
    groups: dict[str, dict] | None = None
    benchmarks: list[str] | None = None
    method: str | None = None

    def to_dict(self) -> dict:
        return _some({"phase": self.phase, "d_eff": self.d_eff, "ci": list(self.ci), "n": self.n,
                      "groups": self.groups, "benchmarks": self.benchmarks, "method": self.method,
                      "message": self.message}, ("groups", "benchmarks", "method"))


@dataclass(frozen=True)
class FrontierContext:
    """A frontier model against the population line SWE-bench Verified -> GPQA Diamond.

    Attributes:
        h: GPQA points above (+) or below (-) the line; pi_half: its 95% prediction half-width; predicted: the
            line's GPQA at the model's SWE; direction: the reading in words; outside_pi: ``|h| > pi_half``.
        lab, lab_mean_h, lab_n: the model's lab, its mean h and how many of its models are in the fit.
        population_r, population_r_ci: the panel's coupling r and its bootstrap CI.
        line: ``[slope, intercept]``.
        lolo_predicted: GPQA predicted by the line fitted without the lab (None when not defined).
        saturation: the panel's saturation check (:class:`cape.frontier.Saturation` as a dict, no ranking).
        message: one sentence for the summary.
    """

    h: float
    pi_half: float
    predicted: float
    direction: str
    outside_pi: bool
    lab: str
    lab_mean_h: float | None
    lab_n: int
    population_r: float
    population_r_ci: list
    line: list[float]
    lolo_predicted: float | None
    saturation: dict = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict:
        return {"h": self.h, "pi_half": self.pi_half, "predicted": self.predicted, "direction": self.direction,
                "outside_pi": self.outside_pi, "lab": self.lab, "lab_mean_h": self.lab_mean_h, "lab_n": self.lab_n,
                "population_r": self.population_r, "population_r_ci": list(self.population_r_ci),
                "line": list(self.line), "lolo_predicted": self.lolo_predicted, "saturation": dict(self.saturation),
                "message": self.message}
