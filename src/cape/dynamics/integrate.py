"""Integration of polynomial capability ODEs, one system or many at once.

``simulate`` integrates ``dB/dx = Xi . Theta(B)`` with ``x = log10 N`` by scipy's ``solve_ivp`` (RK45,
``rtol=1e-6``, ``atol=1e-9``). Several systems (ensemble members, bootstrap refits) are stacked into one
vector ODE so that one call integrates them all. The state is clipped to [-100, 200] percent inside the
right-hand side so that one exploding member cannot stall the others; a trajectory whose prediction leaves
[-50, 150] percent is reported as diverged (NaN).
"""

from __future__ import annotations

import numpy as np

from .sparse import features
from .trajectories import Units

#: Clip range (percent) of the state inside the right-hand side.
CLIP_PERCENT = (-100.0, 200.0)
#: Predictions outside this range (percent) count as diverged.
VALID_PERCENT = (-50.0, 150.0)


def simulate(coefs: np.ndarray, powers: np.ndarray, units: Units, y0_percent: np.ndarray, x0: float,
             x_eval: np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-9) -> np.ndarray:
    """Integrate one or many polynomial systems from ``(x0, y0)`` and return percent scores at ``x_eval``.

    Args:
        coefs: ``(d, F)`` for one system or ``(R, d, F)`` for ``R`` systems.
        powers: library exponents ``(F, d)``.
        units: the units the coefficients are in.
        y0_percent: initial scores in percent, ``(d,)`` (shared) or ``(R, d)``.
        x0: initial ``log10 N``.
        x_eval: where to report, ``log10 N`` (any order; points on either side of ``x0`` are integrated
            forward and backward separately).

    Returns:
        Percent scores ``(m, d)`` for one system or ``(R, m, d)``; NaN where a system diverged.

    Example:
        >>> import numpy as np
        >>> from cape.dynamics.trajectories import Units
        >>> u = Units("fraction", np.zeros(1), np.full(1, 100.0))
        >>> pw = np.array([[0], [1]])                 # library 1, B
        >>> out = simulate(np.array([[0.1, 0.0]]), pw, u, np.array([20.0]), 9.0, np.array([10.0]))
        >>> round(float(out[0, 0]), 6)                # dB/dx = 0.1 (fraction) = 10 points per decade
        30.0
    """
    from scipy.integrate import solve_ivp

    single = np.ndim(coefs) == 2
    C = np.asarray(coefs, dtype=float)[None] if single else np.asarray(coefs, dtype=float)
    R, d, _ = C.shape
    y0 = np.broadcast_to(units.to_state(np.asarray(y0_percent, dtype=float)), (R, d)).copy()
    lo = units.to_state(np.full(d, CLIP_PERCENT[0]))
    hi = units.to_state(np.full(d, CLIP_PERCENT[1]))
    xe = np.asarray(x_eval, dtype=float)
    out = np.full((R, len(xe), d), np.nan)

    def rhs(_t, flat):
        y = np.clip(flat.reshape(R, d), lo, hi)
        return np.einsum("rf,rdf->rd", features(y, powers), C).ravel()

    at0 = np.isclose(xe, x0, rtol=0, atol=1e-12)
    out[:, at0, :] = units.to_percent(y0)[:, None, :]
    for direction in (1.0, -1.0):
        sel = np.flatnonzero((xe - x0) * direction > 1e-12)
        if sel.size == 0:
            continue
        order = sel[np.argsort(direction * xe[sel])]
        t_end = xe[order[-1]]
        sol = solve_ivp(rhs, (x0, t_end), y0.ravel(), method="RK45", t_eval=xe[order], rtol=rtol, atol=atol)
        got = sol.y.T.reshape(-1, R, d)  # (m_got, R, d)
        k = got.shape[0]
        out[:, order[:k], :] = units.to_percent(np.transpose(got, (1, 0, 2)))
    bad = (out < VALID_PERCENT[0]) | (out > VALID_PERCENT[1])
    diverged = np.any(bad, axis=(1, 2))
    out[diverged] = np.nan
    return out[0] if single else out


def diverged(pred: np.ndarray) -> np.ndarray:
    """Which systems diverged: ``(R,)`` bools for predictions ``(R, m, d)`` from :func:`simulate`."""
    return np.isnan(pred).any(axis=tuple(range(1, pred.ndim)))


__all__ = ["simulate", "diverged", "CLIP_PERCENT", "VALID_PERCENT"]
