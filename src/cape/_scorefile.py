"""CAPE's own score-table files, at the level of frames: what ``cape ingest -o`` writes and every ``--scores``
option reads back as it was (:meth:`cape.scores.ScoreTable.read`, :mod:`cape.ingest.native`). This module never
imports :mod:`cape.scores`, which uses it.

A table written here records that its scores are percent (and keeps metric variants, shots, standard errors
and every model attribute), so reading it never re-detects units: a GSM8K score of 0.53 percent stays 0.53.

=========  ===================================================================================================
format     how the units are recorded
=========  ===================================================================================================
CSV        a first comment line ``# cape score table: {"version": 1, "units": "percent", ...}``, then the
           long table (``pandas.read_csv(path, comment="#")`` reads it too)
JSON       an object ``{"cape_score_table": 1, "units": "percent", "name": ..., "columns": [...],
           "rows": [{...}, ...]}``
Parquet    the same header in the file's key-value metadata under ``cape_score_table``
=========  ===================================================================================================

Example:
    >>> from cape.data import load_base                                      # doctest: +SKIP
    >>> t = load_base(); t.to_csv("table.csv")                               # doctest: +SKIP
    >>> ScoreTable.read("table.csv").long.equals(t.long)                     # doctest: +SKIP
    True
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd

from ._output import write_output
from .errors import DataError


def display(path) -> str:
    """The path as shown in messages (POSIX separators)."""
    import os

    return os.fspath(path).replace(os.sep, "/")

#: first characters of a CSV written by :func:`write_table`
CSV_MARK = "# cape score table:"
#: key of the JSON object / Parquet metadata
JSON_KEY = "cape_score_table"
VERSION = 1
_FLOATS = ("params", "score", "stderr")


def _header(table) -> dict:
    return {"version": VERSION, "units": "percent", "name": table.name, "columns": [str(c) for c in table._df.columns]}


def write_table(table, path: Path, fmt: str | None = None) -> Path:
    """Write ``table`` as CSV, JSON or Parquet (``fmt``, default from the suffix), atomically.

    Raises:
        DataError: an unknown format, or Parquet without pyarrow.
    """
    write_atomic = write_output
    fmt = (fmt or path.suffix.lower().lstrip(".")).lower()
    df = table._df
    if fmt == "csv":
        head = CSV_MARK + " " + json.dumps(_header(table), ensure_ascii=False) + "\n"
        return write_atomic(path, head + df.to_csv(index=False))
    if fmt == "json":
        obj = {JSON_KEY: VERSION, **_header(table), "rows": _records(df)}
        return write_atomic(path, json.dumps(obj, ensure_ascii=False, allow_nan=False) + "\n")
    if fmt == "parquet":
        return write_atomic(path, _parquet_bytes(table, df))
    raise DataError(f"{display(path)}: cannot write a score table as {fmt!r}; use .csv, .json or .parquet")


def _records(df: pd.DataFrame) -> list[dict]:
    out = df.astype(object).where(df.notna(), None).to_dict(orient="records")
    for r in out:
        for k in _FLOATS:
            v = r.get(k)
            if isinstance(v, float) and not math.isfinite(v):
                r[k] = None
        if r.get("shots") is not None:
            r["shots"] = int(r["shots"])
        if r.get("is_base") is not None:
            r["is_base"] = bool(r["is_base"])
    return out


def _parquet_bytes(table, df: pd.DataFrame) -> bytes:
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        from .errors import DependencyError

        raise DependencyError("writing Parquet needs pyarrow (pip install pyarrow); write .csv or .json instead")
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(t.schema.metadata or {})
    meta[JSON_KEY.encode()] = json.dumps(_header(table), ensure_ascii=False).encode("utf-8")
    t = t.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(t, buf)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------- reading

def sniff(path: Path, head: bytes) -> bool:
    """True when a file (its first bytes ``head``) is a table written by :func:`write_table`."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_header(path) is not None
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(CSV_MARK.encode()):
        return True
    return text.startswith(b"{") and f'"{JSON_KEY}"'.encode() in text[:200]


def _parquet_header(path: Path) -> dict | None:
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - not a readable Parquet file: the generic reader explains
        return None
    raw = meta.get(JSON_KEY.encode())
    return json.loads(raw) if raw else None


def read_frame(path: Path) -> tuple[pd.DataFrame, str, str]:
    """Read a table written by :func:`write_table`: ``(frame, units, name for messages)``; the caller builds
    the :class:`~cape.scores.ScoreTable` (``ScoreTable(frame, units=units, name=name, infer_family=False)``).

    Raises:
        DataError: the file is not such a table, or its header is damaged (one sentence naming the file).
    """
    name = display(path)
    if path.suffix.lower() == ".parquet":
        head = _parquet_header(path)
        if head is None:
            raise DataError(f"{name}: is not a score table written by CAPE (no {JSON_KEY} metadata)")
        return pd.read_parquet(path), _units(head, name), name
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{name}: cannot be read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: is not valid UTF-8 text; a CAPE score table is UTF-8") from None
    body = text.lstrip()
    if body.startswith(CSV_MARK):
        first, _, rest = body.partition("\n")
        try:
            head = json.loads(first[len(CSV_MARK):])
        except json.JSONDecodeError:
            raise DataError(f"{name}: line 1 is a damaged CAPE score-table header (not valid JSON)") from None
        df = pd.read_csv(io.StringIO(rest), dtype=str, keep_default_na=False, na_values=[""])
        return df, _units(head, name), name
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        raise DataError(f"{name}: is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(obj, dict) or JSON_KEY not in obj:
        raise DataError(f"{name}: is not a score table written by CAPE (read it with cape ingest)")
    rows = obj.get("rows")
    if not isinstance(rows, list):
        raise DataError(f"{name}: 'rows' is missing or not a list of records")
    cols = obj.get("columns") or None
    df = pd.DataFrame.from_records(rows, columns=cols) if rows else pd.DataFrame(columns=cols)
    return df, _units(obj, name), name


def _units(head, name: str) -> str:
    if not isinstance(head, dict):
        raise DataError(f"{name}: the CAPE score-table header is not an object")
    version = head.get("version", head.get(JSON_KEY))
    if not isinstance(version, int) or version > VERSION:
        raise DataError(f"{name}: written by a newer CAPE (score-table version {version!r}); upgrade CAPE")
    units = head.get("units", "percent")
    if units not in ("percent", "fraction"):
        raise DataError(f"{name}: the header records units {units!r}; expected percent")
    return str(units)
