"""Readers for the Open LLM Leaderboard: v1 per-model results JSON and the v2 ``contents`` table.

**v1** (archived June 2024; ``<org>/<model>/results_<timestamp>.json``): ``results`` is keyed
``"harness|<task>|<shots>"``. Read: ARC-Challenge (25-shot, ``acc_norm``), HellaSwag (10-shot, ``acc_norm``),
TruthfulQA (0-shot, ``mc2``; ``mc1`` kept distinct with ``all_metrics``), WinoGrande (5-shot, ``acc``), GSM8K
(5-shot), and MMLU = the unweighted mean of the 57 ``hendrycksTest-<subject>`` accuracies (the leaderboard's
definition; refused when a subject is missing or the file carries the wrong MMLU version 0). v1 scores are raw
0-1 fractions (the leaderboard never normalised v1), stored in percent. ``all`` (the average) is not a benchmark.
NaN values (seen in some TruthfulQA mc2 entries) are dropped with a reason.

**v2** (``open-llm-leaderboard/contents``, CSV or Parquet): one row per evaluated model (``fullname``) with
normalised scores (0-100, random baseline subtracted) in ``IFEval, BBH, MATH Lvl 5, MUSR, MMLU-PRO`` and raw
0-1 scores in the ``... Raw`` columns. The metric column says which: ``normalized`` or ``raw``; by default the
normalised score (what the leaderboard shows) is kept, ``all_metrics`` keeps both. ``GPQA`` pools the main,
extended and diamond sets, so it is not stored as GPQA Diamond. ``#Params (B)`` is in billions; ``Type`` gives
``is_base``; flagged models are dropped. The older flattened layout (``ifeval, ifeval_raw, ..., params_b, precision,
base_model, not_merged``) is read the same way. Lineage: ``Type`` gives ``model_type`` (pretrained, fine-tuned,
chat, merge; a pretrained mixture of experts is ``moe``; "continuously pretrained" counts as fine-tuned, since it
starts from another model), ``Base Model`` gives ``base_model``; a model evaluated in several precisions is read
once (:data:`PRECISION_ORDER`, the others listed as dropped). Sizes 0 or -1 mean unknown.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import DataError
from .common import MMLU_SET, check_params, display, timestamp_from_name
from .report import ReportBuilder
from .rows import Rows
from .table import Table

V1_TASKS = {"arc:challenge": "ARC-Challenge", "hellaswag": "HellaSwag", "truthfulqa:mc": "TruthfulQA",
            "winogrande": "WinoGrande", "gsm8k": "GSM8K"}
V1_PREFERRED = {"ARC-Challenge": ("acc_norm", "acc"), "HellaSwag": ("acc_norm", "acc"), "TruthfulQA": ("mc2", "mc1"),
                "WinoGrande": ("acc",), "GSM8K": ("acc",), "MMLU": ("acc",)}


def looks_like_v1(blob: dict) -> bool:
    res = blob.get("results")
    if not isinstance(res, dict):
        return False
    from itertools import islice

    return any(isinstance(k, str) and k.count("|") == 2 for k in islice(res, 4))


def _v1_model(blob: dict, path: Path) -> str:
    for sect in ("config_general", "config"):
        c = blob.get(sect)
        if isinstance(c, dict) and isinstance(c.get("model_name"), str) and c["model_name"].strip():
            return c["model_name"].strip()
    if path.parent.parent.name and path.parent.name:
        return f"{path.parent.parent.name}/{path.parent.name}"
    raise DataError(f"{display(path)}: has no model name (expected config_general.model_name)")


def _num(v, name: str, key: str, metric: str) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DataError(f"{name}: results[{key!r}].{metric} is {v!r}; expected a number between 0 and 1")
    v = float(v)
    if math.isnan(v):
        return None
    if not math.isfinite(v) or v < 0 or v > 1:
        raise DataError(f"{name}: results[{key!r}].{metric} is {v:g}; leaderboard v1 scores are 0-1 fractions")
    return v


def _se(v) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0:
        return float(v) * 100.0
    return math.nan


def read_v1(blob: dict, path: Path, rows: Rows, report: ReportBuilder, *, all_metrics: bool = False) -> int:
    """Read one Open LLM Leaderboard v1 results object into ``rows``; returns the number of scores added."""
    name = display(path)
    results = blob["results"]
    model = _v1_model(blob, path)
    ts = _v1_time(blob, path)
    versions = blob.get("versions") if isinstance(blob.get("versions"), dict) else {}
    n0 = len(rows)
    mmlu: dict[str, tuple[float | None, float, int]] = {}
    mmlu_keys: list[str] = []
    for key in sorted(results):
        entry = results[key]
        if key == "all":
            continue
        parts = key.split("|")
        if len(parts) != 3:
            report.drop(name, f"entry {key}", "not a 'harness|task|shots' key")
            continue
        _, task, shots_s = parts
        try:
            shots = int(shots_s)
        except ValueError:
            raise DataError(f"{name}: results key {key!r} has shots {shots_s!r}; expected a whole number") from None
        if not isinstance(entry, dict):
            raise DataError(f"{name}: results[{key!r}] is {type(entry).__name__}; expected an object of metrics")
        if task.startswith("hendrycksTest-"):
            subj = task[len("hendrycksTest-"):]
            if subj in MMLU_SET:
                if "acc" not in entry:
                    raise DataError(f"{name}: results[{key!r}] has no 'acc'; expected the subject's accuracy")
                mmlu[subj] = (_num(entry["acc"], name, key, "acc"), _se(entry.get("acc_stderr")), shots)
                mmlu_keys.append(key)
                continue
        bench = V1_TASKS.get(task)
        if bench is None:
            report.drop(name, f"task {task}", "not a benchmark CAPE knows")
            continue
        avail = [m for m in V1_PREFERRED[bench] if m in entry]
        if not avail:
            report.drop(name, f"task {task}", f"none of the metrics {', '.join(V1_PREFERRED[bench])} in the entry")
            continue
        chosen = avail if all_metrics else avail[:1]
        if len(avail) > len(chosen):
            report.note(f"{bench}: kept {chosen[0]}; also in the file: {', '.join(avail[1:])} (cape ingest --all-metrics keeps "
                        "every variant)", name)
        for m in chosen:
            v = _num(entry[m], name, key, m)
            if v is None:
                report.drop(name, f"{bench} {m}", "value is NaN in the leaderboard file (no score)")
                continue
            rows.add(model=model, benchmark=bench, score=v * 100.0, metric=m, shots=shots,
                     stderr=_se(entry.get(f"{m}_stderr")), source=name, file=name, loc=f"results[{key!r}]", ts=ts)
    if mmlu:
        _v1_mmlu(mmlu, [k for k in mmlu_keys if versions.get(k) == 0], model, name, ts, rows, report)
    added = len(rows) - n0
    if added == 0:
        from . import NothingUsable

        raise NothingUsable(f"{name}: has no score for a benchmark CAPE knows (entries: "
                        f"{', '.join(sorted(results)[:6])})")
    return added


def _v1_time(blob: dict, path: Path) -> float:
    """The run's time: from the file name, else the config's end or start time, else the file's mtime."""
    ts = timestamp_from_name(path.name)
    if not math.isfinite(ts):
        cg = blob.get("config_general") if isinstance(blob.get("config_general"), dict) else {}
        et = cg.get("end_time") or cg.get("start_time")
        ts = float(et) if isinstance(et, (int, float)) and not isinstance(et, bool) else path.stat().st_mtime
    return ts


def _v1_mmlu(mmlu: dict, wrong: list[str], model: str, name: str, ts: float, rows: Rows,
             report: ReportBuilder) -> None:
    """MMLU from the 57 hendrycksTest subjects (the leaderboard's unweighted mean), or the reason it is dropped
    (``wrong``: subject keys carrying the wrong MMLU version)."""
    if wrong:
        report.drop(name, "MMLU", "the file carries MMLU version 0 (the leaderboard's wrong MMLU version, which it "
                                  "skipped)")
    elif len(mmlu) < 57:
        report.drop(name, "MMLU", f"only {len(mmlu)} of the 57 hendrycksTest subjects; MMLU needs all 57")
    elif any(v is None for v, _, _ in mmlu.values()):
        bad = sorted(s for s, (v, _, _) in mmlu.items() if v is None)
        report.drop(name, "MMLU", f"subject {bad[0]} is NaN; MMLU needs all 57")
    else:
        vals = [v for v, _, _ in mmlu.values()]
        ses = [s for _, s, _ in mmlu.values()]
        shots_set = {k for _, _, k in mmlu.values()}
        se = math.sqrt(sum(s * s for s in ses)) / 57 if all(math.isfinite(s) for s in ses) else math.nan
        rows.add(model=model, benchmark="MMLU", score=100.0 * sum(vals) / 57, metric="acc",
                 shots=shots_set.pop() if len(shots_set) == 1 else None, stderr=se, source=name, file=name,
                 loc="results['harness|hendrycksTest-*']", ts=ts)
        report.note("MMLU = unweighted mean of the 57 hendrycksTest subjects (the leaderboard v1 definition)", name)


# ----------------------------------------------------------------------------------------------- v2 contents

#: v2 score column (normalised key) -> (benchmark or None when refused, shots)
V2_BENCH = {"ifeval": ("IFEval", 0), "bbh": ("BBH", 3), "mathlvl5": ("MATH Lvl 5", 4), "gpqa": (None, 0),
            "musr": ("MuSR", 0), "mmlupro": ("MMLU-Pro", 5)}
V2_GPQA_REASON = ("v2 GPQA pools the main, extended and diamond sets; it is not GPQA Diamond, the only GPQA "
                  "CAPE stores")
#: role -> normalised header keys, for the leaderboard's own export and the older flattened layout
V2_ROLES = {"model": ("fullname",), "params": ("paramsb", "#paramsb"), "type": ("type",),
            "flagged": ("flagged",), "precision": ("precision",), "base_model": ("basemodel",),
            "merged": ("merged",), "not_merged": ("notmerged",), "moe": ("moe",),
            "date": ("uploadtohubdate", "submissiondate")}
#: evaluations of one model in several precisions: the first of these is kept (then the first listed)
PRECISION_ORDER = ("bfloat16", "float16", "float32")


def _norm(h: str) -> str:
    return re.sub(r"[^a-z0-9]", "", h.lower())


def _v2_columns(header: list[str]) -> dict[str, tuple[int, str]]:
    """normalised key -> (index, column) for a v2 table's header."""
    return {_norm(c): (i, c) for i, c in enumerate(header)}


def looks_like_v2(header: list[str]) -> bool:
    keys = _v2_columns(header)
    return "fullname" in keys and sum(k in keys or f"{k}raw" in keys for k in V2_BENCH) >= 2


def _flag(cell: str) -> bool:
    return cell.strip().lower() in ("true", "1", "yes")


def _v2_score_columns(h, name, report, all_metrics):
    bcols = []
    for key, (bench, shots) in V2_BENCH.items():
        for k, metric in ((key, "normalized"), (f"{key}raw", "raw")):
            if k not in h:
                continue
            i, col = h[k]
            if bench is None:
                report.drop(name, f"column {col}", V2_GPQA_REASON)
                continue
            if metric == "raw" and not all_metrics:
                continue
            bcols.append((i, col, bench, shots, metric))
    if not all_metrics and any(f"{k}raw" in h for k in V2_BENCH):
        report.note("leaderboard v2: kept the normalized scores (metric 'normalized'); the raw 0-1 columns were "
                    "not read (cape ingest --all-metrics keeps both, metric 'raw')", name)
    if not bcols:
        raise DataError(f"{name}: no score columns of the leaderboard v2 (expected IFEval, BBH, MATH Lvl 5, MUSR, "
                        "MMLU-PRO)")
    return bcols


def _pick_precisions(table: Table, im: int, ipr: int | None, name: str, report: ReportBuilder) -> set[int]:
    """Row indices to read: one evaluation per model (case-insensitive), by :data:`PRECISION_ORDER`."""
    by: dict[str, list[int]] = {}
    for k, rec in enumerate(table.rows):
        by.setdefault(rec[im].strip().lower(), []).append(k)

    def rank(k: int) -> tuple[int, int]:
        p = table.rows[k][ipr].strip().lower() if ipr is not None else ""
        return (PRECISION_ORDER.index(p) if p in PRECISION_ORDER else len(PRECISION_ORDER), k)

    keep: set[int] = set()
    n_dup = 0
    for ks in by.values():
        best = min(ks, key=rank)
        keep.add(best)
        for k in ks:
            if k == best:
                continue
            n_dup += 1
            rec = table.rows[k]
            p = rec[ipr].strip() if ipr is not None else "?"
            pb = table.rows[best][ipr].strip() if ipr is not None else "?"
            report.drop(name, f"{table.locs[k]} ({rec[im].strip()}, {p})",
                        f"another evaluation of this model ({pb}, {table.locs[best]}) was kept: one precision per "
                        f"model, in the order {', '.join(PRECISION_ORDER)}, then others, then the first listed")
    if n_dup:
        report.note(f"leaderboard v2: {n_dup} extra evaluation(s) of models listed in several precisions were "
                    f"dropped (kept per model: {' > '.join(PRECISION_ORDER)} > others; first listed on a tie)", name)
    return keep


def _lineage(rec, h, model: str) -> tuple[str | None, str | None]:
    """(base_model, model_type) of a v2 row."""
    from ..scores import normalize_model_type

    mtype = None
    if "type" in h:
        mtype = normalize_model_type(rec[h["type"][0]]) if rec[h["type"][0]].strip() else None
    flattened = "notmerged" in h
    merged = ("merged" in h and _flag(rec[h["merged"][0]])) or (
        flattened and rec[h["notmerged"][0]].strip().lower() in ("false", "0", "no"))
    if merged and mtype in (None, "unknown", "pretrained"):
        mtype = "merge"
    # the flattened layout stores the negations (true = not a mixture of experts, true = not flagged)
    if mtype == "pretrained" and "moe" in h and _flag(rec[h["moe"][0]]) != flattened:
        mtype = "moe"
    base = None
    if "basemodel" in h:
        b = re.sub(r"\s*\((merge|adapter|delta|finetune|fine-tune|quantized)\)\s*$", "",
                   rec[h["basemodel"][0]].strip(), flags=re.I)
        base = b or None
    return base, mtype


def read_v2(table: Table, rows: Rows, report: ReportBuilder, *, all_metrics: bool = False) -> int:
    """Read an Open LLM Leaderboard v2 contents table (the leaderboard's export or the flattened layout with
    ``params_b``, ``base_model``, ``not_merged``); returns the number of scores added."""
    name = table.name
    h = _v2_columns(table.header)
    im = h["fullname"][0]
    ip = h.get("paramsb")
    ipr = h["precision"][0] if "precision" in h else None
    idt = h.get("uploadtohubdate", h.get("submissiondate"))
    bcols = _v2_score_columns(h, name, report, all_metrics)
    keep = _pick_precisions(table, im, ipr, name, report)
    if "notmerged" in h:
        report.note("leaderboard v2, flattened layout: its 'flagged' and 'moe' columns hold the negations (true = "
                    "not flagged, not a mixture of experts), as the same models in the leaderboard's own export "
                    "show; read that way", name)
    n0 = len(rows)
    unknown_size = 0
    for k, (rec, loc) in enumerate(zip(table.rows, table.locs)):
        if k not in keep:
            continue
        model = rec[im].strip()
        if not model:
            report.fault(name, loc, "has an empty fullname (the model name); not read",
                         f"{name}: {loc} has an empty fullname (the model name)")
            continue
        if "flagged" in h and _flag(rec[h["flagged"][0]]) != ("notmerged" in h):
            report.drop(name, f"{loc} ({model})", "flagged on the leaderboard")
            continue
        params = _v2_params(rec, ip, name, loc, model, report)
        if params is None:
            unknown_size += 1
            params = math.nan
        base, mtype = _lineage(rec, h, model)
        date = None
        if idt is not None:
            m = re.match(r"\d{4}-\d{2}-\d{2}", rec[idt[0]].strip())
            date = m.group(0) if m else None
        for i, col, bench, shots, metric in bcols:
            v = _v2_score(rec[i], name, loc, model, col, metric, report)
            if v is None:
                continue
            rows.add(model=model, params=params, benchmark=bench, score=v, metric=metric, shots=shots,
                     source=name, is_base=None, date=date, file=name, loc=f"{loc}, column {col!r}",
                     base_model=base, model_type=mtype)
    if unknown_size:
        report.note(f"leaderboard v2: {unknown_size} model(s) list no usable size (0, -1 or empty: unknown); "
                    "their size comes from the name when it has one", name)
    added = len(rows) - n0
    if added == 0:
        from . import NothingUsable

        raise NothingUsable(f"{name}: no scores in the leaderboard v2 table (every row was empty, flagged or a "
                            "duplicate)")
    return added


def _v2_params(rec, ip, name: str, loc: str, model: str, report: ReportBuilder) -> float | None:
    if ip is None or not rec[ip[0]].strip():
        return None
    cell = rec[ip[0]].strip()
    try:
        pb = float(cell)
    except ValueError:
        report.fault(name, f"{loc} ({model}) size", f"{ip[1]} {cell!r} is not a number of billions; size left "
                     "empty", f"{name}: {loc} has {ip[1]!r} {cell!r}; expected a number of billions")
        return None
    if not math.isfinite(pb) or pb <= 0:
        return None
    try:
        return check_params(pb * 1e9, name, f"{loc}, column {ip[1]!r}", model)
    except DataError as e:
        report.fault(name, f"{loc} ({model}) size", f"{ip[1]} {cell!r} is implausible; size left empty", str(e))
        return None


def _v2_score(cell: str, name: str, loc: str, model: str, col: str, metric: str, report: ReportBuilder):
    cell = cell.strip()
    if not cell:
        return None
    try:
        v = float(cell)
    except ValueError:
        report.fault(name, f"{loc} ({model}) {col}", f"{cell!r} is not a number; cell not read",
                     f"{name}: {loc}, column {col!r} is {cell!r}; expected a number")
        return None
    if math.isnan(v):
        report.drop(name, f"{loc} ({model}) {col}", "value is NaN (no score)")
        return None
    if metric == "raw":
        if not 0 <= v <= 1:
            report.fault(name, f"{loc} ({model}) {col}", f"raw score {v:g} is outside 0-1; cell not read",
                         f"{name}: {loc}, column {col!r} is {v:g}; raw v2 scores are 0-1 fractions")
            return None
        return v * 100.0
    if v < 0:
        report.drop(name, f"{loc} ({model}) {col}", f"normalized score {v:g} is below 0 (below the random baseline)")
        return None
    if v > 100:
        report.fault(name, f"{loc} ({model}) {col}", f"normalized score {v:g} is above 100; cell not read",
                     f"{name}: {loc}, column {col!r} is {v:g}; normalized v2 scores are 0-100")
        return None
    return v
