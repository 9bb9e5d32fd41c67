"""Prediction errors: mean absolute error in points and mean absolute percentage error, per benchmark and overall."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorTable:
    """Errors of predicted against observed scores (both percent).

    Attributes:
        benchmarks: canonical names.
        mae: mean |predicted - observed| per benchmark, percentage points.
        mape: mean |predicted - observed| / observed x 100 per benchmark, percent.
        overall_mae: over every (model, benchmark) cell, points.
        overall_mape: over every cell, percent.
        overall_rel: mean |error| / mean observed x 100 over every cell (the paper's "mean error").
        n_points: predicted models compared.
        diverged: True when the prediction is missing (the integration left the valid range).
    """

    benchmarks: tuple[str, ...]
    mae: tuple[float, ...]
    mape: tuple[float, ...]
    overall_mae: float
    overall_mape: float
    overall_rel: float
    n_points: int
    diverged: bool = False

    def to_dict(self) -> dict:
        return {"benchmarks": list(self.benchmarks), "mae": list(self.mae), "mape": list(self.mape),
                "overall_mae": self.overall_mae, "overall_mape": self.overall_mape,
                "overall_rel": self.overall_rel, "n_points": self.n_points, "diverged": self.diverged}


def errors(pred: np.ndarray, obs: np.ndarray, benchmarks: Sequence[str]) -> ErrorTable:
    """Compare ``pred`` and ``obs`` (``(m, d)`` percent). A NaN prediction makes every error NaN.

    Example:
        >>> e = errors(np.array([[11.0, 20.0]]), np.array([[10.0, 20.0]]), ["HellaSwag", "TruthfulQA"])
        >>> e.mae, e.overall_mape
        ((1.0, 0.0), 5.0)
    """
    pred = np.asarray(pred, dtype=float)
    obs = np.asarray(obs, dtype=float)
    m = obs.shape[0]
    if m == 0:
        nan = tuple(float("nan") for _ in benchmarks)
        return ErrorTable(tuple(benchmarks), nan, nan, float("nan"), float("nan"), float("nan"), 0)
    bad = bool(np.isnan(pred).any())
    err = np.abs(pred - obs)
    ape = err / np.abs(obs) * 100.0
    return ErrorTable(tuple(benchmarks), tuple(float(v) for v in err.mean(axis=0)),
                      tuple(float(v) for v in ape.mean(axis=0)), float(err.mean()), float(ape.mean()),
                      float(err.mean() / np.abs(obs).mean() * 100.0), m, bad)


def batch_mape(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Overall MAPE of many predictions ``(R, m, d)`` against ``obs`` ``(m, d)``: shape ``(R,)`` (NaN for
    diverged members)."""
    return (np.abs(pred - obs[None]) / np.abs(obs[None]) * 100.0).mean(axis=(1, 2))


__all__ = ["ErrorTable", "errors", "batch_mape"]
