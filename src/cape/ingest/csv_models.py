"""Model attributes of generic score tables (name, family, size, lab, lineage ...), parsed once per distinct
combination of a row's attribute cells: a long table repeats each model's cells on every one of its rows, and
those rows share one parsed record (and one report of any problem in it)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from ..scores import MAX_PARAMS, MIN_PARAMS
from .common import EMPTY_CELLS, CellError, check_params, param_unit_factor, parse_params, unit_from_header
from .csv_cells import _FALSE, _TRUE, _bool_cell, _is_empty
from .report import ReportBuilder
from .table import Table

_ATTR_ROLES = ("model", "family", "lab", "recipe", "date", "source", "base_model", "is_base", "model_type", "params")
_TEXT_ROLES = ("family", "lab", "recipe", "date", "source", "base_model")


def row_groups(table: Table, cols: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``(group, first)``: for each row, the number of its combination of texts in columns ``cols`` (numbered
    in order of first appearance), and for each combination the first row holding it."""
    import pandas as pd

    n = len(table)
    group = np.zeros(n, dtype=np.int64)
    for j in cols:
        codes, uniq = table.codes(j)
        group = pd.factorize(group * (len(uniq) + 1) + codes)[0].astype(np.int64)
    first = np.unique(group, return_index=True)[1].astype(np.int64)  # groups are numbered 0, 1, ... in order
    return group, first


class Attrs:
    """Model attributes per row group (see :func:`model_attrs`): ``fields[f][g]`` is field ``f`` of group ``g``
    (``params`` a float array, the rest objects); ``dropped[g]`` is True for a group without a model name."""

    def __init__(self, fields: dict[str, np.ndarray], dropped: np.ndarray):
        self.fields = fields
        self.dropped = dropped

    def record(self, g: int) -> dict | None:
        """The attributes of group ``g`` as a dict, or ``None`` when it is dropped."""
        if self.dropped[g]:
            return None
        return {f: (float(v[g]) if f == "params" else v[g]) for f, v in self.fields.items()}


def _objects(values: list) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


_SLOW = object()


def _per_group(table: Table, j: int, first: np.ndarray, fn) -> np.ndarray:
    """``fn`` of column ``j``'s text at each group's first row, computed once per distinct text."""
    codes, vals = table.codes(j)
    return _objects([fn(v) for v in vals])[codes[first]]


def _bool_value(cell: str):
    s = cell.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None if s in EMPTY_CELLS or s in ("nan", "<na>") else _SLOW


def _param_value(cell: str):
    if _is_empty(cell):
        return None
    try:
        v, mult = parse_params(cell)
    except CellError:
        return _SLOW
    return _SLOW if v <= 0 else (v, mult)


def model_attrs(table: Table, roles: dict[str, str], mp, report: ReportBuilder, pu: str | None
                ) -> tuple[np.ndarray, Attrs]:
    """Model attributes of every row: ``(group, attrs)``, row ``k`` having the attributes of group
    ``group[k]`` (params resolved to raw counts); a group without a model name is dropped.

    Each distinct text is parsed once; a group with a cell that is reported (an unreadable size, a bad
    is_base ...) is read at its first row, in row order, so problems are reported exactly as a row-by-row pass
    reports them; a row without a model name is reported every time.
    """
    from ..scores import normalize_model_type

    idx = {r: table.col(c) for r, c in roles.items()}
    group, first = row_groups(table, sorted(idx[r] for r in _ATTR_ROLES if r in idx))
    ng = len(first)
    model = _per_group(table, idx["model"], first, str.strip)
    dropped = np.array([not m or m.lower() in EMPTY_CELLS for m in model], dtype=bool)
    fields: dict[str, np.ndarray] = {"model": model}
    for r in _TEXT_ROLES:
        dflt = mp.defaults.get(r)
        fields[r] = _per_group(table, idx[r], first, lambda t, d=dflt: t.strip() if t.strip() and t.strip().lower()
                               not in EMPTY_CELLS else d) if r in idx else _objects([dflt] * ng)
    fields["is_base"] = (_per_group(table, idx["is_base"], first, _bool_value) if "is_base" in idx
                         else _objects([mp.defaults.get("is_base")] * ng))
    dtype = mp.defaults.get("model_type")
    fields["model_type"] = (_per_group(table, idx["model_type"], first,
                                       lambda t: (normalize_model_type(t) or _SLOW) if t.strip() else dtype)
                            if "model_type" in idx else _objects([dtype] * ng))
    pcell = (_per_group(table, idx["params"], first, _param_value) if "params" in idx
             else _objects([None] * ng))
    slow = np.zeros(ng, dtype=bool)
    for arr in (fields["is_base"], fields["model_type"], pcell):
        slow |= np.fromiter((v is _SLOW for v in arr), dtype=bool, count=ng)
    slow &= ~dropped
    visit = np.union1d(first[slow], np.flatnonzero(dropped[group])) if dropped.any() else first[slow]
    for k in visit.tolist():
        loc, g = table.loc(k), int(group[k])
        if dropped[g]:
            report.fault(table.name, loc, "has no model name; not read", f"{table.name}: {loc} has an empty model name")
            continue
        a = _record(table, k, loc, idx, roles, mp, report)
        for f in ("is_base", "model_type"):
            fields[f][g] = a[f]
        got = None
        if "params" in idx:
            got = _param_cell(table.cell(k, idx["params"]), table.name, loc, roles["params"], a["model"], report)
        pcell[g] = got
    fields["params"] = np.full(ng, math.nan)
    has = np.flatnonzero(~dropped & np.fromiter((v is not None for v in pcell), dtype=bool, count=ng))
    if len(has):
        vals = [pcell[g] for g in has.tolist()]
        raw = _resolve_params(table, roles["params"], first[has], np.array([v for v, _ in vals], dtype=float),
                              np.array([math.nan if m is None else m for _, m in vals], dtype=float),
                              model[has], report, pu)
        fields["params"][has] = raw
    return group, Attrs(fields, dropped)


def _record(table: Table, k: int, loc: str, idx: dict, roles: dict, mp, report: ReportBuilder) -> dict:
    """The attributes of row ``k`` except its size, each problem reported."""
    from ..scores import normalize_model_type

    name = table.name
    a: dict = {"model": table.cell(k, idx["model"]).strip()}
    a["is_base"] = _bool_cell(table.cell(k, idx["is_base"]), name, loc, report) if "is_base" in idx \
        else mp.defaults.get("is_base")
    a["model_type"] = mp.defaults.get("model_type")
    if "model_type" in idx and table.cell(k, idx["model_type"]).strip():
        raw = table.cell(k, idx["model_type"])
        a["model_type"] = normalize_model_type(raw)
        if a["model_type"] is None:
            report.fault(name, f"{loc} {roles['model_type']}", f"{raw.strip()!r} is not a "
                         "model type (pretrained, fine-tuned, chat, merge, moe); left empty")
    return a


#: parameter cells that mean "unknown": 0, -1 and the like
def _param_cell(cell: str, name: str, loc: str, col: str, model: str, report: ReportBuilder):
    """``(value, multiplier)`` of a parameter cell, or ``None`` when empty, a sentinel or unparseable (the
    latter two dropped with a reason: the row keeps its scores, its size comes from the name if it has one)."""
    if _is_empty(cell):
        return None
    try:
        v, mult = parse_params(cell)
    except CellError as e:
        report.fault(name, f"{loc} ({model}) size", f"{e}; size left empty (taken from the name if it has one)",
                     f"{name}: {loc}, column {col!r}: {e}")
        return None
    if v <= 0:
        report.fault(name, f"{loc} ({model}) size", f"size {cell.strip()!r} is a placeholder for unknown; size "
                     "left empty (taken from the name if it has one)",
                     f"{name}: {loc} (model {model!r}) has parameter count {cell.strip()!r}; expected a positive "
                     "number")
        return None
    return v, mult


def _resolve_params(table: Table, col: str, ks: np.ndarray, v: np.ndarray, mult: np.ndarray, models,
                    report: ReportBuilder, pu: str | None) -> np.ndarray:
    """Raw parameter counts of the size cells at rows ``ks`` (number ``v``, unit multiplier ``mult`` or NaN) in
    the column's unit: given, named in the column, or inferred from the values; NaN where implausible (each
    reported, in row order)."""
    name = table.name
    factor = param_unit_factor(pu, where="--params-unit")
    how = "given"
    if factor is None:
        factor = unit_from_header(col)
        how = f"from the column name {col!r}"
    if factor is None:
        bare = v[np.isnan(mult)]
        mx = float(bare.max()) if len(bare) else 0.0
        if not len(bare):
            factor = 1.0
        elif mx < 1e4:
            factor, how = 1e9, "billions (every value below 1e4)"
        elif mx < 1e7:
            factor, how = 1e6, "millions (every value below 1e7)"
        else:
            factor, how = 1.0, "raw counts"
        if len(bare) and factor != 1.0:
            report.note(f"parameter column {col!r} read as {how}; override with cape ingest --params-unit raw|M|B", name)
    elif factor != 1.0:
        report.note(f"parameter column {col!r} read as {'billions' if factor == 1e9 else 'millions'} ({how})", name)
    raw = np.where(np.isnan(mult), v * factor, v)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(raw) | (raw <= 0) | (raw > MAX_PARAMS) | (raw < MIN_PARAMS)
    for i in np.flatnonzero(bad).tolist():
        k = int(ks[i])
        try:
            check_params(float(raw[i]), name, f"{table.loc(k)}, column {col!r}", models[i])
        except DataError as e:
            report.fault(name, f"{table.loc(k)} ({models[i]}) size",
                         f"{_after_model(str(e))}; size left empty (taken from the name if it has one)", str(e))
    raw[bad] = math.nan
    return raw


def _after_model(msg: str) -> str:
    i = msg.find(") has ")
    return msg[i + 2:] if i >= 0 else msg
