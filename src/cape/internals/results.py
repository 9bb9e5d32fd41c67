"""Shared pieces of internal-analysis results: thresholds, provenance, profiles, files and sanity checks.

Result files: one JSON per model and analysis (``<model-slug>.<kind>.json``) plus, for per-unit tables, a
Parquet file beside it (``<model-slug>.<kind>.parquet``). Files are written atomically. A run that finds a JSON
whose ``settings`` match what it would compute skips the model (resume, or split a model list over machines).
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cape.errors import CapeError
from cape.internals.measures import as_jsonable

__all__ = [
    "Provenance",
    "ResultFileError",
    "Thresholds",
    "early_mid_late",
    "library_versions",
    "model_slug",
    "read_result",
    "result_paths",
    "sanity_warnings",
    "settings_match",
    "write_result",
]

SCHEMA_VERSION = 1


class ResultFileError(CapeError):
    """A result file cannot be written or read."""


@dataclass(frozen=True)
class Thresholds:
    """How a unit's coupling ``c`` is classified (docs/methods.md, "Per-head and per-layer coupling").

    Attributes:
        cooperative: ``c > cooperative`` is cooperative (paper: 0).
        competing: ``c < competing`` is competing (paper: -0.5) ...
        near_zero: ``|c| < near_zero`` is near zero (paper: 0.1).
        alpha: ... and, for the significance-aware count, the permutation p-value (lower tail) is below ``alpha``.
        fdr: ``True`` applies Benjamini-Hochberg over all units of the model before comparing with ``alpha``.
    """

    cooperative: float = 0.0
    competing: float = -0.5
    near_zero: float = 0.1
    alpha: float = 0.05
    fdr: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a result depends on."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("cape", "numpy", "torch", "transformers", "gguf"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@dataclass(frozen=True)
class Provenance:
    """What a result was computed from, enough to rerun it.

    Attributes:
        model_id, model_type, revision, file_hash, dtype, device: From the loaded model.
        prompt_sets: ``{"reasoning": {"source", "hash", "n_items"}, "truthfulness": {...}}``.
        seed: The seed of all resampling.
        settings: Analysis settings (measure, n_boot, n_perm, max_items, ...); results with equal settings are
            interchangeable, which is what resuming relies on.
        versions: :func:`library_versions`.
        n_params: Parameter count of the loaded model (``None`` when computed from bare activations).
    """

    model_id: str
    model_type: str
    revision: str | None
    file_hash: str | None
    dtype: str
    device: str
    prompt_sets: dict[str, dict[str, Any]]
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=library_versions)
    n_params: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return as_jsonable(asdict(self))


def early_mid_late(per_layer: Sequence[float]) -> tuple[float, float, float]:
    """Means of the first, middle and last third of a per-layer profile (``[:L//3]``, ``[L//3:2L//3]``, rest).

    With fewer than 3 layers, thirds that would be empty are ``nan``.
    """
    arr = np.asarray(per_layer, dtype=np.float64)
    n = arr.size
    cuts = [(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]
    out = []
    for lo, hi in cuts:
        part = arr[lo:hi]
        part = part[np.isfinite(part)]
        out.append(float(part.mean()) if part.size else math.nan)
    return out[0], out[1], out[2]


def model_slug(model_id: str) -> str:
    """A file-name-safe, readable and collision-resistant name for a model id."""
    text = model_id.strip()
    path = Path(text).expanduser()
    if text.startswith((".", "/", "~")) or path.exists():
        text = path.name or text  # a local directory or file: its own name, not the whole path
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[-80:] or "model"
    digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:8]
    return f"{base}-{digest}"


def result_paths(out_dir: str | Path, model_id: str, kind: str) -> tuple[Path, Path]:
    """``(json_path, parquet_path)`` of a model's result of ``kind`` (``"heads"``, ``"layers"``)."""
    stem = f"{model_slug(model_id)}.{kind}"
    out = Path(out_dir)
    return out / f"{stem}.json", out / f"{stem}.parquet"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write one result file through the project's single safe writer; the results folder is created."""
    from cape._output import write_output

    path.parent.mkdir(parents=True, exist_ok=True)
    write_output(path, data)


def write_result(result: Any, out_dir: str | Path, kind: str) -> list[Path]:
    """Write ``result`` (with ``to_dict()``, ``to_frame()`` and ``provenance``) as JSON plus Parquet, atomically."""
    json_path, parquet_path = result_paths(out_dir, result.provenance.model_id, kind)
    payload = {"schema": SCHEMA_VERSION, "kind": kind, **result.to_dict()}
    written = []
    try:
        frame = result.to_frame()
        if frame is not None and len(frame):
            import io

            buf = io.BytesIO()
            frame.to_parquet(buf, index=False)
            _atomic_write_bytes(parquet_path, buf.getvalue())
            written.append(parquet_path)
        _atomic_write_bytes(json_path, json.dumps(payload, indent=2, allow_nan=False).encode("utf-8"))
    except OSError as exc:
        raise ResultFileError(f"{json_path.parent}: cannot write results ({exc.strerror or exc}).") from exc
    written.insert(0, json_path)
    return written


def read_result(path: str | Path, *, as_input: bool = True) -> dict[str, Any]:
    """The JSON payload of a result file.

    Args:
        path: the result file.
        as_input: record the file as an input of this run, so that no output overwrites it (a sweep that
            reads a result only to decide whether to recompute it passes ``False``).
    """
    from cape._output import note_input

    path = Path(path)
    if as_input:
        note_input(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"{path}: not a readable CAPE result file ({exc}).") from exc


def settings_match(path: str | Path, settings: dict[str, Any]) -> bool:
    """Whether a result file exists, is complete and was computed with exactly ``settings``."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        payload = read_result(path, as_input=False)
    except ResultFileError:
        return False
    stored = payload.get("provenance", {}).get("settings")
    return stored == as_jsonable(settings)


def sanity_warnings(profiles: dict[str, Sequence[float]], units: dict[str, np.ndarray] | None = None) -> list[str]:
    """Warnings for degenerate measurements like those in the paper's released internal files.

    Args:
        profiles: Model id -> per-layer profile (a coupling per layer).
        units: Optional model id -> per-unit values (e.g. every head's cosine), to compare across models.

    Returns:
        One sentence per problem: a profile constant across layers (range below 1e-6), or two models with
        identical profiles or per-unit values (within 1e-8).
    """
    warnings: list[str] = []
    for model_id, profile in profiles.items():
        arr = np.asarray(profile, dtype=np.float64)
        arr = arr[np.isfinite(arr)]
        if arr.size >= 2 and float(arr.max() - arr.min()) < 1e-6:
            warnings.append(
                f"{model_id}: the per-layer coupling is constant across {arr.size} layers "
                f"({arr[0]:.6f}); this usually means a degenerate measurement, not a property of the model."
            )
    def _identical(values: dict[str, Any], what: str) -> None:
        ids = list(values)
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                a = np.asarray(values[ids[i]], dtype=np.float64)
                b = np.asarray(values[ids[j]], dtype=np.float64)
                if a.shape == b.shape and a.size and np.allclose(a, b, atol=1e-8, rtol=0, equal_nan=True):
                    warnings.append(
                        f"{ids[i]} and {ids[j]} have identical {what}; check that two different models were loaded."
                    )

    _identical(dict(profiles), "per-layer profiles")
    if units:
        _identical(dict(units), "per-unit couplings")
    return warnings
