"""Cache of dequantised GGUF models: the first load of a GGUF file saves its weights as safetensors.

Dequantising a GGUF file takes most of a load (about four times a safetensors read of the same model on a
2-core machine); the result depends only on the file's bytes and the dtype, so it is stored once, keyed on the
file's ``sha256`` fingerprint, in the user's cache folder:

* ``$CAPE_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/cape``, else ``~/.cache/cape``;
* one folder per (file hash, dtype) under ``gguf/``, holding ``config.json``, the tokenizer files,
  ``model.safetensors`` and ``cape-cache.json`` (source file, hash, dtype, byte size of the weights);
* an entry is used only when its recorded weight size matches the file on disk and its layout is the current
  one (an older or truncated entry is rebuilt);
* each tensor is stored once, under the first name the model gives it: a tied output layer is stored as the
  input embedding it shares, so that loading ties it instead of first filling a fresh matrix of the vocabulary's
  size with random numbers (108 MiB and a second of CPU for SmolLM2-135M);
* nothing is stored when the disk would keep less than 1 GiB free or the cache would exceed
  ``$CAPE_CACHE_MAX`` (default 20G); ``CAPE_NO_CACHE=1`` turns the cache off;
* ``cape cache info`` lists the entries, ``cape cache clear`` removes them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["cache_root", "clear_cache", "cache_entries", "gguf_entry", "cached_entry", "store_entry"]

_META = "cape-cache.json"
_WEIGHTS = "model.safetensors"
_KEEP_FREE = 1 << 30
_DEFAULT_MAX = "20G"
#: version of the entries' layout: 2 stores shared (tied) tensors under their first name
_LAYOUT = 2


def cache_root() -> Path:
    """The CAPE cache folder (``$CAPE_CACHE_DIR``, ``$XDG_CACHE_HOME/cape`` or ``~/.cache/cape``)."""
    env = os.environ.get("CAPE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "cape"


def enabled() -> bool:
    """False when ``CAPE_NO_CACHE`` is set to a true value."""
    return os.environ.get("CAPE_NO_CACHE", "").strip().lower() not in {"1", "true", "yes", "on"}


def gguf_entry(file_hash: str, dtype: str) -> Path:
    """The cache folder of one GGUF file (by its fingerprint) loaded in ``dtype``."""
    digest = file_hash.split(":", 1)[-1][:40]
    kind = "s" if file_hash.startswith("sha256-sampled:") else "f"
    return cache_root() / "gguf" / f"{kind}{digest}-{dtype}"


def _complete_meta(entry: Path) -> dict | None:
    """The metadata of ``entry`` when its weight file has the recorded size, else None."""
    try:
        meta = json.loads((entry / _META).read_text())
        complete = (entry / _WEIGHTS).stat().st_size == int(meta["weights_bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return meta if complete else None


def cached_entry(entry: Path) -> bool:
    """True when ``entry`` can be used: complete (the weight file of the recorded size) and of the current layout."""
    meta = _complete_meta(entry)
    return meta is not None and meta.get("layout") == _LAYOUT


def _max_bytes() -> int:
    from cape._memory import _parse_bytes

    text = os.environ.get("CAPE_CACHE_MAX", _DEFAULT_MAX)
    value = _parse_bytes(text)
    return value if value is not None and value >= 0 else _parse_bytes(_DEFAULT_MAX) or 0


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def _save_weights(model: Any, path: Path) -> None:
    """Write the model's weights as safetensors, each tensor once under its first name in the state dict (the
    input embedding before a tied output layer: the name ``from_pretrained`` loads and ties from)."""
    from safetensors.torch import save_file, save_model

    state: dict[str, Any] = {}
    seen: set[tuple] = set()
    for name, tensor in model.state_dict().items():
        key = (tensor.data_ptr(), tuple(tensor.shape), tensor.dtype)
        if tensor.numel() == 0 or key not in seen:
            seen.add(key)
            state[name] = tensor.contiguous()
    try:
        save_file(state, str(path), metadata={"format": "pt"})
    except RuntimeError:  # tensors overlapping in other ways: safetensors' own choice of names
        save_model(model, str(path))


def store_entry(entry: Path, model: Any, tokenizer: Any, *, source: str, file_hash: str, dtype: str) -> str | None:
    """Save a dequantised model to ``entry`` (atomically: a temporary folder renamed at the end).

    Args:
        entry: the folder from :func:`gguf_entry`.
        model, tokenizer: the loaded ``transformers`` model and tokenizer.
        source, file_hash, dtype: recorded in the entry's metadata.

    Returns:
        None when stored, else the reason it was not (too little disk space, cache limit, unwritable folder).
    """
    need = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    root = entry.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(root).free
    except OSError as exc:
        return f"cache folder {root} is not writable ({exc.strerror or exc})"
    if free - need < _KEEP_FREE:
        return f"only {free / 2**30:.1f} GiB free in {root}"
    if _folder_bytes(cache_root()) + need > _max_bytes():
        return f"the cache would exceed CAPE_CACHE_MAX ({os.environ.get('CAPE_CACHE_MAX', _DEFAULT_MAX)})"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        config = model.config
        quant = getattr(config, "quantization_config", None)
        if quant is not None:
            del config.quantization_config
        try:
            config.save_pretrained(tmp)
        finally:
            if quant is not None:
                config.quantization_config = quant
        tokenizer.save_pretrained(tmp)
        _save_weights(model, tmp / _WEIGHTS)
        meta = {"source": source, "file_hash": file_hash, "dtype": dtype, "layout": _LAYOUT,
                "weights_bytes": (tmp / _WEIGHTS).stat().st_size}
        (tmp / _META).write_text(json.dumps(meta, indent=2))
        if entry.exists():
            shutil.rmtree(entry)
        tmp.rename(entry)
    except OSError as exc:
        return f"could not write the cache ({exc.strerror or exc})"
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return None


def cache_entries() -> list[dict]:
    """Every complete entry: ``{"path", "source", "file_hash", "dtype", "bytes", "current"}`` (``current`` False:
    an older layout, rebuilt on the next load)."""
    out = []
    base = cache_root() / "gguf"
    for entry in sorted(base.iterdir()) if base.is_dir() else []:
        meta = None if not entry.is_dir() or entry.name.startswith(".") else _complete_meta(entry)
        if meta is None:
            continue
        out.append({"path": str(entry), "source": meta.get("source"), "file_hash": meta.get("file_hash"),
                    "dtype": meta.get("dtype"), "bytes": _folder_bytes(entry), "current": meta.get("layout") == _LAYOUT})
    return out


def clear_cache() -> tuple[int, int]:
    """Remove every cached model (complete or not). Returns ``(folders removed, bytes freed)``."""
    base = cache_root() / "gguf"
    n = freed = 0
    for entry in sorted(base.iterdir()) if base.is_dir() else []:
        if entry.is_dir():
            freed += _folder_bytes(entry)
            shutil.rmtree(entry, ignore_errors=True)
            n += 1
    return n, freed
