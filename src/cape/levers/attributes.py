"""Model and family attributes that can act as levers on coupling.

A *lever* is a property of a model family that a lab chooses: the data recipe, the width at a given size, the
attention layout, the vocabulary, the generation within a lineage, or any attribute column of a user's table.
This module gathers one row per model (:func:`model_attributes`) and turns each lever into one value per
family (:func:`family_values`), because families, not models, are the independent units: models of one
family share a lab, a corpus and a training code base.

Built-in levers
---------------
``recipe``        categorical: ``web`` / ``curated`` / ``distilled`` (the ScoreTable's ``recipe`` column).
``d_model``       continuous: width at matched scale, the family's mean residual of ``log2 d_model`` against
                  ``log10 N`` over all models with an architecture entry (unit: doublings of width).
``aspect_ratio``  continuous: the same for ``log2(d_model / n_layers)`` (wide-and-shallow vs narrow-and-deep).
``gqa``           categorical ``no`` / ``yes``: fewer key/value heads than query heads (grouped-query or
                  multi-query attention).
``moe``           categorical ``no`` / ``yes``: mixture of experts.
``vocab_size``    continuous: ``log2`` of the vocabulary size (unit: doublings).
``generation``    order of families within a lineage (``Llama-1`` < ``Llama-2`` < ``Llama-3``), from the family
                  name or from ``lineage`` / ``generation`` columns.

A categorical lever that varies within a family (Llama-2-70B uses grouped-query attention, the smaller
Llama-2 models do not) takes the family's most common level; such families are named in the result.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import catalog
from ..errors import DataError

BUILTIN = ("recipe", "d_model", "aspect_ratio", "gqa", "moe", "vocab_size")
#: columns of a user's file that are never levers (identity, scores, bookkeeping)
NOT_LEVERS = {
    "model", "family", "params", "benchmark", "score", "metric", "shots", "stderr", "source", "date", "note",
    "lab", "hf_id", "is_base", "base_model", "model_type", "lineage", "generation", "fullname", "eval_name",
    "model sha", "precision", "type", "t", "weight type", "architecture", "average ⬆️", "hub license",
    "hub ❤️", "#params (b)", "available on the hub", "flagged", "chat template", "co₂ cost (kg)", "merged",
    "official providers", "upload to hub date", "submission date", "base model", "unnamed: 0", "n_layers",
    "n_heads", "n_kv_heads", "d_model", "vocab_size", "recipe", "moe", "gqa", "aspect_ratio",
}
MAX_LEVELS = 8  # a text column with more levels than this is an identifier, not a lever
_KIND_WORDS = (("merge", "merge"), ("moerge", "merge"), ("chat", "chat"), ("rlhf", "chat"), ("dpo", "chat"),
               ("instruct", "chat"), ("continuously", "fine-tuned"), ("fine-tuned", "fine-tuned"),
               ("finetuned", "fine-tuned"), ("fine tuned", "fine-tuned"), ("pretrained", "pretrained"),
               ("base", "pretrained"), ("moe", "moe"))


@dataclass(frozen=True)
class LeverSpec:
    """One candidate lever: its per-model values and how to read them.

    Attributes:
        name: lever name (``recipe``, ``d_model``, a user's column, ...).
        kind: ``categorical`` or ``continuous``.
        values: per-model values (index: model); NaN/None where unknown.
        reference: the baseline level of a categorical lever (``web``, ``no``, or the most common level).
        unit: what one unit of a continuous lever is.
        description: one line for tables and the docs.
    """

    name: str
    kind: str
    values: pd.Series
    reference: str | None = None
    unit: str = ""
    description: str = ""
    levels: tuple[str, ...] = field(default_factory=tuple)


def normalise_kind(value, is_base=None) -> str:
    """A leaderboard ``Type`` text (or a ``model_type`` value) as ``pretrained`` / ``fine-tuned`` / ``chat`` /
    ``merge`` / ``moe`` / ``unknown``; ``is_base`` decides when the text says nothing."""
    if value is not None and not (isinstance(value, float) and math.isnan(value)) and value is not pd.NA:
        s = str(value).strip().lower()
        for word, kind in _KIND_WORDS:
            if word in s:
                return kind
    if is_base is True:
        return "pretrained"
    if is_base is False:
        return "fine-tuned"
    return "unknown"


def lineage_of(family: str) -> tuple[str, float | None]:
    """Split a family name into lineage and generation number: ``"Llama-2"`` -> ``("llama", 2.0)``,
    ``"Qwen2.5"`` -> ``("qwen", 2.5)``; a name without a trailing version gives ``(name, None)``."""
    m = re.match(r"^(.*?[A-Za-z])[-_ ]?v?(\d+(?:\.\d+)?)$", str(family).strip())
    if not m:
        return str(family).strip().lower(), None
    return m.group(1).strip(" -_").lower(), float(m.group(2))


def _embedded(name: str) -> pd.DataFrame:
    from ..data import _read

    return _read(name).copy()


def _match(frame: pd.DataFrame, models: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
    """Rows of ``frame`` for ``models`` matched on any of ``keys`` (case-insensitive), index = model."""
    out = pd.DataFrame(index=pd.Index(list(models), name="model"))
    lookup: dict[str, int] = {}
    for k in keys:
        if k in frame.columns:
            for i, v in enumerate(frame[k].astype(str)):
                lookup.setdefault(v.strip().lower(), i)
    pos = [lookup.get(str(m).strip().lower(), -1) for m in models]
    for c in frame.columns:
        if c in keys:
            continue
        col = frame[c].to_numpy(dtype=object)
        out[c] = [col[p] if p >= 0 else None for p in pos]
    return out


def model_attributes(table, attributes: pd.DataFrame | None = None, *,
                     architectures: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model of ``table`` with every attribute a lever can be built from.

    Args:
        table: a :class:`~cape.scores.ScoreTable`.
        attributes: optional per-model attributes from the user (a ``model`` column or the index); its
            columns override the table's and the embedded architecture facts of the same name.
        architectures: architecture facts (``model``, ``d_model``, ``n_layers``, ``n_heads``, ``vocab_size``,
            optionally ``n_kv_heads``, ``moe``); default: the embedded tables.

    Returns:
        DataFrame indexed by model: ``family``, ``params``, ``lab``, ``recipe``, ``is_base``, ``base_model``,
        ``model_type`` (normalised kind), the architecture columns, then the user's extra columns.
    """
    mf = table.model_frame().copy()
    long = table.long
    for c in ("base_model", "model_type"):
        if c in long.columns:
            mf[c] = long.groupby("model", sort=False)[c].first().reindex(mf.index)
        else:
            mf[c] = None
    models = list(mf.index)
    if architectures is None:
        arch = _embedded("architectures.csv").drop(columns=["family", "source"], errors="ignore")
        att = _embedded("attention.csv").drop(columns=["source"], errors="ignore")
        arch = arch.merge(att, on="model", how="outer")
    else:
        arch = pd.DataFrame(architectures).copy()
        if "model" not in arch.columns:
            raise DataError("architectures: missing column 'model'")
    ar = _match(arch, models, ("model", "hf_id"))
    for c in ("d_model", "n_layers", "n_heads", "vocab_size", "n_kv_heads", "moe"):
        mf[c] = ar[c].to_numpy() if c in ar.columns else None
    if attributes is not None:
        mf = _apply_user(mf, attributes)
    mf["model_type"] = [normalise_kind(t, None if pd.isna(b) else bool(b))
                        for t, b in zip(mf["model_type"], mf["is_base"])]
    return mf


def _apply_user(mf: pd.DataFrame, attributes: pd.DataFrame) -> pd.DataFrame:
    ua = pd.DataFrame(attributes).copy()
    if "model" in ua.columns:
        ua = ua.drop_duplicates("model").set_index("model")
    elif ua.index.name != "model":
        raise DataError("attributes: no 'model' column (one row per model, named as in the score table)")
    ua.index = ua.index.astype(str).str.strip()
    low = {str(m).lower(): m for m in ua.index}
    idx = [low.get(str(m).lower()) for m in mf.index]
    for c in ua.columns:
        if c in ("family", "params"):
            continue  # the score table owns these
        col = ua[c]
        vals = [col.loc[i] if i is not None else None for i in idx]
        if c in mf.columns:
            old = mf[c].to_numpy(dtype=object)
            mf[c] = [v if v is not None and not _isna(v) else o for v, o in zip(vals, old)]
        else:
            mf[c] = vals
    return mf


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype(float)


def _bool_level(v) -> str | None:
    if v is None or _isna(v):
        return None
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y", "1.0"):
        return "yes"
    if s in ("false", "0", "no", "n", "0.0"):
        return "no"
    return None


def _matched_scale(log_attr: pd.Series, params: pd.Series) -> pd.Series:
    """Residual of a log attribute against log10 N (ordinary least squares over the models with both)."""
    x = np.log10(_num(params))
    ok = log_attr.notna() & np.isfinite(x)
    out = pd.Series(np.nan, index=log_attr.index)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0:
        return out
    b, a = np.polyfit(x[ok], log_attr[ok], 1)
    out[ok] = log_attr[ok] - (a + b * x[ok])
    return out


def builtin_levers(attrs: pd.DataFrame) -> list[LeverSpec]:
    """The built-in levers (see the module docstring) from :func:`model_attributes`' frame."""
    out = []
    rec = attrs["recipe"].map(lambda v: None if _isna(v) else str(v).strip().lower())
    out.append(LeverSpec("recipe", "categorical", rec, "web", "", "data recipe (web / curated / distilled)"))
    d = _num(attrs["d_model"])
    nl = _num(attrs["n_layers"])
    out.append(LeverSpec("d_model", "continuous", _matched_scale(np.log2(d.where(d > 0)), attrs["params"]), None,
                         "one doubling of d_model at matched scale", "width at matched scale"))
    ar = (d / nl).where((d > 0) & (nl > 0))
    out.append(LeverSpec("aspect_ratio", "continuous", _matched_scale(np.log2(ar), attrs["params"]), None,
                         "one doubling of d_model / n_layers at matched scale",
                         "aspect ratio (width over depth) at matched scale"))
    kv, nh = _num(attrs["n_kv_heads"]), _num(attrs["n_heads"])
    gqa = pd.Series([None if not (k > 0 and h > 0) else ("yes" if k < h else "no") for k, h in zip(kv, nh)],
                    index=attrs.index, dtype=object)
    out.append(LeverSpec("gqa", "categorical", gqa, "no", "", "grouped-query or multi-query attention"))
    out.append(LeverSpec("moe", "categorical", attrs["moe"].map(_bool_level), "no", "", "mixture of experts"))
    v = _num(attrs["vocab_size"])
    out.append(LeverSpec("vocab_size", "continuous", np.log2(v.where(v > 0)), None, "one doubling of the "
                         "vocabulary", "vocabulary size"))
    return out


def user_levers(attrs: pd.DataFrame, columns: Sequence[str] | None = None) -> list[LeverSpec]:
    """Levers from a user's extra columns: numeric columns are continuous (raw units), text or true/false
    columns categorical (at most :data:`MAX_LEVELS` levels).

    Args:
        attrs: :func:`model_attributes`' frame.
        columns: the columns to use; default every column that is not a known attribute, a benchmark or an
            identifier.

    Raises:
        DataError: a named column is missing or cannot be a lever.
    """
    known = set(attrs.columns[:0])
    cand = [c for c in attrs.columns if str(c).strip().lower() not in NOT_LEVERS and not catalog.is_known(str(c))
            and not str(c).endswith(" Raw")]
    if columns is not None:
        for c in columns:
            if c not in attrs.columns:
                raise DataError(f"lever column {c!r} is not in the attributes (columns: "
                                f"{', '.join(map(str, cand)) or 'none'})")
        cand = list(columns)
    out = []
    for c in cand:
        if c in known:
            continue
        col = attrs[c]
        num = pd.to_numeric(col, errors="coerce")
        given = col.notna() & (col.astype(str).str.strip() != "")
        bl = col.map(_bool_level)
        if given.any() and bl[given].notna().all():
            out.append(LeverSpec(str(c), "categorical", bl, "no", "", f"column {c}"))
        elif given.any() and num[given].notna().all():
            out.append(LeverSpec(str(c), "continuous", num.astype(float), None, f"one unit of {c}", f"column {c}"))
        else:
            lv = col.where(given).map(lambda v: None if _isna(v) else str(v).strip())
            n = lv.dropna().nunique()
            if n > MAX_LEVELS:
                if columns is not None:
                    raise DataError(f"lever column {c!r} has {n} different values; a categorical lever can have "
                                    f"at most {MAX_LEVELS} levels")
                continue
            if n >= 1:
                ref = lv.value_counts().index[0]
                out.append(LeverSpec(str(c), "categorical", lv, ref, "", f"column {c}"))
    return out


@dataclass(frozen=True)
class FamilyValues:
    """A lever's value per family.

    Attributes:
        values: family -> level (categorical) or mean value (continuous); families without a value omitted.
        mixed: families whose models disagree on a categorical lever (counted by their most common level).
    """

    values: dict[str, object]
    mixed: tuple[str, ...] = ()


def family_values(spec: LeverSpec, family: pd.Series) -> FamilyValues:
    """Collapse a lever's per-model values to one value per family.

    Args:
        spec: the lever; family: per-model family name (same index as ``spec.values``).
    """
    groups: dict[str, list] = {}
    vs = spec.values.reindex(family.index).to_numpy(dtype=object)
    for f, v in zip(family.astype(str).to_numpy(dtype=object), vs):
        lst = groups.setdefault(str(f), [])
        if v is not None and not _isna(v):
            lst.append(v)
    vals, mixed = {}, []
    for f in sorted(groups):
        v = groups[f]
        if not v:
            continue
        if spec.kind == "continuous":
            vals[f] = float(np.mean(np.asarray(v, dtype=float)))
        else:
            counts = pd.Series([str(x) for x in v]).value_counts()
            top = min(counts[counts == counts.max()].index)
            vals[f] = top
            if len(counts) > 1:
                mixed.append(f)
    return FamilyValues(vals, tuple(mixed))
