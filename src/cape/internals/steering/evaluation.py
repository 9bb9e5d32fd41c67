"""The result types of a steering evaluation: two-choice truthfulness (:class:`MCResult`), a sweep cell
(:class:`SweepCell`) and everything ``cape steer eval`` reports (:class:`SteeringEvaluation`, with its Markdown
tables)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from .generate import GenerationPair

__all__ = ["MCResult", "SteeringEvaluation", "SweepCell"]


@dataclass(frozen=True)
class MCResult:
    """Two-choice truthfulness results, unsteered vs steered, on the same items.

    Attributes:
        n: Number of items.
        accuracy_unsteered, accuracy_steered: Share of items with log p(true) > log p(false).
        margin_unsteered, margin_steered: Mean of log p(true) - log p(false) (nats).
        margin_diff, margin_diff_ci: Mean paired change in margin, with its bootstrap CI.
        accuracy_diff, accuracy_diff_ci: Change in accuracy (fraction), with its bootstrap CI.
        logprob_unsteered, logprob_steered: Mean answer score (both answers): a fluency check. A large drop
            means steering is breaking the model, and accuracy then drifts towards 50% whatever the direction.
        level: Confidence level of the intervals.
    """

    n: int
    accuracy_unsteered: float
    accuracy_steered: float
    margin_unsteered: float
    margin_steered: float
    margin_diff: float
    margin_diff_ci: tuple[float, float]
    accuracy_diff: float
    accuracy_diff_ci: tuple[float, float]
    logprob_unsteered: float = float("nan")
    logprob_steered: float = float("nan")
    level: float = 0.95

    @property
    def verdict(self) -> str:
        lo, hi = self.margin_diff_ci
        if lo > 0:
            return "more truthful"
        if hi < 0:
            return "less truthful"
        return "no detectable change"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["margin_diff_ci"] = list(self.margin_diff_ci)
        d["accuracy_diff_ci"] = list(self.accuracy_diff_ci)
        d["verdict"] = self.verdict
        return d


@dataclass(frozen=True)
class SweepCell:
    """One (layer, strength) cell of the sweep, on the held-out items."""

    layer: int
    strength: float
    accuracy: float
    margin: float
    accuracy_gain: float
    margin_gain: float
    logprob_change: float = float("nan")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SteeringEvaluation:
    """Everything ``cape steer eval`` reports.

    Attributes:
        model_id: The evaluated model.
        layers, strength, positions: The main steering setting evaluated.
        mc: Held-out two-choice results (:class:`MCResult`).
        intervention_rate: Share of prompts whose greedy output changed (``None`` if not measured).
        n_prompts, n_changed: Prompt counts behind the rate.
        generations: The prompt-by-prompt texts.
        sweep: Layer x strength cells.
        quarter_layer: The paper's layer ``floor(L/4)``.
        validated_layer: The layer chosen on the training validation split (``None`` without a sweep).
        sweep_best_layer: The layer with the largest margin gain in this sweep at ``strength`` (in-sample).
        negation_control: Margin gain by item group: a negation word (not, no, never, ...) in the true answer
            only, in the false answer only, or in neither/both. A vector that merely pushes towards negation
            gains on the first group and loses on the second.
        settings: Item/prompt sources, counts, seeds and decoding settings.
    """

    model_id: str | None
    layers: tuple[int, ...]
    strength: float
    positions: str
    mc: MCResult | None
    intervention_rate: float | None
    n_prompts: int
    n_changed: int
    generations: tuple[GenerationPair, ...] = ()
    sweep: tuple[SweepCell, ...] = ()
    quarter_layer: int | None = None
    validated_layer: int | None = None
    sweep_best_layer: int | None = None
    negation_control: tuple[dict, ...] = ()
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "model_id": self.model_id,
            "layers": list(self.layers),
            "strength": self.strength,
            "positions": self.positions,
            "mc": self.mc.to_dict() if self.mc else None,
            "intervention_rate": self.intervention_rate,
            "n_prompts": self.n_prompts,
            "n_changed": self.n_changed,
            "generations": [g.to_dict() for g in self.generations],
            "sweep": [c.to_dict() for c in self.sweep],
            "quarter_layer": self.quarter_layer,
            "validated_layer": self.validated_layer,
            "sweep_best_layer": self.sweep_best_layer,
            "negation_control": list(self.negation_control),
            "settings": self.settings,
        }

    def layer_comparison(self) -> list[dict]:
        """Quarter-depth vs validated vs in-sample best layer at the evaluated strength (from the sweep)."""
        rows = []
        for label, layer in (("quarter depth (paper)", self.quarter_layer),
                             ("validated (training split)", self.validated_layer),
                             ("best in this sweep (in-sample)", self.sweep_best_layer)):
            if layer is None:
                continue
            cell = next((c for c in self.sweep if c.layer == layer and math.isclose(c.strength, self.strength)), None)
            rows.append({"choice": label, "layer": layer,
                         "accuracy": cell.accuracy if cell else None,
                         "margin_gain": cell.margin_gain if cell else None})
        return rows

    def markdown(self) -> str:
        """The evaluation as Markdown tables (pasteable into a report)."""
        out = self._mc_markdown()
        if self.intervention_rate is not None:
            out += [f"Intervention rate (greedy steered output differs from greedy unsteered output): "
                    f"{self.n_changed}/{self.n_prompts} = {self.intervention_rate:.0%}.", ""]
        if self.sweep:
            out += self._sweep_markdown()
        return "\n".join(out)

    def _mc_markdown(self) -> list[str]:
        """Held-out truthfulness unsteered vs steered, its verdict and the negation control."""
        if self.mc is None:
            return []
        m = self.mc
        lo, hi = m.margin_diff_ci
        alo, ahi = m.accuracy_diff_ci
        out = [
            f"Held-out truthfulness, {m.n} two-choice items; steering at layer(s) {list(self.layers)}, "
            f"strength {self.strength:g} (x mean residual norm), positions {self.positions}:",
            "",
            "| | unsteered | steered | difference (95% CI) |",
            "|---|---|---|---|",
            f"| accuracy | {m.accuracy_unsteered:.3f} | {m.accuracy_steered:.3f} | "
            f"{m.accuracy_diff:+.3f} ({alo:+.3f}, {ahi:+.3f}) |",
            f"| mean margin log p(true) - log p(false) | {m.margin_unsteered:.3f} | {m.margin_steered:.3f} | "
            f"{m.margin_diff:+.3f} ({lo:+.3f}, {hi:+.3f}) |",
            f"| mean answer log p (fluency check) | {m.logprob_unsteered:.3f} | {m.logprob_steered:.3f} | "
            f"{m.logprob_steered - m.logprob_unsteered:+.3f} |",
            "",
            f"Verdict: {m.verdict}.",
            "",
        ]
        if self.negation_control:
            out += ["Negation control (margin gain by where a negation word appears):", "",
                    "| items | n | margin gain |", "|---|---|---|"]
            for g in self.negation_control:
                mg = f"{g['margin_gain']:+.3f}" if g["n"] else "—"
                out.append(f"| {g['group']} | {g['n']} | {mg} |")
            out.append("")
        return out

    def _sweep_markdown(self) -> list[str]:
        """The layer x strength grid and the layer choice at the evaluated strength."""
        strengths = sorted({c.strength for c in self.sweep})
        out = ["Margin gain (nats) by layer and strength; accuracy and change in mean answer log p in brackets:", "",
               "| layer | " + " | ".join(f"s={s:g}" for s in strengths) + " |",
               "|---|" + "---|" * len(strengths)]
        for layer in sorted({c.layer for c in self.sweep}):
            tags = [t for t, x in (("quarter", self.quarter_layer), ("validated", self.validated_layer)) if layer == x]
            label = f"{layer}" + (f" ({', '.join(tags)})" if tags else "")
            cells = []
            for s in strengths:
                c = next((c for c in self.sweep if c.layer == layer and c.strength == s), None)
                cells.append(f"{c.margin_gain:+.3f} ({c.accuracy:.2f}, {c.logprob_change:+.2f})" if c else "—")
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        out.append("")
        comp = self.layer_comparison()
        if comp:
            out += [f"Layer choice at strength {self.strength:g}:", "", "| choice | layer | accuracy | margin gain |",
                    "|---|---|---|---|"]
            for r in comp:
                acc = f"{r['accuracy']:.3f}" if r["accuracy"] is not None else "—"
                mg = f"{r['margin_gain']:+.3f}" if r["margin_gain"] is not None else "—"
                out.append(f"| {r['choice']} | {r['layer']} | {acc} | {mg} |")
            out.append("")
        return out

    def summary(self) -> str:
        """The evaluation as text: the Markdown tables ``cape steer eval`` prints."""
        return self.markdown()

    def __str__(self) -> str:
        return self.summary()
