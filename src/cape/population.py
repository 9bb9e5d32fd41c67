"""Population N_c: the typical critical scale of a population of families and its spread between them.

Each member family gets its own N_c from the smooth-fit estimator (:class:`cape.critical.SmoothFitVertex`,
with the noise measured on the members, :mod:`cape.noise`). The families with an established flip
(``observed`` or ``extrapolated``) enter a random-effects meta-analysis of ``y_f = log10 N_c,f`` with
``se_f`` = half the width of the family's 95% interval divided by 1.96:

``y_f = mu + b_f + e_f``,  ``b_f ~ N(0, tau^2)`` (how much N_c differs between families),
``e_f ~ N(0, se_f^2)`` (how precisely each family places its own).

``mu`` (the typical N_c) is the DerSimonian-Laird estimate with the Hartung-Knapp interval (Student t, k - 1
df); ``tau`` (the spread, in decades) gets the Q-profile interval; Cochran's Q tests homogeneity
(``tau = 0``). The computation is ``statsmodels.stats.meta_analysis.combine_effects``. The result is a
statement about a population, never a flip "observed" in one family.

Who is in the population is explicit: base models of web-trained families by default. Models marked as
not base (instruct, chat, fine-tunes) and families whose recorded recipe is not ``web`` (curated, distilled,
code, mixture-of-experts, ...) are left out unless asked for (``recipes=...``, ``base_only=False``); without a
recipe column the result says so.

Example:
    >>> from cape import data
    >>> pop = population_nc(data.load_base())
    >>> pop.status in ("estimated", "single family", "none")
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._format import fields_dict, fmt_params
from .coupling import DEFAULT_PAIR, resolve_pair, score_frame

DEFAULT_RECIPES = ("web",)


@dataclass(frozen=True)
class PopulationNc:
    """A between-family (random-effects) N_c. Sizes in raw parameters, spread in decades (log10 N).

    Attributes:
        members: families analysed; excluded: family or model -> why it is out; membership: one sentence.
        flipping: members with an established flip (they enter the estimate); log10_nc, se: theirs.
        no_flip: members without one (``none``); insufficient: members with too few sizes.
        typical, typical_ci: the population's typical N_c and its CI (Hartung-Knapp).
        spread, spread_ci: between-family standard deviation of log10 N_c and its Q-profile CI.
        q, q_df, q_p, i2: Cochran's homogeneity test and I^2; homogeneous: ``q_p >= 0.05``.
        status: ``estimated`` (>= 2 flipping families), ``single family``, ``none`` (no flipping family).
        message: one sentence for people.
    """

    members: tuple[str, ...]
    excluded: dict
    membership: str
    flipping: tuple[str, ...]
    log10_nc: tuple[float, ...]
    se: tuple[float, ...]
    no_flip: tuple[str, ...]
    insufficient: tuple[str, ...]
    typical: float | None
    typical_ci: tuple[float | None, float | None]
    spread: float | None
    spread_ci: tuple[float | None, float | None]
    q: float | None
    q_df: int
    q_p: float | None
    i2: float | None
    homogeneous: bool | None
    status: str
    level: float = 0.95
    message: str = ""
    family_results: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = fields_dict(self)
        d["family_results"] = {k: v.to_dict() for k, v in self.family_results.items()}
        return d


def membership(table, *, recipes: Sequence[str] | None = DEFAULT_RECIPES, base_only: bool = True,
               moe: bool = False):
    """Split the table's models into population members and the rest.

    Returns:
        ``(keep_models, excluded, note)``: model names kept, ``{family or model: reason}``, one sentence.
    """
    if not hasattr(table, "model_frame"):
        return None, {}, "no model metadata (a plain frame): every family is used as given"
    mf = table.model_frame()
    excluded: dict[str, str] = {}
    rec = mf["recipe"] if "recipe" in mf.columns else None
    known = rec is not None and rec.notna().any()
    allowed = None if recipes is None else {r.lower() for r in recipes}
    models = [str(m) for m in mf.index.tolist()]
    n = len(models)
    # each reason to leave a model out, one column at a time; the first reason that applies wins
    not_base = ([str(v).lower() in ("false", "0") for v in mf["is_base"].tolist()]
                if base_only and "is_base" in mf.columns else [False] * n)
    is_moe = ([str(v).lower() == "moe" for v in mf["model_type"].tolist()]
              if "model_type" in mf.columns and not moe else [False] * n)
    recipes_of = [None] * n if rec is None else rec.tolist()
    recipe_out = [allowed is not None and isinstance(r, str) and bool(r.strip()) and r.strip().lower() not in allowed
                  for r in recipes_of]
    families = mf["family"].tolist()
    keep = []
    for i, model in enumerate(models):
        if not_base[i]:
            excluded[model] = "not a base model (instruct, chat or fine-tune)"
        elif is_moe[i]:
            excluded[model] = "mixture of experts"
        elif recipe_out[i]:
            excluded.setdefault(str(families[i]), f"data recipe {str(recipes_of[i]).strip().lower()}")
        else:
            keep.append(model)
    if allowed is None:
        note = "every recipe asked for"
    elif known:
        note = f"base models of families with recipe {', '.join(sorted(allowed))}"
    else:
        note = "the table has no recipe column, so code, mixture-of-experts, curated or fine-tuned families " \
               "cannot be told apart and every family is used"
    if base_only and "is_base" not in mf.columns:
        note += "; no base/instruct column: every model is used"
    return keep, excluded, note


def population_nc(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, families: Sequence[str] | None = None,
                  recipes: Sequence[str] | None = DEFAULT_RECIPES, base_only: bool = True, level: float = 0.95,
                  noise: str = "data", known: dict | None = None, measured: tuple | None = None) -> PopulationNc:
    """Between-family N_c of a population (see the module docstring).

    Args:
        table: a ScoreTable (model metadata decides membership) or a score frame.
        pair: ``(B1, B2)``.
        families: restrict to these families.
        recipes: data recipes in the population (None: all); base_only: leave out non-base models.
        level: CI level; noise: ``data`` or ``stated`` (as in :func:`cape.critical.critical_scale`).
        known: family -> ``(FamilyData, NcResult)`` of smooth fits already made at this ``level`` (the
            diagnosis passes its own): a family whose data here are identical reuses its fit instead of
            refitting (the result is the same; the sign-split check it carries is dropped).
        measured: ``(noise estimates, models)`` the diagnosis measured over exactly ``models``: used instead of
            measuring again when the members are those models (the same rows give the same estimate).

    Returns:
        :class:`PopulationNc`.
    """
    from .critical import SmoothFitVertex, families_data, with_measured_noise

    b1, b2 = resolve_pair(pair)
    frame = score_frame(table, (b1, b2))
    keep, excluded, note = membership(table, recipes=recipes, base_only=base_only)
    if keep is not None:
        frame = frame[frame.index.astype(str).isin(keep)]
    fams = [f for f in dict.fromkeys(frame["family"].dropna().astype(str))
            if families is None or f in set(families)]
    frame = frame[frame["family"].astype(str).isin(fams)]
    if noise == "data" and len(frame):
        if measured is not None and measured[1] == frozenset(frame.index.astype(str)):
            from .noise import apply_noise

            frame = apply_noise(frame, measured[0])
        else:
            frame = with_measured_noise(frame, (b1, b2), families=fams)
    est = SmoothFitVertex()
    results, flipping, ys, ses, none_, insuff = {}, [], [], [], [], []
    data = families_data(frame, (b1, b2), fams)  # split once
    for f in fams:
        fd = data[f]
        r = _reused_fit(known, fd, level)
        if r is None:
            r = est.estimate(fd, n_boot=0, level=level)
        results[f] = r
        if r.status in ("observed", "extrapolated") and r.ci_low and r.ci_high:
            flipping.append(f)
            ys.append(math.log10(r.estimate))
            q = r.details.get("critical_value") or 1.96
            ses.append(max((math.log10(r.ci_high) - math.log10(r.ci_low)) / (2 * q), 1e-3))
        elif r.status == "insufficient":
            insuff.append(f)
        else:
            none_.append(f)
    base = {"members": tuple(fams), "excluded": excluded, "membership": note, "flipping": tuple(flipping),
                "log10_nc": tuple(ys), "se": tuple(ses), "no_flip": tuple(none_), "insufficient": tuple(insuff), "level": level,
                "family_results": results}
    tail = _tail(none_, insuff)
    if not flipping:
        return PopulationNc(typical=None, typical_ci=(None, None), spread=None, spread_ci=(None, None), q=None,
                            q_df=0, q_p=None, i2=None, homogeneous=None, status="none",
                            message=f"no member family shows an established flip{tail}; population: {note}", **base)
    if len(flipping) == 1:
        r = results[flipping[0]]
        return PopulationNc(typical=r.estimate, typical_ci=(r.ci_low, r.ci_high), spread=None,
                            spread_ci=(None, None), q=None, q_df=0, q_p=None, i2=None, homogeneous=None,
                            status="single family",
                            message=f"one member family ({flipping[0]}) shows an established flip, "
                                    f"{r.summary()}: a population spread cannot be estimated from one family"
                                    f"{tail}; population: {note}", **base)
    return _random_effects(np.array(ys), np.array(ses), base, level, note, tail)


def _reused_fit(known: dict | None, fd, level: float):
    """The smooth fit of ``fd`` from ``known`` when it was made on identical data at the same level, as the
    estimator gives it without resampling (seed 0, no sign-split check); else None."""
    from dataclasses import replace

    hit = (known or {}).get(fd.family)
    if hit is None:
        return None
    kd, res = hit
    same = (kd.models == fd.models and np.array_equal(kd.params, fd.params) and np.array_equal(kd.scores, fd.scores)
            and np.array_equal(kd.se, fd.se) and (kd.b1, kd.b2) == (fd.b1, fd.b2))
    if not same or res.method != "fit" or res.level != level:
        return None
    return replace(res, seed=0, details={k: v for k, v in res.details.items() if k != "sign_split"})


def _tail(none_: list, insuff: list) -> str:
    out = ""
    if none_:
        out += f"; {len(none_)} member famil{'y' if len(none_) == 1 else 'ies'} without an established flip " \
               f"({', '.join(none_)}) are not in the estimate"
    if insuff:
        out += f"; {len(insuff)} with fewer than 4 sizes ({', '.join(insuff)})"
    return out


def _random_effects(y: np.ndarray, se: np.ndarray, base: dict, level: float, note: str, tail: str) -> PopulationNc:
    from scipy.special import chdtrc, stdtrit
    from statsmodels.stats.meta_analysis import combine_effects

    k = y.size
    v = se ** 2
    with np.errstate(invalid="ignore"):  # its random-effects sqrt of a negative tau^2: handled just below
        res = combine_effects(y, v, method_re="dl")
    # DerSimonian-Laird truncates tau^2 at 0; statsmodels returns the raw moment estimate, which is negative
    # when Q < k - 1, and weights by it. Truncated, the random-effects weights are the fixed-effect ones.
    re = float(res.tau2) > 0
    mu = float(res.mean_effect_re if re else res.mean_effect_fe)
    var_mu = float(res.var_hksj_re if re else res.var_hksj_fe)
    if not (math.isfinite(var_mu) and var_mu >= 0):  # rounding below 0 when the estimates agree exactly:
        var_w = float(res.var_eff_w_re if re else res.var_eff_w_fe)  # the plain variance of the mean instead
        var_mu = max(var_w, 0.0) if math.isfinite(var_w) else 0.0
    hw = float(stdtrit(k - 1, 0.5 + level / 2)) * math.sqrt(var_mu)
    q, df = float(res.q), k - 1
    p = float(chdtrc(df, q))
    tau = math.sqrt(max(float(res.tau2), 0.0))
    t_lo, t_hi = _q_profile(y, v, level)
    fmt = fmt_params
    homog = p >= 0.05
    msg = (f"typical N_c over the {k} member families with an established flip: {fmt(10 ** mu)} "
           f"[{fmt(10 ** (mu - hw))}, {fmt(10 ** (mu + hw))}] (random effects, Hartung-Knapp {100 * level:g}% CI); "
           f"spread between families {tau:.2g} decades [{t_lo:.2g}, {t_hi:.2g}]; homogeneity "
           f"{'not rejected' if homog else 'rejected'} (Q = {q:.1f} on {df} df, p = {p:.2g})"
           + ("" if homog else ": the families do not share one N_c") + f"{tail}; population: {note}")
    return PopulationNc(typical=10 ** mu, typical_ci=(10 ** (mu - hw), 10 ** (mu + hw)), spread=tau,
                        spread_ci=(t_lo, t_hi), q=q, q_df=df, q_p=p, i2=float(res.i2), homogeneous=homog,
                        status="estimated", message=msg, **base)


def _q_profile(y: np.ndarray, v: np.ndarray, level: float) -> tuple[float, float]:
    """Q-profile CI of tau (decades): the tau^2 where the generalised Q meets the chi-square quantiles."""
    from scipy.optimize import brentq
    from scipy.special import chdtri

    df = y.size - 1

    def qgen(t2: float) -> float:
        w = 1.0 / (v + t2)
        m = np.sum(w * y) / np.sum(w)
        return float(np.sum(w * (y - m) ** 2))

    hi_q = float(chdtri(df, (1 - level) / 2))  # upper quantile
    lo_q = float(chdtri(df, 1 - (1 - level) / 2))  # lower quantile
    big = 100.0 * (np.var(y) + v.max()) + 1.0

    def root(target: float) -> float:
        if qgen(0.0) <= target:
            return 0.0
        hi = big
        while qgen(hi) > target:  # Q falls like 1/tau^2: a bracket is always reached
            hi *= 10.0
        return brentq(lambda t: qgen(t) - target, 0.0, hi)

    return math.sqrt(root(hi_q)), math.sqrt(root(lo_q))
