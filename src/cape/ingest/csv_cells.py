"""Column names and cells of generic score tables: which role or benchmark a column holds, and the text of
one cell read as a score, a standard error, a number of shots or a yes/no flag (each problem reported with the
cell's location)."""

from __future__ import annotations

import math
import re

from .. import catalog
from .common import EMPTY_CELLS, CellError, norm_key, parse_score
from .report import ReportBuilder

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
