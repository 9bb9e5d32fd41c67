"""Reader for long generic tables (one row per model x benchmark: ``model, benchmark, score`` and optionally
``metric, shots, stderr`` and model attributes), column by column.

Each column is factorised and every distinct text is read once (a million-row table holds a few benchmark
names, a few hundred thousand model names and scores), then the results are broadcast to the rows. A row with
any cell that needs a report (an unknown benchmark, an unreadable score, bad shots ...) is read on its own,
in row order, by the same rules, so the report lists exactly what a row-by-row pass lists, in the same order.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .. import catalog
from ..errors import DataError
from .common import EMPTY_CELLS, CellError, near_benchmark, norm_key, parse_score
from .csv_cells import _NAN_TEXT, _score_cell, _shots_cell, _stderr_cell, parse_bench_header
from .csv_models import model_attrs
from .report import ReportBuilder
from .rows import Rows
from .table import Table
from .units import to_percent_arrays

_SHOTS = re.compile(r"^(\d+)(?:\.0+)?\s*(?:-?\s*shots?)?$")
_SLOW = object()  # a distinct text that needs the row-by-row reading (it is reported)


def _bench_value(text: str):
    s = text.strip()
    parsed = parse_bench_header(s) if s else None
    if parsed is None or parsed[3]:
        return _SLOW
    return parsed[0], parsed[1]


def _score_value(text: str):
    s = text.strip()
    low = s.lower()
    if low in _NAN_TEXT or low in EMPTY_CELLS:
        return _SLOW
    try:
        return parse_score(s)
    except CellError:
        return _SLOW


def _stderr_value(text: str):
    s = text.strip()
    if not s or s.lower() in EMPTY_CELLS or s.lower() in _NAN_TEXT:
        return math.nan
    try:
        return parse_score(s)[0]
    except CellError:
        return _SLOW


def _shots_value(text: str):
    s = text.strip().lower()
    if s in EMPTY_CELLS:
        return None
    m = _SHOTS.match(s)
    return int(m.group(1)) if m else _SLOW


def _metric_value(text: str):
    m = text.strip()
    return m if m and m.lower() not in EMPTY_CELLS else None


def _per_value(table: Table, j: int, fn) -> tuple[np.ndarray, list]:
    """``(codes, values)`` of column ``j`` with ``fn`` applied once per distinct text."""
    codes, texts = table.codes(j)
    return codes, [fn(t) for t in texts]


def read_long(table: Table, roles: dict[str, str], mp, rows: Rows, report: ReportBuilder, units: str,
              pu: str | None) -> int:
    """Read a long table into ``rows`` (as one block of columns); returns the number of scores added."""
    name = table.name
    group, attrs = model_attrs(table, roles, mp, report, pu)
    ci = {r: table.col(c) for r, c in roles.items()}
    n = len(table)
    slow = np.zeros(n, dtype=bool)
    cols: dict[str, tuple[np.ndarray, list]] = {}
    for role, fn in (("benchmark", _bench_value), ("score", _score_value), ("stderr", _stderr_value),
                     ("shots", _shots_value), ("metric", _metric_value)):
        if role in ci:
            codes, vals = cols[role] = _per_value(table, ci[role], fn)
            bad = np.array([v is _SLOW for v in vals], dtype=bool)
            if bad.any():
                slow |= bad[codes]
    dropped = attrs.dropped[group]
    fast = np.flatnonzero(~slow & ~dropped)
    slow_rows = np.flatnonzero(slow & ~dropped)
    fast_part = _fast_rows(fast, cols, mp)
    slow_part = _slow_rows(table, slow_rows.tolist(), roles, ci, attrs.fields["model"], group, mp, report)
    part = _merge(fast_part, slow_part)
    if not len(part["k"]):
        raise DataError(f"{name}: no row names a benchmark CAPE knows")
    score_col = roles["score"]
    suffix = f", column {score_col!r}"
    k_all = part["k"]
    scores, ses, how = to_percent_arrays(part["v"], part["se"], part["pct"], part["bench"],
                                         lambda i: table.loc(int(k_all[i])) + suffix, units, name, report)
    if how == "fraction":
        report.note("scores read as 0-1 fractions and converted to percent (override with cape ingest --units percent)", name)
    return _emit_block(table, part, scores, ses, suffix, attrs, group, rows)


def _fast_rows(rows_k: np.ndarray, cols: dict, mp) -> dict:
    """The parsed cells of rows whose every cell reads without a report."""
    out: dict = {"k": rows_k}
    if "benchmark" in cols:  # benchmark and its fallback metric, once per distinct benchmark text
        bcodes, bvals = cols["benchmark"]
        bench_of = np.full(len(bvals), None, dtype=object)
        metric_of = np.full(len(bvals), None, dtype=object)
        for u, t in enumerate(bvals):
            if t is not _SLOW:
                bench_of[u] = t[0]
                metric_of[u] = t[1] or mp.metrics.get(t[0]) or mp.defaults.get("metric")
        bc = bcodes[rows_k]
        out["bench"], fallback = bench_of[bc], metric_of[bc]
    else:
        b = mp.defaults["benchmark"]
        out["bench"] = np.full(len(rows_k), b, dtype=object)
        fallback = np.full(len(rows_k), mp.metrics.get(b) or mp.defaults.get("metric"), dtype=object)
    scodes, svals = cols["score"]
    sv = np.zeros(len(svals), dtype=float)
    se0 = np.zeros(len(svals), dtype=float)
    sp = np.zeros(len(svals), dtype=bool)
    for u, t in enumerate(svals):
        if t is not _SLOW:
            sv[u], se0[u], sp[u] = t
    sc = scodes[rows_k]
    out["v"], out["se"], out["pct"] = sv[sc], se0[sc], sp[sc]
    if "stderr" in cols:
        ecodes, evals = cols["stderr"]
        ev = np.array([math.nan if t is _SLOW else t for t in evals], dtype=float)
        out["se"] = np.where(np.isfinite(out["se"]), out["se"], ev[ecodes[rows_k]])
    if "metric" in cols:
        mcodes, mvals = cols["metric"]
        mc = mcodes[rows_k]
        none = np.array([v is None for v in mvals], dtype=bool)
        out["metric"] = np.where(none[mc] if len(mvals) else np.zeros(len(mc), dtype=bool), fallback,
                                 _objects(mvals)[mc])
    else:
        out["metric"] = fallback
    if "shots" in cols:
        hcodes, hvals = cols["shots"]
        out["shots"] = _objects([None if t is _SLOW else t for t in hvals])[hcodes[rows_k]]
    else:
        per = {b: mp.shots.get(b, mp.defaults.get("shots")) for b in set(out["bench"].tolist())}
        out["shots"] = _objects([per[b] for b in out["bench"].tolist()])
    return out


def _objects(values: list) -> np.ndarray:
    """A 1-D object array of ``values`` (never a 2-D array of tuples)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _slow_rows(table: Table, ks: list[int], roles, ci, models, group, mp, report: ReportBuilder) -> dict:
    """Rows with a cell that is reported, read one by one in row order (the rules of a row-by-row pass)."""
    out: dict = {"k": [], "bench": [], "metric": [], "shots": [], "v": [], "se": [], "pct": []}
    state: dict = {"unknown": {}, "parsed": {}, "shots": {}}
    for k in ks:
        got = _slow_row(table, k, models[group[k]], roles, ci, mp, report, state)
        if got is not None:
            for key, val in zip(("k", "bench", "metric", "shots", "v", "se", "pct"), (k, *got)):
                out[key].append(val)
    for b, cnt in state["unknown"].items():
        if cnt > 3:
            report.drop(table.name, f"{cnt - 3} more row(s) of {b}", "not a benchmark CAPE knows")
    return out


def _slow_row(table: Table, k: int, model: str, roles, ci, mp, report: ReportBuilder, state: dict):
    """``(benchmark, metric, shots, score, stderr, marked percent)`` of row ``k``, or ``None`` when it is
    dropped; every problem reported."""
    name, loc = table.name, table.loc(k)
    if "benchmark" in ci:
        braw = table.cell(k, ci["benchmark"]).strip()
        if not braw:
            report.fault(name, loc, "has no benchmark name; not read", f"{name}: {loc} has an empty benchmark name")
            return None
        parsed = state["parsed"].get(braw, False)
        if parsed is False:
            parsed = state["parsed"][braw] = parse_bench_header(braw)
        if parsed is None or parsed[3]:
            _unknown_bench(name, loc, model, braw, state["unknown"], report)
            return None
        bench, metric, _, _ = parsed
    else:
        bench, metric = mp.defaults["benchmark"], None
    got = _score_cell(table.cell(k, ci["score"]), name, loc, roles["score"], report)
    if got is None:
        report.fault(name, f"{loc} ({model}, {bench})", "has no score; not read",
                     f"{name}: {loc} (model {model!r}, {bench}) has an empty score")
        return None
    v, se, pct = got
    if "stderr" in ci and not math.isfinite(se):
        se = _stderr_cell(table.cell(k, ci["stderr"]), name, loc, roles["stderr"], report)
    m = table.cell(k, ci["metric"]).strip() if "metric" in ci else ""
    metric = m if m and m.lower() not in EMPTY_CELLS else (metric or mp.metrics.get(bench)
                                                           or mp.defaults.get("metric"))
    if "shots" in ci:
        sc, cache = table.cell(k, ci["shots"]), state["shots"]
        shots = cache[sc] if sc in cache else _shots_cell(sc, name, loc, report)
        if sc not in cache and (shots is not None or not sc.strip()):
            cache[sc] = shots
    else:
        shots = mp.shots.get(bench, mp.defaults.get("shots"))
    return bench, metric, shots, v, se, pct


def _unknown_bench(name: str, loc: str, model: str, braw: str, unknown: dict, report: ReportBuilder) -> None:
    """A row naming a benchmark CAPE does not know: a likely typo is a fault, others are dropped (the first three
    of each name listed, the rest counted)."""
    near = near_benchmark(braw) if catalog.other_benchmark(braw) is None else None
    if near is not None and norm_key(near) not in norm_key(braw):
        report.fault(name, f"{loc} ({model}, {braw})",
                     f"not a benchmark CAPE knows (if it is {near}, rename it); not read",
                     f"{name}: {loc} has unknown benchmark {braw!r}; did you mean {near}?")
        return
    unknown[braw] = unknown.get(braw, 0) + 1
    if unknown[braw] <= 3:
        report.drop(name, f"{loc} ({model}, {braw})", "not a benchmark CAPE knows")


def _merge(fast: dict, slow: dict) -> dict:
    """Fast and slow rows together, in row order."""
    if not slow["k"]:
        return fast
    kinds = {"k": np.int64, "v": float, "se": float, "pct": bool}
    both = {key: np.concatenate([np.asarray(fast[key], dtype=kinds.get(key, object)),
                                 np.asarray(slow[key], dtype=kinds.get(key, object))]) for key in fast}
    order = np.argsort(both["k"], kind="stable")
    return {key: v[order] for key, v in both.items()}


def _emit_block(table: Table, part: dict, scores, ses, suffix: str, attrs, group, rows: Rows) -> int:
    """Append the kept scores (a cell dropped by the unit check is NaN) to ``rows`` as one block."""
    keep = np.flatnonzero(~np.isnan(scores))
    ks = np.asarray(part["k"], dtype=np.int64)[keep]
    g = group[ks]
    f = attrs.fields
    block: dict = {k: f[k][g] for k in ("model", "family", "lab", "is_base", "recipe", "date", "base_model",
                                        "model_type", "params")}
    block["source"] = _objects([s or table.name for s in f["source"].tolist()])[g]
    block["benchmark"] = part["bench"][keep]
    block["metric"] = part["metric"][keep]
    block["shots"] = np.asarray(part["shots"], dtype=object)[keep]
    block["score"] = scores[keep]
    block["stderr"] = ses[keep]
    n = len(keep)
    block["file"] = [table.name] * n
    block["loc"] = table.locs_at(ks, suffix)
    block["ts"] = np.full(n, math.nan)
    block["native"] = np.zeros(n, dtype=bool)
    rows.add_block(block)
    return n
