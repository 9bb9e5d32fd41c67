"""The measurements behind a steering evaluation, each usable alone: answer log-probabilities of two-choice
items (unsteered or steered), held-out truthfulness with a paired bootstrap CI, the intervention rate, the
layer x strength sweep and the negation control."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ._common import NEGATION, SteeringError, pad_id, unwrap_model, use_chat
from .datasets import MCItem, load_generation_prompts, load_mc_items
from .evaluation import MCResult, SweepCell
from .forward import encode, score_completions
from .generate import GenerationPair, compare_generations
from .options import SCORES

__all__ = ["default_sweep_layers", "encode_items", "evaluate_mc", "intervention_rate", "layer_strength_sweep",
           "mc_logprobs", "mc_prompt", "mc_result", "negation_control", "paired_bootstrap_ci"]


def paired_bootstrap_ci(diff: Sequence[float], *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of paired differences (items resampled with replacement)."""
    import numpy as np

    d = np.asarray(diff, dtype=np.float64)
    if d.size == 0:
        return (float("nan"), float("nan"))
    if d.size == 1 or np.all(d == d[0]):
        return (float(d.mean()), float(d.mean()))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, size=(int(n_boot), d.size))
    means = d[idx].mean(axis=1)
    a = (1.0 - level) / 2.0
    return (float(np.quantile(means, a)), float(np.quantile(means, 1.0 - a)))


def mc_prompt(question: str, chat: bool) -> str:
    """The prompt an item's answers are scored after: the question as a user turn, or ``Q: ...\nA:``."""
    return question if chat else f"Q: {question}\nA:"


def encode_items(tokenizer: Any, items: Sequence[MCItem], chat: bool):
    """Every item's prompt + true answer, then every item's prompt + false answer, encoded once for reuse."""
    enc_true = [encode(tokenizer, mc_prompt(it.question, chat), it.true, chat) for it in items]
    enc_false = [encode(tokenizer, mc_prompt(it.question, chat), it.false, chat) for it in items]
    return enc_true + enc_false


def mc_logprobs(
    model: Any,
    tokenizer: Any,
    items: Sequence[MCItem],
    *,
    vector: Any = None,
    strength: float = 0.0,
    layers: Any = None,
    positions: str = "all",
    chat: Any = False,
    batch_size: int = 16,
    force: bool = False,
    score: str = "mean",
    progress: Callable[[int], None] | None = None,
    _encoded: Any = None,
    _checked: bool = False,
):
    """``(logp_true, logp_false)`` arrays for the items, unsteered or steered by ``vector``.

    ``score="mean"`` (default) gives the mean log-probability per answer token, so that a longer answer is not
    penalised for its length; ``score="sum"`` gives the summed log-probability.
    """
    if score not in SCORES:
        raise SteeringError(f"score {score!r} is not one of {', '.join(SCORES)}")
    per_token = score == "mean"
    hf, tokenizer, ident = unwrap_model(model, tokenizer)
    chat_on = use_chat(tokenizer, chat)
    enc = _encoded if _encoded is not None else encode_items(tokenizer, items, chat_on)
    n = len(items)
    pad = pad_id(tokenizer)
    if vector is None:
        s = score_completions(hf, enc, pad=pad, batch_size=batch_size, progress=progress, per_token=per_token)
    else:
        if not _checked:
            vector.check_compatible(hf, force=force, identity=ident)
        with vector._unchecked_patch(hf, strength, layers=layers, positions=positions) as h:
            s = score_completions(hf, enc, pad=pad, batch_size=batch_size, handle=h, positions=positions, progress=progress,
                                  per_token=per_token)
    return s[:n], s[n:]


def mc_result(base: tuple, steered: tuple, *, n_boot: int, seed: int, level: float = 0.95) -> MCResult:
    """Accuracy, margin and answer log-probability from ``(logp_true, logp_false)`` unsteered (``base``) and
    steered, with paired bootstrap CIs of the changes at ``level``."""
    import numpy as np

    mu = base[0] - base[1]
    ms = steered[0] - steered[1]
    acc_u = (mu > 0).astype(float)
    acc_s = (ms > 0).astype(float)
    return MCResult(
        n=int(mu.size),
        accuracy_unsteered=float(acc_u.mean()),
        accuracy_steered=float(acc_s.mean()),
        margin_unsteered=float(mu.mean()),
        margin_steered=float(ms.mean()),
        margin_diff=float(np.mean(ms - mu)),
        margin_diff_ci=paired_bootstrap_ci(ms - mu, n_boot=n_boot, level=level, seed=seed),
        accuracy_diff=float(np.mean(acc_s - acc_u)),
        accuracy_diff_ci=paired_bootstrap_ci(acc_s - acc_u, n_boot=n_boot, level=level, seed=seed + 1),
        logprob_unsteered=float(np.mean((base[0] + base[1]) / 2)),
        logprob_steered=float(np.mean((steered[0] + steered[1]) / 2)),
        level=level,
    )


def evaluate_mc(
    model: Any,
    tokenizer: Any = None,
    vector: Any = None,
    items: Any = None,
    *,
    strength: float = 0.1,
    layers: Any = None,
    positions: str = "all",
    chat: Any = False,
    batch_size: int = 16,
    n_boot: int = 2000,
    seed: int = 0,
    force: bool = False,
    score: str = "mean",
) -> MCResult:
    """Held-out two-choice truthfulness, unsteered vs steered (see the module docstring)."""
    if vector is None:
        raise SteeringError("evaluate_mc needs a steering vector")
    hf, tokenizer, ident = unwrap_model(model, tokenizer)
    vector.check_compatible(hf, force=force, identity=ident)
    items = items if isinstance(items, list) and (not items or isinstance(items[0], MCItem)) else load_mc_items(items)
    chat_on = use_chat(tokenizer, chat)
    enc = encode_items(tokenizer, items, chat_on)
    base = mc_logprobs(hf, tokenizer, items, chat=chat_on, batch_size=batch_size, score=score, _encoded=enc)
    st = mc_logprobs(hf, tokenizer, items, vector=vector, strength=strength, layers=layers, positions=positions,
                     chat=chat_on, batch_size=batch_size, force=force, score=score, _encoded=enc, _checked=True)
    return mc_result(base, st, n_boot=n_boot, seed=seed)


def intervention_rate(
    model: Any,
    tokenizer: Any = None,
    vector: Any = None,
    prompts: Any = None,
    *,
    strength: float = 0.1,
    layers: Any = None,
    positions: str = "all",
    max_new_tokens: int = 30,
    batch_size: int = 8,
    chat: Any = "auto",
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[float, list[GenerationPair]]:
    """Share of prompts whose greedy steered output differs from their greedy unsteered output."""
    if vector is None:
        raise SteeringError("intervention_rate needs a steering vector")
    prompts = prompts if isinstance(prompts, list) else load_generation_prompts(prompts)
    pairs = compare_generations(model, tokenizer, prompts, vector=vector, strength=strength, layers=layers,
                                positions=positions, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                chat=chat, force=force, progress=progress)
    rate = sum(p.changed for p in pairs) / len(pairs)
    return rate, pairs


def layer_strength_sweep(
    model: Any,
    tokenizer: Any,
    vector: Any,
    items: Sequence[MCItem],
    *,
    layers: Sequence[int],
    strengths: Sequence[float],
    positions: str = "all",
    chat: Any = False,
    batch_size: int = 16,
    force: bool = False,
    baseline: tuple | None = None,
    score: str = "mean",
    progress: Callable[[int], None] | None = None,
    _checked: bool = False,
) -> list[SweepCell]:
    """Accuracy and margin gain on ``items`` for every (layer, strength) pair (each layer steered alone)."""
    import numpy as np

    hf, tokenizer, ident = unwrap_model(model, tokenizer)
    if not _checked:
        vector.check_compatible(hf, force=force, identity=ident)
        _checked = True
    chat_on = use_chat(tokenizer, chat)
    enc = encode_items(tokenizer, items, chat_on)
    if baseline is None:
        baseline = mc_logprobs(hf, tokenizer, items, chat=chat_on, batch_size=batch_size, score=score, _encoded=enc)
    mu = baseline[0] - baseline[1]
    cells = []
    for layer in layers:
        for s in strengths:
            st = mc_logprobs(hf, tokenizer, items, vector=vector, strength=s, layers=[layer], positions=positions,
                             chat=chat_on, batch_size=batch_size, force=force, score=score, _encoded=enc,
                             _checked=_checked)
            ms = st[0] - st[1]
            cells.append(SweepCell(layer=int(layer), strength=float(s), accuracy=float(np.mean(ms > 0)),
                                   margin=float(np.mean(ms)),
                                   accuracy_gain=float(np.mean(ms > 0) - np.mean(mu > 0)),
                                   margin_gain=float(np.mean(ms - mu)),
                                   logprob_change=float(np.mean((st[0] + st[1]) / 2 - (baseline[0] + baseline[1]) / 2))))
            if progress is not None:
                progress(1)
    return cells


def negation_control(items: Sequence[MCItem], margin_unsteered: Any, margin_steered: Any) -> list[dict]:
    """Mean margin gain for items with a negation word in the true answer only, the false answer only, or neither/both."""
    import numpy as np

    gain = np.asarray(margin_steered, dtype=float) - np.asarray(margin_unsteered, dtype=float)
    groups = {"negation in true answer only": [], "negation in false answer only": [], "neither or both": []}
    for i, it in enumerate(items):
        t, f = bool(NEGATION.search(it.true)), bool(NEGATION.search(it.false))
        key = "negation in true answer only" if t and not f else "negation in false answer only" if f and not t \
            else "neither or both"
        groups[key].append(i)
    return [{"group": k, "n": len(v), "margin_gain": float(gain[v].mean()) if v else None}
            for k, v in groups.items()]


def default_sweep_layers(vector: Any, k: int = 6) -> list[int]:
    """The quarter layer, the validated layer, the default layers and ``k`` evenly spaced available layers."""
    avail = list(vector.available_layers)
    picked = set(vector.layers)
    for x in (vector.quarter_layer, vector.best_layer):
        if x is not None and x in vector.directions:
            picked.add(int(x))
    if len(avail) <= k:
        picked.update(avail)
    else:
        for i in range(k):
            picked.add(avail[round(i * (len(avail) - 1) / (k - 1))])
    return sorted(picked)
