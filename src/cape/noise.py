"""Benchmark noise measured from the data: the extra-binomial variance of each benchmark.

A score's stated standard error (the ``stderr`` column of a file, otherwise the binomial error of the
benchmark's item count) covers item sampling only. Real scores scatter more: prompt formats, evaluation
harness versions and training-run luck add a per-model jitter. We measure it from the residuals of smooth
within-family fits: every family with at least ``degree + 2`` distinct sizes gets a weighted polynomial fit of
the score against ``x = log10 N``; over all families together

* ``chi2 = sum r_i^2 / se_i^2`` on ``df = sum (K_f - degree - 1)`` degrees of freedom tests the residuals
  against the stated errors (``p`` from the chi-square law);
* the extra variance ``tau^2`` is the method-of-moments solution of
  ``sum r_i^2 = sum (1 - h_i) (se_i^2 + tau^2)`` (``h_i``: leverage of model i in its family's fit),
  floored at 0.

Every bootstrap and every interval then uses ``sqrt(se_i^2 + tau^2)`` (the larger of stated and measured
noise: ``tau`` is 0 when the data are no noisier than stated). Lack of fit of the polynomial counts as noise,
which widens the intervals where the smooth curve is a poor description: a conservative choice.

Example:
    >>> from cape import data
    >>> from cape.coupling import score_frame
    >>> frame = score_frame(data.load_base(), ("HellaSwag", "TruthfulQA"))
    >>> est = estimate_noise(frame, "TruthfulQA")
    >>> est.n_families >= 5 and est.extra_sd >= 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._dist import chi2_sf
from ._format import fields_dict
from ._runcache import once_per_run
from .coupling import size_order


@dataclass(frozen=True)
class NoiseEstimate:
    """The noise of one benchmark, stated and measured (percentage points).

    Attributes:
        benchmark: benchmark name.
        stated_sd: median stated standard error (stderr column, else binomial).
        extra_sd: ``tau``, the extra-binomial standard deviation measured from the residuals (0 when none).
        effective_sd: median of ``sqrt(se^2 + tau^2)``: the noise every interval uses.
        chi2, df, p: residuals against the stated errors (chi-square test); ``dispersion = chi2 / df``.
        n_families, n_models: what the measurement rests on; ``degree``: polynomial degree of the fits.
        noisier_than_stated: ``p < 0.05`` and ``tau > 0``.
        message: one sentence for people.
    """

    benchmark: str
    stated_sd: float | None
    extra_sd: float
    effective_sd: float | None
    chi2: float | None
    df: int
    p: float | None
    dispersion: float | None
    n_families: int
    n_models: int
    degree: int
    noisier_than_stated: bool
    message: str

    def to_dict(self) -> dict:
        return fields_dict(self)


def _poly_design(x: np.ndarray, degree: int) -> np.ndarray:
    u = x - x.mean()
    return np.vander(u, degree + 1, increasing=True)


def family_residuals(x: np.ndarray, y: np.ndarray, se: np.ndarray, degree: int = 2):
    """Residuals and leverages of the weighted polynomial fit of ``y`` on ``x`` (one family).

    Returns:
        ``(r, h)`` arrays of length K, or None when there are fewer than ``degree + 2`` distinct sizes.
    """
    if np.unique(x).size < degree + 2:
        return None
    X = _poly_design(x, degree)
    w = 1.0 / np.maximum(se, 1e-6) ** 2
    Xw = X * np.sqrt(w)[:, None]
    yw = y * np.sqrt(w)
    beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
    r = y - X @ beta
    q, _ = np.linalg.qr(Xw)
    h = (q * q).sum(1)
    return r, h


@once_per_run
def estimate_noise(frame, benchmark: str, *, families: Sequence[str] | None = None, degree: int = 2,
                   alpha: float = 0.05) -> NoiseEstimate:
    """Measure a benchmark's extra-binomial noise from within-family fits (see the module docstring).

    Args:
        frame: the frame of :func:`cape.coupling.score_frame` (columns ``family``, ``params``, the benchmark
            and ``se:<benchmark>``).
        benchmark: the benchmark's column.
        families: families to use (default: all).
        degree: degree of the within-family polynomial in ``log10 N``.
        alpha: level of the chi-square test behind ``noisier_than_stated``.

    Returns:
        :class:`NoiseEstimate`.
    """
    sub = frame.dropna(subset=["params", benchmark])
    fams = list(families) if families is not None else list(dict.fromkeys(sub["family"].dropna().astype(str)))
    rows = sub.groupby(sub["family"].astype(str), sort=False).indices  # each family's positions, split once
    names = np.asarray([str(m) for m in sub.index], dtype=object)
    params = sub["params"].to_numpy(float)
    y, se = sub[benchmark].to_numpy(float), sub[f"se:{benchmark}"].to_numpy(float)
    groups = []
    for f in fams:
        pos = rows.get(str(f))
        if pos is None or pos.size == 0:
            continue
        pos = pos[size_order(params[pos], names[pos])]
        groups.append((np.log10(params[pos]), y[pos], se[pos]))
    return noise_from_groups(benchmark, groups, degree=degree, alpha=alpha)


def noise_from_groups(benchmark: str, groups, *, degree: int = 2, alpha: float = 0.05) -> NoiseEstimate:
    """:func:`estimate_noise` on arrays: ``groups`` is a list of ``(log10 N, score, stated se)`` per family.

    The sums over families are exactly rounded (``math.fsum``), so the estimate does not depend on the order
    the families come in: the diagnosis and the population N_c, which list them differently, get the same
    number to the last bit."""
    terms: tuple[list[float], list[float], list[float], list[float]] = ([], [], [], [])
    df = nf = nm = 0
    stated: list = []
    for x, y, se in groups:
        stated += list(se[np.isfinite(se)])
        if not np.isfinite(se).all():
            continue
        out = family_residuals(x, y, se, degree)
        if out is None:
            continue
        r, h = out
        for acc, v in zip(terms, (r * r, (1 - h) * se * se, 1 - h, r * r / np.maximum(se, 1e-6) ** 2)):
            acc.append(float(np.sum(v)))
        df += len(x) - degree - 1
        nf += 1
        nm += len(x)
    rss, lev_var, lev, chi2 = (math.fsum(t) for t in terms)
    sd = float(np.median(stated)) if stated else None
    if df == 0:
        return NoiseEstimate(benchmark, sd, 0.0, sd, None, 0, None, None, nf, nm, degree, False,
                             f"{benchmark}: no family has {degree + 2} or more sizes, so the noise cannot be "
                             "measured; the stated errors are used as they are")
    tau2 = max(0.0, (rss - lev_var) / lev) if lev > 0 else 0.0
    p = chi2_sf(chi2, df)
    noisy = p < alpha and tau2 > 0
    tau = math.sqrt(tau2)
    eff = float(np.median(np.sqrt(np.asarray(stated) ** 2 + tau2))) if stated else None
    disp = chi2 / df
    if noisy:
        msg = (f"{benchmark} scores scatter {math.sqrt(disp):.2g}x more than their stated errors around smooth "
               f"within-family fits (chi-square {chi2:.1f} on {df} df, p = {p:.2g}); an extra "
               f"{tau:.2g} pp of noise is added to every interval")
    else:
        msg = (f"{benchmark} scores scatter as their stated errors say (chi-square {chi2:.1f} on {df} df, "
               f"p = {p:.2g})" + (f"; the {tau:.2g} pp excess is kept in the intervals" if tau > 0 else ""))
    return NoiseEstimate(benchmark, sd, tau, eff, chi2, df, p, disp, nf, nm, degree, noisy, msg)


def apply_noise(frame, estimates: Sequence[NoiseEstimate]):
    """A copy of ``frame`` whose ``se:<benchmark>`` columns include the measured extra noise:
    ``sqrt(se^2 + tau^2)``. The input frame is not modified."""
    out = frame.copy()
    for e in estimates:
        col = f"se:{e.benchmark}"
        if col in out.columns and e.extra_sd > 0:
            out[col] = np.sqrt(out[col].to_numpy(float) ** 2 + e.extra_sd ** 2)
    return out
