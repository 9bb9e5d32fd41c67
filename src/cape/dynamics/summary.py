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


#: The heading ``cape ode`` prints above a discovered system.
DISCOVERY_TITLE = "Discovered ODE  dB/dlog10N = f(B)  (pysindy, STLSQ)"


def discovery_blocks(disc, title: str = DISCOVERY_TITLE) -> list[Line | TextTable]:
    """A discovered system: its data and settings, the equations, the cross-validation and the in-sample fit,
    then the families and models left out."""
    cv = disc.cv
    how = (f"thresholds by {cv.scheme} cross-validation ({cv.rule} rule, "
           f"{'per equation' if cv.per_equation else 'shared'})" if cv is not None else "fixed threshold")
    out: list[Line | TextTable] = [
        Line(title, bold=len(title)),
        Line(f"  families: {', '.join(f'{t.family} ({t.n_points})' for t in disc.trajectories)}; "
             f"{disc.n_samples} derivative samples ({disc.derivative}); degree {disc.degree}; "
             f"units: {disc.units.describe()}"),
        Line(f"  {how}; ensemble of {disc.n_models} bootstrap refits (seed {disc.seed}); "
             f"constant {'never thresholded' if disc.intercept else 'thresholded like other terms'}"),
        *(Line(f"    {eq}") for eq in disc.equations()),
    ]
    if not (disc.coef[:, 1:] != 0).any():
        out.append(Line("  No coupling term survives cross-validation: the data support at most a constant rate "
                        "per decade.", dim=True))
    if cv is not None:
        out.append(TextTable("Cross-validation (held-out derivative error)", ("equation", "threshold", "terms", "CV R²"),
                             tuple((nm, fmt(disc.threshold[i], 4) if disc.threshold[i] != float("inf") else "∞",
                                    str(int((disc.coef[i] != 0).sum())), fmt(cv.r2[i], 2))
                                   for i, nm in enumerate(disc.names)),
                             right=("threshold", "terms", "CV R²"), title_left=True))
    if disc.fit is not None:
        out.append(_fit_table(disc))
    return out + left_out_blocks(disc)


def left_out_blocks(disc) -> list[Line | TextTable]:
    """The families and the models a discovery left out, each with its reason (one line each, when any)."""
    fam_drop = [d for d in disc.dropped if d.model is None]
    mod_drop = [d for d in disc.dropped if d.model is not None]
    out: list[Line | TextTable] = []
    if fam_drop:
        out.append(Line("Families left out: " + "; ".join(f"{d.family} ({d.reason})" for d in fam_drop)))
    if mod_drop:
        out.append(Line("Models left out: " + "; ".join(f"{d.model} ({d.reason})" for d in mod_drop)))
    return out


def _fit_table(disc) -> TextTable:
    """Each family integrated from its smallest model: MAPE per benchmark, overall MAPE and MAE (all in bold)."""
    cols = ("family", *[f"{nm} MAPE" for nm in disc.names], "overall MAPE", "MAE (pp)")
    rows = [(fam, *[fmt(v, 2) for v in e.mape], fmt(e.overall_mape, 2) if not e.diverged else "diverged",
             fmt(e.overall_mae, 2)) for fam, e in disc.fit_by_family.items()]
    rows.append(("all", *[fmt(v, 2) for v in disc.fit.mape], fmt(disc.fit.overall_mape, 2),
                 fmt(disc.fit.overall_mae, 2)))
    return TextTable("In-sample fit (each family integrated from its smallest model)", cols, tuple(rows),
                     right=cols[1:], bold_cells=((len(rows) - 1, 0),), title_left=True)


def phases_blocks(c) -> list[Line | TextTable]:
    """Per-phase discovery: each active term's coefficient in the tax and the bonus phase with its ensemble
    interval, and whether they differ beyond the spread; then the verdict."""
    cols = ("equation", "term", "tax", "tax interval", "bonus", "bonus interval", "differs")
    rows = tuple((r["equation"], r["term"], fmt(r["tax"], 3), f"[{fmt(r['tax_lo'], 2)}, {fmt(r['tax_hi'], 2)}]",
                  fmt(r["bonus"], 3), f"[{fmt(r['bonus_lo'], 2)}, {fmt(r['bonus_hi'], 2)}]",
                  "yes" if r["exceeds_spread"] else "no") for r in c.rows if r["active"])
    return [TextTable(f"Per-phase discovery (phases by {c.split}): coefficients with {c.level:.0%} ensemble "
                      "intervals", cols, rows, right=cols[2:], title_left=True),
            Line(c.verdict)]
