"""Measuring what a steering vector does, with numbers that can come out against it.

Three measurements, all deterministic (greedy decoding, seeded bootstrap):

1. **Held-out truthfulness (two-choice).** For each item the model scores the true and the false answer after
   the question (mean log-probability per answer token by default, so length does not decide; or the sum).
   Accuracy = share of items where the true answer scores higher; margin = log p(true) - log p(false). Both are
   measured unsteered and steered on the same items; the paired difference gets a bootstrap confidence interval
   (items resampled).
2. **Intervention rate.** Share of open prompts whose greedy steered continuation differs from the greedy
   unsteered continuation of the same prompt. At strength 0 it is exactly 0. (The paper compared two
   independent random samples, so even zero steering scored about 100%.) A change is not an improvement:
   this rate says only how often steering alters the text.
3. **Layer x strength sweep** of accuracy and margin gain, with the paper's quarter-depth layer next to the
   layer chosen on the training set's validation split (and, marked in-sample, the best layer of the sweep).

The measurements live in :mod:`.measure`, the result types in :mod:`.evaluation`, the settings in
:class:`~cape.internals.steering.options.EvalOptions`; this module runs them together
(:func:`evaluate_steering`) and re-exports their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ._common import SteeringError, unwrap_model, use_chat
from .datasets import MCItem, load_generation_prompts, load_mc_items
from .evaluation import MCResult, SteeringEvaluation, SweepCell
from .measure import (default_sweep_layers, encode_items, evaluate_mc, intervention_rate, layer_strength_sweep,
                      mc_logprobs, mc_prompt, mc_result, negation_control, paired_bootstrap_ci)
from .options import DEFAULT_SWEEP_STRENGTHS, SCORES, EvalOptions, with_overrides

__all__ = [
    "DEFAULT_SWEEP_STRENGTHS",
    "EvalOptions",
    "MCResult",
    "SCORES",
    "SweepCell",
    "SteeringEvaluation",
    "default_sweep_layers",
    "mc_logprobs",
    "mc_prompt",
    "evaluate_mc",
    "intervention_rate",
    "layer_strength_sweep",
    "negation_control",
    "evaluate_steering",
    "paired_bootstrap_ci",
]

#: Former private names, kept for code that imported them.
_encode_items = encode_items
_mc_result = mc_result


@dataclass(frozen=True)
class _Plan:
    """What one evaluation runs: the items, the prompts, the main layers and the sweep grid."""

    items: list[MCItem]
    prompts: list[str]
    layers: list[int]
    sweep_layers: list[int]
    strengths: list[float]
    chat: bool
    mc_chat: bool


def _plan(vector: Any, tokenizer: Any, o: EvalOptions) -> _Plan:
    items = o.items if isinstance(o.items, list) else load_mc_items(o.items)
    if o.n_items is not None:
        items = items[:o.n_items]
    prompts: list[str] = []
    if o.n_prompts != 0:
        prompts = o.prompts if isinstance(o.prompts, list) else load_generation_prompts(o.prompts)
        if o.n_prompts is not None:
            prompts = prompts[:o.n_prompts]
    if o.sweep_layers == "default":
        sl = default_sweep_layers(vector)
    elif o.sweep_layers is None or o.sweep_strengths is None:
        sl = []
    else:
        sl = vector.select_layers(o.sweep_layers)
    strengths = sorted(set([float(s) for s in (o.sweep_strengths or [])] + [o.strength])) if sl else []
    return _Plan(items=items, prompts=prompts, layers=vector.select_layers(o.layers), sweep_layers=sl,
                 strengths=strengths, chat=use_chat(tokenizer, o.chat), mc_chat=use_chat(tokenizer, o.mc_chat))


def _counter(report: Callable[[str, int], None], stage: str) -> Callable[[int], None]:
    """A progress callback adding up its ticks and reporting the running total of ``stage``."""
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        report(stage, done[0])
    return tick


def _settings(o: EvalOptions, plan: _Plan, vector: Any) -> dict:
    """The settings block of the result: item/prompt sources, counts, seeds and decoding."""
    def source(v: Any, builtin: str, user: str) -> str:
        return builtin if v is None else user if isinstance(v, list) else str(v)

    return {
        "items": source(o.items, "built-in held-out truthfulness items", "user items"),
        "n_items": len(plan.items),
        "prompts": source(o.prompts, "built-in generation prompts", "user prompts"),
        "decoding": "greedy",
        "max_new_tokens": o.max_new_tokens,
        "chat_template_generation": bool(plan.chat),
        "chat_template_items": bool(plan.mc_chat),
        "score": o.score,
        "n_boot": o.n_boot,
        "seed": o.seed,
        "ci_level": 0.95,
        "vector_method": vector.method,
        "strength_unit": "multiple of the layer's mean residual-stream norm",
    }


def evaluate_steering(model: Any, tokenizer: Any = None, vector: Any = None, *, options: EvalOptions | None = None,
                      progress: Callable[[str, int, int], None] | None = None, **kwargs: Any) -> SteeringEvaluation:
    """Evaluate ``vector`` on ``model``: held-out two-choice truthfulness, intervention rate and a sweep.

    Args:
        model: HF causal LM or ``LoadedModel``; tokenizer: its tokenizer (from a ``LoadedModel`` when omitted).
        vector: the :class:`~cape.internals.steering.SteeringVector` to measure.
        options: :class:`~cape.internals.steering.options.EvalOptions` (items, prompts, strength, layers,
            positions, sweep, chat templates, batch sizes, bootstrap, score; defaults when omitted).
        progress: ``progress(stage, done, total)`` callback (stages ``mc``, ``sweep``, ``generation``).
        **kwargs: any field of :class:`EvalOptions` (e.g. ``strength=0.5``), applied on top of ``options``.

    Returns:
        :class:`~cape.internals.steering.evaluation.SteeringEvaluation`.

    Raises:
        SteeringError: no vector, an unknown option or a bad value (one sentence naming it).

    Example:
        >>> ev = evaluate_steering(lm, vector=vec, options=EvalOptions(strength=0.5, n_prompts=10))  # doctest: +SKIP
        >>> print(ev.markdown())                                                                     # doctest: +SKIP
    """
    o = with_overrides(EvalOptions, options, kwargs, where="evaluate_steering")
    if vector is None:
        raise SteeringError("evaluate_steering needs a steering vector")
    hf, tokenizer, ident = unwrap_model(model, tokenizer)
    vector.check_compatible(hf, force=o.force, identity=ident)
    plan = _plan(vector, tokenizer, o)
    total = {"mc": 2, "sweep": len(plan.sweep_layers) * len(plan.strengths), "generation": len(plan.prompts)}

    def report(stage: str, done: int) -> None:
        if progress is not None:
            progress(stage, done, total[stage])

    enc = encode_items(tokenizer, plan.items, plan.mc_chat)
    kw = dict(chat=plan.mc_chat, batch_size=o.batch_size, score=o.score, _encoded=enc)
    base = mc_logprobs(hf, tokenizer, plan.items, **kw)
    report("mc", 1)
    st = mc_logprobs(hf, tokenizer, plan.items, vector=vector, strength=o.strength, layers=plan.layers,
                     positions=o.positions, force=True, _checked=True, **kw)
    report("mc", 2)
    cells: list[SweepCell] = []
    if plan.sweep_layers:
        cells = layer_strength_sweep(hf, tokenizer, vector, plan.items, layers=plan.sweep_layers,
                                     strengths=plan.strengths, positions=o.positions, chat=plan.mc_chat,
                                     batch_size=o.batch_size, force=True, baseline=base, score=o.score,
                                     progress=_counter(report, "sweep"), _checked=True)
    rate, gens = None, []
    if plan.prompts:
        rate, gens = intervention_rate(model, tokenizer, vector, plan.prompts, strength=o.strength,
                                       layers=plan.layers, positions=o.positions, max_new_tokens=o.max_new_tokens,
                                       batch_size=o.gen_batch_size, chat=plan.chat, force=o.force,
                                       progress=_counter(report, "generation"))
    at_s = [c for c in cells if c.strength == o.strength]
    return SteeringEvaluation(
        model_id=ident.get("model_id"), layers=tuple(plan.layers), strength=o.strength, positions=o.positions,
        mc=mc_result(base, st, n_boot=o.n_boot, seed=o.seed), intervention_rate=rate, n_prompts=len(plan.prompts),
        n_changed=sum(g.changed for g in gens), generations=tuple(gens), sweep=tuple(cells),
        quarter_layer=vector.quarter_layer if vector.quarter_layer is not None else ident["num_layers"] // 4,
        validated_layer=vector.best_layer,
        sweep_best_layer=max(at_s, key=lambda c: c.margin_gain).layer if at_s else None,
        negation_control=tuple(negation_control(plan.items, (base[0] - base[1]), (st[0] - st[1]))),
        settings=_settings(o, plan, vector))
