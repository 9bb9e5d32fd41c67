"""Coupling observables: local coupling gamma_ij, population coupling r, phase labels (the cohort views, such as
the coupling matrix and the running law, are in :mod:`cape.coupling_flow`).

The primary observable is the *local coupling* between two benchmarks B1 and B2 (default HellaSwag and
TruthfulQA) along a family's scaling trajectory (docs/methods.md, "Local coupling"):

    gamma_12^(k) = (B2(m_{k+1}) - B2(m_k)) / (B1(m_{k+1}) - B1(m_k))

computed only between consecutive sizes of one family and placed at the log-midpoint
``x_k = (log10 N_k + log10 N_{k+1}) / 2``. Edge cases are flagged, never divided into infinity:

* ``|dB1| <= min_delta`` (default 0.5 percentage points): the interval is skipped (``status="small_step"``)
  and counted;
* ``dB1 < 0`` (B1 falls with size): flagged ``negative_step``; the co-movement sign ``sign(dB1 * dB2)`` is
  reported next to gamma because then the sign of gamma is not the sign of co-movement;
* equal parameter counts: skipped (``status="equal_n"``).

The *population coupling* is the Pearson r over a panel of models, with a permutation p-value and a
bootstrap CI (vectorised over resamples). Phase labels (tax / transition / bonus) come from a
:class:`PhaseScheme`; the default (``"nature"``) calls ``|gamma| <= 0.1`` a transition.

Example:
    >>> from cape import data
    >>> from cape.coupling import local_coupling
    >>> fc = local_coupling(data.fixture_table("pythia8", family="Pythia"))
    >>> [round(g, 2) for g in fc.gammas()]
    [-0.68, -0.33, -0.26, 0.0, -0.42, -0.79, -0.3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._runcache import once_per_run
from . import catalog
from ._format import fields_dict, finite_or_none as _f
from ._stats import fisher_ci, pearson_pvalue, pearson_rows, percentile_ci, permutation_p  # noqa: F401 - re-exported
from ._validate import check_pair as resolve_pair
from ._validate import check_level, check_n_boot, check_nonnegative, check_seed, check_table
from .coupling_r import PopulationCoupling, population_r
from .errors import AnalysisError, DataError

DEFAULT_PAIR = ("HellaSwag", "TruthfulQA")
MIN_DELTA = 0.5  # percentage points: |dB1| at or below this is not divided by


# ---------------------------------------------------------------------------------------------- small helpers
def size_order(params, names) -> np.ndarray:
    """Positions that sort models by size, models sharing a size by name: one rule, independent of row order.

    (Steps between equal sizes are skipped; which tied model connects to the next size is then fixed by the
    names, not by where the rows happen to sit in a file.)
    """
    return np.lexsort((np.asarray([str(n) for n in names], dtype=object).astype(str),
                       np.asarray(params, dtype=float)))


def family_seed(seed: int | None, family: str) -> int | None:
    """The seed of one family's resampling, derived from the global seed and the family's *name*.

    The same family and seed give the same numbers whether it is analysed alone, among other families or in
    another order (the position in a list would not).

    Example:
        >>> family_seed(0, "Pythia") == family_seed(0, "Pythia") != family_seed(0, "OPT")
        True
    """
    if seed is None:
        return None
    import zlib

    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(str(family).encode("utf-8"))])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# ---------------------------------------------------------------------------------------------- phases
@dataclass(frozen=True)
class PhaseScheme:
    """Thresholds that turn a coupling value into a phase label.

    ``gamma < lower`` is ``"tax"``, ``gamma > upper`` is ``"bonus"``, anything in between (inclusive) is
    ``"transition"``. Schemes in the sources (docs/methods.md, "Phases"): ``nature`` (+-0.1, the default), ``sign``
    (0, 0), ``quickstart`` (+-0.3).

    Example:
        >>> PHASE_SCHEMES["nature"].label(-0.05)
        'transition'
    """

    name: str
    lower: float = -0.1
    upper: float = 0.1

    def __post_init__(self):
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            raise DataError(f"phase scheme {self.name!r}: thresholds must be finite numbers, got {self.lower}, "
                            f"{self.upper}")
        if self.lower > self.upper:
            raise DataError(f"phase scheme {self.name!r}: lower threshold {self.lower} exceeds upper {self.upper}")

    def label(self, gamma: float | None) -> str | None:
        g = _f(gamma)
        if g is None:
            return None
        if g < self.lower:
            return "tax"
        if g > self.upper:
            return "bonus"
        return "transition"


PHASE_SCHEMES: dict[str, PhaseScheme] = {
    "nature": PhaseScheme("nature", -0.1, 0.1),
    "sign": PhaseScheme("sign", 0.0, 0.0),
    "quickstart": PhaseScheme("quickstart", -0.3, 0.3),
}


def phase_scheme(scheme: str | PhaseScheme | tuple[float, float] = "nature") -> PhaseScheme:
    """Look up a scheme by name, accept a :class:`PhaseScheme`, or build one from ``(lower, upper)``."""
    if isinstance(scheme, PhaseScheme):
        return scheme
    if isinstance(scheme, tuple):
        return PhaseScheme("custom", float(scheme[0]), float(scheme[1]))
    try:
        return PHASE_SCHEMES[scheme]
    except KeyError:
        raise DataError(f"unknown phase scheme {scheme!r}; known: {', '.join(PHASE_SCHEMES)}") from None


def phase_label(gamma: float | None, scheme: str | PhaseScheme | tuple[float, float] = "nature") -> str | None:
    """Phase of one coupling value (``None`` for a missing value)."""
    return phase_scheme(scheme).label(gamma)


# ---------------------------------------------------------------------------------------------- local coupling
def gamma_steps(log_n: np.ndarray, s1: np.ndarray, s2: np.ndarray, *, min_delta: float = MIN_DELTA
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised consecutive-step coupling over the last axis.

    Args:
        log_n: ``(K,)`` log10 parameter counts, sorted ascending.
        s1, s2: ``(..., K)`` scores of B1 and B2 (percent); leading axes are e.g. bootstrap replicates.
        min_delta: steps with ``|dB1| <= min_delta`` give NaN.

    Returns:
        ``(gamma, x_mid, d1, d2)``: gamma ``(..., K-1)`` (NaN where skipped or where ``N`` ties), the log10
        midpoints ``(K-1,)`` and the differences.
    """
    log_n = np.asarray(log_n, dtype=float)
    d1 = np.diff(s1, axis=-1)
    d2 = np.diff(s2, axis=-1)
    dx = np.diff(log_n)
    ok = (np.abs(d1) > min_delta) & (dx > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(ok, d2 / np.where(ok, d1, 1.0), np.nan)
    return g, (log_n[:-1] + log_n[1:]) / 2.0, d1, d2


@dataclass(frozen=True)
class Interval:
    """One consecutive-size step within a family.

    Attributes:
        lower, upper: model names; ``n_lower``/``n_upper`` their parameter counts (raw).
        n_mid: ``10**x_mid``, the geometric midpoint (where gamma sits on the scale axis).
        d1, d2: score changes of B1 and B2 (percentage points).
        gamma: ``d2/d1``, or None when the step is skipped.
        comove: ``sign(d1*d2)`` (+1 both move together, -1 opposite, 0 one did not move).
        status: ``ok``, ``small_step`` (``|d1| <= min_delta``), ``equal_n`` (same size).
        flags: e.g. ``("negative_step",)`` when B1 falls with size.
        phase: tax / transition / bonus (None when skipped).
    """

    lower: str
    upper: str
    n_lower: float
    n_upper: float
    n_mid: float
    d1: float
    d2: float
    gamma: float | None
    comove: int
    status: str
    flags: tuple[str, ...] = ()
    phase: str | None = None

    @property
    def x_mid(self) -> float:
        return math.log10(self.n_mid)

    def to_dict(self) -> dict:
        d = fields_dict(self)
        d["flags"] = list(self.flags)
        d["x_mid"] = self.x_mid
        return d


@dataclass(frozen=True)
class FamilyCoupling:
    """Local coupling of one family.

    Attributes:
        family: family name; ``b1``/``b2`` the benchmark pair.
        models, params: the models used, sorted by size (raw parameter counts).
        intervals: one :class:`Interval` per consecutive pair.
        model_phases: phase per model = phase of the interval ending at that model (None for the smallest).
        dropped: models left out, with the reason (missing score or size).
        messages: plain sentences about skipped or flagged steps.
    """

    family: str
    b1: str
    b2: str
    models: tuple[str, ...]
    params: tuple[float, ...]
    intervals: tuple[Interval, ...]
    model_phases: dict[str, str | None]
    scheme: str = "nature"
    dropped: dict[str, str] = field(default_factory=dict)
    messages: tuple[str, ...] = ()

    def gammas(self) -> list[float]:
        """The gamma values of the usable intervals, in size order."""
        return [iv.gamma for iv in self.intervals if iv.gamma is not None]

    @property
    def n_skipped(self) -> int:
        return sum(iv.status != "ok" for iv in self.intervals)

    def phase_path(self) -> list[str]:
        return [iv.phase for iv in self.intervals if iv.phase is not None]

    def summary(self) -> str:
        """The family's local coupling as text: one line per consecutive-size interval (gamma = dB2/dB1 and its
        phase, or why the step is skipped), then the phase path."""
        lines = [f"{self.family}: gamma = d{self.b2} / d{self.b1} between consecutive sizes"]
        for iv in self.intervals:
            g = f"gamma {iv.gamma:+.3f} ({iv.phase})" if iv.gamma is not None else f"skipped ({iv.status})"
            lines.append(f"  {iv.lower} -> {iv.upper}: d{self.b1} {iv.d1:+.2f}, d{self.b2} {iv.d2:+.2f}, {g}")
        path = self.phase_path()
        lines.append("  phase path: " + (" -> ".join(path) if path else "none"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        return {"family": self.family, "b1": self.b1, "b2": self.b2, "models": list(self.models),
                "params": list(self.params), "intervals": [iv.to_dict() for iv in self.intervals],
                "model_phases": dict(self.model_phases), "phase_path": self.phase_path(), "scheme": self.scheme,
                "dropped": dict(self.dropped), "messages": list(self.messages)}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([iv.to_dict() for iv in self.intervals])


def family_arrays(table, family: str | None, benchmarks: Sequence[str], *, with_se: bool = False):
    """Sorted arrays for one family: ``(models, params, scores (K, len(benchmarks)), dropped)`` (plus the
    standard errors ``(K, len(benchmarks))`` when ``with_se``).

    ``table`` is a :class:`~cape.scores.ScoreTable` or a wide frame (index model; columns ``family``,
    ``params`` and the benchmarks). Models without a size or without one of the benchmarks are dropped and
    reported in ``dropped`` (model -> reason).
    """
    wide = _wide(table, benchmarks)
    rows: slice | np.ndarray = slice(None)
    if family is not None:  # numpy from here on: pandas indexing per family dominated large cohorts
        rows = np.flatnonzero(wide["family"].astype(str).to_numpy() == str(family))
        if rows.size == 0:
            raise AnalysisError(f"family {family!r}: no models in the table")
    elif "family" in wide.columns and wide["family"].nunique() > 1:
        raise AnalysisError(f"the table holds {wide['family'].nunique()} families; name one (family=...)")
    dropped: dict[str, str] = {}
    params = wide["params"].to_numpy(dtype=float)[rows]
    sc = wide[list(benchmarks)].to_numpy(dtype=float)[rows]
    names = np.asarray([str(m) for m in wide.index], dtype=object)[rows]
    good = np.isfinite(params) & np.isfinite(sc).all(axis=1)
    for i in np.flatnonzero(~good):
        if not math.isfinite(params[i]):
            dropped[names[i]] = "no parameter count"
        else:
            dropped[names[i]] = "no " + ", ".join(b for b, v in zip(benchmarks, sc[i]) if not math.isfinite(v)) \
                + " score"
    keep = np.flatnonzero(good)
    keep = keep[size_order(params[keep], names[keep])]
    out = ([str(m) for m in names[keep]], params[keep], sc[keep], dropped)
    if with_se:
        return out + (wide[[f"se:{b}" for b in benchmarks]].to_numpy(dtype=float)[rows][keep],)
    return out


def score_frame(table, benchmarks: Sequence[str]):
    """One row per model (input order) with ``family``, ``params``, the benchmarks and their standard errors
    in columns ``se:<benchmark>`` (the stderr given with the data, else the binomial error of the item count).

    Build it once and pass it to the per-family functions instead of the ScoreTable: slicing a frame is much
    cheaper than re-pivoting the table for every family.
    """
    import pandas as pd

    bs = [catalog.canonical(b) for b in benchmarks]
    if isinstance(table, pd.DataFrame):
        wide = table.copy()
        if "model" in wide.columns:
            wide = wide.set_index("model")
        for b in bs:
            if b not in wide.columns:
                raise DataError(f"no {b} column in the scores")
        if "params" not in wide.columns:
            raise DataError("no params column in the scores (parameter counts are needed to order a family)")
        if "family" not in wide.columns:
            wide["family"] = "family"
        for b in bs:
            if f"se:{b}" not in wide.columns:
                wide[f"se:{b}"] = [catalog.binomial_stderr(v, b) if np.isfinite(v) else np.nan
                                   for v in wide[b].to_numpy(float)]
        return wide
    missing = [b for b in bs if b not in table.benchmarks]
    if missing:
        raise DataError(f"{table.name}: no {', '.join(missing)} scores (benchmarks present: "
                        f"{', '.join(table.benchmarks)})")
    def build():
        order = pd.unique(table.long["model"])
        wide = table.wide(bs).reindex(order)
        se = table.stderr_wide(bs).reindex(order)
        for b in bs:
            wide[f"se:{b}"] = se[b].to_numpy(float)
        return wide

    memo = getattr(table, "memo", None)  # built once per table and benchmark set
    return memo(("score_frame", tuple(bs)), build) if memo is not None else build()


def _wide(table, benchmarks: Sequence[str]):
    import pandas as pd

    if isinstance(table, pd.DataFrame) and all(f"se:{b}" in table.columns for b in benchmarks):
        return table
    return score_frame(table, benchmarks)


@once_per_run
def local_coupling(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, family: str | None = None,
                   min_delta: float = MIN_DELTA, skip_equal_n: bool = True,
                   scheme: str | PhaseScheme | tuple[float, float] = "nature") -> FamilyCoupling:
    """Local coupling gamma_12 between consecutive sizes of one family.

    Args:
        table: a ScoreTable (or wide frame) holding one family, or several with ``family`` given.
        pair: ``(B1, B2)``; gamma = dB2/dB1. Aliases such as ``"HS:TQA"`` work.
        family: the family to use when the table holds several.
        min_delta: skip steps with ``|dB1| <= min_delta`` percentage points (reported, never divided).
        skip_equal_n: skip steps between models of equal size (always skipped: a step needs a size change;
            when False they are still skipped but not reported as a message).
        scheme: phase thresholds (see :class:`PhaseScheme`).

    Returns:
        :class:`FamilyCoupling`.

    Raises:
        AnalysisError: fewer than 2 usable models.

    Example:
        >>> from cape import data
        >>> fc = local_coupling(data.fixture_table("pythia8", family="Pythia"), "HS:TQA")
        >>> fc.phase_path()[:3]
        ['tax', 'tax', 'tax']
    """
    min_delta = check_nonnegative(min_delta, "min_delta")
    b1, b2 = resolve_pair(pair)
    sch = phase_scheme(scheme)
    models, params, sc, dropped = family_arrays(table, family, (b1, b2))
    fam = family or _family_name(table, models)
    if len(models) < 2:
        raise AnalysisError(f"family {fam!r}: {len(models)} usable model(s) with {b1} and {b2}; "
                            "local coupling needs at least 2")
    return coupling_from_arrays(fam, b1, b2, models, params, sc, dropped, min_delta=min_delta,
                                skip_equal_n=skip_equal_n, scheme=sch)


def coupling_from_arrays(fam: str, b1: str, b2: str, models: Sequence[str], params: np.ndarray, sc: np.ndarray,
                         dropped: dict, *, min_delta: float, skip_equal_n: bool, scheme: PhaseScheme
                         ) -> FamilyCoupling:
    """:func:`local_coupling` of one family's arrays (models sorted by size, at least 2; ``sc`` ``(K, 2)``
    the scores of B1 and B2; ``dropped`` model -> why it was left out)."""
    sch = scheme
    logn = np.log10(params)
    g, xm, d1, d2 = gamma_steps(logn, sc[:, 0], sc[:, 1], min_delta=min_delta)
    ivs = []
    n_small = n_eq = n_neg = 0
    for k in range(len(models) - 1):
        flags: list[str] = []
        if params[k + 1] == params[k]:
            status = "equal_n"
            n_eq += 1
        elif abs(d1[k]) <= min_delta:
            status = "small_step"
            n_small += 1
        else:
            status = "ok"
        if d1[k] < 0:
            flags.append("negative_step")
            n_neg += 1
        gamma = _f(g[k]) if status == "ok" else None
        comove = int(np.sign(d1[k] * d2[k]))
        ivs.append(Interval(models[k], models[k + 1], float(params[k]), float(params[k + 1]),
                            float(10 ** xm[k]), float(d1[k]), float(d2[k]), gamma, comove, status,
                            tuple(flags), sch.label(gamma)))
    phases: dict[str, str | None] = {models[0]: None}
    for iv in ivs:
        phases[iv.upper] = iv.phase
    msgs = []
    if n_small:
        msgs.append(f"{n_small} step(s) with |d{b1}| <= {min_delta:g} pp skipped (gamma would be unstable)")
    if n_eq and skip_equal_n:
        msgs.append(f"{n_eq} step(s) between models of equal size skipped")
    if n_neg:
        msgs.append(f"{n_neg} step(s) where {b1} falls with size: gamma's sign is not the co-movement sign "
                    "(see comove)")
    for m, why in dropped.items():
        msgs.append(f"{m} left out: {why}")
    return FamilyCoupling(fam, b1, b2, tuple(models), tuple(float(p) for p in params), tuple(ivs), phases,
                          sch.name, dropped, tuple(msgs))


def _family_name(table, models) -> str:
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        if "family" in table.columns and table["family"].nunique() == 1:
            return str(table["family"].iloc[0])
        return "family"
    fams = table.families
    return fams[0] if len(fams) == 1 else "family"


# ---------------------------------------------------------------------------------------------- population r
@once_per_run
def population_coupling(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, family: str | None = None,
                        n_boot: int = 10_000, n_perm: int = 10_000, seed: int | None = 0,
                        level: float = 0.95) -> PopulationCoupling:
    """:func:`population_r` over the models of a ScoreTable (optionally one family).

    Example:
        >>> from cape import data
        >>> round(population_coupling(data.fixture_table("pythia8"), n_boot=0, n_perm=0).r, 4)
        -0.9886
    """
    table = check_table(table)
    n_boot = check_n_boot(n_boot)
    n_perm = check_n_boot(n_perm, "n_perm")
    seed = check_seed(seed)
    level = check_level(level)
    b1, b2 = resolve_pair(pair)
    wide = _wide(table, (b1, b2))
    if family is not None:
        wide = wide[wide["family"].astype(str) == family]
    return population_r(wide[b1].to_numpy(float), wide[b2].to_numpy(float), b1=b1, b2=b2, n_boot=n_boot,
                        n_perm=n_perm, seed=seed, level=level)


# The cohort views moved to :mod:`cape.coupling_flow`, which imports this module; they stay reachable from here
# (``from cape.coupling import coupling_matrix``) through a lazy attribute lookup, so neither module imports
# the other at load time.
_FLOW_NAMES = frozenset({"CouplingMatrix", "coupling_matrix", "RunningLaw", "running_law", "FixedPoint",
                         "flow_fixed_point", "isocline_phase", "Redistribution", "redistribution"})


def __getattr__(name: str):
    if name in _FLOW_NAMES:
        import importlib

        return getattr(importlib.import_module("cape.coupling_flow"), name)
    raise AttributeError(f"module 'cape.coupling' has no attribute {name!r}")
