"""``cape cache``: the models CAPE keeps in the user's cache folder (dequantised GGUF files)."""

from __future__ import annotations

import typer

from ._common import console, emit_json

cache_app = typer.Typer(help="Cached models (dequantised GGUF files kept as safetensors): list or clear them.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(json_: bool = typer.Option(False, "--json", help="Print the entries as JSON.")) -> None:
    """List the cached models with their source file, dtype and size."""
    from ..internals.cache import cache_entries, cache_root

    rows = cache_entries()
    if json_:
        emit_json({"folder": str(cache_root()), "entries": rows, "bytes": sum(r["bytes"] for r in rows)})
        return
    console.print(f"cache folder: {cache_root()}")
    if not rows:
        console.print("no cached models")
        return
    for r in rows:
        console.print(f"  {r['bytes'] / 2**20:8.0f} MiB  {r['dtype']:<8}  {r['source']}  ({r['file_hash'][:19]}...)")
    console.print(f"total {sum(r['bytes'] for r in rows) / 2**20:.0f} MiB in {len(rows)} model(s)")


@cache_app.command("clear")
def cache_clear(json_: bool = typer.Option(False, "--json", help="Print what was removed as JSON.")) -> None:
    """Remove every cached model (the next load of a GGUF file dequantises it again)."""
    from ..internals.cache import cache_root, clear_cache

    n, freed = clear_cache()
    if json_:
        emit_json({"folder": str(cache_root()), "removed": n, "bytes_freed": freed})
        return
    console.print(f"removed {n} cached model(s), {freed / 2**20:.0f} MiB, from {cache_root()}")
