"""Readers that turn benchmark result files into a :class:`~cape.scores.ScoreTable`.

==================  =========================================================================================
format              what is read (module)
==================  =========================================================================================
``csv-wide/long``   any score table: model, family, params + one column per benchmark, or model, benchmark,
                    score (:mod:`~cape.ingest.csv_generic`; a TOML mapping or ``--col`` for other layouts)
``lm-eval``         lm-evaluation-harness ``results_*.json`` files, alone or in nested folders
                    (:mod:`~cape.ingest.lmeval`)
``leaderboard-v1``  Open LLM Leaderboard v1 per-model results JSON (``harness|task|shots`` keys)
``leaderboard-v2``  Open LLM Leaderboard v2 ``contents`` (CSV or Parquet), normalized vs raw flagged in metric
                    (:mod:`~cape.ingest.leaderboard`)
``epoch``           Epoch AI Benchmarking Hub CSVs (``95.3%``, ``0.35±0.02``, Shots, Source)
                    (:mod:`~cape.ingest.epoch`)
==================  =========================================================================================

:func:`read_any` detects the format of each file, reads everything into one table and returns it with an
:class:`~cape.ingest.report.IngestReport` of what was read and every item dropped, with its reason. Across
files: when several timed runs (lm-eval, leaderboard v1, Epoch runs) score the same model, benchmark, metric and
shots, the latest is kept and the others are reported; two different scores for the same model and benchmark
from untimed sources are an error naming both places. Families come from ``family_overrides`` (model name or
prefix -> family), else the file's family column, else :func:`cape.families.infer_family`. Models without a
parameter count get the nominal size in their name (``pythia-1.4b`` -> 1.4e9), and the report says so.

Example:
    >>> from cape.ingest import read_any
    >>> table, report = read_any(["tests/data/ingest/wide_basic.csv"])            # doctest: +SKIP
    >>> table.benchmarks                                                           # doctest: +SKIP
    ['HellaSwag', 'TruthfulQA', 'ARC-Challenge', 'WinoGrande', 'MMLU']
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping as _MappingABC
from pathlib import Path

from ..errors import DataError, NotFoundError
from .common import display, gc_paused
from .report import IngestReport, ReportBuilder
from .rows import ROW_FIELDS, Rows

__all__ = ["read_any", "read_file", "IngestReport", "NothingUsable", "FORMATS", "scan"]

#: values accepted for a forced format (mapping ``format = ...``)
FORMATS = ("auto", "csv", "lm-eval", "leaderboard-v1", "leaderboard-v2", "epoch")
SCAN_SUFFIXES = (".json", ".csv", ".tsv", ".parquet")


class NothingUsable(DataError):
    """A well-formed file holding nothing CAPE can use (e.g. only tasks it does not know). An error for a file
    named on the command line; a dropped file when found by scanning a folder."""


# ----------------------------------------------------------------------------------------------- file discovery

def scan(paths: Iterable[str | os.PathLike] | str | os.PathLike, report: ReportBuilder | None = None
         ) -> list[tuple[Path, bool]]:
    """Expand files and folders into ``(file, named_explicitly)`` pairs, in a stable order.

    Folders are walked recursively (hidden entries skipped) for ``*.json``, ``*.csv``, ``*.tsv`` and
    ``*.parquet``; other files (e.g. lm-eval ``samples_*.jsonl``) are counted in a note.

    Raises:
        NotFoundError: a path does not exist.
        DataError: a folder holds no result files.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[tuple[Path, bool]] = []
    seen: set[str] = set()
    for p in paths:
        path = Path(p)
        if not path.exists():
            if path.is_symlink():
                raise DataError(f"{display(path)}: is a broken link (its target does not exist)")
            raise NotFoundError(f"{display(path)}: no such file or directory")
        if path.is_dir():
            found, skipped = [], {}
            for root, dirs, files in os.walk(path, onerror=_walk_error):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in sorted(files):
                    if f.startswith("."):
                        continue
                    suf = os.path.splitext(f)[1].lower()
                    if suf in SCAN_SUFFIXES and not _is_regular(Path(root, f)):
                        skipped["(not a regular file)"] = skipped.get("(not a regular file)", 0) + 1
                    elif suf in SCAN_SUFFIXES:
                        found.append(Path(root, f))
                    else:
                        skipped[suf or "(none)"] = skipped.get(suf or "(none)", 0) + 1
            if not found:
                raise DataError(f"{display(path)}: folder holds no result files (expected results_*.json, *.csv, "
                                "*.tsv or *.parquet anywhere below it)")
            if skipped and report is not None:
                kinds = ", ".join(f"{k} x{n}" for k, n in sorted(skipped.items()))
                report.note(f"{display(path)}: skipped {sum(skipped.values())} file(s) that are not result tables "
                            f"({kinds})")
            for f in found:
                key = os.path.realpath(f)
                if key not in seen:
                    seen.add(key)
                    out.append((f, False))
        else:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                out.append((path, True))
    if not out:
        raise DataError("no input files given")
    from .._output import note_input

    for f, _ in out:
        note_input(f)
    return out


def _is_regular(path: Path) -> bool:
    """A regular file (following links); FIFOs, devices and sockets found in a folder are skipped, not read."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # let the reader report the OS error with its sentence


def _walk_error(e: OSError) -> None:
    raise DataError(f"{display(e.filename)}: folder cannot be read ({e.strerror})")


# ----------------------------------------------------------------------------------------------- one file

def _load_json(data: bytes, name: str):
    from .common import load_json

    return load_json(data, name)


def read_file(path: Path, rows: Rows, report: ReportBuilder, *, mapping=None, units: str = "auto",
              params_unit: str | None = None, all_metrics: bool = False) -> tuple[str, int]:
    """Read one file into ``rows``; returns (format, scores added).

    Raises:
        DataError: the file is unreadable or malformed (one sentence naming the file, line or field).
        NothingUsable: the file is well formed but holds nothing CAPE can use.
    """
    from . import csv_generic, leaderboard, lmeval
    from .common import decode_text, read_bytes
    from .table import read_csv_table, read_parquet_table

    mp = mapping if isinstance(mapping, csv_generic.Mapping) else csv_generic.parse_mapping(mapping)
    name = display(path)
    suffix = path.suffix.lower()
    forced = (mp.format or "auto").lower()
    if forced not in FORMATS:
        raise DataError(f"mapping: format must be one of {', '.join(FORMATS)}, not {mp.format!r}")
    from . import native

    if suffix == ".parquet":
        if native.sniff(path, b""):
            return "cape", _add_native(native.read_table(path), name, rows)
        table = read_parquet_table(path, report)
        return _read_table(table, path, rows, report, mp, forced, units, params_unit, all_metrics)
    if suffix == ".jsonl":
        raise DataError(f"{name}: is a JSON Lines file (such as lm-eval's samples_*.jsonl), not a results file; give "
                        "the results_*.json beside it")
    data = read_bytes(path)
    if not data.strip():
        raise DataError(f"{name}: is empty (expected a results JSON or a CSV with a header line)")
    if native.sniff(path, data[:4096]):
        return "cape", _add_native(native.read_table(path), name, rows)
    head = data.lstrip()[:1]
    is_json = suffix == ".json" or (suffix not in (".csv", ".tsv", ".txt", ".tab") and head in (b"{", b"["))
    if forced in ("lm-eval", "leaderboard-v1"):
        is_json = True
    if is_json:
        blob = _load_json(data, name)
        if not isinstance(blob, dict):
            raise DataError(f"{name}: holds a JSON {type(blob).__name__}; expected an object with a 'results' "
                            "entry (an lm-eval or Open LLM Leaderboard results file)")
        res = blob.get("results")
        if res is None:
            raise NothingUsable(f"{name}: has no 'results' entry; expected an lm-eval or Open LLM Leaderboard "
                                "results file")
        if not isinstance(res, dict):
            raise DataError(f"{name}: 'results' is a {type(res).__name__}; expected an object of tasks")
        if not res:
            raise DataError(f"{name}: 'results' is empty (the run recorded no task)")
        if forced == "leaderboard-v1" or (forced != "lm-eval" and leaderboard.looks_like_v1(blob)):
            n = leaderboard.read_v1(blob, path, rows, report, all_metrics=all_metrics)
            return "leaderboard-v1", n
        fam = mp.defaults.get("family") if mp.defaults else None
        n = lmeval.read(blob, path, rows, report, all_metrics=all_metrics, family=fam)
        return "lm-eval", n
    if head in (b"{", b"[") and suffix in (".csv", ".tsv"):
        decode_text(data, name)  # binary or wrongly encoded data is refused first
        raise DataError(f"{name}: holds JSON, not CSV; rename it to .json")
    table = read_csv_table(path, None, report, raw=data)  # decodes (or refuses) the text first
    return _read_table(table, path, rows, report, mp, forced, units, params_unit, all_metrics)


def _add_native(table, name: str, rows: Rows) -> int:
    """Append a CAPE score table's rows as they are (their model attributes are never re-guessed)."""
    import numpy as np
    import pandas as pd

    df = table._df
    n = len(df)
    block: dict = {}
    for k in ROW_FIELDS:
        col = df[k]
        if k in ("params", "score", "stderr"):
            block[k] = col.to_numpy(dtype=float)
        else:
            block[k] = [None if v is pd.NA or v is None else (int(v) if k == "shots" else v)
                        for v in col.astype(object).where(col.notna(), None).tolist()]
    block["file"] = [name] * n
    block["loc"] = [f"row {i + 1}" for i in range(n)]
    block["ts"] = np.full(n, math.nan)
    block["native"] = np.ones(n, dtype=bool)
    rows.add_block(block)
    return n


def _read_table(table, path, rows, report, mp, forced, units, params_unit, all_metrics) -> tuple[str, int]:
    from . import csv_generic, epoch, leaderboard

    if forced == "leaderboard-v2" or (forced == "auto" and mp.is_empty and leaderboard.looks_like_v2(table.header)):
        if "fullname" not in table.header:
            raise DataError(f"{table.name}: no 'fullname' column; expected an Open LLM Leaderboard v2 contents table")
        return "leaderboard-v2", leaderboard.read_v2(table, rows, report, all_metrics=all_metrics)
    if forced == "epoch" or (forced == "auto" and mp.is_empty and epoch.looks_like(table.header)):
        return "epoch", epoch.read(table, path, rows, report, units=mp.units or units, defaults=mp.defaults)
    n, fmt = csv_generic.read_table(table, rows, report, mapping=mp, units=units, params_unit=params_unit)
    return fmt, n


# ----------------------------------------------------------------------------------------------- all files

def read_any(paths, *, mapping=None, params_unit: str | None = None,
             family_overrides: _MappingABC[str, str] | None = None, units: str = "auto",
             all_metrics: bool = False, keep_going: bool = False, params_from_names: bool = True,
             workers: int | None = None, name: str | None = None, strict: bool = False):
    """Read result files and folders into one :class:`~cape.scores.ScoreTable`.

    Args:
        paths: a file or folder, or a list of them. Folders are searched recursively.
        mapping: column mapping for generic tables: a dict (parsed TOML, or ``{"model": "Name", ...}``) or a
            :class:`~cape.ingest.csv_generic.Mapping`.
        params_unit: ``"raw"``, ``"M"`` or ``"B"`` for the parameter column of generic tables; ``None``
            detects it from the column name or the values.
        family_overrides: model name or name prefix (case-insensitive) -> family; wins over a family column
            and over inference from the name.
        units: ``"auto"``, ``"percent"`` or ``"fraction"`` for scores in generic/Epoch tables (lm-eval and
            leaderboard files have fixed units).
        all_metrics: keep every metric variant a file offers (e.g. HellaSwag ``acc`` and ``acc_norm``); by
            default each benchmark keeps its leaderboard metric and the others are listed in the notes.
        keep_going: record a malformed file as dropped and continue, instead of stopping at it.
        strict: refuse a whole file at the first problem confined to a row, cell or column (an unparseable
            cell, a sentinel size, an unknown column, a duplicate) instead of dropping that item and listing it
            in the report (the default).
        params_from_names: give models without a parameter count the nominal size in their name.
        workers: processes reading files in parallel; ``None`` uses up to 4 (one per CPU) for 1,000 files or
            more, 1 otherwise. Results and messages are identical to a sequential read.
        name: label of the table in messages (default: the paths).

    Returns:
        ``(table, report)``: the :class:`~cape.scores.ScoreTable` (scores in percent) and the
        :class:`~cape.ingest.report.IngestReport`.

    Raises:
        DataError: one sentence naming the file, line or field at fault and what was expected.
        NotFoundError: a path does not exist.

    Example:
        >>> table, report = read_any("runs/")                                  # doctest: +SKIP
        >>> print(report.summary())                                            # doctest: +SKIP
    """
    from .csv_generic import Mapping, parse_mapping

    if units not in ("auto", "percent", "fraction"):
        raise DataError(f"units must be auto, percent or fraction, not {units!r}")
    if params_unit is not None:
        from .common import param_unit_factor

        param_unit_factor(params_unit, where="--params-unit")
    mp = mapping if isinstance(mapping, Mapping) else parse_mapping(mapping)
    opts = {"mapping": mp, "units": units, "params_unit": params_unit, "all_metrics": all_metrics,
            "keep_going": keep_going, "strict": strict}
    with gc_paused():
        return _read_all(paths, opts, family_overrides=family_overrides, params_from_names=params_from_names,
                         workers=workers, name=name)


def _read_all(paths, opts: dict, *, family_overrides, params_from_names: bool, workers: int | None,
              name: str | None):
    """The body of :func:`read_any` once its options are checked (``opts``: the per-file reading options)."""
    mp, strict = opts["mapping"], opts["strict"]
    report = ReportBuilder(strict=strict)
    files = scan(paths, report)
    if len(files) == 1 and mp.is_empty and not family_overrides:
        direct = _read_native_alone(files[0][0], report)
        if direct is not None:
            return direct
    nw = _n_workers(workers, len(files))
    if nw > 1:
        chunks = _chunks(files, nw * 4)
        import multiprocessing as mpc
        from concurrent.futures import ProcessPoolExecutor

        ctx = mpc.get_context("fork") if "fork" in mpc.get_all_start_methods() else None
        with ProcessPoolExecutor(max_workers=nw, mp_context=ctx) as ex:
            parts = list(ex.map(_read_chunk, chunks, [opts] * len(chunks)))
    else:
        parts = [_read_chunk(files, opts)]
    rows = Rows()
    for part in parts:
        _merge(part, rows, report)
        if part["error"] is not None:
            raise part["error"]
    if len(rows) == 0:
        reasons = "; ".join(f"{d.file}: {d.reason}" for d in report.dropped[:3])
        raise DataError(f"no scores read from {_label(paths)}" + (f" ({reasons})" if reasons else ""))
    from .identity import merge_case_variants, resolve_lineage
    from .resolve import dedupe, latest_wins, reconcile_models, to_table, variants

    df = rows.frame()
    del rows, parts
    merge_case_variants(df, report)
    df = latest_wins(df, report)
    df = dedupe(df, report)
    reconcile_models(df, report, family_overrides, params_from_names)
    resolve_lineage(df, report, family_overrides)
    table = to_table(df, name or _label(paths))
    del df
    rep = report.freeze(variants=variants(table), n_rows=len(table), n_models=table.n_models)
    return table, rep


def _read_native_alone(path: Path, report: ReportBuilder):
    """A single CAPE score table is returned exactly as written (no row passes the readers' repairs)."""
    from . import native
    from .common import read_bytes

    head = b"" if path.suffix.lower() == ".parquet" else read_bytes(path)[:4096]
    if not native.sniff(path, head):
        return None
    table = native.read_table(path)
    report.file_read(display(path), "cape", rows=len(table), models=table.n_models)
    report.note("a CAPE score table: read as written (scores in percent, as its header records)", display(path))
    from .resolve import variants

    return table, report.freeze(variants=variants(table), n_rows=len(table), n_models=table.n_models)


def _n_workers(workers: int | None, n_files: int) -> int:
    if workers is not None:
        return max(1, int(workers))
    if n_files < 1000:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _chunks(files: list, n: int) -> list[list]:
    size = max(1, -(-len(files) // n))
    return [files[i:i + size] for i in range(0, len(files), size)]


def _read_chunk(files: list[tuple[Path, bool]], opts: dict) -> dict:
    """Read consecutive files; stops at the first error unless ``keep_going``. Runs in worker processes."""
    rows = Rows()
    report = ReportBuilder(strict=opts.get("strict", False))
    error = None
    for path, explicit in files:
        n0 = len(rows)
        try:
            fmt, n = read_file(path, rows, report, mapping=opts["mapping"], units=opts["units"],
                               params_unit=opts["params_unit"], all_metrics=opts["all_metrics"])
        except NothingUsable as e:
            rows.truncate(n0)
            if explicit and not opts["keep_going"]:
                error = e
                break
            report.drop(display(path), "whole file", _strip_name(str(e), path))
            continue
        except DataError as e:
            rows.truncate(n0)
            if not opts["keep_going"]:
                error = e
                break
            report.drop(display(path), "whole file", _strip_name(str(e), path))
            continue
        report.file_read(display(path), fmt, rows=n, models=rows.models_since(n0))
    return {"rows": rows, "files": report.files, "dropped": report.dropped, "notes": report._notes,
            "error": error}


def _merge(part: dict, rows: Rows, report: ReportBuilder) -> None:
    rows.extend(part["rows"])
    report.files.extend(part["files"])
    report.dropped.extend(part["dropped"])
    for msg, files in part["notes"].items():
        have = report._notes.setdefault(msg, [])
        for f in files:
            if not have or have[-1] != f:
                have.append(f)


def _label(paths) -> str:
    if isinstance(paths, (str, os.PathLike)):
        return display(paths)
    ps = [display(p) for p in paths]
    return ", ".join(ps[:3]) + (f" and {len(ps) - 3} more" if len(ps) > 3 else "")


def _strip_name(msg: str, path: Path) -> str:
    pre = f"{display(path)}: "
    return msg[len(pre):] if msg.startswith(pre) else msg
