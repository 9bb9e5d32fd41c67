"""Tables shared by the dashboard and the report (data frames, no figures)."""

from __future__ import annotations


import pandas as pd

from .._format import fmt_params
from .coupling import nc_short


# ---------------------------------------------------------------------------------------------- tables
def _ci_text(nc) -> str:
    """``[4.15B, ∞)``-style CI of an N_c result (``0`` / ``∞`` for an unbounded end, ``—`` when absent)."""
    if nc is None or (nc.ci_low is None and nc.ci_high is None and not nc.ci_low_unbounded
                      and not nc.ci_high_unbounded):
        return "—"
    lo = "0" if nc.ci_low_unbounded or (nc.ci_low is None and nc.ci_high is not None) else fmt_params(nc.ci_low)
    hi = "∞" if nc.ci_high_unbounded or (nc.ci_high is None and nc.ci_low is not None) else fmt_params(nc.ci_high)
    return f"[{lo}, {hi}{')' if hi == '∞' else ']'}"


def nc_table(res) -> pd.DataFrame:
    """The diagnosis' N_c table made readable: N_c (``> 4.2B`` when no flip is measured), its CI as text, status,
    direction, r with its CI, and the family's message."""
    df = res.nc_frame()
    out = pd.DataFrame({
        "family": df["family"], "models": df["n_models"],
        "N_c": [nc_short(f.nc) if f.nc is not None and f.nc.status != "insufficient" else "—"
                for f in res.families],
        "95% CI": [_ci_text(f.nc) for f in res.families],
        "status": df["status"], "direction": df["direction"].fillna(""),
        "r": df["r"].round(3), "r 95% CI": [f"[{a:+.2f}, {b:+.2f}]" if pd.notna(a) else "—"
                                           for a, b in zip(df["r_ci_low"], df["r_ci_high"])],
        "message": [f.message for f in res.families],
    })
    return out
