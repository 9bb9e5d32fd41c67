"""Per-phase discovery: the same sparse ODE fitted separately on tax-phase and bonus-phase intervals.

Each secant sample is one interval between consecutive models of a family, so it has a phase:

``split="gamma"`` (default)
    the interval's measured coupling ``gamma = dTQA/dHS`` (docs/methods.md, "Local coupling"; intervals with ``|dHS| <= 0.5``
    points are unassigned): tax below -0.1, bonus above +0.1, transition between. Caveat: the split selects
    on the derivatives being modelled (``gamma`` is their ratio), so some difference between the phases' TQA
    equations is built in; the comparison says whether the *rest* of the dynamics differ beyond the
    ensemble spread.
``split="scale"``
    the interval's position against a critical scale ``nc``: tax when the larger model is at most ``nc``,
    bonus when the smaller is at least ``nc``, transition when it straddles ``nc``.

For every (equation, term) the result lists both phases' coefficients with their ensemble intervals and the
interval of the difference (bonus member minus tax member); a difference "exceeds the ensemble spread" when
that interval excludes zero. ``method="paper"`` gives the paper's own per-phase number instead
(:func:`cape.dynamics.paper.paper_per_phase`: 0.12 -> 0.75 on DS-PYTHIA8).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import catalog
from .._format import Line, TextSummary, TextTable
from ..errors import AnalysisError
from .discovery import DEFAULT_ALPHA, Discovery, _emit, fit_system, load_scores
from .sparse import thresholds_json
from .summary import phases_blocks
from .trajectories import Samples, Trajectory, interval_gamma, make_samples, make_units, phase_label, prepare

PHASES = ("tax", "transition", "bonus")


def _split_gamma(samples: Samples, trajs: Sequence[Trajectory], *, pair, band, min_delta, nc) -> np.ndarray:
    bs = trajs[0].benchmarks
    try:
        i1, i2 = bs.index(pair[0]), bs.index(pair[1])
    except ValueError:
        raise AnalysisError(f"split='gamma' needs {pair[0]} and {pair[1]} in the benchmarks "
                            f"(have {', '.join(bs)}); add them or use split='scale'") from None
    g = interval_gamma(samples, trajs, i1, i2, min_delta=min_delta)
    return np.array([phase_label(v, band) for v in g])


def _split_scale(samples: Samples, trajs: Sequence[Trajectory], *, pair, band, min_delta, nc) -> np.ndarray:
    out = []
    for j in range(samples.n):
        t = trajs[samples.groups[j]]
        lo, up = t.params[samples.lower[j]], t.params[samples.upper[j]]
        out.append("tax" if up <= nc else "bonus" if lo >= nc else "transition")
    return np.array(out)


#: How intervals get a phase: ``name -> f(samples, trajectories, ...) -> labels``.
SPLITS: dict[str, Callable] = {"gamma": _split_gamma, "scale": _split_scale}


@dataclass(frozen=True, eq=False)
class PhaseComparison(TextSummary):
    """Tax-phase and bonus-phase discoveries side by side.

    Attributes:
        split: ``"gamma"`` or ``"scale"``; ``pair`` the coupling pair; ``band`` the transition half-width;
            ``nc`` the critical scale (scale split).
        counts: samples per phase label (tax, transition, bonus, undetermined).
        tax, bonus: the two :class:`~cape.dynamics.discovery.Discovery` objects.
        rows: one dict per (equation, term) with both coefficients, intervals, inclusion probabilities, the
            difference interval and ``exceeds_spread``.
        headline: the row of the pair's coupling term (the HS coefficient in the TQA equation).
        level: interval coverage.
        verdict: one paragraph.
    """

    split: str
    pair: tuple[str, str]
    band: float
    nc: float | None
    counts: dict
    tax: Discovery
    bonus: Discovery
    rows: tuple[dict, ...]
    headline: dict | None
    level: float
    verdict: str

    @property
    def n_exceeding(self) -> int:
        return sum(1 for r in self.rows if r["exceeds_spread"])

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows))

    def summary_blocks(self) -> list[Line | TextTable]:
        """The comparison as a table and a line (what ``cape ode --phases`` prints)."""
        return phases_blocks(self)

    def to_dict(self) -> dict:
        return {"method": "sound", "split": self.split, "pair": list(self.pair), "band": self.band, "nc": self.nc,
                "counts": self.counts, "rows": list(self.rows), "headline": self.headline, "level": self.level,
                "n_exceeding": self.n_exceeding, "verdict": self.verdict,
                "tax": {"families": sorted({f for f in self.tax.families}), "n_samples": self.tax.n_samples,
                        "equations": self.tax.equations(), "threshold": thresholds_json(self.tax.threshold)},
                "bonus": {"families": sorted({f for f in self.bonus.families}), "n_samples": self.bonus.n_samples,
                          "equations": self.bonus.equations(), "threshold": thresholds_json(self.bonus.threshold)}}


def compare_phases(trajectories: Sequence[Trajectory], *, split: str = "gamma",
                   pair: tuple[str, str] = ("HellaSwag", "TruthfulQA"), band: float = 0.1, min_delta: float = 0.5,
                   nc: float = 3.5e9, degree: int = 2, n_models: int = 100, seed: int = 0,
                   units: str = "fraction", alpha: float = DEFAULT_ALPHA, cv_rule: str = "1se",
                   per_equation: bool = True, intercept: bool = True, level: float = 0.95) -> PhaseComparison:
    """Fit the sparse ODE separately on tax-phase and bonus-phase intervals of ``trajectories``."""
    if split not in SPLITS:
        raise AnalysisError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    pair = (catalog.canonical(pair[0]), catalog.canonical(pair[1]))
    u = make_units(units, trajectories)
    samples = make_samples(trajectories, u, "secant")
    labels = SPLITS[split](samples, trajectories, pair=pair, band=band, min_delta=min_delta, nc=nc)
    counts = {p: int((labels == p).sum()) for p in (*PHASES, "undetermined")}
    fits = {}
    for k, ph in enumerate(("tax", "bonus")):
        m = labels == ph
        if m.sum() < 2:
            raise AnalysisError(f"only {int(m.sum())} {ph}-phase interval(s) in "
                                f"{', '.join(t.family for t in trajectories)}; a per-phase fit needs at least 2 "
                                f"(use more families, or split='scale')")
        fits[ph] = fit_system(trajectories, degree=degree, n_models=n_models, seed=seed + k, units=u, alpha=alpha,
                              cv_rule=cv_rule, per_equation=per_equation, intercept=intercept, level=level,
                              sample_mask=m,
                              trajectory_fit=False)
    tx, bn = fits["tax"], fits["bonus"]
    q = (1.0 - level) / 2.0
    rows = []
    headline = None
    bs = tx.benchmarks
    nb = min(tx.ensemble.shape[0], bn.ensemble.shape[0])
    for i, eq in enumerate(tx.names):
        for f, term in enumerate(tx.feature_names):
            r = {"equation": eq, "term": term, "tax": float(tx.coef[i, f]), "bonus": float(bn.coef[i, f]),
                 "tax_lo": float(tx.lo[i, f]), "tax_hi": float(tx.hi[i, f]),
                 "bonus_lo": float(bn.lo[i, f]), "bonus_hi": float(bn.hi[i, f]),
                 "tax_inclusion": float(tx.inclusion[i, f]), "bonus_inclusion": float(bn.inclusion[i, f])}
            if nb:
                diff = bn.ensemble[:nb, i, f] - tx.ensemble[:nb, i, f]
                # conservative (non-interpolated) percentiles: a point mass at 0 (a term absent from some
                # members) must not be interpolated away
                dlo = np.quantile(diff, q, method="lower")
                dhi = np.quantile(diff, 1 - q, method="higher")
                r.update(diff=r["bonus"] - r["tax"], diff_lo=float(dlo), diff_hi=float(dhi),
                         exceeds_spread=bool(dlo > 0 or dhi < 0))
            else:
                r.update(diff=r["bonus"] - r["tax"], diff_lo=None, diff_hi=None, exceeds_spread=False)
            if r["tax"] == 0 and r["bonus"] == 0 and not r["exceeds_spread"]:
                r["active"] = False
            else:
                r["active"] = True
            rows.append(r)
            if bs[i] == pair[1] and term == catalog.info(pair[0]).short:
                headline = r
    verdict = _verdict(rows, headline, counts, pair, level)
    return PhaseComparison(split, pair, float(band), float(nc) if split == "scale" else None, counts, tx, bn,
                           tuple(rows), headline, float(level), verdict)


def _verdict(rows, headline, counts, pair, level) -> str:
    n_ex = sum(1 for r in rows if r["exceeds_spread"])
    n_act = sum(1 for r in rows if r["active"])
    s1, s2 = catalog.info(pair[0]).short, catalog.info(pair[1]).short
    parts = [f"{counts['tax']} tax-phase and {counts['bonus']} bonus-phase intervals "
             f"({counts['transition']} transition, {counts['undetermined']} unassigned)."]
    parts.append(f"{n_ex} of {n_act} active coefficients differ between the phases beyond the ensemble spread "
                 f"({level:.0%} interval of the difference excludes 0).")
    if headline is not None:
        parts.append(f"The {s1} coefficient in the d{s2} equation is {headline['tax']:.3g} (tax) vs "
                     f"{headline['bonus']:.3g} (bonus); the difference "
                     f"{'exceeds' if headline['exceeds_spread'] else 'does not exceed'} the spread.")
    return " ".join(parts)


def per_phase(scores=None, *, families: Sequence[str] | str | None = None,
              benchmarks: Sequence[str] | str | None = None, split: str = "gamma",
              pair: tuple[str, str] = ("HellaSwag", "TruthfulQA"), band: float = 0.1, nc: float = 3.5e9,
              degree: int = 2, n_models: int = 100, seed: int = 0, units: str = "fraction",
              alpha: float = DEFAULT_ALPHA, cv_rule: str = "1se", per_equation: bool = True,
              intercept: bool = True, base_only: bool = True, level: float = 0.95, method: str = "sound"):
    """Per-phase discovery (sound) or the paper's per-phase coefficient (``method="paper"``).

    Args:
        scores: a ScoreTable (default: the embedded cohort; paper: the DS-PYTHIA8 fixture).
        families: families pooled (default every family with all benchmarks: phases are defined across
            families, Pythia alone has no bonus-phase interval by its measured gamma).
        benchmarks: the state vector.
        split, pair, band, nc: how intervals get phases (see the module docstring).
        degree, n_models, seed, units, alpha, cv_rule, per_equation, intercept, level: as in
            :func:`~cape.dynamics.discovery.fit_system`.
        method: ``"sound"`` or ``"paper"``.

    Returns:
        :class:`PhaseComparison` (sound) or :class:`~cape.dynamics.paper.PaperPerPhase` (paper).

    Example:
        >>> c = per_phase(n_models=50)          # doctest: +SKIP
        >>> c.headline["tax"], c.headline["bonus"], c.headline["exceeds_spread"]   # doctest: +SKIP
    """
    if method == "paper":
        from .paper import paper_per_phase

        fam = "Pythia" if families is None else (families if isinstance(families, str) else families[0])
        return paper_per_phase(scores, family=fam)
    if method != "sound":
        raise AnalysisError(f"method must be 'sound' or 'paper', not {method!r}")
    table = load_scores(scores)
    cohort = prepare(table, benchmarks, families=families, base_only=base_only, warn=False)
    _emit(cohort)
    if not cohort.trajectories:
        raise AnalysisError("no usable family for a per-phase fit")
    return compare_phases(cohort.trajectories, split=split, pair=pair, band=band, nc=nc, degree=degree,
                          n_models=n_models, seed=seed, units=units, alpha=alpha, cv_rule=cv_rule,
                          per_equation=per_equation, intercept=intercept, level=level)


__all__ = ["PhaseComparison", "compare_phases", "per_phase", "SPLITS", "PHASES"]
