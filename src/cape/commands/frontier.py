"""``cape frontier`` (frontier diagnostics) and ``cape doctor`` (diagnose one model, recommend interventions)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .._format import Line, TextTable
from ._scores import SHOTS_OPT, STRICT_OPT, UNITS_OPT, VARIANT_OPT
from ._table import Out, format_option
from ._common import console, emit_json, fmt, fmt_params


def register(app: typer.Typer) -> None:
    app.command("frontier")(frontier)
    app.command("doctor")(doctor)


def _read_scores(path: Path, units: str = "auto", variant=None, shots=None, strict: bool = False):
    """A ScoreTable from a user file (any format cape ingest reads), restricted to the chosen variants and
    shots."""
    from ._scores import apply_settings, read_scores

    table, _ = read_scores(path, units=units, strict=strict)
    return apply_settings(table, variant, shots)[0]


def _mark(name: str, added: set[str]) -> str:
    return f"[bold yellow]{name}[/] (added)" if name in added else name


def _s(v) -> str:
    """A cell for an optional text value (missing as an em dash)."""
    try:
        import pandas as pd

        if v is None or pd.isna(v):
            return "—"
    except (TypeError, ValueError):
        pass
    return str(v)


def _ci(ci, nd=3) -> str:
    lo, hi = ci
    return f"[{fmt(lo, nd)}, {fmt(hi, nd)}]"


# ---------------------------------------------------------------------------------------------- frontier
def frontier(
    scores: Optional[List[Path]] = typer.Option(None, "--scores", "-s", help="File(s) of models to add "
                                                "(CSV with model, lab, SWE-bench Verified, GPQA Diamond [, IFEval])."),
    include_post_cutoff: bool = typer.Option(False, "--include-post-cutoff",
                                             help="Fit the post-cutoff models too (the 39-model refit)."),
    fit_added: bool = typer.Option(False, "--fit-added", help="Fit the added models too (default: shown only)."),
    fit_subset: Optional[List[str]] = typer.Option(None, "--fit-subset",
                                                   help="Subsets in the fit (default core and extended)."),
    method: str = typer.Option("fit", "--method", help="Line for h: fit (unrounded OLS) or paper "
                                                       "(rounded to 0.513 / 46.4 precision)."),
    x: str = typer.Option("SWE-bench Verified", "--x", help="Older axis."),
    y: str = typer.Option("GPQA Diamond", "--y", help="Newer axis (h is in its points)."),
    top_k: int = typer.Option(5, "--top-k", help="Models at the top for the saturation spread."),
    rotate_below: float = typer.Option(0.2, "--rotate-below", help="Rotate the old axis when the spread ratio "
                                                                   "is below this."),
    rank_by: str = typer.Option("old", "--rank-by", help="Rank the top-k by the old or the new axis."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    units: str = UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    json_: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    fmt_: str = format_option(),
) -> None:
    """Frontier diagnostics: population coupling, h-field, per-lab statistics and trajectories,
    leave-one-lab-out error, axis saturation and the three-benchmark sub-panel."""
    from ..frontier import FrontierConfig, frontier_report
    from ..scores import ScoreTable

    cfg = FrontierConfig(x=x, y=y, fit_subsets=tuple(fit_subset) if fit_subset else ("core", "extended"),
                         include_post_cutoff=include_post_cutoff, fit_added=fit_added, h_method=method,
                         n_boot=n_boot, seed=seed, top_k=top_k, rotate_below=rotate_below, rank_by=rank_by)
    added = None
    if scores:
        tables = [_read_scores(p, units, variant, shots, strict) for p in scores]
        added = tables[0] if len(tables) == 1 else ScoreTable.concat(tables, name="added scores")
    rep = frontier_report(config=cfg, added=added)
    if json_:
        emit_json(rep)
        return
    _render_frontier(rep, Out(fmt_))


def _render_frontier(rep, out) -> None:
    from rich.table import Table

    cfg = rep.config
    added = set(rep.added_models)
    c = rep.coupling
    xs, ys = cfg.x, cfg.y
    out.print(f"[bold]Frontier population coupling[/]: {ys} on {xs}, {c.n} fitted models "
                  f"({', '.join(cfg.fitted_subsets)}), {int(len(rep.panel))} shown")
    t = Table(show_header=True)
    for col in ("quantity", "estimate", "SE", f"{c.ci:.0%} t / Fisher CI", f"bootstrap CI ({c.n_boot}, seed {c.seed})"):
        t.add_column(col, justify="right" if col != "quantity" else "left")
    t.add_row("r", fmt(c.r, 4), "", _ci(c.r_ci_fisher), _ci(c.r_ci_boot))
    t.add_row("p (two-sided)", f"{c.p:.3g}", "", "", "")
    t.add_row("slope", fmt(c.slope, 4), fmt(c.se_slope, 3), _ci(c.slope_ci_t), _ci(c.slope_ci_boot))
    t.add_row("intercept", fmt(c.intercept, 3), fmt(c.se_intercept, 2), _ci(c.intercept_ci_t, 2),
              _ci(c.intercept_ci_boot, 2))
    t.add_row("residual SD", fmt(c.residual_sd, 2), "", "", "")
    out.print(t)
    if rep.subsets:
        t = Table(title="Coupling on subsets")
        for col in ("subset", "rule", "n", "r", "p", "slope", "intercept"):
            t.add_column(col, justify="left" if col in ("subset", "rule") else "right")
        for s in rep.subsets:
            t.add_row(s.name, s.rule, str(s.n), fmt(s.r, 4), f"{s.p:.2g}", fmt(s.slope, 4), fmt(s.intercept, 2))
        out.print(t)

    hf = rep.h_field
    t = Table(title=f"h-field: {ys} - ({hf.slope:.4g} * {xs} + {hf.intercept:.4g})  [{hf.method} line; "
                    f"PI = {hf.ci:.0%} prediction interval]")
    for col in ("model", "lab", "date", "subset", "x", "y", "h", "± PI", "direction"):
        t.add_column(col, justify="right" if col in ("x", "y", "h", "± PI") else "left")
    tab = hf.table.sort_values(["lab", "h"])
    for m, r in tab.iterrows():
        flag = "" if r["in_fit"] else " *"
        hs = fmt(r["h"], 1) + ("!" if r["outside_pi"] else "")
        t.add_row(_mark(m, added), r["lab"], _s(r["date"]),
                  r["subset"] + flag, fmt(r["x"], 1), fmt(r["y"], 1), hs, fmt(r["pi_half"], 1), r["direction"])
    out.print(t)
    out.print("  * shown, not fitted;  ! outside the prediction interval")

    L = rep.labs.table
    t = Table(title="Per-lab statistics (fitted models)")
    for col in ("lab", "n", "core", "mean h", "mean h core", "SD h", "swing", "slope ± SE", "r", "conf.",
                "direction", "shown only"):
        t.add_column(col, justify="left" if col in ("lab", "conf.", "direction", "shown only") else "right")
    for lab, r in L.iterrows():
        so = ", ".join(_mark(m.strip(), added) for m in r["shown_only"].split(",") if m.strip())
        t.add_row(lab, str(r["n"]), str(r["n_core"]), fmt(r["mean_h"], 2), fmt(r["mean_h_core"], 2),
                  fmt(r["sd_h"], 2), fmt(r["swing"], 1),
                  f"{fmt(r['slope'], 3)} ± {fmt(r['slope_se'], 3)}" if r["slope"] == r["slope"] else "—",
                  fmt(r["r"], 3), r["confidence"], r["direction"], so)
    out.print(t)

    tr = rep.labs.trajectory
    t = Table(title=f"h trajectory per lab (ordered by {rep.labs.order}; ‼ = |dh| > {cfg.reallocation:g})")
    t.add_column("lab")
    t.add_column("releases: model h (dh)", overflow="fold")
    for lab, g in tr.groupby("lab", sort=True):
        steps = []
        for _, r in g.iterrows():
            s = f"{_mark(r['model'], added)} {r['h']:+.1f}"
            if r["dh"] == r["dh"]:
                s += f" ({r['dh']:+.1f}{' ‼' if r['reallocation'] else ''})"
            steps.append(s)
        t.add_row(lab, " → ".join(steps))
    out.print(t)

    lo = rep.lolo
    t = Table(title=f"Leave-one-lab-out: predict a lab from the others ({ys} points)")
    for col in ("lab", "test models", "MAE", "MAPE %", "in summary"):
        t.add_column(col, justify="left" if col == "lab" else "right")
    for lab, r in lo.labs.iterrows():
        t.add_row(lab, str(r["n_test"]), fmt(r["mae"], 2), fmt(r["mape"], 1), "yes" if r["in_summary"] else "")
    out.print(t)
    out.print(f"  LOLO MAE [bold]{lo.mean_mae:.2f} ± {lo.sd_mae:.2f}[/] {ys} points (mean ± population SD over "
                  f"{lo.n_labs} labs with ≥ {lo.min_models} models); MAPE {lo.mean_mape:.1f} ± {lo.sd_mape:.1f}%")
    sho = lo.models[~lo.models["in_fit"]]
    for m, r in sho.iterrows():
        out.print(f"  {_mark(m, added)}: predicted {r['predicted']:.1f} without its lab, "
                      f"measured {r['y']:.1f} (error {r['error']:+.1f})")

    s = rep.saturation
    out.print(f"[bold]Saturation[/]: {s.message}")
    t = Table(title=f"Top of the panel by {s.rank_by}")
    for col in ("rank", "model", "lab", s.old, s.new, "top-k"):
        t.add_column(col, justify="right" if col in ("rank", s.old, s.new) else "left")
    rk = s.ranking
    show = rk[(rk["in_top_k"]) | (rk["rank"] <= s.top_k + 3) | rk.index.isin(list(added))]
    for m, r in show.iterrows():
        t.add_row(str(r["rank"]), _mark(m, added), r["lab"], fmt(r[s.old], 1), fmt(r[s.new], 1),
                  "✓" if r["in_top_k"] else "")
    out.print(t)

    ta = rep.three_axis
    if ta is not None:
        b = ta.benchmarks
        t = Table(title=f"Three-benchmark sub-panel ({ta.source}: {', '.join(ta.models)})")
        t.add_column("")
        for bb in b:
            t.add_column(bb, justify="right")
        for i, bb in enumerate(b):
            t.add_row(bb, *[fmt(ta.corr[i, j], 3) for j in range(3)])
        out.print(t)
        tos = ta.third_on_second
        out.print(f"  det R = {ta.det:.3f} ({'PSD' if ta.psd else 'not PSD'}); d_eff = {ta.d_eff_cov:.3f} "
                      f"(covariance) / {ta.d_eff_corr:.3f} (correlation); {tos['y']} = {tos['slope']:.4f} "
                      f"{tos['x']} + {tos['intercept']:.2f} (r = {tos['r']:+.3f})")
    for n in rep.notes:
        out.print(f"[dim]note: {n}[/]")


# ---------------------------------------------------------------------------------------------- doctor
def doctor(
    model: Optional[str] = typer.Argument(None, help="A model of the embedded (or --data) cohort or frontier "
                                                     "panel, e.g. Pythia-1B or 'Claude Opus 4.6'."),
    family: Optional[str] = typer.Option(None, "--family", "-f", help="Family of a model you describe "
                                                                       "(with --params and --score)."),
    params: Optional[float] = typer.Option(None, "--params", "-n", help="Parameter count (raw, e.g. 1e9)."),
    score: Optional[List[str]] = typer.Option(None, "--score", help="BENCHMARK=VALUE in percent "
                                              "(HellaSwag=49.7, TQA=38.9, SWE=80, GPQA=85); repeatable."),
    d_model: Optional[int] = typer.Option(None, "--d-model", help="Residual width of a model you describe."),
    lab: Optional[str] = typer.Option(None, "--lab", help="Lab of a frontier model you describe."),
    name: Optional[str] = typer.Option(None, "--name", help="Name for a model you describe."),
    data_file: Optional[Path] = typer.Option(None, "--data", help="Score file to use instead of the embedded "
                                                                  "cohort (any format cape ingest reads); the "
                                                                  "model's family comes from it."),
    with_cohort: bool = typer.Option(False, "--with-cohort", help="With --data, add the embedded cohort's models "
                                                                  "(the file's own win for a model in both)."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file with DoctorConfig thresholds."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the score-noise bootstrap."),
    hub: Optional[str] = typer.Option(None, "--hub", help="Diagnose ORG/MODEL from the Hugging Face Hub against its "
                                                          "family across sizes on the Open LLM Leaderboard (cached, "
                                                          "offline-first; see cape fetch)."),
    units: str = UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    json_: bool = typer.Option(False, "--json", help="Print the diagnosis as JSON."),
    fmt_: str = format_option(),
) -> None:
    """Diagnose one model: local coupling against its family neighbours, phase with a confidence, position
    relative to the family's N_c, residuals from family and cohort trends, d_eff context, and recommended
    interventions, each with the rule that fired and its numbers."""
    from dataclasses import replace

    from ..doctor import DoctorConfig, diagnose_model, parse_scores

    cfg = DoctorConfig.from_toml(config) if config is not None else DoctorConfig()
    if seed is not None:
        cfg = replace(cfg, seed=seed)
    if hub is not None and (model is not None or data_file is not None):
        from ..errors import DataError

        raise DataError("--hub names the model and its data; give it without a MODEL argument or --data")
    table = _read_scores(data_file, units, variant, shots, strict) if data_file is not None else None
    hub_fam = None
    if hub is not None:
        from ._hub import hub_family

        hub_fam = hub_family(hub, (cfg.b1, cfg.b2), quiet=json_)
        table, model = hub_fam.table, hub_fam.diagnosed
    res = diagnose_model(model, family=family, params=params, scores=parse_scores(score or []), d_model=d_model,
                         lab=lab, name=name, table=table, config=cfg, with_cohort=with_cohort)
    if json_:
        emit_json(res if hub_fam is None else {"hub": hub_fam.to_dict(), **res.to_dict()})
        return
    if hub_fam is not None:
        from ._hub import render_hub

        render_hub(hub_fam)
    _render_doctor(res, Out(fmt_))


def _render_doctor(res, out) -> None:
    """Print the doctor's summary blocks (:meth:`~cape.doctor.DoctorResult.summary_blocks`) with Rich."""
    for b in res.summary_blocks():
        out.print(_rich_table(b) if isinstance(b, TextTable) else _styled(b))


def _styled(line: Line) -> str:
    """A summary line with its bold prefix and dim hint as Rich markup."""
    t = line.text
    if line.bold:
        t = f"[bold]{t[:line.bold]}[/]{t[line.bold:]}"
    return f"[dim]{t}[/]" if line.dim else t


def _rich_table(tt: TextTable):
    """A Rich table of a summary table (the one renderer prints it in every --format)."""
    from rich.table import Table

    t = Table(title=tt.title, show_lines=tt.show_lines)
    for c in tt.columns:
        kw = {"overflow": "fold"} if tt.fold else {"justify": "right" if c in tt.right else "left"}
        if c in tt.dim:
            kw["style"] = "dim"
        t.add_column(c, **kw)
    for row in tt.rows:
        first, *rest = row
        if tt.bold_head:
            top, _, more = first.partition("\n")
            first = f"[bold]{top}[/]" + (f"\n{more}" if _ else "")
        t.add_row(first, *rest)
    return t

