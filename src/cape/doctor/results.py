"""The doctor's result types: a rule's outcome, a recommendation, and the diagnosis of one model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .._format import json_clean
from .config import RULES, DoctorConfig


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class RuleOutcome:
    """One rule checked: ``status`` is ``fired``, ``not fired`` or ``not applicable``; ``reason`` one sentence;
    ``evidence`` the numbers behind it."""

    name: str
    status: str
    reason: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "reason": self.reason, "evidence": json_clean(self.evidence)}


@dataclass(frozen=True)
class Recommendation:
    """A recommended intervention: what to do, the rule that fired (in words) and its evidence.

    ``lever_evidence``: for an intervention that is a lever (curation, width), the lever's effect on coupling
    measured from public scores at the model's size (effect, CI, p, families; see
    :mod:`cape.levers.evidence`), one dict per lever contrast; its sentences end ``evidence_text``.
    """

    name: str
    title: str
    action: str
    rule: str
    evidence: dict
    evidence_text: str
    lever_evidence: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "action": self.action, "rule": self.rule,
                "evidence": json_clean(self.evidence), "evidence_text": self.evidence_text,
                "lever_evidence": [json_clean(e) for e in self.lever_evidence]}


@dataclass(frozen=True)
class DoctorResult:
    """The diagnosis of one model (what ``cape doctor`` prints and the dashboard shows).

    Attributes:
        model, kind (``base`` / ``frontier``), source (where the model came from), family, params, d_model,
        scores (benchmark -> percent), axes (B1, B2).
        coupling: one dict per interval with a neighbour (lower, upper, d1, d2, gamma, ci, phase, role, note).
        phase: label, gamma, interval, confidence, probabilities (tax / transition / bonus / undetermined).
        critical: the family's N_c, its CI and status, and the model's position (below / near / above).
        residuals: one dict per reference trend (value, unit, prediction-interval half-width, reading).
        d_eff: effective dimensionality of the model's phase in the cohort.
        frontier: frontier context (h, lab, saturation) for frontier models.
        rules: every rule checked, fired or not; recommendations: the fired ones (or ``none``).
        notes: what was missing or set aside.
    """

    model: str
    kind: str
    source: str
    family: str | None
    params: float | None
    d_model: float | None
    scores: dict
    axes: tuple[str, str]
    coupling: tuple[dict, ...]
    phase: dict | None
    critical: dict | None
    residuals: tuple[dict, ...]
    d_eff: dict | None
    frontier: dict | None
    rules: tuple[RuleOutcome, ...]
    recommendations: tuple[Recommendation, ...]
    notes: tuple[str, ...]
    config: DoctorConfig

    @property
    def fired(self) -> list[str]:
        return [r.name for r in self.rules if r.status == "fired"]

    def rule(self, name: str) -> RuleOutcome:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: status, reason, and whether it is among the recommendations."""
        return pd.DataFrame([{"rule": r.name, "status": r.status, "reason": r.reason,
                              "title": RULES[r.name][0]} for r in self.rules]).set_index("rule")

    def to_dict(self) -> dict:
        return json_clean({
            "model": self.model, "kind": self.kind, "source": self.source, "family": self.family,
            "params": self.params, "d_model": self.d_model, "scores": dict(self.scores), "axes": list(self.axes),
            "coupling": [dict(c) for c in self.coupling], "phase": self.phase, "critical": self.critical,
            "residuals": [dict(r) for r in self.residuals], "d_eff": self.d_eff, "frontier": self.frontier,
            "rules": [r.to_dict() for r in self.rules],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "notes": list(self.notes), "config": self.config.to_dict()})
