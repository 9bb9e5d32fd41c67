"""Batched forward passes used by training and evaluation: reading activations and scoring completions.

Both pad on the right (real tokens keep their natural positions, so padding never changes their states), sort
sequences by length to waste little compute on padding, and return results in input order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ._common import (
    SteeringError,
    decoder_layers,
    encode_completion,
    encode_prompt,
    pad_id,
    pad_right,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from .apply import SteeringHandle

__all__ = ["Encoded", "encode_pairs", "record_activations", "score_completions", "Recording"]

READ_MODES = ("mean", "last")


@dataclass(frozen=True)
class Encoded:
    """A prompt and completion as token ids; ``prompt_len`` tokens of context precede the completion."""

    ids: tuple[int, ...]
    prompt_len: int


def encode(tokenizer: Any, prompt: str, completion: str, chat: bool) -> Encoded:
    """Token ids of ``prompt`` (chat-formatted when ``chat``) followed by ``completion``.

    An empty prompt gives the completion alone (with the tokenizer's beginning-of-sequence token, if any, as
    context so that the first completion token is scored).
    """
    if prompt.strip():
        p = encode_prompt(tokenizer, prompt, chat)
        c = encode_completion(tokenizer, completion, after_prompt=not chat)
    else:
        p = []
        bos = getattr(tokenizer, "bos_token_id", None)
        if bos is not None:
            p = [int(bos)]
        c = encode_completion(tokenizer, completion, after_prompt=False)
    if not c:
        raise SteeringError(f"the completion {completion!r} encodes to no tokens")
    return Encoded(tuple(p) + tuple(c), len(p))


def encode_pairs(tokenizer: Any, pairs: Sequence[Any], chat: bool) -> tuple[list[Encoded], list[Encoded]]:
    """Encode the positive and negative side of every pair (``context`` + ``positive`` / ``negative``)."""
    pos = [encode(tokenizer, p.context, p.positive, chat) for p in pairs]
    neg = [encode(tokenizer, p.context, p.negative, chat) for p in pairs]
    return pos, neg


def _batches(n: int, lengths: Sequence[int], batch_size: int, max_waste: float = 0.1) -> list[list[int]]:
    """Batches of at most ``batch_size`` sequences, sorted by length; a batch is closed early when padding would
    exceed ``max_waste`` of its real tokens (so long and short sequences are not padded together)."""
    if batch_size < 1:
        raise SteeringError(f"batch size must be at least 1 (got {batch_size})")
    order = sorted(range(n), key=lambda i: (lengths[i], i))
    out: list[list[int]] = []
    cur: list[int] = []
    real = 0
    for i in order:
        L = lengths[i]
        if cur and (len(cur) >= batch_size or L * (len(cur) + 1) > (1.0 + max_waste) * (real + L)):
            out.append(cur)
            cur, real = [], 0
        cur.append(i)
        real += L
    if cur:
        out.append(cur)
    return out


class _Stop(Exception):
    """Raised inside a hook to end a forward pass once the last needed layer has run."""


@dataclass
class Recording:
    """Activations read at several layers.

    Attributes:
        acts: ``{layer: float32 array [n_sequences, hidden]}`` read per ``read`` mode.
        norms: ``{layer: float32 array}`` of per-token residual norms (real tokens, first token excluded).
    """

    acts: dict[int, "np.ndarray"]
    norms: dict[int, "np.ndarray"]


def record_activations(
    model: Any,
    encoded: Sequence[Encoded],
    layers: Sequence[int],
    *,
    pad: int,
    read: str = "mean",
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> Recording:
    """Run ``model`` on the encoded sequences and read the outputs of the given decoder blocks.

    Args:
        model: HF causal LM.
        encoded: Sequences (prompt + completion).
        layers: 0-indexed blocks to read.
        pad: Padding token id.
        read: ``"mean"``: mean over completion tokens; ``"last"``: the last token.
        batch_size: Sequences per forward pass.
        progress: Called with the number of sequences finished after each batch.

    The forward pass stops after the deepest requested block (the rest of the network and the unembedding
    are skipped).
    """
    import numpy as np
    import torch

    if read not in READ_MODES:
        raise SteeringError(f"read mode {read!r} is not one of {', '.join(READ_MODES)}")
    layers = sorted(set(int(x) for x in layers))
    blocks = decoder_layers(model)
    deepest = layers[-1]
    n = len(encoded)
    acts: dict[int, Any] = {}
    norms: dict[int, list] = {layer: [] for layer in layers}
    current: dict[int, torch.Tensor] = {}

    from cape.internals.adapters import block_output_hidden

    def make_hook(layer: int):
        def hook(module, args, output):
            current[layer] = block_output_hidden(output).detach()
            if layer == deepest:
                raise _Stop()
        return hook

    handles = [blocks[layer].register_forward_hook(make_hook(layer)) for layer in layers]
    try:
        with torch.inference_mode():
            for batch in _batches(n, [len(e.ids) for e in encoded], batch_size):
                ids, mask = pad_right([encoded[i].ids for i in batch], pad)
                dev = _device(model)
                current.clear()
                try:
                    model(input_ids=ids.to(dev), attention_mask=mask.to(dev), use_cache=False)
                except _Stop:
                    pass
                real = mask.bool()
                weights = _read_weights([encoded[i] for i in batch], mask.shape, read)
                counted = real.clone()
                counted[:, 0] = False  # the first token's norm is often an outlier (attention sink)
                rows = torch.tensor(batch)
                for layer in layers:
                    h = current[layer].float().cpu().masked_fill(~real[..., None], 0.0)
                    if layer not in acts:
                        acts[layer] = torch.zeros((n, h.shape[-1]), dtype=torch.float32)
                    acts[layer][rows] = torch.einsum("bt,btd->bd", weights, h)
                    norms[layer].append(h.norm(dim=-1)[counted])
                if progress is not None:
                    progress(len(batch))
    finally:
        for h in handles:
            h.remove()
    return Recording(
        acts={k: v.numpy() for k, v in acts.items()},
        norms={k: (torch.cat(v).numpy() if v else np.zeros(0, dtype=np.float32)) for k, v in norms.items()},
    )


def _read_weights(batch: Sequence[Encoded], shape: Any, read: str) -> Any:
    """Per-token weights ``[batch, tokens]`` of the read: 1 on the last token, or 1/k on each of the k
    completion tokens (``mean``)."""
    import torch

    weights = torch.zeros(shape, dtype=torch.float32)
    for row, e in enumerate(batch):
        L, start = len(e.ids), e.prompt_len
        if read == "last":
            weights[row, L - 1] = 1.0
        else:
            weights[row, start:L] = 1.0 / (L - start)
    return weights


def _device(model: Any):
    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover
        import torch

        return torch.device("cpu")


def score_completions(
    model: Any,
    encoded: Sequence[Encoded],
    *,
    pad: int,
    batch_size: int = 16,
    handle: "SteeringHandle | None" = None,
    positions: str = "all",
    progress: Callable[[int], None] | None = None,
    per_token: bool = False,
) -> "np.ndarray":
    """Log-probability of each sequence's completion tokens given its prompt (summed, or per token).

    Args:
        handle: An active steering handle; for ``positions`` other than ``"all"`` its per-row mask is set to
            the prompt tokens (``"prompt"``) or to the last prompt token and the completion (``"generated"``).

        per_token: Return the mean log-probability per completion token instead of the sum.

    Returns:
        float64 array ``[n]``.
    """
    import numpy as np
    import torch

    n = len(encoded)
    out = np.zeros(n, dtype=np.float64)
    dev = _device(model)
    try:
        with torch.no_grad():
            for batch in _batches(n, [len(e.ids) for e in encoded], batch_size):
                ids, mask = pad_right([encoded[i].ids for i in batch], pad)
                if handle is not None and positions != "all":
                    rm = torch.zeros_like(mask)
                    for row, i in enumerate(batch):
                        p, L = encoded[i].prompt_len, len(encoded[i].ids)
                        if positions == "prompt":
                            rm[row, :p] = 1
                        else:
                            rm[row, max(p - 1, 0):L] = 1
                    handle.set_row_mask(rm)
                lo = min(max(encoded[i].prompt_len, 1) - 1 for i in batch)
                hi = max(len(encoded[i].ids) - 1 for i in batch)
                logits = _logits(model, ids.to(dev), mask.to(dev), lo, hi)
                for row, i in enumerate(batch):
                    p, L = encoded[i].prompt_len, len(encoded[i].ids)
                    start = max(p, 1)
                    pred = logits[row, start - 1 - lo: L - 1 - lo].float()
                    target = ids[row, start:L].to(pred.device)
                    lp = torch.log_softmax(pred, dim=-1).gather(-1, target[:, None])
                    out[i] = float(lp.mean() if per_token else lp.sum())
                if progress is not None:
                    progress(len(batch))
    finally:
        if handle is not None:
            handle.set_row_mask(None)
    return out


_NO_KEEP: set[type] = set()


def _logits(model: Any, ids: "torch.Tensor", mask: "torch.Tensor", lo: int, hi: int) -> "torch.Tensor":
    """Logits at positions ``lo..hi-1`` only (the unembedding of other positions is skipped where supported)."""
    import torch

    if type(model) not in _NO_KEEP:
        keep = torch.arange(lo, hi, device=ids.device)
        try:
            out = model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=keep).logits
            if out.shape[1] == hi - lo:
                return out
        except TypeError:
            pass
        _NO_KEEP.add(type(model))
    return model(input_ids=ids, attention_mask=mask, use_cache=False).logits[:, lo:hi]


def pad_token(tokenizer: Any) -> int:
    return pad_id(tokenizer)
