"""The paper's claims about coupling observables: population r, pair correlations, gamma signs, OLMo, the OPT fixed
point, the isocline, the running law and redistribution, recomputed at run time from the embedded data."""

from __future__ import annotations

from .. import catalog
from ..coupling import local_coupling, population_coupling
from ..coupling_flow import flow_fixed_point, isocline_phase, redistribution, running_law
from ..data import fixture, fixture_table
from .claim import Claim, base_cohort, matches_published, verdict_published


def paper_claims():
    """Claims about coupling observables (claims M1-M5, M16, M25, M34, S1, S8 in docs/paper.md), computed now."""
    p8 = fixture_table("pythia8", family="Pythia")
    base = base_cohort()
    return [_m1(p8), *_m4(p8), *_m5(p8), _m2(base), _m3(), _m16(), _m25(), _m34(base), _s1(base), _s8(p8)]


def _m1(p8) -> Claim:
    """M1: the Pythia reasoning-truthfulness coupling r(HS, TQA)."""
    pc = population_coupling(p8, n_boot=10_000, n_perm=10_000, seed=0)
    v = verdict_published(pc.r, "-0.989")
    return Claim("M1", "Pythia reasoning-truthfulness coupling r(HS,TQA), 8 models 70M-12B",
                 "r = -0.989, p < 1e-5", f"r = {pc.r:.4f}, p = {pc.p:.2e}", v,
                 "Pearson over the canonical Pythia table (DS-PYTHIA8)",
                 sound_value=f"95% bootstrap CI [{pc.ci_low:.3f}, {pc.ci_high:.3f}], permutation p = "
                             f"{pc.p_perm:.1e} (the smallest 10,000 permutations can give)")


def _m4(p8) -> list[Claim]:
    """M4a-c: the three pair correlations with truthfulness, one verdict each."""
    out = []
    dash = fixture("pythia8_dashboard").set_index("model")
    tqa = fixture("pythia8").set_index("model")["TruthfulQA"]
    pub = (("M4a", "HellaSwag", "reasoning", "-0.989"), ("M4b", "WinoGrande", "commonsense", "-0.941"),
           ("M4c", "MMLU", "knowledge", "-0.792"))
    for cid, b, word, val in pub:
        r = population_coupling(p8, (b, "TruthfulQA"), n_boot=0, n_perm=0)
        vv = verdict_published(r.r, val)
        note = ""
        if vv == "differs":
            note = f"; p = {r.p:.2g}"
            if b in dash.columns:
                rd = float(dash[b].astype(float).corr(tqa.reindex(dash.index).astype(float)))
                note += (f"; the authors' dashboard column for {b} gives {rd:+.3f}"
                         + (", which reproduces" if matches_published(rd, val) else ", which differs too"))
        out.append(Claim(cid, f"{word} vs truthfulness r({catalog.info(b).short}, TQA), Pythia 8 models", val,
                         f"{r.r:+.4f}", vv, f"Pearson over DS-PYTHIA8 (the benchmark behind '{word}' is assumed to be "
                         f"{b})" + note))
    return out


def _m5(p8) -> list[Claim]:
    """M5a-c: HS-ARC / HS-WG / HS-MMLU gamma positive at nearly every scale."""
    out = []
    for cid, b in (("M5a", "ARC-Challenge"), ("M5b", "WinoGrande"), ("M5c", "MMLU")):
        fc = local_coupling(p8, ("HellaSwag", b))
        gs = fc.gammas()
        npos = sum(g > 0 for g in gs)
        ok = npos >= len(gs) - 1
        neg = ", ".join(f"{g:+.2f}" for g in gs if g <= 0)
        out.append(Claim(cid, f"gamma(HS, {catalog.info(b).short}) positive at nearly every Pythia scale",
                         "positive at nearly every scale", f"{npos}/{len(gs)} steps positive" +
                         (f" (others {neg})" if neg else ""), "reproduces" if ok else "differs",
                         "consecutive-size gamma on DS-PYTHIA8"
                         + ("" if ok else f"; {len(gs) - npos} of {len(gs)} steps are not positive")))
    return out


def _m2(base) -> Claim:
    """M2: large models across families r > +0.78."""
    big = base.filter(family=["Llama-1", "Llama-2", "Llama-3", "Falcon", "OPT"], min_params=7e9)
    pcb = population_coupling(big, n_boot=10_000, n_perm=0, seed=0)
    b14 = fixture_table("boot14")
    l2 = population_coupling(b14, family="Llama-2", n_boot=0, n_perm=0)
    return Claim("M2", "coupling flips to r > +0.78 for large models across families (Llama, Falcon, OPT >= 7B)",
                 "r > +0.78", f"r = {pcb.r:+.3f} (n = {pcb.n}, embedded cohort); Llama-2 alone r = {l2.r:.3f}",
                 "reproduces" if pcb.r > 0.78 else "differs",
                 "the model subset is not stated; 0.781 matches Llama-2 within-family (n = 3) on the paper's "
                 "table", sound_value=f"95% bootstrap CI [{pcb.ci_low:+.2f}, {pcb.ci_high:+.2f}]")


def _m3() -> Claim:
    """M3: OLMo gamma at 1B on the figure-script and roster values."""
    ol = fixture("olmo")
    vals = {}
    for ver in ("figure_script", "roster"):
        w = ol[ol["version"] == ver].assign(family="OLMo")
        fc = local_coupling(w, ("HellaSwag", "TruthfulQA"))
        vals[ver] = (fc.intervals[0].gamma, fc.intervals[0].d1)
    return Claim("M3", "OLMo gamma_12 = 0.000 at 1B; HS +13.9; TQA unchanged at 31.1%",
                 "gamma 0.000, dHS +13.9, TQA 31.1%",
                 f"figure data gamma {vals['figure_script'][0]:.3f}, dHS {vals['figure_script'][1]:+.1f} "
                 f"(TQA 36.0); roster gamma {vals['roster'][0]:.3f}", "differs",
                 "gamma 0.000 and +13.9 reproduce on the figure-script values, but TQA there is 36.0, not 31.1, "
                 "and the roster values give -0.048")


def _m16() -> Claim:
    """M16: the OPT internal-coupling fixed point."""
    lad = fixture("opt_internal_ladder")
    lad = lad[lad["params"] <= 13e9]
    fp = flow_fixed_point(lad["params"], lad["internal_coupling"])
    return Claim("M16", "OPT internal coupling grows toward a fixed point gamma* ~ 0.53 (125M-13B)", "0.53",
                 f"{fp.fixed_point:.3f} (a = {fp.a:+.2f})", verdict_published(fp.fixed_point, "0.53"),
                 "OLS of d(coupling)/dlog10 N on the interval-mean coupling over the OPT internal ladder; the "
                 f"slope a = {fp.a:+.2f} > 0 makes the fixed point unstable (repelling), not an attractor")


def _m25() -> Claim:
    """M25: the architecture probe's values (not released)."""
    return Claim("M25", "OPT-1.3B, BLOOM-1.1B, OLMo-1B gamma <= 0.09; Pythia-1B -0.64", "0.092 / 0.070 / 0.000 / "
                 "-0.636", None, "not computable",
                 "these come from the probe script's own hard-coded HS/TQA values, which are not released; the "
                 "embedded cohort gives different steps (see cape diagnose)")


def _m34(base) -> Claim:
    """M34: the isocline TQA_c = sqrt((a/b) HS) classifying interval signs, stated and reversed."""
    fig = fixture("olmo")
    fig = fig[fig["version"] == "figure_script"]
    ab = (fig["TruthfulQA"].iloc[0] / 100) ** 2 / (fig["HellaSwag"].mean() / 100)
    counts = {}
    for fam in ("OPT", "BLOOM", "Cerebras-GPT"):
        fc = local_coupling(base, family=fam)
        wide = base.filter(family=fam).wide(["HellaSwag", "TruthfulQA"])
        st = rv = n = 0
        for iv in fc.intervals:
            if iv.gamma is None:
                continue
            hs, tq = wide.loc[iv.upper, "HellaSwag"], wide.loc[iv.upper, "TruthfulQA"]
            sign = "bonus" if iv.gamma > 0 else "tax"
            st += isocline_phase(hs, tq, a_over_b=ab) == sign
            rv += isocline_phase(hs, tq, a_over_b=ab, direction="reversed") == sign
            n += 1
        counts[fam] = (st, rv, n)
    return Claim("M34", "isocline TQA_c = sqrt((a/b) HS) with a/b = 0.187 from OLMo; classifies OPT 6/7, "
                 "BLOOM 4/5, Cerebras 5/6 correctly", "a/b 0.187; 6/7, 4/5, 5/6",
                 f"a/b {ab:.4f}; stated rule " + ", ".join(f"{v[0]}/{v[2]}" for v in counts.values()) +
                 "; reversed rule " + ", ".join(f"{v[1]}/{v[2]}" for v in counts.values()), "differs",
                 "a/b reproduces; with the stated direction (above the curve = bonus) the interval signs are "
                 "mostly missed, the reversed rule is what matches the reported accuracies")


def _s1(base) -> Claim:
    """S1: the global running-coupling law."""
    law = running_law(base)
    return Claim("S1", "running coupling gamma = 0.629 log10 N - 5.886, R^2 = 0.54, 12/12 signs, zero at 2.3B",
                 "A 0.629, B -5.886, R^2 0.54", f"A {law.A:.3f}, B {law.B:.2f}, R^2 {law.r2:.2f} ({law.n} "
                 f"intervals, {law.n_families} families); signs {100 * law.sign_agreement:.0f}%",
                 "differs", "regressing the within-family gammas on their log-midpoints does not give the "
                 "published law on any released roster; the published A, B are constants")


def _s8(p8) -> Claim:
    """S8: capability redistribution W."""
    rd = redistribution(p8)
    return Claim("S8", "capability redistribution W ~ 48 approximately conserved (CV 27%)", "W 48, CV 27%",
                 f"W {rd.mean:.1f}, CV {100 * rd.cv:.1f}%", "differs",
                 "sum over the 5 benchmarks of |dB/dlog10 N| per Pythia interval (DS-PYTHIA8)")
