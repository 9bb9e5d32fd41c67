"""The coupling diagnosis of a set of model families: the analysis behind ``cape diagnose``, the report and
the dashboard.

For every family: its models and size range, the population coupling r(B1, B2) with a bootstrap CI and a
permutation p-value, the local coupling gamma per consecutive-size interval with its phase, the phase path,
and the within-family critical scale N_c with CI and status (:mod:`cape.critical`). Then a pooled summary:
N_c from the pooled quadratic with family offsets (sound), the paper's own procedure on the same pooled
families, and (on the embedded data) the paper's headline computed from its 14-model table.

Bad input never crashes a family: fewer than 3 models, missing benchmarks, tied sizes and constant scores
end up as a ``status`` and a ``message`` in that family's entry; undefined numbers are None, never NaN.

Example:
    >>> res = diagnose(n_boot=500, seed=0)                       # the embedded cohort
    >>> fam = res.family("Pythia")
    >>> round(fam.r.r, 4), fam.nc.status
    (-0.9886, 'none')
    >>> round(res.pooled.paper_headline.estimate / 1e9, 3)
    3.494
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._memory import check_memory
from ._runcache import once_per_run
from .coupling import (
    DEFAULT_PAIR,
    MIN_DELTA,
    FamilyCoupling,
    PopulationCoupling,
    coupling_from_arrays,
    family_seed,
    phase_scheme,
    population_r,
    resolve_pair,
    score_frame,
    size_order,
)
from .critical import (
    ESTIMATORS,
    FamilyData,
    NcResult,
    PaperQuadraticVertex,
    PooledOffsets,
    SmoothFitVertex,
    pooled_data,
)
from ._validate import check_level, check_n_boot, check_nonnegative, check_seed, check_table
from .diagnose_text import compact_text
from .errors import AnalysisError, NotFoundError
from .noise import NoiseEstimate, apply_noise, estimate_noise

EXCLUDED_RECIPES = ("curated", "distilled")


def _nc_dict(nc: NcResult | None) -> dict | None:
    if nc is None:
        return None
    d = nc.to_dict()
    keep = ("estimate", "ci_low", "ci_high", "status", "ci_low_unbounded", "ci_high_unbounded", "direction",
            "bracket", "size_range", "method", "bootstrap", "n_boot", "n_valid", "level", "seed", "message",
            "details")
    return {k: d[k] for k in keep}


@dataclass(frozen=True)
class FamilyDiagnosis:
    """Diagnosis of one family (see the module docstring).

    Attributes:
        family: name; status: ``ok``, ``insufficient`` (fewer than 3 usable models), ``missing_benchmark``
            (no model has both benchmarks); message: the main sentence; messages: every note.
        models, params: usable models sorted by size (raw parameter counts).
        coupling: :class:`~cape.coupling.FamilyCoupling` (None with fewer than 2 models).
        r: :class:`~cape.coupling.PopulationCoupling` (status says when undefined).
        nc: :class:`~cape.critical.NcResult`.
        width: :class:`~cape.width.WidthResult` (r after dividing by d_model/512, against the ratio-artefact
            null) when every model's width is known, else None.
    """

    family: str
    status: str
    message: str
    models: tuple[str, ...]
    params: tuple[float, ...]
    coupling: FamilyCoupling | None
    r: PopulationCoupling | None
    nc: NcResult | None
    messages: tuple[str, ...] = ()
    width: object | None = None

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def size_range(self) -> tuple[float, float] | None:
        return (min(self.params), max(self.params)) if self.params else None

    def phase_path(self) -> list[str]:
        return self.coupling.phase_path() if self.coupling else []

    def to_dict(self) -> dict:
        r = self.r
        return {
            "family": self.family, "n_models": self.n_models, "status": self.status, "message": self.message,
            "messages": list(self.messages), "models": list(self.models), "params": list(self.params),
            "size_range": list(self.size_range) if self.size_range else None,
            "r": r.r if r else None, "r_ci": [r.ci_low, r.ci_high] if r else [None, None],
            "r_p": r.p if r else None, "r_p_perm": r.p_perm if r else None, "r_status": r.status if r else None,
            "r_ci_method": r.ci_method if r else None, "r_p_perm_method": r.p_perm_method if r else None,
            "intervals": [iv.to_dict() for iv in self.coupling.intervals] if self.coupling else [],
            "phase_path": self.phase_path(),
            "model_phases": dict(self.coupling.model_phases) if self.coupling else {},
            "nc": _nc_dict(self.nc),
            "width": (None if self.width is None else
                      {k: v for k, v in self.width.to_dict().items() if k not in ("models", "d_model", "b1", "b2",
                                                                                 "family")}),
        }


@dataclass(frozen=True)
class PooledSummary:
    """Pooled N_c: ``offsets`` (sound: shared quadratic, family offsets), ``paper`` (the paper's procedure on
    the same families), ``paper_headline`` (the paper's procedure on its own 14-model table, embedded data
    only), with the families used and the ones excluded (curated/distilled data recipes)."""

    families: tuple[str, ...]
    excluded: tuple[str, ...]
    offsets: NcResult | None
    paper: NcResult | None
    paper_headline: NcResult | None
    message: str = ""
    population: object | None = None

    def to_dict(self) -> dict:
        return {"families": list(self.families), "excluded": list(self.excluded), "offsets": _nc_dict(self.offsets),
                "paper": _nc_dict(self.paper),
                "paper_headline": (dict(_nc_dict(self.paper_headline), data="fixture boot14 (the paper's 14 pooled "
                                        "Pythia/Llama-1/Llama-2 models)") if self.paper_headline else None),
                "message": self.message,
                "population": None if self.population is None else
                {k: v for k, v in self.population.to_dict().items() if k != "family_results"}}


@dataclass(frozen=True)
class DiagnosisResult:
    """The full diagnosis. ``to_dict()`` is the JSON of ``cape diagnose --json`` (sizes in raw parameters)."""

    b1: str
    b2: str
    source: str
    seed: int | None
    n_boot: int
    level: float
    scheme: str
    min_delta: float
    families: tuple[FamilyDiagnosis, ...]
    pooled: PooledSummary
    messages: tuple[str, ...] = ()
    noise: tuple[NoiseEstimate, ...] = ()
    method: str = "fit"
    noise_mode: str = "data"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.b1, self.b2)

    @property
    def pooled_nc(self) -> NcResult | None:
        """The sound pooled N_c (family offsets)."""
        return self.pooled.offsets

    def _repr_html_(self) -> str:
        from .diagnose_summary import summary_html

        return summary_html(self)

    def family(self, name: str) -> FamilyDiagnosis:
        for f in self.families:
            if f.family.lower() == name.lower():
                return f
        raise NotFoundError(f"no family {name!r} in the diagnosis; families: "
                            f"{', '.join(f.family for f in self.families)}")

    def summary(self, top: int | None = None) -> str:
        """The diagnosis as plain text: the table ``cape diagnose`` prints (one row per family: models, sizes,
        r with its CI, phase path, N_c with its CI and status), then the pooled N_c."""
        return compact_text(self, top)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        return {"pair": [self.b1, self.b2], "source": self.source, "seed": self.seed, "n_boot": self.n_boot,
                "level": self.level, "phase_scheme": self.scheme, "min_delta": self.min_delta,
                "families": [f.to_dict() for f in self.families], "pooled": self.pooled.to_dict(),
                "messages": list(self.messages), "method": self.method, "noise_mode": self.noise_mode,
                "noise": [n.to_dict() for n in self.noise]}

    def gamma_frame(self):
        """One row per interval: family, lower, upper, N_lower, N_upper, N_mid, d1, d2, gamma, comove, phase,
        status."""
        import pandas as pd

        rows = []
        for f in self.families:
            if f.coupling is None:
                continue
            for iv in f.coupling.intervals:
                rows.append({"family": f.family, "lower": iv.lower, "upper": iv.upper, "N_lower": iv.n_lower,
                             "N_upper": iv.n_upper, "N_mid": iv.n_mid, "d1": iv.d1, "d2": iv.d2,
                             "gamma": np.nan if iv.gamma is None else iv.gamma, "comove": iv.comove,
                             "phase": iv.phase, "status": iv.status})
        return pd.DataFrame(rows, columns=["family", "lower", "upper", "N_lower", "N_upper", "N_mid", "d1", "d2",
                                           "gamma", "comove", "phase", "status"])

    def nc_frame(self):
        """One row per family: N_c, CI ends (NaN where unbounded or absent), status, direction, r, r CI."""
        import pandas as pd

        rows = []
        for f in self.families:
            nc = f.nc
            rows.append({"family": f.family, "n_models": f.n_models, "status_family": f.status,
                         "N_c": np.nan if (nc is None or nc.estimate is None) else nc.estimate,
                         "ci_low": np.nan if (nc is None or nc.ci_low is None) else nc.ci_low,
                         "ci_high": np.nan if (nc is None or nc.ci_high is None) else nc.ci_high,
                         "status": nc.status if nc else "insufficient",
                         "direction": nc.direction if nc else None,
                         "r": np.nan if (f.r is None or f.r.r is None) else f.r.r,
                         "r_ci_low": np.nan if (f.r is None or f.r.ci_low is None) else f.r.ci_low,
                         "r_ci_high": np.nan if (f.r is None or f.r.ci_high is None) else f.r.ci_high})
        return pd.DataFrame(rows)

    def to_frame(self):
        return self.nc_frame()


def step_reversals(rows, b1: str, b2: str, *, min_delta: float = MIN_DELTA, z_crit: float = 1.96) -> list[str]:
    """Bonus-to-tax reversals between consecutive sizes: a step whose gamma is significantly negative
    (``|z| >= z_crit`` for the change in ``b2``, ``z = dB2 / sqrt(se_k^2 + se_{k+1}^2)``) right after a step
    with gamma > 0. ``rows``: one family's score-frame rows sorted by size. One sentence per reversal.
    """
    return _reversals([str(m) for m in rows.index], rows["params"].to_numpy(float), rows[b1].to_numpy(float),
                      rows[b2].to_numpy(float), rows[f"se:{b2}"].to_numpy(float), b1, b2, min_delta=min_delta,
                      z_crit=z_crit)


def _reversals(names, p, s1, s2, se, b1: str, b2: str, *, min_delta: float, z_crit: float = 1.96) -> list[str]:
    """:func:`step_reversals` on one family's arrays sorted by size (``se``: the errors of ``b2``)."""
    out, prev = [], None
    for k in range(len(names) - 1):
        d1, d2 = s1[k + 1] - s1[k], s2[k + 1] - s2[k]
        if p[k + 1] <= p[k] or abs(d1) <= min_delta:
            continue
        g = d2 / d1
        z = d2 / math.sqrt(se[k] ** 2 + se[k + 1] ** 2) * (1 if d1 > 0 else -1)
        if prev is not None and prev[0] > 0 and g < 0 and z <= -z_crit:
            out.append(f"bonus -> tax reversal at {names[k]} -> {names[k + 1]}: {b2} {d2:+.1f} pp while {b1} "
                       f"{d1:+.1f} pp (gamma {g:+.2f}, z = {z:+.1f}), after gamma {prev[0]:+.2f} at {prev[1]}")
        prev = (g, f"{names[k]} -> {names[k + 1]}")
    return out


def _non_base_models(table, frame) -> list[str]:
    """Models of ``frame`` that the table marks as not base (``is_base`` False)."""
    if not hasattr(table, "model_frame"):
        return []
    mf = table.model_frame()
    if "is_base" not in mf.columns:
        return []
    bad = {str(m) for m, v in zip(mf.index, mf["is_base"]) if str(v).lower() in ("false", "0")}
    return [m for m in frame.index.astype(str) if m in bad]


def _pooled_families(table, frame, fams: Sequence[str], min_models: int) -> tuple[list[str], list[str]]:
    """Families to pool: at least ``min_models`` usable models, not a curated/distilled data recipe."""
    recipes: dict[str, set] = {}
    if hasattr(table, "model_frame"):
        mf = table.model_frame()
        for f, rec in zip(mf["family"].astype(str), mf["recipe"]):
            if isinstance(rec, str) and rec.strip():
                recipes.setdefault(f, set()).add(rec.strip().lower())
    use, excl = [], []
    for f in fams:
        if recipes.get(f, set()) & set(EXCLUDED_RECIPES):
            excl.append(f)
            continue
        use.append(f)
    return use, excl


@once_per_run
def diagnose(table=None, pair: Sequence[str] | str = DEFAULT_PAIR, *, families: Sequence[str] | None = None,
             n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95, min_delta: float = MIN_DELTA,
             scheme="nature", bootstrap: str = "noise", pooled_families: Sequence[str] | None = None,
             headline: bool | None = None, width: bool = True, b1: str | None = None,
             b2: str | None = None, method: str = "fit", noise: str = "data",
             keep_instruct: bool = False) -> DiagnosisResult:
    """Diagnose capability coupling for every family of a score table.

    Args:
        table: a :class:`~cape.scores.ScoreTable`; None for the embedded base cohort.
        pair: ``(B1, B2)`` or ``"HS:TQA"``; gamma = dB2/dB1. ``b1=``/``b2=`` are accepted as well.
        families: restrict to these families (default: all).
        n_boot: bootstrap (and permutation) replicates per estimate.
        seed: seed of every ``numpy.random.default_rng`` (the paper method keeps its legacy seed 42).
        level: CI level.
        min_delta: skip gamma steps with ``|dB1| <= min_delta`` pp.
        scheme: phase thresholds (name, :class:`~cape.coupling.PhaseScheme` or ``(lower, upper)``).
        bootstrap: within-family N_c bootstrap scheme (``noise``, ``intervals``, ``both``).
        pooled_families: families to pool (default: those with >= 3 models, excluding curated/distilled
            recipes when the table records a recipe).
        headline: also compute the paper's headline on its 14-model fixture (default: when ``table`` is None).
        method: within-family N_c estimator: ``fit`` (smooth fit with its interval; the sign split runs beside
            it as a robustness check) or ``crossing`` (the sign split alone).
        keep_instruct: keep models the table marks as not base (instruct, chat, fine-tuned); by default they
            are left out of every per-family and pooled analysis (and said so in ``messages``).
        noise: ``data`` (default): each benchmark's extra noise is measured from the selected families and added
            to every standard error (:mod:`cape.noise`); ``stated``: stated (or binomial) errors only.

    Returns:
        :class:`DiagnosisResult`.
    """
    table = check_table(table, allow_none=True)
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed)
    level = check_level(level)
    min_delta = check_nonnegative(min_delta, "min_delta")
    if b1 is not None or b2 is not None:
        pair = (b1 or DEFAULT_PAIR[0], b2 or DEFAULT_PAIR[1])
    B1, B2 = resolve_pair(pair)
    sch = phase_scheme(scheme)
    embedded = table is None
    if embedded:
        from .data import load_base

        table = load_base()
    if headline is None:
        headline = embedded
    frame = score_frame(table, (B1, B2))
    dropped_instruct = _non_base_models(table, frame) if not keep_instruct else []
    if dropped_instruct:
        frame = frame[~frame.index.astype(str).isin(dropped_instruct)]
    all_fams = list(dict.fromkeys(frame["family"].dropna().astype(str)))
    if families is not None:
        known = {f.lower(): f for f in all_fams}
        sel = []
        for f in families:
            if f.lower() not in known:
                import difflib

                close = difflib.get_close_matches(f, all_fams, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(close)}?" if close else f"; families: {', '.join(sorted(all_fams))}"
                raise NotFoundError(f"{getattr(table, 'name', 'scores')}: no family {f!r}{hint}")
            sel.append(known[f.lower()])
        fams = sel
    else:
        fams = sorted(all_fams, key=str.lower)
    if method not in ("fit", "crossing"):
        from .errors import DataError

        raise DataError(f"method must be 'fit' or 'crossing', not {method!r}")
    if noise not in ("data", "stated"):
        from .errors import DataError

        raise DataError(f"noise must be 'data' or 'stated', not {noise!r}")
    noise_est = tuple(estimate_noise(frame, b, families=fams) for b in (B1, B2))
    if noise == "data":
        frame = apply_noise(frame, noise_est)
    crossing = ESTIMATORS[method](min_delta=min_delta)
    cols = _FamilyColumns(frame, B1, B2, with_width=width)
    _check_memory(cols.positions, fams, n_boot)
    out, fits = [], {}
    for fam in fams:
        fd_nc: list = []
        out.append(_one_family(cols, fam, B1, B2, crossing, n_boot=n_boot, seed=family_seed(seed, fam),
                               level=level, min_delta=min_delta, scheme=sch, bootstrap=bootstrap,
                               with_width=width, fit_out=fd_nc))
        if fd_nc and isinstance(crossing, SmoothFitVertex):
            fits[fam] = tuple(fd_nc)
    pooled = _pooled(table, frame, fams if pooled_families is None else list(pooled_families), B1, B2,
                     n_boot=n_boot, seed=seed, level=level, headline=headline,
                     explicit=pooled_families is not None, fits=fits)
    msgs = []
    skipped = [f.family for f in out if f.status != "ok"]
    if skipped:
        msgs.append(f"{len(skipped)} famil{'y' if len(skipped) == 1 else 'ies'} with too little data for N_c: "
                    f"{', '.join(skipped)}")
    if dropped_instruct:
        msgs.append(f"{len(dropped_instruct)} instruct/chat/fine-tuned model(s) left out of the base analyses: "
                    f"{', '.join(dropped_instruct)} (keep_instruct=True, or --keep-instruct, keeps them)")
    for ne in noise_est:
        if ne.noisier_than_stated:
            msgs.append("warning: " + ne.message + ("" if noise == "data" else
                                                    " (not added: noise='stated' was asked for)"))
    return DiagnosisResult(B1, B2, getattr(table, "name", "scores"), seed, n_boot, level, sch.name, min_delta,
                           tuple(out), pooled, tuple(msgs), noise_est, method, noise)


#: float64 arrays of ``n_boot x models`` one family's bootstraps hold at once (N_c noise replicates, r)
_FAMILY_ARRAYS = 16


class _FamilyColumns:
    """The score frame's columns as numpy arrays and each family's row positions (input order), split once:
    per-family pandas slicing would cost more than the statistics of a small family."""

    def __init__(self, frame, b1: str, b2: str, *, with_width: bool):
        fam = frame["family"]
        keys = fam.astype(str).where(fam.notna(), None)
        self.positions = {str(k): v for k, v in frame.groupby(keys, sort=False, dropna=True).indices.items()}
        self.frame = frame
        self.names = np.asarray([str(m) for m in frame.index], dtype=object)
        self.params = frame["params"].to_numpy(dtype=float)
        self.s1, self.s2 = frame[b1].to_numpy(dtype=float), frame[b2].to_numpy(dtype=float)
        self.se1 = frame[f"se:{b1}"].to_numpy(dtype=float)
        self.se2 = frame[f"se:{b2}"].to_numpy(dtype=float)
        self.na = frame[[b1, b2, "params"]].isna().to_numpy().any(axis=1)  # what dropna(subset=...) drops
        self._widths = None if (not with_width or "d_model" in frame.columns) else _known_widths()

    def widths_known(self, models) -> bool:
        """False when some model has no known width (its width-normalised r would be dropped anyway); True
        when all have one or when the frame carries its own widths (then the full computation decides)."""
        if self._widths is None:
            return True
        amap, hf = self._widths
        return all(m.lower() in amap or m.lower() in hf for m in models)


def _known_widths() -> tuple[set, set]:
    """Model names and hub ids (lower case) with a finite d_model in the embedded architecture table (the
    fallback lookup of :func:`cape.width.width_normalized_r`)."""
    from .data import architectures

    arch = architectures()
    d = arch["d_model"].to_numpy(dtype=float)
    amap = {str(k).lower() for k, v in zip(arch["model"], d) if np.isfinite(v)}
    hf = {str(k).lower() for k, v in zip(arch["hf_id"], d) if np.isfinite(v)} if "hf_id" in arch.columns else set()
    return amap, hf


def _check_memory(positions: dict, fams: Sequence[str], n_boot: int) -> None:
    """Refuse before starting when the largest family's bootstrap arrays would not fit in memory."""
    if not fams or n_boot <= 0:
        return
    big = max(fams, key=lambda f: len(positions.get(f, ())))
    k = len(positions.get(big, ()))
    check_memory(n_boot * k * 8 * _FAMILY_ARRAYS, f"the bootstraps of family {big!r} ({n_boot} resamples x {k} "
                 "models)", "the number of resamples (--n-boot)")


def _left_out(cols: _FamilyColumns, pos: np.ndarray, keep: np.ndarray, kept: set, b1: str, b2: str) -> list[str]:
    """One sentence per row of the family left out (no score of B1 or B2, or no parameter count)."""
    msgs = []
    for i in pos[~keep]:
        m = cols.names[i]
        if m in kept:
            continue
        miss = [c for c, v in ((b1, cols.s1[i]), (b2, cols.s2[i])) if not math.isfinite(v)]
        what = f"no {' or '.join(miss)} score" if miss else "no parameter count"
        msgs.append(f"{m} left out: {what}")
    return msgs


def _family_data(fam: str, b1: str, b2: str, models: tuple, p, s1, s2, se1, se2, dropped: dict) -> FamilyData:
    """:func:`cape.critical.family_data` of one family's sorted arrays (a missing error: the binomial one)."""
    sc = np.stack([s1, s2], axis=1)
    se = np.stack([se1, se2], axis=1)
    bad = ~np.isfinite(se)
    if bad.any():
        from . import catalog

        for j, b in enumerate((b1, b2)):
            se[bad[:, j], j] = [catalog.binomial_stderr(v, b) for v in sc[bad[:, j], j]]
    return FamilyData(str(fam), b1, b2, models, p, sc, se, dict(dropped))


def _one_family(cols: _FamilyColumns, fam: str, b1: str, b2: str, crossing, *, n_boot: int,
                seed: int | None, level: float, min_delta: float, scheme, bootstrap: str,
                with_width: bool = True, fit_out: list | None = None) -> FamilyDiagnosis:
    """Diagnosis of one family from its rows of the score frame (held as arrays in ``cols``)."""
    pos = cols.positions.get(fam, np.zeros(0, dtype=np.intp))
    n_all = len(pos)
    keep = ~cols.na[pos]
    kpos = pos[keep]
    msgs: list[str] = _left_out(cols, pos, keep, {str(m) for m in cols.names[kpos]}, b1, b2)
    if kpos.size == 0:
        return FamilyDiagnosis(fam, "missing_benchmark", f"no model of {fam} has both {b1} and {b2} "
                               f"({n_all} model(s) in the table)", (), (), None, None, None, tuple(msgs))
    kpos = kpos[size_order(cols.params[kpos], cols.names[kpos])]
    models = tuple(str(m) for m in cols.names[kpos])
    p, s1, s2 = cols.params[kpos], cols.s1[kpos], cols.s2[kpos]
    params = tuple(float(v) for v in p)
    fin = np.isfinite(p) & np.isfinite(s1) & np.isfinite(s2)  # what family_arrays keeps (infinities out)
    dropped = {models[i]: ("no parameter count" if not math.isfinite(p[i]) else
                           "no " + ", ".join(b for b, v in ((b1, s1[i]), (b2, s2[i])) if not math.isfinite(v))
                           + " score") for i in np.flatnonzero(~fin)}
    coupling = None
    if len(models) >= 2:
        if fin.sum() < 2:
            raise AnalysisError(f"family {fam!r}: {int(fin.sum())} usable model(s) with {b1} and {b2}; "
                                "local coupling needs at least 2")
        coupling = coupling_from_arrays(fam, b1, b2, [m for m, f in zip(models, fin) if f], p[fin],
                                        np.stack([s1[fin], s2[fin]], axis=1), dropped, min_delta=min_delta,
                                        skip_equal_n=True, scheme=scheme)
        msgs += [m for m in coupling.messages if m not in msgs]
        msgs += _reversals(models, p, s1, s2, cols.se2[kpos], b1, b2, min_delta=min_delta)
    r = population_r(s1, s2, b1=b1, b2=b2, n_boot=n_boot, n_perm=n_boot, seed=seed, level=level)
    if r.status in ("constant", "insufficient", "few_models") and r.message:
        msgs.append(r.message)
    if len(set(params)) < len(params):
        ties = sorted({v for v in params if params.count(v) > 1})
        msgs.append("models share a size (" + ", ".join(f"{v / 1e9:.3g}B" for v in ties) +
                    "): no step between them")
    fd = _family_data(fam, b1, b2, tuple(m for m, f in zip(models, fin) if f), p[fin], s1[fin], s2[fin],
                      cols.se1[kpos][fin], cols.se2[kpos][fin], dropped)
    try:
        nc = crossing.estimate(fd, n_boot=n_boot, seed=seed, level=level, bootstrap=bootstrap)
    except AnalysisError as e:
        nc = NcResult("crossing", None, None, None, "insufficient", message=str(e))
    else:
        if fit_out is not None:
            fit_out += [fd, nc]
    if len(models) < 3:
        status = "insufficient"
        main = (f"{len(models)} model(s) with both {b1} and {b2}: "
                + ("one step of gamma, " if len(models) == 2 else "no step of gamma, ")
                + "no r CI and no N_c (needs at least 3)")
    elif nc.status == "insufficient":
        status, main = "insufficient", nc.message
    else:
        status, main = "ok", nc.message
    width = None
    if len(models) >= 3 and with_width and cols.widths_known(models):
        from .width import width_normalized_r

        have = cols.frame.iloc[kpos]
        wr = width_normalized_r(have.reset_index().rename(columns={have.index.name or "index": "model"}),
                                (b1, b2), family=fam, n_null=n_boot, seed=seed)
        width = wr if (wr.status == "ok" and wr.n == len(models)) else None
    return FamilyDiagnosis(fam, status, main, models, params, coupling, r, nc, tuple(msgs), width)


def _pooled(table, frame, fams, b1, b2, *, n_boot, seed, level, headline, explicit, fits=None) -> PooledSummary:
    if explicit:
        use, excl = list(fams), []
    else:
        use, excl = _pooled_families(table, frame, fams, 3)
    pdata = pooled_data(frame, (b1, b2), families=use, min_models=3)
    offsets = PooledOffsets().estimate(pdata, n_boot=n_boot, seed=seed, level=level) if use else None
    pin = pooled_data(frame, (b1, b2), families=list(pdata.families), min_models=3, order="input")
    paper = PaperQuadraticVertex().estimate(pin, n_boot=n_boot, level=level) if pin.y.size >= 4 else None
    head = None
    if headline and (b1, b2) == DEFAULT_PAIR:
        from .data import fixture_table

        b14 = fixture_table("boot14")
        head = PaperQuadraticVertex().estimate(pooled_data(b14, (b1, b2), min_models=1, order="input"),
                                               n_boot=10_000, level=level)
    from .population import population_nc

    population = population_nc(table, (b1, b2), families=use if explicit else list(fams), level=level, known=fits)
    msg = (f"pooled over {len(pdata.families)} families with >= 3 models"
           + (f"; excluded for their data recipe: {', '.join(excl)}" if excl else ""))
    return PooledSummary(tuple(pdata.families), tuple(excl), offsets, paper, head, msg, population)
