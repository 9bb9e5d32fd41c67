"""``cape ode`` and ``cape predict``: the sparse-regression capability ODE, its held-out test, predictions."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._scores import FINETUNES_OPT, SHOTS_OPT, STRICT_OPT, VARIANT_OPT
from ._table import format_option, out, print_blocks, set_format
from ._common import emit_json, err_console, fmt, fmt_params

# ode and predict already have --units (the ODE's state units), so the score table's units are --score-units
_SCORE_UNITS_OPT = typer.Option("auto", "--score-units", help="Scores in a generic --scores table: auto, percent or "
                                                             "fraction (a table written by cape ingest records its "
                                                             "own).")


def register(app: typer.Typer) -> None:
    app.command("ode")(ode)
    app.command("predict")(predict)


# ---------------------------------------------------------------------------------------------- helpers
def _load_scores(path: Optional[Path], score_units: str = "auto", variant=None, shots=None, strict: bool = False,
                 include_finetunes: bool = False):
    """The user's score file (any format ``cape.ingest.read_any`` knows), restricted to the chosen variants and
    shots; the embedded cohort (``None``) when no file is given and nothing is chosen."""
    from ._scores import apply_settings, read_scores

    if path is None and not (variant or shots):
        return None
    if path is None:
        from ..data import load_base

        table = load_base()
    else:
        table, _ = read_scores(path, units=score_units, strict=strict, units_flag="--score-units")
    table, _notes = apply_settings(table, variant, shots, include_finetunes=include_finetunes or path is None)
    return table


def _run_quiet(fn, *args, **kw):
    """Run an analysis, collecting its Python warnings instead of letting them print."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [str(w.message) for w in caught]


def _show_notes(disc, extra: list[str] | None = None, *, left_out: bool = True) -> None:
    """The analysis' warnings on standard error, each once; then (``left_out``) the families and models it left
    out."""
    from ..dynamics.summary import left_out_blocks

    seen = set()
    for w in [*disc.warnings, *(extra or [])]:
        if w in seen:
            continue
        seen.add(w)
        err_console.print(f"[yellow]warning:[/] {w}")
    if left_out:
        print_blocks(left_out_blocks(disc))


def _print_holdout(r) -> None:
    print_blocks(r.summary_blocks())


def _print_sweep(sw) -> None:
    print_blocks(sw.summary_blocks())


def _print_phases(c) -> None:
    print_blocks(c.summary_blocks())


def _families(values: Optional[List[str]]) -> Optional[list[str]]:
    if not values:
        return None
    out: list[str] = []
    for v in values:
        out.extend(s.strip() for s in v.split(",") if s.strip())
    return out


# ---------------------------------------------------------------------------------------------- commands
def ode(
    train: Optional[List[str]] = typer.Option(None, "--train", help="Training family (repeatable; default Pythia; "
                                                                    "'all' = every family but the held-out one)."),
    holdout: str = typer.Option("Llama-2", "--holdout", help="Held-out family ('all': each family in turn, "
                                                             "trained on the others; 'none': skip the test)."),
    benchmarks: str = typer.Option("HS,TQA,ARC,WG,MMLU", "--benchmarks", "-b",
                                   help="State vector: comma-separated benchmarks (at least 2)."),
    degree: int = typer.Option(2, "--degree", help="Polynomial library degree: 1 (linear) or 2 (pairwise products)."),
    n_models: int = typer.Option(100, "--n-models", help="Ensemble size (bootstrap refits)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="Score file (default: the embedded cohort)."),
    method: str = typer.Option("sound", "--method", help="'sound' (pysindy + baselines) or 'paper' (the paper's "
                                                         "own computations)."),
    phases: bool = typer.Option(False, "--phases", help="Also fit tax-phase and bonus-phase intervals separately."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Fixed STLSQ threshold (default: CV)."),
    units: str = typer.Option("fraction", "--units", help="'fraction' (score/100) or 'standardised'."),
    cv_rule: str = typer.Option("1se", "--cv-rule", help="'1se' (sparsest within one SE) or 'min'."),
    shared_threshold: bool = typer.Option(False, "--shared-threshold",
                                          help="One threshold for all equations (default: one per equation)."),
    sparse_constant: bool = typer.Option(False, "--sparse-constant",
                                         help="Threshold the constant like other terms (default: a free intercept)."),
    score_units: str = _SCORE_UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    include_finetunes: bool = FINETUNES_OPT,
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    fmt_: str = format_option(),
) -> None:
    """Discover the capability ODE with pysindy, test it on a held-out family against baselines.

    Example: cape ode --train Pythia --holdout Llama-2 --degree 2 --n-models 100
    """
    set_format(fmt_)
    from ..dynamics.trajectories import resolve_benchmarks
    from ..errors import AnalysisError
    from ._options import about

    with about("--benchmarks", benchmarks):
        resolve_benchmarks(benchmarks)
    table = _load_scores(scores, score_units, variant, shots, strict, include_finetunes)
    fams = _families(train)
    if method == "paper":
        _ode_paper(table, fams, holdout, json_)
        return
    if method != "sound":
        raise AnalysisError(f"--method must be 'sound' or 'paper', not {method!r}")
    kw = dict(benchmarks=benchmarks, degree=degree, threshold=threshold, n_models=n_models, seed=seed,
              units=units, cv_rule=cv_rule, per_equation=not shared_threshold, intercept=not sparse_constant)
    _ode_sound(table, fams, holdout, kw, phases, json_)


def _ode_paper(table, fams: Optional[list[str]], holdout: str, json_: bool) -> None:
    """``cape ode --method paper``: the paper's own ODE fit, held-out polynomial and per-phase slopes."""
    from ..dynamics import paper_holdout, paper_ode_fit, paper_per_phase

    fit = paper_ode_fit(table) if table is not None else paper_ode_fit()
    ho = paper_holdout(table, **({"train": tuple(fams)} if fams else {}),
                       **({"holdout": holdout} if holdout.lower() != "none" else {}))
    pp = paper_per_phase(table)
    if json_:
        emit_json({"method": "paper", "ode_fit": fit, "holdout": ho, "per_phase": pp})
        return
    _print_paper(fit, ho, pp)


def _ode_sound(table, fams: Optional[list[str]], holdout: str, kw: dict, phases: bool, json_: bool) -> None:
    """``cape ode``: the ODE discovered with pysindy, its held-out test (one family, every family or none) and,
    with ``phases``, the per-phase fits."""
    from ..dynamics import cross_predict, discover, per_phase

    result: dict = {"method": "sound"}
    sweep = ho = None
    if holdout.lower() == "all":
        from ..dynamics import cross_predict_all

        disc, notes = _run_quiet(discover, table, families=fams, **kw)
        sweep, n2 = _run_quiet(cross_predict_all, table, **{k: v for k, v in kw.items() if k != "threshold"})
        notes += n2
        result["sweep"] = sweep
    elif holdout.lower() == "none":
        disc, notes = _run_quiet(discover, table, families=fams or ["Pythia"], **kw)
    else:
        ho, notes = _run_quiet(cross_predict, table, train=fams, holdout=holdout, **kw)
        disc = ho.discovery
    result["discovery"] = disc
    if ho is not None:
        result["holdout"] = ho.to_dict()
        result["holdout"].pop("discovery", None)
    ph = None
    if phases:
        ph, n2 = _run_quiet(per_phase, table, **{k: v for k, v in kw.items() if k != "threshold"})
        notes += n2
        result["phases"] = ph
    if json_:
        emit_json(result)
        return
    print_blocks(disc.summary_blocks())
    _show_notes(disc, [], left_out=False)          # the summary lists what was left out
    if ho is not None:
        _print_holdout(ho)
    if sweep is not None:
        _print_sweep(sweep)
    if ph is not None:
        _print_phases(ph)


def _print_paper(fit, ho, pp) -> None:
    from rich.table import Table

    out().print("[bold]The paper's own computations (method=paper)[/]")
    t = Table(title=f"ODE fit: dense least-squares linear ODE on {fit.family} ({fit.n_parameters} parameters "
                    f"from {fit.n_numbers} slopes), RK45 from {fit.models[0]}", title_justify="left")
    for b in fit.benchmarks:
        t.add_column(b, justify="right")
    t.add_column("overall", justify="right")
    t.add_row(*[fmt(v, 2) for v in fit.per_benchmark], fmt(fit.overall, 2))
    out().print(t)
    out().print(f"  mean |error| / mean score = {fit.overall:.2f}% (published 2.6%); eigenvalues of C: "
                  + ", ".join(f"{e.real:.3f}{e.imag:+.3f}i" if abs(e.imag) > 1e-12 else f"{e.real:.3f}"
                              for e in fit.eigenvalues))
    t = Table(title=f"Held-out {ho.holdout}: degree-{ho.degree} polynomial of {ho.benchmark} in log10 N on "
                    f"{' + '.join(ho.train)} (not an ODE)", title_justify="left")
    for c in ("model", "params", "observed", "predicted", "error %"):
        t.add_column(c, justify="right" if c != "model" else "left")
    for m, p, o, pr, e in zip(ho.models, ho.params, ho.observed, ho.predicted, ho.signed_pct):
        t.add_row(m, fmt_params(p), fmt(o, 2), fmt(pr, 2), fmt(e, 2))
    out().print(t)
    out().print(f"  MAPE {ho.mape:.2f}% (published 5.6%)")
    out().print(f"Per-phase HS coefficient in dTQA/dlog10N (OLS on {pp.family}): tax {pp.tax:.4f}, "
                  f"bonus {pp.bonus:.4f}, ratio {pp.ratio:.2f}x (published 0.12 -> 0.75, 6.3x); "
                  f"intervals: tax {pp.phases['tax']['n_intervals']}, bonus {pp.phases['bonus']['n_intervals']}; "
                  f"any within-family sign flip: {'yes' if pp.sign_flip else 'no'}")


def predict(
    family: str = typer.Option(..., "--family", "-f", help="The family to extend (its largest model is the start)."),
    params: str = typer.Option(..., "--params", "-n", help="New parameter count, e.g. 3e10, 30B, 350M."),
    train: Optional[List[str]] = typer.Option(None, "--train", help="Families to discover the ODE on "
                                                                    "(repeatable; default all with every benchmark)."),
    benchmarks: str = typer.Option("HS,TQA,ARC,WG,MMLU", "--benchmarks", "-b",
                                   help="State vector: comma-separated benchmarks (at least 2)."),
    degree: int = typer.Option(2, "--degree", help="Polynomial library degree (1 or 2)."),
    n_models: int = typer.Option(200, "--n-models", help="Bootstrap refits for the prediction interval."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    level: float = typer.Option(0.95, "--level", help="Interval coverage."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="Score file (default: the embedded cohort)."),
    units: str = typer.Option("fraction", "--units", help="'fraction' or 'standardised'."),
    cv_rule: str = typer.Option("1se", "--cv-rule", help="'1se' or 'min'."),
    score_units: str = _SCORE_UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    include_finetunes: bool = FINETUNES_OPT,
    json_: bool = typer.Option(False, "--json", help="Print JSON."),
    fmt_: str = format_option(),
) -> None:
    """Predict a family's scores at a new size, with prediction intervals and the predicted phase.

    Example: cape predict --family Pythia --params 30B
    """
    set_format(fmt_)
    from rich.table import Table

    from ..dynamics import parse_params, predict_scale
    from ..dynamics.trajectories import resolve_benchmarks
    from ._options import about

    with about("--benchmarks", benchmarks):
        resolve_benchmarks(benchmarks)
    n = parse_params(params)
    table = _load_scores(scores, score_units, variant, shots, strict, include_finetunes)
    p, notes = _run_quiet(predict_scale, family, n, table, train=_families(train), benchmarks=benchmarks,
                          degree=degree, n_models=n_models, seed=seed, level=level, units=units, cv_rule=cv_rule)
    if json_:
        emit_json(p)
        return
    t = Table(title=f"{p.family} at {fmt_params(p.params)} parameters ({p.status}; integrated from "
                    f"{p.start_model}, {fmt_params(p.start_params)})", title_justify="left")
    for c in ("benchmark", p.start_model, "predicted", f"{p.level:.0%} interval"):
        t.add_column(c, justify="right" if c != "benchmark" else "left")
    for b, s, v, lo, hi in zip(p.benchmarks, p.start_scores, p.predicted, p.lo, p.hi):
        t.add_row(b, fmt(s, 1), fmt(v, 1), f"{fmt(lo, 1)} - {fmt(hi, 1)}")
    out().print(t)
    if p.phase is not None:
        probs = ", ".join(f"{k} {v:.0%}" for k, v in p.phase_probability.items() if v > 0)
        g = "undetermined (HS change <= 0.5 points)" if p.gamma is None else f"{p.gamma:+.3f}"
        out().print(f"Predicted phase: [bold]{p.phase}[/] (gamma = dTQA/dHS from {p.start_model} = {g}; "
                      f"bootstrap: {probs})")
    else:
        out().print("Predicted phase: not given (needs HS and TQA in the state and a size above the family's "
                      "largest model)")
    out().print(f"System: {', '.join(p.discovery.equations(probabilities=False))}")
    out().print(f"[dim]Interval: {p.n_boot} bootstrap refits over families and intervals "
                  f"({p.n_diverged} diverged) plus binomial measurement noise; seed {p.seed}.[/]")
    _show_notes(p.discovery, [])
