"""The claims figure: verdicts of the paper's claims by group."""

from __future__ import annotations


import pandas as pd
import plotly.graph_objects as go

from .base import apply_layout


# ---------------------------------------------------------------------------------------------- claims
VERDICT_COLORS = {"reproduces": "#2ca02c", "differs": "#d62728", "not computable": "#9e9e9e"}
CLAIM_GROUPS = {"A": "abstract", "M": "main text", "S": "supplement", "B": "frontier paper"}


def claims_figure(rows: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Verdict counts per part of the paper (claim ids ``A*`` abstract, ``M*`` main text, ``S*`` supplement,
    ``B*`` companion frontier paper)."""
    df = rows.copy()
    df["part"] = [CLAIM_GROUPS.get(str(i)[:1].upper(), "other") for i in df["id"]]
    fig = go.Figure()
    for v, col in VERDICT_COLORS.items():
        d = df[df["verdict"] == v]
        cnt = d.groupby("part")["id"].agg(list)
        fig.add_trace(go.Bar(y=cnt.index.tolist(), x=[len(x) for x in cnt], name=v, orientation="h",
                             marker_color=col, customdata=[", ".join(map(str, x)) for x in cnt],
                             hovertemplate="%{y}: %{x} " + v + "<br>%{customdata}<extra></extra>"))
    fig.update_layout(barmode="stack")
    return apply_layout(fig, title=title or "Paper claims: verdict of the computation", x="claims", y="",
                   height=300)
