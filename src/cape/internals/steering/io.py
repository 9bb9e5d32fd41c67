"""Saving and loading steering vectors as safetensors, with provenance in the header metadata.

File layout (format ``cape-steering-vector/1``):

- tensors ``direction.<layer>``: float32 unit vectors ``[hidden_size]``, one per trained layer;
- metadata (string to string, as safetensors requires): ``format``, ``method``, ``layers`` (JSON list of
  default layers), ``hidden_size``, ``norm_stats`` (JSON ``{layer: {mean, std, median, count, diff_norm}}``)
  and ``provenance`` (JSON: model id, revision or file hash, architecture, layer count, weights fingerprint,
  training-set hash and size, layer choice and sweep, creation time, cape version).

Nothing is ever unpickled: safetensors stores raw little-endian arrays and a JSON header.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cape.errors import DataError, NotFoundError
from cape._output import note_input
from cape.scores import write_atomic

__all__ = ["FORMAT", "read_metadata", "read_vector_fields", "save_steering_vector"]

FORMAT = "cape-steering-vector/1"


def save_steering_vector(vector: Any, path: Any) -> Path:
    """Write ``vector`` to ``path`` atomically (a temporary file in the same folder, then a rename).

    Example:
        >>> save_steering_vector(vec, "truth.safetensors")   # doctest: +SKIP
    """
    import torch
    from safetensors.torch import save

    path = Path(path)
    if path.parent and not path.parent.exists():
        raise NotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    tensors = {f"direction.{k}": v.detach().to(torch.float32).cpu().contiguous() for k, v in sorted(vector.directions.items())}
    meta = {
        "format": FORMAT,
        "method": vector.method,
        "layers": json.dumps(list(vector.layers)),
        "hidden_size": str(vector.hidden_size),
        "norm_stats": json.dumps({str(k): v for k, v in sorted(vector.norm_stats.items())}, sort_keys=True),
        "provenance": json.dumps(vector.provenance, sort_keys=True, default=str),
    }
    return write_atomic(path, save(tensors, metadata=meta))


def read_metadata(path: Any) -> dict:
    """The header metadata of a steering-vector file, with JSON fields decoded."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"steering vector file {path} does not exist")
    note_input(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
    except Exception as e:
        raise DataError(f"{path} is not a readable safetensors file ({type(e).__name__}: {e})") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"{path} is not a CAPE steering vector (metadata 'format' is {meta.get('format')!r}, expected {FORMAT!r})")
    out: dict[str, Any] = dict(meta)
    for key in ("layers", "norm_stats", "provenance"):
        try:
            out[key] = json.loads(meta[key])
        except (KeyError, json.JSONDecodeError):
            raise DataError(f"{path}: metadata field {key!r} is missing or not valid JSON") from None
    return out


def read_vector_fields(path: Any) -> dict[str, Any]:
    """The checked fields of a vector written by :func:`save_steering_vector`: the keyword arguments of
    :class:`~cape.internals.steering.vector.SteeringVector` (``directions``, ``norm_stats``, ``layers``,
    ``method``, ``provenance``).

    Raises:
        NotFoundError: the file does not exist.
        DataError: it is not a CAPE steering vector, or its tensors and metadata disagree.
    """
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_metadata(path)
    tensors = load_file(str(path))
    directions = {}
    for name, t in tensors.items():
        if not name.startswith("direction."):
            raise DataError(f"{path}: unexpected tensor {name!r} (expected only direction.<layer>)")
        try:
            layer = int(name.split(".", 1)[1])
        except ValueError:
            raise DataError(f"{path}: tensor name {name!r} does not end in a layer number") from None
        directions[layer] = t
    try:
        hs = int(meta.get("hidden_size", -1))
    except (TypeError, ValueError):
        raise DataError(f"{path}: metadata field 'hidden_size' is {meta.get('hidden_size')!r}, not an integer") from None
    for layer, t in directions.items():
        if t.ndim != 1 or int(t.shape[0]) != hs:
            raise DataError(f"{path}: direction.{layer} has shape {tuple(t.shape)}, expected ({hs},)")
    try:
        norm_stats = {int(k): dict(v) for k, v in meta["norm_stats"].items()}
    except (AttributeError, TypeError, ValueError):
        raise DataError(f"{path}: metadata field 'norm_stats' is not a mapping of layer numbers to statistics") from None
    if not isinstance(meta["layers"], list) or not all(isinstance(x, int) for x in meta["layers"]):
        raise DataError(f"{path}: metadata field 'layers' is not a list of layer numbers")
    return {"directions": directions, "norm_stats": norm_stats, "layers": tuple(meta["layers"]),
            "method": meta.get("method", "mean_diff"), "provenance": meta["provenance"]}
