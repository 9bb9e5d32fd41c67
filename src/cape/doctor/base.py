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
    phase_probabilities,
    poly_fit_with_pi,
    score_stderr,
    web_curve_reading,
    web_models,
)
from .results import DoctorResult
from .rules import (recommendations_from, rule_checkpoints, rule_curation, rule_rebalance, rule_rotation, rule_width,
                    with_lever_evidence)


# ---------------------------------------------------------------------------------------------- base models
def _family_frame(table, family: str) -> pd.DataFrame:
    fam = table.filter(family=family)
    return fam.wide(force=True)


def diagnose_base(model: str, family: str, params: float | None, scores: dict[str, float], d_model: float | None,
                   recipe: str | None, source: str, table, cohort, described: bool, cfg: DoctorConfig,
                   notes: list[str], sc_override: bool = False) -> DoctorResult:
    b1, b2 = cfg.b1, cfg.b2
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
    for b, v in scores.items():
        row[b] = v
    fam = pd.concat([real, pd.DataFrame([row], index=[model])])
    fam.index.name = "model"
    coupling_rows: list[dict] = []
    phase = None
    absent = [b for b in (b1, b2) if b not in fam.columns]
    if absent:
        raise DataError(f"family {family!r} has no {' or '.join(absent)} scores in the data used "
                        f"(choose the pair with the config's b1/b2, or give scores that include them)")
    usable = fam.dropna(subset=[b1, b2, "params"])
    usable = usable[~usable["params"].astype(float).duplicated(keep=False) | (usable.index == model)]
    have = [b for b in (b1, b2) if b in scores]
    if params is None:
        notes.append("no parameter count: the model cannot be placed in its family")
    elif len(have) < 2:
        miss = [b for b in (b1, b2) if b not in scores]
        notes.append(f"no {' or '.join(miss)} score: local coupling, phase and their rules need both {b1} and {b2}")
    elif len(usable) < 2:
        both = real.dropna(subset=[b1, b2, "params"])
        same = [str(m) for m in both.index if np.isclose(float(both.loc[m, "params"]), params, rtol=0.01)]
        if same:
            what = (f"no smaller or larger member with {b1} and {b2} scores ({', '.join(same)} has the same size, "
                    f"{fmt_params(params)})")
        else:
            lack = [str(m) for m in real.index]
            what = (f"no other member with {b1} and {b2} scores"
                    + (f" (members without both: {', '.join(lack)})" if lack else ""))
        notes.append(f"family {family} has {what}; local coupling needs a smaller or larger member "
                     "(add one with --data)")
    else:
        usable = usable.sort_values("params", kind="stable")
        fc = local_coupling(usable, (b1, b2), min_delta=cfg.min_delta, scheme=(cfg.phase_lower, cfg.phase_upper))
        order = list(fc.models)
        i = order.index(model)
        lo_i, hi_i = max(i - 1, 0), min(i + 1, len(order) - 1)
        trio = usable.loc[order[lo_i:hi_i + 1]]
        logn = np.log10(trio["params"].to_numpy(float))
        s1, s2 = trio[b1].to_numpy(float), trio[b2].to_numpy(float)
        # a described model (or a what-if score) has no stderr in the table: its binomial error is used
        own = None if (described or sc_override) else table
        se1 = np.array([score_stderr(own if m == model else table, m, b1, v) for m, v in zip(trio.index, s1)])
        se2 = np.array([score_stderr(own if m == model else table, m, b2, v) for m, v in zip(trio.index, s2)])
        draws = (noise_gammas(logn, s1, s2, se1, se2, n_boot=cfg.n_boot, seed=cfg.seed, min_delta=cfg.min_delta)
                 if cfg.n_boot else np.empty((0, len(trio) - 1)))
        ivs = [iv for iv in fc.intervals if model in (iv.lower, iv.upper)]
        for j, iv in enumerate(ivs):
            role = "below" if iv.upper == model else "above"
            col = draws[:, j] if draws.size else np.array([])
            note = {"small_step": f"|Δ{b1}| <= {cfg.min_delta:g}: skipped", "equal_n": "same size: skipped"}.get(
                iv.status, "")
            if "negative_step" in iv.flags:
                note = (note + "; " if note else "") + f"{b1} falls with size (co-movement {iv.comove:+d})"
            coupling_rows.append({"lower": iv.lower, "upper": iv.upper, "role": role, "n_lower": iv.n_lower,
                                  "n_upper": iv.n_upper, "d1": iv.d1, "d2": iv.d2, "gamma": iv.gamma,
                                  "ci": list(ci_or_none(col, cfg.ci)), "phase": iv.phase, "status": iv.status,
                                  "note": note, "_draws": col})
        prim = next((c for c in coupling_rows if c["role"] == "below" and c["gamma"] is not None), None)
        if prim is None:
            prim = next((c for c in coupling_rows if c["gamma"] is not None), None)
            if prim is not None:
                notes.append("phase read from the interval above the model (no usable interval below it)")
        if prim is not None:
            probs = phase_probabilities(prim["_draws"], cfg)
            label = prim["phase"]
            phase = {"label": label, "gamma": prim["gamma"], "gamma_ci": prim["ci"],
                     "interval": f"{prim['lower']} → {prim['upper']}",
                     "confidence": probs.get(label, float("nan")), "probabilities": probs, "n_boot": cfg.n_boot,
                     "thresholds": [cfg.phase_lower, cfg.phase_upper],
                     "method": "share of score-noise draws (binomial standard errors) giving this phase"}
        else:
            notes.append(f"no usable interval next to the model (|Δ{b1}| <= {cfg.min_delta:g} on both sides)")
        for c in coupling_rows:
            c.pop("_draws", None)
    # N_c of the family from its real members
    crit = family_critical(table, family, params, cfg) if params is not None else None
    # residuals
    residuals = _base_residuals(model, family, params, scores, real, table, cohort, cfg, notes)
    web = next((r["value"] for r in residuals if r["key"] == "web"), None)
    d_eff = phase_d_eff(cohort, cfg, phase["label"] if phase else None)
    # rules
    panel = cohort.wide(force=True)
    panel = panel.drop(index=[model], errors="ignore")
    me = pd.DataFrame([{**{"family": family, "params": params}, **scores}], index=[model])
    panel = pd.concat([panel, me])
    panel["lab"] = panel["family"]
    rules = (
        rule_curation(phase, crit, params, recipe, cohort, family, cfg, web),
        rule_width(model, params, d_model, family, phase, cfg),
        rule_rotation(model, scores, panel, "cohort", cfg),
        rule_checkpoints(phase, crit, coupling_rows, cfg),
        rule_rebalance(None, cfg),
    )
    return DoctorResult(model=model, kind="base", source=source, family=family, params=params, d_model=d_model,
                        scores=dict(scores), axes=(b1, b2), coupling=tuple(coupling_rows), phase=phase, critical=crit,
                        residuals=tuple(residuals), d_eff=d_eff, frontier=None, rules=rules,
                        recommendations=with_lever_evidence(recommendations_from(rules), cohort, params),
                        notes=tuple(notes), config=cfg)


def _base_residuals(model, family, params, scores, real: pd.DataFrame, table, cohort, cfg: DoctorConfig,
                    notes: list[str]) -> list[dict]:
    b2 = cfg.b2
    out: list[dict] = []
    if params is None or b2 not in scores:
        if b2 not in scores:
            notes.append(f"no {b2} score: no residual from the family and cohort trends")
        return out
    lx = math.log10(params)
    y0 = scores[b2]
    # 1) the family's own trend B2(log N), without the model
    fr = real.dropna(subset=[b2, "params"])
    if len(fr) >= cfg.trend_min_models:
        deg = 2 if len(fr) >= 4 else 1
        x = np.log10(fr["params"].to_numpy(float))
        pred, half, _ = poly_fit_with_pi(x, fr[b2].to_numpy(float), lx, deg, cfg.ci)
        v = y0 - pred
        inside = np.isfinite(half) and abs(v) <= half
        extrap = not (x.min() <= lx <= x.max())
        out.append({"key": "family", "reference": f"family {family} {b2}(log N) "
                                                  f"{'quadratic' if deg == 2 else 'line'} ({len(fr)} models)",
                    "value": v, "unit": f"{b2} points", "predicted": pred,
                    "pi_half": half if np.isfinite(half) else None,
                    "reading": ("within the family's prediction interval" if inside else
                                "outside the family's prediction interval") + (" (extrapolated)" if extrap else "")})
    else:
        notes.append(f"family {family} has {len(fr)} other model(s) with {b2}; a family trend needs "
                     f"{cfg.trend_min_models}")
    # 2) the cohort's web-trained curve (data field h(D)), without the model
    web = web_models(cohort, model, b2)
    if len(web) >= 4:
        x = np.log10(web["params"].to_numpy(float))
        pred, half, _ = poly_fit_with_pi(x, web[b2].to_numpy(float), lx, 2, cfg.ci)
        v = y0 - pred
        out.append({"key": "web", "reference": f"cohort web-trained {b2}(log N) quadratic ({len(web)} models)",
                    "value": v, "unit": f"{b2} points", "predicted": pred, "pi_half": half,
                    "reading": web_curve_reading(v, cfg) + ("" if abs(v) > half else
                                                             "; inside the curve's prediction interval")})
    # 3) the paper's universal curve (DS-BOOT14 quadratic), computed from the fixture
    if b2 == "TruthfulQA":
        try:
            bt = data.fixture("boot14")
            coef = np.polyfit(np.log10(bt["params"].to_numpy(float)), bt["TruthfulQA"].to_numpy(float), 2)
            v = y0 - float(np.polyval(coef, lx))
            out.append({"key": "paper", "reference": "paper UNIV curve (quadratic over DS-BOOT14)", "value": v,
                        "unit": "TruthfulQA points", "predicted": float(np.polyval(coef, lx)), "pi_half": None,
                        "reading": web_curve_reading(v, cfg)})
        except Exception:  # noqa: BLE001 - the fixture is optional context
            pass
    return out
