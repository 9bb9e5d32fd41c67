"""Synthetic model families with a planted critical scale, for testing N_c estimators.

A simulated family has ``n_models`` sizes spread over about two decades of parameters. Its true
HellaSwag curve rises logistically in ``log10 N``; its true TruthfulQA curve is either

* U-shaped with its minimum at the planted ``N_c`` (``flip=True``): then ``gamma = dTQA/dHS`` is negative
  below ``N_c`` and positive above it, i.e. ``N_c`` is exactly the zero crossing of gamma; the two arms
  may have different curvatures; or
* monotone in ``log10 N`` (``flip=False``): gamma keeps one sign at every size (all tax or all bonus).

Observed scores are drawn as binomial proportions with each benchmark's public item count
(HellaSwag 10,042 items, TruthfulQA 817; :mod:`cape.catalog`), i.e. the sampling noise of a real
evaluation, optionally plus an extra per-model jitter (``extra_sd`` percentage points).

Example:
    >>> import numpy as np
    >>> fam = simulate_family(np.random.default_rng(0), nc=3e9)
    >>> sorted(fam.frame.columns)[:3]
    ['HellaSwag', 'TruthfulQA', 'family']
    >>> fam.nc
    3000000000.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import catalog
from ._validate import check_int, check_level, check_n_boot, check_seed


@dataclass(frozen=True)
class SimulatedFamily:
    """One synthetic family.

    Attributes:
        frame: wide DataFrame (``model, family, params, HellaSwag, TruthfulQA``), observed (noisy) scores.
        nc: the planted critical scale in raw parameters (None for a family without a flip).
        truth: the noise-free scores and the generating parameters.
    """

    frame: object
    nc: float | None
    truth: dict = field(default_factory=dict)

    def table(self):
        from .scores import ScoreTable

        return ScoreTable.from_wide(self.frame, units="percent", name=f"simulated {self.frame['family'].iloc[0]}")


def _sizes(rng: np.random.Generator, n_models: int, span: tuple[float, float], start: tuple[float, float]):
    lo = rng.uniform(*start)
    width = rng.uniform(*span)
    # roughly even spacing in log N with jitter, like real families (70M, 160M, 410M, 1B, ...)
    base = np.linspace(lo, lo + width, n_models)
    step = width / max(n_models - 1, 1)
    jit = rng.uniform(-0.3, 0.3, n_models) * step
    jit[0] = jit[-1] = 0.0
    return np.sort(base + jit)


def observe(true_pct: np.ndarray, benchmark: str, rng: np.random.Generator, *, extra_sd: float = 0.0):
    """Binomial observation of true percentages on ``benchmark`` (its item count), plus optional jitter."""
    n = catalog.info(benchmark).n_items
    p = np.clip(np.asarray(true_pct, float) / 100.0, 0.0, 1.0)
    obs = 100.0 * rng.binomial(n, p) / n
    if extra_sd > 0:
        obs = obs + rng.normal(0.0, extra_sd, size=obs.shape)
    return np.clip(obs, 0.0, 100.0)


def simulate_family(rng: np.random.Generator, *, nc: float | None = None, flip: bool = True,
                    n_models: int | None = None, span: tuple[float, float] = (1.8, 2.8),
                    start: tuple[float, float] = (7.8, 8.6), curvature: tuple[float, float] = (2.5, 7.0),
                    slope: tuple[float, float] = (2.0, 6.0), extra_sd: float = 0.0,
                    family: str = "Sim") -> SimulatedFamily:
    """Draw one synthetic family.

    Args:
        rng: a ``numpy.random.Generator``.
        nc: planted critical scale (raw parameters). With ``flip=True`` and ``nc=None`` it is drawn inside
            the central 60% of the family's log-size range.
        flip: U-shaped TruthfulQA (planted flip) or monotone (no flip).
        n_models: number of sizes (default: 5 to 8 at random).
        span, start: ranges (decades, log10 N) for the family's width and smallest model.
        curvature: range of the TruthfulQA curvature on each arm, percentage points per decade squared (the
            paper's pooled quadratic has 4.5).
        slope: range of |dTQA/dlog10 N| for families without a flip (pp per decade; Pythia: about 7).
        extra_sd: extra per-model noise (pp) on top of binomial sampling noise.

    Returns:
        :class:`SimulatedFamily` with the observed scores and the planted ``nc``.
    """
    k = int(n_models if n_models is not None else rng.integers(5, 9))
    x = _sizes(rng, k, span, start)
    # HellaSwag: logistic between 25 and 90 percent
    xh = rng.uniform(9.3, 10.6)
    w = rng.uniform(0.55, 0.9)
    hs = 25.0 + 65.0 / (1.0 + np.exp(-(x - xh) / w))
    truth: dict = {"log10_n": x.tolist(), "hs_center": xh, "hs_width": w}
    if flip:
        if nc is None:
            lo, hi = x[0] + 0.2 * (x[-1] - x[0]), x[-1] - 0.2 * (x[-1] - x[0])
            xc = rng.uniform(lo, hi)
        else:
            xc = float(np.log10(nc))
        cl, cr = rng.uniform(*curvature, size=2)
        tmin = rng.uniform(30.0, 40.0)
        tqa = tmin + np.where(x < xc, cl, cr) * (x - xc) ** 2
        truth.update(curv_left=cl, curv_right=cr, tqa_min=tmin)
        nc_out = float(nc) if nc is not None else float(10 ** xc)
    else:
        s = rng.uniform(*slope) * (1 if rng.random() < 0.5 else -1)
        t0 = rng.uniform(35.0, 50.0)
        tqa = t0 + s * (x - x.mean())
        truth.update(tqa_slope=s)
        nc_out = None
    tqa = np.clip(tqa, 5.0, 95.0)
    truth.update(hs=hs.tolist(), tqa=tqa.tolist())
    import pandas as pd

    params = np.round(10 ** x, -5)
    frame = pd.DataFrame({
        "model": [f"{family}-{i + 1}" for i in range(k)],
        "family": family,
        "params": params,
        "HellaSwag": observe(hs, "HellaSwag", rng, extra_sd=extra_sd),
        "TruthfulQA": observe(tqa, "TruthfulQA", rng, extra_sd=extra_sd),
    })
    return SimulatedFamily(frame, nc_out, truth)


def simulate_families(n: int, *, seed: int = 0, flip: bool = True, **kw) -> list[SimulatedFamily]:
    """``n`` independent families from one seed (see :func:`simulate_family` for the keywords).

    Example:
        >>> fams = simulate_families(3, seed=1, flip=False)
        >>> [f.nc for f in fams]
        [None, None, None]
    """
    rng = np.random.default_rng(seed)
    return [simulate_family(rng, flip=flip, family=f"Sim{i + 1}", **kw) for i in range(n)]


@dataclass(frozen=True)
class CoverageStudy:
    """How the within-family N_c estimator behaves on simulated families.

    Attributes:
        n: families simulated; flip: whether they have a planted N_c.
        coverage: share of families whose CI (one-sided ends count as unbounded) contains the planted N_c
            (flip=True only).
        coverage_when_bounded: the same among families with a two-sided CI.
        status: counts of each status; none_rate: share reported ``none``.
        median_ci_decades: median width (log10 units) of the two-sided CIs.
    """

    n: int
    flip: bool
    n_boot: int
    coverage: float | None
    coverage_when_bounded: float | None
    status: dict
    none_rate: float
    median_ci_decades: float | None

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def coverage_study(n: int = 200, *, flip: bool = True, seed: int = 0, n_boot: int = 2000, level: float = 0.95,
                   **kw) -> CoverageStudy:
    """Simulate ``n`` families (:func:`simulate_families`) and run the default N_c estimator on each.

    Example:
        >>> cs = coverage_study(20, flip=False, n_boot=500)
        >>> cs.none_rate >= 0.8
        True
    """
    n = check_int(n, "n", minimum=1)
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed, allow_none=False)
    level = check_level(level)
    import math

    from .coupling import score_frame
    from .critical import critical_scale

    fams = simulate_families(n, seed=seed, flip=flip, **kw)
    covered, bounded_cov, widths = 0, [], []
    status: dict[str, int] = {}
    for i, f in enumerate(fams):
        frame = score_frame(f.frame, ("HellaSwag", "TruthfulQA"))
        r = critical_scale(frame, n_boot=n_boot, seed=seed * 100_003 + i, level=level)
        status[r.status] = status.get(r.status, 0) + 1
        lo = 0.0 if r.ci_low_unbounded else r.ci_low
        hi = math.inf if r.ci_high_unbounded else r.ci_high
        two_sided = not (r.ci_low_unbounded or r.ci_high_unbounded) and lo is not None and hi is not None
        if two_sided:
            widths.append(math.log10(hi) - math.log10(lo))
        if flip and lo is not None and hi is not None:
            hit = lo <= f.nc <= hi
            covered += hit
            if two_sided:
                bounded_cov.append(hit)
    return CoverageStudy(n, flip, n_boot, covered / n if flip else None,
                         (sum(bounded_cov) / len(bounded_cov)) if (flip and bounded_cov) else None, status,
                         status.get("none", 0) / n, float(np.median(widths)) if widths else None)
