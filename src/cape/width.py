"""Width normalisation of benchmark scores and its ratio-artefact null model (docs/methods.md, "Width normalisation").

Each model's scores are divided by its width relative to a reference width,
``B~(m) = B(m) / (d_model(m) / d_ref)`` with ``d_ref = 512`` (Pythia-70M), and the population coupling
``r(B1~, B2~)`` is recomputed over the family. The paper reports that this turns Pythia's
``r = -0.989`` into ``+0.963``.

Dividing two bounded series by a shared factor that grows with size pushes their correlation toward +1
whatever their true relation (a ratio artefact). :func:`width_normalized_r` therefore also computes the
distribution of ``r`` when *independent* random scores are divided by the same widths (``null``):

* ``"permute"`` (default): each benchmark's observed values are shuffled independently across the
  family's models (same marginal values, no relation to each other or to width);
* ``"normal"``: independent normal scores with each benchmark's observed mean and standard deviation.

The result says whether the normalised ``r`` exceeds what division alone produces (``p_null``: share of
null draws at least as large) and how often division alone already yields a positive ``r``
(``null_frac_positive``).

Example:
    >>> from cape import data
    >>> w = width_normalized_r(data.fixture("pythia8").assign(family="Pythia"), n_null=2000)
    >>> round(w.r_raw, 3), round(w.r_norm, 3)
    (-0.989, 0.963)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._format import fields_dict
from ._format import finite_or_none as _f
from ._columns import pearson_columns
from ._stats import pearson_rows, percentile_ci
from ._validate import check_pair as resolve_pair
from ._validate import check_n_boot, check_positive, check_seed
from .coupling import DEFAULT_PAIR, family_arrays
from .errors import AnalysisError, DataError

D_REF = 512


def width_normalize(scores: np.ndarray, d_model: np.ndarray, d_ref: float = D_REF) -> np.ndarray:
    """Scores divided by ``d_model / d_ref`` (broadcast over the last axis = models).

    Example:
        >>> width_normalize(np.array([50.0, 60.0]), np.array([512, 1024])).tolist()
        [50.0, 30.0]
    """
    d = np.asarray(d_model, dtype=float)
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise DataError("d_model must be positive for every model")
    return np.asarray(scores, dtype=float) / (d / float(d_ref))


@dataclass(frozen=True)
class WidthResult:
    """Raw and width-normalised population coupling of one family, with the ratio-artefact null.

    Attributes:
        r_raw, r_norm: Pearson r before and after dividing by ``d_model/d_ref``.
        flip: ``r_raw < 0 < r_norm``.
        null_kind, n_null: the null model and its number of draws.
        null_median, null_ci: median and central 95% range of the null ``r_norm``.
        null_frac_positive: share of null draws with ``r_norm > 0`` (how often division alone gives a
            positive r).
        p_null: ``(1 + #{null >= r_norm}) / (1 + n_null)``.
        exceeds_null: True when ``p_null < 0.05``: the normalised coupling is stronger than division alone
            produces.
        status: ``ok``, ``insufficient`` (fewer than 3 models with a width), ``constant``.
    """

    family: str
    b1: str
    b2: str
    n: int
    d_ref: float
    models: tuple[str, ...]
    d_model: tuple[float, ...]
    r_raw: float | None
    r_norm: float | None
    flip: bool
    null_kind: str
    n_null: int
    null_median: float | None
    null_ci: tuple[float | None, float | None]
    null_frac_positive: float | None
    p_null: float | None
    exceeds_null: bool
    seed: int | None
    status: str
    message: str

    def to_dict(self) -> dict:
        d = fields_dict(self)
        d["null_ci"] = list(self.null_ci)
        return d


def _d_model_lookup(models: Sequence[str], frame, d_model: Mapping[str, float] | None) -> np.ndarray:
    out = np.full(len(models), np.nan)
    if d_model is not None:
        low = {str(k).lower(): v for k, v in d_model.items()}
        for i, m in enumerate(models):
            v = d_model.get(m, low.get(m.lower()))
            if v is not None:
                out[i] = float(v)
        return out
    if frame is not None and "d_model" in getattr(frame, "columns", []):
        col = frame["d_model"]
        for i, m in enumerate(models):
            if m in col.index and np.isfinite(col.loc[m]):
                out[i] = float(col.loc[m])
        if np.isfinite(out).all():
            return out
    from .data import architectures

    arch = architectures()
    amap = {str(k).lower(): float(v) for k, v in zip(arch["model"], arch["d_model"]) if np.isfinite(v)}
    hf = {str(k).lower(): float(v) for k, v in zip(arch.get("hf_id", []), arch["d_model"]) if np.isfinite(v)} \
        if "hf_id" in arch.columns else {}
    for i, m in enumerate(models):
        if not np.isfinite(out[i]):
            v = amap.get(m.lower(), hf.get(m.lower()))
            if v is not None:
                out[i] = v
    return out


def width_normalized_r(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, family: str | None = None,
                       d_model: Mapping[str, float] | None = None, d_ref: float = D_REF, null: str = "permute",
                       n_null: int = 10_000, seed: int | None = 0) -> WidthResult:
    """Width-normalised coupling of one family and its ratio-artefact null distribution.

    Args:
        table: a ScoreTable, or a wide frame (``model``, ``family``, ``params``, benchmarks, optionally
            ``d_model``).
        pair: the two benchmarks.
        family: the family (when the table holds several).
        d_model: model -> hidden width; default: a ``d_model`` column, else ``cape.data.architectures()``.
        d_ref: reference width (512 = Pythia-70M).
        null: ``"permute"`` or ``"normal"`` (see the module docstring).
        n_null: null draws (vectorised).
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        :class:`WidthResult`; models without a known width are left out and named in ``message``.
    """
    n_null = check_n_boot(n_null, "n_null")
    seed = check_seed(seed)
    d_ref = check_positive(d_ref, "d_ref")
    if null not in ("permute", "normal"):
        raise DataError(f"null must be 'permute' or 'normal', not {null!r}")
    b1, b2 = resolve_pair(pair)
    frame = None
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        frame = table.set_index("model") if "model" in table.columns else table
        if "family" not in frame.columns:
            frame = frame.assign(family=family or "family")
    models, params, sc, dropped = family_arrays(frame if frame is not None else table, family, (b1, b2))
    fam = family or (str(frame["family"].iloc[0]) if frame is not None else
                     (table.families[0] if len(table.families) == 1 else "family"))
    d = _d_model_lookup(models, frame, d_model)
    known = np.isfinite(d) & (d > 0)
    msg = []
    if (~known).any():
        msg.append("no d_model for " + ", ".join(m for m, k in zip(models, known) if not k) + " (left out)")
    models = [m for m, k in zip(models, known) if k]
    sc, d = sc[known], d[known]
    n = len(models)
    base = dict(family=fam, b1=b1, b2=b2, n=n, d_ref=float(d_ref), models=tuple(models),
                d_model=tuple(float(v) for v in d), null_kind=null, n_null=n_null, seed=seed)
    empty = dict(r_raw=None, r_norm=None, flip=False, null_median=None, null_ci=(None, None),
                 null_frac_positive=None, p_null=None, exceeds_null=False)
    if n < 3:
        return WidthResult(**base, **empty, status="insufficient",
                           message="; ".join(msg + [f"{n} model(s) with a known width; r needs at least 3"]))
    if np.ptp(sc[:, 0]) == 0 or np.ptp(sc[:, 1]) == 0:
        return WidthResult(**base, **empty, status="constant",
                           message="; ".join(msg + ["a benchmark is constant across the family; r undefined"]))
    r_raw = float(pearson_rows(sc[:, 0], sc[:, 1]))
    r_norm = float(pearson_rows(*width_normalize(sc.T, d, d_ref)))
    rn = _null_r(sc, d / float(d_ref), null, n_null, seed)
    lo, hi = percentile_ci(rn, 0.95)
    p_null = float((1 + np.sum(rn >= r_norm - 1e-12)) / (1 + rn.size))
    frac_pos = float(np.mean(rn > 0))
    flip = r_raw < 0 < r_norm
    exceeds = p_null < 0.05
    alone = (f"division by the same widths alone gives r > 0 for {100 * frac_pos:.0f}% of independent random "
             f"score pairs (median {np.median(rn):+.2f})")
    change = f"r {r_raw:+.3f} -> {r_norm:+.3f}"
    if flip and exceeds:
        verdict = (f"sign flips ({change}), but {alone}; the normalised r is above that null (p = {p_null:.3f})")
    elif flip:
        verdict = f"sign flips ({change}), but {alone}: the flip does not exceed the ratio artefact (p = {p_null:.2f})"
    else:
        verdict = f"no sign flip ({change}); {alone}"
    return WidthResult(**base, r_raw=_f(r_raw), r_norm=_f(r_norm), flip=bool(flip), null_median=_f(np.median(rn)),
                       null_ci=(_f(lo), _f(hi)), null_frac_positive=frac_pos, p_null=p_null,
                       exceeds_null=bool(exceeds), status="ok", message="; ".join(msg + [verdict]))


def _null_r(sc: np.ndarray, w: np.ndarray, null: str, n_null: int, seed: int | None) -> np.ndarray:
    """Finite width-normalised r of ``n_null`` independent score pairs: the family's scores permuted
    independently (``permute``) or drawn from normals with their mean and SD (``normal``), divided by ``w``."""
    n = len(sc)
    rng = np.random.default_rng(seed)
    if null == "permute":  # draws in columns (models x draws): pearson_rows' numbers, faster
        p1 = np.argsort(rng.random((n_null, n)), axis=1)
        p2 = np.argsort(rng.random((n_null, n)), axis=1)
        x1, x2 = sc[:, 0][p1.T], sc[:, 1][p2.T]
    else:
        x1 = np.ascontiguousarray(rng.normal(sc[:, 0].mean(), sc[:, 0].std(ddof=1), size=(n_null, n)).T)
        x2 = np.ascontiguousarray(rng.normal(sc[:, 1].mean(), sc[:, 1].std(ddof=1), size=(n_null, n)).T)
    rn = pearson_columns(x1 / w[:, None], x2 / w[:, None])
    return rn[np.isfinite(rn)]


def width_table(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, families: Sequence[str] | None = None,
                n_null: int = 10_000, seed: int | None = 0, d_ref: float = D_REF) -> list[WidthResult]:
    """:func:`width_normalized_r` for every family (with at least 3 models of known width)."""
    n_null = check_n_boot(n_null, "n_null")
    seed = check_seed(seed)
    d_ref = check_positive(d_ref, "d_ref")
    fams = families if families is not None else table.families
    out = []
    for f in fams:
        try:
            res = width_normalized_r(table, pair, family=f, n_null=n_null, seed=seed, d_ref=d_ref)
        except AnalysisError:
            continue
        out.append(res)
    return out


# ---------------------------------------------------------------------------------------------- claims
