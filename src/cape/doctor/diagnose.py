"""The doctor's entry point: diagnose one model and recommend interventions, each with the rule that fired
and its numbers.

Input is one model: a name from the embedded cohort / frontier panel (or a user's score table), a model
described by family, parameter count and some benchmark scores, or a frontier model described by its
SWE-bench Verified and GPQA Diamond scores. The diagnosis is computed from the model's own scores and its
family (never from its parameter count alone):

* local coupling gamma = dB2/dB1 against the next-smaller and next-larger members of its family
  (:func:`cape.coupling.local_coupling`), with a score-noise interval;
* its phase (tax / transition / bonus) with a confidence: the share of score-noise draws (each score perturbed
  by its standard error, from the binomial error of the benchmark's item count when none is given) that give
  the same phase;
* its position relative to the family's critical scale N_c (below / near / above, with the CI);
* residuals: from the family's own B2(log N) trend, from the cohort's web-trained curve (the data field
  h(D): docs/methods.md, "Other observables") and, for frontier models, from the population line (the h-field);
* the d_eff context of its phase in the cohort;
* recommendations from documented rules (:data:`RULES`), thresholds in :class:`DoctorConfig`.

Rules (docs/coupling.md, "Diagnose one model", has the full text):

==================  ===========================================================================================
``curation``        tax phase, below the family's N_c, and curated-data families (recipe ``curated``) of
                    similar size are cooperative (median gamma above the bonus threshold)
``width``           d_model narrower than the family's width law log d_model ~ log N (or the cohort's) by
                    more than ``width_narrow_dex``, in a non-bonus phase
``rotation``        the axis the model is judged on saturates at the top of its panel (top-k spread ratio
                    below ``rotation_ratio``) and the model is among the top k
``checkpoints``     coupling near zero (``|gamma| <= near_zero``) or the model sits within the CI of N_c
``rebalance``       frontier: ``|h| > frontier_h_band`` (coding-rich or reasoning-rich against the population)
``none``            nothing fired: say so
==================  ===========================================================================================

Example:
    >>> from cape.doctor import diagnose_model
    >>> d = diagnose_model("Pythia-1B")                     # doctest: +SKIP
    >>> d.phase.label, [r.name for r in d.recommendations]     # doctest: +SKIP
    ('tax', ['curation'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import catalog, data
from .._format import finite_or_none as _f
from ..errors import DataError
from ..frontier import GPQA, SWE, embedded_panel
from .base import diagnose_base
from .config import DoctorConfig
from .frontier import diagnose_frontier, diagnose_frontier_named
from .inputs import arch_width, check_params, lookup_name, merge_tables, parse_scores, text_or_none, unknown_model
from .results import DoctorResult


# ---------------------------------------------------------------------------------------------- entry point
def diagnose_model(model: str | None = None, *, family: str | None = None, params: float | None = None,
                   scores: Mapping[str, float] | Sequence[str] | None = None, d_model: float | None = None,
                   lab: str | None = None, name: str | None = None, table=None,
                   config: DoctorConfig = DoctorConfig(), with_cohort: bool = False, cohort=None,
                   architectures: pd.DataFrame | None = None, frontier_panel: pd.DataFrame | None = None
                   ) -> DoctorResult:
    """Diagnose one model and recommend interventions.

    Args:
        model: a model name in ``table`` / the embedded cohort / the embedded frontier panel. Scores given in
            ``scores`` override the model's own (a what-if).
        family: family of a described model (a cohort family, or one in ``table``).
        params: its raw parameter count (e.g. ``1e9``).
        scores: benchmark -> percent (aliases allowed: ``HS``, ``TQA``, ``SWE``, ``GPQA``), or
            ``["HS=49.7", ...]``.
        d_model: residual width of a described model (for the width rule).
        lab: lab of a described frontier model.
        name: display name of a described model.
        table: a user :class:`~cape.scores.ScoreTable`: the model, its family and the trends come from it alone
            (the embedded cohort is used when no table is given).
        config: :class:`DoctorConfig`.
        with_cohort: with a ``table``, add the cohort's models to it (the table's own win for a model in both).
        cohort: the reference cohort (:class:`~cape.scores.ScoreTable`: models, cohort-wide curves, d_eff and
            lever evidence); default the embedded cohort.
        architectures: the width table (columns ``model``, ``family``, ``d_model``) of the width rule; default
            the embedded one.
        frontier_panel: the frontier panel a named frontier model is looked up in; default the embedded one.

    Returns:
        :class:`DoctorResult`.

    Raises:
        NotFoundError: an unknown model (with close matches) or family.
        DataError: bad scores, a bad parameter count, or not enough to describe a model.

    Example:
        >>> d = diagnose_model(family="Pythia", params=1e9, scores={"HS": 49.7, "TQA": 38.9})  # doctest: +SKIP
        >>> d.phase.label                                                                        # doctest: +SKIP
        'tax'
    """
    sc = parse_scores(scores) if scores is not None else {}
    params = check_params(params)
    ctx = _sources(table, cohort, with_cohort, config)
    ctx.arch = data.architectures() if architectures is None else architectures
    ctx.frontier_panel = frontier_panel
    if model is not None:
        return _named(model, ctx, family=family, params=params, sc=sc, d_model=d_model)
    return _described(ctx, family=family, params=params, sc=sc, d_model=d_model, lab=lab, name=name)


@dataclass
class _Sources:
    """Where a diagnosis reads from: ``full`` holds the model and its family, ``ref`` the cohort-wide reference
    curves, ``embedded`` the cohort passed in (or the embedded one); ``notes`` collects what was set aside."""

    cfg: DoctorConfig
    full: Any
    ref: Any
    embedded: Any
    label: str
    notes: list[str] = field(default_factory=list)
    arch: pd.DataFrame | None = None
    frontier_panel: pd.DataFrame | None = None


def _sources(table, cohort, with_cohort: bool, cfg: DoctorConfig) -> _Sources:
    embedded = data.load_base() if cohort is None else cohort
    what = "embedded cohort" if cohort is None else f"cohort {cohort.name}"
    if table is None:
        return _Sources(cfg, embedded, embedded, embedded, what)
    if with_cohort:
        full = merge_tables(embedded, table)
        return _Sources(cfg, full, full, embedded, f"{table.name} + {what}")
    # the model and its family come from the user's table alone; cohort-wide reference curves (the
    # web-trained residual, d_eff, lever evidence) stay the cohort's
    return _Sources(cfg, table, embedded, embedded, f"{table.name} only",
                    [f"data: the model and its family from {table.name} only (its models join the {what} "
                     f"with cape doctor --with-cohort); cohort-wide reference curves from the {what}"])


def _named(model: str, ctx: _Sources, *, family: str | None, params: float | None, sc: dict[str, float],
           d_model: float | None) -> DoctorResult:
    """A model of the table / cohort (scores in ``sc`` override its own: a what-if) or of the frontier panel."""
    cfg, full, notes = ctx.cfg, ctx.full, ctx.notes
    hit = lookup_name(model, full.models)
    if hit is not None:
        mf = full.model_frame().loc[hit]
        own = full.wide(force=True).loc[hit]
        own_scores = {b: float(own[b]) for b in full.benchmarks if pd.notna(own.get(b))}
        if sc:
            notes.append("what-if: " + ", ".join(f"{b} {own_scores.get(b, float('nan')):.1f} -> {v:.1f}"
                                                 for b, v in sc.items()))
        own_scores.update(sc)
        fam = family or (str(mf["family"]) if pd.notna(mf["family"]) else None)
        if fam is None:
            raise DataError(f"model {hit!r} has no family; give --family")
        n = params if params is not None else (_f(mf["params"]))
        dm = d_model if d_model is not None else arch_width(hit, ctx.arch)
        if any(catalog.info(b).kind == "frontier" for b in own_scores) and cfg.b1 not in own_scores:
            return diagnose_frontier_named(hit, own_scores, notes, cfg)
        return diagnose_base(hit, fam, n, own_scores, dm, text_or_none(mf.get("recipe")), ctx.label, full, ctx.ref,
                             described=False, cfg=cfg, notes=notes, sc_override=bool(sc), architectures=ctx.arch,
                             embedded=ctx.embedded)
    fpanel = embedded_panel() if ctx.frontier_panel is None else ctx.frontier_panel
    fhit = lookup_name(model, list(fpanel.index))
    if fhit is None:
        raise unknown_model(model, list(full.models) + list(fpanel.index))
    if sc:
        raise DataError(f"{fhit!r} is in the frontier panel; describe a variant under another name with "
                        "--name and --score")
    own = {SWE: float(fpanel.loc[fhit, SWE]), GPQA: float(fpanel.loc[fhit, GPQA])}
    return diagnose_frontier(fhit, own, None, "embedded frontier panel", False, cfg, notes, fpanel)


def _described(ctx: _Sources, *, family: str | None, params: float | None, sc: dict[str, float],
               d_model: float | None, lab: str | None, name: str | None) -> DoctorResult:
    """A model described by its frontier scores, or by family, size and scores."""
    cfg = ctx.cfg
    if SWE in sc or GPQA in sc:
        miss = [b for b in (SWE, GPQA) if b not in sc]
        if miss:
            raise DataError(f"a frontier model needs both SWE-bench Verified and GPQA Diamond scores; missing "
                            f"{', '.join(miss)} (e.g. --score SWE=80 --score GPQA=85)")
        return diagnose_frontier(name or "your model", sc, lab, "described (frontier scores)", True, cfg, ctx.notes,
                                 ctx.frontier_panel)
    if family is None:
        raise DataError("describe a model with --family, --params and --score (e.g. --family Pythia --params 1e9 "
                        "--score HellaSwag=49.7 --score TruthfulQA=38.9), or give a model name")
    if not sc:
        raise DataError(f"--family {family}: give at least one --score BENCHMARK=VALUE (e.g. {cfg.b1} and {cfg.b2})")
    fam_table = ctx.full.filter(family=family)          # NotFoundError with close matches
    fam = fam_table.families[0]
    if params is None:
        raise DataError(f"--family {fam}: give --params (the raw parameter count, e.g. 1e9) to place the model "
                        "in its family")
    nm = name or f"{fam} ({params / 1e9:.3g}B, described)"
    recipe = fam_table.model_frame()["recipe"].dropna()
    return diagnose_base(nm, fam, params, sc, d_model, str(recipe.iloc[0]) if len(recipe) else None,
                         "described (family, size, scores)", ctx.full, ctx.ref, described=True, cfg=cfg,
                         notes=ctx.notes, architectures=ctx.arch, embedded=ctx.embedded)
