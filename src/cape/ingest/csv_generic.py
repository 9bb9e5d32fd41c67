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
from .common import (EMPTY_CELLS, CellError, check_params, display, near_benchmark, norm_key, param_unit_factor,
                     parse_params, parse_score, unit_from_header)
from .report import ReportBuilder
from .rows import Rows
from .table import Table
from .units import ScoreCells, to_percent

ROLES = ("model", "family", "params", "benchmark", "score", "metric", "shots", "stderr", "source", "lab",
         "is_base", "recipe", "date", "base_model", "model_type")
#: normalised header keys recognised for each role, in priority order
ROLE_KEYS: dict[str, tuple[str, ...]] = {
    "model": ("model", "modelname", "fullname", "modelid", "name", "models", "modelversion"),
    "family": ("family", "modelfamily"),
    "benchmark": ("benchmark", "task", "bench", "benchmarkname", "taskname"),
    "score": ("score", "value", "accuracy", "result", "performance", "scorepct", "scorepercent"),
    "metric": ("metric", "metricname", "variant"),
    "shots": ("shots", "nshot", "nshots", "numfewshot", "fewshot", "kshot", "shot"),
    "stderr": ("stderr", "se", "standarderror", "stderror", "scorestderr"),
    "source": ("source", "reference", "citation"),
    "lab": ("lab", "organization", "organisation", "org", "developer"),
    "is_base": ("isbase", "base", "pretrained"),
    "recipe": ("recipe", "datarecipe"),
    "date": ("date", "releasedate", "release", "released"),
    "base_model": ("basemodel", "basemodelid", "parentmodel", "finetunedfrom"),
    "model_type": ("modeltype", "type", "modelkind"),
}
#: normalised parameter-column names: params, #Params (B), params_b, Parameters, Model Size (B), model_size,
#: metadata_params_billions, model_num_parameters, num_params, total_params (M)
_PARAMS_KEY = re.compile(r"^(metadata)?(model)?(n|num|number|total)?(of)?(param(eter)?s?|size)(count)?"
                         r"(inb|inm)?(b|bn|billions?|m|mn|millions?|raw)?$")
_METRIC_SUFFIX = re.compile(r"[\s_\-(\[]*(acc_norm|accnorm|acc|accuracy|mc1|mc2|exact_match|em|f1|normalized|"
                            r"normalised|raw)[)\]]?$")
_METRIC_NAMES = {"accnorm": "acc_norm", "accuracy": "acc", "em": "exact_match", "normalised": "normalized"}
_SHOTS_IN_NAME = re.compile(r"[\s_\-(\[]*(\d+)[\s_\-]?shots?[)\]]?")
_SE_SUFFIX = re.compile(r"[\s_\-(\[]*(stderr|std_err|std\.?\s*err(?:or)?|standard\s*error|se|sem|±)[)\]]?$")
_NAN_TEXT = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"})


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

def parse_bench_header(col: str) -> tuple[str, str | None, int | None, bool] | None:
    """``(benchmark, metric, shots, is_stderr)`` for a wide column name, or ``None`` when it names no
    benchmark. ``"TruthfulQA_MC1"`` -> ("TruthfulQA", "mc1", None, False); ``"HellaSwag (10-shot) SE"`` ->
    ("HellaSwag", None, 10, True)."""
    low = col.strip().lower()
    if catalog.other_benchmark(low) is not None:
        return None
    is_se = False
    m = _SE_SUFFIX.search(low)
    if m and m.start() > 0:
        is_se = True
        low = low[:m.start()]
    shots = None
    m = _SHOTS_IN_NAME.search(low)
    if m:
        shots = int(m.group(1))
        low = (low[:m.start()] + low[m.end():]).strip(" _-")
    metric = None
    b = None
    m = _METRIC_SUFFIX.search(low)
    if m and m.start() > 0:
        rest = low[:m.start()]
        b = catalog.lookup(rest)
        if b is not None:
            metric = _METRIC_NAMES.get(m.group(1), m.group(1))
    if b is None:
        b = catalog.lookup(low)
        if b is None:
            return None
        if b.name == "TruthfulQA":
            metric = "mc1" if "mc1" in low else "mc2" if "mc2" in low else None
    return b.name, metric, shots, is_se


def _find_role(header: list[str], role: str, used: set[str]) -> str | None:
    keys = {h: norm_key(h) for h in header if h not in used}
    if role == "params":
        for h, k in keys.items():
            if _PARAMS_KEY.match(k):
                return h
        return None
    for want in ROLE_KEYS[role]:
        for h, k in keys.items():
            if k == want:
                return h
    return None


# ----------------------------------------------------------------------------------------------- reader

def _is_empty(cell: str) -> bool:
    return cell.strip().lower() in EMPTY_CELLS


def _shots_cell(cell: str, name: str, loc: str, report: ReportBuilder) -> int | None:
    s = cell.strip().lower()
    if s in EMPTY_CELLS:
        return None
    m = re.match(r"^(\d+)(?:\.0+)?\s*(?:-?\s*shots?)?$", s)
    if m:
        return int(m.group(1))
    if s in ("few", "few-shot", "fewshot", "k"):
        report.note("shots given as 'few' (no number) are left empty", name)
        return None
    if s in ("zero", "zero-shot", "zeroshot"):
        return 0
    report.fault(name, f"{loc} shots", f"{cell.strip()!r} is not a whole number of shots; left empty",
                 f"{name}: {loc} has shots {cell!r}; expected a whole number")
    return None


_TRUE = {"true", "1", "yes", "y", "base", "pretrained", "t"}
_FALSE = {"false", "0", "no", "n", "instruct", "chat", "f", "it"}


def _bool_cell(cell: str, name: str, loc: str, report: ReportBuilder):
    s = cell.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    if s in EMPTY_CELLS or s in ("nan", "<na>"):
        return None
    report.fault(name, f"{loc} is_base", f"{cell.strip()!r} is not true or false; left empty",
                 f"{name}: {loc} has is_base {cell!r}; expected true or false")
    return None


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
        n = _read_long(table, roles, mp, rows, report, units, pu)
        fmt = "csv-long"
    else:
        n = _read_wide(table, roles, used, mp, rows, report, units, pu)
        fmt = "csv-wide"
    return n, fmt


def _attrs(table: Table, roles: dict[str, str], mp: Mapping, report: ReportBuilder, pu: str | None):
    """Per-row model attributes (params resolved to raw counts); ``None`` for a row that is dropped."""
    from ..scores import normalize_model_type

    name = table.name
    idx = {r: table.col(c) for r, c in roles.items()}
    out: list[dict | None] = []
    pvals: list[tuple[int, float, float | None]] = []
    # rows repeating a model's attribute cells (a long table) share one parsed record
    cols = sorted(idx[r] for r in ("model", "family", "lab", "recipe", "date", "source", "base_model", "is_base",
                                   "model_type", "params") if r in idx)
    seen: dict[tuple, dict] = {}
    for k, (rec, loc) in enumerate(zip(table.rows, table.locs)):
        key = tuple(rec[i] for i in cols)
        hit = seen.get(key)
        if hit is not None:
            out.append(hit)
            continue
        model = rec[idx["model"]].strip()
        if not model or model.lower() in EMPTY_CELLS:
            report.fault(name, loc, "has no model name; not read", f"{name}: {loc} has an empty model name")
            out.append(None)
            continue
        a = {"model": model}
        for r in ("family", "lab", "recipe", "date", "source", "base_model"):
            v = rec[idx[r]].strip() if r in idx else ""
            a[r] = v if v and v.lower() not in EMPTY_CELLS else mp.defaults.get(r)
        a["is_base"] = _bool_cell(rec[idx["is_base"]], name, loc, report) if "is_base" in idx \
            else mp.defaults.get("is_base")
        a["model_type"] = mp.defaults.get("model_type")
        if "model_type" in idx and rec[idx["model_type"]].strip():
            a["model_type"] = normalize_model_type(rec[idx["model_type"]])
            if a["model_type"] is None:
                report.fault(name, f"{loc} {roles['model_type']}", f"{rec[idx['model_type']].strip()!r} is not a "
                             "model type (pretrained, fine-tuned, chat, merge, moe); left empty")
        a["params"] = math.nan
        if "params" in idx:
            got = _param_cell(rec[idx["params"]], name, loc, roles["params"], model, report)
            if got is not None:
                pvals.append((k, *got))
        out.append(a)
        seen[key] = a
    if pvals:
        _resolve_params(table, roles["params"], pvals, out, report, pu)
    return out


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


def _resolve_params(table: Table, col: str, pvals, out, report: ReportBuilder, pu: str | None) -> None:
    name = table.name
    factor = param_unit_factor(pu, where="--params-unit")
    how = "given"
    if factor is None:
        factor = unit_from_header(col)
        how = f"from the column name {col!r}"
    if factor is None:
        bare = [v for _, v, m in pvals if m is None]
        mx = max(bare) if bare else 0.0
        if not bare:
            factor = 1.0
        elif mx < 1e4:
            factor, how = 1e9, "billions (every value below 1e4)"
        elif mx < 1e7:
            factor, how = 1e6, "millions (every value below 1e7)"
        else:
            factor, how = 1.0, "raw counts"
        if bare and factor != 1.0:
            report.note(f"parameter column {col!r} read as {how}; override with cape ingest --params-unit raw|M|B", name)
    elif factor != 1.0:
        report.note(f"parameter column {col!r} read as {'billions' if factor == 1e9 else 'millions'} ({how})", name)
    for k, v, mult in pvals:
        raw = v if mult is not None else v * factor
        loc = f"{table.locs[k]}, column {col!r}"
        try:
            out[k]["params"] = check_params(raw, name, loc, out[k]["model"])
        except DataError as e:
            report.fault(name, f"{table.locs[k]} ({out[k]['model']}) size",
                         f"{_after_model(str(e))}; size left empty (taken from the name if it has one)", str(e))


def _after_model(msg: str) -> str:
    i = msg.find(") has ")
    return msg[i + 2:] if i >= 0 else msg


def _score_cell(cell: str, name: str, loc: str, col: str, report: ReportBuilder) -> tuple[float, float, bool] | None:
    """A parsed score cell; ``None`` for an empty cell or (dropped with its reason) an unreadable one."""
    s = cell.strip()
    if s.lower() in _NAN_TEXT:
        report.fault(name, f"{loc}, column {col!r}", f"{s!r} is not a score; cell not read",
                     f"{name}: {loc}, column {col!r} is {s!r}, not a score; leave the cell empty when a model was "
                     "not measured")
        return None
    if s.lower() in EMPTY_CELLS:
        return None
    try:
        return parse_score(s)
    except CellError as e:
        report.fault(name, f"{loc}, column {col!r}", f"{e}; cell not read", f"{name}: {loc}, column {col!r}: {e}")
        return None


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
    attrs = _attrs(table, roles, mp, report, pu)
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


def _read_long(table, roles, mp, rows, report, units, pu) -> int:
    name = table.name
    attrs = _attrs(table, roles, mp, report, pu)
    ci = {r: table.col(c) for r, c in roles.items()}
    cells = ScoreCells()
    meta = []
    unknown: dict[str, int] = {}
    parsed_bench: dict[str, object] = {}
    shot_cells: dict[str, int | None] = {}
    for k, (rec, loc) in enumerate(zip(table.rows, table.locs)):
        if attrs[k] is None:
            continue
        if "benchmark" in ci:
            braw = rec[ci["benchmark"]].strip()
            if not braw:
                report.fault(name, loc, "has no benchmark name; not read", f"{name}: {loc} has an empty benchmark name")
                continue
            parsed = parsed_bench.get(braw, False)
            if parsed is False:
                parsed = parsed_bench[braw] = parse_bench_header(braw)
            if parsed is None or parsed[3]:
                near = near_benchmark(braw) if catalog.other_benchmark(braw) is None else None
                if near is not None and norm_key(near) not in norm_key(braw):
                    report.fault(name, f"{loc} ({attrs[k]['model']}, {braw})",
                                 f"not a benchmark CAPE knows (if it is {near}, rename it); not read",
                                 f"{name}: {loc} has unknown benchmark {braw!r}; did you mean {near}?")
                    continue
                unknown[braw] = unknown.get(braw, 0) + 1
                if unknown[braw] <= 3:
                    report.drop(name, f"{loc} ({attrs[k]['model']}, {braw})", "not a benchmark CAPE knows")
                continue
            bench, metric, _, _ = parsed
        else:
            bench, metric = mp.defaults["benchmark"], None
        got = _score_cell(rec[ci["score"]], name, loc, roles["score"], report)
        if got is None:
            report.fault(name, f"{loc} ({attrs[k]['model']}, {bench})", "has no score; not read",
                         f"{name}: {loc} (model {attrs[k]['model']!r}, {bench}) has an empty score")
            continue
        v, se, pct = got
        if "stderr" in ci and not math.isfinite(se):
            se = _stderr_cell(rec[ci["stderr"]], name, loc, roles["stderr"], report)
        m = rec[ci["metric"]].strip() if "metric" in ci else ""
        metric = m if m and m.lower() not in EMPTY_CELLS else (metric or mp.metrics.get(bench)
                                                               or mp.defaults.get("metric"))
        if "shots" in ci:
            sc = rec[ci["shots"]]
            shots = shot_cells[sc] if sc in shot_cells else _shots_cell(sc, name, loc, report)
            if sc not in shot_cells and (shots is not None or not sc.strip()):
                shot_cells[sc] = shots
        else:
            shots = mp.shots.get(bench, mp.defaults.get("shots"))
        cells.add(v, se, pct, bench, f"{loc}, column {roles['score']!r}")
        meta.append((k, bench, metric, shots))
    for b, n in unknown.items():
        if n > 3:
            report.drop(name, f"{n - 3} more row(s) of {b}", "not a benchmark CAPE knows")
    if not meta:
        raise DataError(f"{name}: no row names a benchmark CAPE knows")
    scores, ses, how = to_percent(cells, units, name, report)
    if how == "fraction":
        report.note("scores read as 0-1 fractions and converted to percent (override with cape ingest --units percent)", name)
    return _emit(meta, scores, ses, cells.locs, attrs, rows, name)



def _stderr_cell(cell: str, name: str, loc: str, col: str, report: ReportBuilder) -> float:
    sc = cell.strip()
    if not sc or sc.lower() in EMPTY_CELLS or sc.lower() in _NAN_TEXT:
        return math.nan
    try:
        return parse_score(sc)[0]
    except CellError as e:
        report.fault(name, f"{loc}, column {col!r}", f"{e}; standard error left empty",
                     f"{name}: {loc}, column {col!r}: {e}")
        return math.nan


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
