"""Per-head coupling of reasoning and truthfulness, for every layer and head (docs/methods.md, "Per-head and per-layer coupling").

A head's representation of a text is its output at the last token: its slice of the input of the attention
output projection (``representation="z"``, TransformerLens ``hook_z``), or that slice mapped through its block of
the projection weight, i.e. its contribution to the residual stream (``representation="result"``). All heads of
all layers come from the same forward passes (:func:`cape.internals.hooks.capture_contrast`), and the bootstrap
and permutation null are computed for all heads at once (:func:`cape.internals.measures.unit_coupling`).

Example:
    >>> acts = capture_contrast(model, tok, load_contrast_set("reasoning"), load_contrast_set("truthfulness"))  # doctest: +SKIP
    >>> res = head_coupling(acts, measure="contrast", seed=0)                                                      # doctest: +SKIP
    >>> res.n_competing, res.pct_cooperative                                                                       # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cape.errors import AnalysisError
from cape.internals.hooks import ContrastActivations
from cape.internals.measures import UnitStats, as_jsonable, benjamini_hochberg, get_measure, unit_coupling
from cape.internals.results import Provenance, Thresholds, early_mid_late

__all__ = ["REPRESENTATIONS", "HeadCouplingResult", "classify_units", "head_coupling"]

REPRESENTATIONS = ("z", "result")


def classify_units(cosine: np.ndarray, p_lower: np.ndarray, thresholds: Thresholds) -> dict[str, np.ndarray]:
    """Boolean masks ``cooperative``, ``competing_raw``, ``competing``, ``near_zero``, ``defined``, plus ``q_lower``."""
    cosine = np.asarray(cosine, dtype=np.float64)
    defined = np.isfinite(cosine)
    c = np.where(defined, cosine, 0.0)
    p = np.asarray(p_lower, dtype=np.float64)
    q = benjamini_hochberg(p) if thresholds.fdr else p
    significant = np.isfinite(q) & (q < thresholds.alpha)
    competing_raw = defined & (c < thresholds.competing)
    return {
        "defined": defined,
        "cooperative": defined & (c > thresholds.cooperative),
        "competing_raw": competing_raw,
        "competing": competing_raw & significant,
        "near_zero": defined & (np.abs(c) < thresholds.near_zero),
        "q_lower": q,
    }


@dataclass(frozen=True, eq=False)
class HeadCouplingResult:
    """Coupling of every attention head, its classification and the model-level summary.

    Arrays are ``[layers, heads]``.

    Attributes:
        measure: ``"contrast"`` or ``"paper"``.
        representation: ``"z"`` (head output before the projection) or ``"result"`` (through its slice of it).
        stats: Per-head :class:`~cape.internals.measures.UnitStats`.
        thresholds: The classification thresholds.
        provenance: Where the numbers come from (``None`` when computed from bare activations).
        warnings: Sanity warnings (e.g. a profile constant across layers).
    """

    measure: str
    representation: str
    n_layers: int
    n_heads: int
    head_dim: int
    n_items: tuple[int, int]
    stats: UnitStats
    thresholds: Thresholds
    provenance: Provenance | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ classification
    @property
    def cosine(self) -> np.ndarray:
        return self.stats.cosine

    def _masks(self) -> dict[str, np.ndarray]:
        return classify_units(self.stats.cosine, self.stats.p_lower, self.thresholds)

    @property
    def n_units(self) -> int:
        return self.n_layers * self.n_heads

    @property
    def n_defined(self) -> int:
        return int(self._masks()["defined"].sum())

    @property
    def n_cooperative(self) -> int:
        return int(self._masks()["cooperative"].sum())

    @property
    def pct_cooperative(self) -> float:
        n = self.n_defined
        return 100.0 * self.n_cooperative / n if n else math.nan

    @property
    def n_competing(self) -> int:
        """Heads below the competing threshold *and* significantly lower than the permutation null."""
        return int(self._masks()["competing"].sum())

    @property
    def n_competing_raw(self) -> int:
        """Heads below the competing threshold, ignoring the null (the paper's count)."""
        return int(self._masks()["competing_raw"].sum())

    @property
    def n_near_zero(self) -> int:
        return int(self._masks()["near_zero"].sum())

    @property
    def median_cosine(self) -> float:
        c = self.cosine[np.isfinite(self.cosine)]
        return float(np.median(c)) if c.size else math.nan

    @property
    def net(self) -> float:
        """Mean coupling over all heads (the paper's ``net``)."""
        c = self.cosine[np.isfinite(self.cosine)]
        return float(c.mean()) if c.size else math.nan

    @property
    def per_layer(self) -> np.ndarray:
        """Mean coupling over the heads of each layer."""
        with np.errstate(invalid="ignore"):
            c = np.where(np.isfinite(self.cosine), self.cosine, np.nan)
            counts = np.isfinite(c).sum(axis=1)
            sums = np.nansum(c, axis=1)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    @property
    def early_mid_late(self) -> tuple[float, float, float]:
        return early_mid_late(self.per_layer)

    @property
    def zero_competing(self) -> bool:
        """The paper's "zero competing heads" (significance-aware count)."""
        return self.n_competing == 0

    @property
    def zero_competing_raw(self) -> bool:
        return self.n_competing_raw == 0

    @property
    def all_cooperative(self) -> bool:
        """The paper's "100% cooperative heads" (every defined head has ``c > cooperative``)."""
        return self.n_defined > 0 and self.n_cooperative == self.n_defined

    # ------------------------------------------------------------------ views
    def summary_dict(self) -> dict[str, Any]:
        early, mid, late = self.early_mid_late
        return as_jsonable(
            {
                "n_units": self.n_units,
                "n_defined": self.n_defined,
                "n_cooperative": self.n_cooperative,
                "pct_cooperative": self.pct_cooperative,
                "n_competing": self.n_competing,
                "n_competing_raw": self.n_competing_raw,
                "n_near_zero": self.n_near_zero,
                "median_cosine": self.median_cosine,
                "net": self.net,
                "early": early,
                "mid": mid,
                "late": late,
                "zero_competing": self.zero_competing,
                "zero_competing_raw": self.zero_competing_raw,
                "all_cooperative": self.all_cooperative,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        s = self.stats
        return as_jsonable(
            {
                "analysis": "heads",
                "measure": self.measure,
                "measure_description": get_measure(self.measure).description,
                "representation": self.representation,
                "n_layers": self.n_layers,
                "n_heads": self.n_heads,
                "head_dim": self.head_dim,
                "n_items": {"reasoning": self.n_items[0], "truthfulness": self.n_items[1]},
                "thresholds": self.thresholds.to_dict(),
                "n_boot": s.n_boot,
                "n_perm": s.n_perm,
                "ci_level": s.ci_level,
                "summary": self.summary_dict(),
                "per_layer": self.per_layer,
                "cosine": s.cosine,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "p_lower": s.p_lower,
                "p_upper": s.p_upper,
                "warnings": list(self.warnings),
                "provenance": self.provenance.to_dict() if self.provenance else None,
            }
        )

    def to_frame(self):
        """One row per head: layer, head, cosine, CI, p-values, q-value and classification."""
        import pandas as pd

        masks = self._masks()
        layer, head = np.meshgrid(np.arange(self.n_layers), np.arange(self.n_heads), indexing="ij")
        s = self.stats
        frame = pd.DataFrame(
            {
                "layer": layer.ravel(),
                "head": head.ravel(),
                "cosine": s.cosine.ravel(),
                "ci_low": s.ci_low.ravel(),
                "ci_high": s.ci_high.ravel(),
                "p_lower": s.p_lower.ravel(),
                "p_upper": s.p_upper.ravel(),
                "q_lower": masks["q_lower"].ravel(),
                "norm_reasoning": s.norm_r.ravel(),
                "norm_truthfulness": s.norm_t.ravel(),
                "cooperative": masks["cooperative"].ravel(),
                "competing": masks["competing"].ravel(),
                "competing_raw": masks["competing_raw"].ravel(),
                "near_zero": masks["near_zero"].ravel(),
            }
        )
        frame.insert(0, "measure", self.measure)
        if self.provenance is not None:
            frame.insert(0, "model_id", self.provenance.model_id)
        return frame

    def summary(self) -> str:
        """A short plain-text summary for papers and logs."""
        d = self.summary_dict()
        name = self.provenance.model_id if self.provenance else "model"
        fmt = lambda v: "n/a" if v is None else f"{v:+.3f}"  # noqa: E731
        lines = [
            f"Per-head coupling of {name} ({self.n_layers} layers x {self.n_heads} heads, measure={self.measure}, "
            f"representation={self.representation}, {self.n_items[0]}+{self.n_items[1]} items)",
            f"  cooperative (c > {self.thresholds.cooperative:g}): {d['n_cooperative']}/{d['n_defined']} "
            f"({d['pct_cooperative']:.1f}%)" if d["pct_cooperative"] is not None else "  cooperative: n/a",
            f"  competing (c < {self.thresholds.competing:g} and p < {self.thresholds.alpha:g}): {d['n_competing']}"
            f"  [threshold only: {d['n_competing_raw']}]",
            f"  near zero (|c| < {self.thresholds.near_zero:g}): {d['n_near_zero']}",
            f"  median {fmt(d['median_cosine'])}, net {fmt(d['net'])}, early/mid/late "
            f"{fmt(d['early'])} / {fmt(d['mid'])} / {fmt(d['late'])}",
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def with_provenance(self, provenance: Provenance, warnings: tuple[str, ...] = ()) -> HeadCouplingResult:
        return replace(self, provenance=provenance, warnings=tuple(self.warnings) + tuple(warnings))


def head_coupling(
    acts: ContrastActivations,
    *,
    measure: str = "contrast",
    representation: str = "z",
    n_boot: int = 1000,
    n_perm: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
    thresholds: Thresholds | None = None,
    provenance: Provenance | None = None,
) -> HeadCouplingResult:
    """Coupling of every head between the reasoning and the truthfulness contrast sets.

    Args:
        acts: Captured activations (with ``heads``), from :func:`cape.internals.hooks.capture_contrast`.
        measure: ``"contrast"`` (default: cosine of the two contrast directions) or ``"paper"`` (cosine of the raw
            mean head outputs over the two prompt sets).
        representation: ``"z"`` (default) or ``"result"`` (needs ``acts.head_maps``).
        n_boot, n_perm: Bootstrap resamples and null permutations (vectorised over all heads).
        seed: Seed of the resampling.
        ci_level: Bootstrap interval level.
        thresholds: Classification thresholds (paper defaults).
        provenance: Attached to the result as is.

    Returns:
        :class:`HeadCouplingResult`.
    """
    if representation not in REPRESENTATIONS:
        raise AnalysisError(f"Unknown head representation {representation!r}; expected one of {REPRESENTATIONS}.")
    parts = acts.parts()
    if any(p.heads is None for p in parts):
        raise AnalysisError("these activations were captured without heads=True.")
    n_layers, n_heads, head_dim = parts[0].heads.shape[1:]
    flat = [p.heads.reshape(p.heads.shape[0], n_layers * n_heads, head_dim) for p in parts]
    maps = None
    if representation == "result":
        if acts.head_maps is None:
            raise AnalysisError("representation='result' needs activations captured with head_maps=True.")
        maps = acts.head_maps.reshape(n_layers * n_heads, acts.head_maps.shape[2], head_dim)
    stats = unit_coupling(
        *flat, measure=measure, n_boot=n_boot, n_perm=n_perm, seed=seed, ci_level=ci_level, maps=maps
    )
    shape = (n_layers, n_heads)
    stats = UnitStats(
        measure=stats.measure,
        cosine=stats.cosine.reshape(shape),
        ci_low=stats.ci_low.reshape(shape),
        ci_high=stats.ci_high.reshape(shape),
        p_lower=stats.p_lower.reshape(shape),
        p_upper=stats.p_upper.reshape(shape),
        null_mean=stats.null_mean.reshape(shape),
        norm_r=stats.norm_r.reshape(shape),
        norm_t=stats.norm_t.reshape(shape),
        n_boot=stats.n_boot,
        n_perm=stats.n_perm,
        ci_level=stats.ci_level,
    )
    result = HeadCouplingResult(
        measure=stats.measure,
        representation=representation,
        n_layers=int(n_layers),
        n_heads=int(n_heads),
        head_dim=int(head_dim),
        n_items=(parts[0].heads.shape[0], parts[2].heads.shape[0]),
        stats=stats,
        thresholds=thresholds or Thresholds(),
        provenance=provenance,
    )
    from cape.internals.results import sanity_warnings

    name = provenance.model_id if provenance else "model"
    warns = tuple(sanity_warnings({name: result.per_layer}))
    return replace(result, warnings=warns) if warns else result
