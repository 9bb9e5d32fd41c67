"""Public-score analogues of the paper's lever claims (Qwen generations, Gemma-4 at 4B, Phi at 1B), computed at
run time from the embedded cohort with :mod:`cape.levers`.

The published numbers are internal head-coupling values or unsourced; these rows ask the closest question the
released benchmark scores can answer, and say how far that goes.
"""

from __future__ import annotations

from ..data import load_base
from ..errors import AnalysisError
from ..levers import lever_effects
from ..levers.family import family_equivalent_scale
from ..levers.results import fmt_size
from .claim import Claim

N_BOOT = 2000


def _phi(base) -> Claim:
    r = family_equivalent_scale(base, "Phi", measure="gamma", at=1e9, n_boot=N_BOOT, seed=0)
    rec = lever_effects(base, ["recipe"], n_boot=N_BOOT, n_perm=N_BOOT, seed=0).get("recipe", "curated")
    inside = r.ci_low is not None and r.ci_high is not None and r.ci_low <= 10e9 <= r.ci_high
    return Claim(
        "A7b", "public-score analogue of A7: Phi at 1B couples (gamma, HellaSwag -> TruthfulQA) like web-trained "
        "models at ...", "10B", f"{fmt_size(r.equivalent_params)} [{fmt_size(r.ci_low)}, {fmt_size(r.ci_high)}]",
        "reproduces" if inside else "differs",
        f"descriptive: Phi's one pretrained step (Phi-1.5 -> Phi-2) against the line of {r.n_reference} web-trained "
        "families (CI over those families); the published 10B "
        + ("lies inside" if inside else "lies outside") + " the interval, which is wide; the recipe lever itself "
        f"is not testable: {rec.message.split(': ', 1)[-1]}")


def _gemma(base) -> Claim:
    try:
        r = family_equivalent_scale(base, "Gemma", models=["Gemma-4-E4B"], measure="residual", at=4e9,
                                    n_boot=N_BOOT, seed=0)
    except AnalysisError as e:
        return Claim("A5b", "public-score analogue of A5: Gemma-4 at 4B couples like web-trained models at ...",
                     "13B+ (A5/A6)", None, "not computable", str(e))
    lo, hi = r.offset_ci
    val = f"TruthfulQA {r.offset:+.1f} points at matched HellaSwag and size [{lo:+.1f}, {hi:+.1f}]"
    if r.equivalent_params is None:
        return Claim("A5b", "public-score analogue of A5: Gemma-4 at 4B couples like web-trained models at ...",
                     "13B+ (A5/A6)", val, "not computable",
                     "Gemma's two models have the same size, so it has no gamma; read by TruthfulQA at matched "
                     "HellaSwag (Gemma-4-E4B, an instruct release) against the web-trained line, it sits above it, "
                     "but that line has no resolved trend with size, so no equivalent scale follows")
    ok = r.equivalent_params >= 13e9
    return Claim("A5b", "public-score analogue of A5: Gemma-4 at 4B couples like web-trained models at ...",
                 "13B+ (A5/A6)", f"{fmt_size(r.equivalent_params)} ({val})", "reproduces" if ok else "differs",
                 "descriptive reading of one model against the web-trained line")


def _qwen(base) -> Claim:
    from ..coupling import local_coupling

    fc = local_coupling(base, family="Qwen2.5")
    g = fc.gammas()
    gen = lever_effects(base, ["generation"], n_boot=N_BOOT, n_perm=N_BOOT, seed=0).get("generation")
    val = f"Qwen2.5 gamma at every step {', '.join(f'{v:+.2f}' for v in g)} (all > 0: no dip)"
    return Claim("A4b", "public-score analogue of A4: curated training removes the coupling dip between Qwen "
                 "generations", "0.025 -> 0.830 (internal)", val, "differs" if min(g) > 0 else "reproduces",
                 "in public scores Qwen2.5 already cooperates at every measured size (0.5B-72B), so there is no dip "
                 "for the next generation to remove; Qwen3 has one model (an instruct release), and the "
                 f"generation lever is not testable: {gen.message.split(': ', 1)[-1]}")


def paper_claims() -> list[Claim]:
    """A4b, A5b, A7b: the lever claims' public-score analogues, computed now."""
    base = load_base()
    return [_qwen(base), _gemma(base), _phi(base)]
