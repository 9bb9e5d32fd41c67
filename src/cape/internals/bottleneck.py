"""The output-projection bottleneck: coupling before and after the unembedding (docs/methods.md, "Projection bottleneck").

Coupling of the last hidden state (after the final norm: what the unembedding reads) is compared with:

* ``logits``: the same texts in vocabulary-logit space, after the unembedding;
* ``gelu_hidden``: an **untrained GELU of the hidden state**. The paper calls this a "wider projection"
  (``Linear(d, 2d) -> GELU -> Linear(2d, d)`` with identity-block weights and no training), which reduces
  exactly to ``GELU(h)`` elementwise; it is reported here under that real name;
* ``pca_k``: the hidden state restricted to its top-``k`` principal directions (PCA of all captured final
  states, centred; the uncentred states are projected), for a sweep of ``k``. The sweep saturates once ``k``
  reaches the number of texts, since that bounds the rank.

A drop from hidden to logits is the paper's "compression loss" (Pythia-1B: 0.725 -> 0.639).

Example:
    >>> res = projection_bottleneck(acts, measure="paper")   # doctest: +SKIP
    >>> res.hidden, res.logits, res.delta_logits             # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cape.errors import AnalysisError
from cape.internals.hooks import ContrastActivations
from cape.internals.measures import UnitStats, as_jsonable, get_measure, unit_coupling
from cape.internals.results import Provenance

__all__ = ["BottleneckResult", "default_ks", "gelu", "projection_bottleneck"]


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as ``torch.nn.GELU()``."""
    from scipy.special import erf

    x = np.asarray(x, dtype=np.float64)
    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32)


def default_ks(d: int) -> list[int]:
    """``1, 2, 4, ... < d`` and ``d`` itself."""
    ks = []
    k = 1
    while k < d:
        ks.append(k)
        k *= 2
    ks.append(d)
    return ks


@dataclass(frozen=True, eq=False)
class BottleneckResult:
    """Coupling in hidden, logit, GELU(hidden) and top-k PCA spaces, for one measure."""

    measure: str
    hidden_stats: UnitStats
    logits_stats: UnitStats | None
    gelu_stats: UnitStats
    pca_ks: tuple[int, ...]
    pca_cosine: np.ndarray
    hidden_size: int
    vocab_size: int | None
    n_texts: int
    provenance: Provenance | None = None

    @property
    def hidden(self) -> float:
        return float(self.hidden_stats.cosine[0])

    @property
    def logits(self) -> float:
        return float(self.logits_stats.cosine[0]) if self.logits_stats is not None else math.nan

    @property
    def gelu_hidden(self) -> float:
        return float(self.gelu_stats.cosine[0])

    @property
    def delta_logits(self) -> float:
        """Logit-space minus hidden-state coupling (negative: the unembedding loses coupling)."""
        return self.logits - self.hidden

    def to_dict(self) -> dict[str, Any]:
        def block(s: UnitStats | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {
                "cosine": s.cosine[0],
                "ci_low": s.ci_low[0],
                "ci_high": s.ci_high[0],
                "p_lower": s.p_lower[0],
                "p_upper": s.p_upper[0],
            }

        return as_jsonable(
            {
                "analysis": "projection_bottleneck",
                "measure": self.measure,
                "measure_description": get_measure(self.measure).description,
                "hidden_size": self.hidden_size,
                "vocab_size": self.vocab_size,
                "hidden": block(self.hidden_stats),
                "logits": block(self.logits_stats),
                "gelu_hidden": block(self.gelu_stats),
                "gelu_hidden_note": "the paper's 'wider projection': an untrained Linear(d,2d)-GELU-Linear(2d,d) "
                "with identity-block weights, which equals GELU(h)",
                "delta_logits_minus_hidden": self.delta_logits,
                "pca_sweep": {"k": list(self.pca_ks), "cosine": self.pca_cosine},
                "pca_rank_limit": min(self.n_texts, self.hidden_size),
                "provenance": self.provenance.to_dict() if self.provenance else None,
            }
        )

    def to_frame(self):
        import pandas as pd

        rows = [
            {"measure": self.measure, "space": "hidden", "k": self.hidden_size, "cosine": self.hidden},
            {"measure": self.measure, "space": "logits", "k": self.vocab_size, "cosine": self.logits},
            {"measure": self.measure, "space": "gelu_hidden", "k": self.hidden_size, "cosine": self.gelu_hidden},
        ]
        rows += [
            {"measure": self.measure, "space": "pca", "k": k, "cosine": float(c)}
            for k, c in zip(self.pca_ks, self.pca_cosine)
        ]
        return pd.DataFrame(rows)


def projection_bottleneck(
    acts: ContrastActivations,
    *,
    measure: str = "contrast",
    ks: list[int] | None = None,
    n_boot: int = 1000,
    n_perm: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
    provenance: Provenance | None = None,
) -> BottleneckResult:
    """Coupling of the final hidden state vs logits vs GELU(hidden) vs top-k principal directions.

    Args:
        acts: Activations captured with ``final=True`` (and ``logits=True`` for the logit space).
        measure: ``"contrast"`` or ``"paper"``.
        ks: PCA dimensions to sweep (default :func:`default_ks` of the hidden size).
        n_boot, n_perm, seed, ci_level: As in :func:`cape.internals.measures.unit_coupling`.
        provenance: Attached as is.
    """
    parts = acts.parts()
    if any(p.final is None for p in parts):
        raise AnalysisError("these activations were captured without final=True.")
    finals = [p.final[:, None, :] for p in parts]
    kw = dict(measure=measure, n_boot=n_boot, n_perm=n_perm, seed=seed, ci_level=ci_level)
    hidden = unit_coupling(*finals, **kw)
    logit_stats = None
    vocab = None
    if all(p.logits is not None for p in parts):
        logit_stats = unit_coupling(*(p.logits[:, None, :] for p in parts), **kw)
        vocab = int(parts[0].logits.shape[-1])
    gelu_stats = unit_coupling(*(gelu(f) for f in finals), **kw)
    d = finals[0].shape[-1]
    stacked = np.concatenate([p.final for p in parts], axis=0).astype(np.float64)
    centred = stacked - stacked.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    ks = sorted({int(k) for k in (ks or default_ks(d)) if 1 <= int(k) <= d})
    if not ks:
        raise AnalysisError(f"no valid PCA dimension k in 1..{d}.")
    pca = []
    for k in ks:
        if k >= d:
            coords = finals
        else:
            basis = vt[: min(k, vt.shape[0])].T.astype(np.float32)  # [d, k'] (rank-limited)
            coords = [(p.final @ basis)[:, None, :] for p in parts]
        pca.append(unit_coupling(*coords, measure=measure, n_boot=0, n_perm=0, seed=seed).cosine[0])
    return BottleneckResult(
        measure=hidden.measure,
        hidden_stats=hidden,
        logits_stats=logit_stats,
        gelu_stats=gelu_stats,
        pca_ks=tuple(ks),
        pca_cosine=np.asarray(pca, dtype=np.float64),
        hidden_size=int(d),
        vocab_size=vocab,
        n_texts=int(stacked.shape[0]),
        provenance=provenance,
    )
