"""Claims: the paper's headline numbers against the values computed from the embedded data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import plots as figures
from ..widgets import show_figure, show_table
from . import _library


def render() -> None:
    st.title("Claims")
    st.caption("Published value, the value computed with the paper's own procedure, the value from CAPE's default "
               "estimator, and a verdict. Every computed value is computed now from the embedded data.")
    rows = _library.claims()
    if not rows:
        st.info("No analysis module providing claims is installed yet.")
        return
    df = pd.DataFrame(rows)
    cols = [c for c in ("id", "verdict", "claim", "paper_value", "computed_value", "sound_value", "reason")
            if c in df.columns]
    df = df[cols]
    counts = df["verdict"].value_counts()
    c = st.columns(3)
    for i, v in enumerate(("reproduces", "differs", "not computable")):
        c[i].metric(v, int(counts.get(v, 0)))
    show_figure(figures.claims_figure(df), "claims_verdicts")
    verdicts = st.multiselect("verdict", ["reproduces", "differs", "not computable"], default=[],
                              placeholder="all verdicts", key="claims_verdict")
    if verdicts:
        df = df[df["verdict"].isin(verdicts)]
    cfg = {c: st.column_config.TextColumn(c, width="large") for c in ("claim", "reason", "computed_value")}
    cfg["verdict"] = st.column_config.TextColumn("verdict", width="medium")
    df = df.astype(object).where(df.notna(), "—")
    show_table(df, "claims", height=min(36 * (len(df) + 1), 760), column_config=cfg,
               styler=lambda d: d.style.map(_verdict_style, subset=["verdict"]))


#: Background and text colour of each verdict in the table.
VERDICT_STYLE = {"reproduces": "background-color:#e8f5e9;color:#1b5e20",
                 "differs": "background-color:#fff8e1;color:#8d6e00",
                 "not computable": "color:#757575"}


def _verdict_style(v) -> str:
    return VERDICT_STYLE.get(str(v), "")
