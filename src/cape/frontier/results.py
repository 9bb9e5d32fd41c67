"""Result types of the frontier analyses (frozen; ``to_dict()`` / ``to_frame()``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .._format import Line, TextSummary, TextTable
from .config import FrontierConfig
from .regression import LinearCoupling
from .summary import report_blocks


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
class FrontierReport(TextSummary):
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

    def summary_blocks(self) -> list[Line | TextTable]:
        """The report as lines and tables (what ``cape frontier`` prints, in order)."""
        return report_blocks(self)

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
