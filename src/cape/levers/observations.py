"""The coupling observations a lever model is fitted to.

``gamma`` (default): one observation per consecutive-size step of a family's pretrained models,
``gamma_k = dB2 / dB1`` placed at the step's log10 midpoint, weighted by its precision
``dB1^2 / (se2_k^2 + se2_{k+1}^2)`` (the weighting of the running-coupling fit in :mod:`cape.critical`), so a
step where B1 barely moves counts little instead of dominating with a huge ratio. Steps with
``|dB1| <= min_delta`` or equal sizes are skipped, as in :func:`cape.coupling.local_coupling`.
Design: ``[1, log10 N]``.

``residual``: one observation per pretrained model, B2 with B1 and ``log10 N`` as covariates, i.e. B2 at
matched B1 and matched size (percentage points). Design: ``[1, B1, log10 N]``. It uses families with a single
model, which ``gamma`` cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..coupling import MIN_DELTA, gamma_steps, score_frame
from ..errors import AnalysisError, DataError

MEASURES = ("gamma", "residual")
DERIVED_KINDS = ("fine-tuned", "chat", "merge")


@dataclass(frozen=True)
class Observations:
    """Observations of the coupling measure, grouped by family.

    Attributes:
        families: family names (F); fam_idx: ``(n,)`` index into them.
        X0: ``(n, p0)`` observation-level design (column 0 = 1); y, w: outcome and weights.
        slope_col: the column of ``log10 N`` in ``X0``.
        size_range: family -> (smallest, largest) parameter count of its models used.
        n_models: models behind the observations.
        measure: ``gamma`` or ``residual``.
    """

    families: tuple[str, ...]
    fam_idx: np.ndarray
    X0: np.ndarray
    y: np.ndarray
    w: np.ndarray
    slope_col: int
    size_range: dict[str, tuple[float, float]]
    n_models: int
    measure: str


def trajectory_frame(table, attrs: pd.DataFrame, pair: tuple[str, str]) -> pd.DataFrame:
    """Pretrained models with both scores and a size: ``family``, ``params``, B1, B2, ``se:B2``."""
    wide = score_frame(table, pair)
    kind = attrs["model_type"].reindex(wide.index)
    keep = ~kind.isin(DERIVED_KINDS)
    wide = wide[keep]
    b1, b2 = pair
    ok = np.isfinite(wide["params"].to_numpy(float)) & wide[[b1, b2]].notna().all(axis=1).to_numpy()
    return wide[ok]


def observations(table, attrs: pd.DataFrame, pair: tuple[str, str], measure: str = "gamma", *,
                 min_delta: float = MIN_DELTA) -> Observations:
    """Build the observations of ``measure`` from the pretrained models of ``table``.

    Raises:
        DataError: unknown measure.
        AnalysisError: no usable observation.
    """
    if measure not in MEASURES:
        raise DataError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    wide = trajectory_frame(table, attrs, pair)
    b1, b2 = pair
    rows = []
    ranges = {}
    n_models = 0
    for fam, g in wide.groupby(wide["family"].astype(str), sort=True):
        g = g.sort_values("params", kind="stable")
        p = g["params"].to_numpy(float)
        s1, s2 = g[b1].to_numpy(float), g[b2].to_numpy(float)
        if measure == "residual":
            for i in range(len(g)):
                rows.append((fam, [1.0, s1[i], np.log10(p[i])], s2[i], 1.0))
            ranges[fam] = (float(p.min()), float(p.max()))
            n_models += len(g)
            continue
        if len(g) < 2:
            continue
        gam, xm, d1, _ = gamma_steps(np.log10(p), s1, s2, min_delta=min_delta)
        se2 = g[f"se:{b2}"].to_numpy(float)
        var = se2[:-1] ** 2 + se2[1:] ** 2
        var = np.where(np.isfinite(var) & (var > 0), var, 1.0)
        used = np.flatnonzero(np.isfinite(gam))
        for k in used:
            rows.append((fam, [1.0, xm[k]], gam[k], d1[k] ** 2 / var[k]))
        if used.size:
            ranges[fam] = (float(p.min()), float(p.max()))
            n_models += len(g)
    if not rows:
        raise AnalysisError(f"no usable {measure} observations: need pretrained models with {b1}, {b2} and a size"
                            + (" (at least two sizes per family)" if measure == "gamma" else ""))
    fams = tuple(sorted({r[0] for r in rows}))
    index = {f: i for i, f in enumerate(fams)}
    fam_idx = np.array([index[r[0]] for r in rows])
    X0 = np.array([r[1] for r in rows], dtype=float)
    y = np.array([r[2] for r in rows], dtype=float)
    w = np.array([r[3] for r in rows], dtype=float)
    w = w / w.mean()
    return Observations(fams, fam_idx, X0, y, w, X0.shape[1] - 1, ranges, n_models, measure)
