"""The settings of training and evaluating a steering vector, each group one frozen dataclass.

:func:`~cape.internals.steering.train_steering_vector` takes ``options=TrainOptions(...)`` and
:func:`~cape.internals.steering.evaluate_steering` ``options=EvalOptions(...)``; the same settings given as
keyword arguments still work (they override the options' fields). A bad value raises
:class:`~cape.internals.steering.SteeringError` when the options are built.

Example:
    >>> opts = EvalOptions(strength=0.5, n_prompts=10, sweep_layers=None)
    >>> opts.strength, opts.sweep_strengths
    (0.5, (-0.1, 0.05, 0.1, 0.25, 0.5))
    >>> EvalOptions(score="max")
    Traceback (most recent call last):
    ...
    cape.internals.steering._common.SteeringError: score 'max' is not one of mean, sum
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from ._common import SteeringError, check_positions, check_strength

__all__ = ["DEFAULT_SWEEP_STRENGTHS", "EvalOptions", "METHODS", "SCORES", "TrainOptions", "with_overrides"]

#: Strengths of the evaluation's layer x strength sweep (the main strength is always added).
DEFAULT_SWEEP_STRENGTHS = (-0.1, 0.05, 0.1, 0.25, 0.5)

#: How an answer is scored: mean log-probability per answer token, or the sum over the answer.
SCORES = ("mean", "sum")

#: How a direction is estimated from the contrast pairs.
METHODS = ("mean_diff", "pca")

Opts = TypeVar("Opts", "EvalOptions", "TrainOptions")


@dataclass(frozen=True)
class EvalOptions:
    """How :func:`~cape.internals.steering.evaluate_steering` measures a vector.

    Attributes:
        items: two-choice items (built-in held-out set by default, a JSONL path, or a list of ``MCItem``);
            n_items: keep the first n.
        prompts: generation prompts (built-in by default, a path, or a list); n_prompts: keep the first n
            (``0`` skips the intervention rate).
        strength: the main strength (a multiple of the layer's mean residual-stream norm); layers: the main layers
            (default the vector's); positions: ``all``, ``prompt`` or ``generated``.
        max_new_tokens: greedy tokens per prompt for the intervention rate.
        sweep_layers: ``"default"`` (quarter, validated, default and evenly spaced layers), a list, or None for
            no sweep; sweep_strengths: strengths of the sweep (None: no sweep).
        chat: chat template for the generation prompts (``"auto"``: when the tokenizer has one); mc_chat: for
            the two-choice items (default off: ``Q: question\\nA: answer``).
        batch_size: sequences per forward pass when scoring; gen_batch_size: prompts per generation batch.
        n_boot, seed: bootstrap resamples of the paired CIs and their seed.
        force: steer a model whose identity differs from the vector's.
        score: ``mean`` log-probability per answer token, or ``sum``.
    """

    items: Any = None
    prompts: Any = None
    strength: float = 0.1
    layers: Any = None
    positions: str = "all"
    n_items: int | None = None
    n_prompts: int | None = None
    max_new_tokens: int = 30
    sweep_layers: Any = "default"
    sweep_strengths: Sequence[float] | None = DEFAULT_SWEEP_STRENGTHS
    chat: Any = "auto"
    mc_chat: Any = False
    batch_size: int = 16
    gen_batch_size: int = 8
    n_boot: int = 2000
    seed: int = 0
    force: bool = False
    score: str = "mean"

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", check_strength(self.strength))
        check_positions(self.positions)
        if self.n_items is not None and self.n_items < 1:
            raise SteeringError(f"n_items must be at least 1 (got {self.n_items})")
        if self.score not in SCORES:
            raise SteeringError(f"score {self.score!r} is not one of {', '.join(SCORES)}")


@dataclass(frozen=True)
class TrainOptions:
    """How :func:`~cape.internals.steering.train_steering_vector` trains a vector.

    Attributes:
        layers: ``"auto"`` (read every layer; default layer by ``select``), ``"quarter"``, ``"all"``, an int or a
            list of ints; with explicit layers all of them are the default layers and no sweep is run.
        method: ``"mean_diff"`` (CAA) or ``"pca"``.
        read: ``"mean"`` over continuation tokens, or ``"last"`` token.
        select: for ``layers="auto"``: ``"sweep"`` (best validated layer) or ``"quarter"`` (the paper's choice);
            the sweep runs in both cases so that both layers are reported.
        batch_size: sequences per forward pass (padding on the right).
        chat: format contexts as a chat user turn (``True``/``"auto"``); off by default because the built-in
            pairs are statement continuations, not questions.
        val_fraction: share of pairs held out for the layer sweep.
        sweep_layers: layers to sweep (default: all read layers); sweep_strength: relative strength of the sweep.
        seed: seed of the validation split.
    """

    layers: Any = "auto"
    method: str = "mean_diff"
    read: str = "mean"
    select: str = "sweep"
    batch_size: int = 16
    chat: Any = False
    val_fraction: float = 0.2
    sweep_layers: Any = None
    sweep_strength: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise SteeringError(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if self.select not in ("sweep", "quarter"):
            raise SteeringError(f"select {self.select!r} is not 'sweep' or 'quarter'")


def with_overrides(cls: type[Opts], options: Opts | None, overrides: Mapping[str, Any], *, where: str) -> Opts:
    """``options`` (default ``cls()``) with the keyword arguments ``overrides`` applied on top.

    Raises:
        SteeringError: ``options`` of another type, or a keyword that is not one of ``cls``'s fields (with the
            closest name).
    """
    known = [f.name for f in fields(cls)]
    for k in overrides:
        if k not in known:
            close = difflib.get_close_matches(k, known, n=1)
            raise SteeringError(f"{where}: unknown option {k!r}" + (f"; did you mean {close[0]!r}?" if close else
                                                                     f"; options: {', '.join(known)}"))
    if options is None:
        return cls(**overrides)
    if not isinstance(options, cls):
        raise SteeringError(f"{where}: options must be a {cls.__name__}, not {type(options).__name__}")
    return replace(options, **overrides) if overrides else options
