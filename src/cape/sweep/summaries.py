"""Aggregates over a folder of per-model results: computed from the files, never typed.

* :func:`summarize_heads`: the share of models with zero significantly competing heads (Wilson interval), the
  same for the threshold-only count and for "100% cooperative", per family, per size and per coupling phase;
* :func:`summarize_layers`: the share of models with an anticorrelated layer (per-layer contrast coupling
  below zero), with the same breakdowns;
* :func:`summarize_steering`: the share of models whose steering vector raised the held-out truthfulness margin
  (bootstrap interval above zero), with the same breakdowns.

A model's *phase* comes from benchmark scores (the embedded base-model cohort unless a score table is given):
the phase of the local coupling gamma_12 (HellaSwag -> TruthfulQA) of the size step ending at that model in its
family (tax, transition or bonus; the smallest model of a family has none). The relation between the internal
result and the phase is the share per phase and Fisher's exact test of tax vs bonus.

Example:
    >>> s = summarize_heads("results/")                 # doctest: +SKIP
    >>> s.zero_competing.k, s.zero_competing.n           # doctest: +SKIP
    (38, 40)
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cape.errors import DataError

__all__ = [
    "Proportion",
    "SIZE_BINS",
    "SweepSummary",
    "model_phases",
    "proportion",
    "read_folder",
    "summarize_heads",
    "summarize_layers",
    "summarize_steering",
]

#: Size classes (upper bounds in parameters) used by the per-size breakdown.
SIZE_BINS: tuple[tuple[str, float], ...] = (("< 1B", 1e9), ("1B-10B", 1e10), (">= 10B", math.inf))


@dataclass(frozen=True)
class Proportion:
    """``k`` of ``n`` with the Wilson 95% interval (``share``, ``low``, ``high`` are fractions; ``None`` if n = 0)."""

    k: int
    n: int
    share: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        if not self.n:
            return "0 of 0"
        return f"{self.k}/{self.n} = {100 * self.share:.0f}% [{100 * self.low:.1f}%, {100 * self.high:.1f}%]"


def proportion(k: int, n: int) -> Proportion:
    """``k`` of ``n`` with its Wilson score interval (z = 1.96).

    Example:
        >>> p = proportion(38, 40)
        >>> round(p.low, 3), round(p.high, 3)
        (0.835, 0.986)
    """
    if n == 0:
        return Proportion(0, 0, None, None, None)
    from cape.paper.claim import wilson_interval

    lo, hi = wilson_interval(k, n)
    return Proportion(int(k), int(n), k / n, lo, hi)


@dataclass(frozen=True)
class SweepSummary:
    """An aggregate over the models of a results folder.

    Attributes:
        kind: ``"heads"``, ``"layers"`` or ``"steer_eval"``.
        folder: The folder read.
        outcome: What is counted, in words (e.g. "zero significantly competing heads").
        models: One row per model (id, table name, family, parameters, size class, phase, gamma and the counted
            fields), in the order read.
        overall: The main proportion; ``extra``: other proportions over the same models (e.g. the threshold-only
            count).
        by_family, by_size, by_phase: The main proportion per group.
        phase_test: Fisher's exact test of the main outcome, tax vs bonus models (``None`` with an empty group).
        failures: Failure records found in the folder (model, reason).
        warnings: Files skipped and settings that differ between files.
    """

    kind: str
    folder: str
    outcome: str
    models: tuple[dict[str, Any], ...]
    overall: Proportion
    extra: dict[str, Proportion]
    by_family: dict[str, Proportion]
    by_size: dict[str, Proportion]
    by_phase: dict[str, Proportion]
    phase_test: dict[str, Any] | None
    failures: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        from cape.internals.measures import as_jsonable

        groups = lambda d: {k: v.to_dict() for k, v in d.items()}  # noqa: E731
        return as_jsonable({
            "kind": self.kind, "folder": self.folder, "outcome": self.outcome, "n_models": len(self.models),
            "overall": self.overall.to_dict(), "extra": groups(self.extra), "by_family": groups(self.by_family),
            "by_size": groups(self.by_size), "by_phase": groups(self.by_phase), "phase_test": self.phase_test,
            "models": list(self.models), "failures": list(self.failures), "warnings": list(self.warnings),
        })

    def to_frame(self):
        """One row per model."""
        import pandas as pd

        return pd.DataFrame(list(self.models))

    def summary(self) -> str:
        """Plain-text summary for papers and logs."""
        lines = [f"{len(self.models)} models in {self.folder}: {self.outcome}: {self.overall.text()}"]
        lines += [f"  {name}: {p.text()}" for name, p in self.extra.items()]
        for title, groups in (("family", self.by_family), ("size", self.by_size), ("phase", self.by_phase)):
            lines.append(f"  by {title}: " + "; ".join(f"{g} {p.k}/{p.n}" for g, p in groups.items()))
        if self.phase_test:
            lines.append(f"  tax vs bonus: Fisher exact p = {self.phase_test['p_value']:.3g}")
        lines += [f"  failed: {f['model_id']} ({f.get('reason')})" for f in self.failures]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- reading
def read_folder(folder: str | Path, kind: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Result payloads of ``kind`` under ``folder`` (recursively), and warnings for unreadable JSON files.

    Raises:
        DataError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder of result files.")
    out, warnings = [], []
    for path in sorted(folder.rglob("*.json")):
        if path.name.endswith(".failed.json"):
            continue
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            warnings.append(f"{path.name}: not readable JSON, skipped ({exc}).")
            continue
        if isinstance(payload, dict) and (payload.get("kind") or payload.get("analysis")) == kind:
            payload["_file"] = path.name
            out.append(payload)
    return out, warnings


def _model_id(payload: dict[str, Any]) -> str:
    return str((payload.get("provenance") or {}).get("model_id") or payload.get("model_id") or payload["_file"])


def _one_setting(payloads: list[dict[str, Any]], key: Callable[[dict], Any], what: str
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Keep the files of the most common setting (and the newest file per model); say what was left out."""
    if not payloads:
        return [], []
    groups = Counter(json.dumps(key(p), sort_keys=True, default=str) for p in payloads)
    best, _ = groups.most_common(1)[0]
    kept = [p for p in payloads if json.dumps(key(p), sort_keys=True, default=str) == best]
    warnings = []
    if len(groups) > 1:
        left = len(payloads) - len(kept)
        warnings.append(f"{left} {what} file(s) computed with other settings were left out (summaries never mix "
                        "settings); give a folder with one sweep's results to include them.")
    by_model: dict[str, dict[str, Any]] = {}
    for p in kept:
        by_model[_model_id(p)] = p
    if len(by_model) < len(kept):
        warnings.append(f"{len(kept) - len(by_model)} duplicate result(s) of the same model were counted once.")
    return list(by_model.values()), warnings


# ---------------------------------------------------------------------------------------------- phases
def model_phases(scores: Any = None, *, scheme: str = "nature", pair: str = "HS:TQA") -> dict[str, dict[str, Any]]:
    """Phase and gamma_12 of every model in a score table, keyed by lower-cased model name.

    Args:
        scores: A :class:`~cape.scores.ScoreTable` (default: the embedded base-model cohort).
        scheme: Phase thresholds (see :class:`cape.coupling.PhaseScheme`).
        pair: The benchmark pair.

    Returns:
        ``{name.lower(): {"phase", "gamma", "family"}}`` for models whose family has at least two sized models.
    """
    if scores is None:
        return dict(_embedded_phases(scheme, pair))
    return _phases(scores, scheme, pair)


@functools.lru_cache(maxsize=8)
def _embedded_phases(scheme: str, pair: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    from cape import data

    return tuple(_phases(data.load_base(include_instruct=False), scheme, pair).items())


def _phases(table: Any, scheme: str, pair: str) -> dict[str, dict[str, Any]]:
    from cape.coupling import local_coupling
    from cape.errors import CapeError

    out: dict[str, dict[str, Any]] = {}
    for fam in sorted(table.long["family"].dropna().unique()):
        try:
            fc = local_coupling(table, pair, family=fam, scheme=scheme)
        except CapeError:
            continue
        gammas = {iv.upper: iv.gamma for iv in fc.intervals}
        for m, ph in fc.model_phases.items():
            out[str(m).lower()] = {"phase": ph, "gamma": gammas.get(m), "family": fam}
    return out


def _size_class(params: float | None) -> str:
    if params is None or not math.isfinite(params):
        return "unknown"
    return next(name for name, upper in SIZE_BINS if params < upper)


def _base_row(payload: dict[str, Any], phases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from cape.sweep.models import model_info

    model_id = _model_id(payload)
    info = model_info(model_id, (payload.get("provenance") or {}).get("n_params"))
    ph = None
    for key in (info.name, info.hf_id, model_id, Path(model_id).name):
        if key and key.lower() in phases:
            ph = phases[key.lower()]
            break
    return {"model_id": model_id, "name": info.name, "family": info.family, "params": info.params,
            "size": _size_class(info.params), "phase": ph["phase"] if ph else None,
            "gamma": ph["gamma"] if ph else None, "file": payload["_file"]}


def _groups(rows: Sequence[dict[str, Any]], flag: str, by: str) -> dict[str, Proportion]:
    keys = sorted({str(r[by]) if r[by] is not None else "unknown" for r in rows},
                  key=lambda k: ([n for n, _ in SIZE_BINS] + ["unknown"]).index(k) if by == "size" else k)
    out = {}
    for key in keys:
        sub = [r for r in rows if (str(r[by]) if r[by] is not None else "unknown") == key]
        out[key] = proportion(sum(bool(r[flag]) for r in sub), len(sub))
    return out


def _fisher(rows: Sequence[dict[str, Any]], flag: str) -> dict[str, Any] | None:
    tax = [bool(r[flag]) for r in rows if r["phase"] == "tax"]
    bonus = [bool(r[flag]) for r in rows if r["phase"] == "bonus"]
    if not tax or not bonus:
        return None
    from scipy.stats import fisher_exact

    table = [[sum(tax), len(tax) - sum(tax)], [sum(bonus), len(bonus) - sum(bonus)]]
    res = fisher_exact(table)
    odds = float(res.statistic)
    return {"table": table, "rows": ["tax", "bonus"], "columns": ["yes", "no"],
            "odds_ratio": odds if math.isfinite(odds) else None, "p_value": float(res.pvalue)}


def _build(kind: str, folder: Path, outcome: str, rows: list[dict[str, Any]], flag: str, extra: dict[str, str],
           warnings: list[str]) -> SweepSummary:
    from cape.sweep.resume import read_failures

    kind_of = {"heads": "heads", "layers": "layers", "steer_eval": "steer_eval"}[kind]
    failures = tuple({"model_id": f.get("model_id"), "reason": f.get("reason"), "attempts": len(f.get("attempts") or [])}
                     for f in read_failures(folder) if f.get("task_kind") == kind_of
                     and f.get("model_id") not in {r["model_id"] for r in rows})
    return SweepSummary(
        kind=kind, folder=str(folder), outcome=outcome, models=tuple(rows),
        overall=proportion(sum(bool(r[flag]) for r in rows), len(rows)),
        extra={name: proportion(sum(bool(r[key]) for r in rows), len(rows)) for name, key in extra.items()},
        by_family=_groups(rows, flag, "family"), by_size=_groups(rows, flag, "size"),
        by_phase=_groups(rows, flag, "phase"), phase_test=_fisher(rows, flag), failures=failures,
        warnings=tuple(warnings),
    )


def _start(folder: str | Path, kind: str, scores: Any, scheme: str, setting_key, what: str):
    payloads, warnings = read_folder(folder, kind)
    payloads, more = _one_setting(payloads, setting_key, what)
    if not payloads:
        raise DataError(f"{folder}: no {what} result files (write them with `cape sweep` or `cape {what} -o DIR`).")
    phases = model_phases(scores, scheme=scheme)
    return payloads, warnings + more, phases


# ---------------------------------------------------------------------------------------------- summaries
def summarize_heads(folder: str | Path, *, scores: Any = None, scheme: str = "nature") -> SweepSummary:
    """Share of models with zero significantly competing heads, and its breakdowns.

    Args:
        folder: A folder of ``*.heads.json`` files (``cape sweep heads`` / ``cape heads -o``).
        scores: Score table for the phases (default: the embedded base-model cohort).
        scheme: Phase thresholds.

    Returns:
        :class:`SweepSummary` whose ``overall`` counts models with zero heads below the competing threshold *and*
        the permutation null; ``extra`` holds the threshold-only count and "100% cooperative".
    """
    payloads, warnings, phases = _start(folder, "heads", scores, scheme,
                                        lambda p: (p.get("provenance") or {}).get("settings") or p.get("measure"),
                                        "heads")
    rows = []
    for p in payloads:
        s = p.get("summary") or {}
        rows.append({**_base_row(p, phases), "n_units": s.get("n_units"), "n_competing": s.get("n_competing"),
                     "n_competing_raw": s.get("n_competing_raw"), "pct_cooperative": s.get("pct_cooperative"),
                     "net": s.get("net"), "median_cosine": s.get("median_cosine"),
                     "zero_competing": bool(s.get("zero_competing")),
                     "zero_competing_raw": bool(s.get("zero_competing_raw")),
                     "all_cooperative": bool(s.get("all_cooperative"))})
    return _build("heads", Path(folder), "zero significantly competing heads", rows, "zero_competing",
                  {"zero competing heads (threshold only)": "zero_competing_raw",
                   "100% cooperative heads": "all_cooperative"}, warnings)


def summarize_layers(folder: str | Path, *, scores: Any = None, scheme: str = "nature",
                     measure: str = "contrast") -> SweepSummary:
    """Share of models with an anticorrelated layer (per-layer coupling below zero under ``measure``)."""
    payloads, warnings, phases = _start(folder, "layers", scores, scheme,
                                        lambda p: (p.get("provenance") or {}).get("settings"), "layers")
    rows = []
    for p in payloads:
        lc = (p.get("layer_coupling") or {}).get(measure) or {}
        cos = [c for c in (lc.get("cosine") or []) if c is not None]
        rows.append({**_base_row(p, phases), "n_layers": len(cos), "min_layer": min(cos) if cos else None,
                     "early": lc.get("early"), "mid": lc.get("mid"), "late": lc.get("late"),
                     "anticorrelated_layer": bool(cos) and min(cos) < 0,
                     "late_below_early": (lc.get("late") is not None and lc.get("early") is not None
                                          and lc["late"] < lc["early"])})
    return _build("layers", Path(folder), f"a layer with {measure} coupling below 0", rows, "anticorrelated_layer",
                  {"late-third coupling below early-third": "late_below_early"}, warnings)


def summarize_steering(folder: str | Path, *, scores: Any = None, scheme: str = "nature") -> SweepSummary:
    """Share of models whose steering raised the held-out truthfulness margin (bootstrap CI above zero)."""
    payloads, warnings, phases = _start(folder, "steer_eval", scores, scheme,
                                        lambda p: (p.get("provenance") or {}).get("settings") or p.get("settings"),
                                        "steering")
    rows = []
    for p in payloads:
        mc = p.get("mc") or {}
        ci = mc.get("margin_diff_ci") or [None, None]
        rows.append({**_base_row(p, phases), "layers": p.get("layers"), "strength": p.get("strength"),
                     "margin_diff": mc.get("margin_diff"), "ci_low": ci[0], "ci_high": ci[1],
                     "accuracy_unsteered": mc.get("accuracy_unsteered"), "accuracy_steered": mc.get("accuracy_steered"),
                     "intervention_rate": p.get("intervention_rate"),
                     "more_truthful": ci[0] is not None and ci[0] > 0,
                     "less_truthful": ci[1] is not None and ci[1] < 0})
    return _build("steer_eval", Path(folder), "held-out truthfulness margin raised (CI above 0)", rows,
                  "more_truthful", {"margin lowered (CI below 0)": "less_truthful"}, warnings)
