"""Frontier diagnostics: population coupling of two frontier axes, the h-field, per-lab statistics,
leave-one-lab-out error, axis saturation (benchmark rotation) and the three-benchmark sub-panel.

The frontier panel is one row per model with its lab, release date, subset (``core``, ``extended``,
``post-cutoff`` or ``added``) and its scores on two axes, by default SWE-bench Verified (``x``, the older,
coding axis) and GPQA Diamond (``y``, the reasoning axis), both in percent. Which models enter the population
fit is a choice (:class:`FrontierConfig`): by default the paper's 34-model panel (``core`` + ``extended``);
post-cutoff models and models a user adds are *shown* in every table (their residual, their lab, their
leave-one-lab-out prediction, their rank) but do not move the fit unless asked.

Quantities (docs/methods.md, "Frontier regressions"):

* population coupling: Pearson r with its two-sided p, OLS ``y = slope * x + intercept`` with standard errors,
  t intervals and a pairs bootstrap (vectorised, seeded) for r, slope and intercept;
* h-field: ``h_i = y_i - (slope * x_i + intercept)`` in points of ``y``; positive = reasoning-rich relative to
  the population, negative = coding-rich; each with the 95% prediction-interval half-width of a new model at
  ``x_i`` so a residual can be read against the population scatter;
* per-lab statistics: models, mean h (all / core), spread, the lab's own OLS slope and r, the swing
  ``max h - min h``, and each lab's h trajectory over release dates (``dh`` between consecutive releases);
* leave-one-lab-out (LOLO): refit without a lab, predict its models, MAE in points of ``y``; summary mean and
  population SD (ddof = 0) over labs with at least ``lolo_min_models`` test models;
* saturation: top-k spread of the old axis over the top-k spread of the new axis (ranked by the old axis);
  ``rotate`` when the ratio is below ``rotate_below`` (0.2);
* three-benchmark sub-panel (SWE, GPQA, IFEval): correlation matrix, determinant, eigenvalues, covariance
  participation ratio ``d_eff``, and the IFEval-on-GPQA regression with its residual ``h3``.

``h_method="paper"`` rounds the fitted line to the published precision (slope to 3 decimals, intercept to 1),
which is how the paper's frozen ``0.513 * SWE + 46.4`` arises from the fit; the default uses the unrounded fit.

Example:
    >>> from cape.frontier import frontier_report
    >>> rep = frontier_report()                      # the embedded panel
    >>> round(rep.coupling.r, 4)                     # doctest: +SKIP
    0.7235
    >>> rep.h_field.to_frame().loc["Claude Opus 4.6", "h"]   # doctest: +SKIP
    3.45...
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._runcache import once_per_run
from . import catalog
from ._stats import participation_ratio as _pr
from ._stats import percentile_ci
from ._validate import check_level, check_n_boot, check_same_length, check_seed
from .errors import AnalysisError, DataError

SWE = "SWE-bench Verified"
GPQA = "GPQA Diamond"
IFEVAL = "IFEval"

#: Subsets of the embedded panel; ``added`` marks models a user supplies.
SUBSETS = ("core", "extended", "post-cutoff", "added")


# ---------------------------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class FrontierConfig:
    """Choices behind a frontier report (all documented in docs/frontier.md).

    Attributes:
        x: the older axis (abscissa of the population line), canonical benchmark name or alias.
        y: the newer axis (ordinate; h is measured in its points).
        fit_subsets: subsets whose models enter the population fit (the paper panel: core + extended).
        include_post_cutoff: also fit the post-cutoff models (the paper's 39-model refit).
        fit_added: also fit the models a user adds (default: shown, not fitted).
        h_method: ``"fit"`` (unrounded OLS line) or ``"paper"`` (the line rounded to 3 / 1 decimals).
        ci: confidence level of every interval.
        n_boot: bootstrap resamples (pairs bootstrap of the population fit).
        seed: seed of ``numpy.random.default_rng``.
        lolo_min_models: a lab enters the LOLO summary with at least this many test models.
        top_k: models at the top of the panel used for the saturation spread.
        rotate_below: rotate the axis when the saturation ratio is below this.
        rank_by: rank the top-k by the ``"old"`` axis (x, as the paper's scripts) or the ``"new"`` one.
        h_band: ``|h| < h_band`` is "balanced"; below ``-h_band`` "coding-rich", above "reasoning-rich".
        lab_direction: a lab whose mean h exceeds ``+lab_direction`` is reasoning-rich (below: coding-rich).
        reallocation: ``|dh|`` above this between consecutive releases of one lab flags a reallocation.
    """

    x: str = SWE
    y: str = GPQA
    fit_subsets: tuple[str, ...] = ("core", "extended")
    include_post_cutoff: bool = False
    fit_added: bool = False
    h_method: str = "fit"
    ci: float = 0.95
    n_boot: int = 2000
    seed: int = 0
    lolo_min_models: int = 3
    top_k: int = 5
    rotate_below: float = 0.2
    rank_by: str = "old"
    h_band: float = 5.0
    lab_direction: float = 3.0
    reallocation: float = 10.0

    def __post_init__(self):
        object.__setattr__(self, "x", catalog.canonical(self.x, where="frontier config x"))
        object.__setattr__(self, "y", catalog.canonical(self.y, where="frontier config y"))
        if self.x == self.y:
            raise DataError(f"frontier config: x and y are both {self.x}; choose two different benchmarks")
        if self.h_method not in LINE_METHODS:
            raise DataError(f"frontier config: h_method must be one of {', '.join(LINE_METHODS)}, "
                            f"not {self.h_method!r}")
        if self.rank_by not in ("old", "new"):
            raise DataError(f"frontier config: rank_by must be 'old' or 'new', not {self.rank_by!r}")
        if not 0 < self.ci < 1:
            raise DataError(f"frontier config: ci must lie in (0, 1), not {self.ci}")
        if self.top_k < 2:
            raise DataError(f"frontier config: top_k must be at least 2, not {self.top_k}")
        if self.n_boot < 0:
            raise DataError(f"frontier config: n_boot must be >= 0, not {self.n_boot}")
        bad = [s for s in self.fit_subsets if s not in SUBSETS]
        if bad:
            raise DataError(f"frontier config: unknown subset {bad[0]!r} in fit_subsets "
                            f"(known: {', '.join(SUBSETS)})")

    @property
    def fitted_subsets(self) -> tuple[str, ...]:
        s = list(self.fit_subsets)
        if self.include_post_cutoff and "post-cutoff" not in s:
            s.append("post-cutoff")
        if self.fit_added and "added" not in s:
            s.append("added")
        return tuple(s)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------------------------- the panel
def _norm_subset(s: Any) -> str:
    s = str(s).strip().lower() if s is not None and not (isinstance(s, float) and math.isnan(s)) else "core"
    s = s.replace("_", "-").replace(" ", "-")
    if s in ("post", "postcutoff", "post-cutoff"):
        return "post-cutoff"
    return s


def panel_from_wide(wide: pd.DataFrame, *, x: str = SWE, y: str = GPQA, subset: str | None = None,
                    name: str = "frontier panel") -> pd.DataFrame:
    """Normalise a wide frame (one row per model) into the panel layout.

    Args:
        wide: columns ``model``, ``lab`` (or ``family``), the two axis columns (names or aliases, percent),
            optional ``subset``, ``date`` / ``release_date`` and ``IFEval``.
        x, y: the two axes.
        subset: force every row's subset (e.g. ``"added"``); default: the ``subset`` column or ``core``.
        name: label used in error messages.

    Returns:
        DataFrame indexed by model with columns ``lab, date, subset, x, y`` and, where present, ``IFEval``.

    Raises:
        DataError: a missing column, a missing or out-of-range score.
    """
    df = pd.DataFrame(wide).copy()
    if "model" not in df.columns:
        if df.index.name == "model":
            df = df.reset_index()
        else:
            raise DataError(f"{name}: missing column 'model'")
    ren = {}
    for c in df.columns:
        if isinstance(c, str) and catalog.is_known(c):
            ren[c] = catalog.canonical(c)
    df = df.rename(columns=ren)
    x, y = catalog.canonical(x), catalog.canonical(y)
    for b in (x, y):
        if b not in df.columns:
            raise DataError(f"{name}: missing column {b!r} (every frontier model needs {x} and {y})")
    if "lab" not in df.columns:
        df["lab"] = df["family"] if "family" in df.columns else pd.NA
    df["lab"] = df["lab"].astype("string").fillna("unknown")
    if "date" not in df.columns:
        df["date"] = df["release_date"] if "release_date" in df.columns else pd.NA
    if subset is not None:
        df["subset"] = subset
    elif "subset" not in df.columns:
        df["subset"] = "core"
    df["subset"] = [_norm_subset(s) for s in df["subset"]]
    bad = sorted(set(df["subset"]) - set(SUBSETS))
    if bad:
        raise DataError(f"{name}: unknown subset {bad[0]!r} (expected one of {', '.join(SUBSETS)})")
    cols = ["model", "lab", "date", "subset", x, y] + ([IFEVAL] if IFEVAL in df.columns and IFEVAL not in (x, y)
                                                      else [])
    out = df[cols].copy()
    out["model"] = out["model"].astype(str).str.strip()
    for b in cols[4:]:
        v = pd.to_numeric(out[b], errors="coerce")
        nonnum = out[b].notna() & v.isna()
        if nonnum.any():
            m = out.loc[nonnum, "model"].iloc[0]
            raise DataError(f"{name}: model {m!r} has a non-numeric {b} score {out.loc[nonnum, b].iloc[0]!r}")
        rng = v.notna() & ((v < 0) | (v > 100))
        if rng.any():
            m = out.loc[rng, "model"].iloc[0]
            raise DataError(f"{name}: model {m!r} has {b} = {v[rng].iloc[0]:g}, outside 0-100 percent")
        out[b] = v.astype(float)
    miss = out[x].isna() | out[y].isna()
    if miss.any():
        m = out.loc[miss, "model"].iloc[0]
        lack = x if pd.isna(out.loc[miss, x].iloc[0]) else y
        raise DataError(f"{name}: model {m!r} has no {lack} score (every frontier model needs {x} and {y})")
    dup = out["model"].duplicated()
    if dup.any():
        raise DataError(f"{name}: model {out.loc[dup, 'model'].iloc[0]!r} appears twice")
    out["date"] = out["date"].astype("string")
    return out.set_index("model")


def embedded_panel(*, x: str = SWE, y: str = GPQA) -> pd.DataFrame:
    """The embedded frontier panel (34 paper models + post-cutoff models) with release dates.

    Returns the layout of :func:`panel_from_wide`; scores from ``cape.data.load_frontier()``.
    """
    from . import data

    fr = data.load_frontier()
    bs = [b for b in (x, y, IFEVAL) if b in fr.benchmarks]
    wide = fr.wide(bs).reset_index()
    meta = data.frontier_models().set_index("model")
    wide["lab"] = wide["model"].map(meta["lab"])
    wide["date"] = wide["model"].map(meta["release_date"])
    wide["subset"] = wide["model"].map(meta["subset"])
    return panel_from_wide(wide, x=x, y=y, name="embedded frontier panel")


def fixture_panel(*, with_post_cutoff: bool = True) -> pd.DataFrame:
    """The paper's frozen panel from the ``frontier34`` fixture (and ``post5``); no release dates."""
    from . import data

    frames = [data.fixture("frontier34")]
    if with_post_cutoff:
        frames.append(data.fixture("post5"))
    return panel_from_wide(pd.concat(frames, ignore_index=True), name="fixture frontier34")


def add_models(panel: pd.DataFrame, added, *, x: str = SWE, y: str = GPQA,
               name: str = "added scores") -> pd.DataFrame:
    """Append user models (subset ``added``) to a panel.

    Args:
        panel: a panel (:func:`embedded_panel`).
        added: a :class:`~cape.scores.ScoreTable` or a wide DataFrame with ``model``, ``lab`` and both axes.
        name: label for messages (the file name).

    Raises:
        DataError: a model without both axis scores, or a name already in the panel.
    """
    from .scores import ScoreTable

    if isinstance(added, ScoreTable):
        bs = [b for b in (x, y, IFEVAL) if b in added.benchmarks]
        x_c, y_c = catalog.canonical(x), catalog.canonical(y)
        for b in (x_c, y_c):
            if b not in bs:
                raise DataError(f"{name}: no {b} scores (every frontier model needs {x_c} and {y_c})")
        wide = added.wide(bs, force=True).reset_index()
        mf = added.model_frame()
        wide["lab"] = wide["model"].map(mf["lab"]).fillna(wide["model"].map(mf["family"]))
        wide["date"] = wide["model"].map(mf["date"])
    else:
        wide = pd.DataFrame(added)
    new = panel_from_wide(wide, x=x, y=y, subset="added", name=name)
    clash = [m for m in new.index if m in panel.index]
    if clash:
        raise DataError(f"{name}: model {clash[0]!r} is already in the panel; give the added model another name")
    return pd.concat([panel, new.reindex(columns=panel.columns.union(new.columns, sort=False))], axis=0)


# ---------------------------------------------------------------------------------------------- regression
@dataclass(frozen=True)
class LinearCoupling:
    """Population coupling of two axes: Pearson r and the OLS line ``y = slope * x + intercept``.

    Attributes:
        n: models in the fit.
        r, p: Pearson correlation and its two-sided p-value (scipy ``pearsonr``).
        slope, intercept: OLS coefficients (points of y per point of x; points of y).
        se_slope, se_intercept: classical OLS standard errors.
        slope_ci_t, intercept_ci_t: t intervals at ``ci`` (n - 2 degrees of freedom).
        r_ci_fisher: Fisher-z interval for r.
        r_ci_boot, slope_ci_boot, intercept_ci_boot: percentile pairs-bootstrap intervals.
        residual_sd: residual standard deviation s (n - 2 dof), points of y.
        x_mean, sxx: mean of x and its sum of squared deviations (for prediction intervals).
        ci, n_boot, seed: the settings behind the intervals.
    """

    n: int
    r: float
    p: float
    slope: float
    intercept: float
    se_slope: float
    se_intercept: float
    slope_ci_t: tuple[float, float]
    intercept_ci_t: tuple[float, float]
    r_ci_fisher: tuple[float, float]
    r_ci_boot: tuple[float, float]
    slope_ci_boot: tuple[float, float]
    intercept_ci_boot: tuple[float, float]
    residual_sd: float
    x_mean: float
    sxx: float
    ci: float
    n_boot: int
    seed: int
    x_name: str = "x"
    y_name: str = "y"

    @property
    def t_crit(self) -> float:
        from scipy import stats

        return float(stats.t.ppf(0.5 + self.ci / 2, self.n - 2))

    def predict(self, x) -> np.ndarray:
        """Fitted y at ``x`` (array-like, points of x)."""
        return self.slope * np.asarray(x, dtype=float) + self.intercept

    def prediction_halfwidth(self, x) -> np.ndarray:
        """Half-width of the ``ci`` prediction interval for a new model at ``x``:
        ``t * s * sqrt(1 + 1/n + (x - mean x)^2 / Sxx)`` (points of y)."""
        x = np.asarray(x, dtype=float)
        return self.t_crit * self.residual_sd * np.sqrt(1 + 1 / self.n + (x - self.x_mean) ** 2 / self.sxx)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["t_crit"] = self.t_crit
        return d


def bootstrap_line(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """Pairs bootstrap of r, slope and intercept, vectorised over resamples.

    Returns arrays of length ``n_boot`` (NaN where a resample has constant x or y).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    xs, ys = x[idx], y[idx]
    xm, ym = xs.mean(axis=1, keepdims=True), ys.mean(axis=1, keepdims=True)
    dx, dy = xs - xm, ys - ym
    sxx, syy, sxy = (dx * dx).sum(1), (dy * dy).sum(1), (dx * dy).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
        r = np.where((sxx > 0) & (syy > 0), sxy / np.sqrt(sxx * syy), np.nan)
    intercept = ym[:, 0] - slope * xm[:, 0]
    return {"r": r, "slope": slope, "intercept": intercept}


def linear_coupling(x: Sequence[float], y: Sequence[float], *, ci: float = 0.95, n_boot: int = 2000,
                    seed: int = 0, x_name: str = "x", y_name: str = "y") -> LinearCoupling:
    """Pearson r, OLS line, standard errors, t / Fisher / bootstrap intervals of ``y`` on ``x``.

    Args:
        x, y: scores of the same models (percent).
        ci: confidence level.
        n_boot: pairs-bootstrap resamples (0 skips the bootstrap: its intervals are NaN).
        seed: bootstrap seed.

    Returns:
        :class:`LinearCoupling`.

    Raises:
        AnalysisError: fewer than 3 models, or a constant axis.

    Example:
        >>> lc = linear_coupling([1, 2, 3, 4], [2.0, 4.1, 5.9, 8.0], n_boot=200)
        >>> round(lc.slope, 2), lc.r > 0.99
        (1.98, True)
    """
    ci = check_level(ci, "ci")
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed, allow_none=False)
    check_same_length(x, y, "x", "y")
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n < 3:
        raise AnalysisError(f"population coupling of {y_name} on {x_name} needs at least 3 models, got {n}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        axis = x_name if np.ptp(x) == 0 else y_name
        raise AnalysisError(f"population coupling: every model has the same {axis} score; r is undefined")
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    dof = n - 2
    s = float(math.sqrt((resid ** 2).sum() / dof)) if dof > 0 else float("nan")
    se_slope = s / math.sqrt(sxx)
    se_int = s * math.sqrt(1 / n + xm ** 2 / sxx)
    t = float(stats.t.ppf(0.5 + ci / 2, dof)) if dof > 0 else float("nan")
    r, p = stats.pearsonr(x, y)
    r = float(r)
    if n > 3 and abs(r) < 1:
        z, zse = math.atanh(r), 1 / math.sqrt(n - 3)
        zq = float(stats.norm.ppf(0.5 + ci / 2))
        r_fisher = (math.tanh(z - zq * zse), math.tanh(z + zq * zse))
    else:
        r_fisher = (float("nan"), float("nan"))
    if n_boot > 0:
        b = bootstrap_line(x, y, n_boot=n_boot, seed=seed)
        r_b, sl_b, in_b = (percentile_ci(b[k], ci) for k in ("r", "slope", "intercept"))
    else:
        r_b = sl_b = in_b = (float("nan"), float("nan"))
    return LinearCoupling(
        n=n, r=r, p=float(p), slope=float(slope), intercept=float(intercept), se_slope=float(se_slope),
        se_intercept=float(se_int), slope_ci_t=(float(slope - t * se_slope), float(slope + t * se_slope)),
        intercept_ci_t=(float(intercept - t * se_int), float(intercept + t * se_int)), r_ci_fisher=r_fisher,
        r_ci_boot=r_b, slope_ci_boot=sl_b, intercept_ci_boot=in_b, residual_sd=s, x_mean=float(xm), sxx=sxx,
        ci=ci, n_boot=n_boot, seed=seed, x_name=x_name, y_name=y_name)


#: How the line used for h is read off the fit: strategies by name.
LINE_METHODS: dict[str, Callable[[LinearCoupling], tuple[float, float]]] = {
    "fit": lambda c: (c.slope, c.intercept),
    # the paper freezes the fit at its published precision: slope 3 decimals, intercept 1 decimal
    "paper": lambda c: (round(c.slope, 3), round(c.intercept, 1)),
}


# ---------------------------------------------------------------------------------------------- results
def _frame_records(df: pd.DataFrame) -> list[dict]:
    if df.index.name is not None or not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


@dataclass(frozen=True)
class SubsetCoupling:
    """Population coupling on one named subset of the panel (e.g. ``core``)."""

    name: str
    rule: str
    n: int
    r: float
    p: float
    slope: float
    intercept: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HField:
    """Residual of each shown model from the population line (points of y).

    ``table`` columns: ``lab, date, subset, in_fit, x, y, predicted, h, pi_half, h_low, h_high, outside_pi,
    direction`` (index: model). ``h_low/h_high = h -/+ pi_half``; ``outside_pi`` is True when the model lies
    outside the population's prediction interval (``|h| > pi_half``).
    """

    slope: float
    intercept: float
    method: str
    ci: float
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict:
        return {"slope": self.slope, "intercept": self.intercept, "method": self.method, "ci": self.ci,
                "models": _frame_records(self.table)}


@dataclass(frozen=True)
class LabStatistics:
    """Per-lab statistics over the fitted models, and each lab's h trajectory over release dates.

    ``table`` (index: lab): ``n, n_core, mean_h, mean_h_core, sd_h, swing, slope, slope_se, r, confidence,
    direction, shown_only`` (models of the lab shown but not fitted, e.g. post-cutoff or added).
    ``trajectory`` (one row per shown model, ordered by lab then release date): ``lab, model, date, subset,
    in_fit, x, y, h, dh, reallocation``.
    """

    table: pd.DataFrame = field(repr=False)
    trajectory: pd.DataFrame = field(repr=False)
    order: str = "release date"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict:
        return {"labs": _frame_records(self.table), "trajectory": _frame_records(self.trajectory),
                "order": self.order}


@dataclass(frozen=True)
class LeaveOneLabOut:
    """Leave-one-lab-out prediction error of y from x, in points of y.

    ``labs`` (index: lab): ``n_test, mae, mape, slope, intercept, in_summary``; ``models`` (index: model):
    ``lab, in_fit, y, predicted, error`` (each model predicted by the line fitted without its lab).
    ``mean_mae`` and ``sd_mae`` (population SD, ddof = 0) summarise labs with ``n_test >= min_models``.
    """

    mean_mae: float
    sd_mae: float
    n_labs: int
    min_models: int
    mean_mape: float
    sd_mape: float
    labs: pd.DataFrame = field(repr=False)
    models: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.labs.copy()

    def to_dict(self) -> dict:
        return {"mean_mae": self.mean_mae, "sd_mae": self.sd_mae, "n_labs": self.n_labs,
                "min_models": self.min_models, "mean_mape": self.mean_mape, "sd_mape": self.sd_mape,
                "unit": "points", "labs": _frame_records(self.labs), "models": _frame_records(self.models)}


@dataclass(frozen=True)
class Saturation:
    """Top-k spread of an old axis relative to a newer axis (benchmark-rotation diagnostic).

    ``ratio = spread_old / spread_new`` over the top ``top_k`` models ranked by ``rank_by``; ``rotate`` when
    ``ratio < threshold``. ``ranking`` lists every shown model with its rank (among the models used) and
    whether it is in the top k.
    """

    old: str
    new: str
    top_k: int
    rank_by: str
    spread_old: float
    spread_new: float
    ratio: float
    threshold: float
    rotate: bool
    top_models: tuple[str, ...]
    ranking: pd.DataFrame = field(repr=False)

    @property
    def message(self) -> str:
        verdict = "rotate" if self.rotate else "keep"
        return (f"top-{self.top_k} spread {self.old} {self.spread_old:.1f} vs {self.new} {self.spread_new:.1f} "
                f"points: ratio {self.ratio:.3f} ({'<' if self.rotate else '>='} {self.threshold:g}) -> {verdict} "
                f"{self.old}")

    def to_frame(self) -> pd.DataFrame:
        return self.ranking.copy()

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("old", "new", "top_k", "rank_by", "spread_old", "spread_new", "ratio",
                                           "threshold", "rotate")}
        d["top_models"] = list(self.top_models)
        d["message"] = self.message
        d["ranking"] = _frame_records(self.ranking)
        return d


@dataclass(frozen=True)
class ThreeAxisPanel:
    """The three-benchmark sub-panel (default SWE, GPQA, IFEval) of frontier models with all three scores.

    Attributes:
        benchmarks: the three axes.
        models: the models used.
        source: where the rows come from (e.g. ``fixture nc3``).
        corr: correlation matrix (3x3, nested lists in ``to_dict``).
        det: its determinant.
        eig_corr, eig_cov: eigenvalues of the correlation / covariance matrix (descending).
        d_eff_cov, d_eff_corr: participation ratios ``(sum l)^2 / sum l^2`` of those spectra.
        psd: whether the correlation matrix is positive semi-definite.
        third_on_second: OLS of the third axis on the second (``slope, intercept, r``).
        h3: residual of each model from that line (points of the third axis).
    """

    benchmarks: tuple[str, str, str]
    models: tuple[str, ...]
    source: str
    corr: np.ndarray
    det: float
    eig_corr: np.ndarray
    eig_cov: np.ndarray
    d_eff_cov: float
    d_eff_corr: float
    psd: bool
    third_on_second: dict
    h3: dict
    scores: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        out = self.scores.copy()
        out["h3"] = pd.Series(self.h3)
        return out

    def to_dict(self) -> dict:
        b = self.benchmarks
        return {"benchmarks": list(b), "models": list(self.models), "source": self.source,
                "corr": self.corr.tolist(), "r": {f"{b[i]}~{b[j]}": float(self.corr[i, j])
                                                  for i in range(3) for j in range(i + 1, 3)},
                "det": self.det, "eig_corr": self.eig_corr.tolist(), "eig_cov": self.eig_cov.tolist(),
                "d_eff_cov": self.d_eff_cov, "d_eff_corr": self.d_eff_corr, "psd": self.psd,
                "third_on_second": self.third_on_second, "h3": self.h3,
                "scores": _frame_records(self.scores)}


@dataclass(frozen=True)
class FrontierReport:
    """Everything ``cape frontier`` shows; each part is also available as its own function."""

    config: FrontierConfig
    panel: pd.DataFrame = field(repr=False)
    coupling: LinearCoupling = None
    subsets: tuple[SubsetCoupling, ...] = ()
    h_field: HField = None
    labs: LabStatistics = None
    lolo: LeaveOneLabOut = None
    saturation: Saturation = None
    three_axis: ThreeAxisPanel | None = None
    notes: tuple[str, ...] = ()

    @property
    def fitted_models(self) -> list[str]:
        return list(self.panel.index[self.panel["in_fit"]])

    @property
    def added_models(self) -> list[str]:
        return list(self.panel.index[self.panel["subset"] == "added"])

    def to_frame(self) -> pd.DataFrame:
        """One row per shown model: panel columns, h and its interval, the LOLO prediction."""
        h = self.h_field.table[["predicted", "h", "pi_half", "outside_pi", "direction"]]
        lo = self.lolo.models[["predicted"]].rename(columns={"predicted": "lolo_predicted"})
        return self.panel.join(h).join(lo)

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "x": self.config.x, "y": self.config.y,
                "n_shown": int(len(self.panel)), "n_fit": int(self.panel["in_fit"].sum()),
                "added_models": self.added_models,
                "coupling": self.coupling.to_dict(), "subsets": [s.to_dict() for s in self.subsets],
                "h_field": self.h_field.to_dict(), "labs": self.labs.to_dict(), "lolo": self.lolo.to_dict(),
                "saturation": self.saturation.to_dict(),
                "three_axis": self.three_axis.to_dict() if self.three_axis is not None else None,
                "notes": list(self.notes)}


# ---------------------------------------------------------------------------------------------- analyses
def _direction(h: float, band: float) -> str:
    if not np.isfinite(h):
        return "—"
    if h < -band:
        return "coding-rich"
    if h > band:
        return "reasoning-rich"
    return "balanced"


def mark_fit(panel: pd.DataFrame, config: FrontierConfig = FrontierConfig()) -> pd.DataFrame:
    """Copy of ``panel`` with a boolean ``in_fit`` column per ``config.fitted_subsets``."""
    p = panel.copy()
    p["in_fit"] = p["subset"].isin(config.fitted_subsets)
    return p


def population_coupling(panel: pd.DataFrame, config: FrontierConfig = FrontierConfig()) -> LinearCoupling:
    """:func:`linear_coupling` of y on x over the panel's fitted models (``in_fit``, or per ``config``)."""
    p = panel if "in_fit" in panel.columns else mark_fit(panel, config)
    f = p[p["in_fit"]]
    if len(f) < 3:
        raise AnalysisError(f"frontier fit needs at least 3 models in subsets {', '.join(config.fitted_subsets)}, "
                            f"got {len(f)}")
    return linear_coupling(f[config.x].to_numpy(), f[config.y].to_numpy(), ci=config.ci, n_boot=config.n_boot,
                           seed=config.seed, x_name=config.x, y_name=config.y)


def h_field(panel: pd.DataFrame, coupling: LinearCoupling, config: FrontierConfig = FrontierConfig()) -> HField:
    """Residual ``h = y - (slope x + intercept)`` of every shown model with its prediction interval.

    The line is ``LINE_METHODS[config.h_method](coupling)``; the interval half-width is the fit's prediction
    interval at the model's x (points of y).
    """
    p = panel if "in_fit" in panel.columns else mark_fit(panel, config)
    slope, intercept = LINE_METHODS[config.h_method](coupling)
    xv, yv = p[config.x].to_numpy(float), p[config.y].to_numpy(float)
    pred = slope * xv + intercept
    h = yv - pred
    half = coupling.prediction_halfwidth(xv)
    t = pd.DataFrame({"lab": p["lab"], "date": p["date"], "subset": p["subset"], "in_fit": p["in_fit"],
                      "x": xv, "y": yv, "predicted": pred, "h": h, "pi_half": half, "h_low": h - half,
                      "h_high": h + half, "outside_pi": np.abs(h) > half}, index=p.index)
    t["direction"] = [_direction(v, config.h_band) for v in h]
    return HField(slope=float(slope), intercept=float(intercept), method=config.h_method, ci=coupling.ci, table=t)


def _date_key(s) -> pd.Timestamp:
    if s is None or s is pd.NA or (isinstance(s, float) and math.isnan(s)):
        return pd.NaT
    s = str(s).strip()
    if len(s) == 4 and s.isdigit():
        s += "-01-01"
    elif len(s) == 7:
        s += "-01"
    return pd.to_datetime(s, errors="coerce")


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """slope, intercept, slope SE, r (NaN where undefined)."""
    nan = float("nan")
    if len(x) < 2 or np.ptp(x) == 0:
        return nan, nan, nan, nan
    slope, intercept = np.polyfit(x, y, 1)
    se = nan
    if len(x) > 2:
        res = y - (slope * x + intercept)
        se = math.sqrt((res ** 2).sum() / (len(x) - 2) / ((x - x.mean()) ** 2).sum())
    r = float(np.corrcoef(x, y)[0, 1]) if len(x) > 2 and np.ptp(y) > 0 else nan
    return float(slope), float(intercept), float(se), r


def lab_statistics(panel: pd.DataFrame, hf: HField, config: FrontierConfig = FrontierConfig()) -> LabStatistics:
    """Per-lab n, mean h (all / core), SD, swing, own slope and r over the lab's fitted models; and every
    shown model's place in its lab's h trajectory over release dates.

    Confidence follows the companion paper: HIGH with >= 3 core models, MED with 2, LOW otherwise.
    Labs with only shown-only models (post-cutoff, added) get a row with empty statistics.
    """
    t = hf.table
    rows = []
    for lab, g in t.groupby("lab", sort=True):
        f = g[g["in_fit"]]
        core = f[f["subset"] == "core"]
        slope, _, se, r = _ols(f["x"].to_numpy(float), f["y"].to_numpy(float))
        n_core = len(core)
        mean_h = float(f["h"].mean()) if len(f) else float("nan")
        rows.append({
            "lab": lab, "n": len(f), "n_core": n_core, "mean_h": mean_h,
            "mean_h_core": float(core["h"].mean()) if n_core else float("nan"),
            "sd_h": float(f["h"].std(ddof=1)) if len(f) > 1 else float("nan"),
            "swing": float(f["h"].max() - f["h"].min()) if len(f) > 1 else float("nan"),
            "slope": slope, "slope_se": se, "r": r,
            "confidence": "HIGH" if n_core >= 3 else "MED" if n_core == 2 else "LOW",
            "direction": ("reasoning-rich" if mean_h > config.lab_direction else
                          "coding-rich" if mean_h < -config.lab_direction else
                          "balanced" if np.isfinite(mean_h) else "—"),
            "shown_only": ", ".join(g.index[~g["in_fit"]]),
        })
    table = pd.DataFrame(rows).set_index("lab")
    traj = t[["lab", "date", "subset", "in_fit", "x", "y", "h"]].copy()
    traj["_key"] = [_date_key(d) for d in traj["date"]]
    traj["_pos"] = np.arange(len(traj))
    has_dates = traj["_key"].notna().all()
    if has_dates:
        traj = traj.sort_values(["lab", "_key", "_pos"], kind="stable")
        order = "release date"
    else:  # no dates (e.g. the fixture): the paper scripts' order, by x
        traj = traj.sort_values(["lab", "x", "_pos"], kind="stable")
        order = f"{config.x} (release dates missing)"
    traj["dh"] = traj.groupby("lab")["h"].diff()
    traj["reallocation"] = traj["dh"].abs() > config.reallocation
    traj = traj.drop(columns=["_key", "_pos"]).reset_index().rename(columns={"index": "model"})
    return LabStatistics(table=table, trajectory=traj, order=order)


def leave_one_lab_out(panel: pd.DataFrame, config: FrontierConfig = FrontierConfig()) -> LeaveOneLabOut:
    """Leave-one-lab-out holdout: refit y on x without each lab, predict that lab's models.

    The MAE of a lab is over its fitted models; shown-only models (post-cutoff, added) are predicted by the
    line fitted without their lab and reported per model, outside the summary.

    Returns:
        :class:`LeaveOneLabOut` (MAE in points of y; MAPE in percent of y).
    """
    p = panel if "in_fit" in panel.columns else mark_fit(panel, config)
    fit = p[p["in_fit"]]
    x_all, y_all = p[config.x].to_numpy(float), p[config.y].to_numpy(float)
    pred = np.full(len(p), np.nan)
    rows = []
    for lab in sorted(p["lab"].unique()):
        train = fit[fit["lab"] != lab]
        if len(train) < 2 or np.ptp(train[config.x].to_numpy(float)) == 0:
            continue
        slope, intercept = np.polyfit(train[config.x].to_numpy(float), train[config.y].to_numpy(float), 1)
        mask = (p["lab"] == lab).to_numpy()
        pred[mask] = slope * x_all[mask] + intercept
        test = mask & p["in_fit"].to_numpy()
        n_test = int(test.sum())
        err = np.abs(pred[test] - y_all[test])
        rows.append({"lab": lab, "n_test": n_test, "mae": float(err.mean()) if n_test else float("nan"),
                     "mape": float((err / y_all[test]).mean() * 100) if n_test else float("nan"),
                     "slope": float(slope), "intercept": float(intercept),
                     "in_summary": n_test >= config.lolo_min_models})
    labs = pd.DataFrame(rows).set_index("lab")
    summ = labs[labs["in_summary"]]
    models = pd.DataFrame({"lab": p["lab"], "in_fit": p["in_fit"], "y": y_all, "predicted": pred,
                           "error": pred - y_all}, index=p.index)
    if summ.empty:
        raise AnalysisError(f"leave-one-lab-out: no lab has {config.lolo_min_models} or more fitted models")
    return LeaveOneLabOut(mean_mae=float(summ["mae"].mean()), sd_mae=float(summ["mae"].std(ddof=0)),
                          n_labs=len(summ), min_models=config.lolo_min_models,
                          mean_mape=float(summ["mape"].mean()), sd_mape=float(summ["mape"].std(ddof=0)),
                          labs=labs, models=models)


def saturation(panel: pd.DataFrame, old: str | None = None, new: str | None = None, *,
               config: FrontierConfig = FrontierConfig(), use: str = "fit") -> Saturation:
    """Top-k spread ratio of an old axis to a newer one.

    Args:
        panel: the panel (models with both axes).
        old, new: axes (default ``config.x`` and ``config.y``).
        config: ``top_k``, ``rank_by`` and ``rotate_below``.
        use: ``"fit"`` (models in the fit) or ``"shown"`` (every model shown) as the population ranked.

    Returns:
        :class:`Saturation`; ``rotate`` is True when ``spread_old / spread_new < config.rotate_below``.

    Raises:
        AnalysisError: fewer than ``top_k`` models with both scores, or no spread on the new axis.
    """
    old = catalog.canonical(old or config.x)
    new = catalog.canonical(new or config.y)
    p = panel if "in_fit" in panel.columns else mark_fit(panel, config)
    pool = p if use == "shown" else p[p["in_fit"]]
    pool = pool.dropna(subset=[old, new])
    k = config.top_k
    if len(pool) < k:
        raise AnalysisError(f"saturation of {old} vs {new} needs at least {k} models with both scores, "
                            f"got {len(pool)}")
    key = old if config.rank_by == "old" else new
    ranked = pool.assign(_pos=np.arange(len(pool))).sort_values([key, "_pos"], ascending=[False, True],
                                                                 kind="stable")
    top = ranked.iloc[:k]
    s_old = float(top[old].max() - top[old].min())
    s_new = float(top[new].max() - top[new].min())
    if s_new == 0:
        raise AnalysisError(f"saturation: the top-{k} models have identical {new} scores; the ratio is undefined")
    ratio = s_old / s_new
    rank = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index)
    shown = p.dropna(subset=[old, new])
    ranking = pd.DataFrame({"lab": shown["lab"], "subset": shown["subset"], old: shown[old], new: shown[new],
                            "rank": rank.reindex(shown.index).astype("Int64")}, index=shown.index)
    # a shown-only model gets the rank it would have among the ranked pool
    outside = ranking["rank"].isna()
    for m in ranking.index[outside]:
        v = ranking.loc[m, key]
        ranking.loc[m, "rank"] = int((ranked[key] > v).sum()) + 1
    ranking["in_top_k"] = ranking.index.isin(top.index)
    ranking = ranking.sort_values(["rank"], kind="stable")
    return Saturation(old=old, new=new, top_k=k, rank_by=key, spread_old=s_old, spread_new=s_new, ratio=ratio,
                      threshold=config.rotate_below, rotate=bool(ratio < config.rotate_below),
                      top_models=tuple(top.index), ranking=ranking)


def participation_ratio(eigenvalues: Sequence[float]) -> float:
    """``(sum l)^2 / sum l^2`` of a spectrum (negative eigenvalues clipped to 0), as a float."""
    return float(_pr(eigenvalues))


def three_axis_panel(scores: pd.DataFrame, benchmarks: Sequence[str] = (SWE, GPQA, IFEVAL), *,
                     source: str = "scores") -> ThreeAxisPanel:
    """Correlation structure of three frontier axes over the models that have all three.

    Args:
        scores: wide frame (index or column ``model``) with the three benchmark columns (percent).
        benchmarks: the three axes; the regression is of the third on the second.
        source: label of where the rows come from.

    Raises:
        AnalysisError: fewer than 3 models with all three scores, or a constant axis.

    Example:
        >>> from cape import data
        >>> tp = three_axis_panel(data.fixture("nc3"))          # doctest: +SKIP
        >>> round(tp.d_eff_cov, 3)                               # doctest: +SKIP
        1.751
    """
    df = pd.DataFrame(scores).copy()
    if "model" in df.columns:
        df = df.set_index("model")
    df = df.rename(columns={c: catalog.canonical(c) for c in df.columns if isinstance(c, str) and catalog.is_known(c)})
    bs = tuple(catalog.canonical(b) for b in benchmarks)
    if len(bs) != 3 or len(set(bs)) != 3:
        raise DataError(f"three-axis panel needs three different benchmarks, got {', '.join(bs)}")
    miss = [b for b in bs if b not in df.columns]
    if miss:
        raise AnalysisError(f"three-axis panel: no {miss[0]} scores")
    m = df[list(bs)].apply(pd.to_numeric, errors="coerce").dropna()
    if len(m) < 3:
        raise AnalysisError(f"three-axis panel needs at least 3 models with {', '.join(bs)}, got {len(m)}")
    X = m.to_numpy(float)
    if (np.ptp(X, axis=0) == 0).any():
        raise AnalysisError("three-axis panel: an axis is constant over the models; correlations are undefined")
    R = np.corrcoef(X, rowvar=False)
    C = np.cov(X, rowvar=False)
    ec = np.sort(np.linalg.eigvalsh(R))[::-1]
    ev = np.sort(np.linalg.eigvalsh(C))[::-1]
    slope, intercept = np.polyfit(X[:, 1], X[:, 2], 1)
    r32 = float(R[1, 2])
    h3 = {str(k): float(v) for k, v in zip(m.index, X[:, 2] - (slope * X[:, 1] + intercept))}
    return ThreeAxisPanel(benchmarks=bs, models=tuple(map(str, m.index)), source=source, corr=R,
                          det=float(np.linalg.det(R)), eig_corr=ec, eig_cov=ev, d_eff_cov=participation_ratio(ev),
                          d_eff_corr=participation_ratio(ec), psd=bool(ec.min() >= -1e-12),
                          third_on_second={"y": bs[2], "x": bs[1], "slope": float(slope),
                                           "intercept": float(intercept), "r": r32},
                          h3=h3, scores=m)


#: Named subsets of the fitted panel whose coupling the report lists (docs/methods.md, "Frontier regressions"; claims B1, B6 in docs/paper.md).
SUBSET_RULES: dict[str, tuple[str, Callable[[pd.DataFrame, FrontierConfig], pd.Series]]] = {
    "core": ("subset == core", lambda p, c: p["subset"] == "core"),
    "x>=40": ("x >= 40", lambda p, c: p[c.x] >= 40),
    "no compute tier": ("names without 'xhigh' / 'std'",
                        lambda p, c: ~p.index.to_series().str.contains(r"xhigh|\bstd\b", case=False, regex=True)),
}


def subset_couplings(panel: pd.DataFrame, config: FrontierConfig = FrontierConfig()) -> tuple[SubsetCoupling, ...]:
    """Coupling of the fitted panel restricted by each rule of :data:`SUBSET_RULES`, plus the refit with
    every shown model (post-cutoff and added included) when there are any."""
    from scipy import stats

    p = panel if "in_fit" in panel.columns else mark_fit(panel, config)
    fit = p[p["in_fit"]]
    out = []

    def one(name, rule, sub):
        if len(sub) < 3 or np.ptp(sub[config.x]) == 0 or np.ptp(sub[config.y]) == 0:
            return
        r, pv = stats.pearsonr(sub[config.x], sub[config.y])
        sl, ic = np.polyfit(sub[config.x].to_numpy(float), sub[config.y].to_numpy(float), 1)
        out.append(SubsetCoupling(name=name, rule=rule, n=len(sub), r=float(r), p=float(pv), slope=float(sl),
                                  intercept=float(ic)))

    for name, (rule, fn) in SUBSET_RULES.items():
        sub = fit[fn(fit, config).to_numpy()]
        if len(sub) < len(fit):
            one(name, rule, sub)
    if len(p) > len(fit):
        one("all shown", "fitted + post-cutoff + added", p)
    return tuple(out)


def default_three_axis_source(panel: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Rows for the three-axis sub-panel: the paper's ``nc3`` fixture plus any added model with IFEval."""
    from . import data

    base = data.fixture("nc3").set_index("model")[[SWE, GPQA, IFEVAL]]
    src = "fixture nc3"
    if IFEVAL in panel.columns:
        extra = panel[(panel["subset"] == "added") & panel[IFEVAL].notna()][[SWE, GPQA, IFEVAL]]
        extra = extra[~extra.index.isin(base.index)]
        if len(extra):
            base = pd.concat([base, extra])
            src += f" + {len(extra)} added"
    return base, src


@once_per_run
def frontier_report(panel: pd.DataFrame | None = None, config: FrontierConfig = FrontierConfig(), *,
                    added=None, three_axis: pd.DataFrame | None | bool = True) -> FrontierReport:
    """Every frontier diagnostic on one panel.

    Args:
        panel: a panel (:func:`panel_from_wide` layout); default the embedded panel.
        config: :class:`FrontierConfig`.
        added: models to add (ScoreTable or wide frame with model, lab and both axes), subset ``added``.
        three_axis: ``True`` for the default sub-panel (nc3 fixture + added models with IFEval), a wide frame
            of rows to use, or ``False``/``None`` to skip it.

    Returns:
        :class:`FrontierReport`.
    """
    if panel is None:
        panel = embedded_panel(x=config.x, y=config.y)
    if added is not None:
        panel = add_models(panel, added, x=config.x, y=config.y)
    panel = mark_fit(panel, config)
    notes = []
    shown_only = panel.index[~panel["in_fit"]]
    if len(shown_only):
        notes.append(f"{len(shown_only)} shown but not fitted ({', '.join(shown_only)})")
    coup = population_coupling(panel, config)
    hf = h_field(panel, coup, config)
    labs = lab_statistics(panel, hf, config)
    lolo = leave_one_lab_out(panel, config)
    sat = saturation(panel, config=config)
    ta = None
    if three_axis is not None and three_axis is not False:
        try:
            if three_axis is True:
                rows, src = default_three_axis_source(panel)
            else:
                rows, src = three_axis, "given rows"
            ta = three_axis_panel(rows, source=src)
        except AnalysisError as e:
            notes.append(f"three-axis sub-panel skipped: {e}")
    return FrontierReport(config=config, panel=panel, coupling=coup, subsets=subset_couplings(panel, config),
                          h_field=hf, labs=labs, lolo=lolo, saturation=sat, three_axis=ta, notes=tuple(notes))


# ---------------------------------------------------------------------------------------------- claims
