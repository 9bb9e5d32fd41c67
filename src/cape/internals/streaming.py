"""Layer-major forward passes: the weights stream through memory one decoder block at a time.

A batch-major capture runs every batch through every block, so every weight of the model stays resident for the
whole capture. When only activations inside the blocks are recorded (heads, residual stream; not the final
state), the same computation can run block by block instead: first each batch goes through the decoder with
every block replaced by a recorder of its arguments (the embeddings, masks and position embeddings the decoder
hands each block; no block computes), then block ``i`` runs on every batch, its outputs becoming block ``i+1``'s
inputs. Each block is applied to exactly the inputs it gets in a batch-major pass, so the activations are
identical, bit for bit; each block's weights are read once.

When the weights are memory-mapped from a file (safetensors loads) and unmodified, the pages of a block are
released from the process once the block has run (``madvise(MADV_DONTNEED)``; they stay in the system's page
cache and come back on the next access), so the process holds about one block of weights at a time instead of
the whole model. Weights in ordinary memory (GGUF files dequantised without the cache, models on a GPU) are
never released; the pass then only changes the order of the computation.

Example:
    >>> rec_calls = block_calls(decoder, layers, ids, mask)   # doctest: +SKIP
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["LayerMajorUnavailable", "block_calls", "file_backed_ranges", "is_mapped", "release_pages", "run_layer_major"]

_MADV_DONTNEED = 4
_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$")


class LayerMajorUnavailable(Exception):
    """The decoder does not hand its blocks their inputs in the way a layer-major pass needs (the caller runs
    batch-major instead)."""


class _Stop(Exception):
    """Raised by the recorder of the last block: the decoder's remaining work is not needed."""


def _recorder(calls: list[tuple[tuple, dict]], i: int, n: int) -> Callable[..., Any]:
    """A stand-in ``forward`` for block ``i`` of ``n``: records its arguments; the last one stops the decoder."""
    import torch

    def forward(*args: Any, **kwargs: Any) -> Any:
        if len(calls) != i or not args or not isinstance(args[0], torch.Tensor):
            raise LayerMajorUnavailable(f"block {i} was called out of order or without a hidden state")
        calls.append(((args[0] if i == 0 else None, *args[1:]), kwargs))
        if i == n - 1:
            raise _Stop
        return args[0]

    return forward


def block_calls(decoder: Any, layers: Sequence[Any], input_ids: Any, attention_mask: Any) -> list[tuple[tuple, dict]]:
    """The ``(args, kwargs)`` the decoder passes to each block for one batch, without running any block.

    Each block's ``forward`` is replaced, for the duration of the call, by a recorder that returns its input;
    the last one stops the decoder. Only block 0's hidden-state argument is kept (the embeddings); the other
    blocks' first argument is set to ``None`` (their real input is the previous block's output).

    Raises:
        LayerMajorUnavailable: a block was not called exactly once, in order, with a hidden-state tensor first.
    """
    calls: list[tuple[tuple, dict]] = []
    own = [layer.__dict__.get("forward") for layer in layers]  # a forward set on the instance (accelerate's)
    for i, layer in enumerate(layers):
        layer.forward = _recorder(calls, i, len(layers))
    try:
        decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    except _Stop:
        pass
    except LayerMajorUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - the decoder needs real block outputs: run batch-major instead
        raise LayerMajorUnavailable(f"the decoder failed with recorded blocks ({type(exc).__name__})") from exc
    finally:
        for layer, forward in zip(layers, own):
            if forward is None:
                layer.__dict__.pop("forward", None)  # the instance attribute: the class's forward is back
            else:
                layer.forward = forward
    if len(calls) != len(layers):
        raise LayerMajorUnavailable(f"{len(calls)} of {len(layers)} blocks were called")
    return calls


def file_backed_ranges() -> list[tuple[int, int]]:
    """Address ranges of this process's private file mappings that hold no written (anonymous) page.

    Returns an empty list where ``/proc/self/smaps`` cannot be read (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return []
    try:
        text = Path("/proc/self/smaps").read_text()
    except OSError:
        return []
    out: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for line in text.splitlines():
        head = _MAPPING.match(line)
        if head:
            start, end, perms, path = head.groups()
            private_file = perms.endswith("p") and path.startswith("/") and not path.startswith("/dev/")
            current = (int(start, 16), int(end, 16)) if private_file and "(deleted)" not in path else None
        elif current is not None and line.startswith("Anonymous:"):
            if int(line.split()[1]) == 0:
                out.append(current)
            current = None
    return out


def _page_span(t: Any) -> tuple[int, int] | None:
    """The page-aligned address range of a contiguous CPU tensor (None for other tensors)."""
    import mmap

    if t.device.type != "cpu" or not t.is_contiguous() or t.numel() == 0:
        return None
    page = mmap.PAGESIZE
    return t.data_ptr() // page * page, -(-(t.data_ptr() + t.numel() * t.element_size()) // page) * page


def is_mapped(t: Any, ranges: Sequence[tuple[int, int]]) -> bool:
    """Whether the tensor's pages all lie in one of ``ranges`` (from :func:`file_backed_ranges`)."""
    span = _page_span(t)
    return span is not None and any(start <= span[0] and span[1] <= end for start, end in ranges)


def release_pages(tensors: Iterable[Any], ranges: Sequence[tuple[int, int]]) -> int:
    """Drop the pages of CPU tensors that lie in unmodified file mappings from this process (they are read back
    from the file, through the page cache, when next used). Other tensors are left alone.

    Args:
        tensors: Parameters or buffers.
        ranges: From :func:`file_backed_ranges`.

    Returns:
        Bytes released.
    """
    if not ranges:
        return 0
    import ctypes

    madvise = getattr(ctypes.CDLL(None, use_errno=True), "madvise", None)
    if madvise is None:  # pragma: no cover - every Linux C library has it
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for t in tensors:
        span = _page_span(t)
        if span is not None and is_mapped(t, ranges) and madvise(span[0], span[1] - span[0], _MADV_DONTNEED) == 0:
            released += span[1] - span[0]
    return released


def run_layer_major(
    layers: Sequence[Any],
    calls: Sequence[Sequence[tuple[tuple, dict]]],
    *,
    before_batch: Callable[[int], None],
    after_layer: Callable[[int], None],
    output_hidden: Callable[[Any], Any],
) -> None:
    """Run block ``i`` on every batch, for ``i = 0, 1, ...``: each batch's hidden state goes from block to block.

    Args:
        layers: The decoder blocks.
        calls: Per batch, the :func:`block_calls` of that batch.
        before_batch: Called with the batch number before each block call (hooks use it to know the rows).
        after_layer: Called with the block number once it has run on every batch.
        output_hidden: The hidden-state tensor of a block's output.
    """
    hidden = [batch[0][0][0] for batch in calls]
    for i, layer in enumerate(layers):
        for b, batch in enumerate(calls):
            args, kwargs = batch[i]
            before_batch(b)
            hidden[b] = output_hidden(layer(hidden[b], *args[1:], **kwargs))
        after_layer(i)
