"""``cape levers``: what moves coupling (and N_c) at matched scale, estimated from public scores."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from ._table import format_option, out, set_format
from ._common import emit_json, err_console, fmt
from ._scores import SHOTS_OPT, STRICT_OPT, UNITS_OPT, VARIANT_OPT

#: column names of a user's file that name the model / its base / its kind
_MODEL_COLS = ("model", "fullname", "Model", "name")
_RENAME = {"Base Model": "base_model", "base model": "base_model", "Type": "model_type", "type": "model_type",
           "MoE": "moe"}


def register(app: typer.Typer) -> None:
    app.command("levers")(levers_cmd)


def read_attributes(paths: list[Path]):
    """Per-model attribute columns of the user's CSV/TSV files (the score readers keep only scores and the
    standard attributes): one row per model, ``Base Model``/``Type`` renamed to ``base_model``/``model_type``.
    Files that are not tables give nothing."""
    import pandas as pd

    from ..errors import DataError

    frames = []
    for p in paths:
        if Path(p).suffix.lower() not in (".csv", ".tsv", ".txt"):
            continue
        try:
            df = pd.read_csv(p, sep=None, engine="python", dtype=str)
        except Exception as e:  # noqa: BLE001 - any parse failure is the user's file
            raise DataError(f"{p}: not a readable table ({type(e).__name__}: {e})") from None
        col = next((c for c in _MODEL_COLS if c in df.columns), None)
        if col is None:
            continue  # a long or unusual layout: the ingest reader already reported what it read
        df = df.rename(columns={c: _RENAME[c] for c in df.columns if c in _RENAME})
        df["model"] = df[col].astype(str).map(lambda s: re.sub(r"<[^>]+>", " ", s).split()[0] if s.strip() else s)
        if col != "model":
            df = df.drop(columns=[col])
        frames.append(df.drop_duplicates("model"))
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True).drop_duplicates("model")


def levers_cmd(
    scores: list[Path] | None = typer.Option(None, "--scores", "-s",
                                                help="Score file(s) with any lever columns (CSV with one row per "
                                                     "model, or any format `cape ingest` reads). Default: the "
                                                     "embedded cohort."),
    lever: list[str] | None = typer.Option(None, "--lever", "-l",
                                              help="Lever to estimate (repeatable): recipe, d_model, aspect_ratio, "
                                                   "gqa, moe, vocab_size, generation, post_training or a column "
                                                   "of your file. Default: all."),
    pair: str = typer.Option("HellaSwag:TruthfulQA", "--pair", "-p", help="Benchmark pair B1:B2."),
    measure: str = typer.Option("gamma", "--measure", "-m", help="gamma (local coupling between sizes) or "
                                                                 "residual (B2 at matched B1 and size)."),
    at: str = typer.Option("1B", "--at", help="Size of the equivalent-scale reading (e.g. 1B, 350M)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and the permutations."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Family bootstrap replicates."),
    n_perm: int = typer.Option(2000, "--n-perm", help="Label shuffles of the permutation test."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level."),
    min_families: int = typer.Option(3, "--min-families", help="Families needed on each side for an estimate."),
    finetunes: bool = typer.Option(True, "--finetunes/--no-finetunes",
                                   help="Also the shift of fine-tunes, chat models and merges against their base "
                                        "(when the file names bases)."),
    units: str = UNITS_OPT,
    variant: list[str] | None = VARIANT_OPT,
    shots: list[str] | None = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    fmt_: str = format_option(),
) -> None:
    """What moves coupling at matched scale: each lever's effect with a family bootstrap CI, a permutation p
    (the lever shuffled across families), families per level and the equivalent-scale reading."""
    set_format(fmt_)
    from ..dynamics.predict import parse_params
    from ..errors import AnalysisError, DataError
    from ..levers import finetune_shifts, lever_effects
    from ._scores import apply_settings, read_scores

    try:
        at_n = parse_params(at)
    except AnalysisError as e:
        raise DataError(str(e).replace("--params", "--at")) from None
    paths = list(scores or [])
    attrs = None
    if paths:
        table, _ = read_scores(paths, units=units, strict=strict)
        table, _notes = apply_settings(table, variant, shots)
        attrs = read_attributes(paths)
    else:
        from ..data import load_base

        table = load_base()
    if not json_:
        err_console.print(f"[dim]estimating {len(lever) if lever else 'all'} lever(s) on {table.n_models} models "
                          f"({n_boot} resamples, {n_perm} shuffles)...[/]")
    try:
        rep = lever_effects(table, lever or None, attributes=attrs, pair=pair, measure=measure, at=at_n,
                            n_boot=n_boot, n_perm=n_perm, seed=seed, alpha=alpha, min_families=min_families)
    except DataError as e:
        if "benchmarks present" in str(e):
            raise DataError(f"{e}; choose two of them with --pair B1:B2") from None
        raise
    ft = None
    if finetunes and attrs is not None and "base_model" in attrs.columns:
        try:
            ft = finetune_shifts(table, attributes=attrs, pair=pair, n_boot=n_boot, n_perm=n_perm, seed=seed,
                                 alpha=alpha, min_bases=min_families)
        except AnalysisError:
            ft = None
    if json_:
        out = rep.to_dict()
        out["finetunes"] = ft.to_dict() if ft is not None else None
        emit_json(out)
        return
    _render(rep, ft)


def _render(rep, ft) -> None:
    from rich.table import Table

    b1, b2 = rep.pair
    unit = "gamma" if rep.measure == "gamma" else f"{b2} pts"
    out().print(f"[bold]CAPE levers[/]: {b1} vs {b2}, measure {rep.measure}; {rep.n_families} families, "
                  f"{rep.n_models} models; coupling trend with size {fmt(rep.scale_slope)} per decade "
                  f"[{fmt(rep.scale_slope_ci[0])}, {fmt(rep.scale_slope_ci[1])}]")
    t = Table(show_lines=False)
    for c in ("lever", "contrast", f"effect ({unit}) [95% CI]", "p", "families", "equivalent scale"):
        t.add_column(c)
    for e in rep.levers:
        fam = ", ".join(f"{k} {v}" for k, v in e.n_families.items())
        if not e.identifiable:
            t.add_row(e.lever, " vs ".join(reversed(e.levels)) if e.kind == "categorical" else e.unit or "",
                      "[dim]not identifiable[/]", "—", fam, "—")
            continue
        eff = f"{e.effect:+.3g} [{fmt(e.ci_low, 3)}, {fmt(e.ci_high, 3)}]"
        sty = "bold green" if e.significant else ""
        eq = e.equivalent_scale
        eqs = "—"
        if eq is not None and eq.equivalent_params is not None:
            from ..levers.results import fmt_size

            eqs = f"{fmt_size(eq.at)} ~ {fmt_size(eq.equivalent_params)} (N_c x{eq.nc_factor:.3g})"
        t.add_row(e.lever, " vs ".join(reversed(e.levels)) if e.kind != "continuous" else e.unit,
                  f"[{sty}]{eff}[/]" if sty else eff, f"{e.p:.3g}", fam, eqs)
    out().print(t)
    for e in rep.levers:
        out().print(f"- {e.message}")
        if e.equivalent_scale is not None and e.identifiable:
            out().print(f"  [dim]{e.equivalent_scale.sentence}[/]")
    if rep.collinear:
        for c in rep.collinear:
            out().print(f"[yellow]collinear[/]: {c['levers'][0]} and {c['levers'][1]} (r = {c['r']:+.2f} over "
                          f"{c['n_families']} families)")
    if ft is not None:
        out().print(f"\n[bold]Post-training vs base[/] ({len(ft.pairs)} pairs; shift = d{b2} - {ft.slope:.3g} "
                      f"d{b1}, slope from {ft.slope_source})")
        for k in ft.kinds:
            out().print(f"- {k.message}")
