"""Measured evidence behind a recommended intervention: the lever's estimated effect at the model's size.

The doctor's rules say *what* to change (curate the data, widen the model); this module says how much the
public scores support it: the lever's effect on coupling at matched scale, its CI, its permutation p, the
families behind it, and what the effect means at the model's own size (the equivalent-scale reading). When
the effect is not significant, or not identifiable, the text says so: the recommendation then rests on the rule
alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .results import LeverEffect, LeverReport, _f, fmt_size

#: Recommendation (doctor rule) -> the lever contrasts that measure it: (lever, level or None).
RULE_LEVERS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "curation": (("recipe", "curated"),),
    "width": (("d_model", None), ("aspect_ratio", None)),
}


@dataclass(frozen=True)
class LeverEvidence:
    """One lever's evidence for one recommendation, read at the model's size.

    Attributes:
        rule: the recommendation; lever, level: the contrast (level None for a continuous lever).
        effect, ci_low, ci_high, p: as in :class:`~cape.levers.results.LeverEffect` (None when not
            identifiable); n_families: families behind each side.
        identifiable, significant: see LeverEffect.
        params: the model's size; equivalent_params (CI ``equivalent_ci``): the reference size that couples
            like this model would with the lever.
        text: one sentence for the recommendation.
    """

    rule: str
    lever: str
    level: str | None
    effect: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    n_families: dict[str, int]
    identifiable: bool
    significant: bool | None
    params: float | None
    equivalent_params: float | None
    equivalent_ci: tuple[float | None, float | None]
    text: str

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["equivalent_ci"] = [_f(v) for v in self.equivalent_ci]
        return {k: (_f(v) if isinstance(v, float) else v) for k, v in d.items()}


def _find(rep: LeverReport, lever: str, level: str | None) -> LeverEffect | None:
    for e in rep.levers:
        if e.lever == lever and (level is None or (len(e.levels) > 1 and e.levels[-1] == level)):
            return e
    return None


def _scaled(e: LeverEffect, params: float | None) -> tuple[float | None, float | None, float | None]:
    q = e.equivalent_scale
    if params is None or q is None or q.equivalent_params is None or not q.at:
        return None, None, None
    k = params / q.at
    return (q.equivalent_params * k, q.ci_low * k if q.ci_low is not None else None,
            q.ci_high * k if q.ci_high is not None else None)


def _text(rule: str, e: LeverEffect, params: float | None, eq) -> str:
    side = ", ".join(f"{k} {v}" for k, v in e.n_families.items())
    name = f"{e.lever} = {e.levels[-1]} vs {e.levels[0]}" if e.kind == "categorical" else f"{e.lever} ({e.unit})"
    if not e.identifiable:
        why = e.message.split("(", 1)[-1].rstrip(")") if "(" in e.message else e.message
        return (f"{name}: not identifiable from these data ({why}); the '{rule}' recommendation rests on the rule, "
                "not on a measured effect")
    head = f"{name}: {e.effect:+.3g} [{e.ci_low:+.3g}, {e.ci_high:+.3g}], p = {e.p:.3g} ({side} families)"
    if not e.significant:
        return head + "; not significant, so the public scores do not show that this lever moves coupling"
    if eq[0] is not None and params is not None:
        lo = fmt_size(eq[1]) if eq[1] is not None else "open"
        hi = fmt_size(eq[2]) if eq[2] is not None else "open"
        return head + (f"; at {fmt_size(params)} this model would couple like a reference model of "
                       f"{fmt_size(eq[0])} [{lo}, {hi}]")
    return head


def evidence_for(rule: str, params: float | None, report: LeverReport) -> tuple[LeverEvidence, ...]:
    """The evidence for one recommendation from a lever report.

    Args:
        rule: the recommendation's name (``curation``, ``width``, ...).
        params: the model's parameter count (for the equivalent-scale reading), or None.
        report: :func:`~cape.levers.lever_effects` on the cohort the doctor uses.

    Returns:
        One :class:`LeverEvidence` per lever contrast that measures the rule (empty for a rule that is not a
        lever, such as benchmark rotation).
    """
    out = []
    for lever, level in RULE_LEVERS.get(rule, ()):
        e = _find(report, lever, level)
        if e is None:
            continue
        eq = _scaled(e, params) if e.identifiable else (None, None, None)
        out.append(LeverEvidence(rule, lever, level, e.effect, e.ci_low, e.ci_high, e.p, dict(e.n_families),
                                 e.identifiable, e.significant, params, eq[0], (eq[1], eq[2]),
                                 _text(rule, e, params, eq)))
    return tuple(out)


_CACHE: dict = {}


def cohort_evidence(rule: str, params: float | None, table, *, n_boot: int = 1000, n_perm: int = 1000,
                    seed: int = 0) -> tuple[LeverEvidence, ...]:
    """:func:`evidence_for` on a cohort, the lever report computed once per table (kept for the session).

    Args:
        rule: the recommendation; params: the model's size; table: the cohort the doctor uses.
        n_boot, n_perm, seed: resampling settings of the lever report.
    """
    wanted = RULE_LEVERS.get(rule)
    if not wanted:
        return ()
    levers = tuple(sorted({lv for pairs in RULE_LEVERS.values() for lv, _ in pairs}))
    key = (id(table), len(table), levers, n_boot, n_perm, seed)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not table:
        from .analysis import lever_effects

        if len(_CACHE) > 8:
            _CACHE.clear()
        hit = (table, lever_effects(table, list(levers), n_boot=n_boot, n_perm=n_perm, seed=seed))
        _CACHE[key] = hit
    return evidence_for(rule, params, hit[1])
