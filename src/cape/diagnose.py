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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._runcache import once_per_run
from .coupling import DEFAULT_PAIR, MIN_DELTA, family_seed, phase_scheme, resolve_pair, score_frame
from .critical import ESTIMATORS, NcResult, PaperQuadraticVertex, PooledOffsets, SmoothFitVertex, pooled_data
from ._validate import check_level, check_n_boot, check_nonnegative, check_seed, check_table
from .diagnose_family import (  # noqa: F401 - FamilyDiagnosis, step_reversals: public here as before
    FamilyDiagnosis,
    _check_memory,
    _FamilyColumns,
    _nc_dict,
    _one_family,
    step_reversals,
)
from .diagnose_text import compact_text
from .errors import NotFoundError
from .noise import NoiseEstimate, apply_noise, estimate_noise

EXCLUDED_RECIPES = ("curated", "distilled")


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


def _check_choices(method: str, noise: str) -> None:
    """Refuse an unknown within-family method or noise mode with one sentence."""
    from .errors import DataError

    if method not in ("fit", "crossing"):
        raise DataError(f"method must be 'fit' or 'crossing', not {method!r}")
    if noise not in ("data", "stated"):
        raise DataError(f"noise must be 'data' or 'stated', not {noise!r}")


def _selected_families(table, frame, families: Sequence[str] | None) -> list[str]:
    """The families to diagnose: the ones asked for (by any case; an unknown name is refused with the closest
    matches), else every family of the frame sorted case-insensitively."""
    all_fams = list(dict.fromkeys(frame["family"].dropna().astype(str)))
    if families is None:
        return sorted(all_fams, key=str.lower)
    known = {f.lower(): f for f in all_fams}
    sel = []
    for f in families:
        if f.lower() not in known:
            import difflib

            close = difflib.get_close_matches(f, all_fams, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; families: {', '.join(sorted(all_fams))}"
            raise NotFoundError(f"{getattr(table, 'name', 'scores')}: no family {f!r}{hint}")
        sel.append(known[f.lower()])
    return sel


@once_per_run
def diagnose(table=None, pair: Sequence[str] | str = DEFAULT_PAIR, *, families: Sequence[str] | None = None,
             n_boot: int = 10_000, seed: int | None = 0, level: float = 0.95, min_delta: float = MIN_DELTA,
             scheme="nature", bootstrap: str = "noise", pooled_families: Sequence[str] | None = None,
             headline: bool | None = None, width: bool = True, b1: str | None = None,
             b2: str | None = None, method: str = "fit", noise: str = "data",
             keep_instruct: bool = False, population: bool = True) -> DiagnosisResult:
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
        pooled_families: families to pool (default: those with >= 3 models, but not curated/distilled recipes).
        headline: also compute the paper's headline on its 14-model fixture (default: when ``table`` is None).
        method: within-family N_c estimator: ``fit`` (smooth fit with its interval; the sign split runs beside
            it as a robustness check) or ``crossing`` (the sign split alone).
        keep_instruct: keep models the table marks as not base (instruct, chat, fine-tuned); by default they
            are left out of every per-family and pooled analysis (and said so in ``messages``).
        noise: ``data`` (default): each benchmark's extra noise is measured from the selected families and added
            to every standard error (:mod:`cape.noise`); ``stated``: stated (or binomial) errors only.
        width, population: also run each family's width check (``FamilyDiagnosis.width``) and the population
            N_c (``PooledSummary.population``); False leaves them None, every other number unchanged.

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
    fams = _selected_families(table, frame, families)
    _check_choices(method, noise)
    noise_est = tuple(estimate_noise(frame, b, families=fams) for b in (B1, B2))
    if noise == "data":
        frame = apply_noise(frame, noise_est)
    crossing = ESTIMATORS[method](min_delta=min_delta)
    cols = _FamilyColumns(frame, B1, B2, with_width=width)
    pool_args = (table, frame, fams if pooled_families is None else list(pooled_families), B1, B2)
    explicit = pooled_families is not None
    out, fits, fitted = _all_families(cols, fams, B1, B2, crossing, n_boot=n_boot, seed=seed, level=level,
                                      min_delta=min_delta, scheme=sch, bootstrap=bootstrap, with_width=width,
                                      side=lambda: _pooled_fits(*pool_args, n_boot=n_boot, seed=seed, level=level,
                                                                headline=headline, explicit=explicit))
    measured = (noise_est, frozenset(frame.index[frame["family"].astype(str).isin(fams)].astype(str)))
    pooled = _pooled(*pool_args, fitted, level=level, explicit=explicit, fits=fits, population=population,
                     measured=measured)
    return DiagnosisResult(B1, B2, getattr(table, "name", "scores"), seed, n_boot, level, sch.name, min_delta,
                           tuple(out), pooled, _messages(out, dropped_instruct, noise_est, noise), noise_est, method,
                           noise)


def _messages(out: list, dropped_instruct: list, noise_est: tuple, noise: str) -> tuple[str, ...]:
    """The diagnosis' notes: families without an N_c, models left out, benchmarks noisier than stated."""
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
    return tuple(msgs)


def _all_families(cols: _FamilyColumns, fams: Sequence[str], b1: str, b2: str, crossing, *, n_boot: int,
                  seed: int | None, side, **kw) -> tuple[list, dict, object]:
    """Every family's diagnosis (in ``fams`` order), the smooth fits behind them (for the population N_c) and
    the result of ``side()`` (the pooled fits, which need no family result).

    Families are independent (each draws from its own seeded stream), so a large cohort is spread over a few
    threads (numpy releases the GIL in its loops), with ``side`` running beside them: the same results, in
    the same order, sooner.
    """
    workers = _workers(len(fams), n_boot)
    _check_memory(cols.positions, fams, n_boot, workers)
    if len(fams) * n_boot >= _PARALLEL_WORK:
        from ._memory import tune_allocator

        tune_allocator()

    def one(fam: str):
        fit: list = []
        res = _one_family(cols, fam, b1, b2, crossing, n_boot=n_boot, seed=family_seed(seed, fam), fit_out=fit, **kw)
        return res, fit

    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers + 1) as pool:
            side_res = pool.submit(_then_prefetch, side)
            done = list(pool.map(one, fams, chunksize=1))
            fitted = side_res.result()
    else:
        done = [one(f) for f in fams]
        fitted = side()
    fits = {f: tuple(fit) for f, (_, fit) in zip(fams, done) if fit and isinstance(crossing, SmoothFitVertex)}
    return [res for res, _ in done], fits, fitted


def _then_prefetch(side):
    """``side()``, then the imports of the population N_c's meta-analysis (statsmodels, about a second), so that a
    large cohort's side thread does them while the families are still running rather than after them."""
    out = side()
    try:
        import statsmodels.stats.meta_analysis  # noqa: F401
    except ImportError:  # pragma: no cover - a core dependency; the population N_c reports it if missing
        pass
    return out


#: threads at most for the per-family bootstraps; families below this many resamples x families stay serial
MAX_WORKERS = 4
_PARALLEL_WORK = 200_000


def _workers(n_fams: int, n_boot: int) -> int:
    """Threads for the per-family loop: the available cores (at most :data:`MAX_WORKERS`) when the cohort is
    large enough to repay starting them, else 1. ``CAPE_THREADS`` overrides (1 = serial)."""
    import os

    env = os.environ.get("CAPE_THREADS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return min(int(env), max(n_fams, 1))
    if n_fams < 8 or n_fams * max(n_boot, 1) < _PARALLEL_WORK:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_WORKERS, cores, n_fams))


def _pooled_fits(table, frame, fams, b1, b2, *, n_boot, seed, level, headline, explicit) -> tuple:
    """The pooled estimates that need no per-family result: ``(families used, excluded, pooled data, offsets
    fit, paper fit, paper headline)``."""
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
    return use, excl, pdata, offsets, paper, head


def _pooled(table, frame, fams, b1, b2, fitted, *, level, explicit, fits=None, population=True,
            measured=None) -> PooledSummary:
    """The pooled summary from :func:`_pooled_fits` and, when ``population``, the population N_c (reusing the
    families' fits)."""
    use, excl, pdata, offsets, paper, head = fitted
    if population:
        from .population import population_nc

        population = population_nc(table, (b1, b2), families=use if explicit else list(fams), level=level,
                                   known=fits, measured=measured)
    else:
        population = None
    msg = (f"pooled over {len(pdata.families)} families with >= 3 models"
           + (f"; excluded for their data recipe: {', '.join(excl)}" if excl else ""))
    return PooledSummary(tuple(pdata.families), tuple(excl), offsets, paper, head, msg, population)
