"""The frontier analyses: population coupling, h-field, per-lab statistics, leave-one-lab-out, saturation,
the three-axis sub-panel and subset couplings."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .. import catalog
from .._stats import participation_ratio as _pr
from ..errors import AnalysisError, DataError
from .config import FrontierConfig, GPQA, IFEVAL, SWE
from .regression import LINE_METHODS, LinearCoupling, linear_coupling
from .results import HField, LabStatistics, LeaveOneLabOut, Saturation, SubsetCoupling, ThreeAxisPanel


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
    return linear_coupling(f[config.x].to_numpy(), f[config.y].to_numpy(), ci=config.level, n_boot=config.n_boot,
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
                          det=float(np.linalg.det(R)), eig_corr=ec, eig_cov=ev, d_eff_cov=float(_pr(ev)),
                          d_eff_corr=float(_pr(ec)), psd=bool(ec.min() >= -1e-12),
                          third_on_second={"y": bs[2], "x": bs[1], "slope": float(slope),
                                           "intercept": float(intercept), "r": r32},
                          h3=h3, scores=m)


#: Named subsets of the fitted panel whose coupling the report lists (docs/methods.md, "Frontier regressions";
#: claims B1, B6 in docs/paper.md).
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
