"""``cape cache``: the models CAPE keeps in the user's cache folder (dequantised GGUF files)."""

from __future__ import annotations

import typer

from ._common import console, emit_json
from ._table import format_option, set_format

cache_app = typer.Typer(help="Cached models (dequantised GGUF files kept as safetensors): list or clear them.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(json_: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
               fmt_: str = format_option()) -> None:
    """List the cached models with their source file, dtype and size."""
    from rich.markup import escape
    from rich.table import Table

    from ..internals.cache import cache_entries, cache_root

    rows = cache_entries()
    if json_:
        emit_json({"folder": str(cache_root()), "entries": rows, "bytes": sum(r["bytes"] for r in rows)})
        return
    o = set_format(fmt_)
    o.print(f"cache folder: {escape(str(cache_root()))}")
    if not rows:
        o.print("no cached models")
        return
    t = Table(title=f"{len(rows)} cached model(s), {sum(r['bytes'] for r in rows) / 2**20:.0f} MiB")
    for c in ("source", "dtype", "MiB", "file hash"):
        t.add_column(c, justify="right" if c == "MiB" else "left", overflow="fold")
    for r in rows:
        dtype = str(r["dtype"]) + ("" if r["current"] else " (older layout: rebuilt on the next load)")
        t.add_row(escape(str(r["source"])), dtype, f"{r['bytes'] / 2**20:.0f}", str(r["file_hash"]))
    o.table(t)


@cache_app.command("clear")
def cache_clear(json_: bool = typer.Option(False, "--json", help="Print what was removed as JSON.")) -> None:
    """Remove every cached model (the next load of a GGUF file dequantises it again)."""
    from ..internals.cache import cache_root, clear_cache

    n, freed = clear_cache()
    if json_:
        emit_json({"folder": str(cache_root()), "removed": n, "bytes_freed": freed})
        return
    console.print(f"removed {n} cached model(s), {freed / 2**20:.0f} MiB, from {cache_root()}")
