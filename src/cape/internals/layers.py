"""Per-layer coupling of the residual stream, and representational dimensionality ``d_rep`` per layer.

The residual stream of layer ``l`` is the output hidden state of decoder block ``l`` at the last token.
Its coupling uses the same measures as the heads (:mod:`cape.internals.measures`): ``contrast`` (default) and
the paper's ``paper`` (docs/methods.md, "Per-head and per-layer coupling": cosine of the mean hidden states over the two prompt sets).

``d_rep`` (docs/methods.md, "Effective dimensionality") is the participation ratio ``(sum lambda)^2 / sum lambda^2`` of the eigenvalues of
the covariance of the hidden states (texts x d_model) at each layer. The spec leaves the matrix unspecified;
here the rows are the texts chosen by ``texts=`` (default: both sides of every item of both sets), centred.
The bootstrap resamples texts and works on the Gram matrix, so it costs ``O(texts^2)`` per resample.

Example:
    >>> res = layer_coupling(acts, measure="contrast")     # doctest: +SKIP
    >>> res.early_mid_late                                  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cape.errors import AnalysisError
from cape.internals.hooks import ContrastActivations
from cape.internals.measures import UnitStats, as_jsonable, get_measure, unit_coupling
from cape.internals.results import Provenance, early_mid_late

__all__ = [
    "LayerCouplingResult",
    "RepDimResult",
    "layer_coupling",
    "participation_ratio",
    "rep_dimensionality",
]


@dataclass(frozen=True, eq=False)
class LayerCouplingResult:
    """Coupling of the residual stream at every layer (arrays ``[layers]``)."""

    measure: str
    n_layers: int
    n_items: tuple[int, int]
    stats: UnitStats
    provenance: Provenance | None = None

    @property
    def per_layer(self) -> np.ndarray:
        return self.stats.cosine

    @property
    def early_mid_late(self) -> tuple[float, float, float]:
        return early_mid_late(self.per_layer)

    @property
    def trend(self) -> float:
        """Late minus early third (positive: coupling grows with depth)."""
        early, _, late = self.early_mid_late
        return late - early

    def to_dict(self) -> dict[str, Any]:
        early, mid, late = self.early_mid_late
        s = self.stats
        return as_jsonable(
            {
                "analysis": "layer_coupling",
                "measure": self.measure,
                "measure_description": get_measure(self.measure).description,
                "n_layers": self.n_layers,
                "n_items": {"reasoning": self.n_items[0], "truthfulness": self.n_items[1]},
                "early": early,
                "mid": mid,
                "late": late,
                "trend_late_minus_early": self.trend,
                "cosine": s.cosine,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "p_lower": s.p_lower,
                "p_upper": s.p_upper,
                "n_boot": s.n_boot,
                "n_perm": s.n_perm,
                "provenance": self.provenance.to_dict() if self.provenance else None,
            }
        )

    def to_frame(self):
        import pandas as pd

        s = self.stats
        return pd.DataFrame(
            {
                "measure": self.measure,
                "layer": np.arange(self.n_layers),
                "cosine": s.cosine,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "p_lower": s.p_lower,
                "p_upper": s.p_upper,
            }
        )


def layer_coupling(
    acts: ContrastActivations,
    *,
    measure: str = "contrast",
    n_boot: int = 1000,
    n_perm: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
    provenance: Provenance | None = None,
) -> LayerCouplingResult:
    """Coupling of the residual stream at each layer.

    Args:
        acts: Activations captured with ``residual=True``.
        measure: ``"contrast"`` or ``"paper"``.
        n_boot, n_perm, seed, ci_level: As in :func:`cape.internals.measures.unit_coupling`.
        provenance: Attached as is.
    """
    parts = acts.parts()
    if any(p.residual is None for p in parts):
        raise AnalysisError("these activations were captured without residual=True.")
    stats = unit_coupling(
        *(p.residual for p in parts), measure=measure, n_boot=n_boot, n_perm=n_perm, seed=seed, ci_level=ci_level
    )
    return LayerCouplingResult(
        measure=stats.measure,
        n_layers=int(parts[0].residual.shape[1]),
        n_items=(parts[0].residual.shape[0], parts[2].residual.shape[0]),
        stats=stats,
        provenance=provenance,
    )


def participation_ratio(x: np.ndarray) -> float:
    """Participation ratio of the covariance spectrum of the rows of ``x`` (``[samples, dims]``).

    ``(sum lambda)^2 / sum lambda^2``, between 1 (one direction) and ``min(samples - 1, dims)``.
    ``nan`` when the rows are all equal.
    """
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=0, keepdims=True)
    gram = xc @ xc.T
    return _pr_from_gram(gram)


def _pr_from_gram(gram: np.ndarray) -> float:
    total = float(np.trace(gram))
    sq = float(np.sum(gram * gram))
    if sq <= 0 or total <= 0:
        return math.nan
    return total * total / sq


def _centre_gram(g: np.ndarray) -> np.ndarray:
    row = g.mean(axis=1, keepdims=True)
    col = g.mean(axis=0, keepdims=True)
    return g - row - col + g.mean()


@dataclass(frozen=True, eq=False)
class RepDimResult:
    """``d_rep`` (participation ratio of the hidden-state covariance) at every layer and the final state."""

    per_layer: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    final: float
    n_texts: int
    texts: str
    n_boot: int
    provenance: Provenance | None = None
    max_possible: int = 0
    notes: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return as_jsonable(
            {
                "analysis": "d_rep",
                "definition": "participation ratio (sum l)^2 / sum l^2 of the covariance eigenvalues of the "
                "last-token hidden states (rows: texts) at each layer",
                "texts": self.texts,
                "n_texts": self.n_texts,
                "max_possible": self.max_possible,
                "per_layer": self.per_layer,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "final": self.final,
                "n_boot": self.n_boot,
                "provenance": self.provenance.to_dict() if self.provenance else None,
            }
        )

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            {
                "layer": np.arange(len(self.per_layer)),
                "d_rep": self.per_layer,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )


def rep_dimensionality(
    acts: ContrastActivations,
    *,
    texts: str = "all",
    n_boot: int = 200,
    seed: int = 0,
    ci_level: float = 0.95,
    provenance: Provenance | None = None,
) -> RepDimResult:
    """``d_rep`` per layer.

    Args:
        acts: Activations captured with ``residual=True`` (and ``final=True`` for the final state).
        texts: Which rows form the matrix: ``"all"`` (default), ``"reasoning"``, ``"truthfulness"``, or
            ``"positive"`` (sensible and true sides only).
        n_boot: Bootstrap resamples of the texts (0 to skip).
        seed, ci_level: Resampling seed and interval level.
        provenance: Attached as is.
    """
    r_pos, r_neg, t_pos, t_neg = acts.parts()
    choice = {
        "all": (r_pos, r_neg, t_pos, t_neg),
        "reasoning": (r_pos, r_neg),
        "truthfulness": (t_pos, t_neg),
        "positive": (r_pos, t_pos),
    }
    if texts not in choice:
        raise AnalysisError(f"texts must be one of {', '.join(choice)}, not {texts!r}.")
    chosen = choice[texts]
    if any(p.residual is None for p in chosen):
        raise AnalysisError("these activations were captured without residual=True.")
    resid = np.concatenate([p.residual for p in chosen], axis=0).astype(np.float64)  # [n, L, d]
    n, n_layers, d = resid.shape
    grams = []
    values = np.empty(n_layers)
    for layer in range(n_layers):
        x = resid[:, layer, :]
        g = x @ x.T
        grams.append(g)
        values[layer] = _pr_from_gram(_centre_gram(g))
    finals = [p.final for p in chosen]
    final = math.nan
    if all(f is not None for f in finals):
        final = participation_ratio(np.concatenate(finals, axis=0))
    lo = np.full(n_layers, np.nan)
    hi = np.full(n_layers, np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boots = np.empty((n_boot, n_layers))
        for b in range(n_boot):
            idx = rng.integers(0, n, size=n)
            for layer in range(n_layers):
                boots[b, layer] = _pr_from_gram(_centre_gram(grams[layer][np.ix_(idx, idx)]))
        alpha = (1 - ci_level) / 2
        lo = np.nanquantile(boots, alpha, axis=0)
        hi = np.nanquantile(boots, 1 - alpha, axis=0)
    return RepDimResult(
        per_layer=values,
        ci_low=lo,
        ci_high=hi,
        final=final,
        n_texts=int(n),
        texts=texts,
        n_boot=int(n_boot),
        provenance=provenance,
        max_possible=int(min(n - 1, d)),
    )
