"""Capturing activations: every head, every layer and the final state, in one sweep over the batches.

:func:`capture` runs the model's decoder over batches of texts and records, at each text's last token:

* ``heads``: the input of every layer's attention output projection, split into heads,
  ``[texts, layers, heads, head_dim]`` (a ``forward_pre_hook`` on ``o_proj``/``dense``/``c_proj``/``out_proj``);
* ``residual``: every decoder block's output hidden state, ``[texts, layers, d_model]``;
* ``final``: the decoder's last hidden state (after the final norm; what the unembedding reads), ``[texts, d]``;
* ``logits``: the unembedding of ``final`` (optional), ``[texts, vocab]``.

Hooks are attached for the duration of a ``with attached_hooks(...)`` block and are removed on exit, also when
the forward pass raises. Texts are right-padded, so a text's last-token activations do not depend on the other
texts in its batch (causal attention never looks at the padding). Each batch goes through the whole model in
turn, or, when neither the final state nor the logits are asked and the weights are memory-mapped from a file,
block by block over the batches (:mod:`cape.internals.streaming`: the same numbers, with about one block of
weights resident at a time).

Example:
    >>> acts = capture(model, tokenizer, ["The sky is", "Water boils at"])   # doctest: +SKIP
    >>> acts.heads.shape                                                      # doctest: +SKIP
    (2, 30, 9, 64)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cape.errors import AnalysisError
from cape.internals.adapters import ArchAdapter, block_output_hidden, get_adapter, o_proj_weight

__all__ = [
    "Activations",
    "ContrastActivations",
    "attached_hooks",
    "capture",
    "capture_contrast",
    "head_output_maps",
    "model_device",
    "tokenize_texts",
]

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class Activations:
    """Last-token activations of a list of texts (numpy ``float32``; absent parts are ``None``)."""

    heads: np.ndarray | None
    residual: np.ndarray | None
    final: np.ndarray | None
    logits: np.ndarray | None
    n_tokens: np.ndarray

    def take(self, index: Sequence[int] | np.ndarray) -> Activations:
        idx = np.asarray(index, dtype=np.int64)
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return Activations(pick(self.heads), pick(self.residual), pick(self.final), pick(self.logits), self.n_tokens[idx])


@contextlib.contextmanager
def attached_hooks(registrations: Sequence[Callable[[], Any]]) -> Iterator[list[Any]]:
    """Register hooks (each callable returns a removable handle); remove them all on exit, even on error."""
    handles: list[Any] = []
    try:
        for register in registrations:
            handles.append(register())
        yield handles
    finally:
        for handle in handles:
            handle.remove()


def model_device(model: Any) -> Any:
    """Where inputs should go: the device of the input embeddings (works with ``device_map="auto"``)."""
    try:
        return model.get_input_embeddings().weight.device
    except AttributeError:
        return next(model.parameters()).device


def tokenize_texts(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of each text (the tokenizer's own special tokens; truncated on the left to ``max_length``)."""
    ids: list[list[int]] = []
    for text in texts:
        enc = tokenizer(text, add_special_tokens=True)["input_ids"]
        if hasattr(enc, "tolist"):
            enc = enc.tolist()
        enc = list(enc)
        if not enc:
            raise AnalysisError(f"the text {text[:40]!r} produced no tokens.")
        if len(enc) > max_length:
            enc = enc[-max_length:]
        ids.append(enc)
    return ids


def _pad_id(tokenizer: Any) -> int:
    for attr in ("pad_token_id", "eos_token_id", "unk_token_id"):
        value = getattr(tokenizer, attr, None)
        if isinstance(value, int):
            return value
    return 0


def capture(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    heads: bool = True,
    residual: bool = True,
    final: bool = True,
    logits: bool = False,
    adapter: ArchAdapter | None = None,
    batch_size: int = 16,
    max_length: int = 128,
    progress: ProgressFn | None = None,
    layer_major: bool = True,
) -> Activations:
    """Last-token activations of ``texts``, all layers and heads at once, in one sweep over the batches.

    Args:
        model: A ``transformers`` causal LM of a supported architecture.
        tokenizer: Its tokenizer.
        texts: The texts.
        heads, residual, final, logits: Which parts to record (see the module docstring).
        adapter: The architecture adapter (looked up from the model when omitted).
        batch_size: Texts per forward pass (texts are grouped by length to reduce padding).
        max_length: Longer texts keep their last ``max_length`` tokens.
        progress: Called as ``progress(done, total)`` after each batch (after each block when layer-major).
        layer_major: When neither ``final`` nor ``logits`` is asked and weights are memory-mapped from a file,
            run the batches block by block (:mod:`cape.internals.streaming`: the same activations, bit for bit,
            with the mapped weights resident one block at a time; groups of batches whose block inputs exceed
            :data:`GROUP_BYTES` stream the weights once each); False runs every batch through the whole model in
            turn.

    Returns:
        :class:`Activations` in the order of ``texts``.
    """
    import torch

    if not texts:
        raise AnalysisError("no texts to run through the model.")
    adapter = adapter or get_adapter(model)
    layers = adapter.layers(model)
    n_heads = adapter.n_heads(model.config)
    token_ids = tokenize_texts(tokenizer, texts, max_length)
    lengths = np.array([len(t) for t in token_ids], dtype=np.int64)
    n = len(texts)
    rec = _Recorder(n, len(layers))
    want_final = final or logits
    registrations = rec.registrations(adapter, layers, heads=heads, residual=residual)
    final_arr = None
    with torch.inference_mode():
        streamed = (layer_major and not want_final
                    and _forward_layer_major(model, rec, layers, token_ids, lengths, registrations,
                                             pad=_pad_id(tokenizer), batch_size=batch_size, progress=progress))
        if not streamed:
            with attached_hooks(registrations):
                final_arr = _forward_batches(model, rec, token_ids, lengths, pad=_pad_id(tokenizer),
                                             batch_size=batch_size, want_final=want_final, progress=progress)
    logit_arr = _logits(model, adapter, final_arr) if logits and final_arr is not None else None
    head_arr = rec.store["heads"]
    if heads:
        if head_arr is None:
            raise AnalysisError("the attention output projections were never called; cannot capture heads.")
        head_arr = head_arr.reshape(n, len(layers), n_heads, head_arr.shape[-1] // n_heads)
    if residual and rec.store["residual"] is None:
        raise AnalysisError("the decoder blocks were never called; cannot capture the residual stream.")
    return Activations(
        heads=head_arr if heads else None,
        residual=rec.store["residual"] if residual else None,
        final=final_arr if final else None,
        logits=logit_arr,
        n_tokens=lengths,
    )


class _Recorder:
    """The hooks of :func:`capture`: each writes the last-token activation of the running batch into its store
    (``heads``: the input of each layer's output projection; ``residual``: each block's output)."""

    def __init__(self, n: int, n_layers: int) -> None:
        self.n, self.n_layers = n, n_layers
        self.store: dict[str, np.ndarray | None] = {"heads": None, "residual": None}
        self.index: Any = None          # rows of the running batch in the caller's order
        self.last: Any = None           # each row's last-token position

    def gather(self, t: Any) -> np.ndarray:
        import torch

        rows = torch.arange(t.shape[0], device=t.device)
        return t[rows, self.last.to(t.device)].detach().to(torch.float32).cpu().numpy()

    def _put(self, key: str, layer_index: int, vals: np.ndarray) -> None:
        if self.store[key] is None:
            self.store[key] = np.zeros((self.n, self.n_layers, vals.shape[-1]), dtype=np.float32)
        self.store[key][self.index, layer_index] = vals

    def pre_hook(self, layer_index: int) -> Callable[..., None]:
        def hook(module: Any, args: tuple, kwargs: dict) -> None:
            self._put("heads", layer_index, self.gather(args[0] if args else next(iter(kwargs.values()))))
        return hook

    def block_hook(self, layer_index: int) -> Callable[..., None]:
        def hook(module: Any, args: tuple, output: Any) -> None:
            self._put("residual", layer_index, self.gather(block_output_hidden(output)))
        return hook

    def registrations(self, adapter: ArchAdapter, layers: Sequence[Any], *, heads: bool, residual: bool
                      ) -> list[Callable[[], Any]]:
        """Callables that register the hooks (for :func:`attached_hooks`)."""
        out: list[Callable[[], Any]] = []
        for i, layer in enumerate(layers):
            if heads:
                proj = adapter.o_proj(layer)
                out.append(lambda proj=proj, i=i: proj.register_forward_pre_hook(self.pre_hook(i), with_kwargs=True))
            if residual:
                out.append(lambda layer=layer, i=i: layer.register_forward_hook(self.block_hook(i)))
        return out


def _batches(token_ids: Sequence[Sequence[int]], lengths: np.ndarray, *, pad: int, batch_size: int) -> Iterator[Any]:
    """``(index, input_ids, attention_mask)`` of each batch: the texts longest first, ``batch_size`` at a time,
    right-padded with ``pad``."""
    import torch

    order = np.argsort(-lengths, kind="stable")
    for start in range(0, len(lengths), batch_size):
        index = order[start : start + batch_size]
        batch_len = int(lengths[index].max())
        ids = torch.full((len(index), batch_len), pad, dtype=torch.long)
        mask = torch.zeros((len(index), batch_len), dtype=torch.long)
        for row, j in enumerate(index):
            ids[row, : lengths[j]] = torch.tensor(token_ids[j], dtype=torch.long)
            mask[row, : lengths[j]] = 1
        yield index, ids, mask


def _decoder(model: Any) -> Any:
    return model.get_decoder() if hasattr(model, "get_decoder") else model.base_model


def _forward_batches(model: Any, rec: _Recorder, token_ids: Sequence[Sequence[int]], lengths: np.ndarray, *,
                     pad: int, batch_size: int, want_final: bool, progress: ProgressFn | None) -> np.ndarray | None:
    """Run the texts through the decoder longest first, ``batch_size`` at a time (right-padded); the hooks
    record as they go. Returns the final hidden state's last-token rows in the texts' order (when wanted)."""
    import torch

    n = len(lengths)
    device = model_device(model)
    decoder = _decoder(model)
    final_arr = None
    done = 0
    for index, ids, mask in _batches(token_ids, lengths, pad=pad, batch_size=batch_size):
        rec.index = index
        rec.last = torch.as_tensor(lengths[index] - 1, dtype=torch.long)
        out = decoder(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False)
        if want_final:
            vals = rec.gather(out[0] if isinstance(out, tuple) else out.last_hidden_state)
            if final_arr is None:
                final_arr = np.zeros((n, vals.shape[-1]), dtype=np.float32)
            final_arr[index] = vals
        done += len(index)
        if progress is not None:
            progress(done, n)
    return final_arr


#: bytes of block inputs (hidden states of every batch of a group) a layer-major pass holds at once; more texts
#: are run in several groups, each streaming the weights again
GROUP_BYTES = 64 * 2**20


def _forward_layer_major(model: Any, rec: _Recorder, layers: Sequence[Any], token_ids: Sequence[Sequence[int]],
                         lengths: np.ndarray, registrations: list[Callable[[], Any]], *, pad: int, batch_size: int,
                         progress: ProgressFn | None) -> bool:
    """The same batches block by block (:mod:`cape.internals.streaming`), in groups of batches whose block inputs
    reach :data:`GROUP_BYTES` (one batch more at most): identical activations, and memory-mapped weights released once their block
    has run. False (nothing run) when no weight is memory-mapped from a file (nothing to release: the batch-major
    order holds less) or the decoder does not allow it."""
    import torch

    from cape.internals import streaming

    ranges = streaming.file_backed_ranges()
    if getattr(model, "hf_device_map", None) or not any(streaming.is_mapped(p, ranges) for p in model.parameters()):
        return False
    device, decoder = model_device(model), _decoder(model)
    group: list[tuple[np.ndarray, list]] = []
    held = done = 0

    def run_group() -> None:
        def before_batch(b: int) -> None:
            rec.index = group[b][0]
            rec.last = torch.as_tensor(lengths[group[b][0]] - 1, dtype=torch.long)

        def after_layer(i: int) -> None:
            streaming.release_pages(layers[i].parameters(), ranges)
            if progress is not None:
                progress(done + sum(len(g[0]) for g in group) * (i + 1) // len(layers), len(lengths))

        streaming.release_pages(model.parameters(), ranges)  # the embedding rows the recorded batches read
        with attached_hooks(registrations):
            streaming.run_layer_major(layers, [g[1] for g in group], before_batch=before_batch,
                                      after_layer=after_layer, output_hidden=block_output_hidden)

    for index, ids, mask in _batches(token_ids, lengths, pad=pad, batch_size=batch_size):
        try:
            calls = streaming.block_calls(decoder, layers, ids.to(device), mask.to(device))
        except streaming.LayerMajorUnavailable:
            if done or group:  # pragma: no cover - the decoder treats every batch alike
                raise
            return False
        group.append((index, calls))
        held += calls[0][0][0].nbytes
        if held >= GROUP_BYTES:
            run_group()
            done += sum(len(g[0]) for g in group)
            group, held = [], 0
    if group:
        run_group()
    return True


def _logits(model: Any, adapter: ArchAdapter, final_arr: np.ndarray) -> np.ndarray:
    """Next-token logits from the final hidden states (through the model's unembedding, 64 rows at a time)."""
    import torch

    weight = adapter.unembed(model).weight
    parts = []
    with torch.inference_mode():
        for start in range(0, len(final_arr), 64):
            h = torch.from_numpy(final_arr[start : start + 64]).to(weight.device, weight.dtype)
            parts.append(adapter.logits(model, h).to(torch.float32).cpu().numpy())
    return np.concatenate(parts, axis=0)


def head_output_maps(model: Any, adapter: ArchAdapter | None = None) -> np.ndarray:
    """Each head's slice of the output projection, ``[layers, heads, d_model, head_dim]`` (float32)."""
    import torch

    adapter = adapter or get_adapter(model)
    n_heads = adapter.n_heads(model.config)
    maps = []
    with torch.no_grad():
        for layer in adapter.layers(model):
            w = o_proj_weight(adapter, layer).detach().to(torch.float32).cpu()
            out_f, in_f = w.shape
            maps.append(w.reshape(out_f, n_heads, in_f // n_heads).permute(1, 0, 2).numpy())
    return np.stack(maps)


@dataclass(frozen=True, eq=False)
class ContrastActivations:
    """Activations of both contrast sets, each side separately, with what is needed to interpret them.

    Attributes:
        r_pos, r_neg: Reasoning set, sensible and wrong continuations.
        t_pos, t_neg: Truthfulness set, true statements and misconceptions.
        reasoning_ids, truthfulness_ids: Item ids, in row order.
        model_type, n_layers, n_heads, head_dim: What the model is.
        head_maps: Each head's slice of the output projection ``[layers, heads, d_model, head_dim]`` (or ``None``).
    """

    r_pos: Activations
    r_neg: Activations
    t_pos: Activations
    t_neg: Activations
    reasoning_ids: tuple[str, ...]
    truthfulness_ids: tuple[str, ...]
    model_type: str
    n_layers: int
    n_heads: int
    head_dim: int
    head_maps: np.ndarray | None = None

    def parts(self) -> tuple[Activations, Activations, Activations, Activations]:
        return self.r_pos, self.r_neg, self.t_pos, self.t_neg


def capture_contrast(
    model: Any,
    tokenizer: Any,
    reasoning: Sequence[Any],
    truthfulness: Sequence[Any],
    *,
    heads: bool = True,
    residual: bool = True,
    final: bool = True,
    logits: bool = False,
    head_maps: bool = False,
    batch_size: int = 16,
    max_length: int = 128,
    progress: ProgressFn | None = None,
) -> ContrastActivations:
    """Capture both sides of every item of both contrast sets (lists of ``ContrastItem``) in one sweep.

    All ``2 * (len(reasoning) + len(truthfulness))`` texts go through :func:`capture` together.
    """
    adapter = get_adapter(model)
    texts: list[str] = []
    for items in (reasoning, truthfulness):
        texts += [it.positive_text for it in items]
        texts += [it.negative_text for it in items]
    acts = capture(
        model,
        tokenizer,
        texts,
        heads=heads,
        residual=residual,
        final=final,
        logits=logits,
        adapter=adapter,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
    )
    n_r, n_t = len(reasoning), len(truthfulness)
    bounds = np.cumsum([0, n_r, n_r, n_t, n_t])
    sides = [acts.take(np.arange(bounds[i], bounds[i + 1])) for i in range(4)]
    config = model.config
    return ContrastActivations(
        *sides,
        reasoning_ids=tuple(it.id for it in reasoning),
        truthfulness_ids=tuple(it.id for it in truthfulness),
        model_type=str(getattr(config, "model_type", "unknown")),
        n_layers=len(adapter.layers(model)),
        n_heads=adapter.n_heads(config),
        head_dim=(acts.heads.shape[-1] if acts.heads is not None else adapter.head_dim(config)),
        head_maps=head_output_maps(model, adapter) if head_maps else None,
    )
