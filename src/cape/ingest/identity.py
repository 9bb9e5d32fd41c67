"""Model identity and lineage across files: one name per model, and derived models under their base's family.

* **Hub ids are case-insensitive** (``qwen/qwen2.5-3B`` and ``Qwen/Qwen2.5-3B`` are one model): spellings that
  differ only in case are merged under the spelling with the most capitals (the hub's own spelling; a
  lower-cased copy is the degraded form), ties broken by the number of scores, then by reading order.
* **Lineage**: a file's base-model and type columns become ``base_model`` and ``model_type``. A fine-tune, chat
  model or merge whose file names its base model joins the base model's family (unless a family column or an
  override says otherwise), so analyses of lineage can group them; base-model analyses keep pretrained models
  only by default.
* **Legacy local paths**: lm-eval v0.3 runs often name the model by a local folder such as
  ``/data/LLaMA/huggingface/7B``; a bare size as the last folder is resolved from the results file's folder
  (``llama-7B``) or the nearest folder naming a family (``LLaMA-7B``).
"""

from __future__ import annotations

import re
from pathlib import Path

from .report import ReportBuilder

_BARE_SIZE = re.compile(r"^\d+(?:\.\d+)?[mb]$", re.I)
_DERIVED = ("fine-tuned", "chat", "merge")


def merge_case_variants(df, report: ReportBuilder) -> None:
    """Rename models whose names differ only in case to one spelling (in place), with a note. Works on the
    distinct names, then maps every row."""
    import numpy as np
    import pandas as pd

    codes, uniq = pd.factorize(df["model"], use_na_sentinel=False)
    names_all = [str(m) for m in uniq]
    counts = np.bincount(codes, minlength=len(names_all)).tolist()
    count_of = dict(zip(names_all, counts))
    groups: dict[str, list[str]] = {}
    for m in names_all:
        groups.setdefault(m.lower(), []).append(m)
    rename: dict[str, str] = {}
    for names in groups.values():
        if len(names) < 2:
            continue
        keep = max(names, key=lambda n: (sum(ch.isupper() for ch in n), count_of[n], -names.index(n)))
        for n in names:
            if n != keep:
                rename[n] = keep
    if not rename:
        return
    new = np.array([rename.get(m, m) for m in names_all], dtype=object)
    df["model"] = new[codes]
    ex = ", ".join(f"{a} -> {b}" for a, b in list(rename.items())[:3])
    report.note(f"{len(rename)} model name(s) differ from another only in case and were merged (hub ids are "
                f"case-insensitive): {ex}{' ...' if len(rename) > 3 else ''}")


def resolve_lineage(df, report: ReportBuilder, overrides=None) -> None:
    """Give derived models (fine-tuned, chat, merge) with a named base model the base model's family, when no
    family column or override names one (in place), and spell base models as the table spells them. Only rows
    naming a base model are visited, each distinct combination once."""
    import numpy as np
    import pandas as pd

    from ..families import infer_family

    base_all = df["base_model"].to_numpy(dtype=object)
    with_base = np.flatnonzero(base_all.astype(bool))
    if not len(with_base):
        return
    spelled = {str(m).lower(): m for m in pd.unique(df["model"])}
    models = df["model"].to_numpy(dtype=object)
    fams = df["family"].to_numpy(dtype=object)
    given_fam: dict[str, str] = {}
    for m, f in zip(models.tolist(), fams.tolist()):
        if f and m not in given_fam:
            given_fam[m] = f
    types = df["model_type"].to_numpy(dtype=object)
    new_base = base_all.copy()
    new_fam = fams.copy()
    moved: dict[str, str] = {}
    done: dict[tuple, tuple] = {}
    for i in with_base.tolist():
        m, b, t, f = models[i], base_all[i], types[i], fams[i]
        hit = done.get((m, b, t, f))
        if hit is None:
            hit = done[(m, b, t, f)] = _lineage_of(m, b, t, f, spelled, given_fam, overrides, infer_family)
        new_base[i] = hit[0]
        if hit[1] is not None:
            new_fam[i] = hit[1]
            moved[m] = hit[1]
    missing = np.flatnonzero(~new_fam.astype(bool))
    if len(missing):  # a derived model's rows that name no base model: the family its own name gives
        own = {m: infer_family(m, overrides) for m in pd.unique(models[missing])}
        new_fam[missing] = [own[m] for m in models[missing].tolist()]
    df["base_model"] = new_base
    df["family"] = new_fam
    if moved:
        fams_moved = sorted(set(moved.values()))
        report.note(f"{len(moved)} fine-tuned, chat or merged model(s) grouped under their base model's family, "
                    f"as the file names it ({len(fams_moved)} famil{'y' if len(fams_moved) == 1 else 'ies'}: "
                    f"{', '.join(fams_moved[:5])}{' ...' if len(fams_moved) > 5 else ''}); the base-model analyses "
                    "(cape diagnose, ode, predict, report, figure) leave them out unless --include-finetunes")


def _lineage_of(m, b, t, f, spelled, given_fam, overrides, infer_family) -> tuple:
    """(base model as the table spells it, the family the row moves to or ``None``) for one row."""
    b = spelled.get(str(b).lower(), b)
    if t not in _DERIVED or f or b.lower() == m.lower():
        return b, None
    if overrides and _overridden(m, overrides):
        return b, None
    return b, given_fam.get(b) or infer_family(b, overrides)


def _overridden(model: str, overrides) -> bool:
    low = model.lower()
    return any(low == str(k).lower() or low.startswith(str(k).lower()) for k in overrides)


def resolve_local_path(raw: str, results_file: Path) -> str | None:
    """A model name for a local-path model whose last folder is a bare size (``.../LLaMA/huggingface/7B``):
    the results file's folder when it carries that size (``llama-7B``), else the nearest folder of the path
    that names a known family joined to the size (``LLaMA-7B``); ``None`` when the last folder is not a bare
    size."""
    from ..families import known_family

    parts = [p for p in re.split(r"[\\/]+", str(raw).strip()) if p and p not in (".", "..", "~")]
    if not parts or not _BARE_SIZE.match(parts[-1]):
        return None
    size = parts[-1]
    folder = results_file.parent.name
    if re.search(rf"(?<![0-9.]){re.escape(size)}(?![0-9a-z])", folder, re.I):
        return folder
    for p in reversed(parts[:-1]):
        if known_family(p) is not None:
            return f"{p}-{size}"
    return f"{parts[-2]}-{size}" if len(parts) > 1 else None
