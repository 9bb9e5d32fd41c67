"""Steered and unsteered generation with HF ``generate``: batched, left-padded, chat-formatted where it fits.

Decoding is greedy unless ``do_sample=True``; with sampling, every batch is seeded (``seed + batch index``)
before both the unsteered and the steered run, so the two see the same random stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ._common import (
    SteeringError,
    check_positions,
    format_prompt,
    padding_for_generation,
    unwrap_model,
    use_chat,
)

__all__ = ["GenerationPair", "generate", "compare_generations"]


@dataclass(frozen=True)
class GenerationPair:
    """One prompt generated without and with steering (greedy by default)."""

    prompt: str
    unsteered: str
    steered: str

    @property
    def changed(self) -> bool:
        return self.steered != self.unsteered

    def to_dict(self) -> dict:
        return {"prompt": self.prompt, "unsteered": self.unsteered, "steered": self.steered, "changed": self.changed}


def _gen_kwargs(tokenizer: Any, max_new_tokens: int, do_sample: bool, temperature: float, top_p: float) -> dict:
    from ._common import pad_id

    if max_new_tokens < 1:
        raise SteeringError(f"max_new_tokens must be at least 1 (got {max_new_tokens})")
    kw: dict[str, Any] = {"max_new_tokens": int(max_new_tokens), "do_sample": bool(do_sample), "pad_token_id": pad_id(tokenizer)}
    if do_sample:
        kw.update(temperature=float(temperature), top_p=float(top_p), top_k=0)
    else:
        kw.update(temperature=None, top_p=None, top_k=None)
    return kw


def _run_batches(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    runs: Sequence[Callable[[], Any]],
    *,
    chat: bool,
    batch_size: int,
    gen_kwargs: dict,
    seed: int,
    progress: Callable[[int], None] | None,
) -> list[list[str]]:
    """Generate every prompt once per run (each run is a context-manager factory: steering or nothing)."""
    import torch

    if batch_size < 1:
        raise SteeringError(f"batch size must be at least 1 (got {batch_size})")
    texts = [format_prompt(tokenizer, p, chat) for p in prompts]
    outs: list[list[str]] = [[""] * len(prompts) for _ in runs]
    dev = next(model.parameters()).device
    with padding_for_generation(tokenizer), torch.no_grad():
        for b, start in enumerate(range(0, len(texts), batch_size)):
            chunk = texts[start: start + batch_size]
            enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=not chat)
            ids = enc["input_ids"].to(dev)
            mask = enc["attention_mask"].to(dev)
            width = ids.shape[1]
            for r, make_ctx in enumerate(runs):
                torch.manual_seed(seed + b)
                with make_ctx():
                    out = model.generate(input_ids=ids, attention_mask=mask, **gen_kwargs)
                for j in range(len(chunk)):
                    outs[r][start + j] = tokenizer.decode(out[j, width:], skip_special_tokens=True)
            if progress is not None:
                progress(len(chunk))
    return outs


def _steering_ctx(model: Any, vector: Any, strength: float, layers: Any, positions: str):
    """A factory of steering contexts (the caller has already checked that the vector fits the model)."""
    def make():
        return vector._unchecked_patch(model, strength, layers=layers, positions=positions)
    return make


def _no_ctx():
    from contextlib import nullcontext

    return nullcontext()


def _prepare(model, tokenizer, prompts, vector, layers, positions, force, chat, max_new_tokens, do_sample,
             temperature, top_p, generate_kwargs):
    """Checks and settings shared by :func:`generate` and :func:`compare_generations`: the unwrapped model and
    tokenizer, the prompt list, whether to use the chat template, and the ``generate`` keyword arguments."""
    hf, tokenizer, ident = unwrap_model(model, tokenizer)
    if isinstance(prompts, str):
        prompts = [prompts]
    if not prompts:
        raise SteeringError("no prompts to generate from")
    check_positions(positions)
    if vector is not None:
        vector.check_compatible(hf, force=force, identity=ident)
        vector.select_layers(layers)
    kw = dict(_gen_kwargs(tokenizer, max_new_tokens, do_sample, temperature, top_p), **(generate_kwargs or {}))
    return hf, tokenizer, list(prompts), use_chat(tokenizer, chat), kw


def generate(
    model: Any,
    tokenizer: Any = None,
    prompts: Sequence[str] | str = (),
    *,
    vector: Any = None,
    strength: float = 0.1,
    layers: Any = None,
    positions: str = "all",
    max_new_tokens: int = 40,
    batch_size: int = 8,
    chat: Any = "auto",
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    generate_kwargs: dict | None = None,
) -> list[str]:
    """Generate continuations (the new text only), steered by ``vector`` when given.

    ``generate_kwargs`` are passed on to HF ``generate`` (e.g. ``min_new_tokens``, ``repetition_penalty``).

    Example:
        >>> generate(lm, prompts=["The moon landing was"], vector=vec, strength=0.5)   # doctest: +SKIP
    """
    hf, tokenizer, prompts, chat_on, kw = _prepare(model, tokenizer, prompts, vector, layers, positions, force,
                                                   chat, max_new_tokens, do_sample, temperature, top_p,
                                                   generate_kwargs)
    run = _no_ctx if vector is None else _steering_ctx(hf, vector, strength, layers, positions)
    return _run_batches(hf, tokenizer, prompts, [run], chat=chat_on, batch_size=batch_size,
                        gen_kwargs=kw, seed=seed, progress=progress)[0]


def compare_generations(
    model: Any,
    tokenizer: Any = None,
    prompts: Sequence[str] | str = (),
    *,
    vector: Any,
    strength: float = 0.1,
    layers: Any = None,
    positions: str = "all",
    max_new_tokens: int = 40,
    batch_size: int = 8,
    chat: Any = "auto",
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    generate_kwargs: dict | None = None,
) -> list[GenerationPair]:
    """Generate each prompt unsteered and steered in the same batch layout and with the same seed.

    With greedy decoding (the default) and ``strength=0`` the two texts are identical for every prompt.
    """
    hf, tokenizer, prompts, chat_on, kw = _prepare(model, tokenizer, prompts, vector, layers, positions, force,
                                                   chat, max_new_tokens, do_sample, temperature, top_p,
                                                   generate_kwargs)
    plain, steered = _run_batches(
        hf, tokenizer, prompts, [_no_ctx, _steering_ctx(hf, vector, strength, layers, positions)],
        chat=chat_on, batch_size=batch_size, gen_kwargs=kw, seed=seed, progress=progress,
    )
    return [GenerationPair(p, u, s) for p, u, s in zip(prompts, plain, steered)]
