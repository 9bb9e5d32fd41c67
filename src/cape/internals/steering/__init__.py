"""Activation steering: train a direction from contrast pairs, add it during generation, measure the effect.

The pieces, one file each:

- :mod:`.train`: :func:`train_steering_vector` (mean difference or first principal axis, batched, one or many
  layers; ``layers="auto"`` reports the paper's quarter-depth layer and the best layer of a validation sweep);
- :mod:`.vector`: :class:`SteeringVector` with :meth:`~SteeringVector.apply` (a context manager that always
  removes its hooks) and :meth:`~SteeringVector.patch`; strength is a multiple of the layer's mean
  residual-stream norm; positions ``all``, ``prompt`` or ``generated``;
- :mod:`.apply`: the hooks themselves (:func:`steer` for raw deltas);
- :mod:`.generate`: batched, left-padded, chat-formatted generation, steered and unsteered side by side;
- :mod:`.evaluate`: :func:`evaluate_steering`: held-out two-choice truthfulness with bootstrap CIs, the
  intervention rate (greedy steered vs greedy unsteered output of the same prompt) and a layer x strength sweep
  (the measurements in :mod:`.measure`, the result types in :mod:`.evaluation`);
- :mod:`.options`: :class:`TrainOptions` and :class:`EvalOptions`, the settings of training and evaluation;
- :mod:`.io`: safetensors files with provenance; a vector refuses a model with another hidden size or identity.

Example:
    >>> from cape.internals.loading import load_model                          # doctest: +SKIP
    >>> from cape.internals.steering import EvalOptions, evaluate_steering, train_steering_vector
    >>> lm = load_model("HuggingFaceTB/SmolLM2-135M-Instruct")                  # doctest: +SKIP
    >>> vec = train_steering_vector(lm)                                          # doctest: +SKIP
    >>> vec.save("truth.safetensors")                                            # doctest: +SKIP
    >>> print(evaluate_steering(lm, vector=vec, options=EvalOptions(strength=0.5)).markdown())  # doctest: +SKIP
"""

from ._common import POSITIONS, SteeringCompatibilityError, SteeringError, quarter_layer
from .apply import SteeringHandle, add_steering_hooks, steer
from .datasets import MCItem, Pair, load_generation_prompts, load_mc_items, load_pairs
from .evaluate import (
    MCResult,
    SteeringEvaluation,
    SweepCell,
    evaluate_mc,
    evaluate_steering,
    intervention_rate,
    layer_strength_sweep,
    mc_logprobs,
    paired_bootstrap_ci,
)
from .generate import GenerationPair, compare_generations, generate
from .options import EvalOptions, TrainOptions
from .io import read_metadata, save_steering_vector
from .train import METHODS, train_steering_vector
from .vector import SteeringVector, load_steering_vector

__all__ = [
    "POSITIONS",
    "METHODS",
    "SteeringError",
    "SteeringCompatibilityError",
    "SteeringVector",
    "SteeringHandle",
    "add_steering_hooks",
    "steer",
    "train_steering_vector",
    "TrainOptions",
    "EvalOptions",
    "generate",
    "compare_generations",
    "GenerationPair",
    "evaluate_steering",
    "evaluate_mc",
    "intervention_rate",
    "layer_strength_sweep",
    "mc_logprobs",
    "paired_bootstrap_ci",
    "MCResult",
    "SweepCell",
    "SteeringEvaluation",
    "save_steering_vector",
    "load_steering_vector",
    "read_metadata",
    "MCItem",
    "Pair",
    "load_pairs",
    "load_mc_items",
    "load_generation_prompts",
    "quarter_layer",
]
