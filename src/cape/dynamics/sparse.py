"""Sparse regression for the capability ODE: the polynomial library, STLSQ, cross-validation, bagging.

The library is pysindy's ``PolynomialLibrary(degree)`` with a constant: degree 1 gives ``1, B_j``; degree 2
adds every product ``B_j B_k`` with ``j <= k`` (squares included), the paper's form

    dB_i/dlog10 N = c_i0 + sum_j c_ij B_j + sum_{j<=k} d_ijk B_j B_k.

Two implementations of sequentially thresholded least squares (STLSQ) are used, and tests keep them equal:

* the point model is fitted by ``pysindy.SINDy(optimizer=STLSQ(threshold, alpha), feature_library=
  PolynomialLibrary(degree))`` (:func:`fit_pysindy`);
* cross-validation and ensembles solve many STLSQ problems at once (:func:`stlsq_batch`): the same algorithm
  (ridge fit on the current support, drop coefficients below the threshold, repeat until the support stops
  changing, then an unregularised refit on the support) vectorised over resamples with numpy, where each
  resample is a vector of sample weights (bootstrap counts, or 0/1 for a cross-validation fold). Weighted
  least squares with integer counts is the same problem as least squares on duplicated rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError


# ---------------------------------------------------------------------------------------------- library
def library(d: int, degree: int, names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Exponents and names of pysindy's ``PolynomialLibrary(degree)`` on ``d`` variables.

    Returns:
        ``(powers, feature_names)``: ``powers`` has shape ``(F, d)`` (row ``f`` holds the exponent of each
        variable in term ``f``), in pysindy's column order (``1, B_1..B_d, B_1^2, B_1 B_2, ...``).
    """
    if degree not in (1, 2, 3):
        raise AnalysisError(f"degree must be 1, 2 or 3, not {degree!r}")
    from pysindy import PolynomialLibrary

    lib = PolynomialLibrary(degree=degree)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib.fit(np.random.default_rng(0).random((degree + 2, d)))
    return np.asarray(lib.powers_, dtype=int), list(lib.get_feature_names(list(names)))


def features(states: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """Library matrix ``Theta``: shape ``(..., F)`` for states of shape ``(..., d)``."""
    s = np.asarray(states, dtype=float)
    return np.prod(s[..., None, :] ** powers, axis=-1)


# ---------------------------------------------------------------------------------------------- STLSQ
def stlsq_batch(theta: np.ndarray, y: np.ndarray, weights: np.ndarray, threshold, alpha: float = 0.05,
                max_iter: int = 20, unbias: bool = True, intercept: bool = False) -> np.ndarray:
    """STLSQ for many sample weightings at once (pysindy's algorithm, vectorised).

    Args:
        theta: library matrix, shape ``(n, F)``.
        y: targets (derivatives), shape ``(n, T)``.
        weights: sample weights per problem, shape ``(R, n)`` (bootstrap counts, fold indicators).
        threshold: anything broadcastable to ``(R, T)`` (a scalar; ``(R, 1)`` per problem; ``(T,)`` per
            target): coefficients with ``|c| < threshold`` are dropped.
        alpha: ridge penalty of the thresholding fits (pysindy's ``STLSQ(alpha=...)``; default the same 0.05).
        max_iter: most thresholding rounds.
        unbias: refit the final support without the ridge penalty (pysindy's default).
        intercept: treat column 0 (the constant) as an unpenalised intercept that is never thresholded: the
            other columns and ``y`` are centred on their weighted means, STLSQ runs on them, and the constant
            is ``mean(y) - mean(theta) . c`` (exactly as an intercept is handled in penalised regression).

    Returns:
        Coefficients, shape ``(R, T, F)``.

    Example:
        >>> th = np.c_[np.ones(20), np.linspace(0, 1, 20)]
        >>> c = stlsq_batch(th, (2 * th[:, 1])[:, None], np.ones((1, 20)), 0.1)
        >>> np.round(c[0, 0], 6).tolist()
        [0.0, 2.0]
    """
    theta = np.asarray(theta, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    R, _ = w.shape
    T = y.shape[1]
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (R, T))[:, :, None]
    if intercept:
        sw_tot = w.sum(axis=1)[:, None]
        mu_x = (w @ theta[:, 1:]) / sw_tot  # (R, F-1)
        mu_y = (w @ y) / sw_tot  # (R, T)
        X = theta[None, :, 1:] - mu_x[:, None, :]  # (R, n, F-1)
        Y = y[None] - mu_y[:, None, :]  # (R, n, T)
    else:
        X = np.broadcast_to(theta, (R, *theta.shape))
        Y = np.broadcast_to(y, (R, *y.shape))
    F = X.shape[2]
    G = np.einsum("rn,rnf,rng->rfg", w, X, X)  # (R, F, F)
    b = np.einsum("rn,rnf,rnt->rtf", w, X, Y)  # (R, T, F)
    eye = np.eye(F)
    mask = np.ones((R, T, F), dtype=bool)
    coef = np.zeros((R, T, F))
    for _ in range(max_iter):
        mm = mask[..., :, None] & mask[..., None, :]
        A = G[:, None] * mm + eye * np.where(mask, alpha, 1.0)[..., None, :]
        rhs = np.where(mask, b, 0.0)
        if alpha > 0:
            c = np.linalg.solve(A, rhs[..., None])[..., 0]
        else:
            c = np.einsum("rtfg,rtg->rtf", np.linalg.pinv(A), rhs)
        new = mask & (np.abs(c) >= thr)
        coef = np.where(new, c, 0.0)
        if np.array_equal(new, mask):
            break
        mask = new
    if unbias:
        # least squares on the support, via the pseudo-inverse of the weighted design itself (not of the
        # normal matrix, whose condition number is squared): the minimum-norm solution, as pysindy's
        # LinearRegression refit gives
        mask = np.abs(coef) > 1e-14
        sw = np.sqrt(w)
        xw = sw[:, :, None] * X  # (R, n, F)
        yw = np.einsum("rn,rnt->rtn", sw, Y)  # (R, T, n)
        xm = xw[:, None] * mask[:, :, None, :]  # (R, T, n, F)
        coef = np.where(mask, np.einsum("rtfn,rtn->rtf", np.linalg.pinv(xm), yw), 0.0)
    if intercept:
        c0 = mu_y - np.einsum("rf,rtf->rt", mu_x, coef)
        coef = np.concatenate([c0[..., None], coef], axis=2)
    return coef


def fit_pysindy(states: list[np.ndarray], derivs: list[np.ndarray], xs: list[np.ndarray], degree: int,
                threshold, alpha: float, names: Sequence[str], max_iter: int = 20, intercept: bool = True):
    """Fit the point model with pysindy on several trajectories with precomputed derivatives.

    Args:
        states, derivs, xs: one array per trajectory (``(k, d)``, ``(k, d)``, ``(k,)``): the states, their
            derivatives with respect to ``log10 N`` and the (possibly uneven) ``log10 N`` they sit at.
        degree: polynomial library degree.
        threshold: STLSQ threshold, a scalar or one per equation ``(d,)``. pysindy's STLSQ takes one
            threshold and treats equations independently, so per-equation thresholds are one fit per distinct
            value, each contributing its equations' rows.
        alpha: STLSQ ridge penalty.
        names: short variable names for the printed equations.
        intercept: keep the constant as an unpenalised, never-thresholded intercept. pysindy's own
            ``STLSQ(sparse_ind=...)`` cannot do this in 2.1 (it fails in its unbiasing step), so the
            library's non-constant columns and the derivatives are centred, ``pysindy.STLSQ`` is fitted on
            them, and the constant is recovered from the means. Without it, ``pysindy.SINDy`` is fitted
            directly with ``x_dot`` given.

    Returns:
        ``(model, coefficients)``: a fitted ``pysindy.SINDy`` whose optimizer holds the coefficient matrix
        ``(d, F)`` (so ``model.equations()``/``print()`` show it), and that matrix.
    """
    import pysindy as ps

    d = np.asarray(states[0]).shape[1]
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (d,))
    S = [np.asarray(s, float) for s in states]
    D = [np.asarray(dv, float) for dv in derivs]
    X = [np.asarray(x, float) for x in xs]
    coef = None
    model = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "eliminated all coefficients" is a legitimate outcome here
        if intercept:
            model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.0, alpha=float(alpha), max_iter=max_iter),
                             feature_library=ps.PolynomialLibrary(degree=degree))
            model.fit(S, t=X, x_dot=D, feature_names=list(names))
            theta = np.asarray(ps.PolynomialLibrary(degree=degree).fit_transform(np.vstack(S)), dtype=float)
            y = np.vstack(D)
            mx, my = theta[:, 1:].mean(axis=0), y.mean(axis=0)
            coef = np.zeros((d, theta.shape[1]))
            for t in np.unique(thr):
                opt = ps.STLSQ(threshold=float(t), alpha=float(alpha), max_iter=max_iter)
                opt.fit(theta[:, 1:] - mx, y - my)
                rows = thr == t
                coef[rows, 1:] = np.asarray(opt.coef_, dtype=float)[rows]
            coef[:, 0] = my - coef[:, 1:] @ mx
        else:
            for t in np.unique(thr):
                m = ps.SINDy(optimizer=ps.STLSQ(threshold=float(t), alpha=float(alpha), max_iter=max_iter),
                             feature_library=ps.PolynomialLibrary(degree=degree))
                m.fit(S, t=X, x_dot=D, feature_names=list(names))
                c = np.asarray(m.coefficients(), dtype=float)
                if model is None:
                    model, coef = m, c.copy()
                rows = thr == t
                coef[rows] = c[rows]
    model.optimizer.coef_ = coef
    return model, coef


# ---------------------------------------------------------------------------------------------- CV
@dataclass(frozen=True, eq=False)
class CVResult:
    """Cross-validated choice of the STLSQ threshold(s).

    Attributes:
        thresholds: candidate thresholds, ascending, shape ``(J,)``.
        mse: held-out mean squared derivative error per equation and threshold, ``(T, J)`` (state units^2
            per decade^2).
        se: standard error of the per-fold errors, ``(T, J)``.
        n_terms: active terms of the full-data fit per equation and threshold, ``(T, J)``.
        chosen: the selected threshold per equation, ``(T,)`` (all equal when ``per_equation`` is false).
        per_equation: whether each equation got its own threshold (else one threshold minimises the summed
            error, as a single pysindy ``STLSQ(threshold)`` would use).
        rule: ``"1se"`` (the largest threshold within one standard error of the minimum) or ``"min"``.
        scheme: ``"leave-one-family-out"`` or ``"leave-one-point-out"``.
        n_folds: number of folds.
        r2: out-of-sample R^2 of the derivatives at the chosen thresholds, per equation ``(T,)``: 1 - SSE / SS
            around the training-fold mean (below 0: worse than predicting the average slope).
    """

    thresholds: np.ndarray
    mse: np.ndarray
    se: np.ndarray
    n_terms: np.ndarray
    chosen: np.ndarray
    per_equation: bool
    rule: str
    scheme: str
    n_folds: int
    r2: np.ndarray

    def to_dict(self) -> dict:
        return {"thresholds": thresholds_json(self.thresholds), "mse": self.mse.tolist(), "se": self.se.tolist(),
                "n_terms": self.n_terms.tolist(), "chosen": thresholds_json(self.chosen),
                "per_equation": self.per_equation, "rule": self.rule, "scheme": self.scheme,
                "n_folds": self.n_folds, "r2": self.r2.tolist()}


def thresholds_json(a) -> list:
    """Thresholds for JSON: an infinite threshold (constant-only model) as the string ``"inf"``."""
    return [float(v) if np.isfinite(v) else "inf" for v in np.asarray(a, dtype=float).ravel()]


def threshold_grid(theta: np.ndarray, y: np.ndarray, alpha: float, n: int = 25,
                   intercept: bool = False) -> np.ndarray:
    """Candidate thresholds: 0, a geometric grid from 1/10000 of the largest full-data ridge coefficient to
    just above it, and infinity (every thresholded term eliminated in every fold: the constant-rate model with
    a free intercept, the zero model without)."""
    c0 = stlsq_batch(theta, y, np.ones((1, len(y))), 0.0, alpha=alpha, unbias=False, intercept=intercept)
    top = float(np.max(np.abs(c0[..., 1:] if intercept else c0)))
    if not np.isfinite(top) or top <= 0:
        return np.array([0.0, np.inf])
    return np.concatenate([[0.0], np.geomspace(top * 1e-4, top * 1.001, n - 2), [np.inf]])


def _select(mse: np.ndarray, se: np.ndarray, rule: str) -> int:
    i0 = int(np.argmin(mse))
    if rule == "min":
        return i0
    return int(np.flatnonzero(mse <= mse[i0] + se[i0]).max())


def cross_validate(theta: np.ndarray, y: np.ndarray, groups: np.ndarray, thresholds: np.ndarray,
                   alpha: float = 0.05, rule: str = "1se", per_equation: bool = True,
                   intercept: bool = False) -> CVResult:
    """Choose STLSQ thresholds by cross-validation of the derivative prediction.

    Folds leave one trajectory (family) out when there are two or more, else one sample out. All folds and
    thresholds are solved in one :func:`stlsq_batch` call. STLSQ treats equations independently, so each
    equation can get its own threshold (``per_equation``, the default: benchmarks move at very different
    rates, and one threshold in score units would silence the slow ones); otherwise one threshold minimises
    the summed error.
    """
    if rule not in ("1se", "min"):
        raise AnalysisError(f"cv rule must be '1se' or 'min', not {rule!r}")
    groups = np.asarray(groups)
    n, T = y.shape
    ug = np.unique(groups)
    if len(ug) >= 2:
        fold_of = np.searchsorted(ug, groups)
        scheme = "leave-one-family-out"
    else:
        fold_of = np.arange(n)
        scheme = "leave-one-point-out"
    K = int(fold_of.max()) + 1
    if K < 2:
        raise AnalysisError("cross-validation needs at least 2 samples")
    thresholds = np.asarray(thresholds, dtype=float)
    J = len(thresholds)
    test = fold_of[None, :] == np.arange(K)[:, None]  # (K, n)
    W = np.repeat((~test).astype(float), J, axis=0)  # (K*J, n), fold-major
    thr = np.tile(thresholds, K)[:, None]
    coef = stlsq_batch(theta, y, W, thr, alpha=alpha, intercept=intercept).reshape(K, J, T, -1)
    pred = np.einsum("nf,kjtf->kjnt", theta, coef)
    res2 = (pred - y[None, None]) ** 2  # (K, J, n, T)
    sse = np.einsum("kjnt,kn->kjt", res2, test.astype(float))  # (K, J, T)
    cnt = test.sum(axis=1).astype(float)  # (K,)
    mse = (sse.sum(axis=0) / n).T  # (T, J)
    fold_mse = sse / cnt[:, None, None]  # (K, J, T)
    se = (fold_mse.std(axis=0, ddof=1) / np.sqrt(K)).T  # (T, J)
    if per_equation:
        idx = np.array([_select(mse[t], se[t], rule) for t in range(T)])
    else:
        tot_fold = fold_mse.sum(axis=2)  # (K, J)
        i = _select(mse.sum(axis=0), tot_fold.std(axis=0, ddof=1) / np.sqrt(K), rule)
        idx = np.full(T, i)
    means = np.stack([y[~test[k]].mean(axis=0) for k in range(K)])  # (K, T)
    ss0 = np.stack([((y[test[k]] - means[k]) ** 2).sum(axis=0) for k in range(K)]).sum(axis=0)  # (T,)
    sse_chosen = sse.sum(axis=0)[idx, np.arange(T)]  # (T,)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss0 > 0, 1.0 - sse_chosen / ss0, np.nan)
    full = stlsq_batch(theta, y, np.ones((J, n)), thresholds[:, None], alpha=alpha, intercept=intercept)
    n_terms = (full != 0).sum(axis=2).T
    return CVResult(thresholds, mse, se, n_terms, thresholds[idx], bool(per_equation), rule, scheme, K, r2)


# ---------------------------------------------------------------------------------------------- resampling
def bootstrap_weights(n: int, n_models: int, rng: np.random.Generator,
                      groups: np.ndarray | None = None) -> np.ndarray:
    """Bootstrap counts, shape ``(n_models, n)``.

    With ``groups``: a two-level bootstrap, families drawn with replacement and then each drawn family's
    samples drawn with replacement (its sample count times the number of times it was drawn). Without:
    samples drawn with replacement (pysindy's bagging).
    """
    rows = np.arange(n_models)[:, None]
    if groups is None or len(np.unique(groups)) < 2:
        idx = rng.integers(0, n, size=(n_models, n))
        w = np.zeros((n_models, n))
        np.add.at(w, (np.broadcast_to(rows, idx.shape), idx), 1.0)
        return w
    groups = np.asarray(groups)
    ug, gidx = np.unique(groups, return_inverse=True)
    G = len(ug)
    fam_draw = rng.integers(0, G, size=(n_models, G))
    times = np.zeros((n_models, G))
    np.add.at(times, (np.broadcast_to(rows, fam_draw.shape), fam_draw), 1.0)
    w = np.zeros((n_models, n))
    for g in range(G):  # loop over families (a handful), vectorised over resamples
        members = np.flatnonzero(gidx == g)
        m = len(members)
        draws = times[:, g].astype(int) * m
        maxd = int(draws.max()) if draws.size else 0
        if maxd == 0:
            continue
        pick = members[rng.integers(0, m, size=(n_models, maxd))]
        valid = np.arange(maxd)[None, :] < draws[:, None]
        np.add.at(w, (np.broadcast_to(rows, pick.shape)[valid], pick[valid]), 1.0)
    return w


__all__ = ["library", "features", "stlsq_batch", "fit_pysindy", "CVResult", "threshold_grid", "cross_validate",
           "bootstrap_weights"]
