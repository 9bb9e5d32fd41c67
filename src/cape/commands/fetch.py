"""``cape fetch leaderboard`` and ``cape fetch results``: public score tables from the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._common import emit_json, err_console
from ._table import format_option, set_format

fetch_app = typer.Typer(help="Fetch public score tables from the Hugging Face Hub into its cache (offline-first: "
                             "with no network the cached copy is used, and its date stated).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(fetch_app, name="fetch")


_TIMEOUT_HELP = "Seconds to wait for the Hub (default 10, or CAPE_HUB_TIMEOUT)."
_CACHE_HELP = "The huggingface_hub cache folder (default: HF_HUB_CACHE, else HF_HOME/hub)."
_OFFLINE_HELP = "Use the cache only, never the network (same as HF_HUB_OFFLINE=1)."


def progress_lines(i: int, n: int, path: str) -> None:
    """Progress of a fetch on stderr: one line per file when there are several."""
    if n > 1:
        err_console.print(f"[dim]  {i}/{n} {path}[/]", soft_wrap=True)


def _settings(cache_dir, timeout, offline, quiet=False):
    from ..hub import HubSettings

    return HubSettings.from_env(cache_dir=cache_dir, timeout=timeout, offline=True if offline else None,
                                progress=None if quiet else progress_lines)


def _check_output(output: Optional[Path]) -> None:
    from .._output import check_output, check_suffix

    if output is not None:
        check_suffix(output, (".csv", ".json"))
        check_output(output)


def _write(table, output: Path) -> None:
    from .._output import write_output
    from ._common import to_json

    if output.suffix.lower() == ".json":
        write_output(output, to_json(table.to_records()) + "\n")
    else:
        write_output(output, table.long.to_csv(index=False))


def _summary(snap, table, report) -> dict:
    d = snap.to_dict()
    d.update({"rows": len(table), "models": table.n_models, "benchmarks": table.benchmarks,
              "dropped": len(getattr(report, "dropped", []) or []), "notes": list(getattr(report, "notes", []) or [])})
    return d


def _say(title: str, items, fmt_: str):
    """What was fetched, one row per source (its dataset or repository, fetched or cached, commit, date, files,
    scores, models, benchmarks), through the shared renderer; notes go to stderr. Returns the :class:`Out`."""
    from rich.markup import escape
    from rich.table import Table

    o = set_format(fmt_)
    t = Table(title=escape(title))
    for c in ("source", "state", "commit", "date", "files", "scores", "models", "benchmarks"):
        t.add_column(c, justify="right" if c in ("files", "scores", "models") else "left")
    for snap, table in items:
        where = f"{'dataset ' if snap.repo_type == 'dataset' else ''}{snap.repo_id}"
        t.add_row(escape(where), "cached copy" if snap.from_cache else "fetched", snap.sha[:7], str(snap.date),
                  str(len(snap.files)), str(len(table)), str(table.n_models), escape(", ".join(table.benchmarks)))
    o.table(t)
    for snap, _table in items:
        if snap.message:
            err_console.print(f"[yellow]note:[/] {snap.message}")
    return o


@fetch_app.command("leaderboard")
def leaderboard_cmd(
    version: str = typer.Option("v2", "--version", help="v2 (the contents table) or v1 (the archived per-model "
                                                        "results; name organisations with --org)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the scores as a tidy table "
                                                                       "(.csv or .json), a source on every row."),
    org: Optional[List[str]] = typer.Option(None, "--org", help="v1: organisation (EleutherAI) or model "
                                                                "(EleutherAI/pythia-1b) to fetch; repeatable."),
    repo: Optional[str] = typer.Option(None, "--repo", help="Dataset to fetch instead of the default "
                                                           "(open-llm-leaderboard/contents for v2, "
                                                           "open-llm-leaderboard-old/results for v1)."),
    revision: str = typer.Option("main", "--revision", help="Branch, tag or commit of the dataset."),
    all_metrics: bool = typer.Option(False, "--all-metrics", help="Keep every metric variant (v2: raw beside "
                                                                  "normalized)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help=_CACHE_HELP),
    timeout: Optional[float] = typer.Option(None, "--timeout", help=_TIMEOUT_HELP),
    offline: bool = typer.Option(False, "--offline", help=_OFFLINE_HELP),
    json_: bool = typer.Option(False, "--json", help="Print what was fetched as JSON."),
    fmt_: str = format_option(),
) -> None:
    """Download the Open LLM Leaderboard into the Hub cache and say what it holds (rows, date, commit)."""
    from ..hub import fetch_leaderboard, read_snapshot

    _check_output(output)
    s = _settings(cache_dir, timeout, offline, quiet=json_)
    if not (json_ or s.offline):
        err_console.print(f"[dim]asking {s.endpoint} (timeout {s.timeout:g} s) ...[/]")
    snap = fetch_leaderboard(version, repo_id=repo, revision=revision, orgs=org or [], settings=s)
    table, report = read_snapshot(snap, all_metrics=all_metrics, keep_going=version == "v1")
    if output is not None:
        _write(table, output)
    if json_:
        d = _summary(snap, table, report)
        d["output"] = output.as_posix() if output is not None else None
        emit_json(d)
        return
    o = _say(f"Open LLM Leaderboard {version}", [(snap, table)], fmt_)
    if output is not None:
        o.print(f"wrote {len(table)} scores to {output.as_posix()}")


@fetch_app.command("results")
def results_cmd(
    model: str = typer.Argument(..., help="The model, ORG/NAME as on the Hub (e.g. EleutherAI/pythia-1b)."),
    source: str = typer.Option("all", "--source", help="v1 (the archived leaderboard results), v2 (the model's "
                                                       "leaderboard v2 details dataset), model (lm-eval "
                                                       "results*.json in the model's repository) or all."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the scores (.csv or .json)."),
    revision: str = typer.Option("main", "--revision", help="Revision of the model repository."),
    v1_repo: Optional[str] = typer.Option(None, "--v1-repo", help="Dataset of the archived v1 results (default "
                                                                  "open-llm-leaderboard-old/results)."),
    details_repo: Optional[str] = typer.Option(None, "--details-repo", help="The model's v2 details dataset "
                                                                            "(default open-llm-leaderboard/"
                                                                            "ORG__NAME-details)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help=_CACHE_HELP),
    timeout: Optional[float] = typer.Option(None, "--timeout", help=_TIMEOUT_HELP),
    offline: bool = typer.Option(False, "--offline", help=_OFFLINE_HELP),
    json_: bool = typer.Option(False, "--json", help="Print what was fetched as JSON."),
    fmt_: str = format_option(),
) -> None:
    """Get a model's published result files into the Hub cache and read them.

    Sources: its folder in the archived leaderboard v1 results, its leaderboard v2 details dataset and lm-eval
    results*.json in its own repository."""
    from ..hub import fetch_results, read_snapshot
    from ..scores import ScoreTable

    _check_output(output)
    s = _settings(cache_dir, timeout, offline, quiet=json_)
    if not (json_ or s.offline):
        err_console.print(f"[dim]asking {s.endpoint} (timeout {s.timeout:g} s) ...[/]")
    snaps = fetch_results(model, source=source, revision=revision, v1_repo=v1_repo, details_repo=details_repo,
                          settings=s)
    from ..errors import DataError

    read, unread = [], []
    for snap in snaps:
        try:
            read.append((snap, *read_snapshot(snap, keep_going=True)))
        except DataError as e:  # e.g. a model repository whose results*.json are not lm-eval files
            unread.append(str(e))
    if not read:
        raise DataError(f"{model}: the result files found hold no scores CAPE reads ({'; '.join(unread)})")
    table = read[0][1] if len(read) == 1 else ScoreTable.concat([t for _, t, _ in read], name=model)
    if output is not None:
        _write(table, output)
    if json_:
        emit_json({"model": model, "rows": len(table), "sources": [_summary(sn, t, r) for sn, t, r in read],
                   "unread": unread, "output": output.as_posix() if output is not None else None})
        return
    o = _say(model, [(snap, t) for snap, t, _r in read], fmt_)
    for u in unread:
        err_console.print(f"[yellow]note:[/] not read: {u}")
    if output is not None:
        o.print(f"wrote {len(table)} scores to {output.as_posix()}")
