"""Weighted least squares with family-constant columns, vectorised over family resamples and label shuffles.

The coupling model is ``y = X0 b0 + E_f b1 + e``: ``X0`` holds observation-level columns whose first column is
the constant (``[1, log10 N]`` or ``[1, B1, log10 N]``), ``E_f`` holds the lever's encoding, constant within a
family (dummies of a level, a family's width at matched scale, ...). Because ``E_f`` is constant within a
family, the normal equations of any replicate (families drawn with replacement, or lever values shuffled
between families) are sums of per-family moments:

``X'WX = sum_f c_f [[M_f, M_f[:, 0] e_f'], [e_f M_f[0, :], M_f[0, 0] e_f e_f']]``

with ``M_f = X0_f' W_f X0_f`` and ``c_f`` the number of times family ``f`` is drawn. Thousands of replicates
then cost a few ``einsum`` calls and one batched solve, without rebuilding any design matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Moments:
    """Per-family weighted moments of the observation-level design.

    Attributes:
        M: ``(F, p0, p0)`` ``X0' W X0`` per family.
        m: ``(F, p0)`` ``X0' W y`` per family.
        n_obs: ``(F,)`` observations per family.
    """

    M: np.ndarray
    m: np.ndarray
    n_obs: np.ndarray

    @property
    def n_families(self) -> int:
        return int(self.M.shape[0])


def moments(fam_idx: np.ndarray, X0: np.ndarray, y: np.ndarray, w: np.ndarray, n_families: int) -> Moments:
    """Per-family moments.

    Args:
        fam_idx: ``(n,)`` family index of each observation (0..F-1).
        X0: ``(n, p0)`` observation-level design; column 0 must be the constant 1.
        y: ``(n,)`` outcome; w: ``(n,)`` non-negative weights.
        n_families: F.

    Returns:
        :class:`Moments`.
    """
    p0 = X0.shape[1]
    M = np.zeros((n_families, p0, p0))
    m = np.zeros((n_families, p0))
    Xw = X0 * w[:, None]
    np.add.at(M, fam_idx, Xw[:, :, None] * X0[:, None, :])
    np.add.at(m, fam_idx, Xw * y[:, None])
    n_obs = np.bincount(fam_idx, minlength=n_families)
    return Moments(M, m, n_obs)


def solve(mom: Moments, counts: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Coefficients ``[b0, b1]`` for each replicate.

    Args:
        mom: per-family moments.
        counts: ``(B, F)`` times each family enters replicate b (ones for the plain fit).
        E: ``(F, q)`` lever encoding shared by all replicates, or ``(B, F, q)`` one per replicate.

    Returns:
        ``(B, p0 + q)`` coefficients; a replicate whose normal equations are singular gets NaN.
    """
    C = np.asarray(counts, dtype=float)
    Eb = E[None] if E.ndim == 2 else E
    Eb = np.broadcast_to(Eb, (C.shape[0],) + Eb.shape[1:])
    a = mom.M[:, :, 0]
    s00 = np.einsum("bf,fij->bij", C, mom.M)
    s01 = np.einsum("bf,fi,bfj->bij", C, a, Eb)
    s11 = np.einsum("bf,f,bfi,bfj->bij", C, mom.M[:, 0, 0], Eb, Eb)
    t0 = np.einsum("bf,fi->bi", C, mom.m)
    t1 = np.einsum("bf,f,bfi->bi", C, mom.m[:, 0], Eb)
    S = np.concatenate([np.concatenate([s00, s01], 2), np.concatenate([np.swapaxes(s01, 1, 2), s11], 2)], 1)
    t = np.concatenate([t0, t1], 1)
    return _batched_solve(S, t)


def _batched_solve(S: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Solve each ``S[b] x = t[b]``; ill-conditioned systems (a column with no variation in that replicate)
    give NaN instead of an arbitrary answer."""
    B, p, _ = S.shape
    out = np.full((B, p), np.nan)
    scale = np.sqrt(np.abs(np.einsum("bii->bi", S))) + 1e-300
    Sn = S / scale[:, :, None] / scale[:, None, :]
    with np.errstate(all="ignore"):
        cond = np.linalg.cond(Sn)
    ok = np.isfinite(cond) & (cond < 1e10)
    if ok.any():
        x = np.linalg.solve(Sn[ok], (t[ok] / scale[ok])[..., None])[..., 0]
        out[ok] = x / scale[ok]
    return out


def stratified_counts(strata: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Family bootstrap counts: within each stratum (a lever level), its families drawn with replacement,
    so every replicate keeps each level's number of families.

    Args:
        strata: ``(F,)`` stratum label of each family.
        n_boot: replicates B.

    Returns:
        ``(B, F)`` integer counts (each row sums to F).
    """
    F = strata.size
    C = np.zeros((n_boot, F), dtype=np.int64)
    rows = np.arange(n_boot)[:, None]
    for s in np.unique(strata):
        fams = np.flatnonzero(strata == s)
        draw = fams[rng.integers(0, fams.size, size=(n_boot, fams.size))]
        np.add.at(C, (np.broadcast_to(rows, draw.shape), draw), 1)
    return C


def block_permutations(blocks: np.ndarray, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """Random permutations of family positions within each block (one block = shuffle across all families).

    Returns:
        ``(n_perm, F)`` index arrays: replicate r gives family f the lever value of family ``perm[r, f]``.
    """
    F = blocks.size
    out = np.tile(np.arange(F), (n_perm, 1))
    for b in np.unique(blocks):
        pos = np.flatnonzero(blocks == b)
        if pos.size > 1:
            out[:, pos] = rng.permuted(np.tile(pos, (n_perm, 1)), axis=1)
    return out


def permutation_p(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Two-sided Monte Carlo permutation p-value per column, ``(1 + #{|null| >= |obs|}) / (1 + n)``
    (never 0; NaN replicates are left out).

    Args:
        observed: ``(k,)`` observed statistics; null: ``(n, k)`` statistics under shuffled labels.
    """
    obs = np.abs(np.asarray(observed, dtype=float))
    nul = np.abs(np.asarray(null, dtype=float))
    valid = np.isfinite(nul)
    ge = (nul >= obs[None, :] - 1e-12 * np.maximum(1.0, obs[None, :])) & valid
    n = valid.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (1.0 + ge.sum(0)) / (1.0 + n)


def lever_as_outcome(mom: Moments, lever: np.ndarray) -> Moments:
    """Moments with the outcome replaced by a family-constant column ``lever`` (F,): ``X0' W (L_f 1)`` is
    ``L_f M_f[:, 0]``. Regressing the lever itself on a shuffled design gives the slope ``b`` that makes the
    shuffled statistic linear in a hypothesised effect (see :func:`inverted_ci`)."""
    return Moments(mom.M, lever[:, None] * mom.M[:, :, 0], mom.n_obs)


def inverted_ci(beta: float, a: np.ndarray, b: np.ndarray, level: float, scale: float,
                n_grid: int = 1201) -> tuple[float | None, float | None]:
    """Confidence interval from inverting the permutation test over hypothesised effects ``beta0``.

    Under ``H0: effect = beta0`` the outcome ``y - beta0 L`` has no lever effect, and because the fit is
    linear in the outcome, its shuffled coefficient is ``a - beta0 b`` (``a``: shuffled coefficient of ``y``,
    ``b``: of ``L``) while the observed one is ``beta - beta0``. The interval is every ``beta0`` whose
    permutation p-value exceeds ``1 - level``, so it agrees with the test: it excludes 0 exactly when the
    test rejects at that level (up to the grid). An end that reaches the search range after three widenings is
    returned as None (unbounded).

    Args:
        beta: observed coefficient; a, b: ``(P,)`` shuffled coefficients of ``y`` and of ``L``.
        level: confidence level; scale: initial half-width of the search (e.g. a few bootstrap SEs).
    """
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if a.size == 0 or not np.isfinite(beta):
        return None, None
    scale = scale if np.isfinite(scale) and scale > 0 else max(abs(beta), 1.0)
    thr = 1.0 - level
    for _ in range(4):
        grid = beta + scale * np.linspace(-1.0, 1.0, n_grid)
        obs = np.abs(beta - grid)
        null = np.abs(a[:, None] - grid[None, :] * b[:, None])
        p = (1.0 + (null >= obs[None, :] - 1e-12 * np.maximum(1.0, obs[None, :])).sum(0)) / (1.0 + a.size)
        acc = np.flatnonzero(p > thr)
        if acc.size == 0:
            return float(beta), float(beta)
        lo_edge, hi_edge = acc[0] == 0, acc[-1] == n_grid - 1
        if not (lo_edge or hi_edge):
            return float(grid[acc[0]]), float(grid[acc[-1]])
        scale *= 4.0
    return (None if lo_edge else float(grid[acc[0]])), (None if hi_edge else float(grid[acc[-1]]))
