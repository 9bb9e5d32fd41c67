"""The doctor's thresholds (:class:`DoctorConfig`, loadable from TOML) and its phase names."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from .. import catalog
from .._deprecated import renamed_fields, renamed_keys
from ..errors import DataError

PHASES = ("tax", "transition", "bonus")


#: Renamed settings: old name -> new name (the old one still works, with a DeprecationWarning).
RENAMED = {"ci": "level"}


# ---------------------------------------------------------------------------------------------- configuration
@renamed_fields(RENAMED, "doctor config")
@dataclass(frozen=True)
class DoctorConfig:
    """Thresholds of the doctor's rules (docs/coupling.md, "Diagnose one model"). Load from TOML with :meth:`from_toml`.

    Attributes:
        b1, b2: the benchmark pair; gamma = dB2 / dB1 (default HellaSwag, TruthfulQA).
        phase_lower, phase_upper: gamma below ``phase_lower`` is tax, above ``phase_upper`` bonus (else transition).
        min_delta: intervals with ``|dB1| <= min_delta`` points are not divided by (skipped).
        n_boot: score-noise draws (phase confidence, gamma and N_c intervals) and bootstrap resamples.
        seed: seed of ``numpy.random.default_rng``.
        level: confidence level of every interval (``ci`` is its deprecated name).
        nc_near_factor: with no CI on N_c, a model within this factor of N_c is "near".
        curated_recipe: recipe value of curated-data families in the cohort.
        curation_size_factor: curated intervals whose geometric midpoint lies within this factor of the
            model's size count as "similar size".
        curation_min_gamma: their median gamma must exceed this for "cooperative".
        width_narrow_dex: fire the width rule when ``log10(d_model) - law(log10 N) <= -width_narrow_dex``.
        width_min_models: models with a known width needed for a family law (else the cohort law is used).
        width_phases: phases in which the width rule may fire.
        rotation_pairs: ``(old, new)`` axis pairs: the old axis saturates relative to the new one.
        rotation_ratio: rotate when the top-k spread ratio old/new is below this.
        rotation_top_k: models at the top of the panel.
        near_zero: ``|gamma| <= near_zero`` is a phase boundary (evaluate several checkpoints).
        checkpoints_on_nc: also fire the checkpoints rule when the model is within the CI of N_c.
        frontier_h_band: ``|h|`` above this (points of GPQA) fires the rebalance rule.
        field_high, field_low: cohort-curve residual above ``field_high`` reads "curated-like", below
            ``-field_low`` "below the web-trained average".
        trend_min_models: family members needed for the family trend residual.
    """

    b1: str = "HellaSwag"
    b2: str = "TruthfulQA"
    phase_lower: float = -0.1
    phase_upper: float = 0.1
    min_delta: float = 0.5
    n_boot: int = 2000
    seed: int = 0
    level: float = 0.95
    nc_near_factor: float = 1.5
    curated_recipe: str = "curated"
    curation_size_factor: float = 3.0
    curation_min_gamma: float = 0.1
    width_narrow_dex: float = 0.05
    width_min_models: int = 3
    width_phases: tuple[str, ...] = ("tax", "transition")
    rotation_pairs: tuple[tuple[str, str], ...] = (("HellaSwag", "MMLU"), ("SWE-bench Verified", "GPQA Diamond"))
    rotation_ratio: float = 0.2
    rotation_top_k: int = 5
    near_zero: float = 0.1
    checkpoints_on_nc: bool = True
    frontier_h_band: float = 5.0
    field_high: float = 5.0
    field_low: float = 3.0
    trend_min_models: int = 3

    def __post_init__(self):
        set_ = object.__setattr__
        for f in fields(self):  # numbers must be finite numbers of the right kind (TOML gives nan and inf)
            v = getattr(self, f.name)
            if f.type in ("float", float) or f.type in ("int", int):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise DataError(f"doctor config: {f.name} must be a finite number, not {v!r}")
                if f.type in ("int", int) and v != int(v):
                    raise DataError(f"doctor config: {f.name} must be a whole number, not {v!r}")
        set_(self, "b1", catalog.canonical(self.b1, where="doctor config b1"))
        set_(self, "b2", catalog.canonical(self.b2, where="doctor config b2"))
        if self.b1 == self.b2:
            raise DataError(f"doctor config: b1 and b2 are both {self.b1}; choose two different benchmarks")
        if self.phase_lower > self.phase_upper:
            raise DataError(f"doctor config: phase_lower {self.phase_lower} exceeds phase_upper {self.phase_upper}")
        if not 0 < self.level < 1:
            raise DataError(f"doctor config: level must lie in (0, 1), not {self.level}")
        if self.n_boot < 1:
            raise DataError(f"doctor config: n_boot must be at least 1, not {self.n_boot}")
        if self.seed < 0:
            raise DataError(f"doctor config: seed must be a non-negative integer, not {self.seed}")
        for k in ("nc_near_factor", "curation_size_factor"):
            if getattr(self, k) < 1:
                raise DataError(f"doctor config: {k} must be >= 1, not {getattr(self, k)}")
        bad = [p for p in self.width_phases if p not in PHASES]
        if bad:
            raise DataError(f"doctor config: width_phases holds {bad[0]!r}; phases are {', '.join(PHASES)}")
        pairs = []
        for pr in self.rotation_pairs:
            if len(pr) != 2:
                raise DataError(f"doctor config: rotation_pairs entries are [old, new] pairs, got {list(pr)!r}")
            pairs.append((catalog.canonical(pr[0], where="doctor config rotation_pairs"),
                          catalog.canonical(pr[1], where="doctor config rotation_pairs")))
        set_(self, "rotation_pairs", tuple(pairs))
        set_(self, "width_phases", tuple(self.width_phases))

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any], *, where: str = "doctor config") -> DoctorConfig:
        """Build from a mapping (e.g. parsed TOML); unknown keys are rejected with the list of known ones."""
        known = {f.name: f for f in fields(cls)}
        kw = {}
        m = renamed_keys({str(k).replace("-", "_"): v for k, v in m.items()}, RENAMED, where=where, stacklevel=4)
        for k, v in m.items():
            key = str(k).replace("-", "_")
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(known)}"
                raise DataError(f"{where}: unknown setting {k!r}{hint}")
            if isinstance(v, list):
                v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
            kw[key] = v
        try:
            return cls(**kw)
        except TypeError as e:  # pragma: no cover - defensive
            raise DataError(f"{where}: {e}") from None
        except DataError as e:
            msg = str(e)
            raise type(e)(f"{where}: {msg.removeprefix('doctor config: ')}" if where != "doctor config" else msg
                          ) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> DoctorConfig:
        """Read thresholds from a TOML file: top-level keys or a ``[doctor]`` table.

        Example (``doctor.toml``)::

            [doctor]
            near_zero = 0.05
            rotation_ratio = 0.25
            rotation_pairs = [["HellaSwag", "MMLU"]]
        """
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(2, "No such file", str(p))
        try:
            with p.open("rb") as f:
                d = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise DataError(f"{p}: not valid TOML ({e})") from None
        if "doctor" in d and isinstance(d["doctor"], dict):
            d = d["doctor"]
        return cls.from_mapping(d, where=str(p))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rotation_pairs"] = [list(p) for p in self.rotation_pairs]
        d["width_phases"] = list(self.width_phases)
        return d

    def phase_of(self, gamma: float | None) -> str | None:
        if gamma is None or not np.isfinite(gamma):
            return None
        return "tax" if gamma < self.phase_lower else "bonus" if gamma > self.phase_upper else "transition"


#: Rule name -> (title, action, rule text). The text is shown next to every recommendation.
RULES: dict[str, tuple[str, str, str]] = {
    "curation": ("Data curation",
                 "Curate the pre-training data (filtered / synthetic textbook-style data) rather than scaling up.",
                 "tax phase (gamma < phase_lower), size below the family's N_c, and curated-data families of "
                 "similar size (within curation_size_factor) are cooperative (median gamma > curation_min_gamma)"),
    "width": ("Widen the model",
              "Trade depth for width at the same parameter count: move d_model towards the width law.",
              "log10(d_model) is at least width_narrow_dex below the width law log10 d_model ~ log10 N fitted "
              "over the family (or the cohort), and the phase is in width_phases"),
    "rotation": ("Benchmark rotation",
                 "Stop judging on the saturated axis; evaluate on the newer axis that still separates models.",
                 "top-k spread of the old axis / top-k spread of the new axis < rotation_ratio over the panel, "
                 "and the model is among the top k on the old axis"),
    "checkpoints": ("Evaluate several checkpoints",
                    "The model sits at a phase boundary: evaluate several checkpoints / seeds before deciding.",
                    "|gamma| <= near_zero, or the model's size lies within the CI of the family's N_c"),
    "rebalance": ("Rebalance the capability mix",
                  "Shift training mix towards the under-weighted axis (reasoning for coding-rich, coding for "
                  "reasoning-rich).",
                  "frontier model with |h| > frontier_h_band against the population line"),
    "none": ("No intervention", "Nothing to change on these scores: keep scaling and monitoring.",
             "no rule fired"),
}
