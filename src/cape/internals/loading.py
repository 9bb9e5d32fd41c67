"""Loading open-weight causal language models for internal analyses.

:func:`load_model` accepts a local Hugging Face model directory, a hub id (read from the local Hugging Face
cache first, then from the hub where the network allows), or a GGUF file (dequantised by transformers through
the ``gguf`` package). Remote code is never run unless ``trust_remote_code=True`` is passed.

Example:
    >>> lm = load_model("EleutherAI/pythia-160m", dtype="float32")      # doctest: +SKIP
    >>> lm.model_id, lm.revision                                        # doctest: +SKIP
    ('EleutherAI/pythia-160m', '50f5173d932e8e61f858120bcb800b97af589f46')
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cape.errors import CapeError, DependencyError

__all__ = ["LoadedModel", "ModelLoadError", "file_fingerprint", "load_model", "resolve_spec"]

_DTYPES = ("float32", "float16", "bfloat16", "auto")
_FULL_HASH_LIMIT = 2 * 1024**3  # hash files completely below 2 GiB in total, else sample them
_SAMPLE = 1 << 20


class ModelLoadError(CapeError):
    """A model could not be found or loaded."""

    exit_code = 3


@dataclass
class LoadedModel:
    """A model ready for analysis, with the provenance needed to reproduce a result.

    Attributes:
        model: The ``transformers`` causal-LM module, in eval mode.
        tokenizer: Its tokenizer.
        model_id: The spec as given (hub id, directory or file path, with the GGUF file name where used).
        revision: The hub commit hash where known (hub or cache loads), else the requested revision or ``None``.
        file_hash: ``sha256:`` of the weight files for local directories and GGUF files (``sha256-sampled:`` when
            they exceed 2 GiB in total: size plus first and last MiB of each file), else ``None``.
        dtype: The dtype the weights were loaded in.
        device: The device of the first parameter (``"auto"`` maps may span several).
    """

    model: Any
    tokenizer: Any
    model_id: str
    revision: str | None
    file_hash: str | None
    dtype: str
    device: str

    @property
    def model_type(self) -> str:
        return str(getattr(self.model.config, "model_type", "unknown"))

    @property
    def n_params(self) -> int:
        return int(sum(p.numel() for p in self.model.parameters()))

    def weight_bytes(self) -> int:
        """Bytes held by parameters and buffers (tied tensors counted once)."""
        seen: set[int] = set()
        total = 0
        for tensor in list(self.model.parameters()) + list(self.model.buffers()):
            key = tensor.data_ptr()
            if key in seen:
                continue
            seen.add(key)
            total += tensor.numel() * tensor.element_size()
        return total

    def provenance(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_type": self.model_type,
            "revision": self.revision,
            "file_hash": self.file_hash,
            "dtype": self.dtype,
            "device": self.device,
            "n_params": self.n_params,
        }


def file_fingerprint(paths: list[Path]) -> str:
    """``sha256:<hex>`` over the files' names and contents (sampled when they exceed 2 GiB in total)."""
    paths = sorted(Path(p) for p in paths)
    total = sum(p.stat().st_size for p in paths)
    digest = hashlib.sha256()
    sampled = total > _FULL_HASH_LIMIT
    for path in paths:
        size = path.stat().st_size
        digest.update(path.name.encode())
        digest.update(str(size).encode())
        with path.open("rb") as fh:
            if not sampled:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
            else:
                digest.update(fh.read(_SAMPLE))
                fh.seek(max(0, size - _SAMPLE))
                digest.update(fh.read(_SAMPLE))
    return ("sha256-sampled:" if sampled else "sha256:") + digest.hexdigest()


def resolve_spec(spec: str | Path, gguf_file: str | None = None) -> tuple[str, str | None, bool]:
    """Work out how to load ``spec``.

    Returns:
        ``(location, gguf_file, is_local)``: the directory or hub id to pass to ``from_pretrained``, the GGUF
        file name inside it (or ``None``), and whether the location is a local directory.
    """
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelLoadError(
                f"{spec}: a model file must be a .gguf file; pass a model directory or hub id otherwise."
            )
        if gguf_file is not None and gguf_file != path.name:
            raise ModelLoadError(f"{spec}: --gguf-file {gguf_file!r} conflicts with the file given as the model.")
        return str(path.parent.resolve()), path.name, True
    if path.is_dir():
        if gguf_file is not None:
            if not (path / gguf_file).is_file():
                raise ModelLoadError(f"{spec}: no GGUF file named {gguf_file!r} in this directory.")
            return str(path.resolve()), gguf_file, True
        if (path / "config.json").is_file():
            _check_config(path / "config.json", spec)
            return str(path.resolve()), None, True
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        if len(ggufs) == 1:
            return str(path.resolve()), ggufs[0], True
        if len(ggufs) > 1:
            raise ModelLoadError(
                f"{spec}: several GGUF files ({', '.join(ggufs)}); choose one with gguf_file / --gguf-file."
            )
        raise ModelLoadError(f"{spec}: the directory has neither a config.json nor a .gguf file.")
    if not is_hub_id(str(spec)):
        raise ModelLoadError(f"{spec}: no such file or directory (and not a hub id of the form org/name).")
    return str(spec), gguf_file, False


_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})?$")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt", ".json")


def is_hub_id(spec: str) -> bool:
    """Whether ``spec`` has the form of a Hugging Face hub id (``name`` or ``org/name``) rather than a path.

    Example:
        >>> is_hub_id("EleutherAI/pythia-70m"), is_hub_id("./models/pythia"), is_hub_id("a/b/c")
        (True, False, False)
    """
    if not _HUB_ID.match(spec) or ".." in spec or spec.endswith(".") or spec.lower().endswith(_WEIGHT_SUFFIXES):
        return False
    return True


def _check_config(path: Path, spec: Any) -> None:
    """Refuse a ``config.json`` that is not a JSON object before transformers trips over it."""
    import json

    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{spec}: config.json is not readable JSON ({exc}).") from None
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{spec}: config.json holds a JSON {type(cfg).__name__}, not an object of settings.")


def _pickle_only(directory: Path) -> list[str]:
    """The pickle-format weight files of a model folder that has no safetensors weights (else empty)."""
    if any(directory.glob("*.safetensors")):
        return []
    return sorted(p.name for p in directory.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".ckpt"})


def _torch_dtype(dtype: str) -> Any:
    import torch

    if dtype not in _DTYPES:
        raise ModelLoadError(f"dtype {dtype!r} is not one of {', '.join(_DTYPES)}.")
    return "auto" if dtype == "auto" else getattr(torch, dtype)


#: Tokenizer classes that ``AutoTokenizer`` would instantiate from a ``tokenizer.json`` alone; a local folder
#: naming one of them is read by that class directly, skipping the auto classes' imports (several hundred
#: modules, about 70 MiB and 3 s on a 2-core machine for SmolLM2-135M).
_PLAIN_FAST_TOKENIZERS = {"TokenizersBackend", "PreTrainedTokenizerFast"}


def _plain_fast_tokenizer(source: str) -> bool:
    """Whether ``source`` is a local folder whose tokenizer is a plain ``tokenizer.json`` fast tokenizer."""
    import json

    folder = Path(source)
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(config, dict) and config.get("tokenizer_class") in _PLAIN_FAST_TOKENIZERS
            and (folder / "tokenizer.json").is_file())


def _from_pretrained(source: str, common: dict, model_kwargs: dict, *, local_only: bool) -> tuple[Any, Any]:
    """``(tokenizer, model)`` of ``source`` through ``transformers``' ``from_pretrained``."""
    import transformers

    kw = dict(common, local_files_only=local_only)
    plain = "gguf_file" not in kw and _plain_fast_tokenizer(source)
    tok_class = transformers.PreTrainedTokenizerFast if plain else transformers.AutoTokenizer
    tok = tok_class.from_pretrained(source, **kw)
    mdl = transformers.AutoModelForCausalLM.from_pretrained(source, **kw, **model_kwargs)
    return tok, mdl


def _local_hash(location: str, gguf_name: str | None) -> str:
    """The fingerprint of a local model's weight files (the GGUF file, or the weights and ``config.json``)."""
    base = Path(location)
    if gguf_name is not None:
        files = [base / gguf_name]
    else:
        files = [p for p in base.iterdir() if p.suffix in {".safetensors", ".bin", ".pt", ".pth"}]
        files += [base / "config.json"]
    return file_fingerprint([f for f in files if f.is_file()])


def _require_torch() -> None:
    """Raise :class:`DependencyError` naming the ``internals`` extra when torch or transformers is missing."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DependencyError(
            "cape.internals needs torch and transformers: pip install 'cape[internals]'."
        ) from exc


def _require_loaders(*, gguf: bool, accelerate: bool) -> None:
    """Raise :class:`DependencyError` when a GGUF file is to be read without ``gguf``, or a ``device_map`` used
    without ``accelerate``."""
    if gguf:
        try:
            import gguf as _gguf  # noqa: F401
        except ImportError as exc:  # pragma: no cover
            raise DependencyError("Loading a GGUF file needs the gguf package: pip install gguf.") from exc
    if accelerate:
        try:
            import accelerate as _accelerate  # noqa: F401
        except ImportError as exc:  # pragma: no cover
            raise DependencyError("device_map needs the accelerate package: pip install accelerate.") from exc


def load_model(
    spec: str | Path,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    device_map: str | dict | None = None,
    trust_remote_code: bool = False,
    gguf_file: str | None = None,
    revision: str | None = None,
    allow_pickle_weights: bool = False,
    cache: bool = True,
) -> LoadedModel:
    # long: half of it is the argument docs; the rest is one sequence of load steps (resolve, refuse pickles,
    # the GGUF cache, load with its local-first fallback, store, move, describe), each with its own sentence
    """Load a causal language model and its tokenizer.

    Args:
        spec: A local model directory (with ``config.json``), a directory or path holding a ``.gguf`` file, or a
            hub id. Hub ids are looked up in the local Hugging Face cache first (``local_files_only``), then on the
            hub; set ``HF_HUB_OFFLINE=1`` to never touch the network.
        dtype: ``"float32"`` (default), ``"bfloat16"``, ``"float16"`` or ``"auto"`` (the checkpoint's dtype).
        device: Device to move the model to (ignored when ``device_map`` is given).
        device_map: Passed to ``from_pretrained``; ``"auto"`` spreads the model over the available devices
            through ``accelerate``.
        trust_remote_code: Allow code shipped with the checkpoint to run. Off unless asked.
        gguf_file: The GGUF file name inside ``spec`` (when ``spec`` is a directory with several).
        revision: Hub revision (branch, tag or commit).
        allow_pickle_weights: Accept checkpoints whose weights exist only as pickle files
            (``pytorch_model.bin``). Off by default: only safetensors (or GGUF) weights are read, since
            unpickling runs code from the file.
        cache: Keep a dequantised GGUF file as safetensors in the user's cache folder and load it from there the
            next time (:mod:`cape.internals.cache`; ``CAPE_NO_CACHE=1`` turns it off everywhere).

    Returns:
        A :class:`LoadedModel` in eval mode.

    Raises:
        ModelLoadError: the model cannot be found or loaded (one sentence naming the spec).
        DependencyError: ``torch``/``transformers`` (the ``internals`` extra), ``gguf`` or ``accelerate`` missing.
    """
    _require_torch()
    torch_dtype = _torch_dtype(dtype)
    location, gguf_name, is_local = resolve_spec(spec, gguf_file)
    _require_loaders(gguf=gguf_name is not None, accelerate=device_map is not None)

    if is_local and gguf_name is None and not allow_pickle_weights:
        pickles = _pickle_only(Path(location))
        if pickles:
            raise ModelLoadError(
                f"{spec}: its weights are only in pickle format ({', '.join(pickles)}); convert them to "
                "safetensors, or pass --allow-pickle-weights (allow_pickle_weights=True) if you trust the file."
            )
    common: dict[str, Any] = {"trust_remote_code": bool(trust_remote_code)}
    if gguf_name is not None:
        common["gguf_file"] = gguf_name
    if revision is not None and not is_local:
        common["revision"] = revision
    model_kwargs: dict[str, Any] = {"dtype": torch_dtype}
    if gguf_name is None and not allow_pickle_weights:
        model_kwargs["use_safetensors"] = True
    if device_map is not None:
        model_kwargs["device_map"] = device_map

    from . import cache as _cache

    source, entry, hit, gguf_hash = location, None, False, None
    if gguf_name is not None and is_local and cache and _cache.enabled():
        gguf_hash = file_fingerprint([Path(location) / gguf_name])
        entry = _cache.gguf_entry(gguf_hash, dtype)
        hit = _cache.cached_entry(entry)
        if hit:  # the dequantised weights as safetensors: no GGUF parsing, no dequantisation
            source, common = str(entry), {"trust_remote_code": False}
            model_kwargs["use_safetensors"] = True

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    try:
        if is_local or offline:
            tokenizer, model = _from_pretrained(source, common, model_kwargs, local_only=True)
        else:
            try:
                tokenizer, model = _from_pretrained(source, common, model_kwargs, local_only=True)
            except (OSError, ValueError):
                tokenizer, model = _from_pretrained(source, common, model_kwargs, local_only=False)
    except (OSError, ValueError, KeyError) as exc:
        where = "local directory" if is_local else "hub id (not in the local cache and not reachable)"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in first or "pickle" in first.lower():  # never relay advice to unpickle unsafely
            first = "its weights could not be read safely"
        raise ModelLoadError(f"Could not load {spec} as a causal language model from a {where}: {first}") from exc
    if entry is not None and not hit and device_map is None:
        why = _cache.store_entry(entry, model, tokenizer, source=str(Path(location) / str(gguf_name)),
                                 file_hash=str(gguf_hash), dtype=dtype)
        if why:
            import warnings

            warnings.warn(f"{spec}: dequantised weights not cached: {why}", stacklevel=2)

    if device_map is None and device:
        try:
            model = model.to(device)
        except (RuntimeError, AssertionError) as exc:
            raise ModelLoadError(f"Could not move {spec} to device {device!r}: {exc}") from exc
    model.eval()
    if getattr(tokenizer, "pad_token", None) is None and getattr(tokenizer, "eos_token", None) is not None:
        tokenizer.pad_token = tokenizer.eos_token

    file_hash = gguf_hash if gguf_hash is not None else _local_hash(location, gguf_name) if is_local else None
    resolved_revision = getattr(model.config, "_commit_hash", None) if not is_local else None
    model_id = str(spec) if gguf_name is None or Path(str(spec)).is_file() else f"{spec}::{gguf_name}"
    first_param = next(model.parameters(), None)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        model_id=model_id,
        revision=resolved_revision or revision,
        file_hash=file_hash,
        dtype=str(first_param.dtype).removeprefix("torch.") if first_param is not None else dtype,
        device=str(first_param.device) if first_param is not None else str(device),
    )
