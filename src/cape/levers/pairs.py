"""Post-training as a natural experiment: each fine-tune, chat model or merge against its own base model.

A derived model and its base share size, architecture and pre-training, so their difference isolates what
post-training did. For a pair the *coupling shift* is the change of B2 at matched B1:

``shift = dB2 - c * dB1``

with ``dB = derived - base`` (percentage points) and ``c`` the slope of B2 on B1 across the table's pretrained
models (the population trend; all models when fewer than 5 are pretrained). A positive shift means the
derived model gained more B2 than its B1 change predicts: a move toward cooperation. ``comove`` is the sign of
``dB1 * dB2`` (both up or both down).

Pairs are clustered by base model (a popular base has hundreds of derivatives): each base model's pairs are
averaged first, so every base counts once. p: sign-flip test over
bases (exact when ``2**K`` is small), two-sided, for the null "post-training shifts coupling symmetrically
around zero"; the CI collects every shift that test does not reject (so it agrees with p).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import check_int, check_level, check_n_boot, check_seed
from ..coupling import DEFAULT_PAIR, resolve_pair, score_frame
from ..errors import AnalysisError
from .attributes import model_attributes
from .observations import DERIVED_KINDS
from .results import LeverEffect, _f

MIN_PRETRAINED = 5


def _slope(wide: pd.DataFrame, kinds: pd.Series, b1: str, b2: str) -> tuple[float, str]:
    pre = wide[kinds.reindex(wide.index).eq("pretrained")].dropna(subset=[b1, b2])
    src = "pretrained models"
    if len(pre) < MIN_PRETRAINED:
        pre = wide.dropna(subset=[b1, b2])
        src = "all models (fewer than 5 pretrained)"
    if len(pre) < 3 or np.ptp(pre[b1].to_numpy(float)) == 0:
        return 0.0, "none (too few models; shift = dB2)"
    c = float(np.polyfit(pre[b1].to_numpy(float), pre[b2].to_numpy(float), 1)[0])
    return c, f"{src} ({len(pre)})"


def pair_frame(table, attrs: pd.DataFrame, pair: tuple[str, str]) -> tuple[pd.DataFrame, float, str]:
    """One row per derived model whose base model is in the table with both scores.

    Returns:
        ``(pairs, c, slope_source)``: pairs has ``model``, ``base``, ``kind``, ``family`` (the base's),
        ``params``, ``d1``, ``d2``, ``shift``, ``comove``.
    """
    b1, b2 = pair
    wide = score_frame(table, pair)
    kinds = attrs["model_type"]
    c, src = _slope(wide, kinds, b1, b2)
    lower = {str(m).lower(): m for m in wide.index}
    rows = []
    for m in wide.index:
        kind = kinds.get(m, "unknown")
        base = attrs["base_model"].get(m) if "base_model" in attrs.columns else None
        if base is None or (isinstance(base, float) and math.isnan(base)) or base is pd.NA:
            continue
        bm = lower.get(str(base).strip().lower())
        if bm is None or bm == m:
            continue
        if kind not in DERIVED_KINDS:
            kind = "fine-tuned" if kind in ("unknown", "pretrained") else kind
        s, t = wide.loc[m], wide.loc[bm]
        if not all(np.isfinite([s[b1], s[b2], t[b1], t[b2]])):
            continue
        d1, d2 = float(s[b1] - t[b1]), float(s[b2] - t[b2])
        rows.append({"model": m, "base": bm, "kind": kind, "family": str(attrs["family"].get(bm)),
                     "params": _f(t["params"]), "d1": d1, "d2": d2, "shift": d2 - c * d1,
                     "comove": int(np.sign(d1 * d2))})
    cols = ["model", "base", "kind", "family", "params", "d1", "d2", "shift", "comove"]
    return pd.DataFrame(rows, columns=cols), c, src


def cluster_test(values: np.ndarray, clusters: np.ndarray, *, n_boot: int, n_perm: int, level: float,
                 rng: np.random.Generator) -> tuple[float, float, float, float, int]:
    """Mean of cluster means with a sign-flip p-value and the CI that inverts it.

    The CI holds every shift ``b0`` that the sign-flip test of ``means - b0`` does not reject at ``1 - level``
    (so it excludes 0 exactly when p does); ``n_boot`` sizes the cluster bootstrap that sets the search range.

    Returns:
        ``(estimate, ci_low, ci_high, p, n_clusters)``.
    """
    df = pd.DataFrame({"v": values, "c": clusters})
    means = df.groupby("c", sort=True)["v"].mean().to_numpy(float)
    K = means.size
    est = float(means.mean())
    if 2 ** K <= n_perm:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=K)))
        exact = True
    else:
        signs = rng.choice((-1.0, 1.0), size=(n_perm, K))
        exact = False

    def pvals(b0: np.ndarray) -> np.ndarray:
        dev = means[None, :] - b0[:, None]                      # (G, K)
        obs = np.abs(dev.mean(1))                               # (G,)
        null = np.abs(dev @ signs.T / K)                        # (G, S)
        ge = (null >= obs[:, None] - 1e-12).sum(1)
        return ge / signs.shape[0] if exact else (1 + ge) / (1 + signs.shape[0])

    p = float(pvals(np.array([0.0]))[0])
    boot = means[rng.integers(0, K, size=(n_boot, K))].mean(1)
    half = 4.0 * float(np.std(boot)) + 1e-9
    for _ in range(4):
        grid = est + half * np.linspace(-1.0, 1.0, 801)
        acc = grid[pvals(grid) > 1.0 - level]
        if acc.size and grid[0] < acc[0] and acc[-1] < grid[-1]:
            break
        half *= 4.0
    if not acc.size:
        return est, est, est, p, K
    lo = -np.inf if acc[0] == grid[0] else float(acc[0])  # the test cannot reject that far: unbounded
    hi = np.inf if acc[-1] == grid[-1] else float(acc[-1])
    return est, lo, hi, p, K


def paired_effect(table, attrs: pd.DataFrame, pair: tuple[str, str], *, n_boot: int, n_perm: int, level: float,
                  alpha: float, min_families: int, rng: np.random.Generator) -> LeverEffect:
    """The ``post_training`` lever: derived models against their bases, clustered by the base's family."""
    pf, c, src = pair_frame(table, attrs, pair)
    levels = ("base", "post-trained")
    fams = sorted(pf["family"].unique()) if len(pf) else []
    nf = {"base": len(fams), "post-trained": len(fams)}
    unit = f"{pair[1]} points at matched {pair[0]} (derived minus base)"
    if len(fams) < min_families:
        why = (f"{len(pf)} derived model(s) with their base in the table, from {len(fams)} famil"
               f"{'y' if len(fams) == 1 else 'ies'}; at least {min_families} needed (a base_model column names "
               "each fine-tune's base)")
        return LeverEffect("post_training", "paired", levels, None, None, None, None, nf,
                           {"pairs": list(pf["model"])}, False, None, None,
                           f"post_training: not identifiable from these data ({why})", unit)
    est, lo, hi, p, K = cluster_test(pf["shift"].to_numpy(float), pf["family"].to_numpy(), n_boot=n_boot,
                                     n_perm=n_perm, level=level, rng=rng)
    verdict = "significant" if p < alpha else f"not significant at alpha = {alpha:g}"
    if 2.0 / 2 ** K > alpha:
        verdict += f" (with {K} families the smallest attainable p is {2.0 / 2 ** K:.3g})"
    msg = (f"post-training vs base: {est:+.3g} {pair[1]} points at matched {pair[0]} [{lo:+.3g}, {hi:+.3g}], "
           f"p = {p:.3g} ({len(pf)} pairs, {K} families; slope c = {c:.3g} from {src}); {verdict}")
    return LeverEffect("post_training", "paired", levels, est, _f(lo), _f(hi), p, nf,
                       {"families": fams, "pairs": list(pf["model"])}, True, p < alpha, None, msg, unit,
                       {}, (), (), len(pf))


@dataclass(frozen=True)
class KindShift:
    """Coupling shift of one kind of derived model (fine-tuned, chat, merge) relative to its base.

    Attributes:
        kind: the kind; n_pairs: derived models; n_bases: distinct base models (the units).
        mean_shift: mean over bases of each base's mean shift (B2 points at matched B1), CI and p (see module).
        median_shift: median over pairs; share_positive: pairs with shift > 0; share_comove: pairs with
            ``dB1 * dB2 > 0``.
        significant: p < alpha; message: one sentence.
    """

    kind: str
    n_pairs: int
    n_bases: int
    mean_shift: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    median_shift: float | None
    share_positive: float | None
    share_comove: float | None
    significant: bool | None
    message: str

    def to_dict(self) -> dict:
        return {k: (_f(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class FinetuneReport:
    """Post-training shifts per kind, with the pairs behind them."""

    kinds: tuple[KindShift, ...]
    pair: tuple[str, str]
    slope: float
    slope_source: str
    pairs: pd.DataFrame
    settings: dict

    def to_dict(self) -> dict:
        recs = self.pairs.astype(object).where(self.pairs.notna(), None).to_dict(orient="records")
        return {"kinds": [k.to_dict() for k in self.kinds], "pair": list(self.pair), "slope": _f(self.slope),
                "slope_source": self.slope_source, "n_pairs": len(self.pairs), "pairs": recs,
                "settings": dict(self.settings)}


def finetune_shifts(table, *, attributes: pd.DataFrame | None = None, pair=DEFAULT_PAIR, n_boot: int = 2000,
                    n_perm: int = 2000, seed: int = 0, level: float = 0.95, alpha: float = 0.05,
                    min_bases: int = 3) -> FinetuneReport:
    """How post-training moves coupling: the shift of each kind of derived model relative to its base.

    Args:
        table: a ScoreTable whose models carry ``base_model`` and ``model_type`` (leaderboard "Base Model" and
            "Type" columns), or ``attributes`` with those columns.
        pair: ``(B1, B2)``; the shift is in B2 points at matched B1.
        n_boot, n_perm, seed, level, alpha: resampling settings; min_bases: bases needed for an estimate.

    Returns:
        :class:`FinetuneReport`.

    Raises:
        DataError: bad settings or the pair's benchmarks missing; AnalysisError: no derived model whose base
        is in the table.
    """
    check_n_boot(n_boot, "n_boot", minimum=100)
    check_n_boot(n_perm, "n_perm", minimum=100)
    check_level(level)
    check_seed(seed, allow_none=False)
    check_int(min_bases, "min_bases", minimum=2)
    b1, b2 = resolve_pair(pair)
    attrs = model_attributes(table, attributes)
    pf, c, src = pair_frame(table, attrs, (b1, b2))
    if pf.empty:
        raise AnalysisError(f"{table.name}: no fine-tune, chat model or merge whose base model is in the table "
                            f"with {b1} and {b2} scores (a 'Base Model' / base_model column names each base)")
    rng = np.random.default_rng(seed)
    out = []
    for kind in sorted(pf["kind"].unique()):
        g = pf[pf["kind"] == kind]
        K = g["base"].nunique()
        med = float(g["shift"].median())
        spos = float((g["shift"] > 0).mean())
        scom = float((g["comove"] > 0).mean())
        if K < min_bases:
            out.append(KindShift(kind, len(g), K, None, None, None, None, med, spos, scom, None,
                                 f"{kind}: {len(g)} pair(s) on {K} base model(s); at least {min_bases} bases needed "
                                 "for an estimate"))
            continue
        est, lo, hi, p, _ = cluster_test(g["shift"].to_numpy(float), g["base"].to_numpy(), n_boot=n_boot,
                                         n_perm=n_perm, level=level, rng=rng)
        toward = "toward cooperation" if est > 0 else "away from cooperation"
        verdict = "significant" if p < alpha else f"not significant at alpha = {alpha:g}"
        out.append(KindShift(kind, len(g), K, est, _f(lo), _f(hi), p, med, spos, scom, p < alpha,
                             f"{kind}: {est:+.3g} {b2} points at matched {b1} [{lo:+.3g}, {hi:+.3g}] ({toward}), "
                             f"p = {p:.3g}, {len(g)} pairs on {K} bases; {verdict}"))
    return FinetuneReport(tuple(out), (b1, b2), c, src, pf,
                          {"seed": seed, "n_boot": n_boot, "n_perm": n_perm, "level": level, "alpha": alpha,
                           "min_bases": min_bases})
