"""Reader for lm-evaluation-harness results files (v0.4.x ``results_<timestamp>.json``; v0.3 files too).

What it takes from a file:

* ``results`` (and ``groups`` in 0.4.0-0.4.2): one entry per task, metrics keyed ``"<metric>,<filter>"``
  (``"acc,none"``, ``"acc_norm,none"``, ``"exact_match,strict-match"``) with ``"<metric>_stderr,<filter>"``
  beside them (a number or ``"N/A"``). Scores are 0-1 fractions and are stored in percent.
* TruthfulQA: ``truthfulqa_mc1`` and ``truthfulqa_mc2`` both report under ``acc`` in v0.4; the task decides the
  variant, stored as metric ``mc1`` / ``mc2`` (never merged). v0.3 ``truthfulqa_mc`` reports ``mc1``/``mc2``.
* MMLU: the group aggregate ``mmlu`` is used when present; the 57 ``mmlu_<subject>`` entries are then not
  read. Without the group, all 57 subjects give a sample-weighted mean (weights from ``n-samples``).
* shots from ``n-shot`` (for a group: its subtasks' common value), model name from ``model_name`` or
  ``config.model_args`` (``pretrained=...``; a ``revision`` other than main is appended as ``name@revision``;
  a local path keeps its last component), parameters from ``config.model_num_parameters``.
* a run with a chat template gets ``+chat`` appended to its metric so that it is never pooled silently with
  plain runs.
* the run's time comes from the file name (``results_2024-05-01T12-00-00.123456.json``), else ``date``, else
  the file's modification time; when several runs score the same model, benchmark, metric and shots, the
  latest is kept (:func:`cape.ingest.read_any` applies the rule across files and reports it).

Example:
    >>> from cape.ingest import read_any
    >>> table, report = read_any("tests/data/ingest/lmeval")          # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import DataError
from .common import MMLU_SET, check_params, display, timestamp_from_name
from .report import ReportBuilder
from .rows import Rows

#: task name -> (benchmark, variant name replacing ``acc``/None)
TASKS: dict[str, tuple[str, str | None]] = {
    "hellaswag": ("HellaSwag", None),
    "arc_challenge": ("ARC-Challenge", None),
    "winogrande": ("WinoGrande", None),
    "mmlu": ("MMLU", None),
    "truthfulqa_mc1": ("TruthfulQA", "mc1"),
    "truthfulqa_mc2": ("TruthfulQA", "mc2"),
    "truthfulqa_mc": ("TruthfulQA", None),  # v0.3: metrics mc1 and mc2
    "gsm8k": ("GSM8K", None),
    "ifeval": ("IFEval", None),
    "leaderboard_ifeval": ("IFEval", None),
    "leaderboard_bbh": ("BBH", None),
    "leaderboard_gpqa_diamond": ("GPQA Diamond", None),
    "gpqa_diamond_zeroshot": ("GPQA Diamond", None),
    "gpqa_diamond_n_shot": ("GPQA Diamond", None),
    "leaderboard_mmlu_pro": ("MMLU-Pro", None),
    "mmlu_pro": ("MMLU-Pro", None),
    "leaderboard_math_hard": ("MATH Lvl 5", None),
    "leaderboard_musr": ("MuSR", None),
}
#: groups whose member tasks are covered by the group's own entry
GROUP_PREFIXES = {"mmlu": "mmlu_", "leaderboard_bbh": "leaderboard_bbh_", "leaderboard_math_hard": "leaderboard_math_",
                  "leaderboard_musr": "leaderboard_musr_", "mmlu_pro": "mmlu_pro_",
                  "leaderboard_mmlu_pro": "leaderboard_mmlu_pro_"}
#: groups that are not a single benchmark: they are dropped with this reason (their members are read)
UMBRELLAS = {
    "truthfulqa": "a group of TruthfulQA tasks; its members truthfulqa_mc1/mc2 are read on their own",
    "leaderboard": "the Open LLM Leaderboard v2 umbrella group; its member tasks are read on their own",
    "leaderboard_gpqa": "pools GPQA main, extended and diamond; it is not GPQA Diamond "
                        "(leaderboard_gpqa_diamond is read when present)",
    "ai2_arc": "a group of ARC-Easy and ARC-Challenge; arc_challenge is read on its own",
}
MMLU_SUBGROUPS = {"mmlu_humanities", "mmlu_stem", "mmlu_social_sciences", "mmlu_other"}
#: metric preference per benchmark: (metric, filter) in order; the first present is kept by default
PREFERRED: dict[str, tuple[tuple[str, str], ...]] = {
    "HellaSwag": (("acc_norm", "none"), ("acc", "none")),
    "ARC-Challenge": (("acc_norm", "none"), ("acc", "none")),
    "WinoGrande": (("acc", "none"),),
    "MMLU": (("acc", "none"),),
    "TruthfulQA": (("mc2", "none"), ("mc1", "none")),
    "GSM8K": (("exact_match", "strict-match"), ("exact_match", "flexible-extract"), ("exact_match", "none"),
              ("acc", "none")),
    "IFEval": (("prompt_level_strict_acc", "none"), ("inst_level_strict_acc", "none"),
               ("prompt_level_loose_acc", "none"), ("inst_level_loose_acc", "none")),
    "BBH": (("acc_norm", "none"), ("exact_match", "get-answer"), ("acc", "none")),
    "GPQA Diamond": (("acc_norm", "none"), ("acc", "none"), ("exact_match", "flexible-extract")),
    "MMLU-Pro": (("acc", "none"), ("exact_match", "custom-extract")),
    "MATH Lvl 5": (("exact_match", "none"), ("exact_match", "flexible-extract")),
    "MuSR": (("acc_norm", "none"), ("acc", "none")),
}
#: metrics that are 0-1 accuracies (others, e.g. bleu_max, are not scores CAPE can use)
ACCURACY_METRICS = {"acc", "acc_norm", "mc1", "mc2", "exact_match", "prompt_level_strict_acc",
                    "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc", "f1"}


def looks_like(blob: dict) -> bool:
    """True for an lm-eval results object: ``results`` maps task names to metric dicts."""
    res = blob.get("results")
    if not isinstance(res, dict) or not res:
        return False
    return not any("|" in str(k) for k in res)


def _parse_model_args(margs) -> dict:
    if isinstance(margs, dict):
        return {str(k): v for k, v in margs.items()}
    out = {}
    if isinstance(margs, str):
        for part in margs.split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def _clean_name(name: str) -> str:
    n = str(name).strip()
    if n.startswith(("/", "./", "../", "~")) or "\\" in n:
        n = n.rstrip("/\\").replace("\\", "/").split("/")[-1]
    return n


def _is_local(name: str) -> bool:
    n = str(name).strip()
    return n.startswith(("/", "./", "../", "~")) or "\\" in n


def model_identity(blob: dict, path: Path, report: ReportBuilder) -> str:
    """Model name of a results file (see the module docstring for the rules)."""
    name = display(path)
    cfg = blob.get("config") if isinstance(blob.get("config"), dict) else {}
    args = _parse_model_args(cfg.get("model_args"))
    pretrained = args.get("pretrained") or args.get("model") or args.get("path") or args.get("engine")
    model = blob.get("model_name") or pretrained
    if not model or not isinstance(model, str):
        parent = path.parent.name
        if "__" in parent:
            model = parent.replace("__", "/")
            report.note("model name taken from the folder name (the file has no model_name or "
                        "config.model_args pretrained=...)", name)
        else:
            raise DataError(f"{name}: has no model name (expected 'model_name' or config.model_args "
                            "'pretrained=...')")
    raw = str(model)
    from .identity import resolve_local_path

    legacy = resolve_local_path(raw, path) if _is_local(raw) else None
    if legacy is not None:
        model = legacy
        report.note(f"a local model path ending in a bare size ({raw.strip()}) named from its folders: {model}",
                    name)
    else:
        model = _clean_name(raw)
        if model != raw.strip():
            report.note("local model paths shortened to their last folder name", name)
    if args.get("peft"):
        model = f"{model}+{_clean_name(str(args['peft']))}"
    rev = args.get("revision")
    if rev and str(rev) not in ("main", "None", "null", ""):
        model = f"{model}@{rev}"
        report.note("models evaluated at a revision are named model@revision (checkpoints stay distinct)", name)
    return model


def _params(blob: dict, name: str, model: str, report: ReportBuilder) -> float:
    cfg = blob.get("config") if isinstance(blob.get("config"), dict) else {}
    v = cfg.get("model_num_parameters")
    if v is None or v == "":
        return math.nan
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise DataError(f"{name}: config.model_num_parameters is {v!r}; expected a whole number")
    try:
        p = float(v)
    except ValueError:
        raise DataError(f"{name}: config.model_num_parameters is {v!r}; expected a whole number") from None
    if p == -1 or p == 0:
        report.note("config.model_num_parameters is 0 or -1 (unknown, e.g. an API model); parameters left empty",
                    name)
        return math.nan
    return check_params(p, name, "config.model_num_parameters", model)


def _int(v) -> int | None:
    """A shot count: a whole, finite, non-negative number, else None (unknown)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if not math.isfinite(v) or v < 0 or v > 10_000 or v != int(v):
        return None
    return int(v)


def _shots(blob: dict, task: str, members: list[str]) -> int | None:
    nshot = blob.get("n-shot")
    if isinstance(nshot, dict):
        for m in members:
            v = _int(nshot.get(m))
            if v is not None:
                return v
        v = _int(nshot.get(task))
        if v is not None:
            return v
    cfgs = blob.get("configs")
    if isinstance(cfgs, dict) and isinstance(cfgs.get(task), dict):
        v = _int(cfgs[task].get("num_fewshot"))
        if v is not None:
            return v
    cfg = blob.get("config") if isinstance(blob.get("config"), dict) else {}
    return _int(cfg.get("num_fewshot"))  # v0.3


def _timestamp(blob: dict, path: Path) -> float:
    ts = timestamp_from_name(path.name)
    if math.isfinite(ts):
        return ts
    d = blob.get("date")
    if isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d):
        return float(d)
    try:
        return path.stat().st_mtime
    except OSError:
        return math.nan


def _metrics(entry: dict, variant: str | None) -> dict[tuple[str, str], tuple[object, object]]:
    """``{(metric, filter): (value, stderr)}`` of one task entry; ``acc`` renamed to the task's variant."""
    out: dict[tuple[str, str], list] = {}
    for k, v in entry.items():
        if k == "alias" or not isinstance(k, str):
            continue
        m, _, filt = k.partition(",")
        filt = filt or "none"
        if m.endswith("_stderr"):
            out.setdefault((m[:-7], filt), [None, None])[1] = v
        else:
            out.setdefault((m, filt), [None, None])[0] = v
    res = {}
    for (m, f), (val, se) in out.items():
        if val is None:
            continue
        if variant and m == "acc":
            m = variant
        res[(m, f)] = (val, se)
    return res


def _metric_label(m: str, f: str) -> str:
    return m if f in ("none", "", None) else f"{m},{f}"


def read(blob: dict, path: Path, rows: Rows, report: ReportBuilder, *, all_metrics: bool = False,
         family: str | None = None) -> int:
    """Read one lm-eval results object into ``rows``; returns the number of scores added."""
    name = display(path)
    results = blob.get("results")
    if not isinstance(results, dict) or not results:
        raise DataError(f"{name}: has no 'results' object (expected an lm-evaluation-harness results file)")
    groups = blob.get("groups")
    entries = dict(groups) if isinstance(groups, dict) else {}
    entries.update(results)
    model = model_identity(blob, path, report)
    params = _params(blob, name, model, report)
    ts = _timestamp(blob, path)
    cfg = blob.get("config") if isinstance(blob.get("config"), dict) else {}
    chat = bool(blob.get("chat_template")) or bool(cfg.get("apply_chat_template"))
    if chat:
        report.note("runs with a chat template have '+chat' appended to their metric (not pooled with plain "
                    "runs)", name)
    n_before = len(rows)

    present = entries.keys()
    covered: set[str] = set()
    for g, prefix in GROUP_PREFIXES.items():
        if g in entries:
            covered.update(t for t in present if t.startswith(prefix) and t not in TASKS)
    if "mmlu" in entries:
        covered.update(MMLU_SUBGROUPS & set(present))
        if any(t[5:] in MMLU_SET for t in covered if t.startswith("mmlu_")):
            report.note("MMLU read from the group aggregate 'mmlu'; its subject entries were not read again", name)

    # MMLU from subjects when the group is absent
    subj = {}
    if "mmlu" not in entries:
        for t in present:
            s = t[5:] if t.startswith("mmlu_") else t[14:] if t.startswith("hendrycksTest-") else None
            if s in MMLU_SET:
                subj[s] = t
    subj_tasks = set(subj.values())
    cands: dict[str, list] = {}
    for task in sorted(present):
        entry = entries[task]
        if task in covered or task in subj_tasks or (task in MMLU_SUBGROUPS and subj):
            continue
        if not isinstance(entry, dict):
            raise DataError(f"{name}: results.{task} is {type(entry).__name__}; expected an object of metrics")
        if task in UMBRELLAS:
            if any(k != "alias" and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in entry.items()):
                report.drop(name, f"task {task}", UMBRELLAS[task])
            else:
                report.note(f"group '{task}' has no score of its own; {UMBRELLAS[task].split('; ', 1)[-1]}", name)
            continue
        if task not in TASKS:
            report.drop(name, f"task {task}", "not a benchmark CAPE knows")
            continue
        bench, variant = TASKS[task]
        members = [t for t in covered if t.startswith(GROUP_PREFIXES[task])] if task in GROUP_PREFIXES else []
        shots = _shots(blob, task, members)
        _candidates(entry, task, bench, variant, shots, name, report, cands)
    for bench, cl in cands.items():
        _emit(bench, cl, model, params, ts, chat, name, rows, report, all_metrics, family)
    if subj:
        _mmlu_from_subjects(entries, subj, blob, model, params, ts, chat, name, rows, report, family)
    added = len(rows) - n_before
    if added == 0:
        from . import NothingUsable

        raise NothingUsable(f"{name}: has no score for a benchmark CAPE knows (tasks: "
                        f"{', '.join(sorted(present)[:8])}{' ...' if len(present) > 8 else ''})")
    return added


def _value(v, name: str, task: str, key: str) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise DataError(f"{name}: results.{task} '{key}' is {v!r}; expected a number between 0 and 1") \
                    from None
        else:
            raise DataError(f"{name}: results.{task} '{key}' is {v!r}; expected a number between 0 and 1")
    v = float(v)
    if math.isnan(v):
        return None
    if not math.isfinite(v) or v < 0:
        raise DataError(f"{name}: results.{task} '{key}' is {v!r}; expected a number between 0 and 1")
    if v > 1.0:
        raise DataError(f"{name}: results.{task} '{key}' is {v:g}; lm-eval scores are 0-1 fractions (percent "
                        "mixed into a harness file?)")
    return v


def _stderr(se) -> float:
    if isinstance(se, bool) or not isinstance(se, (int, float)):
        try:
            se = float(se)
        except (TypeError, ValueError):
            return math.nan
    se = float(se)
    return se * 100.0 if math.isfinite(se) and se >= 0 else math.nan


def _candidates(entry, task, bench, variant, shots, name, report, cands) -> None:
    """Collect the usable (0-1 accuracy) metrics of one task entry into ``cands[bench]``."""
    mets = _metrics(entry, variant)
    usable = [(k, v[0], v[1], task, shots) for k, v in mets.items() if k[0] in ACCURACY_METRICS]
    if not usable:
        found = ", ".join(sorted(_metric_label(*k) for k in mets)) or "none"
        report.drop(name, f"task {task}", f"no accuracy metric CAPE can use (found: {found})")
        return
    cands.setdefault(bench, []).extend(usable)


def _emit(bench, cl, model, params, ts, chat, name, rows, report, all_metrics, family):
    """Keep the preferred metric of ``bench`` among a file's candidates (every metric with ``all_metrics``)."""
    by_key: dict = {}
    for c in cl:
        if c[0] in by_key:
            report.drop(name, f"task {c[3]}", f"{bench} {_metric_label(*c[0])} is also reported by task "
                                              f"{by_key[c[0]][3]}, which was kept")
            continue
        by_key[c[0]] = c
    if all_metrics:
        chosen = list(by_key)
    else:
        pref = PREFERRED.get(bench, ())
        chosen = [k for k in pref if k in by_key][:1] or [sorted(by_key)[0]]
        others = sorted(_metric_label(*k) for k in by_key if k not in chosen)
        if others:
            report.note(f"{bench}: kept {_metric_label(*chosen[0])}; also in the file: {', '.join(others)} "
                        "(cape ingest --all-metrics keeps every variant)", name)
    for key in chosen:
        _, raw, se, task, shots = by_key[key]
        label = _metric_label(*key)
        v = _value(raw, name, task, f"{key[0]},{key[1]}")
        if v is None:
            report.drop(name, f"task {task} {label}", "value is NaN (no score)")
            continue
        rows.add(model=model, family=family, params=params, benchmark=bench, score=v * 100.0,
                 metric=label + ("+chat" if chat else ""), shots=shots, stderr=_stderr(se), source=name,
                 file=name, loc=f"results.{task}", ts=ts)


def _mmlu_from_subjects(entries, subj, blob, model, params, ts, chat, name, rows, report, family):
    if len(subj) < 57:
        report.drop(name, "MMLU subjects", f"only {len(subj)} of the 57 MMLU subjects and no 'mmlu' group "
                                           "aggregate; MMLU left out")
        return
    nsamp = blob.get("n-samples") if isinstance(blob.get("n-samples"), dict) else {}
    vals, ses, ws = [], [], []
    for s, t in sorted(subj.items()):
        entry = entries[t]
        mets = _metrics(entry if isinstance(entry, dict) else {}, None)
        if ("acc", "none") not in mets:
            report.drop(name, "MMLU subjects", f"subject {t} has no acc; MMLU left out")
            return
        raw, se = mets[("acc", "none")]
        v = _value(raw, name, t, "acc,none")
        if v is None:
            report.drop(name, "MMLU subjects", f"subject {t} is NaN; MMLU left out")
            return
        vals.append(v)
        ses.append(_stderr(se) / 100.0)
        n = nsamp.get(t, {}) if isinstance(nsamp.get(t), dict) else {}
        w = n.get("effective") or n.get("original")
        ws.append(float(w) if isinstance(w, (int, float)) and w and w > 0 else math.nan)
    if all(math.isfinite(w) for w in ws):
        tot = sum(ws)
        wts = [w / tot for w in ws]
        how = "sample-weighted"
    else:
        wts = [1.0 / 57] * 57
        how = "unweighted"
    score = sum(w * v for w, v in zip(wts, vals))
    se = math.sqrt(sum((w * s) ** 2 for w, s in zip(wts, ses))) if all(math.isfinite(s) for s in ses) \
        else math.nan
    report.note(f"MMLU computed as the {how} mean of the 57 subjects (the file has no 'mmlu' group aggregate)",
                name)
    shots = _shots(blob, "mmlu", list(subj.values()))
    rows.add(model=model, family=family, params=params, benchmark="MMLU", score=score * 100.0,
             metric="acc" + ("+chat" if chat else ""), shots=shots, stderr=se * 100.0, source=name, file=name,
             loc="results.mmlu_*", ts=ts)
