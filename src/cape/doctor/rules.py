"""The doctor's rules (:data:`RULES`): each turns the evidence into a fired / not-fired outcome with its
numbers, and the fired ones into recommendations."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import data
from ..coupling import local_coupling
from ..frontier import FrontierConfig, mark_fit, saturation
from .config import RULES, DoctorConfig
from .evidence import web_curve
from .parts import CouplingStep, CriticalContext, FrontierContext, PhaseReading
from .results import Recommendation, RuleOutcome


# ---------------------------------------------------------------------------------------------- rules
def _rec(name: str, evidence: dict, text: str) -> Recommendation:
    title, action, rule = RULES[name]
    return Recommendation(name=name, title=title, action=action, rule=rule, evidence=evidence, evidence_text=text)


def rule_curation(phase: PhaseReading | None, crit: CriticalContext | None, params: float | None,
                   recipe: str | None, cohort, family: str | None, cfg: DoctorConfig, web_resid: float | None
                   ) -> RuleOutcome:
    """Fires in the tax phase below the family's N_c when curated-data families of similar size cooperate."""
    if phase is None or phase.label is None:
        return RuleOutcome("curation", "not applicable", "the phase is undetermined (no usable family interval)")
    if params is None:
        return RuleOutcome("curation", "not applicable", "no parameter count")
    ev: dict[str, Any] = {"phase": phase.label, "gamma": phase.gamma, "position": crit.position if crit else None,
                          "nc": crit.nc if crit else None, "nc_status": crit.status if crit else None}
    if recipe is not None and str(recipe).lower() == cfg.curated_recipe:
        return RuleOutcome("curation", "not fired", "the model's family is already trained on curated data", ev)
    # curated intervals of similar size in the cohort
    wide = cohort.wide(force=True)
    mf = cohort.model_frame()
    cur = [f for f in mf["family"].dropna().unique()
           if (mf.loc[mf["family"] == f, "recipe"].astype(str).str.lower() == cfg.curated_recipe).any() and f != family]
    ivs = []
    lo, hi = params / cfg.curation_size_factor, params * cfg.curation_size_factor
    for f in cur:
        fw = wide[wide["family"] == f].dropna(subset=[cfg.b1, cfg.b2, "params"])
        fw = fw[~fw["params"].duplicated(keep="first")]
        if len(fw) < 2:
            continue
        fc = local_coupling(fw, (cfg.b1, cfg.b2), min_delta=cfg.min_delta, scheme=(cfg.phase_lower, cfg.phase_upper))
        for iv in fc.intervals:
            if iv.gamma is not None and lo <= iv.n_mid <= hi:
                ivs.append({"family": f, "interval": f"{iv.lower} → {iv.upper}", "n_mid": iv.n_mid,
                            "gamma": iv.gamma})
    ev["curated_intervals"] = ivs
    ev["size_window"] = [lo, hi]
    med = float(np.median([i["gamma"] for i in ivs])) if ivs else None
    ev["curated_median_gamma"] = med
    # how far curated models of similar size sit above the web-trained curve: the data field to gain
    coef = web_curve(cohort, None, cfg.b2)
    if coef is not None:
        cm = wide[wide["family"].isin(cur) & wide["params"].between(lo, hi)].dropna(subset=[cfg.b2, "params"])
        if len(cm):
            field_c = cm[cfg.b2].to_numpy(float) - np.polyval(coef, np.log10(cm["params"].to_numpy(float)))
            ev["curated_field_mean"] = float(field_c.mean())
            ev["curated_field_models"] = {str(m): float(v) for m, v in zip(cm.index, field_c)}
            if web_resid is not None:
                ev["field_gap"] = float(field_c.mean() - web_resid)
    if phase.label != "tax":
        return RuleOutcome("curation", "not fired", f"phase is {phase.label}, not tax", ev)
    pos = crit.position if crit else None
    if pos != "below":
        why = {None: f"the family's N_c is undetermined ({crit.message if crit else 'no parameter count'})",
               "unresolved": "no flip is established around the model's size, so it is not known to be below N_c",
               }.get(pos, f"the model is {pos} its family's N_c, not below")
        return RuleOutcome("curation", "not fired", why, ev)
    if not ivs:
        return RuleOutcome("curation", "not fired", f"no curated-data family interval between "
                                                    f"{lo / 1e9:.2g}B and {hi / 1e9:.2g}B in the cohort", ev)
    if med <= cfg.curation_min_gamma:
        return RuleOutcome("curation", "not fired", f"curated families of similar size are not cooperative "
                                                    f"(median gamma {med:+.2f} <= {cfg.curation_min_gamma:g})", ev)
    gap = ev.get("field_gap")
    extra = (f"; curated models of this size sit {ev['curated_field_mean']:+.1f} {cfg.b2} points from the "
             f"web-trained curve ({gap:+.1f} relative to this model)" if gap is not None else "")
    return RuleOutcome("curation", "fired",
                       f"tax phase (gamma {phase.gamma:+.2f}) below N_c, while {len(ivs)} curated interval(s) "
                       f"of similar size are cooperative (median gamma {med:+.2f}){extra}", ev)


def _width_law(model: str, params: float, family: str | None, cfg: DoctorConfig, cohort, arch: pd.DataFrame
               ) -> tuple[dict | None, str]:
    """The width law log10 d_model ~ log10 N over the family's models with a known width (else the cohort's)."""
    mf = cohort.model_frame()
    a = arch.dropna(subset=["d_model"]).copy()
    a["params"] = a["model"].map(mf["params"])
    a = a.dropna(subset=["params"])
    a = a[a["model"] != model]
    fam = a[a["family"] == family] if family else a.iloc[:0]
    if len(fam) >= cfg.width_min_models and np.ptp(np.log10(fam["params"])) > 0:
        use, src = fam, f"family {family} ({len(fam)} models)"
    else:
        use, src = a, f"cohort ({len(a)} models; family {family} has {len(fam)} with a known width)"
    if len(use) < 3:
        return None, "fewer than 3 models with a known width"
    x, y = np.log10(use["params"].to_numpy(float)), np.log10(use["d_model"].to_numpy(float))
    slope, intercept = np.polyfit(x, y, 1)
    return {"slope": float(slope), "intercept": float(intercept), "source": src, "n": int(len(use)),
            "d_law": float(10 ** (slope * math.log10(params) + intercept))}, src


def rule_width(model: str, params: float | None, d_model: float | None, family: str | None,
               phase: PhaseReading | None, cfg: DoctorConfig, *, cohort=None, architectures: pd.DataFrame | None = None
               ) -> RuleOutcome:
    """Fires when ``d_model`` is narrower than the width law by ``width_narrow_dex`` in one of ``width_phases``.

    ``cohort`` (sizes) and ``architectures`` (widths) default to the embedded data.
    """
    if params is None:
        return RuleOutcome("width", "not applicable", "no parameter count")
    if d_model is None:
        return RuleOutcome("width", "not applicable",
                           "the model's d_model is unknown (not in the architecture table; give --d-model)")
    law, why = _width_law(model, params, family, cfg, data.load_base() if cohort is None else cohort,
                          data.architectures() if architectures is None else architectures)
    if law is None:
        return RuleOutcome("width", "not applicable", f"no width law: {why}")
    resid = math.log10(d_model) - math.log10(law["d_law"])
    ev = {"d_model": d_model, "d_law": law["d_law"], "ratio": d_model / law["d_law"], "residual_dex": resid,
          "law": law, "phase": phase.label if phase else None}
    if resid > -cfg.width_narrow_dex:
        return RuleOutcome("width", "not fired", f"d_model {d_model:.0f} is not narrow for its size (law "
                                                 f"{law['d_law']:.0f}, {resid:+.3f} dex > -{cfg.width_narrow_dex:g})",
                           ev)
    ph = phase.label if phase else None
    if ph not in cfg.width_phases:
        return RuleOutcome("width", "not fired", f"narrow ({resid:+.3f} dex) but the phase is {ph or 'undetermined'}, "
                                                 f"not one of {', '.join(cfg.width_phases)}", ev)
    return RuleOutcome("width", "fired", f"d_model {d_model:.0f} is {1 - d_model / law['d_law']:.0%} narrower than the "
                                         f"width law at this size ({law['d_law']:.0f}; {law['source']}) in the {ph} "
                                         "phase", ev)


def rule_rotation(model: str, scores: Mapping[str, float], panel: pd.DataFrame, panel_name: str,
                   cfg: DoctorConfig) -> RuleOutcome:
    """``panel``: wide frame (index model, column lab, benchmarks) that includes the model."""
    checked = []
    best = None
    for old, new in cfg.rotation_pairs:
        if old not in scores:
            continue
        if old not in panel.columns or new not in panel.columns:
            checked.append({"old": old, "new": new, "status": f"the {panel_name} has no {new} scores"})
            continue
        # models with both axes; a model without the new axis is still ranked on the old one below
        p = panel.dropna(subset=[old, new]).copy()
        if len(p) < cfg.rotation_top_k:
            checked.append({"old": old, "new": new, "status": f"fewer than {cfg.rotation_top_k} models with both"})
            continue
        p["subset"] = "core"
        if "lab" not in p.columns:
            p["lab"] = p.get("family", "—")
        fc = FrontierConfig(x=old, y=new, top_k=cfg.rotation_top_k, rotate_below=cfg.rotation_ratio, n_boot=0)
        s = saturation(mark_fit(p, fc), old, new, config=fc)
        kth = float(np.sort(p[old].to_numpy(float))[::-1][cfg.rotation_top_k - 1])
        at_top = scores[old] >= kth
        rank = int((p.drop(index=[model], errors="ignore")[old] > scores[old]).sum()) + 1
        item = {"old": old, "new": new, "spread_old": s.spread_old, "spread_new": s.spread_new, "ratio": s.ratio,
                "threshold": cfg.rotation_ratio, "saturated": s.rotate, "top_models": list(s.top_models),
                "kth_score": kth, "model_score": scores[old], "model_rank": rank, "at_top": bool(at_top),
                "panel": panel_name, "n_panel": int(len(p))}
        checked.append(item)
        if s.rotate and at_top and best is None:
            best = item
    ev = {"checked": checked}
    if not checked:
        return RuleOutcome("rotation", "not applicable", "no score on an axis with a configured newer axis "
                                                         f"({', '.join(o for o, _ in cfg.rotation_pairs)})", ev)
    if best is not None:
        return RuleOutcome("rotation", "fired",
                           f"{best['old']} saturates at the top of the {panel_name}: top-{cfg.rotation_top_k} spread "
                           f"{best['spread_old']:.1f} vs {best['new']} {best['spread_new']:.1f} points (ratio "
                           f"{best['ratio']:.3f} < {cfg.rotation_ratio:g}); the model ranks {best['model_rank']} on "
                           f"{best['old']}", ev)
    sat = [c for c in checked if c.get("saturated")]
    if sat:
        c = sat[0]
        return RuleOutcome("rotation", "not fired", f"{c['old']} saturates at the top (ratio {c['ratio']:.3f}) but the "
                                                    f"model is not among the top {cfg.rotation_top_k} ({c['old']} "
                                                    f"{c['model_score']:.1f} < {c['kth_score']:.1f})", ev)
    c = next((c for c in checked if "ratio" in c), None)
    if c is None:
        return RuleOutcome("rotation", "not applicable", checked[0]["status"], ev)
    return RuleOutcome("rotation", "not fired", f"{c['old']} still separates the top models (ratio {c['ratio']:.3f} "
                                                f">= {cfg.rotation_ratio:g})", ev)


def rule_checkpoints(phase: PhaseReading | None, crit: CriticalContext | None, coupling: Sequence[CouplingStep],
                     cfg: DoctorConfig) -> RuleOutcome:
    """Fires when the coupling next to the model (either neighbour) is near zero, or (optionally) when the
    model's size lies inside the CI of an observed N_c."""
    adj = [c for c in coupling if c.gamma is not None]
    near_nc = bool(cfg.checkpoints_on_nc and crit and crit.position == "near")
    ev = {"near_zero": cfg.near_zero, "intervals": [{"interval": f"{c.lower} → {c.upper}", "gamma": c.gamma,
                                                     "ci": c.ci} for c in adj],
          "probabilities": phase.probabilities if phase else None,
          "position": crit.position if crit else None, "nc": crit.nc if crit else None}
    if not adj and not near_nc:
        return RuleOutcome("checkpoints", "not applicable", "no local coupling next to the model to judge", ev)
    close = [c for c in adj if c.gamma is not None and abs(c.gamma) <= cfg.near_zero]
    if close:
        c = close[0]
        return RuleOutcome("checkpoints", "fired", f"gamma {c.gamma:+.3f} on {c.lower} → {c.upper} is within "
                                                   f"±{cfg.near_zero:g}: a phase boundary, where small recipe changes "
                                                   "flip the sign", ev)
    if near_nc:
        return RuleOutcome("checkpoints", "fired", f"the model's size lies within the CI of its family's N_c "
                                                   f"({crit.summary if crit else '—'})", ev)
    gs = ", ".join(f"{c.gamma:+.3f}" for c in adj)
    return RuleOutcome("checkpoints", "not fired", f"gamma next to the model ({gs}) is away from zero (> "
                                                   f"{cfg.near_zero:g}) and the model is not within the CI of N_c", ev)


def rule_rebalance(front: FrontierContext | None, cfg: DoctorConfig) -> RuleOutcome:
    """Fires for a frontier model whose ``|h|`` exceeds ``frontier_h_band``."""
    if front is None:
        return RuleOutcome("rebalance", "not applicable", "not a frontier model (no SWE-bench Verified and GPQA "
                                                          "Diamond scores)")
    h = front.h
    ev = {"h": h, "pi_half": front.pi_half, "band": cfg.frontier_h_band, "lab_mean_h": front.lab_mean_h}
    if h < -cfg.frontier_h_band:
        return RuleOutcome("rebalance", "fired", f"h = {h:+.1f} < -{cfg.frontier_h_band:g}: coding-rich for its SWE "
                                                 "score; invest in reasoning (GPQA-type) data", ev)
    if h > cfg.frontier_h_band:
        return RuleOutcome("rebalance", "fired", f"h = {h:+.1f} > +{cfg.frontier_h_band:g}: reasoning-rich for its "
                                                 "SWE score; invest in coding (SWE-type) data", ev)
    return RuleOutcome("rebalance", "not fired", f"|h| = {abs(h):.1f} <= {cfg.frontier_h_band:g}: balanced", ev)


def recommendations_from(rules: Sequence[RuleOutcome]) -> tuple[Recommendation, ...]:
    out = [_rec(r.name, r.evidence, r.reason) for r in rules if r.status == "fired"]
    if not out:
        why = "; ".join(f"{r.name}: {r.reason}" for r in rules)
        out = [_rec("none", {"checked": [r.name for r in rules]}, f"no rule fired ({why})")]
    return tuple(out)


def with_lever_evidence(recs: Sequence[Recommendation], cohort, params: float | None) -> tuple[Recommendation, ...]:
    """Each lever recommendation (curation, width) with the lever's measured effect at the model's size from the
    cohort's public scores (:func:`cape.levers.evidence.cohort_evidence`); when the effect is not significant or
    not identifiable, the sentence says so."""
    from dataclasses import replace

    from ..levers.evidence import cohort_evidence

    out = []
    for r in recs:
        ev = cohort_evidence(r.name, params, cohort)
        if not ev:
            out.append(r)
            continue
        text = f"{r.evidence_text}. Measured on public scores: " + "; ".join(e.text for e in ev)
        out.append(replace(r, evidence_text=text, lever_evidence=tuple(e.to_dict() for e in ev)))
    return tuple(out)
