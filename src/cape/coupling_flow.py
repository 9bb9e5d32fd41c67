"""Cohort views of the coupling: the coupling matrix over every benchmark pair, the running law of gamma with
scale and its fixed point, the isocline phase rule, and capability redistribution per interval.

They build on the within-family steps of :mod:`cape.coupling` (``gamma_steps``, ``family_arrays``,
``score_frame``) and are re-exported there, so ``from cape.coupling import coupling_matrix`` keeps working.

Example:
    >>> from cape import data
    >>> from cape.coupling_flow import running_law
    >>> law = running_law(data.fixture_table("pythia8", family="Pythia"))
    >>> law.n > 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import catalog
from ._format import fields_dict, finite_or_none as _f
from ._validate import check_nonnegative
from ._validate import check_pair as resolve_pair
from .coupling import DEFAULT_PAIR, MIN_DELTA, family_arrays, gamma_steps, score_frame
from .errors import AnalysisError, DataError


# ---------------------------------------------------------------------------------------------- coupling matrix
@dataclass(frozen=True)
class CouplingMatrix:
    """Within-family local coupling for every ordered benchmark pair.

    ``gamma[i][j]`` aggregates ``dB_j / dB_i`` over all consecutive within-family steps with
    ``|dB_i| > min_delta`` (median by default; the dashboard used the mean). ``n_steps[i][j]`` counts them,
    ``frac_positive[i][j]`` is the share of positive steps. ``corr`` is the population Pearson matrix over
    models with every benchmark, with its eigenvalues (a symmetric solver, ``min_eig < 0`` never happens for
    a complete matrix).
    """

    benchmarks: tuple[str, ...]
    agg: str
    gamma: tuple[tuple[float | None, ...], ...]
    n_steps: tuple[tuple[int, ...], ...]
    frac_positive: tuple[tuple[float | None, ...], ...]
    competing: tuple[tuple[str, str], ...]
    cooperating: tuple[tuple[str, str], ...]
    corr: tuple[tuple[float | None, ...], ...]
    corr_eigenvalues: tuple[float, ...]
    n_models_corr: int

    def to_dict(self) -> dict:
        d = fields_dict(self)
        d["competing"] = [list(p) for p in self.competing]
        d["cooperating"] = [list(p) for p in self.cooperating]
        return d

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.gamma, index=list(self.benchmarks), columns=list(self.benchmarks))


def coupling_matrix(table, benchmarks: Sequence[str] | None = None, *, family: str | None = None,
                    min_delta: float = MIN_DELTA, agg: str = "median", threshold: float = 0.1) -> CouplingMatrix:
    """Coupling matrix over all benchmark pairs (docs/methods.md, "Coupling matrix").

    Args:
        table: ScoreTable; steps are taken within each family only.
        benchmarks: benchmarks to include (default: all in the table).
        family: restrict to one family.
        agg: ``"median"`` (robust to small-step blow-ups, default) or ``"mean"`` (the dashboard's choice).
        threshold: a pair competes if either direction's aggregate is below ``-threshold``; cooperates if
            either is above ``+threshold``.

    Example:
        >>> from cape import data
        >>> cm = coupling_matrix(data.fixture_table("pythia8", family="Pythia"),
        ...                      ["HellaSwag", "TruthfulQA", "ARC-Challenge"])
        >>> ("HellaSwag", "TruthfulQA") in cm.competing
        True
    """
    min_delta = check_nonnegative(min_delta, "min_delta")
    if agg not in ("median", "mean"):
        raise DataError(f"agg must be 'median' or 'mean', not {agg!r}")
    bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else list(table.benchmarks)
    wide = table.wide(bs) if not hasattr(table, "columns") else table
    if family is not None:
        wide = wide[wide["family"].astype(str) == family]
    p = len(bs)
    steps: list[list[list[float]]] = [[[] for _ in range(p)] for _ in range(p)]
    for _, fw in wide.groupby("family", sort=True):
        fw = fw[np.isfinite(fw["params"].to_numpy(float))].sort_values("params", kind="stable")
        if len(fw) < 2:
            continue
        logn = np.log10(fw["params"].to_numpy(float))
        for i, bi in enumerate(bs):
            for j, bj in enumerate(bs):
                if i == j:
                    continue
                si = fw[bi].to_numpy(float)
                sj = fw[bj].to_numpy(float)
                g, _, _, _ = gamma_steps(logn, si, sj, min_delta=min_delta)
                steps[i][j].extend(float(v) for v in g if np.isfinite(v))
    fn = np.median if agg == "median" else np.mean
    gm, ns, fp = [], [], []
    for i in range(p):
        gm.append(tuple(1.0 if i == j else (_f(fn(steps[i][j])) if steps[i][j] else None) for j in range(p)))
        ns.append(tuple(len(steps[i][j]) for j in range(p)))
        fp.append(tuple(None if (i == j or not steps[i][j]) else float(np.mean(np.array(steps[i][j]) > 0))
                        for j in range(p)))
    comp, coop = [], []
    for i in range(p):
        for j in range(i + 1, p):
            vals = [v for v in (gm[i][j], gm[j][i]) if v is not None]
            if any(v < -threshold for v in vals):
                comp.append((bs[i], bs[j]))
            if any(v > threshold for v in vals):
                coop.append((bs[i], bs[j]))
    full = wide.dropna(subset=bs)
    if len(full) >= 3:
        X = full[bs].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            R = np.corrcoef(X, rowvar=False)
        corr = tuple(tuple(_f(v) for v in row) for row in R)
        ev = tuple(float(v) for v in np.linalg.eigvalsh(np.nan_to_num(R))[::-1]) if np.isfinite(R).all() else ()
    else:
        corr, ev = tuple(tuple(None for _ in range(p)) for _ in range(p)), ()
    return CouplingMatrix(tuple(bs), agg, tuple(gm), tuple(ns), tuple(fp), tuple(comp), tuple(coop), corr, ev,
                          int(len(full)))


# ---------------------------------------------------------------------------------------------- running coupling
@dataclass(frozen=True)
class RunningLaw:
    """Linear running-coupling law ``gamma = A log10 N + B`` fitted to within-family gammas at their
    log-midpoints (pooled over families), with its zero ``N_0 = 10^(-B/A)`` and the sign agreement."""

    A: float | None
    B: float | None
    r2: float | None
    n: int
    n_families: int
    zero: float | None
    sign_agreement: float | None

    def to_dict(self) -> dict:
        return fields_dict(self)


def running_law(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, min_delta: float = MIN_DELTA) -> RunningLaw:
    """Fit ``gamma = A log10 N + B`` over every usable within-family interval (docs/methods.md, "Other observables").

    Example:
        >>> from cape import data
        >>> law = running_law(data.load_base())
        >>> law.n > 20
        True
    """
    min_delta = check_nonnegative(min_delta, "min_delta")
    b1, b2 = resolve_pair(pair)
    frame = score_frame(table, (b1, b2))
    xs, gs, fams = [], [], set()
    for fam in frame["family"].dropna().astype(str).unique():
        models, params, sc, _ = family_arrays(frame, fam, (b1, b2))
        if len(models) < 2:
            continue
        g, m, _, _ = gamma_steps(np.log10(params), sc[:, 0], sc[:, 1], min_delta=min_delta)
        ok = np.isfinite(g)
        if ok.any():
            fams.add(fam)
        xs += list(m[ok])
        gs += list(g[ok])
    x, g = np.array(xs), np.array(gs)
    if x.size < 3:
        return RunningLaw(None, None, None, int(x.size), len(fams), None, None)
    A, B = np.polyfit(x, g, 1)
    pred = A * x + B
    r2 = 1 - np.sum((g - pred) ** 2) / np.sum((g - g.mean()) ** 2)
    zero = float(10 ** (-B / A)) if A > 0 else None
    agree = float(np.mean(np.sign(pred) == np.sign(g)))
    return RunningLaw(float(A), float(B), float(r2), int(x.size), len(fams), zero, agree)


@dataclass(frozen=True)
class FixedPoint:
    """OLS of the finite-difference flow ``dv/dlog10 N = a v + b`` over a ladder (v at interval midpoints):
    fixed point ``v* = -b/a``, stable when ``a < 0``."""

    a: float
    b: float
    fixed_point: float | None
    stable: bool
    n_steps: int

    def to_dict(self) -> dict:
        return fields_dict(self)


def flow_fixed_point(params: Sequence[float], values: Sequence[float]) -> FixedPoint:
    """Fixed point of a coupling ladder's flow (claim M16 in docs/paper.md: OPT internal coupling 125M-13B; docs/methods.md, "Other observables").

    Example:
        >>> fp = flow_fixed_point([125e6, 1.3e9, 6.7e9, 13e9], [0.514, 0.645, 0.741, 0.876])
        >>> round(fp.fixed_point, 3), round(fp.a, 2), fp.stable
        (0.53, 1.49, False)
    """
    x = np.log10(np.asarray(params, float))
    v = np.asarray(values, float)
    if x.size < 3:
        raise AnalysisError(f"a flow fit needs at least 3 sizes, got {x.size}")
    dv = np.diff(v) / np.diff(x)
    vm = (v[:-1] + v[1:]) / 2
    a, b = np.polyfit(vm, dv, 1)
    return FixedPoint(float(a), float(b), float(-b / a) if a != 0 else None, bool(a < 0), int(dv.size))


def isocline_phase(hs: float, tqa: float, *, a_over_b: float = 0.187, direction: str = "stated",
                   boundary: float = 0.0) -> str:
    """Algebraic isocline classifier (docs/methods.md, "Phases"): ``TQA_c = sqrt((a/b) HS)`` on fractions.

    ``direction="stated"``: above the curve is ``bonus`` (the paper's text); ``"reversed"``: above is ``tax``
    (what its reported accuracies match). Within ``boundary`` of the curve: ``transition``.

    Example:
        >>> isocline_phase(0.764, 0.36)
        'tax'
    """
    if direction not in ("stated", "reversed"):
        raise DataError(f"direction must be 'stated' or 'reversed', not {direction!r}")
    h, t = (hs / 100 if hs > 1 else hs), (tqa / 100 if tqa > 1 else tqa)
    tc = math.sqrt(a_over_b * h)
    if abs(t - tc) < boundary:
        return "transition"
    above = t > tc
    return ("bonus" if above else "tax") if direction == "stated" else ("tax" if above else "bonus")


@dataclass(frozen=True)
class Redistribution:
    """Capability redistribution ``W_k = sum_i |dB_i / dlog10 N|`` per interval (docs/methods.md, "Other observables")."""

    benchmarks: tuple[str, ...]
    w: tuple[float, ...]
    mean: float
    cv: float
    share: dict

    def to_dict(self) -> dict:
        return fields_dict(self)


def redistribution(table, benchmarks: Sequence[str] | None = None, *, family: str | None = None) -> Redistribution:
    """W per consecutive interval, its mean and CV (ddof 0), and each benchmark's share per interval."""
    bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else list(catalog.BASE_FIVE)
    models, params, sc, _ = family_arrays(table, family, bs)
    if len(models) < 3:
        raise AnalysisError(f"redistribution needs at least 3 models, got {len(models)}")
    rates = np.abs(np.diff(sc, axis=0)) / np.diff(np.log10(params))[:, None]
    w = rates.sum(1)
    share = {b: tuple(float(v) for v in rates[:, j] / w) for j, b in enumerate(bs)}
    return Redistribution(tuple(bs), tuple(float(v) for v in w), float(w.mean()), float(w.std() / w.mean()), share)


# ---------------------------------------------------------------------------------------------- claims
