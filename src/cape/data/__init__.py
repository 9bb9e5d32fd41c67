"""Embedded datasets: the project's own compilation of public benchmark figures.

=================  ==========================================================================================
name               what
=================  ==========================================================================================
``base``           base-model cohort (HellaSwag, TruthfulQA mc2, ARC-Challenge, WinoGrande, MMLU), long format
``frontier``       frontier panel (SWE-bench Verified, GPQA Diamond, IFEval), with lab, release date, subset
``architectures``  d_model, n_layers, n_heads, vocabulary size of the open models of the cohort
fixtures           the exact named tables behind each published number (``fixture("pythia8")`` ...)
=================  ==========================================================================================

Example:
    >>> from cape import data
    >>> cohort = data.load_base()
    >>> "Pythia" in cohort.families
    True
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from .._runcache import once_per_run
from ..errors import NotFoundError
from ..scores import ScoreTable

_PKG = "cape.data"


def _path(name: str):
    return resources.files(_PKG).joinpath(name)


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    with _path(name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f)


def load_base(*, include_instruct: bool = True) -> ScoreTable:
    """The embedded base-model cohort as a :class:`ScoreTable`."""
    t = _base_table()
    return t if include_instruct else t.filter(base_only=True)


@lru_cache(maxsize=1)
def _base_table() -> ScoreTable:
    df = _read("base_models.csv").drop(columns=["note"], errors="ignore")
    return ScoreTable(df, units="percent", name="embedded base cohort", infer_family=False)


@lru_cache(maxsize=1)
def load_frontier() -> ScoreTable:
    """The embedded frontier panel (34 models + post-cutoff models) as a :class:`ScoreTable`.

    Model attributes ``subset`` (core / extended / post-cutoff) come from :func:`frontier_models`.
    """
    df = _read("frontier.csv").rename(columns={"release_date": "date"})
    df = df.assign(family=df["lab"])
    return ScoreTable(df.drop(columns=["subset"]), units="percent", name="embedded frontier panel",
                      infer_family=False)


def frontier_models() -> pd.DataFrame:
    """One row per frontier model: lab, release date, subset."""
    df = _read("frontier.csv")
    return df.groupby("model", sort=False)[["lab", "release_date", "subset"]].first().reset_index()


def architectures() -> pd.DataFrame:
    """Architecture facts (d_model, n_layers, n_heads, vocab_size) per model."""
    return _read("architectures.csv").copy()


def fixture_names() -> list[str]:
    return _read("fixtures/manifest.csv")["name"].tolist()


def fixture(name: str) -> pd.DataFrame:
    """A named paper fixture (docs/methods.md, "Data fixtures"), e.g. ``"pythia8"``, ``"boot14"``, ``"frontier34"``."""
    man = _read("fixtures/manifest.csv")
    row = man[man["name"] == name]
    if row.empty:
        raise NotFoundError(f"no fixture {name!r}; known: {', '.join(man['name'])}")
    return _read(f"fixtures/{row['file'].iloc[0]}").copy()


@once_per_run
def fixture_table(name: str, *, family: str | None = None) -> ScoreTable:
    """A fixture with benchmark columns as a :class:`ScoreTable` (family from a ``family`` column, the
    argument, or the model names)."""
    df = fixture(name)
    if family is not None and "family" not in df.columns:
        df["family"] = family
    return ScoreTable.from_wide(df, name=f"fixture {name}", source=f"paper fixture {name}")


def list_datasets() -> list[dict]:
    """Summary rows (name, kind, rows, models, families/labs, benchmarks, description) for ``cape data``."""
    base = load_base()
    fr = load_frontier()
    arch = architectures()
    out = [
        {"name": "base", "kind": "scores", "rows": len(base), "models": base.n_models,
         "groups": len(base.families), "benchmarks": base.benchmarks,
         "description": "base-model cohort, Open LLM Leaderboard v1 settings (TruthfulQA mc2)"},
        {"name": "frontier", "kind": "scores", "rows": len(fr), "models": fr.n_models,
         "groups": len(fr.families), "benchmarks": fr.benchmarks,
         "description": "frontier panel: SWE-bench Verified, GPQA Diamond, IFEval; labs, release dates"},
        {"name": "architectures", "kind": "table", "rows": len(arch), "models": int(arch["model"].nunique()),
         "groups": int(arch["family"].nunique()), "benchmarks": [],
         "description": "d_model, n_layers, n_heads, vocab size of open models"},
    ]
    man = _read("fixtures/manifest.csv")
    for _, r in man.iterrows():
        df = fixture(r["name"])
        out.append({"name": r["name"], "kind": "fixture", "rows": len(df),
                    "models": int(df["model"].nunique()) if "model" in df.columns else len(df),
                    "groups": int(df["family"].nunique()) if "family" in df.columns else 1,
                    "benchmarks": [c for c in df.columns if _is_bench(c)],
                    "description": str(r["description"])})
    return out


def _is_bench(c: str) -> bool:
    from ..catalog import is_known

    return is_known(c)
