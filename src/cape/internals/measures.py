"""Coupling measures between a reasoning and a truthfulness representation, with their uncertainty.

A *unit* is anything with a vector representation per prompt: one attention head (``head_dim`` values), one
layer's residual stream (``d_model``), the final hidden state, the logits. Every measure here works on all
units at once, from per-prompt activations shaped ``[items, units, dim]``.

Two measures are strategies of one interface (:class:`CouplingMeasure`):

``contrast`` (:class:`ContrastMeasure`, the default)
    The unit's *reasoning direction* is the mean over reasoning items of (sensible - wrong continuation); its
    *truthfulness direction* the mean over truthfulness items of (true - misconception). The coupling is the
    cosine of the two directions. Null: within one set, the preferred/dispreferred labels are exchangeable, so
    each item's difference is sign-flipped at random while the other set is kept as observed; the statistic is
    the dot product of the two directions (null mean zero). This is done for each set in turn and the larger
    p-value is reported (an intersection-union test): a unit "differs from chance" only when flipping the
    labels of *either* set destroys its alignment, i.e. both directions are real and (anti-)aligned. Flipping
    both sets at once would not do: a strong reasoning direction alone would then reject the null.

``paper`` (:class:`PaperMeasure`)
    The paper's measure: the cosine of the raw mean representations over the two prompt sets (each item
    contributes the mean of its two sides). Null: the two sets are exchangeable; items are shuffled between
    them and the statistic is the cosine itself.

Uncertainty: a percentile bootstrap over items (resampled with replacement, independently within each set)
and the permutation null above, both vectorised over all units as weighted means (matrix products).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from cape.errors import AnalysisError

__all__ = [
    "MEASURES",
    "ContrastMeasure",
    "CouplingMeasure",
    "PaperMeasure",
    "UnitStats",
    "cosine_rows",
    "get_measure",
    "unit_coupling",
]

_CHUNK_BYTES = 16 * 1024**2


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine along the last axis; ``nan`` where either vector is exactly zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dot = np.einsum("...d,...d->...", a, b)
    norm = np.sqrt(np.einsum("...d,...d->...", a, a) * np.einsum("...d,...d->...", b, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = dot / norm
    return np.where(norm > 0, np.clip(out, -1.0, 1.0), np.nan)


class CouplingMeasure(ABC):
    """How per-item activations become two vectors per unit, and what the null hypothesis is."""

    name: str = ""
    description: str = ""

    @abstractmethod
    def item_vectors(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """Per-item vectors ``[items, units, dim]`` whose mean over items is the unit's vector for one set."""

    @abstractmethod
    def null_weights(
        self, rng: np.random.Generator, n_r: int, n_t: int, size: int
    ) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """Null schemes, each ``(W_r [size, n?], W_t [size, n?], pooled)``: null vectors as weighted item sums.

        When ``pooled`` is true both weight matrices span the concatenation of the two sets' items. With several
        schemes the reported p-value is the largest over them.
        """

    @abstractmethod
    def statistic(self, r: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The permutation-test statistic from the two vectors ``[..., units, dim]``."""


class ContrastMeasure(CouplingMeasure):
    name = "contrast"
    description = (
        "cosine of the reasoning direction (mean sensible - wrong) and the truthfulness direction "
        "(mean true - misconception); null: item labels sign-flipped in one set at a time (larger p kept), "
        "statistic: dot product"
    )

    def item_vectors(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        return pos - neg

    def null_weights(self, rng, n_r, n_t, size):
        signs = np.array([-1.0, 1.0], dtype=np.float32)
        flip_r = (rng.choice(signs, size=(size, n_r)) / n_r).astype(np.float32)
        flip_t = (rng.choice(signs, size=(size, n_t)) / n_t).astype(np.float32)
        keep_r = np.full((size, n_r), 1.0 / n_r, dtype=np.float32)
        keep_t = np.full((size, n_t), 1.0 / n_t, dtype=np.float32)
        return [(flip_r, keep_t, False), (keep_r, flip_t, False)]

    def statistic(self, r, t):
        return np.einsum("...d,...d->...", r.astype(np.float64), t.astype(np.float64))


class PaperMeasure(CouplingMeasure):
    name = "paper"
    description = (
        "the paper's measure: cosine of the mean representations over the reasoning and the truthfulness prompt "
        "sets; null: items shuffled between the sets, statistic: cosine"
    )

    def item_vectors(self, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        return (pos + neg) * 0.5

    def null_weights(self, rng, n_r, n_t, size):
        n = n_r + n_t
        w_r = np.zeros((size, n), dtype=np.float32)
        w_t = np.zeros((size, n), dtype=np.float32)
        for b in range(size):
            perm = rng.permutation(n)
            w_r[b, perm[:n_r]] = 1.0 / n_r
            w_t[b, perm[n_r:]] = 1.0 / n_t
        return [(w_r, w_t, True)]

    def statistic(self, r, t):
        return cosine_rows(r, t)


MEASURES: dict[str, CouplingMeasure] = {m.name: m for m in (ContrastMeasure(), PaperMeasure())}


def get_measure(measure: str | CouplingMeasure) -> CouplingMeasure:
    if isinstance(measure, CouplingMeasure):
        return measure
    try:
        return MEASURES[measure]
    except KeyError:
        raise AnalysisError(
            f"Unknown coupling measure {measure!r}; expected one of {', '.join(MEASURES)}."
        ) from None


@dataclass(frozen=True, eq=False)
class UnitStats:
    """Coupling of every unit, with uncertainty. Arrays are shaped like the units (e.g. ``[layers, heads]``).

    Attributes:
        cosine: The coupling.
        ci_low, ci_high: Percentile bootstrap interval over items (``nan`` when ``n_boot == 0``).
        p_lower: Permutation p-value that the statistic is lower than under the null (evidence of competing);
            the largest over the measure's null schemes.
        p_upper: Permutation p-value that it is higher (evidence of cooperating).
        null_mean: Mean of the permutation statistic (0 for ``contrast`` up to Monte Carlo error).
        norm_r, norm_t: Norms of the two vectors (a dead unit has zero norm and a ``nan`` cosine).
    """

    measure: str
    cosine: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_lower: np.ndarray
    p_upper: np.ndarray
    null_mean: np.ndarray
    norm_r: np.ndarray
    norm_t: np.ndarray
    n_boot: int
    n_perm: int
    ci_level: float


def _map(vectors: np.ndarray, maps: np.ndarray | None) -> np.ndarray:
    """Apply per-unit linear maps ``[units, out, dim]`` to ``[..., units, dim]``."""
    if maps is None:
        return vectors
    return np.einsum("...ud,uod->...uo", vectors, maps, optimize=True)


def _chunk_size(features: int, maps_out: int) -> int:
    per_row = 4 * max(features, maps_out) * 4
    return int(max(1, min(512, _CHUNK_BYTES // max(per_row, 1))))


def unit_coupling(
    r_pos: np.ndarray,
    r_neg: np.ndarray,
    t_pos: np.ndarray,
    t_neg: np.ndarray,
    *,
    measure: str | CouplingMeasure = "contrast",
    n_boot: int = 1000,
    n_perm: int = 1000,
    seed: int = 0,
    ci_level: float = 0.95,
    maps: np.ndarray | None = None,
) -> UnitStats:
    """Coupling of every unit between the reasoning and the truthfulness set.

    Args:
        r_pos, r_neg: Reasoning activations ``[n_r, units, dim]`` (sensible and wrong continuation).
        t_pos, t_neg: Truthfulness activations ``[n_t, units, dim]`` (true statement and misconception).
        measure: ``"contrast"`` (default), ``"paper"`` or a :class:`CouplingMeasure`.
        n_boot: Bootstrap resamples over items (0 to skip).
        n_perm: Permutations for the null (0 to skip).
        seed: Seed of the ``numpy.random.Generator`` driving both.
        ci_level: Bootstrap interval level.
        maps: Optional per-unit linear maps ``[units, out, dim]`` applied to the unit vectors before comparing
            (e.g. a head's slice of the output projection).

    Returns:
        :class:`UnitStats` with arrays shaped ``[units]``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(20, 3, 8)).astype(np.float32)
        >>> s = unit_coupling(a + 1, a, a, a + 1, n_boot=50, n_perm=50)
        >>> bool(np.all(s.cosine < -0.99))
        True
    """
    m = get_measure(measure)
    arrays = [np.asarray(x, dtype=np.float32) for x in (r_pos, r_neg, t_pos, t_neg)]
    r_pos, r_neg, t_pos, t_neg = arrays
    if r_pos.shape != r_neg.shape or t_pos.shape != t_neg.shape:
        raise AnalysisError("positive and negative activations of a prompt set must have the same shape.")
    if r_pos.ndim != 3 or t_pos.ndim != 3 or r_pos.shape[1:] != t_pos.shape[1:]:
        raise AnalysisError("activations must be [items, units, dim] with the same units and dim in both sets.")
    n_r, units, dim = r_pos.shape
    n_t = t_pos.shape[0]
    if n_r < 2 or n_t < 2:
        raise AnalysisError(f"need at least 2 items per prompt set (got {n_r} reasoning, {n_t} truthfulness).")
    out_dim = dim if maps is None else maps.shape[1]
    vectors = _UnitVectors(m.item_vectors(r_pos, r_neg).reshape(n_r, units * dim),
                           m.item_vectors(t_pos, t_neg).reshape(n_t, units * dim), units, dim, maps)
    r_obs, t_obs = vectors(np.full((1, n_r), 1.0 / n_r, dtype=np.float32),
                           np.full((1, n_t), 1.0 / n_t, dtype=np.float32), False)
    cos = cosine_rows(r_obs, t_obs)[0]
    rng = np.random.default_rng(seed)
    chunk = _chunk_size(units * dim, units * out_dim)
    ci_low, ci_high = _bootstrap_ci(vectors, rng, n_boot, chunk, ci_level)
    p_lower, p_upper, null_mean = _permutation_p(vectors, m, rng, n_perm, chunk, m.statistic(r_obs, t_obs)[0])
    undefined = ~np.isfinite(cos)
    p_lower[undefined] = np.nan
    p_upper[undefined] = np.nan
    return UnitStats(
        measure=m.name,
        cosine=cos,
        ci_low=np.asarray(ci_low, dtype=np.float64),
        ci_high=np.asarray(ci_high, dtype=np.float64),
        p_lower=p_lower,
        p_upper=p_upper,
        null_mean=null_mean,
        norm_r=np.linalg.norm(r_obs[0].astype(np.float64), axis=-1),
        norm_t=np.linalg.norm(t_obs[0].astype(np.float64), axis=-1),
        n_boot=int(n_boot),
        n_perm=int(n_perm),
        ci_level=float(ci_level),
    )


class _UnitVectors:
    """Per-unit mean vectors of both sets for a batch of item weightings (``[draws, items]`` each): the
    observed means, bootstrap resamples or a null's reshuffles (``pooled``: both sets' items in one pool)."""

    def __init__(self, v_r: np.ndarray, v_t: np.ndarray, units: int, dim: int, maps: np.ndarray | None) -> None:
        self.v_r, self.v_t, self.units, self.dim, self.maps = v_r, v_t, units, dim, maps
        self.n_r, self.n_t = len(v_r), len(v_t)

    def __call__(self, w_r: np.ndarray, w_t: np.ndarray, pooled: bool) -> tuple[np.ndarray, np.ndarray]:
        if pooled:
            both = np.concatenate([self.v_r, self.v_t], axis=0)
            r, t = w_r @ both, w_t @ both
        else:
            r, t = w_r @ self.v_r, w_t @ self.v_t
        return (_map(r.reshape(-1, self.units, self.dim), self.maps),
                _map(t.reshape(-1, self.units, self.dim), self.maps))


def _bootstrap_ci(vectors: _UnitVectors, rng: np.random.Generator, n_boot: int, chunk: int, ci_level: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each unit's cosine over items resampled in both sets (NaN when ``n_boot`` is 0)."""
    units = vectors.units
    ci_low = np.full(units, np.nan)
    ci_high = np.full(units, np.nan)
    if n_boot <= 0:
        return ci_low, ci_high
    boots = np.empty((n_boot, units), dtype=np.float64)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        r_b, t_b = vectors(_resample_weights(rng, vectors.n_r, size), _resample_weights(rng, vectors.n_t, size),
                           False)
        boots[start : start + size] = cosine_rows(r_b, t_b)
    alpha = (1.0 - ci_level) / 2.0
    with np.errstate(invalid="ignore"):
        ci_low = np.nanquantile(boots, alpha, axis=0) if np.isfinite(boots).any() else ci_low
        ci_high = np.nanquantile(boots, 1 - alpha, axis=0) if np.isfinite(boots).any() else ci_high
    return ci_low, ci_high


def _permutation_p(vectors: _UnitVectors, m: CouplingMeasure, rng: np.random.Generator, n_perm: int, chunk: int,
                   stat_obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: p that the statistic is this low and this high under the measure's null schemes (the largest
    over the schemes), and the null's mean; NaN when ``n_perm`` is 0."""
    units = vectors.units
    if n_perm <= 0:
        return np.full(units, np.nan), np.full(units, np.nan), np.full(units, np.nan)
    below: list[np.ndarray] = []
    above: list[np.ndarray] = []
    total: list[np.ndarray] = []
    # ties count towards the p-value (conservative); a small relative tolerance absorbs rounding
    tol = 1e-9 * np.maximum(np.abs(stat_obs), 1e-30)
    for start in range(0, n_perm, chunk):
        size = min(chunk, n_perm - start)
        for k, (w_r, w_t, pooled) in enumerate(m.null_weights(rng, vectors.n_r, vectors.n_t, size)):
            r_b, t_b = vectors(w_r, w_t, pooled)
            stat = m.statistic(r_b, t_b)
            stat = np.where(np.isfinite(stat), stat, 0.0)
            if k == len(below):
                below.append(np.zeros(units))
                above.append(np.zeros(units))
                total.append(np.zeros(units))
            below[k] += (stat <= stat_obs + tol).sum(axis=0)
            above[k] += (stat >= stat_obs - tol).sum(axis=0)
            total[k] += stat.sum(axis=0)
    p_lower = np.max([(1.0 + b) / (n_perm + 1.0) for b in below], axis=0)
    p_upper = np.max([(1.0 + a) / (n_perm + 1.0) for a in above], axis=0)
    return p_lower, p_upper, np.mean([t / n_perm for t in total], axis=0)


def _resample_weights(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(size, n))
    w = np.zeros((size, n), dtype=np.float32)
    np.add.at(w, (np.arange(size)[:, None], idx), 1.0 / n)
    return w


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); ``nan`` entries stay ``nan`` and are not counted."""
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    flat = p.ravel()
    ok = np.isfinite(flat)
    vals = flat[ok]
    if vals.size == 0:
        return q
    order = np.argsort(vals, kind="stable")
    ranked = vals[order] * vals.size / np.arange(1, vals.size + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty_like(vals)
    adj[order] = np.minimum(ranked, 1.0)
    out = q.ravel()
    out[ok] = adj
    return out.reshape(p.shape)


def as_jsonable(value: Any) -> Any:
    """numpy scalars/arrays to plain Python (``nan`` to ``None``) for JSON output."""
    if isinstance(value, np.ndarray):
        return [as_jsonable(v) for v in value.tolist()] if value.ndim else as_jsonable(value.item())
    if isinstance(value, (list, tuple)):
        return [as_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): as_jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if not np.isfinite(f) else f
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
