"""Pieces shared by the readers: reading files with clear errors, a column-store of rows, cell parsers for
scores (``95.3%``, ``0.35±0.02``) and parameter counts (``7B``, ``125M``), unit resolution, the 57 MMLU
subjects."""

from __future__ import annotations

import contextlib
import csv
import gc
import itertools
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .. import catalog
from ..errors import DataError
from ..scores import MAX_PARAMS, MIN_PARAMS

# ----------------------------------------------------------------------------------------------- file access


def display(path: Path | str) -> str:
    """The path as shown in messages (as the user gave it, POSIX separators)."""
    s = os.fspath(path)
    return s if os.sep == "/" else s.replace(os.sep, "/")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a read, restoring its state after.

    The readers build millions of small lists, tuples and dicts that live until the score table is made and hold
    no reference cycles; the collector would traverse all of them again and again as they accumulate (its
    passes grow with the number of live objects) without freeing anything. Reference counting still frees
    everything as usual. The collector is process-wide: the pause concerns every thread.

    Yields:
        Nothing; the collector runs again (if it was running) when the block ends, also on an error.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# ----------------------------------------------------------------------------------------------- JSON

def load_json(data: bytes, name: str):
    """Parse a JSON file with the standard parser: what it returns is exactly what ``json.load`` returns.

    (Reading only the top-level sections by their indentation was 2.6x faster on real lm-eval files, but it
    is not JSON: a nested key at the top level's indentation fooled it, and malformed skipped sections passed.)

    Raises:
        DataError: empty, binary, wrongly encoded or malformed JSON, with the line and column.
    """
    try:
        text = data.decode("utf-8-sig" if data[:3] == b"\xef\xbb\xbf" else "utf-8")
    except UnicodeDecodeError:
        text = decode_text(data, name)
    if "\x00" in text[:4096]:
        raise DataError(f"{name}: looks like binary data, not text (expected a results JSON or a CSV file)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        if not text.strip():
            raise DataError(f"{name}: is empty (expected a results JSON or a CSV with a header line)") from None
        raise DataError(f"{name}: is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise DataError(f"{name}: is not usable JSON (nested too deeply)") from None
    except ValueError as e:  # e.g. an integer of thousands of digits
        raise DataError(f"{name}: holds a value that cannot be read ({e})") from None


#: The largest input file read, in bytes (2 GiB); ``CAPE_MAX_INPUT_BYTES`` changes it.
MAX_INPUT_BYTES = 2 * 1024**3


def max_input_bytes() -> int:
    """The size limit on one input file: ``CAPE_MAX_INPUT_BYTES`` if set (bytes), else :data:`MAX_INPUT_BYTES`."""
    raw = os.environ.get("CAPE_MAX_INPUT_BYTES", "").strip()
    if not raw:
        return MAX_INPUT_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise DataError(f"CAPE_MAX_INPUT_BYTES={raw!r} is not a whole number of bytes") from None
    if value <= 0:
        raise DataError(f"CAPE_MAX_INPUT_BYTES={raw!r} must be positive")
    return value


def check_readable(path: Path) -> int:
    """Refuse, before reading a byte, what is not an ordinary file of a sane size; returns its size.

    Devices (``/dev/zero`` would be read until memory runs out), FIFOs (a read would wait forever) and sockets
    are refused, and so is a file over :func:`max_input_bytes`.

    Raises:
        DataError: one sentence naming the file.
    """
    import stat

    name = display(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{name}: does not exist (a broken link or a file removed while reading)") from None
    except OSError as e:
        raise DataError(f"{name}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{name}: is a directory where a file was expected")
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{name}: is not a regular file (a device, FIFO or socket); give a score file")
    limit = max_input_bytes()
    if st.st_size > limit:
        raise DataError(f"{name}: is {st.st_size / 1e9:.2f} GB, over the {limit / 1e9:.2f} GB limit on one input "
                        "file (set CAPE_MAX_INPUT_BYTES to raise it)")
    return st.st_size


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into one-sentence :class:`DataError`s."""
    name = display(path)
    check_readable(path)
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise DataError(f"{name}: is a directory where a file was expected") from None
    except PermissionError:
        raise DataError(f"{name}: cannot be read (permission denied); make it readable or leave it out") from None
    except FileNotFoundError:
        raise DataError(f"{name}: does not exist (a broken link or a file removed while reading)") from None
    except OSError as e:
        raise DataError(f"{name}: cannot be read ({e.strerror or e})") from None


def decode_text(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM; UTF-16 with BOM), refusing binary data with a clear sentence."""
    if not data.strip():
        raise DataError(f"{name}: is empty (expected a results JSON or a CSV with a header line)")
    if data.startswith(b"PAR1"):
        raise DataError(f"{name}: is a Parquet file; give it a .parquet extension")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    head = data[:4096]
    if b"\x00" in head and (head[1::2].count(0) > len(head) * 0.4 or head[0::2].count(0) > len(head) * 0.4):
        raise DataError(f"{name}: looks like UTF-16 text without a byte-order mark; save it as UTF-8")
    if b"\x00" in head:
        raise DataError(f"{name}: looks like binary data, not text (expected a results JSON or a CSV file)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = data[e.start:e.start + 1].hex()
        ctrl = sum(b < 9 or 13 < b < 32 for b in head)
        if ctrl > len(head) * 0.05:
            raise DataError(f"{name}: looks like binary data, not text (expected a results JSON or a CSV "
                            "file)") from None
        raise DataError(f"{name}: is not valid UTF-8 text (byte 0x{bad} at offset {e.start}); save it as "
                        "UTF-8") from None


# ----------------------------------------------------------------------------------------------- tables


@dataclass
class Table:
    """A rectangular text table read from a CSV (or converted from Parquet).

    ``rows[i]`` came from ``locs[i]`` (``"line 7"`` for CSV, ``"row 7"`` for Parquet), used in messages.
    """

    name: str
    header: list[str]
    rows: list[list[str]]
    locs: list[str]

    def col(self, c: str) -> int:
        return self.header.index(c)


def read_csv_table(path: Path, text: str | None = None, report=None) -> Table:
    """Parse a CSV/TSV file into a :class:`Table`, checking the header and every line's field count.

    With a ``report`` (a :class:`~cape.ingest.report.ReportBuilder`), problems confined to one line or column
    are dropped and listed (a pandas index column, a column without a name, a repeated column name, a line with
    the wrong number of fields); under ``report.strict``, or without a report, they refuse the file.
    """
    name = display(path)
    if text is None:
        text = decode_text(read_bytes(path), name)
    lines = text.splitlines()
    # skip leading blank and comment lines
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith("#")):
        start += 1
    if start >= len(lines):
        raise DataError(f"{name}: has no header line (the file holds only blank or comment lines)")
    first = lines[start]
    if path.suffix.lower() in (".tsv", ".tab"):
        delim = "\t"
    else:
        counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
        delim = max(counts, key=counts.get)
        if counts[delim] == 0:
            delim = ","
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
    if len(header) < 2:
        raise DataError(f"{name}: the header has a single column {header[0]!r}; expected comma-separated "
                        "columns such as model, HellaSwag, TruthfulQA")
    if not rows:
        raise DataError(f"{name}: has a header but no data lines")
    table = Table(name, header, rows, locs)
    return _clean_header(table, report)


def _is_index_column(table: Table, j: int) -> bool:
    """True when column ``j`` holds increasing whole row numbers (0, 1, 2, ..., or a subset), as pandas writes
    its index."""
    vals = [r[j].strip() for r in table.rows[:1000]]
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
    keep = [j for j in range(len(header)) if j not in set(drop)]
    if len(keep) < 2:
        raise DataError(f"{name}: fewer than two named columns; expected columns such as model, HellaSwag")
    return Table(name, [header[j] for j in keep], [[r[j] for j in keep] for r in table.rows], table.locs)


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


# ----------------------------------------------------------------------------------------------- rows store

ROW_FIELDS = ("model", "family", "params", "benchmark", "score", "metric", "shots", "stderr", "source", "lab",
              "is_base", "recipe", "date", "base_model", "model_type")


@dataclass
class Rows:
    """Column store of scores (percent) before they become a :class:`~cape.scores.ScoreTable`.

    Besides the table's columns each row carries ``file`` (for messages), ``loc`` (line or field) and ``ts``
    (run time stamp, for the latest-run-wins rule; NaN when the format has none).
    """

    cols: dict[str, list] = field(default_factory=lambda: {k: [] for k in (*ROW_FIELDS, "file", "loc", "ts",
                                                                                   "native")})

    def add(self, *, model, benchmark, score, file, loc, family=None, params=math.nan, metric=None, shots=None,
            stderr=math.nan, source=None, lab=None, is_base=None, recipe=None, date=None, ts=math.nan,
            base_model=None, model_type=None) -> None:
        c = self.cols
        c["model"].append(model)
        c["family"].append(family)
        c["params"].append(params)
        c["benchmark"].append(benchmark)
        c["score"].append(score)
        c["metric"].append(metric)
        c["shots"].append(shots)
        c["stderr"].append(stderr)
        c["source"].append(source)
        c["lab"].append(lab)
        c["is_base"].append(is_base)
        c["recipe"].append(recipe)
        c["date"].append(date)
        c["base_model"].append(base_model)
        c["model_type"].append(model_type)
        c["file"].append(file)
        c["loc"].append(loc)
        c["ts"].append(ts)
        c["native"].append(False)

    def extend(self, other: Rows) -> None:
        for k, v in other.cols.items():
            self.cols[k].extend(v)

    def __len__(self) -> int:
        return len(self.cols["model"])

    def n_models(self) -> int:
        return len(set(self.cols["model"]))

    def take(self, keep: list[int]) -> Rows:
        out = Rows()
        for k, v in self.cols.items():
            out.cols[k] = [v[i] for i in keep]
        return out


# ----------------------------------------------------------------------------------------------- cells

_NUM = r"[-+]?(?:\d+(?:[.,]\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SCORE_RE = re.compile(
    rf"^\s*(?P<val>{_NUM})\s*(?P<p1>%)?\s*"
    rf"(?:(?:±|\+/-|\+-|\+−)\s*(?P<se>{_NUM})\s*(?P<p2>%)?|\(\s*(?:±\s*)?(?P<se2>{_NUM})\s*(?P<p3>%)?\s*\))?\s*$")
#: cell text meaning "not measured" in a wide table
EMPTY_CELLS = frozenset({"", "-", "—", "–", "n/a", "na", "none", "null", "not reported", "?"})


class CellError(ValueError):
    """A cell that cannot be parsed; the message completes a sentence after the cell's location."""


def parse_score(text: str) -> tuple[float, float, bool]:
    """Parse a score cell: ``"72.1"``, ``"95.3%"``, ``"0.35±0.02"``, ``"35 ± 2 %"``, ``"61.2 (1.4)"``.

    Returns:
        (value, stderr or NaN, marked_percent) in the cell's own unit.

    Raises:
        CellError: for text that is not a finite number.
    """
    s = str(text).strip()
    if "_" not in s:  # the common case, a plain number, without the regular expression
        try:
            v = float(s)
        except ValueError:
            pass
        else:
            if math.isfinite(v):
                return v, math.nan, False
    m = _SCORE_RE.match(s)
    if not m:
        raise CellError(f"{s!r} is not a number (expected e.g. 72.1, 95.3% or 0.35±0.02)")
    val = float(m.group("val").replace(",", "."))
    se_s = m.group("se") or m.group("se2")
    se = float(se_s.replace(",", ".")) if se_s else math.nan
    pct = bool(m.group("p1") or m.group("p2") or m.group("p3"))
    if not math.isfinite(val):
        raise CellError(f"{s!r} is not a finite number")
    if se_s and se < 0:
        raise CellError(f"{s!r} has a negative standard error")
    return val, se, pct


_PARAM_RE = re.compile(r"^\s*(?P<val>[-+]?(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
                       r"(?P<suf>[kKmMbBtT]|bn|BN|Bn|mn|million|billion|trillion|thousand)?\s*$")
_SUFFIX = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
           "billion": 1e9, "t": 1e12, "trillion": 1e12}


def parse_params(text: str) -> tuple[float, float | None]:
    """Parse a parameter-count cell: ``"7e9"``, ``"7,000,000,000"``, ``"1.4B"``, ``"125M"``.

    Returns:
        (number, multiplier) where multiplier is set when the cell carried a unit suffix (then the number is
        already raw), else ``None`` (the column's unit applies).
    """
    s = str(text).strip()
    m = _PARAM_RE.match(s)
    if not m:
        raise CellError(f"{s!r} is not a parameter count (expected e.g. 7e9, 7B or 125M)")
    v = float(m.group("val").replace(",", "").replace("_", ""))
    suf = m.group("suf")
    if suf:
        mult = _SUFFIX[suf.lower()]
        return v * mult, mult
    return v, None


PARAM_UNITS = {"raw": 1.0, "": 1.0, "1": 1.0, "k": 1e3, "m": 1e6, "million": 1e6, "millions": 1e6,
               "b": 1e9, "billion": 1e9, "billions": 1e9, "bn": 1e9}


def param_unit_factor(unit: str | None, where: str = "params_unit") -> float | None:
    """``"raw"|"M"|"B"`` (case-insensitive) to a multiplier; ``None`` for auto."""
    if unit is None or str(unit).strip().lower() in ("auto",):
        return None
    u = str(unit).strip().lower()
    if u not in PARAM_UNITS:
        raise DataError(f"{where}: unknown parameter unit {unit!r}; expected raw, M or B")
    return PARAM_UNITS[u]


def unit_from_header(header: str) -> float | None:
    """Parameter unit declared in a column name: ``params_B``, ``#Params (B)``, ``size (millions)``."""
    h = header.strip().lower()
    if re.search(r"(\(|\[|_|\s|^)(b|bn|billions?)(\)|\]|$)", h) or h.endswith("_b") or "billion" in h:
        return 1e9
    if re.search(r"(\(|\[|_|\s|^)(m|mn|millions?)(\)|\]|$)", h) or "million" in h:
        return 1e6
    return None


#: a size token: 1.3b, 125m, 1_6b (1.6B), 1b1 / 7b1 (1.1B / 7.1B, BLOOM's spelling), 8x7b (mixture of experts);
#: bounded by the name's start/end or a separator, so A2.7B (active size), 128k (context), 115k-steps and
#: v0.1 are never sizes
_NAME_SIZE = re.compile(r"(?:^|(?<=[-_/ ]))(?:(?P<experts>\d+)x)?(?P<int>\d+)(?:[._](?P<frac>\d+))?"
                        r"(?P<unit>[mb])(?P<tail>\d)?(?=$|[-_./ ])", re.I)


@dataclass(frozen=True)
class NameSize:
    """A size read from a model name: ``total`` parameters (nominal: experts x expert size for a mixture of
    experts) and, for a mixture, the number of ``experts`` and the size of one (``expert``)."""

    total: float
    experts: int | None = None
    expert: float | None = None

    @property
    def is_moe(self) -> bool:
        return self.experts is not None


def name_size(model: str) -> NameSize | None:
    """Nominal size in a model name, or ``None`` when the name holds no size token or several different ones.

    Examples: ``pythia-1.4b`` -> 1.4e9; ``opt-125m`` -> 1.25e8; ``stablelm-2-1_6b`` -> 1.6e9; ``bloom-1b1`` ->
    1.1e9; ``bloom-7b1`` -> 7.1e9; ``Mixtral-8x7B`` -> 5.6e10 total, 8 experts of 7e9. Context lengths
    (``128k``), training steps (``115k-steps``) and versions (``v0.1``) are not sizes.
    """
    name = str(model).split("/")[-1].split("@")[0]
    found: set[tuple[float, int | None]] = set()
    for m in _NAME_SIZE.finditer(name):
        whole = m.group("int")
        frac = m.group("frac") or m.group("tail")
        if m.group("frac") and m.group("tail"):
            continue  # 1.5b2: not a size
        if m.group("frac") and name[m.end("int")] == "_" and re.search(r"(^|[-_/ ])[A-Za-z]+[-_ ]?$",
                                                                        name[:m.start()]):
            whole, frac = m.group("frac"), None  # LLAMA-3_8B: version 3, size 8B (stablelm-2-1_6b is 1.6B)
        v = float(f"{whole}.{frac}" if frac else whole) * (1e9 if m.group("unit").lower() == "b" else 1e6)
        experts = int(m.group("experts")) if m.group("experts") else None
        found.add((v, experts))
    if len(found) != 1:
        return None
    v, experts = found.pop()
    if experts:
        return NameSize(total=v * experts, experts=experts, expert=v)
    return NameSize(total=v)


def params_from_name(model: str) -> float | None:
    """Nominal total size from a model name (see :func:`name_size`), or ``None``."""
    ns = name_size(model)
    return None if ns is None else ns.total


# ----------------------------------------------------------------------------------------------- units


@dataclass
class ScoreCells:
    """Parsed score cells of one file, before conversion to percent."""

    values: list[float] = field(default_factory=list)
    ses: list[float] = field(default_factory=list)
    pct: list[bool] = field(default_factory=list)
    bench: list[str] = field(default_factory=list)
    locs: list[str] = field(default_factory=list)

    def add(self, v: float, se: float, pct: bool, bench: str, loc: str) -> None:
        self.values.append(v)
        self.ses.append(se)
        self.pct.append(pct)
        self.bench.append(bench)
        self.locs.append(loc)


def to_percent(cells: ScoreCells, units: str, name: str, report=None) -> tuple[list[float], list[float], str]:
    """Convert one file's score cells to percent.

    ``units="auto"``: a cell marked ``%`` is percent; unmarked cells are fractions when every unmarked cell of
    the file lies in [0, 1] (and no cell is marked ``%``), else percent. Fractions inside a percent column of a
    base benchmark, and unmarked fractions beside ``%`` cells, are refused.

    With a ``report`` (lenient reading), a cell out of range or a 0-1 fraction among percent scores of a
    multiple-choice benchmark is dropped with its reason (NaN in the returned scores) instead of refusing the
    file.

    Returns:
        (scores, stderrs, how) with ``how`` in ``percent``/``fraction``/``mixed-marked``.
    """
    from ..scores import _FLOORED

    bad: dict[int, tuple[str, str]] = {}

    def refuse(i: int, reason: str, message: str) -> None:
        if report is None or report.strict:
            raise DataError(message)
        bad[i] = (reason, message)

    if units not in ("auto", "percent", "fraction"):
        raise DataError(f"{name}: units must be auto, percent or fraction, not {units!r}")
    n = len(cells.values)
    bare = [i for i in range(n) if not cells.pct[i]]
    marked = [i for i in range(n) if cells.pct[i]]
    if units == "fraction":
        factor = 100.0
        over = [i for i in bare if cells.values[i] > 1.0]
        if over:  # the declaration contradicts the file: not a one-cell problem
            i = over[0]
            raise DataError(f"{name}: {cells.locs[i]} has score {cells.values[i]:g} but the scores were declared "
                            "fractions (0-1); declare them percent (cape ingest --units percent) or fix the value")
        how = "fraction"
    elif units == "percent":
        factor = 1.0
        how = "percent"
    else:
        if bare and all(0.0 <= cells.values[i] <= 1.0 for i in bare):
            if marked and max(cells.values[i] for i in marked) > 1.0:
                i = bare[0]
                j = marked[0]
                raise DataError(f"{name}: {cells.locs[i]} has score {cells.values[i]:g}, a 0-1 fraction, while "
                                f"{cells.locs[j]} is a percent ({cells.values[j]:g}%); fractions mixed with "
                                "percent: give every score in one unit")
            factor = 100.0
            how = "fraction"
        else:
            factor = 1.0
            how = "percent"
            # fractions hiding in a percent column of a base benchmark
            by: dict[str, list[int]] = {}
            for i in bare:
                by.setdefault(cells.bench[i], []).append(i)
            for b, idx in by.items():
                if b not in _FLOORED:
                    continue
                mx = max(cells.values[i] for i in idx)
                if mx <= 5.0:
                    continue
                for i in (i for i in idx if 0.0 < cells.values[i] < 1.0):
                    refuse(i, f"{b} score {cells.values[i]:g} looks like a 0-1 fraction among percent scores (up "
                              f"to {mx:g}); cell not read",
                           f"{name}: {cells.locs[i]} has {b} score {cells.values[i]:g}, a 0-1 fraction, while other "
                           f"{b} scores are percent (up to {mx:g}); fractions mixed with percent: give every score "
                           "in one unit")
    scores = []
    ses = []
    for i in range(n):
        f = 1.0 if cells.pct[i] else factor
        v = cells.values[i] * f
        if v < 0 or v > 100.0 + 1e-9:
            unit = "percent" if f == 1.0 else "a fraction"
            refuse(i, f"score {cells.values[i]:g} read as {unit} is outside 0-100 percent; cell not read",
                   f"{name}: {cells.locs[i]} has score {cells.values[i]:g} read as {unit}, which is outside 0-100 "
                   "percent")
        if i in bad:
            report.drop(name, cells.locs[i], bad[i][0])
            v = math.nan
        scores.append(v)
        ses.append(cells.ses[i] * f)
    if marked and how == "fraction":
        how = "mixed-marked"
    return scores, ses, how


def check_params(value: float, name: str, loc: str, model: str) -> float:
    """Refuse non-positive, absurd or implausibly small raw parameter counts with a located sentence."""
    if not math.isfinite(value):
        raise DataError(f"{name}: {loc} (model {model!r}) has a non-finite parameter count")
    if value <= 0:
        raise DataError(f"{name}: {loc} (model {model!r}) has parameter count {value:g}; expected a positive "
                        "number")
    if value > MAX_PARAMS:
        raise DataError(f"{name}: {loc} (model {model!r}) has an absurd parameter count {value:g} (more than "
                        "1e14); give the raw count (7e9), or millions/billions with cape ingest --params-unit")
    if value < MIN_PARAMS:
        raise DataError(f"{name}: {loc} (model {model!r}) has parameter count {value:g}, too small for a raw "
                        "count; declare the unit with cape ingest --params-unit M or B")
    return value


# ----------------------------------------------------------------------------------------------- names

def norm_key(s: str) -> str:
    """Lower-case alphanumerics only: ``"#Params (B)" -> "paramsb"``."""
    return re.sub(r"[^a-z0-9]", "", str(s).lower())


def near_benchmark(name: str, cutoff: float = 0.84) -> str | None:
    """The canonical benchmark a name is a near miss of (a likely typo), or ``None``."""
    import difflib

    key = norm_key(name)
    if len(key) < 4:
        return None
    keys = {}
    for b in catalog.BENCHMARKS:
        for a in (b.name, b.short, *b.aliases):
            k = norm_key(a)
            if len(k) >= 4:
                keys[k] = b.name
    hit = difflib.get_close_matches(key, list(keys), n=1, cutoff=cutoff)
    return keys[hit[0]] if hit else None


#: The 57 MMLU subjects (hendrycksTest-<subject> in the Open LLM Leaderboard v1, mmlu_<subject> in lm-eval).
MMLU_SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
    "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine",
    "college_physics", "computer_security", "conceptual_physics", "econometrics", "electrical_engineering",
    "elementary_mathematics", "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics", "high_school_mathematics",
    "high_school_microeconomics", "high_school_physics", "high_school_psychology", "high_school_statistics",
    "high_school_us_history", "high_school_world_history", "human_aging", "human_sexuality", "international_law",
    "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing", "medical_genetics",
    "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition", "philosophy", "prehistory",
    "professional_accounting", "professional_law", "professional_medicine", "professional_psychology",
    "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology", "world_religions",
)
MMLU_SET = frozenset(MMLU_SUBJECTS)
assert len(MMLU_SUBJECTS) == 57

_TS_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[T_ ](\d{2})[-:](\d{2})[-:](\d{2})(?:\.(\d+))?")


def timestamp_from_name(name: str) -> float:
    """Seconds since the epoch from ``results_2024-05-01T12-00-00.123456.json`` (also with colons); NaN if none."""
    m = _TS_RE.search(name)
    if not m:
        return math.nan
    import calendar

    d, hh, mm, ss, frac = m.groups()
    y, mo, dd = (int(x) for x in d.split("-"))
    h, mi, se_ = int(hh), int(mm), int(ss)
    if not (1 <= mo <= 12 and 1 <= dd <= 31 and h < 24 and mi < 60 and se_ < 61):
        return math.nan
    return calendar.timegm((y, mo, dd, h, mi, se_, 0, 0, 0)) + (float("0." + frac) if frac else 0.0)


def fmt_ts(ts: float) -> str:
    from datetime import datetime, timezone

    if not math.isfinite(ts):
        return "unknown time"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
