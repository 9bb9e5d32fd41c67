"""`ScoreTable`: the one data currency of CAPE.

Every reader produces a ScoreTable and every analysis takes one. A ScoreTable is a validated, tidy table with
one row per model x benchmark x metric variant:

===========  =========================================================================================
column       meaning
===========  =========================================================================================
model        model name (required)
family       model family, e.g. ``"Pythia"`` (inferred from the name when absent)
params       total parameter count as a raw number (``7e7``, not ``0.07``); NaN when unknown
benchmark    canonical benchmark name (see :mod:`cape.catalog`; aliases are accepted on input)
score        score in percent, 0-100 (fractions are detected and converted, see ``units``)
metric       metric variant, e.g. ``acc_norm`` or ``mc2`` (default: the benchmark's usual metric)
shots        number of few-shot examples (nullable integer)
stderr       standard error in percent points (NaN when unknown)
source       where the number comes from (file name, paper, leaderboard)
lab          organisation that trained the model (optional)
is_base      True for a pretrained base model, False for instruct/chat models (nullable)
recipe       data recipe note: ``web``, ``curated`` or ``distilled`` (optional)
date         release date ``YYYY-MM-DD`` (optional)
base_model   hub id of the model this one was derived from, as the source file says (optional; a
             pretrained model may name itself)
model_type   ``pretrained``, ``fine-tuned``, ``chat``, ``merge``, ``moe`` (a pretrained mixture of
             experts) or ``unknown``, as the source file says (optional); ``is_base`` follows it
===========  =========================================================================================

A table written by :meth:`ScoreTable.to_csv`, :meth:`~ScoreTable.to_json` or :meth:`~ScoreTable.to_parquet`
records that its scores are percent, so reading it back (:meth:`ScoreTable.read`, or any ``--scores`` option)
gives the same table without re-detecting units.

Example:
    >>> import pandas as pd
    >>> from cape.scores import ScoreTable
    >>> wide = pd.DataFrame({"model": ["a-1b", "a-7b"], "family": ["A", "A"], "params": [1e9, 7e9],
    ...                      "HellaSwag": [0.50, 0.70], "TruthfulQA": [0.40, 0.38]})
    >>> t = ScoreTable.from_wide(wide)
    >>> t.wide()["HellaSwag"].tolist()
    [50.0, 70.0]
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import catalog
from .errors import DataError, NotFoundError, VariantMixError

from ._scorecheck import (_FLOORED, _TYPE_IS_BASE, COLUMNS, MAX_PARAMS, MIN_PARAMS, MODEL_ATTRS, MODEL_TYPES,  # noqa: F401
                          REQUIRED, _fmt_row, _to_bool, normalize_model_type)


class ScoreTable:
    """A validated table of benchmark scores (see the module docstring for the columns).

    Args:
        data: a long DataFrame with at least ``model``, ``benchmark`` and ``score``.
        units: ``"percent"``, ``"fraction"`` or ``"auto"`` (default): fractions are detected when every score
            of a benchmark lies in [0, 1] and converted to percent; a benchmark mixing both raises.
        name: a label for messages (usually the file the data came from).
        infer_family: fill a missing ``family`` from the model name (:func:`cape.families.infer_family`).
        copy: validate a copy of ``data`` (default); ``False`` hands ``data`` over, which may then change.

    Raises:
        DataError: with one sentence naming the row or column at fault.
    """

    def __init__(self, data: pd.DataFrame, *, units: str = "auto", name: str = "scores",
                 infer_family: bool = True, copy: bool = True):
        self.name = name
        #: True when the scores were read as 0-1 fractions and converted to percent
        self.converted_from_fraction = False
        frame = pd.DataFrame(data)
        # copy=False: the caller hands its frame over (a reader's million rows are not held twice)
        self._df = self._validate(frame.copy() if copy else frame, units=units, infer_family=infer_family)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_wide(cls, wide: pd.DataFrame, *, benchmarks: Sequence[str] | None = None,
                  metrics: dict[str, str] | None = None, shots: dict[str, int] | None = None,
                  units: str = "auto", name: str = "scores", source: str | None = None) -> ScoreTable:
        """Build from a wide frame: one row per model, one column per benchmark.

        Columns that are not benchmarks and not model attributes are ignored unless listed in ``benchmarks``
        (then an unknown name raises).
        """
        wide = pd.DataFrame(wide).copy()
        dup = wide.columns[wide.columns.duplicated()]
        if len(dup):
            raise DataError(f"{name}: column {str(dup[0])!r} appears more than once; keep one of them")
        if "model" not in wide.columns:
            raise DataError(f"{name}: missing column 'model' (a wide table needs one row per model)")
        for reserved in ("benchmark", "score"):
            if reserved in wide.columns:
                raise DataError(f"{name}: a wide table has one column per benchmark, but it has a {reserved!r} "
                                "column: read it as a long table (model, benchmark, score) instead")
        if benchmarks is None:
            bcols = [c for c in wide.columns if c not in COLUMNS and catalog.is_known(str(c))]
        else:
            bcols = list(benchmarks)
            for c in bcols:
                if c not in wide.columns:
                    raise DataError(f"{name}: missing benchmark column {c!r}")
                catalog.canonical(str(c), where=name)
        if not bcols:
            raise DataError(f"{name}: no benchmark columns found (expected columns such as HellaSwag, TruthfulQA)")
        attrs = [c for c in ("model", *MODEL_ATTRS, "source") if c in wide.columns]
        long = wide.melt(id_vars=attrs, value_vars=bcols, var_name="benchmark", value_name="score")
        # an empty cell in a wide table means "not measured", not an error
        empty = long["score"].isna() | long["score"].astype(str).str.strip().isin(["", "-", "—"])
        long = long[~empty]
        # a column named for a TruthfulQA variant (truthfulqa_mc1, TruthfulQA_MC2) says its metric
        named = {c: ("mc1" if "mc1" in str(c).lower() else "mc2") for c in bcols
                 if catalog.canonical(str(c)) == "TruthfulQA" and ("mc1" in str(c).lower() or "mc2" in str(c).lower())}
        if metrics or named:
            long["metric"] = long["benchmark"].map(lambda b: (metrics or {}).get(b, named.get(b)))
        if shots:
            long["shots"] = long["benchmark"].map(lambda b: shots.get(b))
        if source is not None and "source" not in long.columns:
            long["source"] = source
        return cls(long, units=units, name=name)

    @classmethod
    def concat(cls, tables: Iterable[ScoreTable], *, name: str = "scores") -> ScoreTable:
        """Concatenate tables; duplicates across them are checked like within one table."""
        frames = [t._df for t in tables]
        if not frames:
            raise DataError(f"{name}: nothing to combine (no tables given)")
        return cls(pd.concat(frames, ignore_index=True), units="percent", name=name, infer_family=False)

    # ------------------------------------------------------------------ validation
    def _validate(self, df: pd.DataFrame, *, units: str, infer_family: bool) -> pd.DataFrame:
        from ._scorecheck import validate

        df, self.converted_from_fraction = validate(df, self.name, units, infer_family)
        return df

    # ------------------------------------------------------------------ views
    def memo(self, key: tuple, build):
        """A derived frame built once per table and ``key`` (a table does not change once built); each call
        gets its own copy, so a caller may modify what it receives.

        Args:
            key: hashable identity of the view, e.g. ``("wide", ("HellaSwag", "TruthfulQA"), False, False)``.
            build: zero-argument function that computes the frame the first time.

        Returns:
            A copy of the memoised frame.
        """
        cache = self.__dict__.setdefault("_memo", {})
        k = (id(self._df), *key)  # a replaced _df invalidates every view
        if k not in cache:
            cache[k] = build()
        return cache[k].copy()

    @property
    def long(self) -> pd.DataFrame:
        """A copy of the tidy long table."""
        return self._df.copy()

    def __len__(self) -> int:
        return len(self._df)

    def __repr__(self) -> str:
        return (f"ScoreTable({self.name!r}: {self.n_models} models, {len(self.families)} families, "
                f"benchmarks {', '.join(self.benchmarks)})")

    @property
    def models(self) -> list[str]:
        return list(self.model_frame().index)

    @property
    def n_models(self) -> int:
        return int(self._df["model"].nunique())

    @property
    def families(self) -> list[str]:
        return sorted(self._df["family"].dropna().unique().tolist())

    @property
    def benchmarks(self) -> list[str]:
        order = {b.name: i for i, b in enumerate(catalog.BENCHMARKS)}
        return sorted(self._df["benchmark"].unique().tolist(), key=lambda b: order.get(b, 99))

    def model_frame(self) -> pd.DataFrame:
        """One row per model with its attributes (family, params, lab, is_base, recipe, date), sorted by
        family then params."""
        def build():
            out = self._df.groupby("model", sort=False)[list(MODEL_ATTRS)].first()
            return out.sort_values(["family", "params"], na_position="last", kind="stable")

        return self.memo(("model_frame",), build)

    def variants(self) -> pd.DataFrame:
        """Metric variants and shots per benchmark with model counts."""
        return (self._df.groupby(["benchmark", "metric"], dropna=False)
                .agg(models=("model", "nunique"), shots=("shots", lambda s: sorted(set(s.dropna().tolist()))))
                .reset_index())

    def check_variants(self, benchmarks: Sequence[str] | None = None, *, force: bool = False) -> None:
        """Raise :class:`VariantMixError` if a benchmark appears with more than one metric variant."""
        bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else self.benchmarks
        for b in bs:
            ms = sorted(self._df.loc[self._df["benchmark"] == b, "metric"].unique())
            if len(ms) > 1 and not force:
                raise VariantMixError(
                    f"{self.name}: {b} mixes metric variants {', '.join(ms)}; choose one with "
                    f"select_variant('{b}', '{ms[0]}') (command line: --variant {b}={ms[0]})")

    def select_shots(self, benchmark: str, shots: int) -> ScoreTable:
        """Keep only ``benchmark`` rows measured with ``shots`` few-shot examples (other benchmarks untouched).

        Raises:
            NotFoundError: no ``benchmark`` score has that number of shots (the message lists those present).
        """
        b = catalog.canonical(benchmark)
        df = self._df
        mine = df["benchmark"] == b
        hit = mine & (df["shots"] == int(shots)).fillna(False)
        if not hit.any():
            have = sorted({int(x) for x in df.loc[mine, "shots"].dropna()})
            shown = ", ".join(map(str, have)) if have else "none recorded"
            raise NotFoundError(f"{self.name}: no {b} scores with {int(shots)} shots (shots present: {shown})")
        return self._derive(df[~mine | hit])

    def setting_mixes(self) -> list[dict]:
        """Benchmarks measured under different settings inside one family: ``{"family", "benchmark", "kind"
        ("shots" or "metric"), "groups": {setting: [models]}}`` for each family x benchmark x kind that mixes;
        such scores are not comparable along the family's size axis."""
        df = self._df
        out: list[dict] = []
        key = ["family", "benchmark"]
        n = (df.assign(_s=df["shots"].astype("float").fillna(-1.0))
             .groupby(key, dropna=True).agg(metric=("metric", "nunique"), shots=("_s", "nunique")))
        mixed = n[(n["metric"] > 1) | (n["shots"] > 1)]
        if mixed.empty:
            return out
        sub = df.set_index(key).loc[mixed.index].reset_index()
        for (fam, b), g in sub.groupby(key, sort=True):
            for kind in ("metric", "shots"):
                vals = g[kind].astype("object").where(g[kind].notna(), "not given")
                if vals.nunique() < 2:
                    continue
                groups: dict[str, list[str]] = {}
                for v, m in zip(vals, g["model"]):
                    groups.setdefault(str(v), [])
                    if m not in groups[str(v)]:
                        groups[str(v)].append(m)
                out.append({"family": fam, "benchmark": b, "kind": kind, "groups": groups})
        return out

    def select_variant(self, benchmark: str, metric: str) -> ScoreTable:
        """Keep only ``metric`` rows for ``benchmark`` (other benchmarks untouched)."""
        b = catalog.canonical(benchmark)
        df = self._df
        keep = (df["benchmark"] != b) | (df["metric"] == metric)
        if not (df.loc[df["benchmark"] == b, "metric"] == metric).any():
            raise NotFoundError(f"{self.name}: no {b} scores with metric {metric!r}")
        return self._derive(df[keep])

    def wide(self, benchmarks: Sequence[str] | None = None, *, force: bool = False,
             dropna: bool = False) -> pd.DataFrame:
        """One row per model (index), columns ``family``, ``params`` then one column per benchmark.

        Args:
            benchmarks: benchmarks to include (default all), canonical names or aliases.
            force: allow several metric variants of one benchmark (their mean is taken).
            dropna: drop models missing any of the requested benchmarks.
        """
        bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else self.benchmarks
        self.check_variants(bs, force=force)
        return self.memo(("wide", tuple(bs), force, dropna), lambda: self._wide(bs, dropna))

    def _wide(self, bs: list[str], dropna: bool) -> pd.DataFrame:
        df = self._df[self._df["benchmark"].isin(bs)]
        piv = df.pivot_table(index="model", columns="benchmark", values="score", aggfunc="mean")
        for b in bs:
            if b not in piv.columns:
                piv[b] = np.nan
        attrs = self.model_frame()[["family", "params"]]
        out = attrs.join(piv[bs], how="left")
        if dropna:
            out = out.dropna(subset=bs)
        out.columns.name = None
        return out

    def stderr_wide(self, benchmarks: Sequence[str] | None = None) -> pd.DataFrame:
        """Standard errors in the layout of :meth:`wide`; missing ones come from the binomial error of the
        benchmark's item count."""
        bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else self.benchmarks
        return self.memo(("stderr_wide", tuple(bs)), lambda: self._stderr_wide(bs))

    def _stderr_wide(self, bs: list[str]) -> pd.DataFrame:
        df = self._df[self._df["benchmark"].isin(bs)].copy()
        fill = [catalog.binomial_stderr(s, b) for s, b in zip(df["score"], df["benchmark"])]
        df["se"] = df["stderr"].where(df["stderr"].notna(), pd.Series(fill, index=df.index))
        piv = df.pivot_table(index="model", columns="benchmark", values="se", aggfunc="mean")
        return piv.reindex(index=self.model_frame().index, columns=bs)

    # ------------------------------------------------------------------ filters
    def _derive(self, df: pd.DataFrame, name: str | None = None) -> ScoreTable:
        new = object.__new__(ScoreTable)
        new.name = name or self.name
        new.converted_from_fraction = self.converted_from_fraction
        new._df = df.reset_index(drop=True)
        return new

    def filter(self, *, family: str | Sequence[str] | None = None, models: Sequence[str] | None = None,
               min_params: float | None = None, max_params: float | None = None, base_only: bool = False,
               benchmarks: Sequence[str] | None = None) -> ScoreTable:
        """A new table restricted to the given families, models, size range, base models or benchmarks.

        Raises:
            NotFoundError: when a named family is not in the table, or nothing is left.
        """
        df = self._df
        if family is not None:
            fams = [family] if isinstance(family, str) else list(family)
            known = {f.lower(): f for f in self.families}
            sel = []
            for f in fams:
                if f.lower() not in known:
                    import difflib

                    close = difflib.get_close_matches(f, self.families, n=3, cutoff=0.5)
                    hint = f"; did you mean {', '.join(close)}?" if close else ""
                    raise NotFoundError(f"{self.name}: no family {f!r}{hint}")
                sel.append(known[f.lower()])
            df = df[df["family"].isin(sel)]
        if models is not None:
            df = df[df["model"].isin(list(models))]
        if min_params is not None:
            df = df[df["params"] >= min_params]
        if max_params is not None:
            df = df[df["params"] <= max_params]
        if base_only:
            df = df[df["is_base"].fillna(True).astype(bool)]
        if benchmarks is not None:
            bs = [catalog.canonical(b) for b in benchmarks]
            df = df[df["benchmark"].isin(bs)]
        if df.empty:
            raise NotFoundError(f"{self.name}: no scores left after filtering")
        return self._derive(df)

    def family(self, name: str) -> ScoreTable:
        return self.filter(family=name)

    # ------------------------------------------------------------------ output
    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the long table as CSV, atomically, with a first comment line recording that the scores are
        percent (read it back with :meth:`read`; ``pandas.read_csv(path, comment="#")`` also reads it)."""
        from ._scorefile import write_table

        return write_table(self, Path(path), "csv")

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the table as a JSON object (units, column order and one record per score), atomically."""
        from ._scorefile import write_table

        return write_table(self, Path(path), "json")

    def to_parquet(self, path: str | os.PathLike) -> Path:
        """Write the table as Parquet (needs pyarrow) with the units in the file's metadata, atomically."""
        from ._scorefile import write_table

        return write_table(self, Path(path), "parquet")

    @classmethod
    def read(cls, path: str | os.PathLike) -> ScoreTable:
        """Read a table written by :meth:`to_csv`, :meth:`to_json` or :meth:`to_parquet`, as it was written.

        Raises:
            DataError: the file is not such a table (read other files with :func:`cape.ingest.read_any`).
        """
        from ._scorefile import read_frame

        df, units, name = read_frame(Path(path))
        return cls(df, units=units, name=name, infer_family=False)

    def to_records(self) -> list[dict]:
        df = self._df.astype(object).where(self._df.notna(), None)
        return df.to_dict(orient="records")


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` through :func:`cape._output.write_output`: atomically, never over an input
    of this run, a folder or a special file, through symbolic links, keeping an existing file's mode.

    Raises:
        DataError: the output would harm an input or a special file, or cannot be written.
    """
    from ._output import write_output

    return write_output(path, text)
