"""Validation of a :class:`~cape.scores.ScoreTable`'s frame: required columns, model names, canonical
benchmarks, scores in percent, plausible parameter counts, filled optional columns, no conflicting duplicates.

Work on text runs once per distinct value of a column (a million-row table names a few benchmarks and a few
hundred thousand models), and the results are broadcast to the rows; every error names the first row at fault,
as a row-by-row check would.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import catalog
from .errors import DataError

REQUIRED = ("model", "benchmark", "score")
COLUMNS = ("model", "family", "params", "benchmark", "score", "metric", "shots", "stderr", "source", "lab",
           "is_base", "recipe", "date", "base_model", "model_type")
#: Attributes that belong to a model rather than to one score.
MODEL_ATTRS = ("family", "params", "lab", "is_base", "recipe", "date", "base_model", "model_type")
#: Values of ``model_type``; ``is_base`` is True for the first and ``moe``, False for the three derived kinds.
MODEL_TYPES = ("pretrained", "fine-tuned", "chat", "merge", "moe", "unknown")
_TYPE_IS_BASE = {"pretrained": True, "moe": True, "fine-tuned": False, "chat": False, "merge": False}
#: benchmarks with a multiple-choice floor well above 1 %: a score below 1 among percent scores is a fraction
_FLOORED = ("HellaSwag", "TruthfulQA", "ARC-Challenge", "WinoGrande", "MMLU")
MAX_PARAMS = 1e14  # 100 trillion: anything above is an input error
MIN_PARAMS = 1e5  # below this a raw parameter count is implausible (billions or millions given by mistake)


def _fmt_row(df: pd.DataFrame, idx) -> str:
    r = df.loc[idx]
    return f"row {idx} (model {r['model']!r}, {r['benchmark']})"


def _by_value(col: pd.Series, fn, dtype: str) -> pd.Series:
    """``fn`` of each distinct non-missing value of ``col``, broadcast to the rows as a column of ``dtype``
    (missing values stay missing)."""
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    vals = pd.array([fn(u) for u in uniq], dtype=dtype)
    return pd.Series(vals.take(codes, allow_fill=True), index=col.index)


def validate(df: pd.DataFrame, name: str, units: str, infer_family: bool) -> tuple[pd.DataFrame, bool]:
    """The validated frame and whether its scores were converted from 0-1 fractions.

    Raises:
        DataError: with one sentence naming the row or column at fault.
    """
    if units not in ("auto", "percent", "fraction"):
        raise DataError(f"{name}: units must be 'auto', 'percent' or 'fraction', not {units!r}")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"{name}: missing required column(s) {', '.join(missing)}")
    if df.empty:
        raise DataError(f"{name}: no scores (the table is empty)")
    df = df.reset_index(drop=True)
    df["model"] = _models(df["model"], name)
    df["benchmark"] = _benchmarks(df["benchmark"], name)
    converted = _scores(df, name, units)
    _params(df, name)
    _optional(df, name, infer_family)
    df = _dedupe(df[list(COLUMNS)], name)
    _attributes_agree(df, name)
    return df.reset_index(drop=True), converted


def _attributes_agree(df: pd.DataFrame, name: str) -> None:
    """Refuse a model whose rows give different families or parameter counts (the first such model by name)."""
    mcodes, models = pd.factorize(df["model"])
    for attr in ("family", "params"):
        acodes, vals = pd.factorize(df[attr], use_na_sentinel=True)
        ok = acodes >= 0
        if len(vals) < 2 or not ok.any():
            continue
        pairs = np.unique(mcodes[ok].astype(np.int64) * len(vals) + acodes[ok])
        n = np.bincount(pairs // len(vals), minlength=len(models))
        if (n > 1).any():
            m = min(str(models[i]) for i in np.flatnonzero(n > 1))
            vals_m = sorted(map(str, df.loc[df["model"] == m, attr].dropna().unique()))
            raise DataError(f"{name}: model {m!r} has conflicting {attr} values ({', '.join(vals_m)})")


def _models(model: pd.Series, name: str) -> pd.Series:
    """Model names as text, stripped; an empty or missing name is refused."""
    codes, uniq = pd.factorize(model, use_na_sentinel=True)
    stripped = [str(u).strip() for u in uniq]
    empty = np.array([not s for s in stripped] + [True], dtype=bool)  # the last entry: code -1 (missing)
    bad = empty[codes]
    if bad.any():
        raise DataError(f"{name}: row {int(np.flatnonzero(bad)[0])} has an empty model name")
    return pd.Series(pd.array(stripped, dtype="str").take(codes), index=model.index)


def _benchmarks(bench: pd.Series, name: str) -> pd.Series:
    """Canonical benchmark names (each distinct name looked up once)."""
    if bench.isna().any():  # rare: the row-by-row rules, which name the value as text
        text = bench.astype(str)
        return text.map({b: catalog.canonical(b, where=name) for b in text.unique()})
    return _by_value(bench, lambda b: catalog.canonical(str(b), where=name), "str")


def _scores(df: pd.DataFrame, name: str, units: str) -> bool:
    """Scores as finite numbers in percent (in place); returns whether fractions were converted."""
    raw = df["score"]
    if raw.dtype == object:
        conv = pd.to_numeric(raw.astype(str).str.strip().str.rstrip("%"), errors="coerce")
    else:
        conv = pd.to_numeric(raw, errors="coerce")
    nan_rows = conv.isna()
    if nan_rows.any():
        i = df.index[nan_rows][0]
        raise DataError(f"{name}: {_fmt_row(df, i)} has a missing or non-numeric score ({raw.loc[i]!r})")
    if not np.isfinite(conv.to_numpy(dtype=float)).all():
        i = df.index[~np.isfinite(conv.to_numpy(dtype=float))][0]
        raise DataError(f"{name}: {_fmt_row(df, i)} has an infinite score")
    df["score"] = conv.astype(float)
    df["score"], converted = to_percent(df, units, name)
    out = df["score"].lt(0) | df["score"].gt(100)
    if out.any():
        i = df.index[out][0]
        raise DataError(f"{name}: {_fmt_row(df, i)} has score {df.loc[i, 'score']:g}, "
                        "outside 0-100 percent")
    return converted


def _params(df: pd.DataFrame, name: str) -> None:
    """Parameter counts as plausible raw numbers or NaN (in place)."""
    if "params" not in df.columns:
        df["params"] = np.nan
        return
    p = pd.to_numeric(df["params"], errors="coerce")
    badp = df["params"].notna() & p.isna()
    if badp.any():
        i = df.index[badp][0]
        raise DataError(f"{name}: {_fmt_row(df, i)} has a non-numeric parameter count "
                        f"{df.loc[i, 'params']!r}")
    for mask, what in ((p.le(0), "has a non-positive parameter count {v:g}"),
                       (p.gt(MAX_PARAMS), "has an absurd parameter count {v:g} (more than 1e14)"),
                       (p.lt(MIN_PARAMS), "has parameter count {v:g}; give the raw count (e.g. 7e9), or declare "
                                          "the unit (millions/billions) when reading the file")):
        if mask.any():
            i = df.index[mask][0]
            raise DataError(f"{name}: {_fmt_row(df, i)} " + what.format(v=p.loc[i]))
    df["params"] = p.astype(float)


def _optional(df: pd.DataFrame, name: str, infer_family: bool) -> None:
    """Fill and normalise the optional columns (in place)."""
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = pd.NA
    df["metric"] = _metrics(df["metric"], df["benchmark"])
    df["shots"] = _shots(df["shots"])
    df["stderr"] = pd.to_numeric(df["stderr"], errors="coerce").astype(float)
    for c in ("source", "lab", "recipe", "date", "family", "base_model"):
        df[c] = _by_value(df[c], lambda v: str(v).strip() or None, "string")
    if df["family"].isna().any() and infer_family:
        from .families import infer_family as _infer

        miss = df["family"].isna()
        df.loc[miss, "family"] = _by_value(df.loc[miss, "model"], _infer, "string").tolist()
    df["is_base"] = _by_value(df["is_base"], _to_bool, "boolean")
    df["model_type"] = model_types(df, name)


def _shots(shots: pd.Series) -> pd.Series:
    """Shots as nullable integers (each distinct value of a text or mixed column converted once)."""
    if shots.dtype != object:
        return pd.to_numeric(shots, errors="coerce").astype("Int64")
    codes, uniq = pd.factorize(shots, use_na_sentinel=True)
    num = pd.to_numeric(pd.Series(list(uniq), dtype=object), errors="coerce").astype("Int64").array
    return pd.Series(num.take(codes, allow_fill=True), index=shots.index)


def _metrics(metric: pd.Series, bench: pd.Series) -> pd.Series:
    """The metric given (non-empty text), else the benchmark's usual metric."""
    codes, uniq = pd.factorize(metric, use_na_sentinel=True)
    ok = np.array([isinstance(u, str) and bool(u.strip()) for u in uniq] + [False], dtype=bool)[codes]
    default = _by_value(bench, lambda b: catalog.info(b).default_metric, "object").to_numpy()
    given = metric.to_numpy(dtype=object)
    return pd.Series(pd.array(np.where(ok, given, default), dtype="str"), index=metric.index)


def model_types(df: pd.DataFrame, name: str) -> pd.Series:
    """Normalised ``model_type`` (see :data:`MODEL_TYPES`); fills ``is_base`` from it (in place) and refuses a
    row where the two disagree."""
    raw = df["model_type"]
    if raw.isna().all():
        return raw.astype("string")
    codes, uniq = pd.factorize(raw, use_na_sentinel=True)
    low = [str(u).strip().lower() or None for u in uniq]
    norm = [normalize_model_type(t) if t else None for t in low]
    bad = np.array([t is not None and v is None for t, v in zip(low, norm)] + [False], dtype=bool)[codes]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{name}: {_fmt_row(df, i)} has model_type {raw.loc[i]!r}; expected one of "
                        f"{', '.join(MODEL_TYPES)}")
    types = pd.Series(pd.array(norm, dtype="string").take(codes, allow_fill=True), index=df.index)
    imp = np.empty(len(norm) + 1, dtype=object)  # the last entry: code -1 (missing)
    imp[:] = [_TYPE_IS_BASE.get(v, np.nan) if v else np.nan for v in norm] + [np.nan]
    implied = pd.Series(imp[codes], index=df.index, dtype=object)
    given = df["is_base"]
    clash = given.notna() & implied.notna() & (given.astype("object") != implied.astype("object"))
    if clash.any():
        i = df.index[clash][0]
        raise DataError(f"{name}: {_fmt_row(df, i)} has is_base {bool(given.loc[i])} but model_type "
                        f"{types.loc[i]!r}; give one of them or make them agree")
    fill = given.isna() & implied.notna()
    if fill.any():
        df.loc[fill, "is_base"] = implied[fill].astype(bool)
    return types


def _dedupe(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Drop repeated rows (same model, benchmark, metric, shots and score); different scores are refused."""
    key = ["model", "benchmark", "metric", "shots"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        grp = df[dup].groupby(key, dropna=False)["score"]
        for k, s in grp:
            if s.nunique() > 1:
                raise DataError(f"{name}: duplicate model {k[0]!r} has different {k[1]} scores "
                                f"({', '.join(f'{v:g}' for v in s)}); keep one row per model and benchmark")
        df = df.drop_duplicates(key, keep="first").reset_index(drop=True)
    return df


def to_percent(df: pd.DataFrame, units: str, name: str) -> tuple[pd.Series, bool]:
    """Scores in percent and whether they were converted from fractions (see :class:`~cape.scores.ScoreTable`).

    Raises:
        DataError: a score above 1 declared a fraction, or 0-1 fractions of a base benchmark among percent.
    """
    s = df["score"]
    if units == "percent":
        return s, False
    if units == "fraction":
        if s.gt(1.0).any():
            i = df.index[s.gt(1.0)][0]
            raise DataError(f"{name}: {_fmt_row(df, i)} has score {s.loc[i]:g} but units were declared "
                            "as fractions (0-1)")
        return s * 100.0, True
    # auto: the table is in fractions when every score lies in [0, 1]; a benchmark with a multiple-choice
    # floor (HellaSwag, ...) whose scores all lie in [0, 1] beside percent scores is a unit mix-up, while
    # benchmarks without a floor (GSM8K, MATH, ...) may honestly score below 1 percent.
    if s.max() <= 1.0:
        return s * 100.0, True
    for b, grp in s.groupby(df["benchmark"]):
        if b not in _FLOORED:
            continue
        small = grp[(grp > 0) & (grp < 1.0)]
        if len(small) and (grp.max() > 5.0 or s.max() > 5.0):
            i = small.index[0]
            where = (f"other {b} scores are percent (up to {grp.max():g})" if grp.max() > 5.0
                     else f"other scores are percent (up to {s.max():g})")
            raise DataError(f"{name}: {_fmt_row(df, i)} has score {s.loc[i]:g} while {where}; fractions "
                            "mixed with percent - give one unit (or declare units)")
    return s, False


def normalize_model_type(value) -> str | None:
    """``model_type`` spelled as a file spells it (``"🔶 fine-tuned on domain-specific datasets"``, ``"chat
    models (RLHF, DPO, IFT, ...)"``, ``"base merges and moerges"``, ``"base"``) -> one of :data:`MODEL_TYPES`;
    ``None`` when the text names none of them."""
    s = str(value).strip().lower()
    if not s:
        return None
    s = s.replace("_", "-")
    if s in MODEL_TYPES:
        return s
    if "merge" in s:
        return "merge"
    if "continuously pretrained" in s or "continued pretrain" in s or "fine-tun" in s or "finetun" in s \
            or s in ("ft", "sft", "adapter"):
        return "fine-tuned"
    if "chat" in s or "instruct" in s or "rlhf" in s or "dpo" in s or s in ("it", "ift"):
        return "chat"
    if s in ("mixture of experts", "mixture-of-experts"):
        return "moe"
    if "pretrained" in s or "pre-trained" in s or s in ("base", "foundation"):
        return "pretrained"
    if s in ("other", "multimodal", "?", "unknown", "n/a", "none") or "multimodal" in s or "other" in s:
        return "unknown"
    return None


def _to_bool(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return pd.NA
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y", "base", "pretrained", "t"):
        return True
    if s in ("false", "0", "no", "n", "instruct", "chat", "f", "it"):
        return False
    if s in ("", "nan", "none", "<na>"):
        return pd.NA
    raise DataError(f"is_base value {v!r} is not true/false")
