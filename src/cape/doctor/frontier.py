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
from .evidence import ci_or_none, noise_gammas, phase_probabilities
from .results import DoctorResult, RuleOutcome
from .rules import recommendations_from, rule_checkpoints, rule_rebalance, rule_rotation


# ---------------------------------------------------------------------------------------------- frontier models
def diagnose_frontier(model: str, scores: dict[str, float], lab: str | None, source: str, described: bool,
                       cfg: DoctorConfig, notes: list[str], panel: pd.DataFrame | None = None) -> DoctorResult:
    fcfg = FrontierConfig(n_boot=min(cfg.n_boot, 2000), seed=cfg.seed)
    p = embedded_panel() if panel is None else panel.copy()
    if described:
        row = {"model": model, "lab": lab or "(yours)", SWE: scores[SWE], GPQA: scores[GPQA]}
        if IFEVAL in scores:
            row[IFEVAL] = scores[IFEVAL]
        rep = frontier_report(p, fcfg, added=pd.DataFrame([row]))
    else:
        rep = frontier_report(p, fcfg)
    hf = rep.h_field.table.loc[model]
    lab = str(hf["lab"])
    c = rep.coupling
    b = bootstrap_line(rep.panel.loc[rep.panel["in_fit"], SWE].to_numpy(float),
                       rep.panel.loc[rep.panel["in_fit"], GPQA].to_numpy(float), n_boot=max(cfg.n_boot, 1),
                       seed=cfg.seed)
    L = rep.labs.table
    lab_row = L.loc[lab] if lab in L.index else None
    front = {"h": float(hf["h"]), "pi_half": float(hf["pi_half"]), "predicted": float(hf["predicted"]),
             "direction": hf["direction"], "outside_pi": bool(hf["outside_pi"]), "lab": lab,
             "lab_mean_h": _f(lab_row["mean_h"]) if lab_row is not None else None,
             "lab_n": int(lab_row["n"]) if lab_row is not None else 0,
             "population_r": c.r, "population_r_ci": list(c.r_ci_boot), "line": [rep.h_field.slope,
                                                                                  rep.h_field.intercept],
             "lolo_predicted": _f(rep.lolo.models.loc[model, "predicted"]),
             "saturation": rep.saturation.to_dict() | {"ranking": None}}
    front["message"] = (f"h = {front['h']:+.1f} GPQA points from the population line "
                        f"({rep.h_field.slope:.3f} SWE + {rep.h_field.intercept:.2f}; 95% PI ± {front['pi_half']:.1f}); "
                        f"{front['direction']}; lab {lab} mean h "
                        f"{fmt_number(front['lab_mean_h'], 1)} over {front['lab_n']} fitted model(s)")
    # local coupling against the lab's neighbours, ordered by SWE (the paper scripts' convention)
    coupling_rows: list[dict] = []
    phase = None
    labp = rep.panel[rep.panel["lab"] == lab].sort_values([SWE, GPQA], kind="stable")
    if len(labp) >= 2:
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
        for j in range(len(names) - 1):
            g = _f(g0[j])
            role = "below" if names[j + 1] == model else "above"
            coupling_rows.append({"lower": names[j], "upper": names[j + 1], "role": role, "d1": float(d1[j]),
                                  "d2": float(d2[j]), "gamma": g, "ci": list(ci_or_none(draws[:, j], cfg.ci))
                                  if draws.size else [None, None], "phase": cfg.phase_of(g),
                                  "status": "ok" if g is not None else "small_step",
                                  "note": "" if g is not None else f"|ΔSWE| <= {cfg.min_delta:g}: skipped",
                                  "_draws": draws[:, j] if draws.size else np.array([])})
        prim = next((r for r in coupling_rows if r["role"] == "below" and r["gamma"] is not None), None) or \
            next((r for r in coupling_rows if r["gamma"] is not None), None)
        if prim is not None:
            probs = phase_probabilities(prim["_draws"], cfg)
            phase = {"label": prim["phase"], "gamma": prim["gamma"], "gamma_ci": prim["ci"],
                     "interval": f"{prim['lower']} → {prim['upper']}", "confidence": probs.get(prim["phase"]),
                     "probabilities": probs, "n_boot": cfg.n_boot, "thresholds": [cfg.phase_lower, cfg.phase_upper],
                     "method": "lab neighbours ordered by SWE; share of score-noise draws giving this phase"}
        for r in coupling_rows:
            r.pop("_draws", None)
    else:
        notes.append(f"lab {lab} has no other model in the panel: no local coupling (give --lab to compare with a "
                     "lab's releases)")
    if phase is None:
        rb = b["r"][np.isfinite(b["r"])]
        label = cfg.phase_of(c.r)
        probs = {"tax": float(np.mean(rb < cfg.phase_lower)), "transition": float(np.mean(
            (rb >= cfg.phase_lower) & (rb <= cfg.phase_upper))), "bonus": float(np.mean(rb > cfg.phase_upper)),
                 "undetermined": 0.0}
        phase = {"label": label, "gamma": None, "gamma_ci": [None, None], "interval": "population (all labs)",
                 "confidence": probs[label], "probabilities": probs, "n_boot": int(rb.size),
                 "thresholds": [cfg.phase_lower, cfg.phase_upper],
                 "method": f"population coupling r = {c.r:+.3f} (no lab neighbours); share of bootstrap r"}
    residuals = [{"key": "population", "reference": f"frontier population line ({c.n} models)", "value": front["h"],
                  "unit": "GPQA points", "predicted": front["predicted"], "pi_half": front["pi_half"],
                  "reading": front["direction"] + ("; outside the prediction interval" if front["outside_pi"]
                                                   else "; inside the prediction interval")}]
    if front["lolo_predicted"] is not None:
        residuals.append({"key": "lolo", "reference": f"line fitted without lab {lab}",
                          "value": scores[GPQA] - front["lolo_predicted"], "unit": "GPQA points",
                          "predicted": front["lolo_predicted"], "pi_half": None,
                          "reading": "how far the other labs' trend misses this model"})
    d_eff = None
    ta = rep.three_axis
    if ta is not None:
        d_eff = {"phase": None, "d_eff": ta.d_eff_cov, "ci": [None, None], "n": len(ta.models),
                 "benchmarks": list(ta.benchmarks), "method": "covariance participation ratio of the three-axis "
                                                              "sub-panel",
                 "message": f"three-axis sub-panel ({ta.source}, {len(ta.models)} models): d_eff {ta.d_eff_cov:.3f} "
                            f"(covariance), det R {ta.det:.3f}" + ("" if IFEVAL in scores else
                                                                   "; give --score IFEval=... to add this model")}
    # saturation is judged on the fitted panel plus this model (as `cape frontier` does)
    keep = rep.panel["in_fit"] | (rep.panel.index == model)
    fpanel = rep.panel.loc[keep, [SWE, GPQA, "lab"]].copy()
    rules = (
        RuleOutcome("curation", "not applicable", "a frontier model has no family size ladder or data recipe"),
        RuleOutcome("width", "not applicable", "frontier models have no published width"),
        rule_rotation(model, scores, fpanel, "frontier panel", cfg),
        rule_checkpoints(phase, None, coupling_rows, cfg),
        rule_rebalance(front, cfg),
    )
    return DoctorResult(model=model, kind="frontier", source=source, family=lab, params=None, d_model=None,
                        scores=dict(scores), axes=(SWE, GPQA), coupling=tuple(coupling_rows), phase=phase,
                        critical=None, residuals=tuple(residuals), d_eff=d_eff, frontier=front, rules=rules,
                        recommendations=recommendations_from(rules), notes=tuple(notes), config=cfg)


def diagnose_frontier_named(model, scores, notes, cfg):
    miss = [b for b in (SWE, GPQA) if b not in scores]
    if miss:
        raise DataError(f"model {model!r} has no {', '.join(miss)} score for a frontier diagnosis")
    return diagnose_frontier(model, scores, None, "user data", True, cfg, notes)
