"""Eigenstructure of the model x benchmark score matrix: PCA, participation-ratio effective dimension,
per-phase spectra with bootstrap CIs (docs/methods.md, "Effective dimensionality").

The effective dimension is the participation ratio of the eigenvalues of the covariance (``use="cov"``,
the paper's Methods) or correlation (``use="corr"``, the dashboard's choice) matrix:

    d_eff = (sum_i lambda_i)^2 / sum_i lambda_i^2,      1 <= d_eff <= p

Tiny negative eigenvalues are clipped to 0. Models missing a benchmark are dropped (and counted). The
bootstrap resamples models with replacement *within each family* (family counts kept, as the Methods
describe), recomputes the matrix and its spectrum for every replicate at once (batched ``eigvalsh``), and
reports the 2.5/97.5 percentiles.

Per phase, each model takes the phase of the interval ending at it (``cape.coupling.local_coupling``); the
smallest model of each family has none and is left out; the matrix is never pooled across phases.

Example:
    >>> from cape import data
    >>> e = eigen_spectrum(data.fixture_table("pythia8"), use="corr", n_boot=0)
    >>> [round(v, 4) for v in e.eigenvalues[:2]], round(e.d_eff, 2)
    ([4.0954, 0.8271], 1.43)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ._runcache import once_per_run
from . import catalog
from ._format import finite_or_none as _f
from ._stats import participation_ratio, percentile_ci, stratified_indices
from ._validate import check_pair as resolve_pair
from ._validate import check_level, check_n_boot, check_nonnegative, check_seed
from .coupling import DEFAULT_PAIR, MIN_DELTA, local_coupling
from .errors import AnalysisError, DataError


def _matrices(X: np.ndarray, use: str) -> np.ndarray:
    """Covariance or correlation matrices of ``(..., n, p)`` data (ddof=1): ``(..., p, p)``."""
    Xc = X - X.mean(axis=-2, keepdims=True)
    n = X.shape[-2]
    C = np.einsum("...ni,...nj->...ij", Xc, Xc) / max(n - 1, 1)
    if use == "corr":
        d = np.sqrt(np.einsum("...ii->...i", C))
        with np.errstate(invalid="ignore", divide="ignore"):
            C = C / (d[..., :, None] * d[..., None, :])
    return C


@dataclass(frozen=True)
class EigenResult:
    """Spectrum of one score matrix.

    Attributes:
        benchmarks: column order; ``use``: ``cov`` or ``corr``; n_models, n_families: rows used.
        eigenvalues: descending; explained: their shares.
        loadings: ``loadings[k]`` is the k-th eigenvector (sign fixed so its components sum to >= 0).
        d_eff: participation ratio; d_eff_ci: bootstrap percentile CI (None without bootstrap).
        det: determinant of the matrix; min_eig: smallest eigenvalue (negative only for an incomplete,
            pairwise matrix, never here).
        dropped: models left out for missing scores.
        status: ``ok``, ``rank_deficient`` (fewer models than benchmarks), ``insufficient``.
    """

    benchmarks: tuple[str, ...]
    use: str
    n_models: int
    n_families: int
    eigenvalues: tuple[float, ...]
    explained: tuple[float, ...]
    loadings: tuple[tuple[float, ...], ...]
    d_eff: float | None
    d_eff_ci: tuple[float | None, float | None]
    det: float | None
    min_eig: float | None
    n_boot: int
    seed: int | None
    dropped: tuple[str, ...]
    status: str
    message: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["d_eff_ci"] = list(self.d_eff_ci)
        return d

    def loadings_frame(self):
        import pandas as pd

        return pd.DataFrame(self.loadings, index=[f"PC{i + 1}" for i in range(len(self.loadings))],
                            columns=list(self.benchmarks))


def _matrix_of(table, benchmarks: Sequence[str] | None):
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        wide = table.set_index("model") if "model" in table.columns else table
        bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else \
            [c for c in wide.columns if catalog.is_known(str(c))]
    else:
        bs = [catalog.canonical(b) for b in benchmarks] if benchmarks else \
            [b for b in catalog.BASE_FIVE if b in table.benchmarks] or list(table.benchmarks)
        wide = table.wide(bs)
    missing = [b for b in bs if b not in wide.columns]
    if missing:
        raise DataError(f"no {', '.join(missing)} scores in the table")
    full = wide.dropna(subset=bs)
    dropped = tuple(str(m) for m in wide.index.difference(full.index))
    fam = full["family"].astype(str).to_numpy() if "family" in full.columns else np.array(["all"] * len(full))
    return bs, full, full[bs].to_numpy(float), fam, dropped


def spectrum_of(X: np.ndarray, fam: np.ndarray, bs: Sequence[str], *, use: str = "cov", n_boot: int = 1000,
                seed: int | None = 0, level: float = 0.95, stratify: str | None = "family",
                dropped: tuple[str, ...] = ()) -> EigenResult:
    """:class:`EigenResult` of a data matrix ``X`` (models x benchmarks) with family labels ``fam``."""
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed)
    level = check_level(level)
    if use not in ("cov", "corr"):
        raise DataError(f"use must be 'cov' or 'corr', not {use!r}")
    n, p = X.shape
    nf = int(len(np.unique(fam))) if n else 0
    base = dict(benchmarks=tuple(bs), use=use, n_models=int(n), n_families=nf, n_boot=n_boot, seed=seed,
                dropped=tuple(dropped))
    if n < 3:
        return EigenResult(**base, eigenvalues=(), explained=(), loadings=(), d_eff=None, d_eff_ci=(None, None),
                           det=None, min_eig=None, status="insufficient",
                           message=f"{n} model(s) with all of {', '.join(bs)}; a spectrum needs at least 3")
    C = _matrices(X, use)
    if not np.isfinite(C).all():
        const = [b for b, v in zip(bs, X.std(axis=0)) if v == 0]
        return EigenResult(**base, eigenvalues=(), explained=(), loadings=(), d_eff=None, d_eff_ci=(None, None),
                           det=None, min_eig=None, status="constant",
                           message=f"{', '.join(const)} constant across the models; correlation undefined")
    lam, vec = np.linalg.eigh(C)
    order = np.argsort(lam)[::-1]
    lam, vec = lam[order], vec[:, order]
    vec = vec * np.where(vec.sum(axis=0) < 0, -1.0, 1.0)
    tot = np.clip(lam, 0, None).sum()
    dq = float(participation_ratio(lam))
    ci = (None, None)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        strat = stratify == "family" and np.unique(fam).size < n  # some family has >= 2 models
        idx = stratified_indices(fam, n_boot, rng) if strat else rng.integers(0, n, size=(n_boot, n))
        Cb = _matrices(X[idx], use)
        good = np.isfinite(Cb).all(axis=(1, 2))
        lb = np.linalg.eigvalsh(np.where(good[:, None, None], Cb, np.eye(p)))
        db = participation_ratio(lb)[good]
        lo, hi = percentile_ci(db, level)
        ci = (_f(lo), _f(hi))
    status, msgs = "ok", []
    if n <= p:
        status = "rank_deficient"
        msgs.append(f"{n} models for {p} benchmarks: the matrix has rank <= {n - 1}")
    if n_boot > 0 and stratify == "family" and np.unique(fam).size == n:
        msgs.append("one model per family: models resampled without stratification")
    msg = "; ".join(msgs)
    return EigenResult(**base, eigenvalues=tuple(float(v) for v in lam),
                       explained=tuple(float(max(v, 0) / tot) if tot > 0 else 0.0 for v in lam),
                       loadings=tuple(tuple(float(x) for x in vec[:, k]) for k in range(p)), d_eff=_f(dq),
                       d_eff_ci=ci, det=_f(np.linalg.det(C)), min_eig=_f(lam.min()), status=status, message=msg)


@once_per_run
def eigen_spectrum(table, benchmarks: Sequence[str] | None = None, *, use: str = "cov", n_boot: int = 1000,
                   seed: int | None = 0, level: float = 0.95, stratify: str | None = "family",
                   models: Sequence[str] | None = None) -> EigenResult:
    """PCA of the benchmark matrix with the participation-ratio d_eff and its bootstrap CI.

    Args:
        table: ScoreTable (or wide frame).
        benchmarks: columns (default: the five cohort benchmarks present).
        use: ``"cov"`` (paper Methods) or ``"corr"``.
        n_boot: bootstrap replicates (0: no CI).
        stratify: ``"family"`` (resample within families) or None.
        models: restrict to these models.

    Returns:
        :class:`EigenResult`.
    """
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed)
    level = check_level(level)
    bs, full, X, fam, dropped = _matrix_of(table, benchmarks)
    if models is not None:
        keep = np.isin(full.index.astype(str), list(models))
        X, fam = X[keep], fam[keep]
    return spectrum_of(X, fam, bs, use=use, n_boot=n_boot, seed=seed, level=level, stratify=stratify,
                       dropped=dropped)


def model_phases(table, pair: Sequence[str] | str = DEFAULT_PAIR, *, min_delta: float = MIN_DELTA,
                 scheme="nature") -> dict[str, str | None]:
    """Phase of every model: the phase of the within-family interval ending at it (None for the smallest
    model of a family, a skipped step, or a family with one model)."""
    b1, b2 = resolve_pair(pair)
    out: dict[str, str | None] = {}
    from .coupling import score_frame

    frame = score_frame(table, (b1, b2))
    for fam in frame["family"].dropna().astype(str).unique():
        try:
            fc = local_coupling(frame, (b1, b2), family=fam, min_delta=min_delta, scheme=scheme)
        except AnalysisError:
            continue
        out.update(fc.model_phases)
    return out


@dataclass(frozen=True)
class PhaseSpectra:
    """d_eff per phase (tax / transition / bonus), each an :class:`EigenResult` (never pooled across phases)."""

    use: str
    phases: dict
    unassigned: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"use": self.use, "phases": {k: v.to_dict() for k, v in self.phases.items()},
                "unassigned": list(self.unassigned)}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{"phase": k, "n_models": v.n_models, "n_families": v.n_families, "d_eff": v.d_eff,
                              "ci_low": v.d_eff_ci[0], "ci_high": v.d_eff_ci[1], "status": v.status}
                             for k, v in self.phases.items()])


@once_per_run
def phase_spectra(table, benchmarks: Sequence[str] | None = None, *, phases: Mapping[str, str | None] | None = None,
                  pair: Sequence[str] | str = DEFAULT_PAIR, use: str = "cov", n_boot: int = 1000,
                  seed: int | None = 0, level: float = 0.95, min_delta: float = MIN_DELTA,
                  scheme="nature") -> PhaseSpectra:
    """Per-phase d_eff with family-stratified bootstrap CIs.

    Args:
        table: ScoreTable.
        phases: model -> phase; default :func:`model_phases` (interval ending at the model).
        use: ``"cov"`` or ``"corr"``.

    Example:
        >>> from cape import data
        >>> ps = phase_spectra(data.load_base(), n_boot=200)
        >>> sorted(ps.phases)
        ['bonus', 'tax', 'transition']
    """
    n_boot = check_n_boot(n_boot)
    seed = check_seed(seed)
    level = check_level(level)
    min_delta = check_nonnegative(min_delta, "min_delta")
    labels = dict(phases) if phases is not None else model_phases(table, pair, min_delta=min_delta, scheme=scheme)
    bs, full, X, fam, dropped = _matrix_of(table, benchmarks)
    names = full.index.astype(str).to_numpy()
    lab = np.array([labels.get(m) for m in names], dtype=object)
    out = {}
    for ph in ("tax", "transition", "bonus"):
        sel = lab == ph
        if not sel.any():
            continue
        out[ph] = spectrum_of(X[sel], fam[sel], bs, use=use, n_boot=n_boot, seed=seed, level=level,
                              dropped=dropped)
    unassigned = tuple(str(m) for m, l in zip(names, lab) if l is None)
    return PhaseSpectra(use, out, unassigned)


# ---------------------------------------------------------------------------------------------- claims
