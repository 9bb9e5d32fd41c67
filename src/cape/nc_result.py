"""N_c results and the per-family arrays every N_c estimator reads (:mod:`cape.critical` re-exports them).

:class:`NcResult` is what each estimator returns; :class:`FamilyData` is one family's size-sorted scores and
standard errors, collected by :func:`family_data` (one family) or :func:`families_data` (many, split once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._format import fields_dict, fmt_params
from ._validate import check_pair as resolve_pair
from .coupling import DEFAULT_PAIR, family_arrays, score_frame, size_order

HORIZON = 1.0  # decades beyond the measured range that an extrapolated N_c may lie


# ---------------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class NcResult:
    """An N_c estimate with its CI and status. All sizes are raw parameter counts.

    Attributes:
        method: estimator name (``crossing``, ``pooled``, ``paper``).
        estimate: point estimate (None when there is no flip or too little data).
        ci_low, ci_high: percentile CI ends; None where the CI is unbounded (see ``ci_*_unbounded``).
        status: ``observed`` (flip inside the measured size range), ``extrapolated`` (outside it, from a
            fit), ``none`` (no flip established), ``insufficient`` (too little data).
        direction: for ``none``: ``above`` (gamma stays <= 0: a flip, if any, lies above the range / the CI
            lower end), ``below`` (gamma > 0 throughout: cooperative at all measured sizes), or None.
        bracket: the two interval midpoints' upper models around an observed crossing.
        size_range: smallest and largest parameter count used.
        n_boot, n_valid: replicates drawn and replicates with a finite N_c.
        bootstrap: the resampling scheme; seed: RNG seed.
        message: one sentence for people.
        details: estimator-specific numbers (fit coefficients, median/mean, 68% CI, ...).
    """

    method: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    status: str
    level: float = 0.95
    direction: str | None = None
    bracket: tuple[str, str] | None = None
    size_range: tuple[float, float] | None = None
    n_boot: int = 0
    n_valid: int = 0
    bootstrap: str = "noise"
    seed: int | None = None
    ci_low_unbounded: bool = False
    ci_high_unbounded: bool = False
    message: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = fields_dict(self)
        d["bracket"] = list(self.bracket) if self.bracket else None
        d["size_range"] = list(self.size_range) if self.size_range else None
        return d

    def summary(self) -> str:
        """``"3.49B [2.92B, 13.4B] (observed)"``-style text."""
        lo = "0" if self.ci_low_unbounded else fmt_params(self.ci_low)
        hi = "∞" if self.ci_high_unbounded else fmt_params(self.ci_high)
        ci = f"[{lo}, {hi}]" if (self.ci_low is not None or self.ci_high is not None
                                 or self.ci_low_unbounded or self.ci_high_unbounded) else ""
        return f"{fmt_params(self.estimate)} {ci} ({self.status})".replace("  ", " ")


def _insufficient(method: str, msg: str, **kw) -> NcResult:
    return NcResult(method=method, estimate=None, ci_low=None, ci_high=None, status="insufficient", message=msg,
                    **kw)


def _pow10(x: float) -> float | None:
    return float(10.0 ** x) if (x is not None and math.isfinite(x)) else None


@dataclass(frozen=True)
class FamilyData:
    """Arrays of one family, sorted by size: names, raw sizes, scores (K, 2) and standard errors (K, 2)."""

    family: str
    b1: str
    b2: str
    models: tuple[str, ...]
    params: np.ndarray
    scores: np.ndarray
    se: np.ndarray
    dropped: dict

    @property
    def logn(self) -> np.ndarray:
        return np.log10(self.params)


def family_data(table, family: str | None = None, pair: Sequence[str] | str = DEFAULT_PAIR) -> FamilyData:
    """Collect one family's sorted scores and their standard errors (given stderr, else binomial).

    ``table``: a ScoreTable, a wide frame, or (fastest, when looping over families) the frame of
    :func:`cape.coupling.score_frame`. Models sharing a parameter count are kept (their step is skipped).
    """
    b1, b2 = resolve_pair(pair)
    frame = score_frame(table, (b1, b2)) if not _is_score_frame(table, (b1, b2)) else table
    models, params, sc, dropped, se = family_arrays(frame, family, (b1, b2), with_se=True)
    fam = family
    if fam is None:
        fams = frame["family"].dropna().astype(str).unique()
        fam = fams[0] if len(fams) == 1 else "family"
    bad = ~np.isfinite(se)
    if bad.any():
        from . import catalog

        for j, b in enumerate((b1, b2)):
            se[bad[:, j], j] = [catalog.binomial_stderr(v, b) for v in sc[bad[:, j], j]]
    return FamilyData(str(fam), b1, b2, tuple(models), params, sc, se, dropped)


def families_data(frame, pair: Sequence[str] | str, families: Sequence[str]) -> dict[str, FamilyData]:
    """:func:`family_data` of each of ``families`` (those with rows) from a score frame, split once.

    The same arrays as one :func:`family_data` call per family, without re-reading the frame each time.
    """
    b1, b2 = resolve_pair(pair)
    pos_of = frame.groupby(frame["family"].astype(str), sort=False).indices
    names = np.asarray([str(m) for m in frame.index], dtype=object)
    params_all = frame["params"].to_numpy(dtype=float)
    sc_all = frame[[b1, b2]].to_numpy(dtype=float)
    se_all = frame[[f"se:{b1}", f"se:{b2}"]].to_numpy(dtype=float)
    out = {}
    for fam in families:
        rows = pos_of.get(str(fam))
        if rows is None:
            continue
        params, sc = params_all[rows], sc_all[rows]
        good = np.isfinite(params) & np.isfinite(sc).all(axis=1)
        dropped: dict[str, str] = {}
        for i in np.flatnonzero(~good):
            dropped[names[rows[i]]] = ("no parameter count" if not math.isfinite(params[i]) else
                                       "no " + ", ".join(b for b, v in zip((b1, b2), sc[i]) if not math.isfinite(v))
                                       + " score")
        keep = np.flatnonzero(good)
        keep = keep[size_order(params[keep], names[rows][keep])]
        se = se_all[rows][keep]
        bad = ~np.isfinite(se)
        if bad.any():
            from . import catalog

            for j, b in enumerate((b1, b2)):
                se[bad[:, j], j] = [catalog.binomial_stderr(v, b) for v in sc[keep][bad[:, j], j]]
        out[str(fam)] = FamilyData(str(fam), b1, b2, tuple(str(m) for m in names[rows][keep]), params[keep],
                                   sc[keep], se, dropped)
    return out


def _is_score_frame(table, bs) -> bool:
    return hasattr(table, "columns") and all(f"se:{b}" in table.columns for b in bs)
