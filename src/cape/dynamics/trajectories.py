"""Scaling trajectories: one family's models ordered by size, their state vectors, and derivatives.

A *trajectory* is a family's models sorted by parameter count ``N``; its *state* is the vector of benchmark
scores ``B = (B_1, ..., B_d)`` and the independent variable is ``x = log10 N``. Derivatives ``dB/dx`` come
from one of two strategies (:data:`DERIVATIVES`):

``secant`` (default)
    one sample per consecutive pair: ``dB/dx = (B_{k+1} - B_k) / (x_{k+1} - x_k)`` paired with the state at
    the interval midpoint ``(B_k + B_{k+1}) / 2``. The secant slope and the averaged state are both
    second-order accurate at the midpoint of the interval, whatever the spacing in ``log10 N``, so uneven
    spacing is handled exactly and no endpoint has to be extrapolated. A family of ``K`` models gives
    ``K - 1`` samples.
``finite_difference``
    pysindy's ``FiniteDifference(order=2)`` on the actual (uneven) ``x`` grid: centred three-point stencils
    inside, one-sided stencils at both ends. A family of ``K >= 3`` models gives ``K`` samples, but the two end
    derivatives are extrapolations, which matters with 3-8 points per family.

We pass the derivatives to ``pysindy.SINDy.fit(x, t, x_dot=...)`` ourselves, rather than letting pysindy
differentiate, because with 3-8 points per family the choice of stencil dominates the fit and must be
explicit.

Units (:class:`Units`): the regression runs in *fractions* (score / 100, the units of the paper's
equations) by default, or in *standardised* units (each benchmark centred and scaled by its mean and standard
deviation over the training models). Derivatives are per decade of ``N`` in the same units.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import catalog
from ..errors import AnalysisError, NotFoundError

#: Fewer points than this in a trajectory triggers a :class:`SparseTrajectoryWarning`.
MIN_POINTS_WARN = 4


class SparseTrajectoryWarning(UserWarning):
    """A trajectory has too few models for reliable derivatives (fewer than 4)."""


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One family's models sorted by parameter count.

    Attributes:
        family: family name.
        models: model names, smallest first.
        params: raw parameter counts, shape ``(K,)``.
        scores: benchmark scores in percent, shape ``(K, d)``, columns in ``benchmarks`` order.
        benchmarks: canonical benchmark names.
    """

    family: str
    models: tuple[str, ...]
    params: np.ndarray
    scores: np.ndarray
    benchmarks: tuple[str, ...]

    @property
    def x(self) -> np.ndarray:
        """``log10`` of the parameter counts."""
        return np.log10(self.params)

    @property
    def n_points(self) -> int:
        return len(self.models)

    def to_dict(self) -> dict:
        return {"family": self.family, "models": list(self.models), "params": self.params.tolist(),
                "benchmarks": list(self.benchmarks), "scores": self.scores.tolist()}


@dataclass(frozen=True)
class Dropped:
    """A family or model left out of a fit, and why."""

    family: str
    reason: str
    model: str | None = None

    def to_dict(self) -> dict:
        return {"family": self.family, "model": self.model, "reason": self.reason}


@dataclass(frozen=True, eq=False)
class Cohort:
    """Trajectories ready for fitting, with what was dropped and the warnings raised.

    Attributes:
        trajectories: the usable families (at least ``min_points`` complete models each).
        dropped: families and models left out, each with a one-line reason.
        warnings: human-readable warnings (trajectories with fewer than 4 points).
        benchmarks: canonical benchmark names (the state vector).
    """

    trajectories: tuple[Trajectory, ...]
    dropped: tuple[Dropped, ...]
    warnings: tuple[str, ...]
    benchmarks: tuple[str, ...]

    @property
    def families(self) -> list[str]:
        return [t.family for t in self.trajectories]

    def get(self, family: str) -> Trajectory:
        for t in self.trajectories:
            if t.family.lower() == family.lower():
                return t
        why = [d.reason for d in self.dropped if d.family.lower() == family.lower() and d.model is None]
        raise AnalysisError(f"family {family!r} is not usable for this fit"
                            + (f": {why[0]}" if why else f" (usable: {', '.join(self.families) or 'none'})"))


@dataclass(frozen=True, eq=False)
class Units:
    """How percent scores map to the regression state: ``state = (percent - center) / scale``.

    Attributes:
        name: ``"fraction"`` (center 0, scale 100) or ``"standardised"`` (per-benchmark mean and standard
            deviation over the training models).
        center: shape ``(d,)``, percent.
        scale: shape ``(d,)``, percent per state unit.
    """

    name: str
    center: np.ndarray
    scale: np.ndarray

    def to_state(self, percent: np.ndarray) -> np.ndarray:
        return (np.asarray(percent, dtype=float) - self.center) / self.scale

    def to_percent(self, state: np.ndarray) -> np.ndarray:
        return np.asarray(state, dtype=float) * self.scale + self.center

    def describe(self) -> str:
        if self.name == "fraction":
            return "fractions (score/100); derivatives per decade of N"
        return "standardised units ((score - mean)/sd over the training models); derivatives per decade of N"

    def to_dict(self) -> dict:
        return {"name": self.name, "center": self.center.tolist(), "scale": self.scale.tolist(),
                "description": self.describe()}


def make_units(name: str, trajectories: Sequence[Trajectory]) -> Units:
    """Build :class:`Units` ``"fraction"`` or ``"standardised"`` (statistics from ``trajectories``)."""
    d = len(trajectories[0].benchmarks)
    if name in ("fraction", "fractions"):
        return Units("fraction", np.zeros(d), np.full(d, 100.0))
    if name in ("standardised", "standardized", "standard", "z"):
        allp = np.vstack([t.scores for t in trajectories])
        sd = allp.std(axis=0)
        sd = np.where(sd > 1e-9, sd, 1.0)
        return Units("standardised", allp.mean(axis=0), sd)
    raise AnalysisError(f"units must be 'fraction' or 'standardised', not {name!r}")


# ---------------------------------------------------------------------------------------------- derivatives
@dataclass(frozen=True, eq=False)
class Samples:
    """Regression samples ``(state, dstate/dx)`` pooled over trajectories.

    Attributes:
        states: shape ``(n, d)`` in state units.
        derivs: shape ``(n, d)``, state units per decade.
        x: shape ``(n,)``, the ``log10 N`` each sample sits at.
        groups: shape ``(n,)``, index of the trajectory each sample came from.
        families: family name per trajectory index.
        lower, upper: for secant samples, indices (into the trajectory) of the interval's ends; else equal.
    """

    states: np.ndarray
    derivs: np.ndarray
    x: np.ndarray
    groups: np.ndarray
    families: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)

    def subset(self, mask: np.ndarray) -> Samples:
        m = np.asarray(mask, dtype=bool)
        return Samples(self.states[m], self.derivs[m], self.x[m], self.groups[m], self.families,
                       self.lower[m], self.upper[m])

    def split_by_group(self) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Per-trajectory lists ``(states, derivs, x)`` (for ``pysindy.SINDy.fit``)."""
        xs, ds, ts = [], [], []
        for g in np.unique(self.groups):
            m = self.groups == g
            xs.append(self.states[m])
            ds.append(self.derivs[m])
            ts.append(self.x[m])
        return xs, ds, ts


def _secant(state: np.ndarray, x: np.ndarray):
    dx = np.diff(x)
    return ((state[1:] + state[:-1]) / 2.0, np.diff(state, axis=0) / dx[:, None], (x[1:] + x[:-1]) / 2.0,
            np.arange(len(x) - 1), np.arange(1, len(x)))


def _finite_difference(state: np.ndarray, x: np.ndarray):
    if len(x) < 3:
        raise AnalysisError("the finite_difference derivative needs at least 3 models per family; "
                            "use derivative='secant'")
    from pysindy.differentiation import FiniteDifference

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dd = FiniteDifference(order=2, axis=0)(state, t=x)
    idx = np.arange(len(x))
    return state, np.asarray(dd, dtype=float), x.copy(), idx, idx


#: Derivative strategies: ``name -> f(state (K, d), x (K,)) -> (states, derivs, x, lower, upper)``.
DERIVATIVES: dict[str, Callable] = {"secant": _secant, "finite_difference": _finite_difference}


def make_samples(trajectories: Sequence[Trajectory], units: Units, derivative: str = "secant") -> Samples:
    """Pool derivative samples over ``trajectories`` (state units, per decade of N)."""
    if derivative not in DERIVATIVES:
        raise AnalysisError(f"derivative must be one of {', '.join(DERIVATIVES)}, not {derivative!r}")
    fn = DERIVATIVES[derivative]
    S, D, X, G, L, U = [], [], [], [], [], []
    for gi, t in enumerate(trajectories):
        if t.n_points < 2:
            continue
        s, d, x, lo, up = fn(units.to_state(t.scores), t.x)
        S.append(s); D.append(d); X.append(x); G.append(np.full(len(x), gi)); L.append(lo); U.append(up)  # noqa: E702
    if not S:
        raise AnalysisError("no family has two or more models to take a derivative from")
    return Samples(np.vstack(S), np.vstack(D), np.concatenate(X), np.concatenate(G),
                   tuple(t.family for t in trajectories), np.concatenate(L), np.concatenate(U))


# ---------------------------------------------------------------------------------------------- preparation
def resolve_benchmarks(benchmarks: Sequence[str] | str | None) -> tuple[str, ...]:
    """Canonical names for a list (or comma-separated string) of benchmarks; at least two, no repeats."""
    if benchmarks is None:
        benchmarks = catalog.BASE_FIVE
    if isinstance(benchmarks, str):
        benchmarks = [b for b in (s.strip() for s in benchmarks.split(",")) if b]
    bs = tuple(catalog.canonical(b, where="benchmarks") for b in benchmarks)
    if len(bs) < 2:
        raise AnalysisError(f"benchmarks {', '.join(bs) or '(none)'}: the state needs at least 2 benchmarks, got "
                            f"{len(bs)}")
    if len(set(bs)) != len(bs):
        raise AnalysisError(f"benchmark listed twice in {', '.join(bs)}")
    return bs


def short_names(benchmarks: Sequence[str]) -> list[str]:
    """Short symbols (HS, TQA, ...) for canonical benchmark names."""
    return [catalog.info(b).short for b in benchmarks]


def prepare(table, benchmarks: Sequence[str] | str | None = None, *,
            families: Sequence[str] | str | None = None, base_only: bool = True,
            min_points: int = 2, warn: bool = True) -> Cohort:
    """Turn a :class:`~cape.scores.ScoreTable` into trajectories over ``benchmarks``.

    Per family: models without a parameter count or missing one of the benchmarks are dropped (a family
    lacking a benchmark altogether is dropped as a whole), models repeating a parameter count already seen are
    dropped, and a family left with fewer than ``min_points`` models is dropped. Every drop is reported with
    its reason. A trajectory with fewer than 4 points raises a :class:`SparseTrajectoryWarning` (when ``warn``)
    and is listed in ``Cohort.warnings``.

    Args:
        table: the scores.
        benchmarks: the state vector (default the five base benchmarks); canonical names or aliases.
        families: families to use (default every family in the table).
        base_only: leave out instruct/chat models (``is_base`` false).
        min_points: fewest complete models a family needs to be kept.
        warn: emit Python warnings for short trajectories.

    Returns:
        A :class:`Cohort`.

    Raises:
        NotFoundError: a named family is not in the table.

    Example:
        >>> from cape.data import load_base
        >>> c = prepare(load_base(), "HS,TQA", families=["Pythia"])
        >>> c.trajectories[0].n_points
        8
    """
    bs = resolve_benchmarks(benchmarks)
    wide = table.wide(list(bs))
    mf = table.model_frame()
    trajs: list[Trajectory] = []
    dropped: list[Dropped] = []
    warns: list[str] = []
    for fam in _chosen_families(table, families):
        rows = _complete_rows(fam, wide[wide["family"] == fam], mf if base_only else None, bs, dropped)
        if rows is None:
            continue
        k = len(rows)
        if k < min_points:
            dropped.append(Dropped(fam, f"only {k} complete model{'s' if k != 1 else ''} "
                                        f"(need at least {min_points})"))
            continue
        trajs.append(Trajectory(fam, tuple(map(str, rows.index)), rows["params"].to_numpy(dtype=float),
                                rows[list(bs)].to_numpy(dtype=float), bs))
        if k < MIN_POINTS_WARN:
            msg = (f"{fam} has only {k} model{'s' if k != 1 else ''} with all of "
                   f"{', '.join(short_names(bs))}: derivatives from {max(k - 1, 0)} interval(s) are fragile")
            warns.append(msg)
    if warn:
        for w in warns:
            warnings.warn(w, SparseTrajectoryWarning, stacklevel=3)
    return Cohort(tuple(trajs), tuple(dropped), tuple(warns), bs)


def _chosen_families(table, families: Sequence[str] | str | None) -> list[str]:
    """The families to prepare in the table's spelling (every family when None).

    Raises:
        NotFoundError: a named family is not in the table (with close matches).
    """
    known = {f.lower(): f for f in table.families}
    if families is None:
        return sorted(known.values())
    if isinstance(families, str):
        families = [families]
    fams: list[str] = []
    for f in families:
        if f.lower() not in known:
            import difflib

            close = difflib.get_close_matches(f, list(known.values()), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known.values())}"
            raise NotFoundError(f"{table.name}: no family {f!r}{hint}")
        if known[f.lower()] not in fams:
            fams.append(known[f.lower()])
    return fams


def _complete_rows(fam: str, rows, mf, bs: tuple[str, ...], dropped: list[Dropped]):
    """A family's rows with every benchmark and a parameter count, one per size, sorted by size; each model
    left out is added to ``dropped`` with its reason (``mf``: the model frame when instruct/chat models are left
    out). None when the family has no base models or lacks a benchmark altogether."""
    if mf is not None and "is_base" in mf.columns:
        isb = mf.reindex(rows.index)["is_base"]
        inst = isb.notna() & (isb == False)  # noqa: E712
        for m in rows.index[inst.to_numpy(dtype=bool)]:
            dropped.append(Dropped(fam, "instruct/chat model (base models only)", m))
        rows = rows[~inst.to_numpy(dtype=bool)]
    if rows.empty:
        dropped.append(Dropped(fam, "no base models"))
        return None
    absent = [b for b in bs if rows[b].isna().all()]
    if absent:
        dropped.append(Dropped(fam, f"no {', '.join(catalog.info(b).short for b in absent)} scores"))
        return None
    for m, r in rows.iterrows():
        miss = [catalog.info(b).short for b in bs if not np.isfinite(r[b])]
        if miss:
            dropped.append(Dropped(fam, f"lacks {', '.join(miss)}", m))
    rows = rows.dropna(subset=list(bs))
    nop = rows["params"].isna()
    for m in rows.index[nop.to_numpy(dtype=bool)]:
        dropped.append(Dropped(fam, "no parameter count", m))
    rows = rows[~nop.to_numpy(dtype=bool)].sort_values("params", kind="stable")
    dup = rows["params"].duplicated(keep="first")
    for m in rows.index[dup.to_numpy(dtype=bool)]:
        first = rows.index[(rows["params"] == rows.loc[m, "params"]).to_numpy()][0]
        dropped.append(Dropped(fam, f"same parameter count as {first}", m))
    return rows[~dup.to_numpy(dtype=bool)]


def interval_gamma(samples: Samples, trajectories: Sequence[Trajectory], i1: int, i2: int,
                   min_delta: float = 0.5) -> np.ndarray:
    """Local coupling ``gamma = dB_i2 / dB_i1`` of each secant sample (NaN where ``|dB_i1| <= min_delta`` pp).

    Computed from the percent scores at the interval's two ends (docs/methods.md, "Local coupling").
    """
    out = np.full(samples.n, np.nan)
    for j in range(samples.n):
        t = trajectories[samples.groups[j]]
        lo, up = samples.lower[j], samples.upper[j]
        d1 = t.scores[up, i1] - t.scores[lo, i1]
        d2 = t.scores[up, i2] - t.scores[lo, i2]
        if abs(d1) > min_delta:
            out[j] = d2 / d1
    return out


def phase_label(gamma: float, band: float = 0.1) -> str:
    """``tax`` (gamma < -band), ``transition`` (|gamma| <= band), ``bonus`` (gamma > band), or
    ``undetermined`` for NaN (docs/methods.md, "Phases")."""
    if gamma is None or not np.isfinite(gamma):
        return "undetermined"
    if gamma < -band:
        return "tax"
    if gamma > band:
        return "bonus"
    return "transition"


__all__ = ["Trajectory", "Dropped", "Cohort", "Units", "Samples", "DERIVATIVES", "SparseTrajectoryWarning",
           "prepare", "make_units", "make_samples", "resolve_benchmarks", "short_names", "interval_gamma",
           "phase_label"]
