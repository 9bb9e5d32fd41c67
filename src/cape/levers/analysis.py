"""What moves coupling at matched scale: one model per lever, a family permutation test and its inverted CI.

For each lever the coupling measure (:mod:`cape.levers.observations`) is fitted as
``y = a + g0 log10 N + beta L_f`` (weighted least squares), ``L_f`` the family's lever value (dummies of a
categorical lever's levels against its reference, or a continuous value). Families are the units:

* p: the lever's values shuffled across families (not models), refitted each time; two-sided.
* CI: every effect ``beta0`` that the same shuffle test does not reject for ``y - beta0 L``
  (:func:`cape.levers.fit.inverted_ci`), so it excludes 0 exactly when p < 1 - level.
* ``ci_boot``: percentile interval over family resamples, families drawn with replacement *within each level*
  (every replicate keeps each level's number of families); it also gives the equivalent-scale CI.
* identifiable only with at least ``min_families`` (default 3) families on each side; otherwise the lever is
  reported as "not identifiable from these data" with no estimate.
* the equivalent-scale reading ``10**(beta / g0)`` (see :class:`~cape.levers.results.EquivalentScale`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._stats import percentile_ci
from .._validate import check_int, check_level, check_n_boot, check_nonnegative, check_seed
from ..coupling import DEFAULT_PAIR, MIN_DELTA, resolve_pair
from ..errors import DataError
from . import fit
from .attributes import (
    FamilyValues,
    LeverSpec,
    builtin_levers,
    family_values,
    lineage_of,
    model_attributes,
    user_levers,
)
from .observations import Observations, observations
from .pairs import paired_effect
from .results import EquivalentScale, LeverEffect, LeverReport, _f, fmt_size

COLLINEAR_R = 0.8


def _check_args(n_boot, n_perm, level, alpha, min_families, at, seed, min_delta) -> None:
    check_n_boot(n_boot, "n_boot", minimum=100)
    check_n_boot(n_perm, "n_perm", minimum=100)
    if check_level(level) < 0.5:
        raise DataError(f"level must be at least 0.5, got {level!r}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 0.5):
        raise DataError(f"alpha must be a number in (0, 0.5), got {alpha!r}")
    check_int(min_families, "min_families", minimum=2)
    check_seed(seed, allow_none=False)
    check_nonnegative(min_delta, "min_delta")
    if not (isinstance(at, (int, float)) and math.isfinite(at) and 1e5 <= at <= 1e14):
        raise DataError(f"at must be a parameter count between 1e5 and 1e14, got {at!r}")


def lever_effects(table, levers: Sequence[str] | None = None, *, attributes: pd.DataFrame | None = None,
                  pair: Sequence[str] | str = DEFAULT_PAIR, measure: str = "gamma", at: float = 1e9,
                  n_boot: int = 2000, n_perm: int = 2000, seed: int = 0, level: float = 0.95, alpha: float = 0.05,
                  min_families: int = 3, min_delta: float = MIN_DELTA,
                  architectures: pd.DataFrame | None = None) -> LeverReport:
    """Estimate each lever's effect on coupling at matched scale.

    Args:
        table: a :class:`~cape.scores.ScoreTable` with the pair's scores, sizes and families.
        levers: lever names to estimate (default: the built-in levers, ``generation``, ``post_training`` and
            every extra attribute column of ``attributes``).
        attributes: per-model attributes (a ``model`` column): recipe, architecture facts, ``base_model``,
            ``lineage``/``generation`` or any column to try as a lever.
        pair: ``(B1, B2)``; gamma = dB2/dB1.
        measure: ``gamma`` (default) or ``residual`` (see :mod:`cape.levers.observations`).
        at: size for the equivalent-scale reading (parameters; default 1e9).
        n_boot, n_perm: family bootstrap replicates and label shuffles.
        seed: seed of the ``numpy.random.Generator``; level: CI level; alpha: significance level.
        min_families: families needed on each side for an estimate.
        min_delta: steps with ``|dB1|`` at or below this many points are skipped (gamma only).
        architectures: architecture facts replacing the embedded tables.

    Returns:
        :class:`~cape.levers.results.LeverReport`.

    Raises:
        DataError: bad arguments or an unknown lever; AnalysisError: no usable observations.

    Example:
        >>> from cape import data
        >>> rep = lever_effects(data.load_base(), ["gqa"], measure="residual", n_boot=200, n_perm=200)
        >>> e = rep.get("gqa", "yes")
        >>> e.n_families, e.identifiable
        ({'no': 10, 'yes': 6}, True)
    """
    _check_args(n_boot, n_perm, level, alpha, min_families, at, seed, min_delta)
    b1, b2 = resolve_pair(pair)
    attrs = model_attributes(table, attributes, architectures=architectures)
    obs = observations(table, attrs, (b1, b2), measure, min_delta=min_delta)
    specs = {s.name: s for s in builtin_levers(attrs)}
    if attributes is not None:
        for s in user_levers(attrs, [c for c in (levers or []) if c not in specs and c not in _SPECIAL] or None):
            specs.setdefault(s.name, s)
    names = list(levers) if levers else [*specs, *_SPECIAL]
    for n in names:
        if n not in specs and n not in _SPECIAL:
            raise DataError(f"unknown lever {n!r}; available: {', '.join([*specs, *_SPECIAL])}")
    rng = np.random.default_rng(seed)
    ctx = _Ctx(obs, attrs, n_boot, n_perm, level, alpha, min_families, at, rng, (b1, b2))
    base = ctx.base_fit()
    fam = attrs["family"].astype(str)
    fv = {n: family_values(specs[n], fam) for n in names if n in specs}
    out: list[LeverEffect] = []
    for n in names:
        if n == "generation":
            out.append(_generation(ctx, attrs))
        elif n == "post_training":
            out.append(paired_effect(table, attrs, (b1, b2), n_boot=n_boot, n_perm=n_perm, level=level,
                                     alpha=alpha, min_families=min_families, rng=rng))
        else:
            out.extend(_lever(ctx, specs[n], fv[n]))
    coll = _collinearity(obs, fv)
    out = [_with_collinear(e, coll) for e in out]
    msgs = [(f"{measure}: {len(obs.y)} observations from {obs.n_models} pretrained models in "
             f"{len(obs.families)} families")]
    return LeverReport(tuple(out), measure, (b1, b2), base[0], base[1], len(obs.families), obs.n_models,
                       tuple(coll), {"seed": seed, "n_boot": n_boot, "n_perm": n_perm, "level": level,
                                     "alpha": alpha, "min_families": min_families, "at": at,
                                     "min_delta": min_delta}, tuple(msgs))


_SPECIAL = ("generation", "post_training")


class _Ctx:
    """Shared state of one analysis: observations, moments, settings, the random stream."""

    def __init__(self, obs: Observations, attrs, n_boot, n_perm, level, alpha, min_families, at, rng, pair):
        self.obs, self.attrs = obs, attrs
        self.n_boot, self.n_perm, self.level, self.alpha = int(n_boot), int(n_perm), level, alpha
        self.min_families, self.at, self.rng, self.pair = int(min_families), float(at), rng, pair
        self.mom = fit.moments(obs.fam_idx, obs.X0, obs.y, obs.w, len(obs.families))

    def base_fit(self) -> tuple[float | None, tuple[float | None, float | None]]:
        """The scale slope g0 without lever, with its family-bootstrap CI."""
        F = len(self.obs.families)
        E = np.zeros((F, 0))
        est = fit.solve(self.mom, np.ones((1, F)), E)[0, self.obs.slope_col]
        C = fit.stratified_counts(np.zeros(F, dtype=int), self.n_boot, self.rng)
        bs = fit.solve(self.mom, C, E)[:, self.obs.slope_col]
        lo, hi = percentile_ci(bs, self.level)
        return _f(est), (_f(lo), _f(hi))

    def run(self, E: np.ndarray, strata: np.ndarray, blocks: np.ndarray, counts: np.ndarray | None = None):
        """Point fit, bootstrap and permutation replicates of the model with lever encoding ``E``."""
        F = E.shape[0]
        est = fit.solve(self.mom, np.ones((1, F)), E)[0]
        C = counts if counts is not None else fit.stratified_counts(strata, self.n_boot, self.rng)
        boot = fit.solve(self.mom, C, E)
        perm = fit.block_permutations(blocks, self.n_perm, self.rng)
        null = fit.solve(self.mom, np.ones((self.n_perm, F)), E[perm])
        return est, boot, null

    def labs(self, fams: Sequence[str]) -> int:
        a = self.attrs
        return int(a.loc[a["family"].astype(str).isin(list(fams)), "lab"].dropna().astype(str).nunique())


def _equivalent(ctx: _Ctx, beta: float, g0: float, bb: np.ndarray, gb: np.ndarray, ref_fams: Sequence[str],
                what: str, ref_label: str) -> EquivalentScale:
    """The equivalent-scale reading of an effect ``beta`` given the scale slope ``g0`` (with replicates)."""
    at = ctx.at
    a = (1 - ctx.level) / 2
    sign = np.sign(g0) if g0 else 0.0
    share = float(np.mean(np.sign(gb[np.isfinite(gb)]) == sign)) if np.isfinite(gb).any() else 0.0
    if not (math.isfinite(beta) and math.isfinite(g0) and g0 != 0) or share < 1 - a:
        return EquivalentScale(at, None, None, None, None, (None, None), "undetermined",
                               f"no equivalent scale: the coupling's trend with size is not resolved (its CI "
                               f"includes zero), so {what} cannot be read as a change of scale")
    ratio = beta / g0
    rb = bb / gb
    lo, hi = percentile_ci(rb[np.isfinite(rb)], ctx.level)
    eq, elo, ehi = at * 10 ** ratio, at * 10 ** lo, at * 10 ** hi
    F, Flo, Fhi = 10 ** -ratio, 10 ** -hi, 10 ** -lo
    sizes = [v for f in ref_fams for v in ctx.obs.size_range.get(f, ())]
    inside = bool(sizes) and min(sizes) <= eq <= max(sizes)
    status = "observed" if inside else "extrapolated"
    sent = (f"with {what}, a {fmt_size(at)} model couples like {ref_label} at {fmt_size(eq)} "
            f"[{fmt_size(elo)}, {fmt_size(ehi)}]; N_c shifts by a factor {F:.3g} [{Flo:.3g}, {Fhi:.3g}]"
            + ("" if inside else " (outside the reference models' size range: extrapolated)"))
    return EquivalentScale(at, eq, elo, ehi, F, (Flo, Fhi), status, sent)


def _verdict(ctx: _Ctx, p: float) -> str:
    return "significant" if p < ctx.alpha else f"not significant at alpha = {ctx.alpha:g}"


def _lever(ctx: _Ctx, spec: LeverSpec, fv: FamilyValues) -> list[LeverEffect]:
    if spec.kind == "continuous":
        return [_continuous(ctx, spec, fv)]
    return _categorical(ctx, spec, fv)


def _not_identifiable(spec_name: str, kind: str, levels, nf, fams, why: str, unit: str = "", mixed=(),
                      labs=None) -> LeverEffect:
    return LeverEffect(spec_name, kind, tuple(levels), None, None, None, None, nf, fams, False, None, None,
                       f"{spec_name}: not identifiable from these data ({why})", unit, labs or {}, (), tuple(mixed))


def _categorical(ctx: _Ctx, spec: LeverSpec, fv: FamilyValues) -> list[LeverEffect]:
    obs = ctx.obs
    vals = {f: fv.values.get(f) for f in obs.families}
    present = sorted({v for v in vals.values() if v is not None})
    ref = spec.reference if spec.reference in present else (
        max(present, key=lambda lv: (sum(v == lv for v in vals.values()), lv)) if present else spec.reference)
    by = {lv: [f for f in obs.families if vals[f] == lv] for lv in present}
    nf = {lv: len(fs) for lv, fs in by.items()}
    labs = {lv: ctx.labs(fs) for lv, fs in by.items()}
    others = [lv for lv in present if lv != ref]
    if not others:
        only = f"every family has {spec.name} = {ref}" if present else f"no family has a {spec.name} value"
        return [_not_identifiable(spec.name, "categorical", [ref] if present else [], nf, by,
                                  f"{only}; nothing to compare", mixed=fv.mixed, labs=labs)]
    keep = np.array([vals[f] is not None for f in obs.families])
    strata = np.array([present.index(vals[f]) if vals[f] is not None else -1 for f in obs.families])
    E = np.array([[1.0 if vals[f] == lv else 0.0 for lv in others] for f in obs.families])
    res = None
    out = []
    for j, lv in enumerate(others):
        levels = (ref, lv)
        nfp = {ref: nf[ref], lv: nf[lv]}
        fams = {ref: by[ref], lv: by[lv]}
        if min(nfp.values()) < ctx.min_families:
            small = [f"{k} has {v} famil{'y' if v == 1 else 'ies'}" + (f" ({', '.join(fams[k])})" if v else "")
                     for k, v in nfp.items() if v < ctx.min_families]
            out.append(_not_identifiable(spec.name, "categorical", levels, nfp, fams,
                                         "; ".join(small) + f"; at least {ctx.min_families} per side needed",
                                         mixed=fv.mixed, labs={k: labs[k] for k in levels}))
            continue
        if res is None:
            res = _run_subset(ctx, E, strata, keep)
        est, boot, null, shuf = res
        k = obs.X0.shape[1] + j
        out.append(_effect(ctx, spec.name, "categorical", levels, est, boot, (null, shuf), k, nfp, fams, fv.mixed,
                           {kk: labs[kk] for kk in levels}, f"{spec.name} = {lv}", f"{spec.name} = {ref} models", "",
                           by[ref]))
    return out


def _run_subset(ctx: _Ctx, E: np.ndarray, strata: np.ndarray, keep: np.ndarray):
    """Fit with families lacking a lever value given zero weight (their counts are zero in every replicate)."""
    F = E.shape[0]
    Ek = np.where(keep[:, None], E, 0.0)
    C = fit.stratified_counts(np.where(keep, strata, -1), ctx.n_boot, ctx.rng) * keep[None, :]
    blocks = np.where(keep, 0, np.arange(1, F + 1))
    est = fit.solve(ctx.mom, keep[None, :].astype(float), Ek)[0]
    boot = fit.solve(ctx.mom, C, Ek)
    perm = fit.block_permutations(blocks, ctx.n_perm, ctx.rng)
    Cp = np.broadcast_to(keep[None, :].astype(float), (ctx.n_perm, F))
    null = fit.solve(ctx.mom, Cp, Ek[perm])
    return est, boot, null, (Ek, perm, Cp)


def _effect(ctx, name, kind, levels, est, boot, shuffled, k, nf, fams, mixed, labs, what, ref_label, unit,
            ref_fams) -> LeverEffect:
    null, (E, perm, Cp) = shuffled
    beta = float(est[k])
    p = float(fit.permutation_p(np.array([beta]), null[:, [k]])[0])
    blo, bhi = percentile_ci(boot[:, k], ctx.level)
    j = k - ctx.obs.X0.shape[1]
    b = fit.solve(fit.lever_as_outcome(ctx.mom, E[:, j]), Cp, E[perm])[:, k]
    se = float(np.nanstd(boot[:, k]))
    lo, hi = fit.inverted_ci(beta, null[:, k], b, ctx.level, 8.0 * se if se > 0 else abs(beta) + 1.0)
    lo = -math.inf if lo is None else lo
    hi = math.inf if hi is None else hi
    sc = ctx.obs.slope_col
    eq = _equivalent(ctx, beta, float(est[sc]), boot[:, k], boot[:, sc], ref_fams, what, ref_label)
    meas = "gamma" if ctx.obs.measure == "gamma" else f"{ctx.pair[1]} points at matched {ctx.pair[0]}"
    side = f"{' vs '.join(f'{v} {k_}' for k_, v in nf.items())} families"
    msg = (f"{what}: {beta:+.3g} {meas} [{lo:+.3g}, {hi:+.3g}], p = {p:.3g} ({side}); {_verdict(ctx, p)}")
    thin = [lv for lv, n in labs.items() if 0 < n < ctx.min_families]
    if thin:
        msg += (f"; the {' and '.join(thin)} families come from fewer than {ctx.min_families} labs, so the lever "
                "is confounded with lab")
    return LeverEffect(name, kind, tuple(levels), beta, _f(lo), _f(hi), p, dict(nf), fams, True, p < ctx.alpha,
                       eq, msg, unit, labs, (), tuple(mixed), len(ctx.obs.y), (_f(blo), _f(bhi)))


def _continuous(ctx: _Ctx, spec: LeverSpec, fv: FamilyValues) -> LeverEffect:
    obs = ctx.obs
    vals = np.array([fv.values.get(f, np.nan) for f in obs.families], dtype=float)
    keep = np.isfinite(vals)
    fams_k = [f for f, k in zip(obs.families, keep) if k]
    med = float(np.median(vals[keep])) if keep.any() else math.nan
    low = [f for f in fams_k if fv.values[f] <= med]
    high = [f for f in fams_k if fv.values[f] > med]
    nf = {"low": len(low), "high": len(high)}
    fams = {"low": low, "high": high}
    if min(nf.values()) < ctx.min_families:
        return _not_identifiable(spec.name, "continuous", ("low", "high"), nf, fams,
                                 f"{keep.sum()} families with a value; at least {ctx.min_families} on each side of "
                                 "the median needed", spec.unit)
    E = np.where(keep, vals - np.nanmean(vals), 0.0)[:, None]
    est, boot, null, shuf = _run_subset(ctx, E, np.zeros(len(vals), dtype=int), keep)
    k = obs.X0.shape[1]
    return _effect(ctx, spec.name, "continuous", ("low", "high"), est, boot, (null, shuf), k, nf, fams, (),
                   {"low": ctx.labs(low), "high": ctx.labs(high)}, f"{spec.unit}", "a model without it", spec.unit,
                   fams_k)


def _generation(ctx: _Ctx, attrs: pd.DataFrame) -> LeverEffect:
    """Later vs earlier generations within a lineage (Llama-1 -> 2 -> 3), lineage intercepts held fixed; the
    bootstrap draws whole lineages, the permutation shuffles generation order within each lineage."""
    obs = ctx.obs
    lin, gen = {}, {}
    fa = attrs.groupby(attrs["family"].astype(str))
    for f in obs.families:
        g = fa.get_group(f) if f in fa.groups else None
        li, ge = lineage_of(f)
        if g is not None and "lineage" in g.columns and g["lineage"].notna().any():
            li = str(g["lineage"].dropna().iloc[0]).strip().lower()
        if g is not None and "generation" in g.columns and pd.to_numeric(g["generation"], errors="coerce").notna().any():
            ge = float(pd.to_numeric(g["generation"], errors="coerce").dropna().iloc[0])
        if ge is not None:
            lin[f], gen[f] = li, ge
    lineages = {}
    for f, li in lin.items():
        lineages.setdefault(li, []).append(f)
    lineages = {li: sorted(fs, key=lambda f: gen[f]) for li, fs in lineages.items()
                if len({gen[f] for f in fs}) >= 2}
    used = [f for fs in lineages.values() for f in fs]
    nf = {"lineages": len(lineages), "families": len(used)}
    fams = {li: fs for li, fs in sorted(lineages.items())}
    if len(lineages) < ctx.min_families:
        return _not_identifiable("generation", "generation", ("earlier", "later"), nf, fams,
                                 f"{len(lineages)} lineage(s) with two or more generations "
                                 f"({', '.join(' -> '.join(fs) for fs in lineages.values()) or 'none'}); at least "
                                 f"{ctx.min_families} needed", "one generation later in the lineage")
    names = sorted(lineages)
    F = len(obs.families)
    keep = np.array([f in used for f in obs.families])
    E = np.zeros((F, len(names)))
    for i, f in enumerate(obs.families):
        if f in used:
            li = lin[f]
            fs = lineages[li]
            rank = fs.index(f)
            E[i, -1] = rank - (len(fs) - 1) / 2.0
            j = names.index(li)
            if j > 0:
                E[i, j - 1] = 1.0
    blocks = np.array([names.index(lin[f]) if f in used else len(names) + i for i, f in enumerate(obs.families)])
    li_draw = ctx.rng.integers(0, len(names), size=(ctx.n_boot, len(names)))
    lcount = np.zeros((ctx.n_boot, len(names)))
    np.add.at(lcount, (np.arange(ctx.n_boot)[:, None].repeat(len(names), 1), li_draw), 1)
    C = np.zeros((ctx.n_boot, F))
    for i, f in enumerate(obs.families):
        if f in used:
            C[:, i] = lcount[:, names.index(lin[f])]
    est = fit.solve(ctx.mom, keep[None, :].astype(float), E)[0]
    boot = fit.solve(ctx.mom, C, E)
    perm = fit.block_permutations(blocks, ctx.n_perm, ctx.rng)
    Cp = np.broadcast_to(keep[None, :].astype(float), (ctx.n_perm, F))
    null = fit.solve(ctx.mom, Cp, E[perm])
    k = obs.X0.shape[1] + E.shape[1] - 1
    labs = {"lineages": len(names)}
    return _effect(ctx, "generation", "generation", ("earlier", "later"), est, boot, (null, (E, perm, Cp)), k, nf,
                   fams, (), labs,
                   "one generation later", "the previous generation's models", "one generation later in the lineage", used)


def _collinearity(obs: Observations, fv: dict[str, FamilyValues]) -> list[dict]:
    """Pairs of levers (and scale) whose family values correlate with |r| >= 0.8."""
    cols = {}
    fams = obs.families
    xs = np.array([np.mean(obs.size_range[f]) for f in fams])
    cols["scale"] = np.log10(xs)
    for n, v in fv.items():
        raw = [v.values.get(f) for f in fams]
        if all(r is None for r in raw):
            continue
        if any(isinstance(r, str) for r in raw):
            levels = sorted({r for r in raw if r is not None})
            if len(levels) < 2:
                continue
            counts = {lv: sum(r == lv for r in raw) for lv in levels}
            ref = max(levels, key=lambda lv: counts[lv])
            cols[n] = np.array([np.nan if r is None else float(r != ref) for r in raw])
        else:
            cols[n] = np.array([np.nan if r is None else float(r) for r in raw])
    out = []
    names = list(cols)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = cols[a], cols[b]
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 4 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
                continue
            r = float(np.corrcoef(x[ok], y[ok])[0, 1])
            if abs(r) >= COLLINEAR_R:
                out.append({"levers": [a, b], "r": r, "n_families": int(ok.sum())})
    return out


def _with_collinear(e: LeverEffect, coll: list[dict]) -> LeverEffect:
    partners = tuple(sorted({c for d in coll if e.lever in d["levers"] for c in d["levers"] if c != e.lever}))
    if not partners:
        return e
    from dataclasses import replace

    msg = e.message + f"; collinear with {', '.join(partners)} in these families (effects cannot be separated)"
    return replace(e, collinear_with=partners, message=msg)
