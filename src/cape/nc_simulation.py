"""Simulation study of the N_c estimators: varied true curves, noise levels, stderr columns, overdispersion.

A simulated *cohort* is a handful of families sharing one noise regime (as families evaluated with one harness
do). Each family draws a true TruthfulQA curve in ``x = log10 N`` of one of these shapes (``depth``: how far the
curve dips below its lower end, in percentage points; the planted N_c is where gamma's sign changes from tax
to bonus):

``quadratic``   symmetric U, minimum at N_c;
``asymmetric``  U with arm curvatures differing up to 3-fold;
``hinge``       two straight arms meeting at N_c (slopes differing up to 3-fold);
``sigmoid``     the slope turns smoothly, ``f' ~ tanh((x - x_c) / w)`` (a rounded hinge);
``monotone``    no flip: a straight line, or a curve that flattens (exponential saturation), up or down;
``reversal``    an inverted U: bonus turning into tax at the planted point (not a tax-to-bonus flip).

HellaSwag rises logistically. Observed scores add Gaussian noise of ``noise_sd`` pp to TruthfulQA (and
0.45 pp to HellaSwag, its binomial error). The ``stderr`` regime says what the file states: ``none`` (no
column: the estimators assume binomial item noise), ``true`` (the true noise), ``under`` (overdispersion:
the stated errors are the true ones divided by 1.5).

Example:
    >>> import numpy as np
    >>> fam = simulate_shape(np.random.default_rng(0), "hinge", n_models=7, noise_sd=1.0, depth=4.0)
    >>> fam.kind, len(fam.frame)
    ('flip', 7)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

SHAPES = ("quadratic", "asymmetric", "hinge", "sigmoid", "monotone", "reversal")
FLIP_SHAPES = ("quadratic", "asymmetric", "hinge", "sigmoid")
HS_SD = 0.45


@dataclass(frozen=True)
class ShapeFamily:
    """One simulated family: observed ``frame``, planted ``nc`` (log10 N of the sign change; None without one),
    ``kind`` (``flip``, ``none``, ``reversal``), ``shape``, ``depth`` (pp) and ``noise_sd`` (pp)."""

    frame: object
    shape: str
    kind: str
    log10_nc: float | None
    depth: float
    noise_sd: float
    n_models: int
    truth: dict = field(default_factory=dict)


def _curve(rng: np.random.Generator, shape: str, x: np.ndarray, depth: float):
    """True TruthfulQA (pp) on ``x`` and the log10 N of its sign change (None for monotone)."""
    x0, x1 = float(x[0]), float(x[-1])
    span = x1 - x0
    xc = rng.uniform(x0 + 0.25 * span, x1 - 0.25 * span)
    near = min(xc - x0, x1 - xc)  # the shorter arm: its rise sets the depth
    base = rng.uniform(30.0, 45.0)
    if shape == "quadratic":
        return base + depth * ((x - xc) / near) ** 2, xc
    if shape in ("asymmetric", "hinge"):
        ratio = math.exp(rng.uniform(-math.log(3), math.log(3)))
        left, right = (1.0, ratio) if ratio >= 1 else (1.0 / ratio, 1.0)
        p = 2 if shape == "asymmetric" else 1
        # scale so that the shallower end rises exactly `depth` above the minimum
        rise_l, rise_r = left * (xc - x0) ** p, right * (x1 - xc) ** p
        k = depth / min(rise_l, rise_r)
        return base + k * np.where(x < xc, left * np.abs(x - xc) ** p, right * np.abs(x - xc) ** p), xc
    if shape == "sigmoid":
        w = rng.uniform(0.15, 0.4) * span
        f = w * np.log(np.cosh((x - xc) / w))
        lift = min(w * math.log(math.cosh((x0 - xc) / w)), w * math.log(math.cosh((x1 - xc) / w)))
        return base + depth * f / lift, xc
    if shape == "reversal":
        return base + 10.0 - depth * ((x - xc) / near) ** 2, xc
    if shape == "monotone":
        sign = 1.0 if rng.random() < 0.5 else -1.0
        u = (x - x0) / span
        if rng.random() < 0.5:
            prof = u
        else:  # saturating: most of the change early, flattening towards the largest models
            L = rng.uniform(0.2, 0.5)
            prof = (1 - np.exp(-u / L)) / (1 - math.exp(-1 / L))
        return base + sign * depth * prof, None
    raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")


def simulate_shape(rng: np.random.Generator, shape: str, *, n_models: int, noise_sd: float, depth: float,
                   stderr: str = "none", family: str = "Sim") -> ShapeFamily:
    """Draw one family of a given true shape (see the module docstring).

    Args:
        rng: random generator; shape: one of :data:`SHAPES`.
        n_models: sizes (spread over 1.8-2.8 decades, jittered).
        noise_sd: true TruthfulQA noise (pp); depth: how far the curve dips below its shallower end (pp).
        stderr: ``none``, ``true`` or ``under`` (stated errors = true / 1.5).
        family: the family's name.

    Returns:
        :class:`ShapeFamily`.
    """
    import pandas as pd

    x0 = rng.uniform(7.8, 8.6)
    width = rng.uniform(1.8, 2.8)
    base = np.linspace(x0, x0 + width, n_models)
    jit = rng.uniform(-0.3, 0.3, n_models) * width / (n_models - 1)
    jit[0] = jit[-1] = 0.0
    x = np.sort(base + jit)
    xh, w = rng.uniform(9.3, 10.6), rng.uniform(0.55, 0.9)
    hs = 25.0 + 65.0 / (1.0 + np.exp(-(x - xh) / w))
    tqa, xc = _curve(rng, shape, x, depth)
    kind = "flip" if shape in FLIP_SHAPES else ("reversal" if shape == "reversal" else "none")
    params = np.round(10 ** x, -5)
    frame = pd.DataFrame({"model": [f"{family}-{i + 1}" for i in range(n_models)], "family": family,
                          "params": params, "HellaSwag": hs + rng.normal(0, HS_SD, n_models),
                          "TruthfulQA": tqa + rng.normal(0, noise_sd, n_models)})
    if stderr in ("true", "under"):
        f = 1.0 if stderr == "true" else 1.5
        frame["se:HellaSwag"] = HS_SD / f
        frame["se:TruthfulQA"] = noise_sd / f
    elif stderr != "none":
        raise ValueError("stderr must be 'none', 'true' or 'under'")
    return ShapeFamily(frame, shape, kind, xc, float(depth), float(noise_sd), n_models,
                       {"log10_n": x.tolist(), "tqa": tqa.tolist(), "hs": hs.tolist()})


def simulate_cohort(rng: np.random.Generator, n_families: int, *, noise_sd: float, stderr: str = "none",
                    shapes: Sequence[str] = SHAPES, n_models: tuple[int, int] = (5, 9),
                    depth_ratio: tuple[float, float] = (1.0, 8.0)) -> list[ShapeFamily]:
    """``n_families`` families sharing one noise regime; shapes, sizes and depths (``depth_ratio`` x noise)
    drawn at random."""
    out = []
    for i in range(n_families):
        shape = shapes[int(rng.integers(0, len(shapes)))]
        k = int(rng.integers(n_models[0], n_models[1] + 1))
        depth = rng.uniform(*depth_ratio) * noise_sd
        out.append(simulate_shape(rng, shape, n_models=k, noise_sd=noise_sd, depth=depth, stderr=stderr,
                                  family=f"Sim{i + 1}"))
    return out


@dataclass(frozen=True)
class StudyRow:
    """One simulated family's outcome."""

    shape: str
    kind: str
    noise_sd: float
    stderr: str
    n_models: int
    depth_ratio: float
    status: str
    covered: bool | None
    ci_decades: float | None


@dataclass(frozen=True)
class StudySummary:
    """Figures of a simulation study (shares in [0, 1]).

    Attributes:
        method: estimator; n: families.
        coverage: among planted flips reported ``observed``/``extrapolated``, the share whose CI holds the
            planted N_c; coverage_all: the share of all planted flips whose confidence set (bounded or not)
            holds it.
        false_flip: per noise regime ``"<noise> pp/<stderr>"``, the share of monotone and reversal families
            reported as a tax-to-bonus flip; false_flip_max: the largest of them; false_flip_all: over all
            regimes together.
        detection: per ``(n_models >= 7, depth ratio bin)``, the share of planted flips reported.
        power_target: detection among families with >= 7 models and a U at least 3x deeper than the noise.
        median_ci_decades: median width of the reported CIs (log10 N).
    """

    method: str
    n: int
    coverage: float | None
    coverage_all: float | None
    false_flip: dict
    false_flip_max: float
    false_flip_all: float
    detection: dict
    power_target: float | None
    median_ci_decades: float | None
    rows: tuple[StudyRow, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("rows")
        return d


def _in_set(nc_log: float, res) -> bool:
    """Does the estimator's confidence set (bounded or not) hold log10 N_c?"""
    sets = (res.details or {}).get("confidence_set")
    if sets is not None:
        v = 10 ** nc_log
        return any((a is None or a <= v) and (b is None or v <= b) for a, b in sets)
    lo = 0.0 if (res.ci_low_unbounded or res.ci_low is None) else res.ci_low
    hi = math.inf if (res.ci_high_unbounded or res.ci_high is None) else res.ci_high
    return lo <= 10 ** nc_log <= hi


def run_study(n_cohorts: int = 40, *, cohort_size: int = 6, noise: Sequence[float] = (0.5, 1.0, 2.0, 3.0),
              stderr: Sequence[str] = ("none", "true", "under"), method: str = "fit", seed: int = 0,
              n_boot: int = 0, shapes: Sequence[str] = SHAPES, noise_from_data: bool = True,
              progress=None) -> StudySummary:
    """Run the study: for every noise level x stderr regime, ``n_cohorts`` cohorts of ``cohort_size`` families.

    Args:
        n_cohorts: cohorts per regime; cohort_size: families per cohort.
        noise: true TruthfulQA noise levels (pp); stderr: stated-error regimes.
        method: N_c estimator (:data:`cape.critical.ESTIMATORS`).
        seed: seed of everything; n_boot: replicates for bootstrap estimators.
        shapes: true shapes to draw from.
        noise_from_data: measure the extra noise on each cohort (:mod:`cape.noise`) before estimating.
        progress: optional callable ``progress(done, total)``.

    Returns:
        :class:`StudySummary`.
    """
    from .critical import ESTIMATORS

    rng = np.random.default_rng(seed)
    est = ESTIMATORS[method]()
    rows = []
    total, done = len(noise) * len(stderr) * n_cohorts, 0
    for sd in noise:
        for se_mode in stderr:
            for _ in range(n_cohorts):
                fams = simulate_cohort(rng, cohort_size, noise_sd=sd, stderr=se_mode, shapes=shapes)
                for f, fd in zip(fams, cohort_data(fams, noise_from_data=noise_from_data)):
                    r = est.estimate(fd, n_boot=n_boot, seed=int(rng.integers(0, 2**31)))
                    rows.append(_row(f, se_mode, r))
                done += 1
                if progress:
                    progress(done, total)
    return summarize(rows, method)


def cohort_data(fams: Sequence[ShapeFamily], *, noise_from_data: bool = True) -> list:
    """:class:`~cape.critical.FamilyData` of every family of a cohort, with the stated errors (binomial when
    the family states none) plus, when ``noise_from_data``, the extra noise measured on the whole cohort."""
    from . import catalog
    from .critical import FamilyData
    from .noise import noise_from_groups

    bench = ("HellaSwag", "TruthfulQA")
    arrays = []
    for f in fams:
        fr = f.frame
        sc = fr[list(bench)].to_numpy(float)
        se = np.empty_like(sc)
        for j, b in enumerate(bench):
            if f"se:{b}" in fr.columns:
                se[:, j] = fr[f"se:{b}"].to_numpy(float)
            else:
                p = np.clip(sc[:, j] / 100.0, 0.0, 1.0)
                se[:, j] = 100.0 * np.sqrt(p * (1 - p) / catalog.info(b).n_items)
        arrays.append((fr, fr["params"].to_numpy(float), sc, se))
    if noise_from_data:
        for j, b in enumerate(bench):
            est = noise_from_groups(b, [(np.log10(pr), sc[:, j], se[:, j]) for _, pr, sc, se in arrays])
            for _, _, _, se in arrays:
                se[:, j] = np.sqrt(se[:, j] ** 2 + est.extra_sd ** 2)
    return [FamilyData(str(fr["family"].iloc[0]), bench[0], bench[1], tuple(fr["model"].astype(str)), pr, sc, se,
                       {}) for fr, pr, sc, se in arrays]


def _row(f: ShapeFamily, se_mode: str, r) -> StudyRow:
    claimed = r.status in ("observed", "extrapolated")
    covered = None
    width = None
    if claimed and r.ci_low is not None and r.ci_high is not None:
        width = math.log10(r.ci_high) - math.log10(r.ci_low)
    if f.kind == "flip":
        covered = _in_set(f.log10_nc, r) if not claimed else (
            r.ci_low is not None and r.ci_high is not None and r.ci_low <= 10 ** f.log10_nc <= r.ci_high)
    return StudyRow(f.shape, f.kind, f.noise_sd, se_mode, f.n_models, f.depth / f.noise_sd, r.status, covered,
                    width)


def summarize(rows: Sequence[StudyRow], method: str = "fit") -> StudySummary:
    """Figures of :class:`StudySummary` from per-family rows."""
    flips = [r for r in rows if r.kind == "flip"]
    claimed = [r for r in flips if r.status in ("observed", "extrapolated")]
    cov = float(np.mean([r.covered for r in claimed])) if claimed else None
    cov_all = float(np.mean([bool(r.covered) for r in flips])) if flips else None
    ff: dict[str, float] = {}
    for r in rows:
        if r.kind != "flip":
            ff.setdefault(f"{r.noise_sd:g} pp/{r.stderr}", []).append(r.status in ("observed", "extrapolated"))
    ff_all = float(np.mean([x for v in ff.values() for x in v])) if ff else 0.0
    ff = {k: float(np.mean(v)) for k, v in ff.items()}
    det: dict[str, list] = {}
    for r in flips:
        key = f"{'>=7' if r.n_models >= 7 else '<7'} models, depth {_bin(r.depth_ratio)} x noise"
        det.setdefault(key, []).append(r.status in ("observed", "extrapolated"))
    target = [r.status in ("observed", "extrapolated") for r in flips if r.n_models >= 7 and r.depth_ratio >= 3]
    widths = [r.ci_decades for r in claimed if r.ci_decades is not None]
    return StudySummary(method, len(rows), cov, cov_all, ff, max(ff.values()) if ff else 0.0, ff_all,
                        {k: float(np.mean(v)) for k, v in sorted(det.items())},
                        float(np.mean(target)) if target else None,
                        float(np.median(widths)) if widths else None, tuple(rows))


def _bin(ratio: float) -> str:
    for lo, hi in ((1, 2), (2, 3), (3, 5), (5, 8)):
        if ratio < hi:
            return f"{lo}-{hi}"
    return ">=8"
