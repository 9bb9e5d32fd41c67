"""Device choices for large models: device, dtype, whether to spread a model, and the batch size.

* :func:`resolve_device`: ``"auto"`` is ``cuda:0`` when a CUDA device is visible, else ``cpu``.
* :func:`default_dtype`: float32 on CPU; bfloat16 on CUDA devices that support it, else float16.
* :func:`needs_device_map`: a model whose weights would take more than 85% of the device's free memory is loaded
  with ``device_map="auto"`` (spread over all visible devices, then CPU, by ``accelerate``).
* :func:`auto_batch_size`: texts per forward pass from the free memory and a per-text activation estimate.

torch is imported inside the functions; on a machine without CUDA every function takes its CPU path.

Example:
    >>> resolve_device("cpu"), default_dtype("cpu")
    ('cpu', 'float32')
    >>> auto_batch_size(hidden=4096, intermediate=11008, n_heads=32, max_length=128, dtype_bytes=2,
    ...                 free_bytes=40 * 2**30)
    256
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "auto_batch_size",
    "default_dtype",
    "estimate_param_count",
    "free_memory",
    "needs_device_map",
    "resolve_device",
]

_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


def resolve_device(device: str | None) -> str:
    """``"auto"``/``None`` -> ``"cuda:0"`` when CUDA is available, else ``"cpu"``; other values unchanged."""
    if device not in (None, "", "auto"):
        return str(device)
    try:
        import torch
    except ImportError:  # pragma: no cover - the internals extra is missing
        return "cpu"
    return "cuda:0" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str) -> str:
    """The weights dtype for ``device``: float32 on CPU, bfloat16 on CUDA (float16 where bf16 is unsupported)."""
    if not str(device).startswith("cuda"):
        return "float32"
    import torch

    if not torch.cuda.is_available():
        return "float32"
    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


def free_memory(device: str) -> int | None:
    """Free bytes on a CUDA device (``None`` on CPU or without CUDA)."""
    if not str(device).startswith("cuda"):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    index = torch.device(device).index or 0
    free, _total = torch.cuda.mem_get_info(index)
    return int(free)


def estimate_param_count(config: Any) -> int:
    """Parameter count of a ``transformers`` config, counted on an empty-weights instance (no memory used)."""
    from accelerate import init_empty_weights
    from transformers import AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(config)
    return int(sum(p.numel() for p in model.parameters()))


def needs_device_map(n_params: int, dtype: str, device: str, *, headroom: float = 0.85) -> bool:
    """Whether weights of ``n_params`` in ``dtype`` exceed ``headroom`` of ``device``'s free memory."""
    free = free_memory(device)
    if free is None:
        return False
    return n_params * _BYTES.get(dtype, 4) > headroom * free


def auto_batch_size(
    *,
    hidden: int,
    intermediate: int | None,
    n_heads: int,
    max_length: int,
    dtype_bytes: int,
    free_bytes: int | None,
    fraction: float = 0.5,
    cap: int = 256,
    default: int = 16,
) -> int:
    """Texts per forward pass that fit in ``fraction`` of the free memory.

    A text of ``T = max_length`` tokens holds, at its peak inside one decoder layer (no KV cache, no logits):
    the residual stream and its normed copy and the attention output (``4 * T * hidden``), the MLP activations
    (``2 * T * intermediate``) and the attention scores in float32 (``4 * n_heads * T**2`` bytes).

    Args:
        hidden, intermediate, n_heads: From the model's config (``intermediate`` defaults to ``4 * hidden``).
        max_length: Tokens per text (the longest text of a batch sets the padding).
        dtype_bytes: Bytes per activation value (2 for bf16/fp16, 4 for fp32).
        free_bytes: Free device memory; ``None`` (CPU) returns ``default``.
        fraction: Share of the free memory to use.
        cap: Upper bound.
        default: The CPU batch size.

    Returns:
        A batch size between 1 and ``cap``.
    """
    if free_bytes is None:
        return default
    inter = intermediate or 4 * hidden
    per_text = max_length * (4 * hidden + 2 * inter) * dtype_bytes + 4 * n_heads * max_length * max_length
    return int(max(1, min(cap, (fraction * free_bytes) // max(per_text, 1))))
