"""One family's diagnosis inside :func:`cape.diagnose.diagnose`: its result type and how it is computed.

The score frame is read once into numpy columns (:class:`_FamilyColumns`) and each family's rows are taken by
position: per-family pandas slicing would cost more than the statistics of a small family, and a cohort of
thousands of families would spend most of its time there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._memory import check_memory
from .coupling import MIN_DELTA, FamilyCoupling, PopulationCoupling, coupling_from_arrays, population_r, size_order
from .critical import FamilyData, NcResult
from .errors import AnalysisError


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


def _check_memory(positions: dict, fams: Sequence[str], n_boot: int, workers: int = 1) -> None:
    """Refuse before starting when the largest family's bootstrap arrays (one set per worker thread) would
    not fit in memory."""
    if not fams or n_boot <= 0:
        return
    big = max(fams, key=lambda f: len(positions.get(f, ())))
    k = len(positions.get(big, ()))
    check_memory(n_boot * k * 8 * _FAMILY_ARRAYS * max(1, workers), f"the bootstraps of family {big!r} "
                 f"({n_boot} resamples x {k} models)", "the number of resamples (--n-boot)")


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
    status, main = _status(len(models), nc, b1, b2)
    width = None
    if len(models) >= 3 and with_width and cols.widths_known(models):
        width = _width(cols, kpos, fam, b1, b2, n_boot=n_boot, seed=seed)
    return FamilyDiagnosis(fam, status, main, models, params, coupling, r, nc, tuple(msgs), width)


def _status(k: int, nc: NcResult, b1: str, b2: str) -> tuple[str, str]:
    """A family's ``(status, main sentence)`` from its number of usable models and its N_c result."""
    if k < 3:
        return "insufficient", (f"{k} model(s) with both {b1} and {b2}: "
                                + ("one step of gamma, " if k == 2 else "no step of gamma, ")
                                + "no r CI and no N_c (needs at least 3)")
    return ("insufficient" if nc.status == "insufficient" else "ok"), nc.message


def _width(cols: _FamilyColumns, kpos: np.ndarray, fam: str, b1: str, b2: str, *, n_boot: int, seed: int | None):
    """The family's width-normalised r (:func:`cape.width.width_normalized_r`) when it covers every model."""
    from .width import width_normalized_r

    have = cols.frame.iloc[kpos]
    wr = width_normalized_r(have.reset_index().rename(columns={have.index.name or "index": "model"}),
                            (b1, b2), family=fam, n_null=n_boot, seed=seed)
    return wr if (wr.status == "ok" and wr.n == len(kpos)) else None
