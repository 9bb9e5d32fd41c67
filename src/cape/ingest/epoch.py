"""Reader for Epoch AI Benchmarking Hub style CSVs.

Two layouts:

* **external benchmark files** (``external_benchmark_<name>.csv``): ``id, Name, Model version, <score>, Shots,
  Notes, Source, Source link`` where the score column (``Overall accuracy``, ``EM``, ...) holds percent strings
  such as ``95.3%``. One file is one benchmark: named by a ``benchmark``/``task`` column, by ``[defaults]
  benchmark`` in a mapping, or by the file name. The model is ``Model version`` when given, else ``Name``.
  Shots may be a number, empty or ``few`` (left empty). Rows for one model and shot count from different sources
  often disagree: the first is kept and the others are reported as dropped.
* **run tables** (``benchmarks_runs.csv``): ``id, task, model, Best score (across scorers), Scores, ...,
  started_at, Status`` with 0-1 fractions and ``scorer:0.35±0.02`` strings (the ± part is the standard error).
  Rows whose ``Status`` is not ``Success`` are dropped; several runs of one model and task keep the latest
  ``started_at``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from pathlib import Path

from .. import catalog
from ..errors import DataError
from .common import EMPTY_CELLS, CellError, near_benchmark, norm_key, parse_score
from .report import ReportBuilder
from .rows import Rows
from .table import Table
from .units import ScoreCells, to_percent

SCORE_COLUMNS = ("overall accuracy", "accuracy", "em", "score", "average score", "average", "percent correct",
                 "performance", "result", "best score (across scorers)")


def looks_like(header: list[str]) -> bool:
    hs = {h.strip().lower() for h in header}
    if {"task", "model"} <= hs and ("best score (across scorers)" in hs or "scores" in hs):
        return True
    return "model version" in hs or ("source link" in hs and "name" in hs)


def _is_runs(header: list[str]) -> bool:
    hs = {h.strip().lower() for h in header}
    return {"task", "model"} <= hs and ("best score (across scorers)" in hs or "scores" in hs)


def _benchmark_for_file(path: Path, defaults: dict) -> tuple[str | None, str]:
    if defaults.get("benchmark"):
        return str(defaults["benchmark"]), "[defaults] benchmark"
    stem = path.stem
    m = re.match(r"^external_benchmark_(.+)$", stem, re.I)
    key = m.group(1) if m else stem
    b = catalog.lookup(key)
    return (b.name if b else None), key


def read(table: Table, path: Path, rows: Rows, report: ReportBuilder, *, units: str = "auto",
         defaults: dict | None = None) -> int:
    """Read one Epoch-style CSV; returns the number of scores added (0 when the file's benchmark is unknown)."""
    defaults = defaults or {}
    if _is_runs(table.header):
        return _read_runs(table, rows, report, units)
    return _read_external(table, path, rows, report, units, defaults)


def _col(table: Table, *names: str) -> int | None:
    low = [h.strip().lower() for h in table.header]
    for n in names:
        if n in low:
            return low.index(n)
    return None


def _score_col(table: Table) -> int:
    i = _col(table, *SCORE_COLUMNS)
    if i is not None:
        return i
    # the column whose cells are mostly percent strings
    best, best_n = None, 0
    for j in range(len(table.header)):
        n = sum(1 for r in table.rows if r[j].strip().endswith("%"))
        if n > best_n:
            best, best_n = j, n
    if best is None or best_n < max(1, len(table.rows) // 2):
        raise DataError(f"{table.name}: no score column (expected 'Overall accuracy', 'EM' or a column of "
                        "percent values such as 95.3%)")
    return best


def _read_external(table: Table, path: Path, rows: Rows, report: ReportBuilder, units: str, defaults: dict) -> int:
    name = table.name
    ib = _col(table, "benchmark", "task")
    if ib is None:
        bench, key = _benchmark_for_file(path, defaults)
        if bench is None:
            near = near_benchmark(key)
            if near is not None and norm_key(near) not in norm_key(key):
                raise DataError(f"{name}: the file name names benchmark {key!r}, which CAPE does not know; did you "
                                f"mean {near}? (rename the file or give [defaults] benchmark = ...)")
            from . import NothingUsable

            raise NothingUsable(f"{name}: benchmark {key!r} (from the file name) is not one CAPE knows; the file "
                                "was not read (give [defaults] benchmark = ... in a mapping to name it)")
    else:
        bench = None
    iv = _col(table, "model version")
    iname = _col(table, "name", "model")
    if iv is None and iname is None:
        raise DataError(f"{name}: no model column (expected 'Model version' or 'Name')")
    isc = _score_col(table)
    ish = _col(table, "shots")
    isrc = _col(table, "source")
    cells = ScoreCells()
    meta = []
    kept: dict[tuple[str, str, int | None], tuple[str, float, str]] = {}
    few = 0
    for rec, loc in zip(table.rows, table.locs):
        model = (rec[iv].strip() if iv is not None else "") or (rec[iname].strip() if iname is not None else "")
        if not model:
            raise DataError(f"{name}: {loc} has no model name (both 'Model version' and 'Name' are empty)")
        b = bench
        if ib is not None:
            braw = rec[ib].strip()
            bl = catalog.lookup(braw)
            if bl is None:
                report.drop(name, f"{loc} ({model}, {braw})", "not a benchmark CAPE knows")
                continue
            b = bl.name
        cell = rec[isc].strip()
        if cell.lower() in EMPTY_CELLS:
            report.drop(name, f"{loc} ({model})", "no score in the row")
            continue
        try:
            v, se, pct = parse_score(cell)
        except CellError as e:
            raise DataError(f"{name}: {loc}, column {table.header[isc]!r}: {e}") from None
        shots = None
        if ish is not None:
            s = rec[ish].strip().lower()
            if re.fullmatch(r"\d+", s):
                shots = int(s)
            elif s in ("few", "few-shot", "fewshot"):
                few += 1
            elif s and s not in EMPTY_CELLS:
                raise DataError(f"{name}: {loc} has Shots {rec[ish].strip()!r}; expected a whole number, 'few' or "
                                "nothing")
        src = rec[isrc].strip() if isrc is not None else ""
        key = (model, b, shots)
        if key in kept:
            kloc, kv, ksrc = kept[key]
            if kv == v:
                report.drop(name, f"{loc} ({model})", f"the same score again ({kloc} kept)")
            else:
                report.drop(name, f"{loc} ({model})", f"another {b} score for this model and shots ({v:g} from "
                                                      f"{src or 'no source'}; {kloc} kept: {kv:g} from "
                                                      f"{ksrc or 'no source'})")
            continue
        kept[key] = (loc, v, src)
        cells.add(v, se, pct, b, f"{loc}, column {table.header[isc]!r}")
        meta.append((model, b, shots, src))
    if few:
        report.note(f"{few} row(s) with Shots 'few' (no number) have empty shots", name)
    if not meta:
        raise DataError(f"{name}: no scores (every row was empty or named an unknown benchmark)")
    scores, ses, how = to_percent(cells, units, name)
    for (model, b, shots, src), s, se, loc in zip(meta, scores, ses, cells.locs):
        rows.add(model=model, benchmark=b, score=s, shots=shots, stderr=se, source=src or name, file=name, loc=loc)
    return len(meta)


def _parse_started(s: str) -> float:
    s = s.strip()
    for fmt in ("%d %B %Y %I:%M%p", "%d %B %Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return math.nan


def _read_runs(table: Table, rows: Rows, report: ReportBuilder, units: str) -> int:
    name = table.name
    it = _col(table, "task")
    im = _col(table, "model")
    ib = _col(table, "best score (across scorers)")
    isc = _col(table, "scores")
    ist = _col(table, "status")
    ita = _col(table, "started_at")
    cells = ScoreCells()
    meta = []
    unknown: dict[str, int] = {}
    for rec, loc in zip(table.rows, table.locs):
        model = rec[im].strip()
        task = rec[it].strip()
        if not model:
            raise DataError(f"{name}: {loc} has an empty model")
        if ist is not None and rec[ist].strip() and rec[ist].strip().lower() != "success":
            report.drop(name, f"{loc} ({model}, {task})", f"run status {rec[ist].strip()!r}, not Success")
            continue
        b = catalog.lookup(task)
        if b is None:
            unknown[task] = unknown.get(task, 0) + 1
            continue
        se = math.nan
        v = None
        if isc is not None and rec[isc].strip():
            txt = rec[isc].strip().split(";")[0]
            txt = txt.rsplit(":", 1)[-1]
            try:
                v, se, pct = parse_score(txt)
            except CellError as e:
                raise DataError(f"{name}: {loc}, column 'Scores': {e}") from None
        if ib is not None and rec[ib].strip():
            try:
                v, se2, pct = parse_score(rec[ib])
            except CellError as e:
                raise DataError(f"{name}: {loc}, column 'Best score (across scorers)': {e}") from None
        if v is None:
            report.drop(name, f"{loc} ({model}, {task})", "no score in the row")
            continue
        ts = _parse_started(rec[ita]) if ita is not None else math.nan
        cells.add(v, se, False, b.name, f"{loc} ({model}, {task})")
        meta.append((model, b.name, ts))
    for task, k in sorted(unknown.items()):
        report.drop(name, f"task {task} ({k} run(s))", "not a benchmark CAPE knows")
    if not meta:
        from . import NothingUsable

        raise NothingUsable(f"{name}: no run of a benchmark CAPE knows (tasks: {', '.join(sorted(unknown)[:6])})")
    scores, ses, how = to_percent(cells, units, name)
    for (model, b, ts), s, se, loc in zip(meta, scores, ses, cells.locs):
        rows.add(model=model, benchmark=b, score=s, stderr=se, source=name, file=name, loc=loc, ts=ts)
    return len(meta)
