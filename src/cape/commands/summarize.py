"""``cape heads summarize``, ``cape layers summarize`` and ``cape steer summarize``: one results folder summed
up across its models (shares with Wilson intervals per family, size and phase, and a per-model table), printed
through the shared table renderer (``--format table|markdown|csv``) or as JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cape.errors import CapeError

from ._common import emit_json, err_console, fmt
from ._table import format_option, set_format


class InternalsUsageError(CapeError):
    """A ``cape heads`` / ``cape layers`` option has an invalid value (defined here, below the commands that
    raise it, so that neither module imports the other's)."""


_MEASURES = ("contrast", "paper")

_FOLDER = typer.Argument(..., help="A results folder (cape sweep ... -o DIR, cape heads -o DIR, ...), searched "
                         "recursively.")
_SCORES = typer.Option(None, "--scores", help="Score file for each model's coupling phase (default: the embedded "
                       "base-model cohort).")
_SCHEME = typer.Option("nature", "--phase-scheme", help="Phase thresholds: nature (+-0.1), sign or quickstart (+-0.3).")
_SJSON = typer.Option(False, "--json", help="Print the summary as JSON.")


def _summary_inputs(folder: Path, scores: Path | None, scheme: str):
    from cape.coupling import PHASE_SCHEMES

    if scheme not in PHASE_SCHEMES:
        raise InternalsUsageError(f"--phase-scheme must be one of {', '.join(PHASE_SCHEMES)}, not {scheme!r}.")
    if not folder.is_dir():
        raise InternalsUsageError(f"{folder}: not a folder of result files.")
    table = None
    if scores is not None:
        from cape.ingest import read_any

        table, _report = read_any([scores])
    return table


def heads_summarize_cmd(folder: Path = _FOLDER, scores: Optional[Path] = _SCORES, phase_scheme: str = _SCHEME,
                        json_out: bool = _SJSON, fmt_: str = format_option()) -> None:
    """Across the models of a folder: the share with zero significantly competing heads (Wilson 95% CI), per
    family, size and coupling phase, and the threshold-only and 100%-cooperative counts."""
    from cape.sweep.summaries import summarize_heads

    summary = summarize_heads(folder, scores=_summary_inputs(folder, scores, phase_scheme), scheme=phase_scheme)
    _print_summary(summary, json_out, fmt_, [("competing sig/raw", lambda r: f"{r['n_competing']}/{r['n_competing_raw']}"),
                                        ("coop %", lambda r: fmt(r["pct_cooperative"], 1)),
                                        ("net", lambda r: fmt(r["net"], 3))])


def layers_summarize_cmd(folder: Path = _FOLDER, scores: Optional[Path] = _SCORES, phase_scheme: str = _SCHEME,
                         measure: str = typer.Option("contrast", "--measure", help="contrast or paper."),
                         json_out: bool = _SJSON, fmt_: str = format_option()) -> None:
    """Across the models of a folder: the share with an anticorrelated layer (coupling below 0), per family,
    size and coupling phase."""
    from cape.sweep.summaries import summarize_layers

    if measure not in _MEASURES:
        raise InternalsUsageError(f"--measure must be one of {', '.join(_MEASURES)}, not {measure!r}.")
    summary = summarize_layers(folder, scores=_summary_inputs(folder, scores, phase_scheme), scheme=phase_scheme,
                               measure=measure)
    _print_summary(summary, json_out, fmt_, [("min layer", lambda r: fmt(r["min_layer"])),
                                        ("early/mid/late", lambda r: f"{fmt(r['early'], 2)}/{fmt(r['mid'], 2)}/"
                                                                     f"{fmt(r['late'], 2)}")])


def steer_summarize_cmd(folder: Path = _FOLDER, scores: Optional[Path] = _SCORES, phase_scheme: str = _SCHEME,
                        json_out: bool = _SJSON, fmt_: str = format_option()) -> None:
    """Across the models of a folder of steering evaluations: the share whose held-out truthfulness margin rose
    (bootstrap CI above 0), per family, size and coupling phase."""
    from cape.sweep.summaries import summarize_steering

    summary = summarize_steering(folder, scores=_summary_inputs(folder, scores, phase_scheme), scheme=phase_scheme)
    _print_summary(summary, json_out, fmt_, [("margin gain [CI]", lambda r: f"{fmt(r['margin_diff'])} "
                                                                      f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"),
                                        ("changed", lambda r: fmt(r["intervention_rate"], 2))])


def _print_summary(summary, json_out: bool, fmt_: str, columns) -> None:
    from rich.table import Table

    if json_out:
        emit_json(summary.to_dict())
        return
    from ._common import fmt_params

    o = set_format(fmt_)
    o.print(f"[bold]{len(summary.models)} models[/] in {summary.folder}: {summary.outcome}: "
             f"{summary.overall.text()} (Wilson 95% CI)")
    for name, p in summary.extra.items():
        o.print(f"  {name}: {p.text()}")
    o.table(_groups_table(summary))
    if summary.phase_test:
        t = summary.phase_test
        o.print(f"Tax vs bonus models (phase from the benchmark scores): {t['table'][0][0]}/{sum(t['table'][0])}"
                f" vs {t['table'][1][0]}/{sum(t['table'][1])}, Fisher exact p = {t['p_value']:.3g}")
    models = Table(title="Per model")
    for col in ["model", "family", "size", "phase"] + [c for c, _ in columns]:
        models.add_column(col, overflow="fold")
    for r in summary.models:
        models.add_row(str(r["model_id"]), str(r["family"]), fmt_params(r["params"]) if r["params"] else "—",
                       str(r["phase"] or "—"), *[f(r) for _, f in columns])
    o.table(models)
    for f in summary.failures:
        err_console.print(f"[red]failed:[/] {f['model_id']} ({f['reason']})")
    for w in summary.warnings:
        err_console.print(f"[yellow]warning:[/] {w}")


def _groups_table(summary):
    """The breakdowns by family, size and phase (k of n, share, Wilson 95% CI) as a Rich table."""
    from rich.table import Table

    groups = Table(title="Breakdowns (k of n, share, Wilson 95% CI)")
    for col in ("by", "group", "k/n", "share", "95% CI"):
        groups.add_column(col, justify="left" if col in ("by", "group") else "right")
    for by, parts in (("family", summary.by_family), ("size", summary.by_size), ("phase", summary.by_phase)):
        for name, p in parts.items():
            groups.add_row(by, name, f"{p.k}/{p.n}", fmt(100 * p.share, 0) + "%" if p.n else "—",
                           f"{100 * p.low:.0f}-{100 * p.high:.0f}%" if p.n else "—")
    return groups
