"""Standard error of each local coupling step, for error bars on gamma(N).

gamma = d2 / d1 is a ratio of two score differences between consecutive sizes. Each difference carries the
standard errors of its two scores, ``se(d) = sqrt(se_lower^2 + se_upper^2)``, plus, when the diagnosis measured
extra noise from the data (``noise="data"``), that extra standard deviation on each score. The delta method gives

    se(gamma) = sqrt(se(d2)^2 + gamma^2 se(d1)^2) / |d1|

(first order; it understates the error when ``|d1|`` is close to its own error, which is when the step is
near the diagnosis' ``min_delta``).

Example:
    >>> from cape import data
    >>> from cape.diagnose import diagnose
    >>> t = data.load_base().filter(family="Pythia")
    >>> g = gamma_errors(diagnose(t, n_boot=0), t)
    >>> round(float(g["gamma_se"].iloc[0]), 2)        # Pythia-70M -> 160M: gamma -0.68
    0.75
"""

from __future__ import annotations

import math

__all__ = ["gamma_errors", "gamma_se"]


def gamma_se(d1: float, d2: float, se1: float, se2: float) -> float | None:
    """Delta-method standard error of ``d2 / d1``.

    Args:
        d1, d2: the score changes (percentage points).
        se1, se2: their standard errors (percentage points).

    Returns:
        The standard error (unitless, as gamma), or None when ``d1`` is 0 or an input is not finite.

    Example:
        >>> round(gamma_se(10.0, -5.0, 1.0, 1.0), 4)
        0.1118
    """
    vals = (d1, d2, se1, se2)
    if any(v is None or not math.isfinite(float(v)) for v in vals) or d1 == 0:
        return None
    g = d2 / d1
    return math.sqrt(se2 ** 2 + (g * se1) ** 2) / abs(d1)


def gamma_errors(res, table):
    """The diagnosis' interval table with a ``gamma_se`` column (None where gamma is missing).

    Args:
        res: a :class:`~cape.diagnose.DiagnosisResult`.
        table: the :class:`~cape.scores.ScoreTable` it was computed from (for the scores' standard errors).

    Returns:
        ``res.gamma_frame()`` plus ``gamma_se``.
    """
    from .coupling import score_frame

    g = res.gamma_frame().copy()
    sf = score_frame(table, [res.b1, res.b2])
    extra = {ne.benchmark: ne.extra_sd for ne in getattr(res, "noise", ())} if res.noise_mode == "data" else {}

    def se(model: str, b: str) -> float:
        try:
            v = sf.loc[model, f"se:{b}"]
        except KeyError:
            return float("nan")
        v = float(v.iloc[0]) if hasattr(v, "iloc") else float(v)
        return math.sqrt(v ** 2 + extra.get(b, 0.0) ** 2)

    out = []
    for _, r in g.iterrows():
        if r["gamma"] is None or not math.isfinite(float(r["gamma"])):
            out.append(None)
            continue
        se1 = math.hypot(se(r["lower"], res.b1), se(r["upper"], res.b1))
        se2 = math.hypot(se(r["lower"], res.b2), se(r["upper"], res.b2))
        out.append(gamma_se(float(r["d1"]), float(r["d2"]), se1, se2))
    g["gamma_se"] = out
    return g
