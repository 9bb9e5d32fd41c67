"""The frontier path: a model of the frontier panel (or described by lab and scores) against the population line."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import catalog
from .._format import finite_or_none as _f
from .._format import fmt_number
from ..coupling import gamma_steps
from ..errors import DataError
from ..frontier import GPQA, IFEVAL, SWE, FrontierConfig, bootstrap_line, embedded_panel, frontier_report
from .config import DoctorConfig
from .evidence import ci_or_none, noise_gammas, phase_reading
from .parts import CouplingStep, DEffContext, FrontierContext, PhaseReading, Residual
from .results import DoctorResult, RuleOutcome
from .rules import recommendations_from, rule_checkpoints, rule_rebalance, rule_rotation


# ---------------------------------------------------------------------------------------------- frontier models
def diagnose_frontier(model: str, scores: dict[str, float], lab: str | None, source: str, described: bool,
                       cfg: DoctorConfig, notes: list[str], panel: pd.DataFrame | None = None) -> DoctorResult:
    """Diagnose a frontier model against the population line and its lab's neighbours.

    Args:
        model: its name; scores: benchmark -> percent (SWE-bench Verified and GPQA Diamond at least).
        lab: the lab of a described model; source: where the model came from (shown in the summary).
        described: the model is added to the panel (else it is a row of it).
        cfg: thresholds; notes: sentences on what was missing (appended to).
        panel: the frontier panel (default: the embedded one).

    Returns:
        :class:`DoctorResult` with ``kind="frontier"``.
    """
    fcfg = FrontierConfig(n_boot=min(cfg.n_boot, 2000), seed=cfg.seed)
    p = embedded_panel() if panel is None else panel.copy()
    if described:
        row = {"model": model, "lab": lab or "(yours)", SWE: scores[SWE], GPQA: scores[GPQA]}
        if IFEVAL in scores:
            row[IFEVAL] = scores[IFEVAL]
        rep = frontier_report(p, fcfg, added=pd.DataFrame([row]))
    else:
        rep = frontier_report(p, fcfg)
    front = _frontier_context(model, rep, cfg)
    lab = front.lab
    steps, phase = _lab_coupling(model, rep.panel[rep.panel["lab"] == lab].sort_values([SWE, GPQA], kind="stable"),
                                 cfg)
    if not steps:
        notes.append(f"lab {lab} has no other model in the panel: no local coupling (give --lab to compare with a "
                     "lab's releases)")
    if phase is None:
        phase = _population_phase(rep, cfg)
    c = rep.coupling
    residuals = [Residual(key="population", reference=f"frontier population line ({c.n} models)", value=front.h,
                          unit="GPQA points", predicted=front.predicted, pi_half=front.pi_half,
                          reading=front.direction + ("; outside the prediction interval" if front.outside_pi
                                                     else "; inside the prediction interval"))]
    if front.lolo_predicted is not None:
        residuals.append(Residual(key="lolo", reference=f"line fitted without lab {lab}",
                                  value=scores[GPQA] - front.lolo_predicted, unit="GPQA points",
                                  predicted=front.lolo_predicted, pi_half=None,
                                  reading="how far the other labs' trend misses this model"))
    # saturation is judged on the fitted panel plus this model (as `cape frontier` does)
    keep = rep.panel["in_fit"] | (rep.panel.index == model)
    fpanel = rep.panel.loc[keep, [SWE, GPQA, "lab"]].copy()
    rules = (
        RuleOutcome("curation", "not applicable", "a frontier model has no family size ladder or data recipe"),
        RuleOutcome("width", "not applicable", "frontier models have no published width"),
        rule_rotation(model, scores, fpanel, "frontier panel", cfg),
        rule_checkpoints(phase, None, steps, cfg),
        rule_rebalance(front, cfg),
    )
    return DoctorResult(model=model, kind="frontier", source=source, family=lab, params=None, d_model=None,
                        scores=dict(scores), axes=(SWE, GPQA), coupling=steps, phase=phase,
                        critical=None, residuals=tuple(residuals), d_eff=_three_axis_d_eff(rep, scores),
                        frontier=front, rules=rules, recommendations=recommendations_from(rules), notes=tuple(notes),
                        config=cfg)


def _frontier_context(model: str, rep, cfg: DoctorConfig) -> FrontierContext:
    """The model's h against the population line, its lab's mean h, and the panel's coupling and saturation."""
    hf = rep.h_field.table.loc[model]
    lab = str(hf["lab"])
    L = rep.labs.table
    lab_row = L.loc[lab] if lab in L.index else None
    lab_mean_h = _f(lab_row["mean_h"]) if lab_row is not None else None
    lab_n = int(lab_row["n"]) if lab_row is not None else 0
    h, pi_half, direction = float(hf["h"]), float(hf["pi_half"]), hf["direction"]
    return FrontierContext(
        h=h, pi_half=pi_half, predicted=float(hf["predicted"]), direction=direction,
        outside_pi=bool(hf["outside_pi"]), lab=lab, lab_mean_h=lab_mean_h, lab_n=lab_n,
        population_r=rep.coupling.r, population_r_ci=list(rep.coupling.r_ci_boot),
        line=[rep.h_field.slope, rep.h_field.intercept], lolo_predicted=_f(rep.lolo.models.loc[model, "predicted"]),
        saturation=rep.saturation.to_dict() | {"ranking": None},
        message=(f"h = {h:+.1f} GPQA points from the population line ({rep.h_field.slope:.3f} SWE + "
                 f"{rep.h_field.intercept:.2f}; 95% PI ± {pi_half:.1f}); {direction}; lab {lab} mean h "
                 f"{fmt_number(lab_mean_h, 1)} over {lab_n} fitted model(s)"))


def _lab_coupling(model: str, labp: pd.DataFrame, cfg: DoctorConfig
                  ) -> tuple[tuple[CouplingStep, ...], PhaseReading | None]:
    """Local coupling against the lab's neighbours ordered by SWE (the paper scripts' convention), and the phase
    read from the step below the model (else above); nothing when the lab has one model."""
    if len(labp) < 2:
        return (), None
    order = list(labp.index)
    i = order.index(model)
    trio = labp.iloc[max(i - 1, 0):i + 2]
    s1, s2 = trio[SWE].to_numpy(float), trio[GPQA].to_numpy(float)
    se1 = np.array([catalog.binomial_stderr(v, SWE) for v in s1])
    se2 = np.array([catalog.binomial_stderr(v, GPQA) for v in s2])
    pos = np.arange(len(trio), dtype=float)  # ordering axis: rank by SWE (sizes are unknown)
    g0, _, d1, d2 = gamma_steps(pos, s1, s2, min_delta=cfg.min_delta)
    draws = (noise_gammas(pos, s1, s2, se1, se2, n_boot=cfg.n_boot, seed=cfg.seed, min_delta=cfg.min_delta)
             if cfg.n_boot else np.empty((0, len(trio) - 1)))
    names = list(trio.index)
    steps = []
    for j in range(len(names) - 1):
        g = _f(g0[j])
        steps.append(CouplingStep(lower=names[j], upper=names[j + 1],
                                  role="below" if names[j + 1] == model else "above", d1=float(d1[j]),
                                  d2=float(d2[j]), gamma=g,
                                  ci=list(ci_or_none(draws[:, j], cfg.level)) if draws.size else [None, None],
                                  phase=cfg.phase_of(g), status="ok" if g is not None else "small_step",
                                  note="" if g is not None else f"|ΔSWE| <= {cfg.min_delta:g}: skipped"))
    k = next((k for k, c in enumerate(steps) if c.role == "below" and c.gamma is not None), None)
    if k is None:
        k = next((k for k, c in enumerate(steps) if c.gamma is not None), None)
    if k is None:
        return tuple(steps), None
    col = draws[:, k] if draws.size else np.array([])
    return tuple(steps), phase_reading(steps[k], col, cfg, "lab neighbours ordered by SWE; share of score-noise "
                                                           "draws giving this phase")


def _population_phase(rep, cfg: DoctorConfig) -> PhaseReading:
    """The phase of the population coupling r with the share of bootstrap r giving it (no lab neighbours)."""
    c = rep.coupling
    b = bootstrap_line(rep.panel.loc[rep.panel["in_fit"], SWE].to_numpy(float),
                       rep.panel.loc[rep.panel["in_fit"], GPQA].to_numpy(float), n_boot=max(cfg.n_boot, 1),
                       seed=cfg.seed)
    rb = b["r"][np.isfinite(b["r"])]
    label = cfg.phase_of(c.r)
    probs = {"tax": float(np.mean(rb < cfg.phase_lower)),
             "transition": float(np.mean((rb >= cfg.phase_lower) & (rb <= cfg.phase_upper))),
             "bonus": float(np.mean(rb > cfg.phase_upper)), "undetermined": 0.0}
    return PhaseReading(label=label, gamma=None, gamma_ci=[None, None], interval="population (all labs)",
                        confidence=probs[label], probabilities=probs, n_boot=int(rb.size),
                        thresholds=[cfg.phase_lower, cfg.phase_upper],
                        method=f"population coupling r = {c.r:+.3f} (no lab neighbours); share of bootstrap r")


def _three_axis_d_eff(rep, scores: dict[str, float]) -> DEffContext | None:
    """d_eff of the frontier's three-axis sub-panel (None when the panel has none)."""
    ta = rep.three_axis
    if ta is None:
        return None
    return DEffContext(phase=None, d_eff=ta.d_eff_cov, ci=[None, None], n=len(ta.models),
                       benchmarks=list(ta.benchmarks),
                       method="covariance participation ratio of the three-axis sub-panel",
                       message=f"three-axis sub-panel ({ta.source}, {len(ta.models)} models): d_eff "
                               f"{ta.d_eff_cov:.3f} (covariance), det R {ta.det:.3f}"
                               + ("" if IFEVAL in scores else "; give --score IFEval=... to add this model"))


def diagnose_frontier_named(model: str, scores: dict[str, float], notes: list[str], cfg: DoctorConfig
                            ) -> DoctorResult:
    """A model of a user's table that has frontier scores (and no base-axis score), diagnosed as a frontier model."""
    miss = [b for b in (SWE, GPQA) if b not in scores]
    if miss:
        raise DataError(f"model {model!r} has no {', '.join(miss)} score for a frontier diagnosis")
    return diagnose_frontier(model, scores, None, "user data", True, cfg, notes)
