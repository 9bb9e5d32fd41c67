"""The one renderer of every table the command line prints: ``--format table|markdown|csv``.

Commands build a :class:`rich.table.Table` and hand it to :class:`Out`, which prints it

* ``table``: as a Rich table when every column can be at least as wide as its longest word; otherwise each row
  as a block of ``header  value`` lines, wrapped at word boundaries. So a word is never split, at 80 columns or
  in a pipe (where the width is 80 unless ``COLUMNS`` says otherwise);
* ``markdown``: as a GitHub-flavoured Markdown table (``|`` escaped, line breaks as ``<br>``), the title as a
  bold line above it;
* ``csv``: as RFC 4180 CSV with a header row; several tables are separated by one empty line and prose goes to
  standard error, so standard output holds only the tables.

Example:
    >>> from rich.table import Table
    >>> t = Table(title="demo")
    >>> t.add_column("family"); t.add_column("r")
    >>> t.add_row("Pythia", "[green]-0.99[/]")
    >>> Out("markdown").table(t)  # doctest: +NORMALIZE_WHITESPACE
    **demo**
    <BLANKLINE>
    | family | r |
    | --- | --- |
    | Pythia | -0.99 |
"""

from __future__ import annotations

import csv
import io
import sys
from typing import Any

import typer

__all__ = ["FORMATS", "FORMAT_HELP", "Out", "check_format", "format_option", "out", "plain", "print_blocks", "reset",
           "rich_table", "set_format", "styled", "table_rows"]

FORMATS = ("table", "markdown", "csv")
FORMAT_HELP = ("How tables are printed: table (for reading; never splits a word), markdown (paste into a README "
               "or an issue) or csv (for spreadsheets; prose goes to stderr).")


def format_option() -> Any:
    """The ``--format`` option every table command takes (a fresh Typer option object)."""
    return typer.Option("table", "--format", help=FORMAT_HELP, metavar="table|markdown|csv", callback=check_format)


def check_format(fmt: str) -> str:
    """``fmt`` in lower case if it is one of :data:`FORMATS`.

    Raises:
        DataError: another value (the sentence names ``--format`` and the choices).
    """
    from ..errors import DataError

    f = (fmt or "").strip().lower()
    if f not in FORMATS:
        raise DataError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return f


def plain(cell: Any) -> str:
    """The text of a table cell or header without Rich markup or styles."""
    from rich.text import Text

    if cell is None:
        return ""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        try:
            return Text.from_markup(cell).plain
        except Exception:  # noqa: BLE001 - text that only looks like markup stays as it is
            return cell
    return str(cell)


def table_rows(t) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a Rich table as plain text.

    Returns:
        ``(headers, rows)``: one header per column, one list of cell texts per row.
    """
    headers = [plain(c.header) for c in t.columns]
    cols = [[plain(v) for v in c.cells] for c in t.columns]
    n = max((len(c) for c in cols), default=0)
    rows = [[c[i] if i < len(c) else "" for c in cols] for i in range(n)]
    return headers, rows


def _markdown(t) -> str:
    headers, rows = table_rows(t)

    def cell(s: str) -> str:
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")

    lines = []
    if t.title:
        lines += [f"**{plain(t.title)}**", ""]
    lines.append("| " + " | ".join(cell(h) for h in headers) + " |")
    lines.append("|" + "|".join(" --- " for _ in headers) + "|")
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _csv(t) -> str:
    headers, rows = table_rows(t)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().rstrip("\n")


def _fits(t, console) -> bool:
    """Whether every column of ``t`` can be as wide as its longest word within the console's width. If so, each
    column gets a fixed width between that and its natural width (the widest columns give up space first), so
    Rich never cuts a word when it shares out the width."""
    from rich.measure import Measurement

    opts = console.options.update(width=10_000)
    mins, maxs = [], []
    for c in t.columns:
        ms = [Measurement.get(console, opts, x) for x in [c.header, *c.cells]]
        mins.append(max((m.minimum for m in ms), default=1))
        maxs.append(max((m.maximum for m in ms), default=1))
    room = console.width - _overhead(t)
    if sum(maxs) > room and t.box is not None:
        _compact(t)  # borders cost a row its one-line layout: drop them before wrapping any cell
        room = console.width - _overhead(t)
    if sum(mins) > room:
        return False
    widths = _share(t, list(mins), list(maxs), room)
    for c, w in zip(t.columns, widths):
        c.width = w
    return True


def _lines(words: list[int], width: int) -> int:
    """Lines a cell of words of these lengths takes when wrapped at ``width`` (greedy, as Rich wraps)."""
    n, used = 1, -1
    for w in words:
        if used >= 0 and used + 1 + w > width:
            n, used = n + 1, w
        else:
            used = w if used < 0 else used + 1 + w
    return n


def _share(t, mins: list[int], widths: list[int], room: int, sample: int = 200) -> list[int]:
    """Column widths within ``room``: starting from the natural widths, narrow one column at a time, always the
    one whose narrowing adds the fewest wrapped lines over the first ``sample`` rows (then the one with the most
    slack), so the rows stay as short as the width allows."""
    cols = [[[len(w) for w in plain(v).split()] for v in list(c.cells)[:sample]] for c in t.columns]
    n_rows = max((len(c) for c in cols), default=0)

    def cost(ws: list[int]) -> int:
        return sum(max((_lines(c[r], w) for c, w in zip(cols, ws) if r < len(c)), default=1)
                   for r in range(n_rows))

    while sum(widths) > room:
        best = None
        for j in range(len(widths)):
            if widths[j] <= mins[j]:
                continue
            trial = widths[:j] + [widths[j] - 1] + widths[j + 1:]
            key = (cost(trial), -(widths[j] - mins[j]))
            if best is None or key < best[0]:
                best = (key, j)
        if best is None:
            break
        widths[best[1]] -= 1
    return widths


def _overhead(t) -> int:
    """Columns of the console a table's padding and borders take."""
    pad = (t.padding[1] + t.padding[3]) if len(t.padding) == 4 else 2
    n = len(t.columns)
    if t.box is None:
        return n * pad - (0 if t.pad_edge else (t.padding[3] + t.padding[1] if len(t.padding) == 4 else 2))
    return n * pad + (n + 1 if t.show_edge else n - 1)


def _compact(t) -> None:
    """The narrow-terminal style of a table: no outer border, no padding at the edges."""

    t.box = None
    t.show_edge = False
    t.padding = (0, 1, 0, 1)
    t.pad_edge = False


def _records(t, console) -> None:
    """Each row of ``t`` as a block of ``header  value`` lines (the layout for narrow terminals)."""
    from rich.table import Table

    headers = [c.header for c in t.columns]
    if t.title:
        console.print(t.title, style="bold")
    for i, row in enumerate(zip(*[list(c.cells) for c in t.columns])):
        g = Table.grid(padding=(0, 2))
        g.add_column(style="bold", no_wrap=True)
        g.add_column(overflow="fold")
        for h, v in zip(headers, row):
            g.add_row(h, v)
        if i:
            console.rule(style="dim")
        console.print(g)
    if t.caption:
        console.print(t.caption, style="dim")


class Out:
    """Where a command prints: tables in the chosen format, prose beside them.

    Args:
        fmt: ``table``, ``markdown`` or ``csv`` (checked with :func:`check_format`).
        console: the Rich console for standard output (default: the commands' shared one).
    """

    def __init__(self, fmt: str = "table", console=None) -> None:
        from ._common import console as _console
        from ._common import err_console

        self.fmt = check_format(fmt)
        self.console = console or _console
        self.err = err_console
        self._tables = 0

    def table(self, t) -> None:
        """Print one table in the chosen format."""
        if self.fmt == "csv":
            sys.stdout.write(("\n" if self._tables else "") + _csv(t) + "\n")
        elif self.fmt == "markdown":
            sys.stdout.write(("\n" if self._tables else "") + _markdown(t) + "\n")
        else:
            for c in t.columns:  # wrap at word boundaries, never cut a cell short
                c.no_wrap, c.overflow, c.max_width = False, "fold", None
            if _fits(t, self.console):
                self.console.print(t)
            else:
                _records(t, self.console)
        sys.stdout.flush()
        self._tables += 1

    def print(self, *objects: Any, **kw: Any) -> None:
        """Prose: the console in ``table`` format, plain text in ``markdown``, standard error in ``csv``. A Rich
        table given alone is printed with :meth:`table`."""
        from rich.table import Table

        if len(objects) == 1 and isinstance(objects[0], Table):
            self.table(objects[0])
            return
        if self.fmt == "table":
            self.console.print(*objects, **kw)
        elif self.fmt == "markdown":
            text = " ".join(plain(o) for o in objects).strip()
            if text:
                sys.stdout.write("\n" + text + "\n")
        else:
            self.err.print(*objects, **kw)


#: The running command's :class:`Out` (set by :func:`set_format`; the command line resets it per invocation).
_CURRENT: dict = {"out": None}


def set_format(fmt: str) -> Out:
    """Make ``fmt`` the format of everything the running command prints through :func:`out`."""
    _CURRENT["out"] = Out(fmt)
    return _CURRENT["out"]


def out() -> Out:
    """The running command's :class:`Out` (``table`` format unless the command called :func:`set_format`)."""
    if _CURRENT["out"] is None:
        _CURRENT["out"] = Out("table")
    return _CURRENT["out"]


def reset() -> None:
    """Forget the previous command's format (called before each command runs)."""
    _CURRENT["out"] = None


# ---------------------------------------------------------------------------------------------- summaries
def styled(line) -> str:
    """A summary :class:`~cape._format.Line` as Rich markup: its bold prefix and dim hint (the text escaped)."""
    from rich.markup import escape

    t = line.text
    t = f"[bold]{escape(t[:line.bold])}[/]{escape(t[line.bold:])}" if line.bold else escape(t)
    return f"[dim]{t}[/]" if line.dim else t


def rich_table(tt):
    """A Rich table of a summary :class:`~cape._format.TextTable` (cells escaped; its hints as styles)."""
    from rich.markup import escape
    from rich.table import Table

    styles = dict(tt.styles)
    t = Table(title=escape(tt.title) if tt.title else None, show_lines=tt.show_lines,
              title_justify="left" if tt.title_left else "center")
    for c in tt.columns:
        kw = {"overflow": "fold"} if tt.fold else {"justify": "right" if c in tt.right else "left"}
        if c in tt.dim:
            kw["style"] = "dim"
        t.add_column(escape(c), **kw)
    bold = set(tt.bold_cells)
    for i, row in enumerate(tt.rows):
        cells = [f"[{styles[c]}]{escape(c)}[/]" if c in styles else
                 f"[bold]{escape(c)}[/]" if (i, j) in bold else escape(c) for j, c in enumerate(row)]
        if tt.bold_head:
            top, nl, more = row[0].partition("\n")
            cells[0] = f"[bold]{escape(top)}[/]" + (f"\n{escape(more)}" if nl else "")
        t.add_row(*cells)
    return t


def print_blocks(blocks, where: Out | None = None) -> None:
    """Print a result's summary blocks (``summary_blocks()``: lines and tables) through ``where`` (default the
    running command's :class:`Out`), so the terminal shows what ``summary()`` gives as plain text."""
    from .._format import TextTable

    o = where if where is not None else out()
    for b in blocks:
        o.print(rich_table(b) if isinstance(b, TextTable) else styled(b))
