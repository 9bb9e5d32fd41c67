"""Reading the user's score files for every analysis command, with the options they all share.

``--units`` (how generic tables give scores), ``--variant BENCH=VARIANT`` and ``--shots BENCH=N`` (which
metric variant and few-shot setting of a benchmark to analyse), ``--strict`` (refuse a file at its first bad
row or column) and ``--include-finetunes`` (base-model analyses keep pretrained models only by default). A
table written by ``cape ingest -o`` records its units and is read as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

UNITS_OPT = typer.Option("auto", "--units", help="Scores in generic tables: auto, percent or fraction (a table "
                                                 "written by cape ingest records its own).")
VARIANT_OPT = typer.Option(None, "--variant", help="BENCH=VARIANT: analyse only that metric variant of a "
                                                   "benchmark, e.g. --variant TruthfulQA=mc2 (repeatable).")
SHOTS_OPT = typer.Option(None, "--shots", help="BENCH=N: analyse only scores of a benchmark measured with N "
                                               "few-shot examples, e.g. --shots HellaSwag=10 (repeatable).")
STRICT_OPT = typer.Option(False, "--strict", help="Refuse a score file at its first bad row, cell or column "
                                                  "(default: drop it, say so, read the rest).")
FINETUNES_OPT = typer.Option(False, "--include-finetunes", "--keep-instruct",
                             help="Keep fine-tuned, instruct/chat and merged models in the base analyses (default: "
                                  "pretrained models only, where the data say which are which).")


def parse_settings(items: Optional[List[str]], flag: str, *, integer: bool = False) -> dict[str, object]:
    """``["HellaSwag=10", ...]`` -> ``{"HellaSwag": 10}`` with canonical benchmark names.

    Raises:
        DataError: an item without ``=``, an unknown benchmark, or (``integer``) a value that is not a whole
            number, in one sentence naming ``flag``.
    """
    from .. import catalog
    from ..errors import DataError

    out: dict[str, object] = {}
    for it in items or []:
        bench, sep, val = str(it).partition("=")
        if not sep or not bench.strip() or not val.strip():
            raise DataError(f"{flag} expects BENCH={'N' if integer else 'VARIANT'} (e.g. {flag} "
                            f"{'HellaSwag=10' if integer else 'TruthfulQA=mc2'}), got {it!r}")
        b = catalog.canonical(bench.strip(), where=flag)
        v: object = val.strip()
        if integer:
            try:
                v = int(str(v))
            except ValueError:
                raise DataError(f"{flag} {it!r}: {val.strip()!r} is not a whole number of shots") from None
            if v < 0:
                raise DataError(f"{flag} {it!r}: shots cannot be negative")
        out[b] = v
    return out


def apply_settings(table, variant: Optional[List[str]] = None, shots: Optional[List[str]] = None,
                   include_finetunes: bool = True):
    """The table restricted to the chosen variants, shots and (unless ``include_finetunes``) pretrained models.

    Returns:
        (table, notes): ``notes`` are sentences saying what was left out.
    """
    notes: list[str] = []
    for b, m in parse_settings(variant, "--variant").items():
        table = table.select_variant(b, str(m))
    for b, n in parse_settings(shots, "--shots", integer=True).items():
        table = table.select_shots(b, int(n))  # type: ignore[arg-type]
    if not include_finetunes:
        table, note = base_models_only(table)
        if note:
            notes.append(note)
    return table, notes


def base_models_only(table):
    """Pretrained models only, where the table says which are which: fine-tuned, chat and merged models
    (``is_base`` false) and models the file types as other or multimodal (``model_type`` unknown) leave;
    models without that information stay. Returns (table, note or None)."""
    mf = table.model_frame()
    out = mf["is_base"].fillna(True).eq(False) | mf["model_type"].eq("unknown").fillna(False)
    derived = mf.index[out.to_numpy(dtype=bool)]
    if len(derived) == 0:
        return table, None
    if len(derived) == len(mf):
        return table, (f"every model of {table.name} is fine-tuned, chat, merged or of unknown type; all kept (no "
                       "pretrained model to restrict to)")
    drop = set(derived)  # built once: rebuilding it per model made this quadratic (minutes for 10,000 models)
    kept = table.filter(models=[m for m in mf.index if m not in drop])
    return kept, (f"{len(derived)} fine-tuned, chat, merged or unknown-type model(s) left out (base-model "
                  f"analysis; --include-finetunes keeps them); {kept.n_models} pretrained model(s) analysed")


def setting_warnings(table, limit: int = 5) -> list[str]:
    """One sentence per family and benchmark mixing shots or metric variants, naming the models and the option
    that chooses one."""
    out = []
    for mix in table.setting_mixes():
        b, kind = mix["benchmark"], mix["kind"]
        parts = []
        for val, models in mix["groups"].items():
            shown = ", ".join(models[:3]) + (f" and {len(models) - 3} more" if len(models) > 3 else "")
            label = f"{val}-shot" if kind == "shots" and val != "not given" else (
                "shots not given" if kind == "shots" else val)
            parts.append(f"{label} ({shown})")
        pick = next((v for v in mix["groups"] if v != "not given"), next(iter(mix["groups"])))
        opt = f"--shots {b}={pick}" if kind == "shots" else f"--variant {b}={pick}"
        out.append(f"family {mix['family']}: {b} mixes {'shots' if kind == 'shots' else 'metric variants'}: "
                   f"{'; '.join(parts)}; scores are not comparable across sizes, choose one with {opt}")
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more families or benchmarks with mixed settings "
                             "(--json lists them all)"]
    return out


def read_scores(paths, *, units: str = "auto", strict: bool = False, units_flag: str = "--units",
                quiet: bool = False):
    """Read score files (any format :func:`cape.ingest.read_any` knows) -> ``(table, report)``.

    Raises:
        DataError / NotFoundError: one sentence naming the file (or ``units_flag``) and what is wrong.

    Items left out (a bad cell, an unknown column) are summarised in one line on stderr unless ``quiet``.
    """
    from ..errors import DataError
    from ..ingest import read_any

    if units not in ("auto", "percent", "fraction"):
        raise DataError(f"{units_flag} must be auto, percent or fraction, not {units!r}")

    if isinstance(paths, (str, Path)):
        paths = [paths]
    table, report = read_any([Path(p) for p in paths], units=units, strict=strict)
    if not quiet and _problems(report):
        from ._common import err_console

        err_console.print(drop_summary(report), markup=False, highlight=False)
    return table, report


def _problems(report) -> list:
    """Dropped items that were data problems (not columns or tasks CAPE simply does not read)."""
    return [d for d in report.dropped
            if not ((d.item.startswith(("column ", "task ")) or d.item.endswith(" more row(s)"))
                    and ("not a benchmark CAPE knows" in d.reason or "does not analyse" in d.reason))]


def drop_summary(report) -> str:
    """One line on what reading left out (the first data problem and its reason), pointing at cape ingest for
    the rest."""
    d = report.dropped
    first = _problems(report)[0]
    return (f"note: reading left out {len(d)} item(s) (first: {first.file}: {first.item}: {first.reason}); "
            f"cape ingest {first.file} lists them all")
