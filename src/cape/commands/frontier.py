"""``cape frontier`` (frontier diagnostics) and ``cape doctor`` (diagnose one model, recommend interventions)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._scores import SHOTS_OPT, STRICT_OPT, UNITS_OPT, VARIANT_OPT
from ._table import Out, format_option, print_blocks
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
    """Print the report's summary blocks (:meth:`~cape.frontier.FrontierReport.summary_blocks`) with Rich."""
    print_blocks(rep.summary_blocks(), out)


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
    print_blocks(res.summary_blocks(), out)
