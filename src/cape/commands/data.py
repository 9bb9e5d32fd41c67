"""``cape data``: list, show and export the embedded datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._table import Out, format_option
from ._common import console, emit_json, fmt, fmt_params

data_app = typer.Typer(help="The embedded datasets: list them, show a family, export as CSV/JSON.",
                       no_args_is_help=False, invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.callback()
def data_list(ctx: typer.Context,
              json_: bool = typer.Option(False, "--json", help="Print the list as JSON."),
              fmt_: str = format_option()) -> None:
    """List the embedded datasets with their counts."""
    if ctx.invoked_subcommand is not None:
        return
    from .. import data

    rows = data.list_datasets()
    if json_:
        emit_json(rows, key="datasets")
        return
    from rich.table import Table

    t = Table(title="Embedded datasets", show_lines=False)
    from ..catalog import info

    for c in ("name", "kind", "rows", "models", "groups", "benchmarks", "description"):
        if c == "description":
            t.add_column(c, overflow="ellipsis", no_wrap=True, max_width=60)
        else:
            t.add_column(c, overflow="fold", no_wrap=c in ("name", "kind"))
    for r in rows:
        t.add_row(r["name"], r["kind"], str(r["rows"]), str(r["models"]), str(r["groups"]),
                  " ".join(info(b).short for b in r["benchmarks"]), r["description"])
    out = Out(fmt_)
    out.table(t)
    out.print("Show a family: [bold]cape data show Pythia[/]; export: [bold]cape data export base -o base.csv[/]")


def _dataset_table(name: str):
    from .. import data
    from ..errors import NotFoundError

    if name == "base":
        return data.load_base()
    if name == "frontier":
        return data.load_frontier()
    raise NotFoundError(f"dataset {name!r} is not a score dataset (use 'base' or 'frontier')")


@data_app.command("show")
def data_show(
    family: str = typer.Argument(..., help="A family (base cohort) or lab (frontier panel), e.g. Pythia."),
    dataset: str = typer.Option("base", "--dataset", "-d", help="base or frontier."),
    json_: bool = typer.Option(False, "--json", help="Print JSON records."),
    fmt_: str = format_option(),
) -> None:
    """Print one family's models and scores (wide: one row per model)."""
    t = _dataset_table(dataset).filter(family=family)
    wide = t.wide(force=True)
    if json_:
        emit_json({"family": t.families[0], "models": wide.reset_index().to_dict(orient="records")})
        return
    from rich.table import Table

    tab = Table(title=f"{t.families[0]} ({dataset}: {t.n_models} models)")
    tab.add_column("model", no_wrap=True)
    tab.add_column("params", justify="right")
    bs = [c for c in wide.columns if c not in ("family", "params")]
    from ..catalog import info

    for b in bs:
        tab.add_column(info(b).short, justify="right")
    for m, r in wide.iterrows():
        tab.add_row(str(m), fmt_params(r["params"]), *[fmt(r[b], 1) for b in bs])
    out = Out(fmt_)
    out.table(tab)
    srcs = sorted(t.long["source"].dropna().unique())
    if srcs:
        out.print("Sources: " + "; ".join(srcs))


@data_app.command("export")
def data_export(
    name: str = typer.Argument(..., help="base, frontier, architectures, or a fixture name."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file; its extension decides the format "
                                                          "(.csv, .json or .parquet)."),
    wide: bool = typer.Option(False, "--wide", help="One row per model instead of one per score."),
) -> None:
    """Export a dataset as CSV, JSON or Parquet (long or wide)."""
    from .. import data
    from .._output import check_suffix
    from ..scores import write_atomic

    suffix = check_suffix(output, (".csv", ".json", ".parquet"))

    if name in ("base", "frontier"):
        t = _dataset_table(name)
        df = t.wide(force=True).reset_index() if wide else t.long
    elif name == "architectures":
        df = data.architectures()
    else:
        df = data.fixture(name)
    if suffix == ".json":
        from ._common import to_json

        write_atomic(output, to_json(df.astype(object).where(df.notna(), None).to_dict(orient="records")))
    elif suffix == ".parquet":
        import io
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            from ..errors import DependencyError

            raise DependencyError(f"{output}: writing Parquet needs pyarrow: pip install pyarrow (or use .csv)")
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        write_atomic(output, buf.getvalue())
    else:
        write_atomic(output, df.to_csv(index=False))
    console.print(f"wrote {len(df)} rows to {output}")
