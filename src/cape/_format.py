"""Formatting shared by every view: numbers, parameter sizes and JSON cleaning (one of each).

Imports only the standard library, so the command line can use it without loading numpy or pandas; numpy and
pandas values are recognised when those packages are already loaded (a value of theirs cannot exist otherwise).

Example:
    >>> fmt_params(1.4e9), fmt_number(0.12345), fmt_number(float("nan"))
    ('1.4B', '0.123', '—')
"""

from __future__ import annotations

import math
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from json.encoder import encode_basestring_ascii as _escape  # the C escaper json.dumps uses
from typing import Any

__all__ = ["MISSING", "finite_or_none", "fmt_number", "fmt_params", "json_clean", "numbers_in", "to_json"]

#: How a missing value is shown in a table or text.
MISSING = "—"


def finite_or_none(x: Any) -> float | None:
    """A finite float, or None (a result never holds NaN).

    Example:
        >>> finite_or_none("2.5"), finite_or_none(float("inf")), finite_or_none(None)
        (2.5, None, None)
    """
    if x is None:
        return None
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return None
    return xf if math.isfinite(xf) else None


def fmt_number(x: Any, nd: int = 3) -> str:
    """A number with ``nd`` decimals; missing or non-finite values as an em dash; text as it is.

    Example:
        >>> fmt_number(3.14159, 2), fmt_number(None), fmt_number("n/a")
        ('3.14', '—', 'n/a')
    """
    if x is None:
        return MISSING
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(xf):
        return MISSING
    return f"{xf:.{nd}f}"


def fmt_params(n: Any) -> str:
    """A raw parameter count as ``70M`` / ``1.4B`` (three significant digits); missing as an em dash.

    Example:
        >>> fmt_params(70e6), fmt_params(6.9e9), fmt_params(None)
        ('70M', '6.9B', '—')
    """
    try:
        n = float(n)
    except (TypeError, ValueError):
        return MISSING
    if not math.isfinite(n):
        return MISSING
    if n >= 1e9:
        return f"{n / 1e9:.3g}B"
    if n >= 1e6:
        return f"{n / 1e6:.3g}M"
    return f"{n:.3g}"


def _numpy_value(o: Any) -> tuple[bool, Any]:
    """``(True, plain value)`` for a numpy scalar or array, else ``(False, None)``."""
    np = sys.modules.get("numpy")
    if np is None:
        return False, None
    if isinstance(o, np.bool_):
        return True, bool(o)
    if isinstance(o, np.integer):
        return True, int(o)
    if isinstance(o, np.floating):
        return True, finite_or_none(o)
    if isinstance(o, np.ndarray):
        return True, json_clean(o.tolist())
    return False, None


def json_clean(o: Any) -> Any:
    """Plain JSON values: result objects via ``to_dict()``, numpy scalars and arrays to Python, NaN and
    infinities to None, tuples and sets to lists, dates as ISO text, pandas' missing markers to None, and
    anything else as its text.

    Example:
        >>> json_clean({"a": (1.0, float("nan")), 2: {"b"}})
        {'a': [1.0, None], '2': ['b']}
    """
    if o is None or isinstance(o, (str, bool, int)):
        return o
    if isinstance(o, float):
        return finite_or_none(o)
    if isinstance(o, dict):
        return {str(k): json_clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_clean(v) for v in o]
    if isinstance(o, (set, frozenset)):
        return [json_clean(v) for v in o]
    is_np, v = _numpy_value(o)
    if is_np:
        return v
    if type(o).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(o, "to_dict"):
        return json_clean(o.to_dict())
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def to_json(obj: Any) -> str:
    """``obj`` as indented JSON text after :func:`json_clean` (never NaN in the output).

    Example:
        >>> print(to_json({"r": float("nan")}))
        {
          "r": null
        }
    """
    parts: list[str] = []
    _emit(obj, "\n", parts.append)
    return "".join(parts)


def _emit(o: Any, nl: str, put) -> None:
    """Write ``o`` as ``json.dumps(json_clean(o), indent=2, allow_nan=False)`` writes it, piece by piece.

    The standard library's indented encoder runs in pure Python, a generator per container; a large result
    (thousands of families) spent seconds there. This is the same text from one recursive pass that also does
    :func:`json_clean`'s conversions, with the C string escaper for every string.

    Args:
        o: the value.
        nl: a newline and the current indentation.
        put: appends one piece of text.
    """
    text = _scalar_text(o)
    if text is not None:
        put(text)
    elif isinstance(o, dict):
        _emit_items(((_escape(str(k)) + ": ", v) for k, v in o.items()), "{}", bool(o), nl, put)
    elif isinstance(o, (list, tuple, set, frozenset)):
        _emit_items((("", v) for v in o), "[]", bool(o), nl, put)
    else:
        _emit(json_clean(o), nl, put)


def _scalar_text(o: Any) -> str | None:
    """The JSON text of a plain scalar (NaN and infinities as ``null``), None for anything else."""
    if o is None:
        return "null"
    if isinstance(o, str):
        return _escape(o)
    if o is True or o is False:
        return "true" if o else "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return float.__repr__(o) if math.isfinite(o) else "null"
    return None


def _emit_items(items, brackets: str, nonempty: bool, nl: str, put) -> None:
    """A container's ``(prefix, value)`` items, one per line one level in, between its two ``brackets``."""
    if not nonempty:
        put(brackets)
        return
    inner = nl + "  "
    put(brackets[0])
    sep = inner
    for prefix, v in items:
        put(sep + prefix)
        _emit(v, inner, put)
        sep = "," + inner
    put(nl + brackets[1])


_NUMBER = None


def numbers_in(text: Any) -> list[float]:
    """The numbers written in a text, in order, as floats (``B``/``M`` size suffixes applied; a percentage stays
    in percent). Used to give claims their values as numbers beside the published and computed text.

    Example:
        >>> numbers_in("r = -0.9886, p = 3.65e-06"), numbers_in("N_c 1.4B [0.9B, 2.1B]"), numbers_in(None)
        ([-0.9886, 3.65e-06], [1400000000.0, 900000000.0, 2100000000.0], [])
        >>> numbers_in("10,000 resamples; 0.1, 0.2; Llama-2")
        [10000.0, 0.1, 0.2]
    """
    import re

    global _NUMBER
    if not isinstance(text, str):
        return []
    if _NUMBER is None:
        _NUMBER = re.compile(r"(?<![\w.,^\-])([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?)([BM](?![a-zA-Z]))?")
    out = []
    for m in _NUMBER.finditer(text):
        v = float(m.group(1).replace(",", "")) * {"B": 1e9, "M": 1e6}.get(m.group(2) or "", 1.0)
        out.append(v)
    return out


# ---------------------------------------------------------------------------------------------- plain-text summaries
#: Width (characters) at which the cells of a ``fold`` table wrap in plain text.
FOLD_WIDTH = 50


@dataclass(frozen=True)
class Line:
    """One line of a result's summary; ``bold`` leading characters and ``dim`` are hints a terminal may show."""

    text: str
    bold: int = 0
    dim: bool = False


@dataclass(frozen=True)
class TextTable:
    """A table of a result's summary: cells are text; ``right`` names the right-justified columns, ``dim`` the
    de-emphasised ones; ``bold_head`` shows the first line of each row's first cell in bold on a terminal,
    ``bold_cells`` those cells (``(row, column)`` indices), and ``styles`` colours a cell whose whole text is a key
    (pairs ``(text, style)``, e.g. ``("reproduces", "green")``); ``title_left`` puts the title at the left edge.
    The hints change nothing in the plain text."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: tuple[str, ...] = ()
    dim: tuple[str, ...] = ()
    show_lines: bool = False
    fold: bool = False
    bold_head: bool = False
    bold_cells: tuple[tuple[int, int], ...] = ()
    styles: tuple[tuple[str, str], ...] = ()
    title_left: bool = False


def _table_text(t: TextTable) -> list[str]:
    """``t`` as aligned plain-text lines (title, header, rule, rows; a cell may span several lines)."""
    def split(c: str) -> list[str]:
        lines = c.split("\n")
        return [w for x in lines for w in (textwrap.wrap(x, FOLD_WIDTH) or [""])] if t.fold else lines

    cells = [[split(c) for c in row] for row in t.rows]
    widths = [max([len(h)] + [len(x) for row in cells for x in row[j]]) for j, h in enumerate(t.columns)]

    def line(parts: Sequence[str]) -> str:
        return "  ".join(p.rjust(w) if c in t.right else p.ljust(w)
                         for p, w, c in zip(parts, widths, t.columns)).rstrip()

    out = [t.title] if t.title else []
    out += [line(t.columns), "  ".join("-" * w for w in widths)]
    for row in cells:
        for k in range(max(len(c) for c in row)):
            out.append(line([c[k] if k < len(c) else "" for c in row]))
    return out


def render_text(blocks: Sequence[Line | TextTable]) -> str:
    """The plain text of a summary made of :class:`Line` and :class:`TextTable` blocks.

    Example:
        >>> print(render_text([Line("r = -0.99"), TextTable("", ("family", "r"), (("Pythia", "-0.99"),), ("r",))]))
        r = -0.99
        family      r
        ------  -----
        Pythia  -0.99
    """
    out: list[str] = []
    for b in blocks:
        out.extend(_table_text(b) if isinstance(b, TextTable) else [b.text])
    return "\n".join(out)


class TextSummary:
    """``summary()`` and ``str()`` of a result from its ``summary_blocks()``: the plain text of the lines and
    tables its command prints (:func:`render_text`)."""

    def summary_blocks(self) -> list[Line | TextTable]:
        raise NotImplementedError

    def summary(self) -> str:
        """The result as plain text: the same lines and tables its command prints."""
        return render_text(self.summary_blocks())

    def __str__(self) -> str:
        return self.summary()


def _plain(v):
    """A copy of ``v`` as :func:`dataclasses.asdict` makes it for JSON-like values (dicts, lists and tuples
    rebuilt, dataclasses turned into dicts, anything else kept: numbers and strings are immutable)."""
    if isinstance(v, dict):
        return type(v)((k, _plain(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
        return type(v)(_plain(x) for x in v)
    if is_dataclass(v) and not isinstance(v, type):
        return fields_dict(v)
    return v


def fields_dict(obj) -> dict:
    """``dataclasses.asdict(obj)`` without its deep copies: equal to it for results whose leaves are numbers,
    strings, None or numpy scalars (every CAPE result), several times faster (a large diagnosis serialises
    thousands of them).

    Example:
        >>> from dataclasses import dataclass, fields, is_dataclass
        >>> @dataclass
        ... class P:
        ...     a: tuple
        ...     b: dict
        >>> fields_dict(P((1, 2), {"c": [3]}))
        {'a': (1, 2), 'b': {'c': [3]}}
    """
    return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
