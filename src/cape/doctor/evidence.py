"""The evidence behind a diagnosis: score-noise gammas and phase probabilities, trend fits, the family's
N_c and the d_eff of a phase."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .. import catalog
from .._format import finite_or_none as _f
from .._format import fmt_number, fmt_params
from .._stats import percentile_ci
from ..coupling import gamma_steps
from ..critical import critical_scale
from ..eigen import phase_spectra
from ..errors import AnalysisError, DataError
from .config import PHASES, DoctorConfig
from .parts import CouplingStep, CriticalContext, DEffContext, PhaseReading


# ---------------------------------------------------------------------------------------------- noise helpers
def score_stderr(table, model: str, bench: str, score: float) -> float:
    """A score's standard error (points): the table's when given, else the binomial error of the benchmark."""
    if table is not None:
        ld = table.long
        s = ld.loc[(ld["model"] == model) & (ld["benchmark"] == bench), "stderr"]
        if len(s) and pd.notna(s.iloc[0]) and float(s.iloc[0]) > 0:
            return float(s.iloc[0])
    return catalog.binomial_stderr(score, bench)


def noise_gammas(logn: np.ndarray, s1: np.ndarray, s2: np.ndarray, se1: np.ndarray, se2: np.ndarray, *,
                  n_boot: int, seed: int, min_delta: float) -> np.ndarray:
    """Consecutive-step gammas under score noise: ``(n_boot, K-1)`` (NaN where a step is too small)."""
    rng = np.random.default_rng(seed)
    k = len(logn)
    d1 = s1[None, :] + rng.standard_normal((n_boot, k)) * se1[None, :]
    d2 = s2[None, :] + rng.standard_normal((n_boot, k)) * se2[None, :]
    g, _, _, _ = gamma_steps(logn, d1, d2, min_delta=min_delta)
    return g


def phase_probabilities(g: np.ndarray, cfg: DoctorConfig) -> dict[str, float]:
    n = len(g)
    if n == 0:
        return {p: float("nan") for p in (*PHASES, "undetermined")}
    fin = np.isfinite(g)
    return {"tax": float(np.sum(fin & (g < cfg.phase_lower)) / n),
            "transition": float(np.sum(fin & (g >= cfg.phase_lower) & (g <= cfg.phase_upper)) / n),
            "bonus": float(np.sum(fin & (g > cfg.phase_upper)) / n),
            "undetermined": float(np.sum(~fin) / n)}


def phase_reading(step: CouplingStep, draws: np.ndarray, cfg: DoctorConfig, method: str) -> PhaseReading:
    """The phase read from one coupling step, its confidence the share of ``draws`` (gammas) giving it."""
    probs = phase_probabilities(draws, cfg)
    return PhaseReading(label=step.phase, gamma=step.gamma, gamma_ci=step.ci, interval=f"{step.lower} → {step.upper}",
                        confidence=probs.get(step.phase, float("nan")) if step.phase is not None else None,
                        probabilities=probs, n_boot=cfg.n_boot, thresholds=[cfg.phase_lower, cfg.phase_upper],
                        method=method)


def ci_or_none(a: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Percentile CI of the finite draws ``a`` (None ends when fewer than two are finite)."""
    lo, hi = percentile_ci(a[np.isfinite(a)], level)
    return (_f(lo), _f(hi))


# ---------------------------------------------------------------------------------------------- trend fits
def poly_fit_with_pi(x: np.ndarray, y: np.ndarray, x0: float, degree: int, ci: float
                      ) -> tuple[float, float, np.ndarray]:
    """Fitted value at ``x0`` and the half-width of its prediction interval (t, n - degree - 1 dof)."""
    from scipy import stats

    X = np.vander(x, degree + 1)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    x0v = np.vander(np.array([x0]), degree + 1)[0]
    pred = float(x0v @ coef)
    dof = len(x) - degree - 1
    if dof <= 0:
        return pred, float("nan"), coef
    res = y - X @ coef
    s2 = float(res @ res) / dof
    xtx_inv = np.linalg.pinv(X.T @ X)
    half = float(stats.t.ppf(0.5 + ci / 2, dof) * math.sqrt(s2 * (1 + x0v @ xtx_inv @ x0v)))
    return pred, half, coef


def web_curve_reading(v: float, cfg: DoctorConfig) -> str:
    if v > cfg.field_high:
        return "above the web-trained curve by more than the curated-data threshold (curated-like data field)"
    if v < -cfg.field_low:
        return "below the web-trained average"
    return "on the web-trained curve (web-trained baseline)"


# ---------------------------------------------------------------------------------------------- N_c
def family_critical(table, family: str, model_params: float | None, cfg: DoctorConfig) -> CriticalContext:
    """The family's N_c (:func:`cape.critical.critical_scale`, within-family crossing with a score-noise CI)
    and the model's position relative to it.

    Position: for an observed / extrapolated N_c, ``below`` / ``near`` (inside the CI) / ``above``. When no
    flip is established the CI is one-sided: a model below its lower end (flip, if any, above) is ``below``;
    above its upper end (cooperative throughout) ``above``; inside the open interval ``unresolved``.
    """
    try:
        res = critical_scale(table, family=family, pair=(cfg.b1, cfg.b2), n_boot=cfg.n_boot, seed=cfg.seed,
                             level=cfg.level, min_delta=cfg.min_delta)
    except AnalysisError as e:
        return CriticalContext(nc=None, ci=[None, None], status="insufficient", direction=None, summary="—",
                               method="cape.critical.critical_scale (crossing)", position=None,
                               message=f"{family}: {e}")
    lo = 0.0 if res.ci_low_unbounded else res.ci_low
    hi = math.inf if res.ci_high_unbounded else res.ci_high
    out = CriticalContext(nc=res.estimate, ci=[lo, hi], status=res.status, direction=res.direction,
                          summary=res.summary(), method=f"cape.critical.critical_scale ({res.method})", position=None,
                          message=f"{family}: " + (f"N_c {res.summary()}; " if res.estimate is not None else "")
                          + res.message)
    n = model_params
    if n is None or res.status == "insufficient":
        return out
    ci_note = None
    if res.status in ("observed", "extrapolated") and res.estimate is not None:
        if lo is None or hi is None:
            lo, hi = res.estimate / cfg.nc_near_factor, res.estimate * cfg.nc_near_factor
            ci_note = f"no CI: 'near' means within a factor {cfg.nc_near_factor:g} of N_c"
        pos = "below" if n < lo else "above" if n > hi else "near"
    elif res.status == "none" and res.direction == "above":
        pos = "below" if (lo is not None and n < lo) else "unresolved"
    elif res.status == "none" and res.direction == "below":
        pos = "above" if (hi is not None and n > hi) else "unresolved"
    else:
        pos = "unresolved"
    say = {"below": "below it", "above": "above it", "near": "within its CI",
           "unresolved": "inside the open interval where no flip is established"}[pos]
    return replace(out, position=pos, message=out.message + f"; the model ({fmt_params(n)}) is {say}",
                   ci_note=ci_note)


# ---------------------------------------------------------------------------------------------- d_eff
def phase_d_eff(table, cfg: DoctorConfig, phase: str | None) -> DEffContext | None:
    """d_eff of the cohort models in the model's phase (:func:`cape.eigen.phase_spectra`: covariance
    participation ratio over the five cohort benchmarks, family-stratified bootstrap CI), the other phases
    alongside."""
    bs = [b for b in catalog.BASE_FIVE if b in table.benchmarks]
    if len(bs) < 3:
        return None
    try:
        ps = phase_spectra(table, bs, pair=(cfg.b1, cfg.b2), use="cov", n_boot=min(cfg.n_boot, 1000),
                           seed=cfg.seed, level=cfg.level, min_delta=cfg.min_delta,
                           scheme=(cfg.phase_lower, cfg.phase_upper))
    except (AnalysisError, DataError) as e:
        return DEffContext(phase=phase, d_eff=None, ci=[None, None], n=0, groups={},
                           message=f"d_eff not available: {e}")
    groups = {ph: {"n": r.n_models, "n_families": r.n_families, "d_eff": r.d_eff, "ci": list(r.d_eff_ci),
                   "status": r.status} for ph, r in ps.phases.items()}
    base: dict[str, Any] = {"groups": groups, "benchmarks": bs, "method": "cape.eigen.phase_spectra: covariance "
                                                                          "participation ratio, family-stratified "
                                                                          "bootstrap"}
    if phase is None or phase not in groups:
        msg = "; ".join(f"{p} d_eff {fmt_number(g['d_eff'])} (n={g['n']})" for p, g in groups.items())
        return DEffContext(phase=phase, d_eff=None, ci=[None, None], n=0, **base,
                           message=(f"no cohort d_eff for phase {phase}; " if phase else "phase unknown; ") + msg)
    g = groups[phase]
    others = "; ".join(f"{p} {fmt_number(v['d_eff'])} (n={v['n']})" for p, v in groups.items() if p != phase)
    ci = f" [{fmt_number(g['ci'][0])}, {fmt_number(g['ci'][1])}]" if g["ci"][0] is not None else ""
    msg = (f"cohort models in the {phase} phase: d_eff {fmt_number(g['d_eff'])}{ci} over {len(bs)} benchmarks "
           f"(n={g['n']}); {others}. d_eff near 1: the benchmarks move as one capability")
    return DEffContext(phase=phase, d_eff=g["d_eff"], ci=g["ci"], n=g["n"], **base, message=msg)


def web_models(cohort, model: str | None, b2: str) -> pd.DataFrame:
    """Cohort models trained on web data (recipe ``web``) with a ``b2`` score and a size, ``model`` left out."""
    wide = cohort.wide(force=True)
    mf = cohort.model_frame()
    web = wide[(mf.reindex(wide.index)["recipe"].astype(str).str.lower() == "web") & (wide.index != model)]
    return web.dropna(subset=[b2, "params"])


def web_curve(cohort, model: str | None, b2: str) -> np.ndarray | None:
    """Coefficients of the quadratic ``b2(log10 N)`` over the web-trained cohort (None with < 4 models)."""
    web = web_models(cohort, model, b2)
    if len(web) < 4:
        return None
    return np.polyfit(np.log10(web["params"].to_numpy(float)), web[b2].to_numpy(float), 2)
