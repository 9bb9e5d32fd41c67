"""Which models a sweep runs: command-line arguments, a models file, a family, or the paper's study list.

Facts about a model (family, parameter count) come from the embedded architectures table and base-model cohort
when the model is listed there (by name, e.g. ``Pythia-1B``, or hub id, e.g. ``EleutherAI/pythia-1b``), else
from the name (:func:`cape.families.infer_family`) and the parameter count stored in its result file.

Example:
    >>> models = study_models("paper40")
    >>> len(models), models[0]
    (40, 'EleutherAI/pythia-70m')
    >>> model_info("EleutherAI/pythia-1b").params
    1000000000.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cape.errors import DataError, NotFoundError

__all__ = ["STUDIES", "ModelInfo", "family_models", "model_info", "read_models_file", "resolve_models", "study_models"]

#: Families of the paper's 40-model internal study (its Fig. 4 names nine; GPT-J-6B and GPT-NeoX-20B are
#: EleutherAI's GPT-Neo successors and complete the 40 from the architectures table).
STUDIES: dict[str, tuple[str, ...]] = {
    "paper40": ("Pythia", "GPT-Neo", "GPT-J/NeoX", "OPT", "BLOOM", "Phi", "Gemma", "Mistral", "Qwen2.5", "Qwen3"),
}


@dataclass(frozen=True)
class ModelInfo:
    """What the embedded tables know about a model.

    Attributes:
        model_id: The id as given.
        name: The table's model name (``None`` when the model is not in the tables).
        family: Its family (from the table, else inferred from the name).
        params: Parameter count (from the base-model cohort, else estimated from the architecture as
            ``12 * layers * d_model**2 + vocab * d_model``; ``None`` when unknown).
        hf_id: Its hub id where known.
    """

    model_id: str
    name: str | None
    family: str
    params: float | None
    hf_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    from cape import data

    arch = data.architectures()
    rows: dict[str, dict[str, Any]] = {}
    for rec in arch.to_dict("records"):
        for key in (rec["model"], rec["hf_id"]):
            if isinstance(key, str) and key:
                rows[key.lower()] = rec
    base = data.load_base().long
    params = {str(m): float(p) for m, p in base.groupby("model")["params"].first().items() if p == p}
    return rows, params


def _arch_params(rec: dict[str, Any]) -> float | None:
    try:
        d, n_layers, vocab = float(rec["d_model"]), float(rec["n_layers"]), float(rec["vocab_size"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (d, n_layers, vocab)):
        return None
    return 12.0 * n_layers * d * d + vocab * d


def model_info(model_id: str, n_params: float | None = None) -> ModelInfo:
    """Family and size of ``model_id`` (a hub id, table name, directory or file path).

    Args:
        model_id: The model as the sweep named it.
        n_params: A parameter count measured on the loaded model (used when the tables do not know the model).

    Returns:
        :class:`ModelInfo`.
    """
    from cape.families import infer_family

    rows, params = _tables()
    key = str(model_id).strip()
    rec = rows.get(key.lower()) or rows.get(Path(key).name.lower())
    if rec is None:
        return ModelInfo(key, None, infer_family(Path(key).name if "/" in key and Path(key).exists() else key),
                         float(n_params) if n_params else None, None)
    size = params.get(rec["model"]) or (float(n_params) if n_params else None) or _arch_params(rec)
    return ModelInfo(key, rec["model"], rec["family"], size, rec["hf_id"])


def study_models(study: str = "paper40") -> list[str]:
    """Hub ids of a study's models, smallest first within each family, families in the study's order.

    Raises:
        NotFoundError: unknown study name.
    """
    from cape import data

    if study not in STUDIES:
        raise NotFoundError(f"no study {study!r}; known: {', '.join(STUDIES)}.")
    arch = data.architectures()
    _, params = _tables()
    out: list[str] = []
    for fam in STUDIES[study]:
        sub = arch[arch["family"] == fam]
        sub = sub.assign(_n=[params.get(m, _arch_params(r) or 0.0) for m, r in zip(sub["model"], sub.to_dict("records"))])
        out += sub.sort_values("_n", kind="stable")["hf_id"].tolist()
    return out


def family_models(family: str) -> list[str]:
    """Hub ids of one family of the architectures table (case-insensitive name), smallest first."""
    from cape import data

    arch = data.architectures()
    fams = sorted(arch["family"].unique())
    match = [f for f in fams if f.lower() == family.strip().lower()]
    if not match:
        raise NotFoundError(f"--family {family!r} is not in the architectures table; known: {', '.join(fams)}.")
    sub = arch[arch["family"] == match[0]].to_dict("records")
    _, params = _tables()
    sub.sort(key=lambda r: params.get(r["model"], _arch_params(r) or 0.0))
    return [r["hf_id"] for r in sub]


def read_models_file(path: str | Path) -> list[str]:
    """Model specs from a text file: one per line; blank lines and ``#`` comments are skipped.

    Raises:
        DataError: the file is missing, unreadable or lists no model.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such models file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the models file ({exc}).") from None
    models = []
    for line in text.splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec:
            models.append(spec)
    if not models:
        raise DataError(f"{path}: the models file lists no model (one model per line expected).")
    return models


def resolve_models(
    models: Sequence[str] = (),
    *,
    models_file: str | Path | None = None,
    family: str | None = None,
    study: str | None = None,
) -> list[str]:
    """The sweep's model list: arguments, then the file's, the family's and the study's models, duplicates dropped.

    Raises:
        DataError: no model at all, or a bad models file; NotFoundError: unknown family or study.
    """
    out = [str(m).strip() for m in models if str(m).strip()]
    if models_file is not None:
        out += read_models_file(models_file)
    if family is not None:
        out += family_models(family)
    if study is not None:
        out += study_models(study)
    out = list(dict.fromkeys(out))
    if not out:
        raise DataError("no models to sweep: give model ids, --models-file, --family or --study.")
    return out
