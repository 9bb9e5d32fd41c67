"""Model internals: where inside an open-weight model reasoning and truthfulness cooperate or compete.

Submodules (torch and transformers are imported only when a function that needs them runs):

* :mod:`~cape.internals.loading`: :func:`load_model` (local directory, HF cache / hub id, GGUF file);
* :mod:`~cape.internals.adapters`: per-architecture access to layers, attention, output projection, unembedding;
* :mod:`~cape.internals.prompts`: the built-in ``reasoning`` and ``truthfulness`` contrast sets and user JSONL;
* :mod:`~cape.internals.hooks`: one sweep over the batches capturing every head, every layer and the final state;
* :mod:`~cape.internals.streaming`: that sweep block by block, memory-mapped weights resident one block at a time;
* :mod:`~cape.internals.heads`: per-head coupling with bootstrap CIs and a label-permutation null;
* :mod:`~cape.internals.layers`: per-layer residual-stream coupling and representational dimensionality;
* :mod:`~cape.internals.bottleneck`: hidden vs logit space vs top-k principal directions;
* :mod:`~cape.internals.measures`: the coupling measures (``contrast``, ``paper``), bootstrap and null;
* :mod:`~cape.internals.analysis`: end-to-end runs with provenance; :mod:`~cape.internals.results`: files.

Example:
    >>> from cape.internals import load_model, analyze_heads      # doctest: +SKIP
    >>> res = analyze_heads(load_model("EleutherAI/pythia-160m"))  # doctest: +SKIP
    >>> print(res.summary())                                       # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ArchAdapter": "adapters",
    "UnsupportedArchitectureError": "adapters",
    "get_adapter": "adapters",
    "register_adapter": "adapters",
    "block_output_hidden": "adapters",
    "head_contributions": "adapters",
    "supported_model_types": "adapters",
    "LoadedModel": "loading",
    "ModelLoadError": "loading",
    "load_model": "loading",
    "ContrastItem": "prompts",
    "PromptSetError": "prompts",
    "load_contrast_set": "prompts",
    "contrast_set_hash": "prompts",
    "capture": "hooks",
    "capture_contrast": "hooks",
    "unit_coupling": "measures",
    "head_coupling": "heads",
    "HeadCouplingResult": "heads",
    "layer_coupling": "layers",
    "rep_dimensionality": "layers",
    "projection_bottleneck": "bottleneck",
    "analyze_heads": "analysis",
    "analyze_layers": "analysis",
    "LayersReport": "analysis",
    "Thresholds": "results",
    "sanity_warnings": "results",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cape.internals' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cape.internals.{module}"), name)
