"""Small Streamlit building blocks used by every view: a chart with its downloads, a table with its CSV."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from .. import plots as figures
from .state import csv_bytes


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "figure"


#: Width in pixels a chart is drawn at: the main column of the wide layout, and half of it in two columns.
FULL_WIDTH_PX, HALF_WIDTH_PX = 1000, 480


def show_figure(fig, name: str, *, key: str | None = None, data: pd.DataFrame | None = None,
                half: bool = False, downloads: bool = True) -> None:
    """Draw ``fig`` full width, its legend in rows under the plot (never scrolled, every entry visible; ``half``:
    the chart sits in one of two columns); below it, download buttons: HTML (Plotly inlined, opens offline), PNG
    (rendered on demand by kaleido; the chart toolbar's camera icon saves a PNG in the browser too) and, when
    ``data`` is given, the numbers behind the figure as CSV (``downloads=False``: the chart alone)."""
    slug = _slug(name)
    key = key or slug
    figures.legend_below(fig, width_px=HALF_WIDTH_PX if half else FULL_WIDTH_PX)
    st.plotly_chart(fig, config=figures.plotly_config(slug), key=f"chart-{key}", width="stretch",
                    theme=None)
    if not downloads:
        return
    row = st.container(horizontal=True, gap="small")
    row.download_button("⬇ HTML", data=lambda: figures.figure_html(fig, name=slug), file_name=f"{slug}.html",
                        mime="text/html", key=f"dl-html-{key}", on_click="ignore", width="content",
                        help="The interactive figure as a standalone HTML file (works offline).")
    row.download_button("⬇ PNG", data=lambda: figures.figure_png(fig), file_name=f"{slug}.png",
                        mime="image/png", key=f"dl-png-{key}", on_click="ignore", width="content",
                        help="A PNG rendered on the server (kaleido); the chart toolbar's camera saves one too.")
    if data is not None:
        row.download_button("⬇ CSV", data=csv_bytes(data, index=_has_named_index(data)),
                            file_name=f"{slug}.csv", mime="text/csv", key=f"dl-figcsv-{key}",
                            on_click="ignore", width="content", help="The numbers behind the figure.")


def _has_named_index(df: pd.DataFrame) -> bool:
    return df.index.name is not None or any(n is not None for n in (df.index.names or []))


def show_table(df: pd.DataFrame, name: str, *, key: str | None = None, index: bool | None = None,
               height: int | str = "auto", column_config: dict | None = None, styler=None) -> None:
    """Show a table and a CSV download button for it (``styler``: a function from the frame to a pandas Styler,
    e.g. to colour a column; the CSV holds the plain values)."""
    slug = _slug(name)
    key = key or slug
    index = _has_named_index(df) if index is None else index
    shown = styler(df) if styler is not None else df
    st.dataframe(shown, hide_index=not index, key=f"table-{key}", height=height, column_config=column_config)
    st.download_button(f"⬇ {name} (CSV)", data=csv_bytes(df, index=index), file_name=f"{slug}.csv",
                       mime="text/csv", key=f"dl-csv-{key}", on_click="ignore")
