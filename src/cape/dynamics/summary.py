"""The hold-out results as text: the lines and tables ``cape ode`` prints for a held-out family and for every
family held out in turn (:meth:`HoldoutResult.summary() <cape.dynamics.holdout.HoldoutResult.summary>`,
:meth:`HoldoutSweep.summary() <cape.dynamics.holdout.HoldoutSweep.summary>`)."""

from __future__ import annotations

from .._format import Line, TextTable
from .._format import fmt_number as fmt


def holdout_blocks(r) -> list[Line | TextTable]:
    """One held-out family: every method's MAPE per benchmark, overall MAPE, MAE and the ensemble's MAPE
    interval (the winner in bold on a terminal), then the verdict."""
    cols = ("method", *r.discovery.names, "all", "MAE pp", f"{r.level:.0%} ens.")
    rows, bold = [], []
    for i, m in enumerate(r.methods):
        e = m.errors
        iv = f"{m.mape_interval[0]:.1f}-{m.mape_interval[1]:.1f}" if m.mape_interval else ""
        rows.append((m.label, *[fmt(v, 2) for v in e.mape], fmt(e.overall_mape, 2) if not e.diverged else "diverged",
                     fmt(e.overall_mae, 2), iv))
        if m.method == r.winner:
            bold.append((i, 0))
    title = (f"Held-out {r.holdout}: trained on {', '.join(r.train)}, started from {r.start_model}, "
             f"predicting {', '.join(r.models)} (MAPE %, MAE in points)")
    return [TextTable(title, cols, tuple(rows), right=cols[1:], bold_cells=tuple(bold), title_left=True), Line(r.verdict)]


def sweep_blocks(sw) -> list[Line | TextTable]:
    """Every family held out in turn: each method's overall MAPE per family (the best in bold on a terminal),
    median, mean and wins, then the verdict."""
    cols = ("held out", "n", *[sw.labels[m] for m in sw.methods])
    rows, bold = [], []
    for i, r in enumerate(sw.results):
        cells = []
        for j, m in enumerate(sw.methods):
            e = r.method(m).errors
            cells.append("diverged" if e.diverged else fmt(e.overall_mape, 2))
            if m == r.winner:
                bold.append((i, j + 2))
        rows.append((r.holdout, str(len(r.models)), *cells))
    n = len(rows)
    rows.append(("median", "", *[fmt(sw.median_mape[m], 2) for m in sw.methods]))
    rows.append(("mean", "", *[fmt(sw.mean_mape[m], 2) for m in sw.methods]))
    rows.append(("wins", "", *[f"{sw.wins[m]:g}" for m in sw.methods]))
    bold += [(n, 0), (n + 1, 0), (n + 2, 0)]
    return [TextTable("Every family held out in turn (trained on all others): overall MAPE %", cols, tuple(rows),
                      right=cols[1:], bold_cells=tuple(bold), title_left=True), Line(sw.verdict)]
