"""What moves N_c: data recipe, width, architecture, generation and post-training as measured levers.

Each lever's effect on coupling is estimated at matched scale from public scores, with families as the
independent units (permutation p with the lever shuffled across families, the CI that inverts it, a family
bootstrap for the scale reading), an
equivalent-scale reading ("curated at 1B couples like web-trained models at X B") and an honest account of
confounding (families per level, labs per level, collinear levers, "not identifiable" below 3 families a side).

Example:
    >>> from cape import data
    >>> from cape.levers import lever_effects
    >>> rep = lever_effects(data.load_base(), ["recipe"], n_boot=200, n_perm=200)
    >>> rep.get("recipe", "curated").identifiable   # gamma needs 2+ sizes: only Phi and Qwen2.5 qualify
    False
"""

from __future__ import annotations

from .analysis import lever_effects
from .attributes import BUILTIN, lineage_of, model_attributes, normalise_kind
from .pairs import FinetuneReport, KindShift, finetune_shifts
from .results import EquivalentScale, LeverEffect, LeverReport

__all__ = ["BUILTIN", "EquivalentScale", "FinetuneReport", "KindShift", "LeverEffect", "LeverReport",
           "finetune_shifts", "lever_effects", "lineage_of", "model_attributes", "normalise_kind"]
