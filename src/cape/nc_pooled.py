"""Pooled N_c over several families: the sound pooled quadratic with family offsets (:class:`PooledOffsets`)
and the paper's own procedure (:class:`PaperQuadraticVertex`), with their data (:func:`pooled_data`). See
:mod:`cape.critical` for the methods; :mod:`cape.critical` re-exports every name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _memory
from ._format import finite_or_none as _f
from ._format import fmt_params
from ._memory import check_memory, chunk_rows, row_slices
from ._stats import percentile_ci
from ._validate import check_pair as resolve_pair
from .coupling import DEFAULT_PAIR, score_frame, size_order
from .errors import AnalysisError, DataError
from .nc_result import HORIZON, NcResult, _insufficient, _is_score_frame, _pow10


# ---------------------------------------------------------------------------------------------- pooled
@dataclass(frozen=True)
class PooledData:
    families: tuple[str, ...]
    fam_idx: np.ndarray
    models: tuple[str, ...]
    logn: np.ndarray
    y: np.ndarray
    se: np.ndarray


def pooled_data(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, families: Sequence[str] | None = None,
                min_models: int = 3, order: str = "family") -> PooledData:
    """Models of every family with at least ``min_models`` usable models (B2 scores, sizes, errors).

    ``order="input"`` keeps the table's row order (the paper's legacy bootstrap indexes rows, so its result
    depends on it); ``"family"`` groups by family, each sorted by size.
    """
    b1, b2 = resolve_pair(pair)
    frame = table if _is_score_frame(table, (b1, b2)) else score_frame(table, (b1, b2))
    fams = list(families) if families is not None else list(dict.fromkeys(frame["family"].dropna().astype(str)))
    keep_f: list[str] = []
    blocks: list[np.ndarray] = []
    cols = _pooled_columns(frame, b1, b2)
    groups = frame.groupby(frame["family"].astype(str), sort=False).indices  # positions, split once
    names = np.asarray(frame.index.astype(str), dtype=object)
    for f in fams:
        pos = _usable_sorted(cols, names, groups.get(str(f)))
        if pos.size < min_models or np.unique(cols[0][pos]).size < 2:
            continue
        keep_f.append(str(f))
        blocks.append(pos)
    allpos = np.concatenate(blocks) if blocks else np.zeros(0, int)
    idx = np.repeat(np.arange(len(blocks)), [b.size for b in blocks]).astype(int)
    models = [str(names[i]) for i in allpos]
    pdata = PooledData(tuple(keep_f), idx, tuple(models), np.log10(cols[0][allpos]), cols[1][allpos],
                       cols[2][allpos])
    if order == "input" and models:
        rank = {m: i for i, m in enumerate(frame.index.astype(str))}
        o = np.argsort([rank[m] for m in models], kind="stable")
        pdata = PooledData(pdata.families, pdata.fam_idx[o], tuple(models[i] for i in o), pdata.logn[o],
                           pdata.y[o], pdata.se[o])
    return pdata


def _pooled_columns(frame, b1: str, b2: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(params, B2, se(B2), usable)`` arrays of a score frame (usable: size, B1 and B2 present), a missing
    error replaced by the binomial one."""
    params = frame["params"].to_numpy(dtype=float)
    y = frame[b2].to_numpy(dtype=float)
    se = frame[f"se:{b2}"].to_numpy(dtype=float).copy()
    usable = np.isfinite(params) & np.isfinite(y) & np.isfinite(frame[b1].to_numpy(dtype=float))
    fill = usable & ~np.isfinite(se)
    if fill.any():
        from . import catalog

        se[fill] = [catalog.binomial_stderr(v, b2) for v in y[fill]]
    return params, y, se, usable


def _usable_sorted(cols, names, pos) -> np.ndarray:
    """A family's usable row positions in :func:`cape.coupling.size_order` (size, then name)."""
    if pos is None:
        return np.zeros(0, int)
    pos = pos[cols[3][pos]]
    return pos[size_order(cols[0][pos], names[pos])]


def _demeaned_vertex(x, y, w, fam_idx, center):
    """Vertex of ``y = alpha_f + b1 x + b2 x^2`` per row (rows = replicates), family offsets partialled out
    (Frisch-Waugh: weighted within-family demeaning, then a 2x2 normal system).

    x, y, w: ``(B, n)`` with the columns grouped by family (``fam_idx`` non-decreasing). Returns ``(x*, b2)``.
    """
    fam_idx = np.asarray(fam_idx)
    starts = np.flatnonzero(np.r_[True, fam_idx[1:] != fam_idx[:-1]])
    counts = np.diff(np.r_[starts, fam_idx.size])
    xc = x - center
    q = xc * xc
    wsum = np.add.reduceat(w, starts, axis=1)
    wsafe = np.where(wsum > 0, wsum, 1.0)

    def dm(v):
        mean_f = np.add.reduceat(w * v, starts, axis=1) / wsafe
        return v - np.repeat(mean_f, counts, axis=1)

    q_, x_, y_ = dm(q), dm(xc), dm(y)
    sums = [(w * q_ * q_).sum(1), (w * q_ * x_).sum(1), (w * x_ * x_).sum(1), (w * q_ * y_).sum(1),
            (w * x_ * y_).sum(1)]
    return _vertex_from_sums(*sums, center)


def _vertex_from_sums(a11, a12, a22, r1, r2, center):
    """Vertex ``x*`` and curvature ``b2`` from the demeaned normal-equation sums (one value per replicate)."""
    det = a11 * a22 - a12 ** 2
    ok = det > 1e-10 * np.maximum(a11 * a22, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        b2 = np.where(ok, (r1 * a22 - r2 * a12) / np.where(ok, det, 1.0), np.nan)
        b1 = np.where(ok, (a11 * r2 - a12 * r1) / np.where(ok, det, 1.0), np.nan)
        vx = np.where(b2 > 0, -b1 / (2 * np.where(b2 != 0, b2, 1.0)) + center, np.nan)
    return vx, b2


class PooledOffsets:
    """Pooled quadratic TQA(log N) with family-specific offsets; bootstrap stratified by family + noise."""

    name = "pooled"

    def __init__(self, *, horizon: float = HORIZON, min_models: int = 3):
        self.horizon = horizon
        self.min_models = min_models

    def estimate(self, pdata: PooledData, *, n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95,
                 bootstrap: str = "models") -> NcResult:
        if bootstrap not in ("models", "noise", "both"):
            raise DataError(f"bootstrap must be 'models', 'noise' or 'both' for method='pooled', not {bootstrap!r}")
        base: dict[str, Any] = {"level": level, "bootstrap": bootstrap, "seed": seed, "n_boot": n_boot}
        n = pdata.y.size
        F = len(pdata.families)
        if F == 0 or n < F + 3:
            return _insufficient(self.name, f"pooled N_c needs families with >= {self.min_models} models and at "
                                 f"least {F + 3} models in all; got {n} model(s) in {F} family(ies)", **base)
        base["size_range"] = (float(10 ** pdata.logn.min()), float(10 ** pdata.logn.max()))
        if np.any(np.diff(pdata.fam_idx) < 0):
            raise AnalysisError("pooled data must be grouped by family (use order='family')")
        w = 1.0 / np.maximum(pdata.se, 1e-6) ** 2
        center = float(np.mean(pdata.logn))
        vx, b2 = _demeaned_vertex(pdata.logn[None], pdata.y[None], w[None], pdata.fam_idx, center)
        x0 = float(vx[0])
        lo_r, hi_r = pdata.logn.min(), pdata.logn.max()
        rng = np.random.default_rng(seed)
        reps = np.empty(0)
        if n_boot > 0:
            reps, b2r = _pooled_replicates(pdata, w, center, n_boot, rng, bootstrap)
            reps = np.where(np.isnan(reps) & (b2r <= 0), np.inf, reps)  # no U shape: no vertex (flip) at all
            reps = np.where(reps > hi_r + self.horizon, np.inf, reps)
            reps = np.where(reps < lo_r - self.horizon, -np.inf, reps)
        ok = reps[~np.isnan(reps)]
        lo, hi = percentile_ci(ok, level) if ok.size else (math.nan, math.nan)
        if n_boot == 0:  # no bootstrap: the point estimate alone, CI absent
            lo = hi = x0 if math.isfinite(x0) else math.nan
        details = {"families": list(pdata.families), "n_models": int(n), "b2": _f(b2[0]),
                   "frac_no_vertex": _f(float(np.mean(np.isinf(reps))) if reps.size else None)}
        common = dict(base, n_valid=int(np.isfinite(ok).sum()), details=details,
                      ci_low_unbounded=(lo == -np.inf), ci_high_unbounded=(hi == np.inf))
        bounded = math.isfinite(lo) and math.isfinite(hi)
        if not math.isfinite(x0) or x0 > hi_r + self.horizon or x0 < lo_r - self.horizon:
            return NcResult(self.name, None, _pow10(lo), _pow10(hi), "none", direction=None,
                            message="the pooled quadratic with family offsets has no minimum in or near the range",
                            **common)
        status = "observed" if lo_r <= x0 <= hi_r else "extrapolated"
        if not bounded:
            return NcResult(self.name, None, _pow10(lo), _pow10(hi), "none",
                            direction="above" if hi == np.inf else "below",
                            message=f"vertex at {fmt_params(_pow10(x0))} but the 95% CI is unbounded "
                                    "(the U shape is not established)", details=dict(details,
                                                                                     point=_pow10(x0)),
                            **{k: v for k, v in common.items() if k != "details"})
        if n_boot == 0:
            return NcResult(self.name, _pow10(x0), None, None, status,
                            message=f"shared U-shape vertex over {F} families (no bootstrap: no CI)",
                            **dict(common, ci_low_unbounded=False, ci_high_unbounded=False))
        return NcResult(self.name, _pow10(x0), _pow10(lo), _pow10(hi), status,
                        message=f"shared U-shape vertex over {F} families with their own offsets", **common)


def _family_runs(fam_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First position and length of each family's block (``fam_idx`` grouped, non-decreasing)."""
    starts = np.flatnonzero(np.r_[True, fam_idx[1:] != fam_idx[:-1]])
    return starts, np.diff(np.r_[starts, fam_idx.size])


def _one_blas_thread():
    """A block in which BLAS uses one thread: the pooled fits' products are small (a few hundred thousand
    multiply-adds each), and BLAS threads woken for them spin for far longer than they work, taking a core from
    the diagnosis' own threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _count_sums(drawn: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """The five demeaned normal-equation sums of resamples given by their draw counts, added over families.

    Within a family, ``sum_j w_j (u_j - u_f) v_j = S(wuv) - S(wu) S(wv) / S(w)`` (``u_f`` the resample's weighted
    family mean), and every sum over a resample's draws is the per-model terms times its draw counts.

    Args:
        drawn: ``(G, k, R)`` how often each of a family's ``k`` models is drawn in each of ``R`` resamples.
        terms: ``(G, 9, k)`` per model ``w, wq, wx, wy, wqq, wqx, wxx, wqy, wxy`` (``q = x^2``).

    Returns:
        ``(5, R)``: ``sum w dq q, sum w dq x, sum w dx x, sum w dq y, sum w dx y`` over the families.
    """
    sw, swq, swx, swy, swqq, swqx, swxx, swqy, swxy = np.moveaxis(np.matmul(terms, drawn), 1, 0)
    out = np.empty((5, drawn.shape[2]))
    for row, (total, u, v) in enumerate(((swqq, swq, swq), (swqx, swq, swx), (swxx, swx, swx), (swqy, swq, swy),
                                         (swxy, swx, swy))):
        out[row] = (total - u * v / sw).sum(0)
    return out


#: float64 arrays of one bootstrap cell alive at once in the pooled replicates (sizes the chunks)
_CELL_ARRAYS = 12


def _models_sums(pdata: PooledData, w: np.ndarray, x: np.ndarray, n_boot: int, rng: np.random.Generator
                 ) -> np.ndarray:
    """The ``models`` bootstrap's five demeaned sums per resample, ``(5, n_boot)``: families of equal size drawn
    together (their draws in the stream's order), reduced to draw counts and then to sums (:func:`_count_sums`)
    before the next are drawn, rows chunked when one family is large."""
    starts, sizes = _family_runs(pdata.fam_idx)
    yc = pdata.y - pdata.y.mean()  # centred: its level costs no digits (the demeaned sums do not depend on it)
    q = x * x
    model_terms = np.stack([w, w * q, w * x, w * yc, w * q * q, w * q * x, w * x * x, w * q * yc, w * x * yc])
    acc = np.zeros((5, n_boot))
    F, i = len(starts), 0
    while i < F:
        k, j = int(sizes[i]), i
        while j < F and sizes[j] == k:
            j += 1
        rows = chunk_rows(n_boot, k * 8 * _CELL_ARRAYS)
        per = max(1, _memory.CHUNK_BYTES // (n_boot * k * 8 * _CELL_ARRAYS)) if rows == n_boot else 1
        for g0 in range(i, j, per):
            G = min(j, g0 + per) - g0
            terms = model_terms[:, starts[g0:g0 + G, None] + np.arange(k)].transpose(1, 0, 2)  # (G, 9, k)
            for sl in row_slices(n_boot, rows):
                R = sl.stop - sl.start
                draw = rng.integers(0, k, size=(G, R, k))  # the stream's order
                # draw counts laid out (G, k, R): family g's model m in resample r at (g * k + m) * R + r
                cell = ((np.arange(G) * k)[:, None, None] + draw) * R + np.arange(R)[None, :, None]
                drawn = np.bincount(cell.ravel(), minlength=G * k * R).reshape(G, k, R)
                acc[:, sl] += _count_sums(drawn.astype(float), terms)
        i = j
    return acc


def _pooled_replicates(pdata: PooledData, w: np.ndarray, center: float, n_boot: int, rng: np.random.Generator,
                       bootstrap: str) -> tuple[np.ndarray, np.ndarray]:
    """Replicate vertices and curvatures of the pooled fit with family offsets, in bounded memory.

    ``models``: each family's resample is reduced to its five demeaned sums, from its draw counts (one small
    matrix product per family, :func:`_count_sums`), before the next families are drawn (families of equal size
    drawn together, rows chunked when one family is large); ``noise``: row chunks;
    ``both``: the within-family draws kept as small integers, then row chunks. The random stream is the one
    of a single ``(n_boot, n)`` block, so the replicates equal the unchunked computation's.
    """
    n = pdata.y.size
    x = pdata.logn - center
    if bootstrap == "models":
        with _one_blas_thread():
            acc = _models_sums(pdata, w, x, n_boot, rng)
        return _vertex_from_sums(acc[0], acc[1], acc[2], acc[3], acc[4], center)
    starts, counts = _family_runs(pdata.fam_idx)
    loc = None
    if bootstrap == "both":  # every family's draws come before the noise in the stream: keep them, compactly
        dt = np.min_scalar_type(int(counts.max()))
        check_memory(n_boot * n * dt.itemsize + _memory.CHUNK_BYTES, f"the pooled bootstrap ({n_boot} resamples x {n} "
                     "models, models and noise)", "the number of resamples (--n-boot)")
        loc = np.empty((n_boot, n), dtype=dt)
        for s0, k in zip(starts, counts):
            loc[:, s0:s0 + k] = rng.integers(0, k, size=(n_boot, k))
    first = np.repeat(starts, counts)
    reps, b2 = np.empty(n_boot), np.empty(n_boot)
    for sl in row_slices(n_boot, chunk_rows(n_boot, n * 8 * _CELL_ARRAYS)):
        c = sl.stop - sl.start
        idx = np.broadcast_to(np.arange(n), (c, n)) if loc is None else first + loc[sl]
        Y = pdata.y[idx] + rng.standard_normal((c, n)) * pdata.se[idx]
        reps[sl], b2[sl] = _demeaned_vertex(pdata.logn[idx], Y, w[idx], pdata.fam_idx, center)
    return reps, b2


# ---------------------------------------------------------------------------------------------- paper
class PaperQuadraticVertex:
    """The paper's estimator, exactly (docs/methods.md, "The paper's procedure"): pooled quadratic vertex, legacy RandomState."""

    name = "paper"

    def __init__(self, *, seed: int = 42, x_window: tuple[float, float] = (7.0, 12.0)):
        self.seed = seed
        self.x_window = x_window

    def fit(self, logn: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
        """``np.polyfit(log10 N, y, 2)`` coefficients ``(a, b, c)``."""
        a, b, c = np.polyfit(logn, y, 2)
        return float(a), float(b), float(c)

    def replicate_vertices(self, logn: np.ndarray, y: np.ndarray, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
        """Vertices ``x*`` and curvatures ``a`` of every legacy-stream resample (vectorised).

        A resample's normal-equation sums add one term per drawn model, so they are the resample's draw counts
        times the per-model terms: one matrix product per chunk instead of gathering every resample's values.
        """
        n = logn.size
        rs = np.random.RandomState(self.seed)
        center = float(np.mean(logn))
        x = logn - center
        x2 = x * x
        terms = np.stack([x, x2, x2 * x, x2 * x2, y, x * y, x2 * y], axis=1)  # (n, 7) per-model terms
        xs, a_s = np.empty(n_boot), np.empty(n_boot)
        with _one_blas_thread():
            for sl in row_slices(n_boot, chunk_rows(n_boot, n * 8 * 5)):  # same stream as one (n_boot, n) block
                rows = sl.stop - sl.start
                idx = rs.randint(0, n, size=(rows, n))  # == rows of n_boot x choice(n, n)
                counts = np.bincount((idx + (np.arange(rows) * n)[:, None]).ravel(), minlength=rows * n)
                sums = counts.reshape(rows, n).astype(float) @ terms
                xs[sl], a_s[sl] = self._vertices_from_sums(sums, n, center, lambda i, idx=idx: (x[idx[i]], y[idx[i]]))
        return xs, a_s

    @staticmethod
    def _vertices_from_sums(sums: np.ndarray, n: int, center: float, resample) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and curvatures of the quadratic fits whose normal-equation sums are the rows of ``sums``
        (``sum x, x^2, x^3, x^4, y, xy, x^2 y`` over the resample, x centred); ``resample(i)`` gives resample
        ``i``'s ``(x, y)`` for the rank-deficient ones, solved by least squares as ``np.polyfit`` does."""
        s1, s2, s3, s4, ty, txy, tx2y = sums.T
        A = np.stack([np.stack([s4, s3, s2], -1), np.stack([s3, s2, s1], -1),
                      np.stack([s2, s1, np.full_like(s1, float(n))], -1)], -2)
        r = np.stack([tx2y, txy, ty], -1)
        coef = np.full((sums.shape[0], 3), np.nan)
        det = np.linalg.det(A)
        good = np.abs(det) > 1e-9
        coef[good] = np.linalg.solve(A[good], r[good][..., None])[..., 0]
        for i in np.flatnonzero(~good):  # rank-deficient resamples: polyfit's least-squares solution
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                coef[i] = np.polyfit(*resample(i), 2)
        a, b = coef[:, 0], coef[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = -b / (2 * a) + center
        return xs, a

    def replicate_vertices_loop(self, logn: np.ndarray, y: np.ndarray, n_boot: int):
        """The original per-resample loop (``np.random.seed``-style stream, ``np.polyfit`` each time).

        Kept as the reference the vectorised path is checked against (tests, benchmark).
        """
        import warnings

        rs = np.random.RandomState(self.seed)
        n = logn.size
        xs = np.empty(n_boot)
        a_s = np.empty(n_boot)
        for i in range(n_boot):
            idx = rs.choice(n, n, replace=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a, b, _ = np.polyfit(logn[idx], y[idx], 2)
            a_s[i] = a
            xs[i] = -b / (2 * a) if a != 0 else np.nan
        return xs, a_s

    def estimate(self, pdata: PooledData, *, n_boot: int = 10_000, seed: int | None = None,
                 level: float = 0.95, bootstrap: str = "legacy") -> NcResult:
        n = pdata.y.size
        base: dict[str, Any] = {"level": level, "bootstrap": "legacy-models", "seed": self.seed, "n_boot": n_boot}
        if n < 4:
            return _insufficient(self.name, f"the paper's quadratic needs at least 4 models, got {n}", **base)
        a, b, c = self.fit(pdata.logn, pdata.y)
        point = -b / (2 * a) if a > 0 else math.nan
        xs, ar = self.replicate_vertices(pdata.logn, pdata.y, n_boot)
        keep = (ar > 0) & (xs > self.x_window[0]) & (xs < self.x_window[1])
        nstar = 10 ** xs[keep]
        base["size_range"] = (float(10 ** pdata.logn.min()), float(10 ** pdata.logn.max()))
        if nstar.size == 0:
            return NcResult(self.name, None, None, None, "none", n_valid=0,
                            message="no resample gives a U-shaped quadratic with its vertex in 1e7-1e12", **base)
        alpha = (1 - level) / 2 * 100
        lo, hi = np.percentile(nstar, [alpha, 100 - alpha])
        l68, h68 = np.percentile(nstar, [16, 84])
        med = float(np.median(nstar))
        details = {"a": a, "b": b, "c": c, "point_vertex": _pow10(point), "point_vertex_tqa":
                   (a * point ** 2 + b * point + c) if math.isfinite(point) else None,
                   "median": med, "mean": float(np.mean(nstar)), "ci68": [float(l68), float(h68)],
                   "valid_fraction": float(keep.mean()), "families": list(pdata.families), "n_models": int(n)}
        status = "observed" if pdata.logn.min() <= math.log10(med) <= pdata.logn.max() else "extrapolated"
        return NcResult(self.name, med, float(lo), float(hi), status, n_valid=int(keep.sum()),
                        message=f"median of {int(keep.sum())}/{n_boot} valid legacy resamples of the pooled quadratic "
                                "vertex (unstratified; mixes family levels)", details=details, **base)
