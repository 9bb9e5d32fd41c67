"""Population coupling r: Pearson r over a panel of models with a permutation p-value, Fisher's interval and a
bootstrap interval (:mod:`cape.coupling` re-exports both names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._format import fields_dict
from ._format import finite_or_none as _f
from ._runcache import once_per_run
from ._stats import fisher_ci, pearson_pvalue, pearson_rows, percentile_ci, permutation_p
from ._validate import check_level, check_n_boot, check_same_length, check_seed


@dataclass(frozen=True)
class PopulationCoupling:
    """Pearson r between two benchmarks over a panel of models.

    Attributes:
        r: Pearson r (None when undefined: fewer than 3 models or a constant benchmark).
        p: two-sided p-value of the t-test (scipy ``pearsonr``).
        p_perm: permutation p-value: exact over all ``n!`` orderings when ``n! <= 100,000``, else Monte Carlo
            ``(1 + #{|r*| >= |r|}) / (1 + n_perm)``; ``p_perm_method`` says which.
        ci_low, ci_high: Fisher-z CI (``ci_method``); ``[-1, 1]`` at n = 3.
        ci_boot: percentile bootstrap CI (models resampled with replacement), shown for comparison only: it
            is degenerate for a handful of models.
        n: number of models; status ``ok`` / ``few_models`` / ``constant`` / ``insufficient``.
    """

    b1: str
    b2: str
    n: int
    r: float | None
    p: float | None
    p_perm: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    n_boot: int
    n_perm: int
    seed: int | None
    status: str
    message: str = ""
    ci_method: str = "fisher-z"
    p_perm_method: str | None = None
    n_permutations: int = 0
    ci_boot: tuple[float | None, float | None] = (None, None)

    def summary(self) -> str:
        """One line: ``r(HellaSwag, TruthfulQA) = -0.989 (8 models), 95% CI [-0.998, -0.936], p = 3.65e-06,
        permutation p = 4.96e-05 (exact)``; the status message when r is undefined."""
        if self.r is None:
            return f"r({self.b1}, {self.b2}) undefined: {self.message}"
        txt = f"r({self.b1}, {self.b2}) = {self.r:+.3f} ({self.n} models)"
        if self.ci_low is not None and self.ci_high is not None:
            txt += f", {self.level:.0%} CI [{self.ci_low:+.3f}, {self.ci_high:+.3f}]"
        if self.p is not None:
            txt += f", p = {self.p:.3g}"
        if self.p_perm is not None:
            txt += f", permutation p = {self.p_perm:.3g}" + (f" ({self.p_perm_method})" if self.p_perm_method else "")
        return txt + (f"; {self.message}" if self.message else "")

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        d = fields_dict(self)
        d["ci_boot"] = list(self.ci_boot)
        return d


@once_per_run
def population_r(x: Sequence[float], y: Sequence[float], *, b1: str = "B1", b2: str = "B2",
                 n_boot: int = 10_000, n_perm: int = 10_000, seed: int | None = 0,
                 level: float = 0.95) -> PopulationCoupling:
    """Population coupling r with a permutation p-value and a bootstrap CI (both vectorised).

    Args:
        x, y: scores of B1 and B2 of the same models.
        n_boot: resamples of the comparison bootstrap CI ``ci_boot`` (0 skips it).
        n_perm: Monte Carlo permutations when n! > 100,000 (smaller n is enumerated exactly; 0 skips it).
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        :class:`PopulationCoupling`; never NaN: undefined values are None with a ``status``.

    Example:
        >>> pc = population_r([27.3, 31.4, 40.9, 49.7], [47.1, 44.3, 41.2, 38.9], n_boot=200, n_perm=200)
        >>> round(pc.r, 3), pc.status
        (-0.984, 'few_models')
    """
    n_boot = check_n_boot(n_boot)
    n_perm = check_n_boot(n_perm, "n_perm")
    seed = check_seed(seed)
    level = check_level(level)
    check_same_length(x, y, "x", "y")
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = int(xa.size)
    base: dict[str, Any] = dict(b1=b1, b2=b2, n=n, level=level, n_boot=n_boot, n_perm=n_perm, seed=seed)
    if n < 3:
        return PopulationCoupling(r=None, p=None, p_perm=None, ci_low=None, ci_high=None, status="insufficient",
                                  message=f"{n} model(s) with both {b1} and {b2}; r needs at least 3", **base)
    const = [b for b, v in ((b1, xa), (b2, ya)) if np.ptp(v) == 0]
    if const:
        return PopulationCoupling(r=None, p=None, p_perm=None, ci_low=None, ci_high=None, status="constant",
                                  message=f"{' and '.join(const)} constant across the {n} models; r undefined",
                                  **base)
    r = float(pearson_rows(xa, ya))
    p = pearson_pvalue(r, n)
    rng = np.random.default_rng(seed)
    blo = bhi = None
    if n_boot > 0:  # resamples in columns (n, rows): the numbers of pearson_rows on the rows, faster
        from ._columns import pearson_columns

        rb = np.concatenate([pearson_columns(xa[i], ya[i]) for i in
                             (np.ascontiguousarray(rng.integers(0, n, size=(min(4096, n_boot - s), n)).T) for s in range(0, n_boot, 4096))])
        blo, bhi = percentile_ci(rb, level)
    lo, hi = fisher_ci(r, n, level)
    pp, how, k = permutation_p(xa, ya, r, n_perm=n_perm, rng=rng)
    status, msg = "ok", ""
    if n < 5:
        status, msg = "few_models", (f"only {n} models: r is fragile" + (" and three points cannot bound it (CI "
                                                                         "[-1, 1])" if n == 3 else ""))
    return PopulationCoupling(r=_f(r), p=_f(p), p_perm=_f(pp), ci_low=_f(lo), ci_high=_f(hi), status=status,
                              message=msg, p_perm_method=how if pp is not None else None, n_permutations=k,
                              ci_boot=(_f(blo), _f(bhi)), **base)
