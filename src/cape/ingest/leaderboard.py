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
``is_base``; flagged models are dropped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import DataError
from .common import MMLU_SET, Rows, Table, check_params, display, timestamp_from_name
from .report import ReportBuilder

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
    ts = timestamp_from_name(path.name)
    if not math.isfinite(ts):
        cg = blob.get("config_general") if isinstance(blob.get("config_general"), dict) else {}
        et = cg.get("end_time") or cg.get("start_time")
        ts = float(et) if isinstance(et, (int, float)) and not isinstance(et, bool) else path.stat().st_mtime
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
            report.note(f"{bench}: kept {chosen[0]}; also in the file: {', '.join(avail[1:])} (--all-metrics keeps "
                        "every variant)", name)
        for m in chosen:
            v = _num(entry[m], name, key, m)
            if v is None:
                report.drop(name, f"{bench} {m}", "value is NaN in the leaderboard file (no score)")
                continue
            rows.add(model=model, benchmark=bench, score=v * 100.0, metric=m, shots=shots,
                     stderr=_se(entry.get(f"{m}_stderr")), source=name, file=name, loc=f"results[{key!r}]", ts=ts)
    if mmlu:
        wrong = [k for k in mmlu_keys if versions.get(k) == 0]
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
    added = len(rows) - n0
    if added == 0:
        from . import NothingUsable

        raise NothingUsable(f"{name}: has no score for a benchmark CAPE knows (entries: "
                        f"{', '.join(sorted(results)[:6])})")
    return added


# ----------------------------------------------------------------------------------------------- v2 contents

#: v2 column -> (benchmark or None when refused, shots)
V2_BENCH = {"IFEval": ("IFEval", 0), "BBH": ("BBH", 3), "MATH Lvl 5": ("MATH Lvl 5", 4), "GPQA": (None, 0),
            "MUSR": ("MuSR", 0), "MMLU-PRO": ("MMLU-Pro", 5)}
V2_GPQA_REASON = ("v2 GPQA pools the main, extended and diamond sets; it is not GPQA Diamond, the only GPQA "
                  "CAPE stores")


def looks_like_v2(header: list[str]) -> bool:
    hs = set(header)
    return "fullname" in hs and sum(c in hs or f"{c} Raw" in hs for c in V2_BENCH) >= 2


def _is_base(t: str):
    s = t.lower()
    if "pretrained" in s:
        return True
    if any(w in s for w in ("chat", "fine-tuned", "finetuned", "merge", "instruct", "rlhf")):
        return False
    return None


def read_v2(table: Table, rows: Rows, report: ReportBuilder, *, all_metrics: bool = False) -> int:
    """Read an Open LLM Leaderboard v2 contents table; returns the number of scores added."""
    name = table.name
    h = {c: i for i, c in enumerate(table.header)}
    im = h["fullname"]
    ip = h.get("#Params (B)")
    it = h.get("Type")
    ifl = h.get("Flagged")
    idt = h.get("Upload To Hub Date", h.get("Submission Date"))
    bcols = []
    for col, (bench, shots) in V2_BENCH.items():
        for c, metric in ((col, "normalized"), (f"{col} Raw", "raw")):
            if c not in h:
                continue
            if bench is None:
                report.drop(name, f"column {c}", V2_GPQA_REASON)
                continue
            if metric == "raw" and not all_metrics:
                continue
            bcols.append((h[c], c, bench, shots, metric))
    if not all_metrics and any(f"{c} Raw" in h for c in V2_BENCH):
        report.note("leaderboard v2: kept the normalized scores (metric 'normalized'); the raw 0-1 columns were "
                    "not read (--all-metrics keeps both, metric 'raw')", name)
    if not bcols:
        raise DataError(f"{name}: no score columns of the leaderboard v2 (expected IFEval, BBH, MATH Lvl 5, MUSR, "
                        "MMLU-PRO)")
    n0 = len(rows)
    seen: dict[str, str] = {}
    zero_params = 0
    for rec, loc in zip(table.rows, table.locs):
        model = rec[im].strip()
        if not model:
            raise DataError(f"{name}: {loc} has an empty fullname (the model name)")
        if model in seen:
            report.drop(name, f"{loc} ({model})", f"another evaluation of this model ({seen[model]} kept; the "
                                                  "leaderboard lists each precision separately)")
            continue
        seen[model] = loc
        if ifl is not None and rec[ifl].strip().lower() in ("true", "1", "yes"):
            report.drop(name, f"{loc} ({model})", "flagged on the leaderboard")
            continue
        params = math.nan
        if ip is not None and rec[ip].strip():
            try:
                pb = float(rec[ip])
            except ValueError:
                raise DataError(f"{name}: {loc} has '#Params (B)' {rec[ip]!r}; expected a number of billions") \
                    from None
            if pb == 0:
                zero_params += 1
            else:
                params = check_params(pb * 1e9, name, f"{loc}, column '#Params (B)'", model)
        is_base = _is_base(rec[it]) if it is not None else None
        date = None
        if idt is not None:
            m = re.match(r"\d{4}-\d{2}-\d{2}", rec[idt].strip())
            date = m.group(0) if m else None
        for i, col, bench, shots, metric in bcols:
            cell = rec[i].strip()
            if not cell:
                continue
            try:
                v = float(cell)
            except ValueError:
                raise DataError(f"{name}: {loc}, column {col!r} is {cell!r}; expected a number") from None
            if math.isnan(v):
                report.drop(name, f"{loc} ({model}) {col}", "value is NaN (no score)")
                continue
            if metric == "raw":
                if not 0 <= v <= 1:
                    raise DataError(f"{name}: {loc}, column {col!r} is {v:g}; raw v2 scores are 0-1 fractions")
                v *= 100.0
            elif v < 0:
                report.drop(name, f"{loc} ({model}) {col}", f"normalized score {v:g} is below 0 (below the random "
                                                            "baseline)")
                continue
            elif v > 100:
                raise DataError(f"{name}: {loc}, column {col!r} is {v:g}; normalized v2 scores are 0-100")
            rows.add(model=model, params=params, benchmark=bench, score=v, metric=metric, shots=shots,
                     source=name, is_base=is_base, date=date, file=name, loc=f"{loc}, column {col!r}")
    if zero_params:
        report.note(f"leaderboard v2: {zero_params} model(s) list 0 parameters (unknown); left empty", name)
    added = len(rows) - n0
    if added == 0:
        from . import NothingUsable

        raise NothingUsable(f"{name}: no scores in the leaderboard v2 table (every row was empty, flagged or a "
                        "duplicate)")
    return added
