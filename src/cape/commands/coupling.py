"""``cape diagnose`` (coupling diagnosis per family + pooled N_c) and ``cape claims`` (the paper's numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..diagnose_text import (COMPACT_COLUMNS, compact_blocks, nc_line_parts, phase_runs, shown_families, sizes_text,
                              status_of, thresholds)
from ._common import console, emit_json, fmt, fmt_params
from ._table import Out, format_option, print_blocks
from ._scores import (FINETUNES_OPT, SHOTS_OPT, STRICT_OPT, UNITS_OPT, VARIANT_OPT, apply_settings, read_scores,
                      setting_warnings)


def register(app: typer.Typer) -> None:
    app.command("diagnose")(diagnose_cmd)
    app.command("claims")(claims_cmd)


def _nc_line(nc) -> str:
    head, rest = nc_line_parts(nc)
    return f"[{_STATUS_STYLE.get(nc.status, '')}]{head}[/]{rest}"


_PHASE_STYLE = {"tax": "red", "transition": "yellow", "bonus": "green"}
_STATUS_STYLE = {"observed": "bold green", "extrapolated": "cyan", "reversal": "bold magenta", "none": "dim",
                 "insufficient": "dim red"}


def diagnose_cmd(
    files: Optional[List[Path]] = typer.Argument(None, help="Score files (same as --scores).", show_default=False),
    scores: Optional[List[Path]] = typer.Option(None, "--scores", "-s",
                                                help="Score file(s) any reader ingests (CSV wide/long, lm-eval JSON, "
                                                     "leaderboard JSON, Epoch CSV); repeat for several. Default: "
                                                     "the embedded cohort."),
    pair: str = typer.Option("HellaSwag:TruthfulQA", "--pair", "-p", help="Benchmark pair B1:B2 (gamma = dB2/dB1); "
                                                                          "aliases such as HS:TQA work."),
    family: Optional[List[str]] = typer.Option(None, "--family", "-f", help="Only this family (repeatable)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every bootstrap and permutation."),
    n_boot: int = typer.Option(10_000, "--n-boot", help="Bootstrap resamples per estimate (also permutations)."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the CIs."),
    min_delta: float = typer.Option(0.5, "--min-delta", help="Skip steps with |dB1| at or below this (pp)."),
    scheme: str = typer.Option("nature", "--scheme", help="Phase thresholds: nature (+-0.1), sign, quickstart "
                                                          "(+-0.3), or LOWER,UPPER."),
    bootstrap: str = typer.Option("noise", "--bootstrap", help="Sign-split N_c resampling: noise, intervals, "
                                                               "both."),
    method: str = typer.Option("fit", "--method", help="Within-family N_c: fit (smooth fit of B2 in log N with its "
                                                       "interval; the sign split runs beside it) or crossing (the "
                                                       "sign split alone)."),
    noise: str = typer.Option("data", "--noise", help="data: add each benchmark's extra noise measured from the "
                                                      "families to every error; stated: stated/binomial errors only."),
    hub: Optional[str] = typer.Option(None, "--hub", help="Diagnose ORG/MODEL from the Hugging Face Hub: its "
                                                          "family across sizes from the Open LLM Leaderboard "
                                                          "(cached, offline-first; see cape fetch)."),
    json_: bool = typer.Option(False, "--json", help="Print the diagnosis as JSON (sizes in raw parameters)."),
    units: str = UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    include_finetunes: bool = FINETUNES_OPT,
    top: Optional[int] = typer.Option(None, "--top", help="Show the N families with the most evidence in detail "
                                                          "(default 20 on a cohort of more than 20 families; --json "
                                                          "keeps every family)."),
    details: bool = typer.Option(False, "--details", help="The long form: gamma per step, width check, N_c "
                                                          "messages, notes and noise per family."),
    fmt_: str = format_option(),
) -> None:
    """Coupling diagnosis per family: r with CI, gamma per interval, phase path, N_c with CI and status.

    Then the pooled N_c (family offsets) and the paper's own procedure."""
    from ..diagnose import diagnose
    from ..errors import DataError

    paths = list(files or []) + list(scores or [])
    if hub is not None and paths:
        raise DataError("--hub and score files are two sources of scores; give one of them")
    if hub is not None and family:
        raise DataError("--hub finds the model's family itself; drop --family")
    if top is not None and top < 1:
        raise DataError(f"--top must be at least 1, got {top}")
    table, notes, warnings = _diagnose_table(paths, pair, units, variant, shots, strict, include_finetunes)
    hub_fam = None
    if hub is not None:
        from ._hub import hub_family

        hub_fam = hub_family(hub, pair, quiet=json_)
        table, family = hub_fam.table, [hub_fam.family]
    sch = _checked_scheme(scheme, pair)
    if not 0 < level < 1:
        raise DataError(f"--level must be between 0 and 1, got {level}")
    if n_boot < 0:
        raise DataError(f"--n-boot must be >= 0, got {n_boot}")
    # the compact view prints neither the width check, the population N_c nor the paper's 14-model headline:
    # it skips them (each has its own seeded stream, so every number it prints is the same); --details and
    # --json compute everything
    full = json_ or details
    res = diagnose(table, pair, families=family or None, n_boot=n_boot, seed=seed, level=level,
                   min_delta=min_delta, scheme=sch, bootstrap=bootstrap, method=method, noise=noise,
                   keep_instruct=include_finetunes, width=full, population=full, headline=None if full else False)
    _print_diagnosis(res, hub_fam, notes, warnings, json_=json_, fmt_=fmt_, details=details, top=top)


def _print_diagnosis(res, hub_fam, notes: list[str], warnings: list[str], *, json_: bool, fmt_: str, details: bool,
                     top: int | None) -> None:
    """The diagnosis as JSON (with the hub lookup and the input notes), the compact table or the long form."""
    if json_:
        body = res.to_dict() if hub_fam is None else {"hub": hub_fam.to_dict(), **res.to_dict()}
        if notes or warnings:
            body = {**body, "input_notes": notes, "setting_warnings": warnings}
        emit_json(body)
        return
    out = Out(fmt_)
    if hub_fam is not None and out.fmt == "table":
        from ._hub import render_hub

        render_hub(hub_fam)
    for m in notes:
        out.print(f"[dim]{m}[/]")
    for m in warnings:
        out.print(f"[yellow]warning: {m}[/]")
    if details:
        _render(res, top=top)
    else:
        render_compact(res, out, top=top)


def _diagnose_table(paths: list[Path], pair: str, units: str, variant, shots, strict: bool, include_finetunes: bool):
    """The scores ``cape diagnose`` reads (None: the embedded cohort as it is), restricted to the chosen variants
    and shots, with the notes of that choice and the warnings about the pair."""
    notes: list[str] = []
    warnings: list[str] = []
    table = None
    if paths:
        table, _report = read_scores(paths, units=units, strict=strict)
    elif variant or shots:
        from ..data import load_base

        table = load_base()
    if table is not None:
        table, notes = apply_settings(table, variant, shots, include_finetunes=include_finetunes or not paths)
        warnings = _pair_warnings(table, pair)
    return table, notes, warnings


def _checked_scheme(scheme: str, pair: str):
    """``--scheme`` as a name or a ``(lower, upper)`` pair, checked with ``--pair`` (errors name the option)."""
    from .._validate import check_pair
    from ..coupling import phase_scheme
    from ..errors import DataError
    from ._options import about

    if "," in scheme:
        try:
            lo, hi = (float(v) for v in scheme.split(","))
        except ValueError:
            raise DataError(f"--scheme {scheme!r}: give a name or two numbers LOWER,UPPER") from None
        sch: str | tuple[float, float] = (lo, hi)
    else:
        sch = scheme
    with about("--scheme", scheme):
        phase_scheme(sch)
    with about("--pair", pair):
        check_pair(pair)
    return sch


def _pair_warnings(table, pair: str) -> list[str]:
    """Mixed-setting warnings for the two benchmarks of ``pair`` only (the ones diagnose reads)."""
    from .. import catalog

    try:
        bs = {catalog.canonical(b.strip()) for b in pair.replace(",", ":").split(":")}
    except Exception:  # noqa: BLE001 - a bad --pair is reported by diagnose itself
        return []
    sub = table.filter(benchmarks=[b for b in bs if b in table.benchmarks]) if bs & set(table.benchmarks) else None
    return setting_warnings(sub) if sub is not None else []


def _path_text(f) -> str:
    """The phase path with repeats counted, coloured by phase: ``tax×4 → bonus``."""
    runs = phase_runs(f)
    if not runs:
        return "—"
    return " → ".join(f"[{_PHASE_STYLE[p]}]{p}[/]" + (f"×{n}" if n > 1 else "") for p, n in runs)


def _status_text(f) -> str:
    st = status_of(f)
    return f"[{_STATUS_STYLE.get(st, '')}]{st}[/]"


def render_compact(res, out, top: int | None = None) -> None:
    """The default view of ``cape diagnose`` (:func:`cape.diagnose_text.compact_blocks`, the text of
    ``DiagnosisResult.summary()``), with the phase path and status coloured.

    Args:
        res: a :class:`~cape.diagnose.DiagnosisResult`.
        out: the :class:`~cape.commands._table.Out` to print to (its ``--format``).
        top: families shown on a big cohort (see ``--top``).
    """
    from rich.table import Table

    blocks = compact_blocks(res, top)
    tt = blocks[0]
    t = Table(title=tt.title, header_style="bold")
    for c, (_, j) in zip(tt.columns, COMPACT_COLUMNS):
        t.add_column(c, justify=j)
    shown, _rest = shown_families(res.families, top)
    for f, row in zip(shown, tt.rows):
        t.add_row(*row[:4], _path_text(f), row[5], _status_text(f))
    out.table(t)
    for b in blocks[1:]:
        if b.text.startswith("Pooled N_c: "):
            p, parts = res.pooled, []
            if p.offsets is not None:
                parts.append(f"shared U with family offsets {_nc_line(p.offsets)}")
            if p.paper is not None:
                parts.append(f"paper's procedure {_nc_line(p.paper)}")
            out.print("[bold]Pooled N_c[/]: " + "; ".join(parts))
        else:
            out.print(f"[dim]{b.text}[/]" if b.dim else b.text)


def _render(res, top: int | None = None) -> None:
    from .. import catalog

    s1, s2 = catalog.info(res.b1).short, catalog.info(res.b2).short
    console.print(f"[bold]CAPE diagnosis[/]: {res.b1} vs {res.b2}, gamma = d{s2}/d{s1} between consecutive sizes; "
                  f"data: {res.source}; {res.n_boot} resamples, seed {res.seed}, {int(round(100 * res.level))}% CIs")
    shown, rest_line = shown_families(res.families, top)
    for f in shown:
        _render_family(f, s1, s2)
    if rest_line:
        console.print()
        console.print(rest_line)
    console.print()
    console.print(f"[dim]gamma colours: red tax (< {thresholds(res)[0]}), yellow transition, green bonus (> {thresholds(res)[1]}); * = a "
                  f"step where {s1} falls with size (gamma's sign is then not the co-movement sign); skip = "
                  f"|d{s1}| <= {res.min_delta:g} pp or equal sizes[/]")
    _render_pooled(res.pooled)
    console.print()
    for ne in getattr(res, "noise", ()):
        used = " (added to every error)" if (res.noise_mode == "data" and ne.extra_sd > 0) else ""
        sty = "yellow" if ne.noisier_than_stated else "dim"
        console.print(f"[bold]Noise[/] {ne.benchmark}: stated {fmt(ne.stated_sd, 2)} pp, extra {ne.extra_sd:.2f} pp"
                      f"{used}. [{sty}]{ne.message}[/]")
    shown = [ne.message for ne in getattr(res, "noise", ())]
    for m in res.messages:
        if any(t in m for t in shown):
            continue
        console.print(f"[dim]{m}[/]")


def _render_family(f, s1: str, s2: str) -> None:
    """One family in the long form: r, gamma per step, phases, width check, N_c and notes."""
    console.print()
    r = f.r
    head = f"[bold]{f.family}[/]  {f.n_models} model{'s' if f.n_models != 1 else ''}, {sizes_text(f)}"
    if r is not None and r.r is not None:
        pp = (f", permutation p {r.p_perm:.2g} ({r.p_perm_method})" if r.p_perm is not None else "")
        head += f"   r({s1},{s2}) = {r.r:+.3f} [{fmt(r.ci_low, 2)}, {fmt(r.ci_high, 2)}]{pp}"
    console.print(head)
    if f.coupling and f.coupling.intervals:
        g = []
        for iv in f.coupling.intervals:
            if iv.gamma is None:
                g.append("[dim]skip[/]")
            else:
                sty = _PHASE_STYLE.get(iv.phase, "")
                g.append(f"[{sty}]{iv.gamma:+.2f}[/]" + ("*" if iv.flags else ""))
        console.print(f"  gamma  {' '.join(g)}")
        console.print(f"  steps  {' '.join(fmt_params(iv.n_mid) for iv in f.coupling.intervals)} "
                      "[dim](geometric midpoints)[/]")
        path = f.phase_path()
        if path:
            console.print("  phases " + " → ".join(f"[{_PHASE_STYLE[p]}]{p}[/]" for p in path))
    w = getattr(f, "width", None)
    if w is not None:
        console.print(f"  width  r after /(d_model/{w.d_ref:g}) = {w.r_norm:+.3f}; division alone: median "
                      f"{w.null_median:+.2f}, r > 0 in {100 * w.null_frac_positive:.0f}% of random pairs, "
                      f"p = {w.p_null:.2g}" + (" [yellow](flip = ratio artefact)[/]" if (w.flip and not
                                                                                       w.exceeds_null) else ""))
    nc = f.nc
    st = nc.status if nc else "insufficient"
    if st == "insufficient":
        console.print(f"  N_c    [{_STATUS_STYLE[st]}]insufficient data[/]")
    else:
        console.print(f"  N_c    {_nc_line(nc)} — {nc.message}")
        ss = (nc.details or {}).get("sign_split")
        if ss:
            console.print(f"  [dim]check  sign split of gamma: {ss['summary']}[/]")
    notes = [f.message] if (f.status != "ok" and f.message) else []
    notes += [m for m in f.messages if m not in notes and not (f.n_models < 3 and "r needs" in m)]
    for m in notes:
        console.print(f"  [dim]note: {m}[/]")


def _render_pooled(p) -> None:
    """The pooled N_c in the long form: population, shared shape with offsets, the paper's procedure."""
    console.print()
    console.print("[bold]Pooled N_c[/] " + (f"({p.message})" if p.message else ""))
    pop = getattr(p, "population", None)
    if pop is not None:
        console.print(f"  population (between-family random effects): {pop.message}")
    if p.offsets is not None:
        console.print("  shared U shape with family offsets (assumes one N_c for all families"
                      + ("; the homogeneity test rejects that" if (pop is not None and pop.homogeneous is False)
                         else "") + "): " + _nc_line(p.offsets))
    if p.paper is not None:
        console.print(f"  paper's procedure on the same families (pooled quadratic vertex, legacy seed 42): "
                      f"{_nc_line(p.paper)}")
    if p.paper_headline is not None:
        h = p.paper_headline
        console.print(f"  paper headline on its 14-model table (fixture boot14): N_c = {h.estimate / 1e9:.3f}B "
                      f"[{h.ci_low / 1e9:.3f}B, {h.ci_high / 1e9:.3f}B], {h.n_valid}/{h.n_boot} valid resamples")


def claims_cmd(
    verdict: Optional[str] = typer.Option(None, "--verdict", help="Only claims with this verdict: reproduces, "
                                                                  "differs, not-computable."),
    ids: Optional[List[str]] = typer.Option(None, "--id", help="Only these claim ids (repeatable)."),
    json_: bool = typer.Option(False, "--json", help="Print {schema_version, claims: [...]}: each claim with its "
                                                     "text values and the same values as numbers (paper, "
                                                     "computed; all numbers of each text in *_numbers)."),
    fmt_: str = format_option(),
    internals: Optional[Path] = typer.Option(None, "--internals", help="A folder of per-head results (cape sweep "
                                             "heads -o DIR): row M21 is computed from it."),
    keep_instruct: bool = typer.Option(False, "--keep-instruct", help="Keep instruct/chat/fine-tuned models in the "
                                                                      "base analyses (left out by default)."),
) -> None:
    """The paper's headline numbers: published value, value computed with the paper's procedure, value from the
    sound estimator, and a verdict with a one-line reason. Everything is computed now from the embedded data."""
    from ..errors import DataError
    from ..paper import verify_claims
    from ..paper.result import check_verdict

    if verdict is not None:
        check_verdict(verdict)                     # before the claims are computed
    if internals is not None and not internals.is_dir():
        raise DataError(f"--internals {internals}: not a folder of result files")
    res = verify_claims(internals=str(internals) if internals is not None else None, keep_instruct=keep_instruct)
    res = res.select(verdict=verdict, ids=ids)
    if json_:
        emit_json(res)
        return
    print_blocks(res.summary_blocks(), Out(fmt_))
