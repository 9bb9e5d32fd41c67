"""Reading the doctor's input: score lists, parameter counts, model names, widths."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .. import catalog, data
from ..errors import DataError, NotFoundError
from ..scores import MAX_PARAMS, MIN_PARAMS, ScoreTable


# ---------------------------------------------------------------------------------------------- input
def parse_scores(items: Sequence[str] | Mapping[str, Any]) -> dict[str, float]:
    """``["HellaSwag=49.7", "TQA=38.9"]`` (or a mapping) -> ``{"HellaSwag": 49.7, "TruthfulQA": 38.9}``.

    Raises:
        UnknownBenchmarkError: an unknown benchmark (with the closest names).
        DataError: a malformed item, a non-numeric value, a value outside 0-100, a benchmark given twice.
    """
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        for it in items:
            if "=" not in str(it):
                raise DataError(f"--score {it!r}: expected BENCHMARK=VALUE, e.g. HellaSwag=49.7")
            k, v = str(it).split("=", 1)
            pairs.append((k.strip(), v.strip()))
    out: dict[str, float] = {}
    for k, v in pairs:
        b = catalog.canonical(k, where="--score")
        try:
            x = float(str(v).rstrip("%"))
        except ValueError:
            raise DataError(f"--score {k}={v}: the value is not a number (give percent, e.g. {b}=49.7)") from None
        if not math.isfinite(x) or x < 0 or x > 100:
            raise DataError(f"--score {k}={v}: {b} must be a percentage between 0 and 100")
        chance = catalog.lookup(b).chance
        if x < 1 and chance >= 10:
            raise DataError(f"--score {k}={v}: {b} is scored in percent and guessing alone gives about {chance:g}; "
                            f"for a fraction give {b}={x * 100:g}")
        if b in out and out[b] != x:
            raise DataError(f"--score: {b} given twice ({out[b]:g} and {x:g})")
        out[b] = x
    return out


def check_params(params: float | None) -> float | None:
    if params is None:
        return None
    p = float(params)
    if not math.isfinite(p) or p <= 0:
        raise DataError(f"--params {params}: the parameter count must be a positive number (e.g. 1e9)")
    if p < MIN_PARAMS:
        raise DataError(f"--params {params:g}: give the raw count (e.g. 1e9 for 1B), not billions or millions")
    if p > MAX_PARAMS:
        raise DataError(f"--params {params:g}: more than 1e14 parameters is not a plausible model")
    return p


def merge_tables(base, extra):
    """``base`` with ``extra``'s models added (``extra`` wins for a model in both)."""
    if extra is None:
        return base
    ld = base.long
    ld = ld[~ld["model"].isin(set(extra.long["model"]))]
    return ScoreTable(pd.concat([ld, extra.long], ignore_index=True), units="percent", name=extra.name,
                      infer_family=False)


def lookup_name(name: str, names: Sequence[str]) -> str | None:
    if name in names:
        return name
    low = {n.lower(): n for n in names}
    if name.lower() in low:
        return low[name.lower()]
    key = name.lower().replace(" ", "").replace("_", "-")
    norm = {n.lower().replace(" ", "").replace("_", "-"): n for n in names}
    return norm.get(key)


def unknown_model(name: str, names: Sequence[str]) -> NotFoundError:
    low = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(low), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(low[c] for c in close)}?" if close else \
        "; list the models with 'cape data' or describe it with --family, --params and --score"
    return NotFoundError(f"unknown model {name!r}{hint}")


def text_or_none(v) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


def arch_width(model: str, architectures: pd.DataFrame | None = None) -> float | None:
    """The model's residual width from the architecture table (default the embedded one); None when unknown."""
    a = data.architectures() if architectures is None else architectures
    r = a.loc[a["model"] == model, "d_model"].dropna()
    return float(r.iloc[0]) if len(r) else None
