"""End-to-end runs on a loaded model: capture once, compute, attach provenance.

:func:`analyze_heads` gives per-head coupling (:mod:`~cape.internals.heads`); :func:`analyze_layers` gives per-layer
residual coupling under both measures, the projection bottleneck and ``d_rep`` from a single capture.

Example:
    >>> lm = load_model("EleutherAI/pythia-160m")           # doctest: +SKIP
    >>> res = analyze_heads(lm, measure="contrast", seed=0)  # doctest: +SKIP
    >>> print(res.summary())                                 # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cape.errors import AnalysisError
from cape.internals.bottleneck import BottleneckResult, projection_bottleneck
from cape.internals.heads import HeadCouplingResult, head_coupling
from cape.internals.hooks import capture_contrast
from cape.internals.layers import LayerCouplingResult, RepDimResult, layer_coupling, rep_dimensionality
from cape.internals.measures import MEASURES, as_jsonable
from cape.internals.prompts import ContrastItem, contrast_set_hash, load_contrast_set
from cape.internals.results import Provenance, Thresholds, sanity_warnings

__all__ = [
    "LayersReport",
    "analyze_heads",
    "analyze_layers",
    "heads_settings",
    "layers_settings",
    "prepare_prompt_sets",
]

ProgressFn = Callable[[int, int], None]


def prepare_prompt_sets(
    reasoning: str | Path | list[ContrastItem] = "reasoning",
    truthfulness: str | Path | list[ContrastItem] = "truthfulness",
    max_items: int | None = None,
) -> tuple[list[ContrastItem], list[ContrastItem], dict[str, dict[str, Any]]]:
    """Load both sets, keep the first ``max_items`` of each, and describe them for provenance."""
    if max_items is not None and max_items < 2:
        raise AnalysisError(f"max_items must be at least 2 (got {max_items}).")
    out: list[list[ContrastItem]] = []
    info: dict[str, dict[str, Any]] = {}
    for key, source in (("reasoning", reasoning), ("truthfulness", truthfulness)):
        items = list(source) if isinstance(source, list) else load_contrast_set(source)
        if max_items is not None:
            items = items[:max_items]
        out.append(items)
        info[key] = {
            "source": source if isinstance(source, str) else (str(source) if isinstance(source, Path) else "custom"),
            "hash": contrast_set_hash(items),
            "n_items": len(items),
        }
    return out[0], out[1], info


def heads_settings(
    prompt_info: dict[str, Any],
    *,
    measure: str,
    representation: str,
    n_boot: int,
    n_perm: int,
    seed: int,
    thresholds: Thresholds,
    max_length: int,
) -> dict[str, Any]:
    """The settings that identify a heads result (used to resume)."""
    return as_jsonable(
        {
            "analysis": "heads",
            "measure": measure,
            "representation": representation,
            "n_boot": n_boot,
            "n_perm": n_perm,
            "seed": seed,
            "thresholds": thresholds.to_dict(),
            "max_length": max_length,
            "prompt_hashes": {k: v["hash"] for k, v in prompt_info.items()},
        }
    )


def layers_settings(
    prompt_info: dict[str, Any], *, n_boot: int, n_perm: int, seed: int, max_length: int, drep_boot: int
) -> dict[str, Any]:
    """The settings that identify a layers result (used to resume)."""
    return as_jsonable(
        {
            "analysis": "layers",
            "measures": sorted(MEASURES),
            "n_boot": n_boot,
            "n_perm": n_perm,
            "drep_boot": drep_boot,
            "seed": seed,
            "max_length": max_length,
            "prompt_hashes": {k: v["hash"] for k, v in prompt_info.items()},
        }
    )


def _provenance(lm: Any, prompt_info: dict[str, Any], seed: int, settings: dict[str, Any]) -> Provenance:
    return Provenance(
        model_id=lm.model_id,
        model_type=str(getattr(lm.model.config, "model_type", "unknown")),
        revision=lm.revision,
        file_hash=lm.file_hash,
        dtype=lm.dtype,
        device=lm.device,
        prompt_sets=prompt_info,
        seed=seed,
        settings=settings,
        n_params=getattr(lm, "n_params", None),
    )


def analyze_heads(
    lm: Any,
    *,
    reasoning: str | Path | list[ContrastItem] = "reasoning",
    truthfulness: str | Path | list[ContrastItem] = "truthfulness",
    max_items: int | None = None,
    measure: str = "contrast",
    representation: str = "z",
    n_boot: int = 1000,
    n_perm: int = 1000,
    seed: int = 0,
    thresholds: Thresholds | None = None,
    batch_size: int = 16,
    max_length: int = 128,
    progress: ProgressFn | None = None,
) -> HeadCouplingResult:
    """Per-head coupling of a :class:`~cape.internals.loading.LoadedModel`, with provenance.

    One sweep over the batches (block by block, :mod:`cape.internals.streaming`) captures all heads; see :func:`cape.internals.heads.head_coupling` for the rest.
    """
    thresholds = thresholds or Thresholds()
    r_items, t_items, info = prepare_prompt_sets(reasoning, truthfulness, max_items)
    settings = heads_settings(
        info,
        measure=measure,
        representation=representation,
        n_boot=n_boot,
        n_perm=n_perm,
        seed=seed,
        thresholds=thresholds,
        max_length=max_length,
    )
    acts = capture_contrast(
        lm.model,
        lm.tokenizer,
        r_items,
        t_items,
        heads=True,
        residual=False,
        final=False,
        head_maps=representation == "result",
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
    )
    prov = _provenance(lm, info, seed, settings)
    return head_coupling(
        acts,
        measure=measure,
        representation=representation,
        n_boot=n_boot,
        n_perm=n_perm,
        seed=seed,
        thresholds=thresholds,
        provenance=prov,
    )


@dataclass(frozen=True, eq=False)
class LayersReport:
    """Per-layer coupling (both measures), the projection bottleneck (both measures) and ``d_rep`` of one model."""

    coupling: dict[str, LayerCouplingResult]
    bottleneck: dict[str, BottleneckResult]
    rep_dim: RepDimResult
    provenance: Provenance | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        strip = lambda d: {k: v for k, v in d.items() if k != "provenance"}  # noqa: E731
        return as_jsonable(
            {
                "analysis": "layers",
                "layer_coupling": {m: strip(r.to_dict()) for m, r in self.coupling.items()},
                "bottleneck": {m: strip(r.to_dict()) for m, r in self.bottleneck.items()},
                "d_rep": strip(self.rep_dim.to_dict()),
                "warnings": list(self.warnings),
                "provenance": self.provenance.to_dict() if self.provenance else None,
            }
        )

    def to_frame(self):
        """One row per layer: the coupling under each measure (with CI) and ``d_rep``."""
        import pandas as pd

        frame = self.rep_dim.to_frame().rename(columns={"ci_low": "d_rep_ci_low", "ci_high": "d_rep_ci_high"})
        for m, r in self.coupling.items():
            s = r.stats
            frame[f"coupling_{m}"] = s.cosine
            frame[f"coupling_{m}_ci_low"] = s.ci_low
            frame[f"coupling_{m}_ci_high"] = s.ci_high
            frame[f"coupling_{m}_p_lower"] = s.p_lower
        if self.provenance is not None:
            frame.insert(0, "model_id", self.provenance.model_id)
        return frame

    def summary(self) -> str:
        name = self.provenance.model_id if self.provenance else "model"
        lines = [f"Per-layer coupling, projection bottleneck and d_rep of {name}"]
        for m, r in self.coupling.items():
            e, mid, late = r.early_mid_late
            lines.append(f"  layers [{m}]: early {e:+.3f}, mid {mid:+.3f}, late {late:+.3f}")
        for m, b in self.bottleneck.items():
            lines.append(
                f"  bottleneck [{m}]: hidden {b.hidden:+.3f}, logits {b.logits:+.3f} "
                f"(delta {b.delta_logits:+.3f}), GELU(hidden) {b.gelu_hidden:+.3f}"
            )
        d = self.rep_dim.per_layer
        lines.append(f"  d_rep: {np.nanmin(d):.1f} .. {np.nanmax(d):.1f} over layers; final {self.rep_dim.final:.1f}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def analyze_layers(
    lm: Any,
    *,
    reasoning: str | Path | list[ContrastItem] = "reasoning",
    truthfulness: str | Path | list[ContrastItem] = "truthfulness",
    max_items: int | None = None,
    n_boot: int = 1000,
    n_perm: int = 1000,
    drep_boot: int = 100,
    ks: list[int] | None = None,
    seed: int = 0,
    batch_size: int = 16,
    max_length: int = 128,
    progress: ProgressFn | None = None,
) -> LayersReport:
    """Per-layer coupling under both measures, the projection bottleneck and ``d_rep``, from one capture."""
    r_items, t_items, info = prepare_prompt_sets(reasoning, truthfulness, max_items)
    settings = layers_settings(
        info, n_boot=n_boot, n_perm=n_perm, seed=seed, max_length=max_length, drep_boot=drep_boot
    )
    acts = capture_contrast(
        lm.model,
        lm.tokenizer,
        r_items,
        t_items,
        heads=False,
        residual=True,
        final=True,
        logits=True,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
    )
    prov = _provenance(lm, info, seed, settings)
    kw = dict(n_boot=n_boot, n_perm=n_perm, seed=seed)
    coupling = {m: layer_coupling(acts, measure=m, **kw) for m in MEASURES}
    bottleneck = {m: projection_bottleneck(acts, measure=m, ks=ks, **kw) for m in MEASURES}
    rep = rep_dimensionality(acts, n_boot=drep_boot, seed=seed)
    warns = tuple(
        w
        for m, r in coupling.items()
        for w in sanity_warnings({f"{lm.model_id} [{m}]": r.per_layer})
    )
    return LayersReport(
        coupling={m: replace(r, provenance=None) for m, r in coupling.items()},
        bottleneck=bottleneck,
        rep_dim=rep,
        provenance=prov,
        warnings=warns,
    )
