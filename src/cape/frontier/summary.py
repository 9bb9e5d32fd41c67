"""The frontier report as text: the lines and tables ``cape frontier`` prints, one function per section.

:meth:`FrontierReport.summary() <cape.frontier.FrontierReport.summary>` joins them as plain text; the command
line prints the same blocks with Rich.
"""

from __future__ import annotations

from typing import Any

from .._format import Line, TextTable
from .._format import fmt_number as fmt

Block = Line | TextTable


def _mark(name: str, added: set[str]) -> str:
    """A model name, followed by ``(added)`` for a model the user added."""
    return f"{name} (added)" if name in added else name


def _text(v: Any) -> str:
    """A cell for an optional text value (missing as an em dash)."""
    import pandas as pd

    try:
        if v is None or pd.isna(v):
            return "—"
    except (TypeError, ValueError):
        pass
    return str(v)


def _ci(ci, nd: int = 3) -> str:
    lo, hi = ci
    return f"[{fmt(lo, nd)}, {fmt(hi, nd)}]"


def coupling_blocks(rep) -> list[Block]:
    """The population coupling (r, slope, intercept with t and bootstrap intervals) and its subsets."""
    cfg, c = rep.config, rep.coupling
    title = "Frontier population coupling"
    out: list[Block] = [Line(f"{title}: {cfg.y} on {cfg.x}, {c.n} fitted models ({', '.join(cfg.fitted_subsets)}), "
                             f"{int(len(rep.panel))} shown", bold=len(title))]
    cols = ("quantity", "estimate", "SE", f"{c.ci:.0%} t / Fisher CI", f"bootstrap CI ({c.n_boot}, seed {c.seed})")
    rows = (("r", fmt(c.r, 4), "", _ci(c.r_ci_fisher), _ci(c.r_ci_boot)),
            ("p (two-sided)", f"{c.p:.3g}", "", "", ""),
            ("slope", fmt(c.slope, 4), fmt(c.se_slope, 3), _ci(c.slope_ci_t), _ci(c.slope_ci_boot)),
            ("intercept", fmt(c.intercept, 3), fmt(c.se_intercept, 2), _ci(c.intercept_ci_t, 2),
             _ci(c.intercept_ci_boot, 2)),
            ("residual SD", fmt(c.residual_sd, 2), "", "", ""))
    out.append(TextTable("", cols, rows, right=cols[1:]))
    if rep.subsets:
        cols = ("subset", "rule", "n", "r", "p", "slope", "intercept")
        out.append(TextTable("Coupling on subsets", cols, tuple(
            (s.name, s.rule, str(s.n), fmt(s.r, 4), f"{s.p:.2g}", fmt(s.slope, 4), fmt(s.intercept, 2))
            for s in rep.subsets), right=cols[2:]))
    return out


def h_field_blocks(rep) -> list[Block]:
    """The h-field: every shown model's distance from the population line with its prediction interval."""
    cfg, hf, added = rep.config, rep.h_field, set(rep.added_models)
    cols = ("model", "lab", "date", "subset", "x", "y", "h", "± PI", "direction")
    rows = tuple((_mark(m, added), r["lab"], _text(r["date"]), r["subset"] + ("" if r["in_fit"] else " *"),
                  fmt(r["x"], 1), fmt(r["y"], 1), fmt(r["h"], 1) + ("!" if r["outside_pi"] else ""),
                  fmt(r["pi_half"], 1), r["direction"])
                 for m, r in hf.table.sort_values(["lab", "h"]).iterrows())
    return [TextTable(f"h-field: {cfg.y} - ({hf.slope:.4g} * {cfg.x} + {hf.intercept:.4g})  [{hf.method} line; "
                      f"PI = {hf.ci:.0%} prediction interval]", cols, rows, right=("x", "y", "h", "± PI")),
            Line("  * shown, not fitted;  ! outside the prediction interval")]


def lab_blocks(rep) -> list[Block]:
    """Per-lab statistics of the fitted models and each lab's h trajectory over its releases."""
    added = set(rep.added_models)
    cols = ("lab", "n", "core", "mean h", "mean h core", "SD h", "swing", "slope ± SE", "r", "conf.", "direction",
            "shown only")
    rows = []
    for lab, r in rep.labs.table.iterrows():
        so = ", ".join(_mark(m.strip(), added) for m in r["shown_only"].split(",") if m.strip())
        rows.append((lab, str(r["n"]), str(r["n_core"]), fmt(r["mean_h"], 2), fmt(r["mean_h_core"], 2),
                     fmt(r["sd_h"], 2), fmt(r["swing"], 1),
                     f"{fmt(r['slope'], 3)} ± {fmt(r['slope_se'], 3)}" if r["slope"] == r["slope"] else "—",
                     fmt(r["r"], 3), r["confidence"], r["direction"], so))
    out: list[Block] = [TextTable("Per-lab statistics (fitted models)", cols, tuple(rows),
                                  right=tuple(c for c in cols if c not in ("lab", "conf.", "direction",
                                                                           "shown only")))]
    traj = []
    for lab, g in rep.labs.trajectory.groupby("lab", sort=True):
        steps = []
        for _, r in g.iterrows():
            s = f"{_mark(r['model'], added)} {r['h']:+.1f}"
            if r["dh"] == r["dh"]:
                s += f" ({r['dh']:+.1f}{' ‼' if r['reallocation'] else ''})"
            steps.append(s)
        traj.append((lab, " → ".join(steps)))
    out.append(TextTable(f"h trajectory per lab (ordered by {rep.labs.order}; ‼ = |dh| > "
                         f"{rep.config.reallocation:g})", ("lab", "releases: model h (dh)"), tuple(traj)))
    return out


def lolo_blocks(rep) -> list[Block]:
    """Leave-one-lab-out error per lab, its summary, and the prediction of every shown-only model."""
    lo, ys, added = rep.lolo, rep.config.y, set(rep.added_models)
    cols = ("lab", "test models", "MAE", "MAPE %", "in summary")
    rows = tuple((lab, str(r["n_test"]), fmt(r["mae"], 2), fmt(r["mape"], 1), "yes" if r["in_summary"] else "")
                 for lab, r in lo.labs.iterrows())
    out: list[Block] = [TextTable(f"Leave-one-lab-out: predict a lab from the others ({ys} points)", cols, rows,
                                  right=cols[1:]),
                        Line(f"  LOLO MAE {lo.mean_mae:.2f} ± {lo.sd_mae:.2f} {ys} points (mean ± population SD over "
                             f"{lo.n_labs} labs with ≥ {lo.min_models} models); MAPE {lo.mean_mape:.1f} ± "
                             f"{lo.sd_mape:.1f}%")]
    for m, r in lo.models[~lo.models["in_fit"]].iterrows():
        out.append(Line(f"  {_mark(m, added)}: predicted {r['predicted']:.1f} without its lab, "
                        f"measured {r['y']:.1f} (error {r['error']:+.1f})"))
    return out


def saturation_blocks(rep) -> list[Block]:
    """The saturation verdict and the top of the panel on the old axis."""
    s, added = rep.saturation, set(rep.added_models)
    rk = s.ranking
    show = rk[(rk["in_top_k"]) | (rk["rank"] <= s.top_k + 3) | rk.index.isin(list(added))]
    cols = ("rank", "model", "lab", s.old, s.new, "top-k")
    rows = tuple((str(r["rank"]), _mark(m, added), r["lab"], fmt(r[s.old], 1), fmt(r[s.new], 1),
                  "✓" if r["in_top_k"] else "") for m, r in show.iterrows())
    return [Line(f"Saturation: {s.message}", bold=len("Saturation")),
            TextTable(f"Top of the panel by {s.rank_by}", cols, rows, right=("rank", s.old, s.new))]


def three_axis_blocks(rep) -> list[Block]:
    """The three-benchmark sub-panel: correlations, det R, d_eff and the third axis on the second."""
    ta = rep.three_axis
    if ta is None:
        return []
    b = ta.benchmarks
    tos = ta.third_on_second
    return [TextTable(f"Three-benchmark sub-panel ({ta.source}: {', '.join(ta.models)})", ("", *b),
                      tuple((bb, *[fmt(ta.corr[i, j], 3) for j in range(3)]) for i, bb in enumerate(b)),
                      right=tuple(b)),
            Line(f"  det R = {ta.det:.3f} ({'PSD' if ta.psd else 'not PSD'}); d_eff = {ta.d_eff_cov:.3f} "
                 f"(covariance) / {ta.d_eff_corr:.3f} (correlation); {tos['y']} = {tos['slope']:.4f} "
                 f"{tos['x']} + {tos['intercept']:.2f} (r = {tos['r']:+.3f})")]


def report_blocks(rep) -> list[Block]:
    """Every section of the report, in the order ``cape frontier`` prints them, then the notes."""
    return [*coupling_blocks(rep), *h_field_blocks(rep), *lab_blocks(rep), *lolo_blocks(rep),
            *saturation_blocks(rep), *three_axis_blocks(rep), *(Line(f"note: {n}", dim=True) for n in rep.notes)]
