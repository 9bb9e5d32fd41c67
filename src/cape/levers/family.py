"""One family (or a few models) read against a reference trend: "Phi at 1B couples like web-trained models at X".

The lever model needs at least three families a side; a single family's claim can still be *described*: fit the
coupling trend ``y = a + g0 log10 N`` on the reference families (``recipe == "web"`` by default), take the
target's mean offset from that line, ``d = mean(y_t - a - g0 x_t)``, and read it as a change of scale,
``N_equiv = at * 10**(d / g0)``. The CI resamples the reference families (the uncertainty of the reference
line); the target's own noise is not resampled, so the interval is narrower than a between-family comparison
would be, and the result is descriptive, not a test of the lever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._stats import percentile_ci
from ..coupling import DEFAULT_PAIR, MIN_DELTA, resolve_pair
from ..errors import AnalysisError, DataError
from . import fit
from .attributes import builtin_levers, family_values, model_attributes
from .observations import observations
from .results import _f, fmt_size


@dataclass(frozen=True)
class FamilyReading:
    """A family's coupling offset from the reference trend, read as an equivalent scale.

    Attributes:
        target: the family (or models) read; measure: ``gamma`` or ``residual``.
        reference: the reference recipe; n_reference: reference families behind the line.
        offset: mean offset from the reference line (measure units) with CI ``offset_ci``.
        equivalent_params: reference-trained size that couples like the target at ``at`` (CI ends None when
            unbounded); nc_factor: ``10**(-offset / g0)``.
        status: ``observed`` / ``extrapolated`` / ``undetermined``; sentence: the reading in words.
    """

    target: str
    measure: str
    reference: str
    n_reference: int
    n_target_obs: int
    offset: float | None
    offset_ci: tuple[float | None, float | None]
    at: float
    equivalent_params: float | None
    ci_low: float | None
    ci_high: float | None
    nc_factor: float | None
    status: str
    sentence: str

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["offset_ci"] = [_f(v) for v in self.offset_ci]
        return {k: (_f(v) if isinstance(v, float) else v) for k, v in d.items()}


def family_equivalent_scale(table, family: str, *, models: Sequence[str] | None = None, reference: str = "web",
                            measure: str = "gamma", pair=DEFAULT_PAIR, at: float = 1e9, n_boot: int = 2000,
                            seed: int = 0, level: float = 0.95, min_delta: float = MIN_DELTA) -> FamilyReading:
    """Read one family against the reference families' coupling trend.

    Args:
        table: a ScoreTable with a ``recipe`` attribute.
        family: the family to read; models: only these of its models (``residual`` only; instruct models are
            then allowed, e.g. a single instruct release).
        reference: the recipe of the reference families.
        measure: ``gamma`` or ``residual``; at: the size of the reading (parameters).

    Raises:
        DataError: bad arguments; AnalysisError: no reference line or no target observation.
    """
    b1, b2 = resolve_pair(pair)
    if models is not None and measure != "residual":
        raise DataError("models=... reads single models, which only the residual measure can do")
    attrs = model_attributes(table)
    if models is not None:
        attrs = attrs.copy()
        sel = attrs.index.isin(list(models))
        attrs.loc[sel, "model_type"] = "pretrained"
    obs = observations(table, attrs, (b1, b2), measure, min_delta=min_delta)
    rec = family_values(builtin_levers(attrs)[0], attrs["family"].astype(str)).values
    ref = [f for f in obs.families if rec.get(f) == reference and f != family]
    if len(ref) < 3:
        raise AnalysisError(f"{len(ref)} reference ({reference}) families with {measure} observations; at least 3 "
                            "are needed for a reference line")
    if family not in obs.families:
        raise AnalysisError(f"family {family!r} has no {measure} observation (gamma needs two pretrained sizes)")
    t = np.flatnonzero(obs.fam_idx == obs.families.index(family))
    if models is not None:
        keep = set(models)
        names = _obs_models(table, attrs, (b1, b2), family)
        t = np.array([i for i, m in zip(t, names) if m in keep], dtype=int)
        if t.size == 0:
            raise AnalysisError(f"none of {', '.join(models)} has a {measure} observation in family {family!r}")
    F = len(obs.families)
    mask = np.array([f in ref for f in obs.families], dtype=float)
    mom = fit.moments(obs.fam_idx, obs.X0, obs.y, obs.w, F)
    rng = np.random.default_rng(seed)
    C = fit.stratified_counts(np.where(mask > 0, 0, np.arange(1, F + 1)), n_boot, rng) * mask[None, :]
    coef = fit.solve(mom, np.vstack([mask[None, :], C]), np.zeros((F, 0)))
    Xt, yt, wt = obs.X0[t], obs.y[t], obs.w[t]
    offs = ((yt[None, :] - coef @ Xt.T) * wt[None, :]).sum(1) / wt.sum()
    g0 = coef[:, obs.slope_col]
    d, g = float(offs[0]), float(g0[0])
    olo, ohi = percentile_ci(offs[1:], level)
    label = f"{family}" + (f" ({', '.join(models)})" if models else "")
    a = (1 - level) / 2
    share = float(np.mean(np.sign(g0[1:]) == np.sign(g))) if g else 0.0
    if not (math.isfinite(g) and g != 0) or share < 1 - a:
        return FamilyReading(label, measure, reference, len(ref), int(t.size), d, (_f(olo), _f(ohi)), at, None, None,
                             None, None, "undetermined",
                             f"{label}: offset {d:+.3g} from the {reference} line, but the {reference} trend with size "
                             "is not resolved (its CI includes zero): no equivalent scale")
    ratio = offs / g0
    lo, hi = percentile_ci(ratio[1:], level)
    eq = at * 10 ** (d / g)
    sizes = [v for f in ref for v in obs.size_range[f]]
    status = "observed" if min(sizes) <= eq <= max(sizes) else "extrapolated"
    sent = (f"{label} at {fmt_size(at)} couples like {reference}-trained models at {fmt_size(eq)} "
            f"[{fmt_size(at * 10 ** lo)}, {fmt_size(at * 10 ** hi)}] ({len(ref)} {reference} families; "
            f"descriptive: one family, reference line resampled)")
    return FamilyReading(label, measure, reference, len(ref), int(t.size), d, (_f(olo), _f(ohi)), at, eq,
                         at * 10 ** lo, at * 10 ** hi, 10 ** (-d / g), status, sent)


def _obs_models(table, attrs, pair: tuple[str, str], family: str) -> list[str]:
    """Model names of a family's residual observations, in the order :func:`observations` builds them."""
    from .observations import trajectory_frame

    wide = trajectory_frame(table, attrs, pair)
    g = wide[wide["family"].astype(str) == family].sort_values("params", kind="stable")
    return [str(m) for m in g.index]
