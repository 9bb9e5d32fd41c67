"""The doctor: diagnose one model and recommend interventions, each with the rule that fired and its numbers.

Input is one model: a name from the embedded cohort / frontier panel (or a user's score table), a model
described by family, parameter count and some benchmark scores, or a frontier model described by its
SWE-bench Verified and GPQA Diamond scores. The diagnosis is computed from the model's own scores and its
family (never from its parameter count alone):

* local coupling gamma = dB2/dB1 against the next-smaller and next-larger members of its family
  (:func:`cape.coupling.local_coupling`), with a score-noise interval;
* its phase (tax / transition / bonus) with a confidence: the share of score-noise draws (each score perturbed
  by its standard error, from the binomial error of the benchmark's item count when none is given) that give
  the same phase;
* its position relative to the family's critical scale N_c (below / near / above, with the CI);
* residuals: from the family's own B2(log N) trend, from the cohort's web-trained curve (the data field
  h(D) of METHODS-SPEC 10.6) and, for frontier models, from the population line (the h-field);
* the d_eff context of its phase in the cohort;
* recommendations from documented rules (:data:`RULES`), thresholds in :class:`DoctorConfig`.

Rules (the README, "Diagnose one model", has the full text):

==================  ===========================================================================================
``curation``        tax phase, below the family's N_c, and curated-data families (recipe ``curated``) of
                    similar size are cooperative (median gamma above the bonus threshold)
``width``           d_model narrower than the family's width law log d_model ~ log N (or the cohort's) by
                    more than ``width_narrow_dex``, in a non-bonus phase
``rotation``        the axis the model is judged on saturates at the top of its panel (top-k spread ratio
                    below ``rotation_ratio``) and the model is among the top k
``checkpoints``     coupling near zero (``|gamma| <= near_zero``) or the model sits within the CI of N_c
``rebalance``       frontier: ``|h| > frontier_h_band`` (coding-rich or reasoning-rich against the population)
``none``            nothing fired: say so
==================  ===========================================================================================

Example:
    >>> from cape.advise import diagnose_model
    >>> d = diagnose_model("Pythia-1B")                     # doctest: +SKIP
    >>> d.phase["label"], [r.name for r in d.recommendations]   # doctest: +SKIP
    ('tax', ['curation'])
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import catalog
from ._format import finite_or_none as _f
from ._format import fmt_number, fmt_params, json_clean
from ._stats import percentile_ci
from .errors import AnalysisError, DataError, NotFoundError

PHASES = ("tax", "transition", "bonus")


# ---------------------------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class DoctorConfig:
    """Thresholds of the doctor's rules (README, "Diagnose one model"). Load from TOML with :meth:`from_toml`.

    Attributes:
        b1, b2: the benchmark pair; gamma = dB2 / dB1 (default HellaSwag, TruthfulQA).
        phase_lower, phase_upper: gamma below ``phase_lower`` is tax, above ``phase_upper`` bonus (else transition).
        min_delta: intervals with ``|dB1| <= min_delta`` points are not divided by (skipped).
        n_boot: score-noise draws (phase confidence, gamma and N_c intervals) and bootstrap resamples.
        seed: seed of ``numpy.random.default_rng``.
        ci: level of every interval.
        nc_near_factor: with no CI on N_c, a model within this factor of N_c is "near".
        curated_recipe: recipe value of curated-data families in the cohort.
        curation_size_factor: curated intervals whose geometric midpoint lies within this factor of the
            model's size count as "similar size".
        curation_min_gamma: their median gamma must exceed this for "cooperative".
        width_narrow_dex: fire the width rule when ``log10(d_model) - law(log10 N) <= -width_narrow_dex``.
        width_min_models: models with a known width needed for a family law (else the cohort law is used).
        width_phases: phases in which the width rule may fire.
        rotation_pairs: ``(old, new)`` axis pairs: the old axis saturates relative to the new one.
        rotation_ratio: rotate when the top-k spread ratio old/new is below this.
        rotation_top_k: models at the top of the panel.
        near_zero: ``|gamma| <= near_zero`` is a phase boundary (evaluate several checkpoints).
        checkpoints_on_nc: also fire the checkpoints rule when the model is within the CI of N_c.
        frontier_h_band: ``|h|`` above this (points of GPQA) fires the rebalance rule.
        field_high, field_low: cohort-curve residual above ``field_high`` reads "curated-like", below
            ``-field_low`` "below the web-trained average".
        trend_min_models: family members needed for the family trend residual.
    """

    b1: str = "HellaSwag"
    b2: str = "TruthfulQA"
    phase_lower: float = -0.1
    phase_upper: float = 0.1
    min_delta: float = 0.5
    n_boot: int = 2000
    seed: int = 0
    ci: float = 0.95
    nc_near_factor: float = 1.5
    curated_recipe: str = "curated"
    curation_size_factor: float = 3.0
    curation_min_gamma: float = 0.1
    width_narrow_dex: float = 0.05
    width_min_models: int = 3
    width_phases: tuple[str, ...] = ("tax", "transition")
    rotation_pairs: tuple[tuple[str, str], ...] = (("HellaSwag", "MMLU"), ("SWE-bench Verified", "GPQA Diamond"))
    rotation_ratio: float = 0.2
    rotation_top_k: int = 5
    near_zero: float = 0.1
    checkpoints_on_nc: bool = True
    frontier_h_band: float = 5.0
    field_high: float = 5.0
    field_low: float = 3.0
    trend_min_models: int = 3

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "b1", catalog.canonical(self.b1, where="doctor config b1"))
        set_(self, "b2", catalog.canonical(self.b2, where="doctor config b2"))
        if self.b1 == self.b2:
            raise DataError(f"doctor config: b1 and b2 are both {self.b1}; choose two different benchmarks")
        if self.phase_lower > self.phase_upper:
            raise DataError(f"doctor config: phase_lower {self.phase_lower} exceeds phase_upper {self.phase_upper}")
        if not 0 < self.ci < 1:
            raise DataError(f"doctor config: ci must lie in (0, 1), not {self.ci}")
        if self.n_boot < 0:
            raise DataError(f"doctor config: n_boot must be >= 0, not {self.n_boot}")
        for k in ("nc_near_factor", "curation_size_factor"):
            if getattr(self, k) < 1:
                raise DataError(f"doctor config: {k} must be >= 1, not {getattr(self, k)}")
        bad = [p for p in self.width_phases if p not in PHASES]
        if bad:
            raise DataError(f"doctor config: width_phases holds {bad[0]!r}; phases are {', '.join(PHASES)}")
        pairs = []
        for pr in self.rotation_pairs:
            if len(pr) != 2:
                raise DataError(f"doctor config: rotation_pairs entries are [old, new] pairs, got {list(pr)!r}")
            pairs.append((catalog.canonical(pr[0], where="doctor config rotation_pairs"),
                          catalog.canonical(pr[1], where="doctor config rotation_pairs")))
        set_(self, "rotation_pairs", tuple(pairs))
        set_(self, "width_phases", tuple(self.width_phases))

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any], *, where: str = "doctor config") -> DoctorConfig:
        """Build from a mapping (e.g. parsed TOML); unknown keys are rejected with the list of known ones."""
        known = {f.name: f for f in fields(cls)}
        kw = {}
        for k, v in m.items():
            key = str(k).replace("-", "_")
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(known)}"
                raise DataError(f"{where}: unknown setting {k!r}{hint}")
            if isinstance(v, list):
                v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
            kw[key] = v
        try:
            return cls(**kw)
        except TypeError as e:  # pragma: no cover - defensive
            raise DataError(f"{where}: {e}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> DoctorConfig:
        """Read thresholds from a TOML file: top-level keys or a ``[doctor]`` table.

        Example (``doctor.toml``)::

            [doctor]
            near_zero = 0.05
            rotation_ratio = 0.25
            rotation_pairs = [["HellaSwag", "MMLU"]]
        """
        import tomllib

        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(2, "No such file", str(p))
        try:
            with p.open("rb") as f:
                d = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise DataError(f"{p}: not valid TOML ({e})") from None
        if "doctor" in d and isinstance(d["doctor"], dict):
            d = d["doctor"]
        return cls.from_mapping(d, where=str(p))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rotation_pairs"] = [list(p) for p in self.rotation_pairs]
        d["width_phases"] = list(self.width_phases)
        return d

    def phase_of(self, gamma: float | None) -> str | None:
        if gamma is None or not np.isfinite(gamma):
            return None
        return "tax" if gamma < self.phase_lower else "bonus" if gamma > self.phase_upper else "transition"


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class RuleOutcome:
    """One rule checked: ``status`` is ``fired``, ``not fired`` or ``not applicable``; ``reason`` one sentence;
    ``evidence`` the numbers behind it."""

    name: str
    status: str
    reason: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "reason": self.reason, "evidence": json_clean(self.evidence)}


@dataclass(frozen=True)
class Recommendation:
    """A recommended intervention: what to do, the rule that fired (in words) and its evidence."""

    name: str
    title: str
    action: str
    rule: str
    evidence: dict
    evidence_text: str

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "action": self.action, "rule": self.rule,
                "evidence": json_clean(self.evidence), "evidence_text": self.evidence_text}


@dataclass(frozen=True)
class DoctorResult:
    """The diagnosis of one model (what ``cape doctor`` prints and the dashboard shows).

    Attributes:
        model, kind (``base`` / ``frontier``), source (where the model came from), family, params, d_model,
        scores (benchmark -> percent), axes (B1, B2).
        coupling: one dict per interval with a neighbour (lower, upper, d1, d2, gamma, ci, phase, role, note).
        phase: label, gamma, interval, confidence, probabilities (tax / transition / bonus / undetermined).
        critical: the family's N_c, its CI and status, and the model's position (below / near / above).
        residuals: one dict per reference trend (value, unit, prediction-interval half-width, reading).
        d_eff: effective dimensionality of the model's phase in the cohort.
        frontier: frontier context (h, lab, saturation) for frontier models.
        rules: every rule checked, fired or not; recommendations: the fired ones (or ``none``).
        notes: what was missing or set aside.
    """

    model: str
    kind: str
    source: str
    family: str | None
    params: float | None
    d_model: float | None
    scores: dict
    axes: tuple[str, str]
    coupling: tuple[dict, ...]
    phase: dict | None
    critical: dict | None
    residuals: tuple[dict, ...]
    d_eff: dict | None
    frontier: dict | None
    rules: tuple[RuleOutcome, ...]
    recommendations: tuple[Recommendation, ...]
    notes: tuple[str, ...]
    config: DoctorConfig

    @property
    def fired(self) -> list[str]:
        return [r.name for r in self.rules if r.status == "fired"]

    def rule(self, name: str) -> RuleOutcome:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: status, reason, and whether it is among the recommendations."""
        return pd.DataFrame([{"rule": r.name, "status": r.status, "reason": r.reason,
                              "title": RULES[r.name][0]} for r in self.rules]).set_index("rule")

    def to_dict(self) -> dict:
        return json_clean({
            "model": self.model, "kind": self.kind, "source": self.source, "family": self.family,
            "params": self.params, "d_model": self.d_model, "scores": dict(self.scores), "axes": list(self.axes),
            "coupling": [dict(c) for c in self.coupling], "phase": self.phase, "critical": self.critical,
            "residuals": [dict(r) for r in self.residuals], "d_eff": self.d_eff, "frontier": self.frontier,
            "rules": [r.to_dict() for r in self.rules],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "notes": list(self.notes), "config": self.config.to_dict()})


# ---------------------------------------------------------------------------------------------- input
def parse_scores(items: Sequence[str] | Mapping[str, Any]) -> dict[str, float]:
    """``["HellaSwag=49.7", "TQA=38.9"]`` (or a mapping) -> ``{"HellaSwag": 49.7, "TruthfulQA": 38.9}``.

    Raises:
        UnknownBenchmarkError: an unknown benchmark (with the closest names).
        DataError: a malformed item, a non-numeric value, a value outside 0-100, a benchmark given twice.
    """
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        for it in items:
            if "=" not in str(it):
                raise DataError(f"--score {it!r}: expected BENCHMARK=VALUE, e.g. HellaSwag=49.7")
            k, v = str(it).split("=", 1)
            pairs.append((k.strip(), v.strip()))
    out: dict[str, float] = {}
    for k, v in pairs:
        b = catalog.canonical(k, where="--score")
        try:
            x = float(str(v).rstrip("%"))
        except ValueError:
            raise DataError(f"--score {k}={v}: the value is not a number (give percent, e.g. {b}=49.7)") from None
        if not math.isfinite(x) or x < 0 or x > 100:
            raise DataError(f"--score {k}={v}: {b} must be a percentage between 0 and 100")
        if b in out and out[b] != x:
            raise DataError(f"--score: {b} given twice ({out[b]:g} and {x:g})")
        out[b] = x
    return out


def _check_params(params: float | None) -> float | None:
    from .scores import MAX_PARAMS, MIN_PARAMS

    if params is None:
        return None
    p = float(params)
    if not math.isfinite(p) or p <= 0:
        raise DataError(f"--params {params}: the parameter count must be a positive number (e.g. 1e9)")
    if p < MIN_PARAMS:
        raise DataError(f"--params {params:g}: give the raw count (e.g. 1e9 for 1B), not billions or millions")
    if p > MAX_PARAMS:
        raise DataError(f"--params {params:g}: more than 1e14 parameters is not a plausible model")
    return p


def _merge_tables(base, extra):
    """``base`` with ``extra``'s models added (``extra`` wins for a model in both)."""
    from .scores import ScoreTable

    if extra is None:
        return base
    ld = base.long
    ld = ld[~ld["model"].isin(set(extra.long["model"]))]
    return ScoreTable(pd.concat([ld, extra.long], ignore_index=True), units="percent", name=extra.name,
                      infer_family=False)


def _lookup_name(name: str, names: Sequence[str]) -> str | None:
    if name in names:
        return name
    low = {n.lower(): n for n in names}
    if name.lower() in low:
        return low[name.lower()]
    key = name.lower().replace(" ", "").replace("_", "-")
    norm = {n.lower().replace(" ", "").replace("_", "-"): n for n in names}
    return norm.get(key)


def _unknown_model(name: str, names: Sequence[str]) -> NotFoundError:
    low = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(low), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(low[c] for c in close)}?" if close else \
        "; list the models with 'cape data' or describe it with --family, --params and --score"
    return NotFoundError(f"unknown model {name!r}{hint}")


# ---------------------------------------------------------------------------------------------- noise helpers
def _stderr(table, model: str, bench: str, score: float) -> float:
    """A score's standard error (points): the table's when given, else the binomial error of the benchmark."""
    if table is not None:
        ld = table.long
        s = ld.loc[(ld["model"] == model) & (ld["benchmark"] == bench), "stderr"]
        if len(s) and pd.notna(s.iloc[0]) and float(s.iloc[0]) > 0:
            return float(s.iloc[0])
    return catalog.binomial_stderr(score, bench)


def _noise_gammas(logn: np.ndarray, s1: np.ndarray, s2: np.ndarray, se1: np.ndarray, se2: np.ndarray, *,
                  n_boot: int, seed: int, min_delta: float) -> np.ndarray:
    """Consecutive-step gammas under score noise: ``(n_boot, K-1)`` (NaN where a step is too small)."""
    from .coupling import gamma_steps

    rng = np.random.default_rng(seed)
    k = len(logn)
    d1 = s1[None, :] + rng.standard_normal((n_boot, k)) * se1[None, :]
    d2 = s2[None, :] + rng.standard_normal((n_boot, k)) * se2[None, :]
    g, _, _, _ = gamma_steps(logn, d1, d2, min_delta=min_delta)
    return g


def _phase_probabilities(g: np.ndarray, cfg: DoctorConfig) -> dict[str, float]:
    n = len(g)
    if n == 0:
        return {p: float("nan") for p in (*PHASES, "undetermined")}
    fin = np.isfinite(g)
    return {"tax": float(np.sum(fin & (g < cfg.phase_lower)) / n),
            "transition": float(np.sum(fin & (g >= cfg.phase_lower) & (g <= cfg.phase_upper)) / n),
            "bonus": float(np.sum(fin & (g > cfg.phase_upper)) / n),
            "undetermined": float(np.sum(~fin) / n)}


def _ci_or_none(a: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Percentile CI of the finite draws ``a`` (None ends when fewer than two are finite)."""
    lo, hi = percentile_ci(a[np.isfinite(a)], level)
    return (_f(lo), _f(hi))


# ---------------------------------------------------------------------------------------------- trend fits
def _poly_fit_with_pi(x: np.ndarray, y: np.ndarray, x0: float, degree: int, ci: float
                      ) -> tuple[float, float, np.ndarray]:
    """Fitted value at ``x0`` and the half-width of its prediction interval (t, n - degree - 1 dof)."""
    from scipy import stats

    X = np.vander(x, degree + 1)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    x0v = np.vander(np.array([x0]), degree + 1)[0]
    pred = float(x0v @ coef)
    dof = len(x) - degree - 1
    if dof <= 0:
        return pred, float("nan"), coef
    res = y - X @ coef
    s2 = float(res @ res) / dof
    xtx_inv = np.linalg.pinv(X.T @ X)
    half = float(stats.t.ppf(0.5 + ci / 2, dof) * math.sqrt(s2 * (1 + x0v @ xtx_inv @ x0v)))
    return pred, half, coef


def _web_curve_reading(v: float, cfg: DoctorConfig) -> str:
    if v > cfg.field_high:
        return "above the web-trained curve by more than the curated-data threshold (curated-like data field)"
    if v < -cfg.field_low:
        return "below the web-trained average"
    return "on the web-trained curve (web-trained baseline)"


# ---------------------------------------------------------------------------------------------- N_c
def _family_critical(table, family: str, model_params: float | None, cfg: DoctorConfig) -> dict:
    """The family's N_c (:func:`cape.critical.critical_scale`, within-family crossing with a score-noise CI)
    and the model's position relative to it.

    Position: for an observed / extrapolated N_c, ``below`` / ``near`` (inside the CI) / ``above``. When no
    flip is established the CI is one-sided: a model below its lower end (flip, if any, above) is ``below``;
    above its upper end (cooperative throughout) ``above``; inside the open interval ``unresolved``.
    """
    from .critical import critical_scale

    try:
        res = critical_scale(table, family=family, pair=(cfg.b1, cfg.b2), n_boot=cfg.n_boot, seed=cfg.seed,
                             level=cfg.ci, min_delta=cfg.min_delta)
    except AnalysisError as e:
        return {"nc": None, "ci": [None, None], "status": "insufficient", "direction": None, "summary": "—",
                "method": "cape.critical.critical_scale (crossing)", "position": None, "message": f"{family}: {e}"}
    lo = 0.0 if res.ci_low_unbounded else res.ci_low
    hi = math.inf if res.ci_high_unbounded else res.ci_high
    out: dict[str, Any] = {"nc": res.estimate, "ci": [lo, hi], "status": res.status, "direction": res.direction,
                           "summary": res.summary(), "method": f"cape.critical.critical_scale ({res.method})",
                           "position": None,
                           "message": f"{family}: " + (f"N_c {res.summary()}; " if res.estimate is not None else "")
                           + res.message}
    n = model_params
    if n is None or res.status == "insufficient":
        return out
    if res.status in ("observed", "extrapolated") and res.estimate is not None:
        if lo is None or hi is None:
            lo, hi = res.estimate / cfg.nc_near_factor, res.estimate * cfg.nc_near_factor
            out["ci_note"] = f"no CI: 'near' means within a factor {cfg.nc_near_factor:g} of N_c"
        pos = "below" if n < lo else "above" if n > hi else "near"
    elif res.status == "none" and res.direction == "above":
        pos = "below" if (lo is not None and n < lo) else "unresolved"
    elif res.status == "none" and res.direction == "below":
        pos = "above" if (hi is not None and n > hi) else "unresolved"
    else:
        pos = "unresolved"
    out["position"] = pos
    say = {"below": "below it", "above": "above it", "near": "within its CI",
           "unresolved": "inside the open interval where no flip is established"}[pos]
    out["message"] += f"; the model ({fmt_params(n)}) is {say}"
    return out


# ---------------------------------------------------------------------------------------------- d_eff
def _phase_d_eff(table, cfg: DoctorConfig, phase: str | None) -> dict | None:
    """d_eff of the cohort models in the model's phase (:func:`cape.eigen.phase_spectra`: covariance
    participation ratio over the five cohort benchmarks, family-stratified bootstrap CI), the other phases
    alongside."""
    from .eigen import phase_spectra

    bs = [b for b in catalog.BASE_FIVE if b in table.benchmarks]
    if len(bs) < 3:
        return None
    try:
        ps = phase_spectra(table, bs, pair=(cfg.b1, cfg.b2), use="cov", n_boot=min(cfg.n_boot, 1000),
                           seed=cfg.seed, level=cfg.ci, min_delta=cfg.min_delta,
                           scheme=(cfg.phase_lower, cfg.phase_upper))
    except (AnalysisError, DataError) as e:
        return {"phase": phase, "d_eff": None, "ci": [None, None], "n": 0, "groups": {},
                "message": f"d_eff not available: {e}"}
    groups = {ph: {"n": r.n_models, "n_families": r.n_families, "d_eff": r.d_eff, "ci": list(r.d_eff_ci),
                   "status": r.status} for ph, r in ps.phases.items()}
    base = {"groups": groups, "benchmarks": bs,
            "method": "cape.eigen.phase_spectra: covariance participation ratio, family-stratified bootstrap"}
    if phase is None or phase not in groups:
        msg = "; ".join(f"{p} d_eff {fmt_number(g['d_eff'])} (n={g['n']})" for p, g in groups.items())
        return {"phase": phase, "d_eff": None, "ci": [None, None], "n": 0, **base,
                "message": (f"no cohort d_eff for phase {phase}; " if phase else "phase unknown; ") + msg}
    g = groups[phase]
    others = "; ".join(f"{p} {fmt_number(v['d_eff'])} (n={v['n']})" for p, v in groups.items() if p != phase)
    ci = f" [{fmt_number(g['ci'][0])}, {fmt_number(g['ci'][1])}]" if g["ci"][0] is not None else ""
    msg = (f"cohort models in the {phase} phase: d_eff {fmt_number(g['d_eff'])}{ci} over {len(bs)} benchmarks "
           f"(n={g['n']}); {others}. d_eff near 1: the benchmarks move as one capability")
    return {"phase": phase, "d_eff": g["d_eff"], "ci": g["ci"], "n": g["n"], **base, "message": msg}


# ---------------------------------------------------------------------------------------------- rules
#: Rule name -> (title, action, rule text). The text is shown next to every recommendation.
RULES: dict[str, tuple[str, str, str]] = {
    "curation": ("Data curation",
                 "Curate the pre-training data (filtered / synthetic textbook-style data) rather than scaling up.",
                 "tax phase (gamma < phase_lower), size below the family's N_c, and curated-data families of "
                 "similar size (within curation_size_factor) are cooperative (median gamma > curation_min_gamma)"),
    "width": ("Widen the model",
              "Trade depth for width at the same parameter count: move d_model towards the width law.",
              "log10(d_model) is at least width_narrow_dex below the width law log10 d_model ~ log10 N fitted "
              "over the family (or the cohort), and the phase is in width_phases"),
    "rotation": ("Benchmark rotation",
                 "Stop judging on the saturated axis; evaluate on the newer axis that still separates models.",
                 "top-k spread of the old axis / top-k spread of the new axis < rotation_ratio over the panel, "
                 "and the model is among the top k on the old axis"),
    "checkpoints": ("Evaluate several checkpoints",
                    "The model sits at a phase boundary: evaluate several checkpoints / seeds before deciding.",
                    "|gamma| <= near_zero, or the model's size lies within the CI of the family's N_c"),
    "rebalance": ("Rebalance the capability mix",
                  "Shift training mix towards the under-weighted axis (reasoning for coding-rich, coding for "
                  "reasoning-rich).",
                  "frontier model with |h| > frontier_h_band against the population line"),
    "none": ("No intervention", "Nothing to change on these scores: keep scaling and monitoring.",
             "no rule fired"),
}


def _rec(name: str, evidence: dict, text: str) -> Recommendation:
    title, action, rule = RULES[name]
    return Recommendation(name=name, title=title, action=action, rule=rule, evidence=evidence, evidence_text=text)


def _rule_curation(phase: dict | None, crit: dict | None, params: float | None, recipe: str | None,
                   cohort, family: str | None, cfg: DoctorConfig, web_resid: float | None) -> RuleOutcome:
    from .coupling import local_coupling

    if phase is None or phase.get("label") is None:
        return RuleOutcome("curation", "not applicable", "the phase is undetermined (no usable family interval)")
    if params is None:
        return RuleOutcome("curation", "not applicable", "no parameter count")
    ev: dict[str, Any] = {"phase": phase["label"], "gamma": phase.get("gamma"),
                          "position": crit.get("position") if crit else None,
                          "nc": crit.get("nc") if crit else None, "nc_status": crit.get("status") if crit else None}
    if recipe is not None and str(recipe).lower() == cfg.curated_recipe:
        return RuleOutcome("curation", "not fired", "the model's family is already trained on curated data", ev)
    # curated intervals of similar size in the cohort
    wide = cohort.wide(force=True)
    mf = cohort.model_frame()
    cur = [f for f in mf["family"].dropna().unique()
           if (mf.loc[mf["family"] == f, "recipe"].astype(str).str.lower() == cfg.curated_recipe).any() and f != family]
    ivs = []
    lo, hi = params / cfg.curation_size_factor, params * cfg.curation_size_factor
    for f in cur:
        fw = wide[wide["family"] == f].dropna(subset=[cfg.b1, cfg.b2, "params"])
        fw = fw[~fw["params"].duplicated(keep="first")]
        if len(fw) < 2:
            continue
        fc = local_coupling(fw, (cfg.b1, cfg.b2), min_delta=cfg.min_delta, scheme=(cfg.phase_lower, cfg.phase_upper))
        for iv in fc.intervals:
            if iv.gamma is not None and lo <= iv.n_mid <= hi:
                ivs.append({"family": f, "interval": f"{iv.lower} → {iv.upper}", "n_mid": iv.n_mid,
                            "gamma": iv.gamma})
    ev["curated_intervals"] = ivs
    ev["size_window"] = [lo, hi]
    med = float(np.median([i["gamma"] for i in ivs])) if ivs else None
    ev["curated_median_gamma"] = med
    # how far curated models of similar size sit above the web-trained curve: the data field to gain
    coef = _web_curve(cohort, None, cfg.b2)
    if coef is not None:
        cm = wide[wide["family"].isin(cur) & wide["params"].between(lo, hi)].dropna(subset=[cfg.b2, "params"])
        if len(cm):
            field_c = cm[cfg.b2].to_numpy(float) - np.polyval(coef, np.log10(cm["params"].to_numpy(float)))
            ev["curated_field_mean"] = float(field_c.mean())
            ev["curated_field_models"] = {str(m): float(v) for m, v in zip(cm.index, field_c)}
            if web_resid is not None:
                ev["field_gap"] = float(field_c.mean() - web_resid)
    if phase["label"] != "tax":
        return RuleOutcome("curation", "not fired", f"phase is {phase['label']}, not tax", ev)
    pos = crit.get("position") if crit else None
    if pos != "below":
        why = {None: f"the family's N_c is undetermined ({crit['message'] if crit else 'no parameter count'})",
               "unresolved": "no flip is established around the model's size, so it is not known to be below N_c",
               }.get(pos, f"the model is {pos} its family's N_c, not below")
        return RuleOutcome("curation", "not fired", why, ev)
    if not ivs:
        return RuleOutcome("curation", "not fired", f"no curated-data family interval between "
                                                    f"{lo / 1e9:.2g}B and {hi / 1e9:.2g}B in the cohort", ev)
    if med <= cfg.curation_min_gamma:
        return RuleOutcome("curation", "not fired", f"curated families of similar size are not cooperative "
                                                    f"(median gamma {med:+.2f} <= {cfg.curation_min_gamma:g})", ev)
    gap = ev.get("field_gap")
    extra = (f"; curated models of this size sit {ev['curated_field_mean']:+.1f} {cfg.b2} points from the "
             f"web-trained curve ({gap:+.1f} relative to this model)" if gap is not None else "")
    return RuleOutcome("curation", "fired",
                       f"tax phase (gamma {phase['gamma']:+.2f}) below N_c, while {len(ivs)} curated interval(s) "
                       f"of similar size are cooperative (median gamma {med:+.2f}){extra}", ev)


def _width_law(model: str, params: float, family: str | None, cfg: DoctorConfig) -> tuple[dict | None, str]:
    from . import data

    arch = data.architectures()
    mf = data.load_base().model_frame()
    a = arch.dropna(subset=["d_model"]).copy()
    a["params"] = a["model"].map(mf["params"])
    a = a.dropna(subset=["params"])
    a = a[a["model"] != model]
    fam = a[a["family"] == family] if family else a.iloc[:0]
    if len(fam) >= cfg.width_min_models and np.ptp(np.log10(fam["params"])) > 0:
        use, src = fam, f"family {family} ({len(fam)} models)"
    else:
        use, src = a, f"cohort ({len(a)} models; family {family} has {len(fam)} with a known width)"
    if len(use) < 3:
        return None, "fewer than 3 models with a known width"
    x, y = np.log10(use["params"].to_numpy(float)), np.log10(use["d_model"].to_numpy(float))
    slope, intercept = np.polyfit(x, y, 1)
    return {"slope": float(slope), "intercept": float(intercept), "source": src, "n": int(len(use)),
            "d_law": float(10 ** (slope * math.log10(params) + intercept))}, src


def _rule_width(model: str, params: float | None, d_model: float | None, family: str | None, phase: dict | None,
                cfg: DoctorConfig) -> RuleOutcome:
    if params is None:
        return RuleOutcome("width", "not applicable", "no parameter count")
    if d_model is None:
        return RuleOutcome("width", "not applicable",
                           "the model's d_model is unknown (not in the architecture table; give --d-model)")
    law, why = _width_law(model, params, family, cfg)
    if law is None:
        return RuleOutcome("width", "not applicable", f"no width law: {why}")
    resid = math.log10(d_model) - math.log10(law["d_law"])
    ev = {"d_model": d_model, "d_law": law["d_law"], "ratio": d_model / law["d_law"], "residual_dex": resid,
          "law": law, "phase": phase.get("label") if phase else None}
    if resid > -cfg.width_narrow_dex:
        return RuleOutcome("width", "not fired", f"d_model {d_model:.0f} is not narrow for its size (law "
                                                 f"{law['d_law']:.0f}, {resid:+.3f} dex > -{cfg.width_narrow_dex:g})",
                           ev)
    ph = phase.get("label") if phase else None
    if ph not in cfg.width_phases:
        return RuleOutcome("width", "not fired", f"narrow ({resid:+.3f} dex) but the phase is {ph or 'undetermined'}, "
                                                 f"not one of {', '.join(cfg.width_phases)}", ev)
    return RuleOutcome("width", "fired", f"d_model {d_model:.0f} is {1 - d_model / law['d_law']:.0%} narrower than the "
                                         f"width law at this size ({law['d_law']:.0f}; {law['source']}) in the {ph} "
                                         "phase", ev)


def _rule_rotation(model: str, scores: Mapping[str, float], panel: pd.DataFrame, panel_name: str,
                   cfg: DoctorConfig) -> RuleOutcome:
    """``panel``: wide frame (index model, column lab, benchmarks) that includes the model."""
    from .frontier import FrontierConfig, mark_fit, saturation

    checked = []
    best = None
    for old, new in cfg.rotation_pairs:
        if old not in scores:
            continue
        if old not in panel.columns or new not in panel.columns:
            checked.append({"old": old, "new": new, "status": f"the {panel_name} has no {new} scores"})
            continue
        # models with both axes; a model without the new axis is still ranked on the old one below
        p = panel.dropna(subset=[old, new]).copy()
        if len(p) < cfg.rotation_top_k:
            checked.append({"old": old, "new": new, "status": f"fewer than {cfg.rotation_top_k} models with both"})
            continue
        p["subset"] = "core"
        if "lab" not in p.columns:
            p["lab"] = p.get("family", "—")
        fc = FrontierConfig(x=old, y=new, top_k=cfg.rotation_top_k, rotate_below=cfg.rotation_ratio, n_boot=0)
        s = saturation(mark_fit(p, fc), old, new, config=fc)
        kth = float(np.sort(p[old].to_numpy(float))[::-1][cfg.rotation_top_k - 1])
        at_top = scores[old] >= kth
        rank = int((p.drop(index=[model], errors="ignore")[old] > scores[old]).sum()) + 1
        item = {"old": old, "new": new, "spread_old": s.spread_old, "spread_new": s.spread_new, "ratio": s.ratio,
                "threshold": cfg.rotation_ratio, "saturated": s.rotate, "top_models": list(s.top_models),
                "kth_score": kth, "model_score": scores[old], "model_rank": rank, "at_top": bool(at_top),
                "panel": panel_name, "n_panel": int(len(p))}
        checked.append(item)
        if s.rotate and at_top and best is None:
            best = item
    ev = {"checked": checked}
    if not checked:
        return RuleOutcome("rotation", "not applicable", "no score on an axis with a configured newer axis "
                                                         f"({', '.join(o for o, _ in cfg.rotation_pairs)})", ev)
    if best is not None:
        return RuleOutcome("rotation", "fired",
                           f"{best['old']} saturates at the top of the {panel_name}: top-{cfg.rotation_top_k} spread "
                           f"{best['spread_old']:.1f} vs {best['new']} {best['spread_new']:.1f} points (ratio "
                           f"{best['ratio']:.3f} < {cfg.rotation_ratio:g}); the model ranks {best['model_rank']} on "
                           f"{best['old']}", ev)
    sat = [c for c in checked if c.get("saturated")]
    if sat:
        c = sat[0]
        return RuleOutcome("rotation", "not fired", f"{c['old']} saturates at the top (ratio {c['ratio']:.3f}) but the "
                                                    f"model is not among the top {cfg.rotation_top_k} ({c['old']} "
                                                    f"{c['model_score']:.1f} < {c['kth_score']:.1f})", ev)
    c = next((c for c in checked if "ratio" in c), None)
    if c is None:
        return RuleOutcome("rotation", "not applicable", checked[0]["status"], ev)
    return RuleOutcome("rotation", "not fired", f"{c['old']} still separates the top models (ratio {c['ratio']:.3f} "
                                                f">= {cfg.rotation_ratio:g})", ev)


def _rule_checkpoints(phase: dict | None, crit: dict | None, coupling: Sequence[dict], cfg: DoctorConfig
                      ) -> RuleOutcome:
    """Fires when the coupling next to the model (either neighbour) is near zero, or (optionally) when the
    model's size lies inside the CI of an observed N_c."""
    adj = [c for c in coupling if c.get("gamma") is not None]
    near_nc = bool(cfg.checkpoints_on_nc and crit and crit.get("position") == "near")
    ev = {"near_zero": cfg.near_zero, "intervals": [{"interval": f"{c['lower']} → {c['upper']}", "gamma": c["gamma"],
                                                     "ci": c.get("ci")} for c in adj],
          "probabilities": phase.get("probabilities") if phase else None,
          "position": crit.get("position") if crit else None, "nc": crit.get("nc") if crit else None}
    if not adj and not near_nc:
        return RuleOutcome("checkpoints", "not applicable", "no local coupling next to the model to judge", ev)
    close = [c for c in adj if abs(c["gamma"]) <= cfg.near_zero]
    if close:
        c = close[0]
        return RuleOutcome("checkpoints", "fired", f"gamma {c['gamma']:+.3f} on {c['lower']} → {c['upper']} is within "
                                                   f"±{cfg.near_zero:g}: a phase boundary, where small recipe changes "
                                                   "flip the sign", ev)
    if near_nc:
        return RuleOutcome("checkpoints", "fired", f"the model's size lies within the CI of its family's N_c "
                                                   f"({crit['summary']})", ev)
    gs = ", ".join(f"{c['gamma']:+.3f}" for c in adj)
    return RuleOutcome("checkpoints", "not fired", f"gamma next to the model ({gs}) is away from zero (> "
                                                   f"{cfg.near_zero:g}) and the model is not within the CI of N_c", ev)


def _rule_rebalance(front: dict | None, cfg: DoctorConfig) -> RuleOutcome:
    if front is None or front.get("h") is None:
        return RuleOutcome("rebalance", "not applicable", "not a frontier model (no SWE-bench Verified and GPQA "
                                                          "Diamond scores)")
    h = front["h"]
    ev = {"h": h, "pi_half": front.get("pi_half"), "band": cfg.frontier_h_band, "lab_mean_h": front.get("lab_mean_h")}
    if h < -cfg.frontier_h_band:
        return RuleOutcome("rebalance", "fired", f"h = {h:+.1f} < -{cfg.frontier_h_band:g}: coding-rich for its SWE "
                                                 "score; invest in reasoning (GPQA-type) data", ev)
    if h > cfg.frontier_h_band:
        return RuleOutcome("rebalance", "fired", f"h = {h:+.1f} > +{cfg.frontier_h_band:g}: reasoning-rich for its "
                                                 "SWE score; invest in coding (SWE-type) data", ev)
    return RuleOutcome("rebalance", "not fired", f"|h| = {abs(h):.1f} <= {cfg.frontier_h_band:g}: balanced", ev)


def _recommendations(rules: Sequence[RuleOutcome]) -> tuple[Recommendation, ...]:
    out = [_rec(r.name, r.evidence, r.reason) for r in rules if r.status == "fired"]
    if not out:
        why = "; ".join(f"{r.name}: {r.reason}" for r in rules)
        out = [_rec("none", {"checked": [r.name for r in rules]}, f"no rule fired ({why})")]
    return tuple(out)


# ---------------------------------------------------------------------------------------------- base models
def _family_frame(table, family: str) -> pd.DataFrame:
    fam = table.filter(family=family)
    return fam.wide(force=True)


def _diagnose_base(model: str, family: str, params: float | None, scores: dict[str, float], d_model: float | None,
                   recipe: str | None, source: str, table, cohort, described: bool, cfg: DoctorConfig,
                   notes: list[str], sc_override: bool = False) -> DoctorResult:
    from .coupling import local_coupling

    b1, b2 = cfg.b1, cfg.b2
    fam_all = _family_frame(table, family)
    real = fam_all.drop(index=[model], errors="ignore")
    if described and params is not None:
        same = real.index[np.isclose(np.log10(real["params"].astype(float)), math.log10(params), atol=0.01)]
        if len(same):
            notes.append(f"{', '.join(same)} has the same size as the described model and is set aside "
                         "(the described model takes its place)")
            real = real.drop(index=same)
    row = {"family": family, "params": params, **{b: scores.get(b, np.nan) for b in fam_all.columns
                                                  if b not in ("family", "params")}}
    for b, v in scores.items():
        row[b] = v
    fam = pd.concat([real, pd.DataFrame([row], index=[model])])
    fam.index.name = "model"
    coupling_rows: list[dict] = []
    phase = None
    usable = fam.dropna(subset=[b1, b2, "params"])
    usable = usable[~usable["params"].astype(float).duplicated(keep=False) | (usable.index == model)]
    have = [b for b in (b1, b2) if b in scores]
    if params is None:
        notes.append("no parameter count: the model cannot be placed in its family")
    elif len(have) < 2:
        miss = [b for b in (b1, b2) if b not in scores]
        notes.append(f"no {' or '.join(miss)} score: local coupling, phase and their rules need both {b1} and {b2}")
    elif len(usable) < 2:
        both = real.dropna(subset=[b1, b2, "params"])
        same = [str(m) for m in both.index if np.isclose(float(both.loc[m, "params"]), params, rtol=0.01)]
        if same:
            what = (f"no smaller or larger member with {b1} and {b2} scores ({', '.join(same)} has the same size, "
                    f"{fmt_params(params)})")
        else:
            lack = [str(m) for m in real.index]
            what = (f"no other member with {b1} and {b2} scores"
                    + (f" (members without both: {', '.join(lack)})" if lack else ""))
        notes.append(f"family {family} has {what}; local coupling needs a smaller or larger member "
                     "(add one with --data)")
    else:
        usable = usable.sort_values("params", kind="stable")
        fc = local_coupling(usable, (b1, b2), min_delta=cfg.min_delta, scheme=(cfg.phase_lower, cfg.phase_upper))
        order = list(fc.models)
        i = order.index(model)
        lo_i, hi_i = max(i - 1, 0), min(i + 1, len(order) - 1)
        trio = usable.loc[order[lo_i:hi_i + 1]]
        logn = np.log10(trio["params"].to_numpy(float))
        s1, s2 = trio[b1].to_numpy(float), trio[b2].to_numpy(float)
        # a described model (or a what-if score) has no stderr in the table: its binomial error is used
        own = None if (described or sc_override) else table
        se1 = np.array([_stderr(own if m == model else table, m, b1, v) for m, v in zip(trio.index, s1)])
        se2 = np.array([_stderr(own if m == model else table, m, b2, v) for m, v in zip(trio.index, s2)])
        draws = (_noise_gammas(logn, s1, s2, se1, se2, n_boot=cfg.n_boot, seed=cfg.seed, min_delta=cfg.min_delta)
                 if cfg.n_boot else np.empty((0, len(trio) - 1)))
        ivs = [iv for iv in fc.intervals if model in (iv.lower, iv.upper)]
        for j, iv in enumerate(ivs):
            role = "below" if iv.upper == model else "above"
            col = draws[:, j] if draws.size else np.array([])
            note = {"small_step": f"|Δ{b1}| <= {cfg.min_delta:g}: skipped", "equal_n": "same size: skipped"}.get(
                iv.status, "")
            if "negative_step" in iv.flags:
                note = (note + "; " if note else "") + f"{b1} falls with size (co-movement {iv.comove:+d})"
            coupling_rows.append({"lower": iv.lower, "upper": iv.upper, "role": role, "n_lower": iv.n_lower,
                                  "n_upper": iv.n_upper, "d1": iv.d1, "d2": iv.d2, "gamma": iv.gamma,
                                  "ci": list(_ci_or_none(col, cfg.ci)), "phase": iv.phase, "status": iv.status,
                                  "note": note, "_draws": col})
        prim = next((c for c in coupling_rows if c["role"] == "below" and c["gamma"] is not None), None)
        if prim is None:
            prim = next((c for c in coupling_rows if c["gamma"] is not None), None)
            if prim is not None:
                notes.append("phase read from the interval above the model (no usable interval below it)")
        if prim is not None:
            probs = _phase_probabilities(prim["_draws"], cfg)
            label = prim["phase"]
            phase = {"label": label, "gamma": prim["gamma"], "gamma_ci": prim["ci"],
                     "interval": f"{prim['lower']} → {prim['upper']}",
                     "confidence": probs.get(label, float("nan")), "probabilities": probs, "n_boot": cfg.n_boot,
                     "thresholds": [cfg.phase_lower, cfg.phase_upper],
                     "method": "share of score-noise draws (binomial standard errors) giving this phase"}
        else:
            notes.append(f"no usable interval next to the model (|Δ{b1}| <= {cfg.min_delta:g} on both sides)")
        for c in coupling_rows:
            c.pop("_draws", None)
    # N_c of the family from its real members
    crit = _family_critical(table, family, params, cfg) if params is not None else None
    # residuals
    residuals = _base_residuals(model, family, params, scores, real, table, cohort, cfg, notes)
    web = next((r["value"] for r in residuals if r["key"] == "web"), None)
    d_eff = _phase_d_eff(cohort, cfg, phase["label"] if phase else None)
    # rules
    panel = cohort.wide(force=True)
    panel = panel.drop(index=[model], errors="ignore")
    me = pd.DataFrame([{**{"family": family, "params": params}, **scores}], index=[model])
    panel = pd.concat([panel, me])
    panel["lab"] = panel["family"]
    rules = (
        _rule_curation(phase, crit, params, recipe, cohort, family, cfg, web),
        _rule_width(model, params, d_model, family, phase, cfg),
        _rule_rotation(model, scores, panel, "cohort", cfg),
        _rule_checkpoints(phase, crit, coupling_rows, cfg),
        _rule_rebalance(None, cfg),
    )
    return DoctorResult(model=model, kind="base", source=source, family=family, params=params, d_model=d_model,
                        scores=dict(scores), axes=(b1, b2), coupling=tuple(coupling_rows), phase=phase, critical=crit,
                        residuals=tuple(residuals), d_eff=d_eff, frontier=None, rules=rules,
                        recommendations=_recommendations(rules), notes=tuple(notes), config=cfg)


def _web_models(cohort, model: str | None, b2: str) -> pd.DataFrame:
    """Cohort models trained on web data (recipe ``web``) with a ``b2`` score and a size, ``model`` left out."""
    wide = cohort.wide(force=True)
    mf = cohort.model_frame()
    web = wide[(mf.reindex(wide.index)["recipe"].astype(str).str.lower() == "web") & (wide.index != model)]
    return web.dropna(subset=[b2, "params"])


def _web_curve(cohort, model: str | None, b2: str) -> np.ndarray | None:
    """Coefficients of the quadratic ``b2(log10 N)`` over the web-trained cohort (None with < 4 models)."""
    web = _web_models(cohort, model, b2)
    if len(web) < 4:
        return None
    return np.polyfit(np.log10(web["params"].to_numpy(float)), web[b2].to_numpy(float), 2)


def _base_residuals(model, family, params, scores, real: pd.DataFrame, table, cohort, cfg: DoctorConfig,
                    notes: list[str]) -> list[dict]:
    from . import data

    b2 = cfg.b2
    out: list[dict] = []
    if params is None or b2 not in scores:
        if b2 not in scores:
            notes.append(f"no {b2} score: no residual from the family and cohort trends")
        return out
    lx = math.log10(params)
    y0 = scores[b2]
    # 1) the family's own trend B2(log N), without the model
    fr = real.dropna(subset=[b2, "params"])
    if len(fr) >= cfg.trend_min_models:
        deg = 2 if len(fr) >= 4 else 1
        x = np.log10(fr["params"].to_numpy(float))
        pred, half, _ = _poly_fit_with_pi(x, fr[b2].to_numpy(float), lx, deg, cfg.ci)
        v = y0 - pred
        inside = np.isfinite(half) and abs(v) <= half
        extrap = not (x.min() <= lx <= x.max())
        out.append({"key": "family", "reference": f"family {family} {b2}(log N) "
                                                  f"{'quadratic' if deg == 2 else 'line'} ({len(fr)} models)",
                    "value": v, "unit": f"{b2} points", "predicted": pred, "pi_half": half if np.isfinite(half) else None,
                    "reading": ("within the family's prediction interval" if inside else
                                "outside the family's prediction interval") + (" (extrapolated)" if extrap else "")})
    else:
        notes.append(f"family {family} has {len(fr)} other model(s) with {b2}; a family trend needs "
                     f"{cfg.trend_min_models}")
    # 2) the cohort's web-trained curve (data field h(D)), without the model
    web = _web_models(cohort, model, b2)
    if len(web) >= 4:
        x = np.log10(web["params"].to_numpy(float))
        pred, half, _ = _poly_fit_with_pi(x, web[b2].to_numpy(float), lx, 2, cfg.ci)
        v = y0 - pred
        out.append({"key": "web", "reference": f"cohort web-trained {b2}(log N) quadratic ({len(web)} models)",
                    "value": v, "unit": f"{b2} points", "predicted": pred, "pi_half": half,
                    "reading": _web_curve_reading(v, cfg) + ("" if abs(v) > half else
                                                             "; inside the curve's prediction interval")})
    # 3) the paper's universal curve (DS-BOOT14 quadratic), computed from the fixture
    if b2 == "TruthfulQA":
        try:
            bt = data.fixture("boot14")
            coef = np.polyfit(np.log10(bt["params"].to_numpy(float)), bt["TruthfulQA"].to_numpy(float), 2)
            v = y0 - float(np.polyval(coef, lx))
            out.append({"key": "paper", "reference": "paper UNIV curve (quadratic over DS-BOOT14)", "value": v,
                        "unit": "TruthfulQA points", "predicted": float(np.polyval(coef, lx)), "pi_half": None,
                        "reading": _web_curve_reading(v, cfg)})
        except Exception:  # noqa: BLE001 - the fixture is optional context
            pass
    return out


# ---------------------------------------------------------------------------------------------- frontier models
def _diagnose_frontier(model: str, scores: dict[str, float], lab: str | None, source: str, described: bool,
                       cfg: DoctorConfig, notes: list[str], panel: pd.DataFrame | None = None) -> DoctorResult:
    from .frontier import GPQA, IFEVAL, SWE, FrontierConfig, bootstrap_line, embedded_panel, frontier_report

    fcfg = FrontierConfig(n_boot=min(cfg.n_boot, 2000), seed=cfg.seed)
    p = embedded_panel() if panel is None else panel.copy()
    if described:
        row = {"model": model, "lab": lab or "(yours)", SWE: scores[SWE], GPQA: scores[GPQA]}
        if IFEVAL in scores:
            row[IFEVAL] = scores[IFEVAL]
        rep = frontier_report(p, fcfg, added=pd.DataFrame([row]))
    else:
        rep = frontier_report(p, fcfg)
    hf = rep.h_field.table.loc[model]
    lab = str(hf["lab"])
    c = rep.coupling
    b = bootstrap_line(rep.panel.loc[rep.panel["in_fit"], SWE].to_numpy(float),
                       rep.panel.loc[rep.panel["in_fit"], GPQA].to_numpy(float), n_boot=max(cfg.n_boot, 1),
                       seed=cfg.seed)
    L = rep.labs.table
    lab_row = L.loc[lab] if lab in L.index else None
    front = {"h": float(hf["h"]), "pi_half": float(hf["pi_half"]), "predicted": float(hf["predicted"]),
             "direction": hf["direction"], "outside_pi": bool(hf["outside_pi"]), "lab": lab,
             "lab_mean_h": _f(lab_row["mean_h"]) if lab_row is not None else None,
             "lab_n": int(lab_row["n"]) if lab_row is not None else 0,
             "population_r": c.r, "population_r_ci": list(c.r_ci_boot), "line": [rep.h_field.slope,
                                                                                  rep.h_field.intercept],
             "lolo_predicted": _f(rep.lolo.models.loc[model, "predicted"]),
             "saturation": rep.saturation.to_dict() | {"ranking": None}}
    front["message"] = (f"h = {front['h']:+.1f} GPQA points from the population line "
                        f"({rep.h_field.slope:.3f} SWE + {rep.h_field.intercept:.2f}; 95% PI ± {front['pi_half']:.1f}); "
                        f"{front['direction']}; lab {lab} mean h "
                        f"{fmt_number(front['lab_mean_h'], 1)} over {front['lab_n']} fitted model(s)")
    # local coupling against the lab's neighbours, ordered by SWE (the paper scripts' convention)
    coupling_rows: list[dict] = []
    phase = None
    labp = rep.panel[rep.panel["lab"] == lab].sort_values([SWE, GPQA], kind="stable")
    if len(labp) >= 2:
        order = list(labp.index)
        i = order.index(model)
        trio = labp.iloc[max(i - 1, 0):i + 2]
        s1, s2 = trio[SWE].to_numpy(float), trio[GPQA].to_numpy(float)
        se1 = np.array([catalog.binomial_stderr(v, SWE) for v in s1])
        se2 = np.array([catalog.binomial_stderr(v, GPQA) for v in s2])
        pos = np.arange(len(trio), dtype=float)  # ordering axis: rank by SWE (sizes are unknown)
        from .coupling import gamma_steps

        g0, _, d1, d2 = gamma_steps(pos, s1, s2, min_delta=cfg.min_delta)
        draws = (_noise_gammas(pos, s1, s2, se1, se2, n_boot=cfg.n_boot, seed=cfg.seed, min_delta=cfg.min_delta)
                 if cfg.n_boot else np.empty((0, len(trio) - 1)))
        names = list(trio.index)
        for j in range(len(names) - 1):
            g = _f(g0[j])
            role = "below" if names[j + 1] == model else "above"
            coupling_rows.append({"lower": names[j], "upper": names[j + 1], "role": role, "d1": float(d1[j]),
                                  "d2": float(d2[j]), "gamma": g, "ci": list(_ci_or_none(draws[:, j], cfg.ci))
                                  if draws.size else [None, None], "phase": cfg.phase_of(g),
                                  "status": "ok" if g is not None else "small_step",
                                  "note": "" if g is not None else f"|ΔSWE| <= {cfg.min_delta:g}: skipped",
                                  "_draws": draws[:, j] if draws.size else np.array([])})
        prim = next((r for r in coupling_rows if r["role"] == "below" and r["gamma"] is not None), None) or \
            next((r for r in coupling_rows if r["gamma"] is not None), None)
        if prim is not None:
            probs = _phase_probabilities(prim["_draws"], cfg)
            phase = {"label": prim["phase"], "gamma": prim["gamma"], "gamma_ci": prim["ci"],
                     "interval": f"{prim['lower']} → {prim['upper']}", "confidence": probs.get(prim["phase"]),
                     "probabilities": probs, "n_boot": cfg.n_boot, "thresholds": [cfg.phase_lower, cfg.phase_upper],
                     "method": "lab neighbours ordered by SWE; share of score-noise draws giving this phase"}
        for r in coupling_rows:
            r.pop("_draws", None)
    else:
        notes.append(f"lab {lab} has no other model in the panel: no local coupling (give --lab to compare with a "
                     "lab's releases)")
    if phase is None:
        rb = b["r"][np.isfinite(b["r"])]
        label = cfg.phase_of(c.r)
        probs = {"tax": float(np.mean(rb < cfg.phase_lower)), "transition": float(np.mean(
            (rb >= cfg.phase_lower) & (rb <= cfg.phase_upper))), "bonus": float(np.mean(rb > cfg.phase_upper)),
                 "undetermined": 0.0}
        phase = {"label": label, "gamma": None, "gamma_ci": [None, None], "interval": "population (all labs)",
                 "confidence": probs[label], "probabilities": probs, "n_boot": int(rb.size),
                 "thresholds": [cfg.phase_lower, cfg.phase_upper],
                 "method": f"population coupling r = {c.r:+.3f} (no lab neighbours); share of bootstrap r"}
    residuals = [{"key": "population", "reference": f"frontier population line ({c.n} models)", "value": front["h"],
                  "unit": "GPQA points", "predicted": front["predicted"], "pi_half": front["pi_half"],
                  "reading": front["direction"] + ("; outside the prediction interval" if front["outside_pi"]
                                                   else "; inside the prediction interval")}]
    if front["lolo_predicted"] is not None:
        residuals.append({"key": "lolo", "reference": f"line fitted without lab {lab}",
                          "value": scores[GPQA] - front["lolo_predicted"], "unit": "GPQA points",
                          "predicted": front["lolo_predicted"], "pi_half": None,
                          "reading": "how far the other labs' trend misses this model"})
    d_eff = None
    ta = rep.three_axis
    if ta is not None:
        d_eff = {"phase": None, "d_eff": ta.d_eff_cov, "ci": [None, None], "n": len(ta.models),
                 "benchmarks": list(ta.benchmarks), "method": "covariance participation ratio of the three-axis "
                                                              "sub-panel",
                 "message": f"three-axis sub-panel ({ta.source}, {len(ta.models)} models): d_eff {ta.d_eff_cov:.3f} "
                            f"(covariance), det R {ta.det:.3f}" + ("" if IFEVAL in scores else
                                                                   "; give --score IFEval=... to add this model")}
    # saturation is judged on the fitted panel plus this model (as `cape frontier` does)
    keep = rep.panel["in_fit"] | (rep.panel.index == model)
    fpanel = rep.panel.loc[keep, [SWE, GPQA, "lab"]].copy()
    rules = (
        RuleOutcome("curation", "not applicable", "a frontier model has no family size ladder or data recipe"),
        RuleOutcome("width", "not applicable", "frontier models have no published width"),
        _rule_rotation(model, scores, fpanel, "frontier panel", cfg),
        _rule_checkpoints(phase, None, coupling_rows, cfg),
        _rule_rebalance(front, cfg),
    )
    return DoctorResult(model=model, kind="frontier", source=source, family=lab, params=None, d_model=None,
                        scores=dict(scores), axes=(SWE, GPQA), coupling=tuple(coupling_rows), phase=phase,
                        critical=None, residuals=tuple(residuals), d_eff=d_eff, frontier=front, rules=rules,
                        recommendations=_recommendations(rules), notes=tuple(notes), config=cfg)


# ---------------------------------------------------------------------------------------------- entry point
def diagnose_model(model: str | None = None, *, family: str | None = None, params: float | None = None,
                   scores: Mapping[str, float] | Sequence[str] | None = None, d_model: float | None = None,
                   lab: str | None = None, name: str | None = None, table=None,
                   config: DoctorConfig = DoctorConfig()) -> DoctorResult:
    """Diagnose one model and recommend interventions.

    Args:
        model: a model name in ``table`` / the embedded cohort / the embedded frontier panel. Scores given in
            ``scores`` override the model's own (a what-if).
        family: family of a described model (a cohort family, or one in ``table``).
        params: its raw parameter count (e.g. ``1e9``).
        scores: benchmark -> percent (aliases allowed: ``HS``, ``TQA``, ``SWE``, ``GPQA``), or
            ``["HS=49.7", ...]``.
        d_model: residual width of a described model (for the width rule).
        lab: lab of a described frontier model.
        name: display name of a described model.
        table: a user :class:`~cape.scores.ScoreTable` searched before (and merged over) the embedded cohort.
        config: :class:`DoctorConfig`.

    Returns:
        :class:`DoctorResult`.

    Raises:
        NotFoundError: an unknown model (with close matches) or family.
        DataError: bad scores, a bad parameter count, or not enough to describe a model.

    Example:
        >>> d = diagnose_model(family="Pythia", params=1e9, scores={"HS": 49.7, "TQA": 38.9})  # doctest: +SKIP
        >>> d.phase["label"]                                                                     # doctest: +SKIP
        'tax'
    """
    from . import data
    from .frontier import GPQA, SWE, embedded_panel

    cfg = config
    sc = parse_scores(scores) if scores is not None else {}
    params = _check_params(params)
    notes: list[str] = []
    cohort = data.load_base()
    full = _merge_tables(cohort, table)
    src_base = "embedded cohort" if table is None else f"{table.name} + embedded cohort"
    if model is not None:
        base_names = full.models
        hit = _lookup_name(model, base_names)
        if hit is not None:
            mf = full.model_frame().loc[hit]
            own = full.wide(force=True).loc[hit]
            own_scores = {b: float(own[b]) for b in full.benchmarks if pd.notna(own.get(b))}
            if sc:
                notes.append("what-if: " + ", ".join(f"{b} {own_scores.get(b, float('nan')):.1f} -> {v:.1f}"
                                                     for b, v in sc.items()))
            own_scores.update(sc)
            fam = family or (str(mf["family"]) if pd.notna(mf["family"]) else None)
            if fam is None:
                raise DataError(f"model {hit!r} has no family; give --family")
            n = params if params is not None else (_f(mf["params"]))
            dm = d_model if d_model is not None else _arch_width(hit)
            if any(catalog.info(b).kind == "frontier" for b in own_scores) and cfg.b1 not in own_scores:
                return _diagnose_frontier_named(hit, own_scores, notes, cfg)
            return _diagnose_base(hit, fam, n, own_scores, dm, _s(mf.get("recipe")), src_base, full, full,
                                  described=False, cfg=cfg, notes=notes, sc_override=bool(sc))
        fpanel = embedded_panel()
        fhit = _lookup_name(model, list(fpanel.index))
        if fhit is not None:
            own = {SWE: float(fpanel.loc[fhit, SWE]), GPQA: float(fpanel.loc[fhit, GPQA])}
            if sc:
                raise DataError(f"{fhit!r} is in the frontier panel; describe a variant under another name with "
                                "--name and --score")
            return _diagnose_frontier(fhit, own, None, "embedded frontier panel", False, cfg, notes, fpanel)
        raise _unknown_model(model, list(base_names) + list(fpanel.index))
    # a described model
    if SWE in sc or GPQA in sc:
        miss = [b for b in (SWE, GPQA) if b not in sc]
        if miss:
            raise DataError(f"a frontier model needs both SWE-bench Verified and GPQA Diamond scores; missing "
                            f"{', '.join(miss)} (e.g. --score SWE=80 --score GPQA=85)")
        nm = name or "your model"
        return _diagnose_frontier(nm, sc, lab, "described (frontier scores)", True, cfg, notes)
    if family is None:
        raise DataError("describe a model with --family, --params and --score (e.g. --family Pythia --params 1e9 "
                        "--score HellaSwag=49.7 --score TruthfulQA=38.9), or give a model name")
    if not sc:
        raise DataError(f"--family {family}: give at least one --score BENCHMARK=VALUE (e.g. {cfg.b1} and {cfg.b2})")
    fam_table = full.filter(family=family)          # NotFoundError with close matches
    fam = fam_table.families[0]
    if params is None:
        raise DataError(f"--family {fam}: give --params (the raw parameter count, e.g. 1e9) to place the model "
                        "in its family")
    nm = name or f"{fam} ({params / 1e9:.3g}B, described)"
    recipe = fam_table.model_frame()["recipe"].dropna()
    return _diagnose_base(nm, fam, params, sc, d_model, str(recipe.iloc[0]) if len(recipe) else None,
                          "described (family, size, scores)", full, full, described=True, cfg=cfg, notes=notes)


def _diagnose_frontier_named(model, scores, notes, cfg):
    from .frontier import GPQA, SWE

    miss = [b for b in (SWE, GPQA) if b not in scores]
    if miss:
        raise DataError(f"model {model!r} has no {', '.join(miss)} score for a frontier diagnosis")
    return _diagnose_frontier(model, scores, None, "user data", True, cfg, notes)


def _s(v) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v)


def _arch_width(model: str) -> float | None:
    from . import data

    a = data.architectures()
    r = a.loc[a["model"] == model, "d_model"].dropna()
    return float(r.iloc[0]) if len(r) else None
