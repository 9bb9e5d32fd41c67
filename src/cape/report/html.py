"""A self-contained static HTML report: the dashboard's figures and tables in one file that opens offline.

Plotly's JavaScript is inlined once (``plotly.offline.get_plotlyjs()``); every figure is a ``<div>`` drawn by it;
every table is an HTML table with a CSV download link embedded as a ``data:`` URI. Nothing is fetched from the
network when the file is opened. Sections whose analysis module is not installed are left out (and listed at the
end), never filled with placeholder numbers.

Example:
    >>> from cape.report.html import build_report
    >>> path = build_report("report.html")          # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..scores import ScoreTable, write_atomic
from .sections import SECTIONS, Block, Section

__all__ = ["Block", "ReportResult", "SECTIONS", "Section", "build_report", "build_sections", "fmt_cell",
           "render_html", "static_legend"]


@dataclass(frozen=True)
class ReportResult:
    """What :func:`build_report` wrote."""

    path: Path
    sections: tuple[str, ...]
    skipped: tuple[str, ...]
    n_figures: int
    n_tables: int
    bytes: int
    seconds: float

    def to_dict(self) -> dict:
        return {"path": str(self.path), "sections": list(self.sections), "skipped": list(self.skipped),
                "n_figures": self.n_figures, "n_tables": self.n_tables, "bytes": self.bytes,
                "seconds": round(self.seconds, 3)}


# ---------------------------------------------------------------------------------------------- rendering
_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#263238;color:#fff;padding:18px 32px}header h1{margin:0;font-size:1.6em}
header p{margin:4px 0 0;color:#cfd8dc;font-size:.9em}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:8px 32px;z-index:10}
nav a{margin-right:18px;color:#1565c0;text-decoration:none;font-weight:500}
main{padding:8px 32px 40px;max-width:1280px}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;margin:18px 0;padding:8px 20px 16px}
h2{border-bottom:2px solid #eceff1;padding-bottom:6px}h3{margin:18px 0 6px;font-size:1.05em;color:#37474f}
table.cape{border-collapse:collapse;font-size:.85em;margin:6px 0}
table.cape th{background:#eceff1;text-align:left;padding:4px 8px;position:sticky;top:0;z-index:1;
box-shadow:0 1px 0 #cfd8dc}
table.cape td{border-top:1px solid #eee;padding:3px 8px;vertical-align:top}
.tablewrap{max-height:460px;overflow:auto;border:1px solid #eee}
a.dl{font-size:.85em;color:#1565c0}
.note{color:#666;font-size:.9em}
p.headline{font-size:1.08em;line-height:1.5;background:#e3f2fd;border-left:4px solid #1565c0;padding:10px 14px;
margin:14px 0}
footer{color:#777;font-size:.8em;padding:10px 32px}
"""


#: Columns that hold parameter counts (shown as 70M / 1.4B).
_SIZE_COLUMNS = {"params", "n", "n_params", "N", "N_c", "N_lower", "N_upper", "N_mid", "ci_low", "ci_high",
                 "N_c CI low", "N_c CI high"}


def fmt_cell(v, column: str = "") -> str:
    """A table cell for people: sizes as ``1.4B``, other numbers to 3 significant digits (``0`` for values
    below 1e-12 in size, scientific only for p-values and the like), missing values and ``None`` as an em dash.

    Example:
        >>> fmt_cell(105830052.4426, "N_mid"), fmt_cell(-6e-25), fmt_cell(0.98861), fmt_cell(None), fmt_cell("None")
        ('106M', '0', '0.989', '—', '—')
    """
    from .._format import MISSING, fmt_params

    if v is None or v is pd.NA or (isinstance(v, str) and v in ("None", "nan", "NaN")):
        return MISSING
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)) and column not in _SIZE_COLUMNS:
        return f"{int(v):,}" if abs(int(v)) >= 10_000 else str(int(v))
    if isinstance(v, (float, int, np.floating, np.integer)):
        x = float(v)
        if x != x or x in (float("inf"), float("-inf")):
            return MISSING
        if column in _SIZE_COLUMNS and abs(x) >= 1e3:
            return fmt_params(x)
        a = abs(x)
        if a < 1e-12:
            return "0"
        if a < 1e-3:
            return f"{x:.2g}"
        if a >= 1e4:
            return f"{x:,.0f}"
        return f"{x:.3g}"
    return html.escape(str(v))


_fmt_cell = fmt_cell


def _table_html(df: pd.DataFrame, name: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    cols = [str(c) for c in df.columns]
    rows = "".join("<tr>" + "".join(f"<td>{fmt_cell(v, c)}</td>" for v, c in zip(r, cols)) + "</tr>"
                   for r in df.itertuples(index=False, name=None))
    csv = base64.b64encode(df.to_csv(index=False).encode("utf-8")).decode("ascii")
    slug = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")[:60] or "table"
    return (f'<div class="tablewrap"><table class="cape"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody>'
            f'</table></div><a class="dl" download="{slug}.csv" href="data:text/csv;base64,{csv}">'
            f"download CSV</a>")


def static_legend(fig) -> None:
    """A legend that never scrolls in a static page: horizontal, below the plot, the figure taller by the rows
    it needs (Plotly scrolls a vertical legend that outgrows the plot)."""
    names = [t.name for t in fig.data if getattr(t, "showlegend", None) is not False and t.name]
    if not names:
        return
    per_row = 6
    rows = -(-len(set(names)) // per_row)
    height = (fig.layout.height or 450) + 22 * rows
    fig.update_layout(height=height, legend={"orientation": "h", "yanchor": "top", "y": -0.16, "xanchor": "left",
                                             "x": 0, "font": {"size": 11}},
                      margin={"b": 70 + 22 * rows})


def render_html(sections: list[Section], *, title: str, subtitle: str, skipped: list[str]) -> str:
    """Assemble the report page (Plotly's JS inlined once)."""
    from plotly.offline import get_plotlyjs

    from ..plots import plotly_config

    parts = []
    n = 0
    for s in sections:
        body = []
        for b in s.blocks:
            if b.title:
                body.append(f"<h3>{html.escape(b.title)}</h3>")
            if b.kind == "figure":
                n += 1
                name = f"{s.key}_{n}"
                static_legend(b.obj)
                body.append(b.obj.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{name}",
                                          config=plotly_config(name)))
            elif b.kind == "table":
                body.append(_table_html(b.obj, b.title or s.key))
            elif b.kind == "headline":
                body.append(f'<p class="headline">{html.escape(str(b.obj))}</p>')
            else:
                body.append(f"<p>{html.escape(str(b.obj))}</p>")
        if s.note:
            body.append(f'<p class="note">{html.escape(s.note)}</p>')
        parts.append(f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2>{"".join(body)}</section>')
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    skip = (f'<p class="note">Not included (module not installed): {html.escape(", ".join(skipped))}</p>'
            if skipped else "")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{_CSS}</style><script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
            f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header><nav>{nav}</nav>"
            f"<main>{''.join(parts)}{skip}</main>"
            f"<footer>Generated by CAPE. Every number is computed from the data at generation time; "
            f"hover a point for model, family, source and shots.</footer></body></html>")


def build_sections(table: ScoreTable | None = None, *, seed: int = 0, only: tuple[str, ...] | None = None,
                   results_dir=None) -> tuple[list[Section], list[str]]:
    """Build the report's sections (figures and tables) without writing anything.

    Args:
        table: scores (default: the embedded base cohort).
        seed: seed of every bootstrap.
        only: restrict to these section keys.
        results_dir: a folder of internals / steering result files (the Internals section is left out without
            one).

    Returns:
        ``(sections, skipped_titles)``.
    """
    embedded = table is None
    if table is None:
        from .. import data

        table = data.load_base()
    cache: dict = {}

    def diagnosis():
        if "diagnosis" not in cache:
            from ..diagnose import diagnose

            cache["diagnosis"] = diagnose(None if embedded else table, seed=seed)
        return cache["diagnosis"]

    ctx = {"table": table, "seed": seed, "diagnosis": diagnosis, "results_dir": results_dir}
    todo, skipped = [], []
    for key, _title, _builder in SECTIONS:
        if only is not None and key not in only:
            continue
        if key == "internals" and results_dir is None:
            continue
        todo.append(key)
    from .._runcache import compute_once

    with compute_once():  # sections (and the claims they quote) share each analysis: computed once per report
        return [_build_section(k, ctx) for k in todo], skipped


def _build_section(key: str, ctx: dict) -> Section:
    """Build one section; one that cannot run on these data says why instead of failing the whole report."""
    from ..errors import CapeError

    try:
        return _BUILDERS[key](ctx)
    except CapeError as e:
        title = next((t for k, t, _b in SECTIONS if k == key), key.title())
        s = Section(key, title)
        s.text(f"This section could not be computed from these data: {e}")
        return s


_BUILDERS: dict[str, Callable[[dict], Section]] = {}


def build_report(out_path, table: ScoreTable | None = None, *, seed: int = 0,
                 title: str = "CAPE report: capability coupling across model scale",
                 only: tuple[str, ...] | None = None, results_dir=None) -> ReportResult:
    """Write the self-contained HTML report atomically.

    Args:
        out_path: the ``.html`` file to write.
        table: the scores to analyse (default: the embedded base cohort).
        seed: seed of every bootstrap in the analyses.
        title: page title.
        only: restrict to these section keys (default: all available).
        results_dir: folder of ``cape heads/layers -o`` and steering result files (adds the Internals section).

    Returns:
        :class:`ReportResult` (path, sections, counts, size, seconds).

    Example:
        >>> r = build_report("report.html")    # doctest: +SKIP
        >>> r.n_figures > 0                               # doctest: +SKIP
        True
    """
    t0 = time.perf_counter()
    if results_dir is not None and not Path(results_dir).is_dir():
        from ..errors import DataError

        raise DataError(f"{results_dir}: the results folder does not exist")
    if only is not None:
        bad = [k for k in only if k not in _BUILDERS]
        if bad:
            from ..errors import DataError

            raise DataError(f"unknown report section {bad[0]!r}; sections: {', '.join(_BUILDERS)}")
    sections, skipped = build_sections(table, seed=seed, only=only, results_dir=results_dir)
    src = table.name if table is not None else "embedded base cohort"
    subtitle = f"Data: {src}. Seed {seed}. Generated {time.strftime('%Y-%m-%d %H:%M')}."
    page = render_html(sections, title=title, subtitle=subtitle, skipped=skipped)
    path = write_atomic(Path(out_path), page)
    n_fig = sum(b.kind == "figure" for s in sections for b in s.blocks)
    n_tab = sum(b.kind == "table" for s in sections for b in s.blocks)
    return ReportResult(path=path, sections=tuple(s.title for s in sections), skipped=tuple(skipped),
                        n_figures=n_fig, n_tables=n_tab, bytes=len(page.encode("utf-8")),
                        seconds=time.perf_counter() - t0)


_BUILDERS.update({key: builder for key, _, builder in SECTIONS})
