"""Reader for generic score tables (CSV, TSV or Parquet), wide or long.

**Wide** (one row per model): a file with columns ``model, family, params`` and one column per benchmark
(``HellaSwag, TruthfulQA, ...``; aliases such as ``hellaswag``, ``TQA``, ``arc_challenge`` work) needs no
options. Column names may carry the metric and shots: ``TruthfulQA_MC1``, ``hellaswag_acc_norm``,
``HellaSwag (10-shot)``; ``<benchmark>_stderr`` / ``<benchmark> SE`` columns give standard errors. An empty cell
means "not measured"; ``NaN`` written out is refused (leave the cell empty instead).

**Long** (one row per model x benchmark): columns ``model, benchmark, score`` and optionally ``metric, shots,
stderr, source``.

Other layouts use a :class:`Mapping` (a small TOML file or ``--col role=Column``)::

    # map.toml
    [columns]              # role = column in the file
    model = "Model name"
    params = "Size (B)"
    [benchmarks]           # benchmark (optionally [metric]) = column
    HellaSwag = "hs_10shot"
    "TruthfulQA[mc1]" = "tqa_mc1"
    [shots]
    HellaSwag = 10
    [defaults]             # constants for columns the file lacks
    source = "my lab sheet"
    params_unit = "B"      # raw | M | B
    units = "percent"      # auto | percent | fraction

Parameters: raw counts, millions or billions: from ``params_unit`` if given, else from the column name
(``params_B``, ``#Params (B)``, ``params (M)``), else from the values (all below 1e4: billions; below 1e7:
millions; else raw); a cell suffix (``7B``, ``125M``) always wins. Scores: ``95.3%`` is percent; unmarked scores
are fractions when every unmarked score of the file is in [0, 1], else percent (``units`` overrides).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import catalog
from ..errors import DataError
from .common import display, near_benchmark, norm_key, param_unit_factor
from .csv_cells import ROLES, _find_role, _score_cell, _shots_cell, _stderr_cell, parse_bench_header
from .csv_models import model_attrs
from .report import ReportBuilder
from .rows import Rows
from .table import Table
from .units import ScoreCells, to_percent

# ----------------------------------------------------------------------------------------------- mapping

@dataclass
class Mapping:
    """How the columns of a file map to CAPE's roles and benchmarks (see the module docstring).

    Attributes:
        columns: role -> column name in the file.
        benchmarks: column name -> (canonical benchmark, metric or None).
        metrics: benchmark -> metric variant for its wide column(s).
        shots: benchmark -> shots for its wide column(s).
        defaults: role -> constant value for rows (``benchmark``, ``metric``, ``shots``, ``source``, ...).
        params_unit, units, format: optional overrides.
    """

    columns: dict[str, str] = field(default_factory=dict)
    benchmarks: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    shots: dict[str, int] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)
    params_unit: str | None = None
    units: str | None = None
    format: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.columns or self.benchmarks)


def _target(key: str, where: str) -> tuple[str, str | None] | str:
    """A mapping key: a role name or ``Benchmark`` / ``Benchmark[metric]``."""
    k = str(key).strip()
    if k.lower() in ROLES:
        return k.lower()
    m = re.match(r"^(.*?)\s*\[\s*([^\]]+?)\s*\]$", k)
    metric = None
    if m:
        k, metric = m.group(1), m.group(2)
    b = catalog.lookup(k)
    if b is None:
        near = near_benchmark(k)
        hint = f"; did you mean {near}?" if near else ""
        raise DataError(f"{where}: {key!r} is neither a column role ({', '.join(ROLES)}) nor a benchmark CAPE "
                        f"knows{hint}")
    return b.name, metric


def parse_mapping(obj: dict | None, where: str = "column mapping") -> Mapping:
    """Build a :class:`Mapping` from a dict (a parsed TOML file, or ``{"model": "Name", ...}``)."""
    mp = Mapping()
    if not obj:
        return mp
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a table of role = column entries")

    def put(key, col):
        if not isinstance(col, str) or not col.strip():
            raise DataError(f"{where}: {key!r} must name a column (a non-empty string), not {col!r}")
        t = _target(key, where)
        if isinstance(t, str):
            mp.columns[t] = col.strip()
        else:
            mp.benchmarks[col.strip()] = t

    for key, val in obj.items():
        if key == "columns" or key == "benchmarks":
            if not isinstance(val, dict):
                raise DataError(f"{where}: [{key}] must be a table of name = column entries")
            for k, v in val.items():
                put(k, v)
        elif key == "metrics":
            if not isinstance(val, dict):
                raise DataError(f"{where}: [metrics] must be a table of benchmark = metric entries")
            for k, v in val.items():
                t = _target(k, where)
                if isinstance(t, str) or not isinstance(v, str):
                    raise DataError(f"{where}: [metrics] {k!r} = {v!r}; expected benchmark = \"metric\"")
                mp.metrics[t[0]] = v
        elif key == "shots":
            if not isinstance(val, dict):
                raise DataError(f"{where}: [shots] must be a table of benchmark = number entries")
            for k, v in val.items():
                t = _target(k, where)
                if isinstance(t, str) or isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise DataError(f"{where}: [shots] {k!r} = {v!r}; expected benchmark = a whole number")
                mp.shots[t[0]] = v
        elif key == "defaults":
            if not isinstance(val, dict):
                raise DataError(f"{where}: [defaults] must be a table of role = value entries")
            for k, v in val.items():
                if str(k).lower() not in ROLES:
                    raise DataError(f"{where}: [defaults] {k!r} is not a column role ({', '.join(ROLES)})")
                if str(k).lower() == "benchmark":
                    v = catalog.canonical(str(v), where=f"{where} [defaults]")
                mp.defaults[str(k).lower()] = v
        elif key in ("params_unit", "units", "format"):
            if not isinstance(val, str):
                raise DataError(f"{where}: {key} must be a string, not {val!r}")
            setattr(mp, key, val)
        elif key == "families":
            continue  # read by the family map
        else:
            put(key, val)
    if mp.params_unit is not None:
        param_unit_factor(mp.params_unit, where=f"{where} params_unit")
    if mp.units is not None and mp.units not in ("auto", "percent", "fraction"):
        raise DataError(f"{where}: units must be auto, percent or fraction, not {mp.units!r}")
    return mp


def load_toml(path: str | Path, what: str = "mapping file") -> dict:
    """Read a TOML file with one-sentence errors."""
    p = Path(path)
    name = display(p)
    if not p.exists():
        raise DataError(f"{name}: {what} does not exist")
    if p.is_dir():
        raise DataError(f"{name}: {what} is a directory; expected a TOML file")
    from .common import decode_text, read_bytes

    text = decode_text(read_bytes(p), name)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DataError(f"{name}: {what} is not valid TOML ({e})") from None


# ----------------------------------------------------------------------------------------------- headers

# ----------------------------------------------------------------------------------------------- reader

def read_table(table: Table, rows: Rows, report: ReportBuilder, *, mapping: Mapping | None = None,
               units: str = "auto", params_unit: str | None = None) -> tuple[int, str]:
    """Read a generic wide or long table into ``rows``; returns (scores added, ``"csv-wide"``/``"csv-long"``)."""
    mp = mapping or Mapping()
    name = table.name
    header = table.header
    units = mp.units or units
    pu = params_unit if params_unit is not None else mp.params_unit
    # roles
    roles: dict[str, str] = {}
    for role, col in mp.columns.items():
        if col not in header:
            raise DataError(f"{name}: the column {col!r} mapped to {role} is not in the file (columns: "
                            f"{', '.join(header[:12])}{' ...' if len(header) > 12 else ''})")
        roles[role] = col
    for col in mp.benchmarks:
        if col not in header:
            raise DataError(f"{name}: the column {col!r} mapped to {mp.benchmarks[col][0]} is not in the file "
                            f"(columns: {', '.join(header[:12])}{' ...' if len(header) > 12 else ''})")
    used = set(roles.values()) | set(mp.benchmarks)
    for role in ROLES:
        if role in roles:
            continue
        c = _find_role(header, role, used)
        if c is not None:
            roles[role] = c
            used.add(c)
    long = ("benchmark" in roles or "benchmark" in mp.defaults) and "score" in roles and not mp.benchmarks
    if "model" not in roles:
        raise DataError(f"{name}: no model column (expected a column named model, name or fullname, or map one "
                        "with cape ingest --col model=COLUMN)")
    if long:
        from .csv_long import read_long

        n = read_long(table, roles, mp, rows, report, units, pu)
        fmt = "csv-long"
    else:
        n = _read_wide(table, roles, used, mp, rows, report, units, pu)
        fmt = "csv-wide"
    return n, fmt


def _check_unknown_column(name: str, col: str, report: ReportBuilder) -> None:
    """An unknown column is dropped and listed. A likely typo of a benchmark CAPE knows (``Hellaswg``) says how
    to map it; a benchmark CAPE does not analyse (``XWinograd``, ``Winograd``, ``HumanEval``) is never mapped to
    a different one."""
    other = catalog.other_benchmark(col)
    if other is not None:
        report.drop(name, f"column {col}", f"{other}, a benchmark CAPE does not analyse; not read")
        return
    near = near_benchmark(col)
    if near is not None:
        k = norm_key(col)
        if not any(norm_key(a) in k for b in catalog.BENCHMARKS if b.name == near
                   for a in (b.name, b.short, *b.aliases) if len(norm_key(a)) >= 4):
            report.fault(name, f"column {col}", f"not a benchmark CAPE knows; not read (if it holds {near}, map it: "
                                                f"cape ingest --col {near}={col!r})",
                         f"{name}: column {col!r} is not a benchmark CAPE knows; if it holds {near}, map it with "
                         f"cape ingest --col {near}={col!r}")
            return
    report.drop(name, f"column {col}", "not a benchmark CAPE knows or a model attribute; not read")


def _read_wide(table, roles, used, mp, rows, report, units, pu) -> int:
    name = table.name
    # benchmark columns and their stderr columns
    bcols: list[tuple[int, str, str, str | None, int | None]] = []  # (idx, col, bench, metric, shots)
    secols: dict[tuple[str, str | None], int] = {}
    for col, (bench, metric) in mp.benchmarks.items():
        bcols.append((table.col(col), col, bench, metric or mp.metrics.get(bench), mp.shots.get(bench)))
    for i, col in enumerate(table.header):
        if col in used:
            continue
        parsed = parse_bench_header(col)
        if parsed is None:
            _check_unknown_column(name, col, report)
            continue
        bench, metric, shots, is_se = parsed
        metric = metric or mp.metrics.get(bench)
        shots = shots if shots is not None else mp.shots.get(bench)
        if is_se:
            secols[(bench, metric)] = i
        else:
            bcols.append((i, col, bench, metric, shots))
    for role in ("benchmark", "score", "stderr", "metric"):
        if role in roles:
            report.drop(name, f"column {roles[role]}", f"a long-table {role} column in a wide table (no benchmark "
                                                       "column to pair it with); not read")
    if not bcols:
        from . import NothingUsable

        raise NothingUsable(f"{name}: no benchmark columns CAPE knows (columns: {', '.join(table.header[:12])}); "
                        "expected columns such as HellaSwag, TruthfulQA, ARC-Challenge, or a long table with "
                        "model, benchmark, score")
    seen_b: dict[tuple[str, str | None, int | None], str] = {}
    dup_cols: set[str] = set()
    for _, col, bench, metric, shots in bcols:
        key = (bench, metric, shots)
        if key in seen_b:
            report.fault(name, f"column {col}", f"holds {bench}{' ' + metric if metric else ''} like column "
                         f"{seen_b[key]!r}, which was read; not read",
                         f"{name}: columns {seen_b[key]!r} and {col!r} both hold {bench}"
                         f"{' ' + metric if metric else ''}; keep one or map them to different metrics")
            dup_cols.add(col)
            continue
        seen_b[key] = col
    bcols = [b for b in bcols if b[1] not in dup_cols]
    group, at = model_attrs(table, roles, mp, report, pu)
    recs = [at.record(g) for g in range(len(at.dropped))]
    attrs = [recs[g] for g in group.tolist()]
    shots_idx = table.col(roles["shots"]) if "shots" in roles else None
    cells = ScoreCells()
    meta = []
    empty = 0
    for k, (rec, loc) in enumerate(zip(table.rows, table.locs)):
        if attrs[k] is None:
            continue
        row_shots = _shots_cell(rec[shots_idx], name, loc, report) if shots_idx is not None else \
            mp.defaults.get("shots")
        for i, col, bench, metric, shots in bcols:
            got = _score_cell(rec[i], name, loc, col, report)
            if got is None:
                empty += 1
                continue
            v, se, pct = got
            j = secols.get((bench, metric), secols.get((bench, None)))
            if j is not None and not math.isfinite(se):
                se = _stderr_cell(rec[j], name, loc, table.header[j], report)
            cells.add(v, se, pct, bench, f"{loc}, column {col!r}")
            meta.append((k, bench, metric or mp.defaults.get("metric"),
                         shots if shots is not None else row_shots))
    if not meta:
        raise DataError(f"{name}: every benchmark cell is empty (no scores)")
    scores, ses, how = to_percent(cells, units, name, report)
    if how == "fraction":
        report.note("scores read as 0-1 fractions and converted to percent (override with cape ingest --units percent)", name)
    if empty:
        report.note(f"{empty} empty cell(s): models not measured on those benchmarks", name)
    return _emit(meta, scores, ses, cells.locs, attrs, rows, name)


def _emit(meta, scores, ses, locs, attrs, rows: Rows, name: str) -> int:
    """Append the kept scores to ``rows`` column by column (a cell dropped by the unit check is NaN)."""
    keep = [i for i, s in enumerate(scores) if s == s]
    recs = [attrs[meta[i][0]] for i in keep]
    c = rows.cols
    n = len(keep)
    for f in ("model", "family", "params", "lab", "is_base", "recipe", "date", "base_model", "model_type"):
        c[f].extend([a[f] for a in recs])
    c["source"].extend([a["source"] or name for a in recs])
    c["benchmark"].extend([meta[i][1] for i in keep])
    c["metric"].extend([meta[i][2] for i in keep])
    c["shots"].extend([meta[i][3] for i in keep])
    c["score"].extend([scores[i] for i in keep])
    c["stderr"].extend([ses[i] for i in keep])
    c["file"].extend([name] * n)
    c["loc"].extend([locs[i] for i in keep])
    c["ts"].extend([math.nan] * n)
    c["native"].extend([False] * n)
    return n
