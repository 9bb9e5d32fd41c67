"""The base-model path: a model of the cohort (or described by family, size and scores) against its family."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import data
from .._format import fmt_params
from ..errors import DataError
from ..coupling import local_coupling
from .config import DoctorConfig
from .evidence import (
    ci_or_none,
    family_critical,
    noise_gammas,
    phase_d_eff,
    phase_reading,
    poly_fit_with_pi,
    score_stderr,
    web_curve_reading,
    web_models,
)
from .parts import CouplingStep, PhaseReading, Residual
from .results import DoctorResult
from .rules import (recommendations_from, rule_checkpoints, rule_curation, rule_rebalance, rule_rotation, rule_width,
                    with_lever_evidence)


# ---------------------------------------------------------------------------------------------- base models
def _family_frame(table, family: str) -> pd.DataFrame:
    fam = table.filter(family=family)
    return fam.wide(force=True)


def diagnose_base(model: str, family: str, params: float | None, scores: dict[str, float], d_model: float | None,
                   recipe: str | None, source: str, table, cohort, described: bool, cfg: DoctorConfig,
                   notes: list[str], sc_override: bool = False, architectures: pd.DataFrame | None = None,
                   embedded=None) -> DoctorResult:
    """Diagnose a base model against its family in ``table``; ``cohort`` gives the reference curves.

    Args:
        model, family, params, scores, d_model, recipe: the model (a described one is added to its family).
        source: where the model came from (shown in the summary).
        table: the scores the family comes from; cohort: the cohort of the reference curves, d_eff and lever
            evidence (the embedded cohort by default in :func:`~cape.doctor.diagnose_model`).
        described: the model is described (not a row of ``table``); sc_override: its scores are a what-if.
        cfg: thresholds; notes: sentences on what was missing (appended to).
        architectures: the width table of the width rule; embedded: the cohort that gives the sizes of its models
            (both default to the embedded data).

    Returns:
        :class:`DoctorResult` with ``kind="base"``.
    """
    b1, b2 = cfg.b1, cfg.b2
    fam, real = _family_with_model(model, family, params, scores, table, described, cfg, notes)
    usable = fam.dropna(subset=[b1, b2, "params"])
    usable = usable[~usable["params"].astype(float).duplicated(keep=False) | (usable.index == model)]
    steps: tuple[CouplingStep, ...] = ()
    phase = None
    why_not = _why_no_coupling(model, family, params, scores, real, usable, cfg)
    if why_not:
        notes.append(why_not)
    else:
        own = None if (described or sc_override) else table   # a described score has no stderr: binomial
        steps, phase = _coupling_and_phase(model, usable.sort_values("params", kind="stable"), table, own, cfg,
                                           notes)
    crit = family_critical(table, family, params, cfg) if params is not None else None
    residuals = _base_residuals(model, family, params, scores, real, cohort, cfg, notes)
    web = next((r.value for r in residuals if r.key == "web"), None)
    d_eff = phase_d_eff(cohort, cfg, phase.label if phase else None)
    panel = cohort.wide(force=True).drop(index=[model], errors="ignore")
    panel = pd.concat([panel, pd.DataFrame([{**{"family": family, "params": params}, **scores}], index=[model])])
    panel["lab"] = panel["family"]
    rules = (
        rule_curation(phase, crit, params, recipe, cohort, family, cfg, web),
        rule_width(model, params, d_model, family, phase, cfg, cohort=embedded, architectures=architectures),
        rule_rotation(model, scores, panel, "cohort", cfg),
        rule_checkpoints(phase, crit, steps, cfg),
        rule_rebalance(None, cfg),
    )
    return DoctorResult(model=model, kind="base", source=source, family=family, params=params, d_model=d_model,
                        scores=dict(scores), axes=(b1, b2), coupling=steps, phase=phase, critical=crit,
                        residuals=tuple(residuals), d_eff=d_eff, frontier=None, rules=rules,
                        recommendations=with_lever_evidence(recommendations_from(rules), cohort, params),
                        notes=tuple(notes), config=cfg)


def _family_with_model(model: str, family: str, params: float | None, scores: dict[str, float], table,
                       described: bool, cfg: DoctorConfig, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The family's wide frame with the model's row (last) and the other members alone."""
    fam_all = _family_frame(table, family)
    real = fam_all.drop(index=[model], errors="ignore")
    if described and params is not None:
        same = real.index[np.isclose(np.log10(real["params"].astype(float)), math.log10(params), atol=0.01)]
        if len(same):
            notes.append(f"{', '.join(same)} has the same size as the described model and is set aside "
                         "(the described model takes its place)")
            real = real.drop(index=same)
    row = {"family": family, "params": params, **{b: scores.get(b, np.nan) for b in fam_all.columns
                                                  if b not in ("family", "params")}}
    row.update(scores)
    fam = pd.concat([real, pd.DataFrame([row], index=[model])])
    fam.index.name = "model"
    absent = [b for b in (cfg.b1, cfg.b2) if b not in fam.columns]
    if absent:
        raise DataError(f"family {family!r} has no {' or '.join(absent)} scores in the data used "
                        f"(choose the pair with the config's b1/b2, or give scores that include them)")
    return fam, real


def _why_no_coupling(model: str, family: str, params: float | None, scores: dict[str, float], real: pd.DataFrame,
                     usable: pd.DataFrame, cfg: DoctorConfig) -> str | None:
    """Why the model has no local coupling (a note), or None when it has neighbours to compare with."""
    b1, b2 = cfg.b1, cfg.b2
    if params is None:
        return "no parameter count: the model cannot be placed in its family"
    if any(b not in scores for b in (b1, b2)):
        miss = [b for b in (b1, b2) if b not in scores]
        return f"no {' or '.join(miss)} score: local coupling, phase and their rules need both {b1} and {b2}"
    if len(usable) >= 2:
        return None
    both = real.dropna(subset=[b1, b2, "params"])
    same = [str(m) for m in both.index if np.isclose(float(both.loc[m, "params"]), params, rtol=0.01)]
    if same:
        what = (f"no smaller or larger member with {b1} and {b2} scores ({', '.join(same)} has the same size, "
                f"{fmt_params(params)})")
    else:
        lack = [str(m) for m in real.index]
        what = (f"no other member with {b1} and {b2} scores"
                + (f" (members without both: {', '.join(lack)})" if lack else ""))
    return f"family {family} has {what}; local coupling needs a smaller or larger member (add one with --data)"


def _coupling_and_phase(model: str, usable: pd.DataFrame, table, own, cfg: DoctorConfig, notes: list[str]
                        ) -> tuple[tuple[CouplingStep, ...], PhaseReading | None]:
    """Local coupling against the model's neighbours in ``usable`` (sorted by size) with score-noise CIs, and
    the phase read from the interval below the model (else above). ``own``: the table holding the model's own
    stderr (None: binomial)."""
    b1, b2 = cfg.b1, cfg.b2
    fc = local_coupling(usable, (b1, b2), min_delta=cfg.min_delta, scheme=(cfg.phase_lower, cfg.phase_upper))
    order = list(fc.models)
    i = order.index(model)
    trio = usable.loc[order[max(i - 1, 0):min(i + 1, len(order) - 1) + 1]]
    logn = np.log10(trio["params"].to_numpy(float))
    s1, s2 = trio[b1].to_numpy(float), trio[b2].to_numpy(float)
    se1 = np.array([score_stderr(own if m == model else table, m, b1, v) for m, v in zip(trio.index, s1)])
    se2 = np.array([score_stderr(own if m == model else table, m, b2, v) for m, v in zip(trio.index, s2)])
    draws = (noise_gammas(logn, s1, s2, se1, se2, n_boot=cfg.n_boot, seed=cfg.seed, min_delta=cfg.min_delta)
             if cfg.n_boot else np.empty((0, len(trio) - 1)))
    steps, cols = [], []
    for j, iv in enumerate(iv for iv in fc.intervals if model in (iv.lower, iv.upper)):
        col = draws[:, j] if draws.size else np.array([])
        note = {"small_step": f"|Δ{b1}| <= {cfg.min_delta:g}: skipped", "equal_n": "same size: skipped"}.get(
            iv.status, "")
        if "negative_step" in iv.flags:
            note = (note + "; " if note else "") + f"{b1} falls with size (co-movement {iv.comove:+d})"
        steps.append(CouplingStep(lower=iv.lower, upper=iv.upper, role="below" if iv.upper == model else "above",
                                  n_lower=iv.n_lower, n_upper=iv.n_upper, d1=iv.d1, d2=iv.d2, gamma=iv.gamma,
                                  ci=list(ci_or_none(col, cfg.level)), phase=iv.phase, status=iv.status, note=note))
        cols.append(col)
    k = next((k for k, c in enumerate(steps) if c.role == "below" and c.gamma is not None), None)
    if k is None:
        k = next((k for k, c in enumerate(steps) if c.gamma is not None), None)
        if k is not None:
            notes.append("phase read from the interval above the model (no usable interval below it)")
    if k is None:
        notes.append(f"no usable interval next to the model (|Δ{b1}| <= {cfg.min_delta:g} on both sides)")
        return tuple(steps), None
    return tuple(steps), phase_reading(steps[k], cols[k], cfg, "share of score-noise draws (binomial standard "
                                                                 "errors) giving this phase")


def _base_residuals(model, family, params, scores, real: pd.DataFrame, cohort, cfg: DoctorConfig,
                    notes: list[str]) -> list[Residual]:
    """Residuals of the model's B2 from its family's trend, the cohort's web-trained curve and the paper's curve."""
    b2 = cfg.b2
    if params is None or b2 not in scores:
        if b2 not in scores:
            notes.append(f"no {b2} score: no residual from the family and cohort trends")
        return []
    lx = math.log10(params)
    y0 = scores[b2]
    out: list[Residual] = []
    fam = _family_residual(family, real, lx, y0, cfg, notes)
    if fam is not None:
        out.append(fam)
    # the cohort's web-trained curve (data field h(D)), without the model
    web = web_models(cohort, model, b2)
    if len(web) >= 4:
        x = np.log10(web["params"].to_numpy(float))
        pred, half, _ = poly_fit_with_pi(x, web[b2].to_numpy(float), lx, 2, cfg.level)
        v = y0 - pred
        out.append(Residual(key="web", reference=f"cohort web-trained {b2}(log N) quadratic ({len(web)} models)",
                            value=v, unit=f"{b2} points", predicted=pred, pi_half=half,
                            reading=web_curve_reading(v, cfg) + ("" if abs(v) > half else
                                                                 "; inside the curve's prediction interval")))
    # the paper's universal curve (DS-BOOT14 quadratic), computed from the fixture
    if b2 == "TruthfulQA":
        try:
            bt = data.fixture("boot14")
            coef = np.polyfit(np.log10(bt["params"].to_numpy(float)), bt["TruthfulQA"].to_numpy(float), 2)
            v = y0 - float(np.polyval(coef, lx))
            out.append(Residual(key="paper", reference="paper UNIV curve (quadratic over DS-BOOT14)", value=v,
                                unit="TruthfulQA points", predicted=float(np.polyval(coef, lx)), pi_half=None,
                                reading=web_curve_reading(v, cfg)))
        except Exception:  # noqa: BLE001 - the fixture is optional context
            pass
    return out


def _family_residual(family: str, real: pd.DataFrame, lx: float, y0: float, cfg: DoctorConfig,
                     notes: list[str]) -> Residual | None:
    """The residual from the family's own trend B2(log N) fitted without the model (None with too few members)."""
    b2 = cfg.b2
    fr = real.dropna(subset=[b2, "params"])
    if len(fr) < cfg.trend_min_models:
        notes.append(f"family {family} has {len(fr)} other model(s) with {b2}; a family trend needs "
                     f"{cfg.trend_min_models}")
        return None
    deg = 2 if len(fr) >= 4 else 1
    x = np.log10(fr["params"].to_numpy(float))
    pred, half, _ = poly_fit_with_pi(x, fr[b2].to_numpy(float), lx, deg, cfg.level)
    v = y0 - pred
    inside = np.isfinite(half) and abs(v) <= half
    extrap = not (x.min() <= lx <= x.max())
    return Residual(key="family", reference=f"family {family} {b2}(log N) {'quadratic' if deg == 2 else 'line'} "
                                            f"({len(fr)} models)",
                    value=v, unit=f"{b2} points", predicted=pred, pi_half=half if np.isfinite(half) else None,
                    reading=("within the family's prediction interval" if inside else
                             "outside the family's prediction interval") + (" (extrapolated)" if extrap else ""))
