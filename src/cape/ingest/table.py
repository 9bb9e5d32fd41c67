"""Rectangular text tables read from CSV, TSV or Parquet files, with every problem located by line or row.

A CSV without quote characters is parsed by pyarrow straight into string columns (a million-line file never
becomes a million Python lists); any other file, or one the fast parser does not accept as it is (a blank line
inside, a line with the wrong number of fields), is read line by line with the :mod:`csv` module, which
locates and reports each problem. Both give the same table: the fast path is used only where the two parsers
cannot differ.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .common import check_readable, decode_text, display, read_bytes

#: characters str.splitlines() breaks lines at besides "\n" and "\r\n" (and NUL, which the csv module refuses),
#: and the quote, as UTF-8 bytes: a file holding one is read line by line, so that fields and line numbers stay
#: those of the csv module
_ODD_BYTES = (b'"', b"\x00", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", "\x85".encode(), "\u2028".encode(),
              "\u2029".encode())


class Table:
    """A rectangular text table read from a CSV (or converted from Parquet).

    Either row by row (``rows[i]`` came from ``locs[i]``: ``"line 7"`` for CSV, ``"row 7"`` for Parquet) or by
    column (``columns[j]`` a pyarrow string array, ``lines[i]`` the line row ``i`` came from); each form is
    built from the other on first use, so readers may use whichever suits them.
    """

    def __init__(self, name: str, header: list[str], rows: list[list[str]] | None = None,
                 locs: list[str] | None = None, *, columns: list | None = None, lines=None):
        self.name = name
        self.header = header
        self._rows = rows
        self._locs = locs
        self._columns: list[Any] = columns if columns is not None else []
        self._lines = lines
        self._codes: dict[int, tuple[np.ndarray, list[str]]] = {}

    def __len__(self) -> int:
        return len(self._rows) if self._rows is not None else len(self._lines)

    def col(self, c: str) -> int:
        return self.header.index(c)

    @property
    def rows(self) -> list[list[str]]:
        if self._rows is None:
            cols = [c.to_pylist() for c in self._columns]
            self._rows = [list(r) for r in zip(*cols)]
        return self._rows

    @property
    def locs(self) -> list[str]:
        if self._locs is None:
            self._locs = [f"line {n}" for n in self._lines.tolist()]
        return self._locs

    def loc(self, k: int) -> str:
        """Where row ``k`` came from (``"line 7"``)."""
        return self._locs[k] if self._locs is not None else f"line {int(self._lines[k])}"

    def locs_at(self, ks: np.ndarray, suffix: str = ""):
        """Locations of rows ``ks``, each followed by ``suffix`` (a list of text, or for a table read by column
        a :class:`~cape.ingest.rows.LineLocs` that makes the text on demand)."""
        if self._locs is not None:
            return [self._locs[k] + suffix for k in ks.tolist()]
        from .rows import LineLocs

        return LineLocs(self._lines[ks], "line {}" + suffix.replace("{", "{{").replace("}", "}}"))

    def cell(self, k: int, j: int) -> str:
        """The text of row ``k``, column ``j``."""
        if self._rows is not None:
            return self._rows[k][j]
        codes, uniq = self.codes(j)
        return uniq[codes[k]]

    def codes(self, j: int) -> tuple[np.ndarray, list[str]]:
        """Column ``j`` factorised: ``(codes, values)`` with ``values[codes[k]]`` the text of row ``k``, values in
        order of first appearance (per-value work then runs once per distinct text)."""
        hit = self._codes.get(j)
        if hit is None:
            if self._rows is None:
                import pyarrow.compute as pc

                col = self._columns[j]
                uniq = pc.unique(col)
                codes = pc.index_in(col, value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int64)
                hit = (codes, uniq.to_pylist())
            else:
                import pandas as pd

                codes, u = pd.factorize(pd.Series([r[j] for r in self._rows], dtype=object), use_na_sentinel=False)
                hit = (codes.astype(np.int64), list(u))
            self._codes[j] = hit
        return hit

    def head(self, j: int, n: int) -> list[str]:
        """The first ``n`` cells of column ``j``."""
        if self._rows is not None:
            return [r[j] for r in self._rows[:n]]
        return self._columns[j].slice(0, n).to_pylist()

    def without_columns(self, drop: list[int]) -> Table:
        keep = [j for j in range(len(self.header)) if j not in set(drop)]
        header = [self.header[j] for j in keep]
        if self._rows is None:
            return Table(self.name, header, columns=[self._columns[j] for j in keep], lines=self._lines)
        return Table(self.name, header, [[r[j] for j in keep] for r in self.rows], self.locs)


def _delimiter(path: Path, first: str) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    delim = max(counts, key=lambda d: counts[d])
    return delim if counts[delim] else ","


def read_csv_table(path: Path, text: str | None = None, report=None, raw: bytes | None = None) -> Table:
    """Parse a CSV/TSV file into a :class:`Table`, checking the header and every line's field count.

    With a ``report`` (a :class:`~cape.ingest.report.ReportBuilder`), problems confined to one line or column
    are dropped and listed (a pandas index column, a column without a name, a repeated column name, a line with
    the wrong number of fields); under ``report.strict``, or without a report, they refuse the file.

    Args:
        text: the file's text, if already decoded.
        raw: the file's bytes, if already read (the fast reader parses them without a decoded copy).
    """
    name = display(path)
    if raw is None and text is None:
        raw = read_bytes(path)
    table = None
    if raw is not None:
        decode_text(raw, name)  # the same refusals as the careful reader (binary data, bad UTF-8 ...)
        table = _read_columns(path, raw, name)
    if table is None:
        if text is None:
            assert raw is not None
            text = decode_text(raw, name)
        table = _read_lines(path, text, name, report)
    if len(table.header) < 2:
        raise DataError(f"{name}: the header has a single column {table.header[0]!r}; expected comma-separated "
                        "columns such as model, HellaSwag, TruthfulQA")
    if not len(table):
        raise DataError(f"{name}: has a header but no data lines")
    return _clean_header(table, report)


def _read_lines(path: Path, text: str, name: str, report) -> Table:
    """The careful reader: line by line with the csv module, each problem located and reported."""
    lines = text.splitlines()
    # skip leading blank and comment lines
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith("#")):
        start += 1
    if start >= len(lines):
        raise DataError(f"{name}: has no header line (the file holds only blank or comment lines)")
    delim = _delimiter(path, lines[start])
    # line by line, each with its line break back (a quoted cell may span lines): no second copy of the text
    reader = csv.reader((ln + "\n" for ln in itertools.islice(lines, start, None)), delimiter=delim, strict=True)
    rows: list[list[str]] = []
    locs: list[str] = []
    header: list[str] | None = None
    try:
        for rec in reader:
            line_no = reader.line_num + start
            if header is None:
                header = [h.strip() for h in rec]
                continue
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != len(header):
                if len(rec) > len(header) and all(not c.strip() for c in rec[len(header):]):
                    rec = rec[:len(header)]
                else:
                    msg = (f"{name}: line {line_no} has {len(rec)} fields but the header has {len(header)} (a stray "
                           "delimiter or an unclosed quote?)")
                    if report is None or report.strict:
                        raise DataError(msg)
                    report.drop(name, f"line {line_no}", f"has {len(rec)} fields but the header has {len(header)}; "
                                "not read")
                    continue
            rows.append(rec)
            locs.append(f"line {line_no}")
    except csv.Error as e:
        raise DataError(f"{name}: line {reader.line_num + start} is not valid CSV ({e})") from None
    assert header is not None
    return Table(name, header, rows, locs)


def _read_columns(path: Path, raw: bytes, name: str) -> Table | None:
    """The fast reader, for a UTF-8 file without quotes, odd line breaks or irregular lines: pyarrow parses the
    lines after the header into string columns. ``None`` when the file needs the careful reader."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    start = 3 if raw[:3] == b"\xef\xbb\xbf" else 0
    if any(ch in raw for ch in _ODD_BYTES) or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    pos, line_no = start, 0
    while True:  # skip leading blank and comment lines, as the careful reader does
        end = raw.find(b"\n", pos)
        line = (raw[pos:] if end < 0 else raw[pos:end]).decode("utf-8")
        line_no += 1
        if line.strip() and not line.lstrip().startswith("#"):
            break
        if end < 0:
            return None
        pos = end + 1
    stop = len(raw)
    while stop > end + 1 and raw[stop - 1] in b"\r\n":
        stop -= 1
    delim = _delimiter(path, line)
    header = [h.strip() for h in line.rstrip("\r").split(delim)]
    if end < 0 or stop <= end + 1 or len(header) < 2:
        return None
    tab = _parse(memoryview(raw)[end + 1:stop], len(header), delim)
    if tab is None:
        return None
    cols = [tab.column(j) for j in range(len(header))]
    del tab
    import pyarrow as pa

    pa.default_memory_pool().release_unused()  # the parser's scratch memory, kept by the pool otherwise
    lines = np.arange(line_no + 1, line_no + 1 + len(cols[0]), dtype=np.int64)
    blank = _blank_rows(cols)
    if blank is not None:
        keep = ~blank
        cols = [c.filter(pa.array(keep)) for c in cols]
        lines = lines[keep]
    return Table(name, header, columns=cols, lines=lines)


def _parse(body, ncols: int, delim: str):
    """pyarrow's parse of the data lines into ``ncols`` string columns, or ``None`` when it refuses them."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    import multiprocessing

    names = [f"c{j}" for j in range(ncols)]
    # in a reader process (forked by read_any for many files) pyarrow's own threads are not started: the files
    # are already read in parallel, and a thread pool left running when a forked worker exits can abort it
    threads = multiprocessing.parent_process() is None
    try:
        return pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char=False, double_quote=False,
                                             escape_char=False, newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names}, null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowException:
        return None


def _blank_rows(cols) -> np.ndarray | None:
    """Rows whose every cell is blank (the careful reader skips them), or ``None`` when there are none; only rows
    with a blank first cell are looked at further."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def blank(c):
        return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(c)), 0).to_numpy(zero_copy_only=False)

    cand = np.flatnonzero(blank(cols[0]))
    if not len(cand):
        return None
    idx = pa.array(cand)
    ok = np.ones(len(cand), dtype=bool)
    for c in cols[1:]:
        ok &= blank(c.take(idx))
    if not ok.any():
        return None
    mask = np.zeros(len(cols[0]), dtype=bool)
    mask[cand[ok]] = True
    return mask


def _is_index_column(table: Table, j: int) -> bool:
    """True when column ``j`` holds increasing whole row numbers (0, 1, 2, ..., or a subset), as pandas writes
    its index."""
    vals = [v.strip() for v in table.head(j, 1000)]
    if not vals or not all(v.isdigit() for v in vals):
        return False
    nums = [int(v) for v in vals]
    return all(a < b for a, b in zip(nums, nums[1:]))


def _clean_header(table: Table, report) -> Table:
    """Drop (or, strictly, refuse) unnamed and repeated columns; returns the table without them."""
    name, header = table.name, table.header
    drop: list[int] = []
    seen: dict[str, int] = {}
    for j, h in enumerate(header):
        if not h or h.lower().startswith("unnamed:"):
            if _is_index_column(table, j):
                reason = "a row-number (pandas index) column without a name; not read"
            else:
                reason = "has no name; not read"
            msg = f"{name}: header column {j + 1} has no name"
            if report is None or report.strict:
                raise DataError(msg + " (name it, or read the file without --strict to drop it)"
                                if report is not None else msg)
            report.drop(name, f"column {j + 1} (unnamed)", reason)
            drop.append(j)
        elif h in seen:
            msg = (f"{name}: column {h!r} appears more than once in the header; column names must be unique")
            if report is None or report.strict:
                raise DataError(msg)
            report.drop(name, f"column {j + 1} ({h})", f"repeats the name of column {seen[h] + 1}; the first was "
                        "read")
            drop.append(j)
        else:
            seen[h] = j
    if not drop:
        return table
    if len(header) - len(drop) < 2:
        raise DataError(f"{name}: fewer than two named columns; expected columns such as model, HellaSwag")
    return table.without_columns(drop)


def read_parquet_table(path: Path, report=None) -> Table:
    """Read a Parquet file (needs pyarrow) into a :class:`Table` of strings."""
    name = display(path)
    check_readable(path)  # same refusals and OS error messages as other files, without reading it twice
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        from ..errors import DependencyError

        raise DependencyError(f"{name}: reading Parquet needs pyarrow (pip install pyarrow), or export the "
                              "table as CSV") from None
    import pandas as pd

    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise DataError(f"{name}: is not a readable Parquet file ({type(e).__name__})") from None
    if df.empty:
        raise DataError(f"{name}: the Parquet table has no rows")
    header = ["" if str(c).startswith("__index_level_") else str(c).strip() for c in df.columns]
    rows = []
    for rec in df.itertuples(index=False, name=None):
        rows.append(["" if _isnull(v) else str(v) for v in rec])
    return _clean_header(Table(name, header, rows, [f"row {i + 1}" for i in range(len(rows))]), report)


def _isnull(v) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False
