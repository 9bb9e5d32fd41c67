"""Result objects of the lever analysis (frozen dataclasses with ``to_dict()``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def _f(x) -> float | None:
    """A finite float or None."""
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return None
    return xf if math.isfinite(xf) else None


def fmt_size(n: float | None) -> str:
    """Parameter count as ``1.3B`` / ``350M``; ``?`` when unknown."""
    if n is None or not math.isfinite(n):
        return "?"
    if n < 1e5:
        return "<100K"
    if n > 1e14:
        return ">100T"
    if n >= 1e12:
        return f"{n / 1e12:.3g}T"
    if n >= 1e9:
        return f"{n / 1e9:.3g}B"
    return f"{n / 1e6:.3g}M"


@dataclass(frozen=True)
class EquivalentScale:
    """The lever's effect read as a change of scale.

    With coupling ``y = a + g0 log10 N + beta L``, a model with the lever at size ``N`` couples like a
    reference model at ``N * 10**(beta / g0)``, and the critical scale (where coupling crosses zero) moves by
    the factor ``F = 10**(-beta / g0)``.

    Attributes:
        at: the size the reading is made at (parameters).
        equivalent_params: the reference-level size that couples alike (parameters); CI ends ``ci_low`` /
            ``ci_high`` (None when the bootstrap's slope ``g0`` changes sign, i.e. unbounded).
        nc_factor: ``F`` with its CI ``nc_factor_ci``.
        status: ``observed`` (inside the reference level's measured size range), ``extrapolated`` (outside it) or
            ``undetermined`` (no scale trend to translate the effect into: g0's CI includes 0).
        sentence: the reading in words.
    """

    at: float
    equivalent_params: float | None
    ci_low: float | None
    ci_high: float | None
    nc_factor: float | None
    nc_factor_ci: tuple[float | None, float | None]
    status: str
    sentence: str

    def to_dict(self) -> dict:
        return {"at": self.at, "equivalent_params": _f(self.equivalent_params), "ci_low": _f(self.ci_low),
                "ci_high": _f(self.ci_high), "nc_factor": _f(self.nc_factor),
                "nc_factor_ci": [_f(v) for v in self.nc_factor_ci], "status": self.status,
                "sentence": self.sentence}


@dataclass(frozen=True)
class LeverEffect:
    """The estimated effect of one lever (one contrast of a categorical lever) on coupling at matched scale.

    Attributes:
        lever: lever name; kind: ``categorical``, ``continuous``, ``generation`` or ``paired``.
        levels: ``(reference, level)`` for a contrast; ``("low", "high")`` halves for a continuous lever.
        effect: change of the coupling measure (gamma, or percentage points of B2 for ``residual``) for the
            contrast or per unit; None when not identifiable.
        ci_low, ci_high: CI from inverting the permutation test (every effect the shuffle test does not reject);
            it excludes 0 exactly when ``p < 1 - level``. An unbounded end is None in ``to_dict()``.
        p: two-sided permutation p-value, the lever shuffled across families.
        ci_boot: percentile CI from the family bootstrap (families resampled within each level), for
            comparison; it also drives the equivalent-scale CI.
        n_families: families behind each level (or each half of a continuous lever).
        families: their names; labs: distinct labs per level (confounding with lab).
        identifiable: False when a side has fewer than ``min_families`` families (no estimate is given).
        significant: ``p < alpha`` (None when not identifiable).
        equivalent_scale: :class:`EquivalentScale` (None when not identifiable).
        collinear_with: other levers whose family values correlate with this one (|r| >= 0.8).
        mixed_families: families whose models disagree on this lever.
        message: one plain sentence.
    """

    lever: str
    kind: str
    levels: tuple[str, ...]
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    n_families: dict[str, int]
    families: dict[str, list[str]]
    identifiable: bool
    significant: bool | None
    equivalent_scale: EquivalentScale | None
    message: str
    unit: str = ""
    labs: dict[str, int] = field(default_factory=dict)
    collinear_with: tuple[str, ...] = ()
    mixed_families: tuple[str, ...] = ()
    n_obs: int = 0
    ci_boot: tuple[float | None, float | None] = (None, None)

    def to_dict(self) -> dict:
        return {"lever": self.lever, "kind": self.kind, "levels": list(self.levels), "effect": _f(self.effect),
                "ci_low": _f(self.ci_low), "ci_high": _f(self.ci_high), "p": _f(self.p),
                "n_families": dict(self.n_families), "families": {k: list(v) for k, v in self.families.items()},
                "identifiable": self.identifiable, "significant": self.significant,
                "equivalent_scale": self.equivalent_scale.to_dict() if self.equivalent_scale else {},
                "message": self.message, "unit": self.unit, "labs": dict(self.labs),
                "collinear_with": list(self.collinear_with), "mixed_families": list(self.mixed_families),
                "n_obs": self.n_obs, "ci_boot": [_f(v) for v in self.ci_boot]}


@dataclass(frozen=True)
class LeverReport:
    """Every lever's effect on coupling, estimated from one score table.

    Attributes:
        levers: one :class:`LeverEffect` per lever (per contrast of a categorical lever).
        measure: ``gamma`` (local coupling between consecutive sizes) or ``residual`` (B2 at matched B1).
        pair: the benchmark pair ``(B1, B2)``.
        scale_slope: the coupling measure's change per decade of N (``g0``), with its CI ``scale_slope_ci``.
        n_families, n_models: units behind the fit.
        collinear: pairs of levers whose family values correlate (|r| >= 0.8), with r and the families shared.
        settings: seed, n_boot, n_perm, level, alpha, min_families, at.
        messages: sentences about what was left out.
    """

    levers: tuple[LeverEffect, ...]
    measure: str
    pair: tuple[str, str]
    scale_slope: float | None
    scale_slope_ci: tuple[float | None, float | None]
    n_families: int
    n_models: int
    collinear: tuple[dict, ...]
    settings: dict
    messages: tuple[str, ...] = ()

    def get(self, lever: str, level: str | None = None) -> LeverEffect:
        """The effect of ``lever`` (its contrast for ``level`` when categorical)."""
        for e in self.levers:
            if e.lever == lever and (level is None or (len(e.levels) > 1 and e.levels[1] == level)):
                return e
        raise KeyError(f"no lever {lever!r}" + (f" with level {level!r}" if level else ""))

    def to_dict(self) -> dict:
        return {"levers": [e.to_dict() for e in self.levers], "measure": self.measure, "pair": list(self.pair),
                "scale_slope": _f(self.scale_slope), "scale_slope_ci": [_f(v) for v in self.scale_slope_ci],
                "n_families": self.n_families, "n_models": self.n_models,
                "collinear": [dict(c) for c in self.collinear], "settings": dict(self.settings),
                "messages": list(self.messages)}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in e.to_dict().items() if k not in ("families", "equivalent_scale")}
                             for e in self.levers])
