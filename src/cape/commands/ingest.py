"""``cape ingest``: read result files (lm-eval, Open LLM Leaderboard, Epoch, any CSV) into one score table."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._common import emit_json
from ._table import format_option, set_format


def register(app: typer.Typer) -> None:
    app.command("ingest", no_args_is_help=True)(ingest)


def _pairs(items: list[str], flag: str, what: str) -> dict[str, str]:
    from ..errors import DataError

    out = {}
    for it in items or []:
        if "=" not in it:
            raise DataError(f"{flag} expects {what}, got {it!r}")
        k, v = it.split("=", 1)
        if not k.strip() or not v.strip():
            raise DataError(f"{flag} expects {what} with both sides filled, got {it!r}")
        out[k.strip()] = v.strip()
    return out


def _family_map(path: Optional[Path], pairs: list[str]) -> dict[str, str]:
    from ..errors import DataError
    from ..ingest.csv_generic import load_toml

    fams: dict[str, str] = {}
    if path is not None:
        obj = load_toml(path, "family map")
        src = obj.get("families", obj) if isinstance(obj.get("families"), dict) else obj
        for k, v in src.items():
            if k == "families":
                continue
            if not isinstance(v, str) or not v.strip():
                raise DataError(f"{path.as_posix()}: family map entry {k!r} = {v!r}; expected \"model or prefix\" = "
                                "\"Family\"")
            fams[str(k)] = v.strip()
    fams.update(_pairs(pairs, "--family", "MODEL_OR_PREFIX=FAMILY"))
    return fams


def ingest(
    inputs: List[Path] = typer.Argument(..., help="Result files or folders (folders are searched recursively for "
                                                  "results_*.json, *.csv, *.tsv, *.parquet).", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the long score table here (.csv, "
                                                                       ".json or .parquet; it records its units, so "
                                                                       "every --scores option reads it back as "
                                                                       "written). Nothing is written on error."),
    json_: bool = typer.Option(False, "--json", help="Print the ingest report as JSON."),
    map_file: Optional[Path] = typer.Option(None, "--map", help="TOML column mapping for generic tables "
                                                                "(\\[columns], \\[benchmarks], \\[metrics], "
                                                                "\\[shots], \\[defaults])."),
    col: Optional[List[str]] = typer.Option(None, "--col", help="ROLE=COLUMN or BENCHMARK=COLUMN, e.g. "
                                                                "--col model=Name --col HellaSwag=hs (repeatable)."),
    params_unit: Optional[str] = typer.Option(None, "--params-unit", help="Unit of the params column: raw, M or B "
                                                                         "(default: from the column name or values)."),
    family_map: Optional[Path] = typer.Option(None, "--family-map", help="TOML file of \"model or prefix\" = "
                                                                         "\"Family\" entries."),
    family: Optional[List[str]] = typer.Option(None, "--family", help="MODEL_OR_PREFIX=FAMILY override "
                                                                      "(repeatable)."),
    units: str = typer.Option("auto", "--units", help="Scores in generic tables: auto, percent or fraction."),
    all_metrics: bool = typer.Option(False, "--all-metrics", help="Keep every metric variant a file offers "
                                                                  "(default: the leaderboard metric per benchmark)."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Drop malformed files (reported) instead of "
                                                                "stopping at the first."),
    no_name_params: bool = typer.Option(False, "--no-name-params", help="Do not take parameter counts from model "
                                                                        "names when a file has none."),
    strict: bool = typer.Option(False, "--strict", help="Refuse a whole file at the first problem in one row, cell "
                                                        "or column (default: drop that item, list it with its "
                                                        "reason, read the rest)."),
    fmt_: str = format_option(),
) -> None:
    """Read benchmark results into one score table, printing what was read and everything dropped, with reasons.

    Formats are detected per file: lm-evaluation-harness results JSON (v0.4), Open LLM Leaderboard v1 results
    JSON and v2 contents (CSV/Parquet), Epoch AI benchmark CSVs, and generic wide or long CSVs.
    """
    from ..errors import DataError
    from ..ingest import read_any
    from ..ingest.csv_generic import load_toml

    if units not in ("auto", "percent", "fraction"):
        raise DataError(f"--units must be auto, percent or fraction, not {units!r}")
    from ..ingest.csv_generic import parse_mapping

    raw: dict = {}
    if map_file is not None:
        raw = load_toml(map_file, "mapping file")
    mapping = parse_mapping(raw, where=map_file.as_posix() if map_file is not None else "mapping")
    cols = _pairs(col or [], "--col", "ROLE=COLUMN (e.g. model=Name)")
    if cols:
        extra = parse_mapping(cols, where="--col")
        mapping.columns.update(extra.columns)
        mapping.benchmarks.update(extra.benchmarks)
    fams = _family_map(family_map, family or [])
    if map_file is not None and isinstance(raw.get("families"), dict):
        fams = {**{str(k): str(v) for k, v in raw["families"].items()}, **fams}
    _check_output(output, inputs)
    table, report = read_any(inputs, mapping=mapping, params_unit=params_unit, family_overrides=fams or None,
                             units=units, all_metrics=all_metrics, keep_going=keep_going,
                             params_from_names=not no_name_params, strict=strict)
    if output is not None:
        from ..ingest.native import write_table

        write_table(table, output)
    if json_:
        emit_json({"output": output.as_posix() if output is not None else None,
                   "table": {"rows": len(table), "models": table.n_models, "families": table.families,
                             "benchmarks": table.benchmarks},
                   "report": report.to_dict()})
        return
    _render(report, table, output, fmt_)


def _check_output(output: Optional[Path], inputs: List[Path]) -> None:
    """Refuse an ``-o`` that names a folder, has another extension or is one of the inputs (never overwritten)."""
    import os

    from ..errors import DataError

    if output is None:
        return
    if output.exists() and output.is_dir():
        raise DataError(f"{output.as_posix()}: -o names a folder; give a file name such as table.csv")
    if output.suffix.lower() not in (".csv", ".json", ".parquet"):
        raise DataError(f"{output.as_posix()}: -o must end in .csv, .json or .parquet")
    out_real = os.path.realpath(output)
    for p in inputs:
        if p.exists() and p.is_file() and os.path.realpath(p) == out_real:
            raise DataError(f"{output.as_posix()}: -o is one of the input files; choose another output so the "
                            "input is not overwritten")


def _render(report, table, output, fmt_: str = "table") -> None:
    """The ingest report through the shared renderer: files read, scores kept, notes, dropped items."""
    from collections import Counter

    from rich.markup import escape
    from rich.table import Table

    o = set_format(fmt_)
    files = report.files
    t = Table(title=f"Read {len(files)} file(s)", show_lines=False)
    for c, j in (("file", "left"), ("format", "left"), ("scores", "right"), ("models", "right")):
        t.add_column(c, justify=j, overflow="fold")
    show = files if len(files) <= 15 or fmt_ != "table" else files[:10]
    for f in show:
        t.add_row(escape(f.path), f.format, str(f.rows), str(f.models))
    if len(files) > len(show):
        by = Counter(f.format for f in files[len(show):])
        t.add_row(f"... {len(files) - len(show)} more", ", ".join(f"{k} x{v}" for k, v in by.items()),
                  str(sum(f.rows for f in files[len(show):])), "")
    o.table(t)

    v = Table(title=f"Scores kept: {report.n_rows} for {report.n_models} models, {len(table.families)} families")
    for c, j in (("benchmark", "left"), ("metric", "left"), ("shots", "right"), ("models", "right")):
        v.add_column(c, justify=j)
    mixed = report.mixed_variants()
    for row in report.variants:
        b = escape(row["benchmark"]) + (" [yellow](mixed)[/]" if row["benchmark"] in mixed else "")
        shots = "—" if row["shots"] is None else str(row["shots"])
        v.add_row(b, escape(str(row["metric"])), shots, str(row["models"]))
    o.table(v)
    for b, ms in mixed.items():
        o.print(f"[yellow]{escape(b)} has several metric variants ({escape(', '.join(ms))}): analyses refuse to mix "
                "them unless you select one or force the mix[/]")
    _render_notes(report, o)
    if output is not None:
        o.print(f"wrote {report.n_rows} scores ({report.n_models} models) to {escape(output.as_posix())}")
    else:
        o.print("nothing written (give -o table.csv to save the table)")


def _render_notes(report, o) -> None:
    """Notes as prose; dropped items as a table (every item with ``--format markdown|csv``, the first 40 and a
    count by reason in the terminal)."""
    from rich.markup import escape
    from rich.table import Table

    if report.notes:
        o.print("[bold]Notes[/]")
        for n in report.notes:
            extra = ""
            if n.files:
                more = f" and {len(n.files) - 1} more file(s)" if len(n.files) > 1 else ""
                extra = f" [dim]({escape(n.files[0])}{more})[/]"
            o.print(f"  • {escape(n.message)}{extra}", highlight=False)
    d = report.dropped
    if not d:
        o.print("Dropped nothing.")
        return
    limit = 40 if o.fmt == "table" else len(d)
    t = Table(title=f"Dropped {len(d)} item(s)")
    for c in ("file", "item", "reason"):
        t.add_column(c, overflow="fold")
    for x in d[:limit]:
        t.add_row(escape(str(x.file)), escape(str(x.item)), escape(str(x.reason)))
    o.table(t)
    if len(d) > limit:
        o.print(f"  ... {len(d) - limit} more; by reason:")
        for kind, k in report.dropped_by_reason():
            o.print(f"    {k} x {escape(str(kind))}", highlight=False)
        o.print("  (--json or --format csv lists every dropped item)")
