"""The headline: one paragraph saying what a diagnosis shows, for the top of the report and the dashboard.

Example:
    >>> from cape import data
    >>> from cape.diagnose import diagnose
    >>> headline(diagnose(data.load_base(), n_boot=200, families=["Pythia", "Qwen2.5"]))   # doctest: +ELLIPSIS
    'HellaSwag and TruthfulQA: of 2 families with at least 3 models, 1 compete (r < 0, 95% CI below 0) and 1 ...'
"""

from __future__ import annotations

__all__ = ["coupling_counts", "headline", "pooled_notes"]


def coupling_counts(res) -> dict:
    """Families with at least 3 models by the sign of their coupling r: ``compete`` (CI below 0), ``cooperate``
    (CI above 0), ``unclear`` (CI across 0 or no CI)."""
    out = {"compete": [], "cooperate": [], "unclear": []}
    for f in res.families:
        if f.n_models < 3:
            continue
        r = f.r
        lo, hi = (getattr(r, "ci_low", None), getattr(r, "ci_high", None)) if r is not None else (None, None)
        if lo is not None and hi is not None and hi < 0:
            out["compete"].append(f.family)
        elif lo is not None and hi is not None and lo > 0:
            out["cooperate"].append(f.family)
        else:
            out["unclear"].append(f.family)
    return out


def headline(res) -> str:
    """One paragraph: how many families compete or cooperate, and where the pooled coupling flips sign.

    Args:
        res: a :class:`~cape.diagnose.DiagnosisResult`.

    Returns:
        Plain text (no markup), numbers formatted for people.
    """
    from .._format import fmt_params

    c = coupling_counts(res)
    n = sum(len(v) for v in c.values())
    lvl = int(round(100 * res.level))
    parts = [f"{res.b1} and {res.b2}: of {n} famil{'y' if n == 1 else 'ies'} with at least 3 models, "
             f"{len(c['compete'])} compete (r < 0, {lvl}% CI below 0) and {len(c['cooperate'])} cooperate "
             f"(CI above 0); {len(c['unclear'])} cannot be told apart from no coupling."]
    pn = res.pooled_nc
    if pn is not None and pn.estimate is not None:
        lo = "0" if pn.ci_low_unbounded or pn.ci_low is None else fmt_params(pn.ci_low)
        hi = "∞" if pn.ci_high_unbounded or pn.ci_high is None else fmt_params(pn.ci_high)
        parts.append(f"Pooled over families, the coupling turns from competition to cooperation at "
                     f"N_c = {fmt_params(pn.estimate)} parameters ({lvl}% CI {lo} to {hi}; {pn.status}).")
    elif pn is not None:
        parts.append(f"Pooled over families, the data place no sign flip ({pn.message}).")
    return " ".join(parts)


def pooled_notes(res) -> list[str]:
    """The sentences under the headline on the pooled N_c: the population estimate (between-family random
    effects) and the shared quadratic with family offsets, each when the diagnosis has it.

    Args:
        res: a :class:`~cape.diagnose.DiagnosisResult`.
    """
    notes = []
    pop = getattr(res.pooled, "population", None)
    if pop is not None:
        notes.append(f"Population N_c (between-family random effects): {pop.message}.")
    pn = res.pooled_nc
    if pn is not None:
        notes.append(f"Shared quadratic with family offsets (assumes one N_c for all families): {pn.summary()}; "
                     f"{res.pooled.message}.")
    return notes
