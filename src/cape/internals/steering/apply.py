"""Adding a steering vector to the residual stream with forward hooks.

A steering hook sits on the output of a decoder block and adds ``delta = strength * norm * direction`` to the
hidden state, where ``direction`` is a unit vector and ``norm`` the mean residual-stream norm recorded at that
layer during training, so ``strength`` is relative: 0.5 adds half a typical residual vector.

A second hook (a forward pre-hook on the whole model) reads, for every forward call, how many positions are
already in the key/value cache. That tells the block hooks which absolute positions the current call covers,
so ``positions="prompt"`` or ``"generated"`` work with ``generate`` (prefill then one token per call), with
plain forward passes and with left-padded batches (the prompt occupies the same columns in every row).

Example:
    >>> with steer(model, {6: delta}):                      # doctest: +SKIP
    ...     out = model.generate(**batch, max_new_tokens=20)
    >>> # the hooks are gone here, also after an exception
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ._common import SteeringError, check_positions, decoder_layers

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["SteeringHandle", "add_steering_hooks", "steer", "replace_block_hidden"]


def replace_block_hidden(output: Any, hidden: "torch.Tensor") -> Any:
    """A decoder block's forward output with its hidden-state tensor replaced (tensor or tuple outputs)."""
    import torch

    if isinstance(output, torch.Tensor):
        return hidden
    if isinstance(output, tuple):
        return (hidden,) + tuple(output[1:])
    if isinstance(output, list):
        return [hidden] + list(output[1:])
    if hasattr(output, "last_hidden_state"):
        output.last_hidden_state = hidden
        return output
    raise SteeringError(f"cannot steer a decoder block whose output is a {type(output).__name__}")


class _PositionState:
    """Per-forward-call position bookkeeping shared by the block hooks of one steering handle."""

    __slots__ = ("offset", "length", "prompt_len", "row_mask")

    def __init__(self) -> None:
        self.offset = 0          # positions already cached before this call
        self.length = 0          # positions in this call
        self.prompt_len = None   # positions of the prompt (set by the first call without cache)
        self.row_mask = None     # optional explicit [batch, seq] mask (scoring of right-padded batches)


def _cached_length(kwargs: Mapping[str, Any]) -> int | None:
    for key in ("cache", "past_key_values"):
        cache = kwargs.get(key)
        if cache is None:
            continue
        getter = getattr(cache, "get_seq_length", None)
        if callable(getter):
            try:
                return int(getter())
            except Exception:  # pragma: no cover - exotic caches
                return None
        if isinstance(cache, (tuple, list)) and cache and isinstance(cache[0], (tuple, list)) and cache[0]:
            return int(cache[0][0].shape[-2])  # legacy tuple cache: [batch, heads, seq, head_dim]
    return None


class SteeringHandle:
    """The hooks of one active steering; :meth:`remove` takes them all off (idempotent).

    Attributes:
        layers: The steered blocks.
        positions: ``"all"``, ``"prompt"`` or ``"generated"``.
        calls: How many times a block hook has fired (all layers together).
    """

    def __init__(self, model: Any, deltas: Mapping[int, "torch.Tensor"], positions: str = "all") -> None:
        import torch

        self.positions = check_positions(positions)
        self.layers = tuple(sorted(int(k) for k in deltas))
        self.calls = 0
        self._state = _PositionState()
        self._handles: list[Any] = []
        blocks = decoder_layers(model)
        try:
            self._handles.append(model.register_forward_pre_hook(self._pre_hook, with_kwargs=True))
            for layer in self.layers:
                if not 0 <= layer < len(blocks):
                    raise SteeringError(f"layer {layer} is out of range: this model has {len(blocks)} layers")
                delta = deltas[layer]
                if not isinstance(delta, torch.Tensor) or delta.ndim != 1:
                    raise SteeringError(f"the steering delta for layer {layer} must be a 1-D tensor")
                self._handles.append(blocks[layer].register_forward_hook(self._make_hook(delta.detach())))
        except BaseException:
            self.remove()
            raise

    # ------------------------------------------------------------------ hooks
    def _pre_hook(self, module: Any, args: tuple, kwargs: dict) -> None:
        st = self._state
        ids = kwargs.get("input_ids")
        if ids is None and args:
            ids = args[0]
        if ids is None:
            ids = kwargs.get("inputs_embeds")
        length = int(ids.shape[1]) if ids is not None and getattr(ids, "ndim", 0) >= 2 else 0
        past = _cached_length(kwargs)
        if past is None:
            mask = kwargs.get("attention_mask")
            past = int(mask.shape[-1]) - length if mask is not None and getattr(mask, "ndim", 0) == 2 else 0
            past = max(past, 0)
        st.offset, st.length = past, length
        if past == 0:
            st.prompt_len = length

    def _make_hook(self, delta: "torch.Tensor"):
        import torch

        cache: dict[tuple, torch.Tensor] = {}
        is_zero = not bool(delta.any())

        def hook(module: Any, args: tuple, output: Any) -> Any:
            self.calls += 1
            if is_zero:  # strength 0: the output is returned untouched, so results are exactly unsteered
                return output
            from cape.internals.adapters import block_output_hidden

            hidden = block_output_hidden(output)
            key = (hidden.dtype, hidden.device)
            d = cache.get(key)
            if d is None:
                d = cache[key] = delta.to(dtype=hidden.dtype, device=hidden.device)
            st = self._state
            if st.row_mask is not None:
                m = st.row_mask.to(device=hidden.device, dtype=hidden.dtype)
                if m.shape != hidden.shape[:2]:
                    raise SteeringError("the explicit steering mask does not match the batch shape")
                return replace_block_hidden(output, hidden + m.unsqueeze(-1) * d)
            if self.positions == "all":
                return replace_block_hidden(output, hidden + d)
            seq = hidden.shape[1]
            offset = st.offset if st.length == seq else 0
            prompt_len = st.prompt_len if st.prompt_len is not None else seq
            cols = torch.arange(offset, offset + seq, device=hidden.device)
            if self.positions == "prompt":
                keep = cols < prompt_len
            else:  # generated: the last prompt position and everything after it
                keep = cols >= prompt_len - 1
            if bool(keep.all()):
                return replace_block_hidden(output, hidden + d)
            if not bool(keep.any()):
                return output
            return replace_block_hidden(output, hidden + keep.to(hidden.dtype)[None, :, None] * d)

        return hook

    # ------------------------------------------------------------------ control
    def set_row_mask(self, mask: "torch.Tensor | None") -> None:
        """Steer exactly the positions where ``mask`` (``[batch, seq]``) is 1 in the next forward calls."""
        self._state.row_mask = mask

    @property
    def active(self) -> bool:
        return bool(self._handles)

    def remove(self) -> None:
        """Remove every hook of this handle (safe to call twice)."""
        while self._handles:
            h = self._handles.pop()
            try:
                h.remove()
            except Exception:  # pragma: no cover - already removed by torch
                pass

    def __enter__(self) -> "SteeringHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def add_steering_hooks(model: Any, deltas: Mapping[int, "torch.Tensor"], positions: str = "all") -> SteeringHandle:
    """Register steering hooks and return their handle; call ``handle.remove()`` when done.

    Args:
        model: A HF causal LM with a supported architecture.
        deltas: ``{layer: vector}``; the vector (``[hidden_size]``, absolute units) is added at that block's output.
        positions: ``"all"``, ``"prompt"`` or ``"generated"`` (the last prompt position and all new tokens).
    """
    return SteeringHandle(model, deltas, positions)


@contextmanager
def steer(model: Any, deltas: Mapping[int, "torch.Tensor"], positions: str = "all") -> Iterator[SteeringHandle]:
    """Context manager: add ``deltas`` at the given block outputs inside the ``with`` body, then remove the hooks.

    The hooks are removed on normal exit and on exceptions alike.

    Example:
        >>> with steer(model, {4: 0.5 * norm * direction}, positions="generated"):   # doctest: +SKIP
        ...     ids = model.generate(**batch, max_new_tokens=30, do_sample=False)
    """
    handle = SteeringHandle(model, deltas, positions)
    try:
        yield handle
    finally:
        handle.remove()
