"""The doctor's result types: a rule's outcome, a recommendation, and the diagnosis of one model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .._format import Line, TextSummary, TextTable, fmt_number, fmt_params, json_clean
from .config import RULES, DoctorConfig
from .parts import CouplingStep, CriticalContext, DEffContext, FrontierContext, PhaseReading, Residual


def _opt(part) -> dict | None:
    """A part's dict, or None for a part the path did not compute."""
    return None if part is None else part.to_dict()


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
class DoctorResult(TextSummary):
    """The diagnosis of one model (what ``cape doctor`` prints and the dashboard shows).

    Attributes:
        model, kind (``base`` / ``frontier``), source (where the model came from), family, params, d_model,
        scores (benchmark -> percent), axes (B1, B2).
        coupling: one :class:`~cape.doctor.parts.CouplingStep` per interval with a neighbour.
        phase: :class:`~cape.doctor.parts.PhaseReading` (label, gamma, confidence, probabilities), or None.
        critical: :class:`~cape.doctor.parts.CriticalContext`: the family's N_c, its CI and status, and the
            model's position (below / near / above); None without a size or on the frontier path.
        residuals: one :class:`~cape.doctor.parts.Residual` per reference trend.
        d_eff: :class:`~cape.doctor.parts.DEffContext`: effective dimensionality of the model's phase.
        frontier: :class:`~cape.doctor.parts.FrontierContext` (h, lab, saturation) for frontier models.
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
    coupling: tuple[CouplingStep, ...]
    phase: PhaseReading | None
    critical: CriticalContext | None
    residuals: tuple[Residual, ...]
    d_eff: DEffContext | None
    frontier: FrontierContext | None
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

    def summary_blocks(self) -> list[Line | TextTable]:
        """The summary as lines and tables (what ``cape doctor`` prints, in order)."""
        d = self
        head = d.model
        if d.family:
            head += f" — {'lab' if d.kind == 'frontier' else 'family'} {d.family}"
        if d.params == d.params and d.params is not None:
            head += f", {fmt_params(d.params)} parameters"
        out: list[Line | TextTable] = [Line(head + f" ({d.kind} model; {d.source})", bold=len(d.model))]
        if d.scores:
            out.append(Line("  scores: " + ", ".join(f"{k} {v:.1f}" for k, v in d.scores.items())))
        if d.coupling:
            cols = ("interval", "Δ" + d.axes[0], "Δ" + d.axes[1], "γ", f"{d.config.level:.0%} noise CI", "phase", "note")
            rows = tuple((f"{g.lower} → {g.upper}", fmt_number(g.d1, 2), fmt_number(g.d2, 2),
                          fmt_number(g.gamma, 3), f"[{fmt_number(g.ci[0])}, {fmt_number(g.ci[1])}]",
                          g.phase or "—", g.note or "") for g in d.coupling)
            out.append(TextTable(f"Local coupling γ = Δ{d.axes[1]} / Δ{d.axes[0]} against neighbours", cols, rows,
                                 right=cols[1:5]))
        out += self._evidence_lines()
        out.append(Line(""))
        out.append(TextTable("Recommendations", ("intervention", "why (the numbers)", "rule"),
                             tuple((f"{r.title}\n{r.action}", r.evidence_text, r.rule) for r in d.recommendations),
                             dim=("rule",), show_lines=True, fold=True, bold_head=True))
        skipped = [r for r in d.rules if r.status != "fired"]
        if skipped:
            out.append(Line("Rules checked and not fired:"))
            out += [Line(f"  - {r.name}: {r.status} — {r.reason}") for r in skipped]
        out += [Line(f"note: {n}", dim=True) for n in d.notes]
        return out

    def _evidence_lines(self) -> list[Line]:
        """Phase, critical scale, residuals, d_eff and frontier context, one line each."""
        d, out = self, []
        ph = d.phase
        if ph:
            src = (f"γ = {fmt_number(ph.gamma, 3)} from {ph.interval}" if ph.gamma is not None
                   else ph.method.split(";")[0])
            pr = ph.probabilities
            out.append(Line(f"Phase: {ph.label or 'undetermined'} ({src}); confidence "
                            f"{fmt_number(100 * (ph.confidence or 0), 0)}% of {ph.n_boot} "
                            f"{'score-noise draws' if ph.gamma is not None else 'bootstrap resamples'} "
                            f"(tax {pr['tax']:.0%}, transition {pr['transition']:.0%}, bonus {pr['bonus']:.0%}"
                            + (f", undetermined {pr['undetermined']:.0%}" if pr.get("undetermined") else "") + ")",
                            bold=5))
        if d.critical:
            out.append(Line(f"Critical scale: {d.critical.message}", bold=14))
        for r in d.residuals:
            iv = f" (± {fmt_number(r.pi_half, 1)} 95% PI)" if r.pi_half is not None else ""
            out.append(Line(f"Residual from {r.reference}: {r.value:+.2f} {r.unit}{iv} — {r.reading}", bold=8))
        if d.d_eff:
            out.append(Line(f"d_eff: {d.d_eff.message}", bold=5))
        if d.frontier:
            out.append(Line(f"Frontier: {d.frontier.message}", bold=8))
        return out

    def to_dict(self) -> dict:
        return json_clean({
            "model": self.model, "kind": self.kind, "source": self.source, "family": self.family,
            "params": self.params, "d_model": self.d_model, "scores": dict(self.scores), "axes": list(self.axes),
            "coupling": [c.to_dict() for c in self.coupling], "phase": _opt(self.phase),
            "critical": _opt(self.critical), "residuals": [r.to_dict() for r in self.residuals],
            "d_eff": _opt(self.d_eff), "frontier": _opt(self.frontier),
            "rules": [r.to_dict() for r in self.rules],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "notes": list(self.notes), "config": self.config.to_dict()})
