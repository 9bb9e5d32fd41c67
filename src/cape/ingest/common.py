"""Pieces shared by the readers: reading files with clear errors, a column-store of rows, cell parsers for
scores (``95.3%``, ``0.35±0.02``) and parameter counts (``7B``, ``125M``), unit resolution, the 57 MMLU
subjects."""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    hits = _NAME_SIZE.findall(name)
    if not hits:
        return None
    if len(hits) == 1 and not (hits[0][2] and "_" in name):  # the common case: one plain token
        experts, whole, frac, unit, tail = hits[0]
        if frac and tail:
            return None
        v = float(f"{whole}.{frac or tail}" if (frac or tail) else whole) * (1e9 if unit in "bB" else 1e6)
        n_exp = int(experts) if experts else None
        return NameSize(total=v * n_exp, experts=n_exp, expert=v) if n_exp else NameSize(total=v)
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
