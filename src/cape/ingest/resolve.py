"""Cross-file resolution of the rows every reader produced, column by column: the latest of several timed runs
wins, repeated scores are dropped, each model gets one parameter count and one family, and the rows become a
:class:`~cape.scores.ScoreTable`.

Every step works on whole columns of a :class:`pandas.DataFrame` (from :meth:`cape.ingest.rows.Rows.frame`)
and does per-model work once per distinct model name; only the rows a message is about (a duplicate, a
conflict) are visited one by one, in reading order, so the report lists them exactly as a row-by-row pass
would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import fmt_ts, name_size
from .report import ReportBuilder

_KEY = ["model", "benchmark", "metric", "shots"]
#: a given size further than this factor from the size in the model's name is noted, both ways (a mixture of
#: experts is compared with its nominal total, experts x expert size): 38.9B for a "-70B" model (1.8x) is noted,
#: 9.1B for a "-13B" model (1.43x) is not
SIZE_MISMATCH = 1.5


def _lists(df: pd.DataFrame, idx, cols) -> dict[str, list]:
    """Python lists of ``cols`` at positions ``idx`` (for the few rows visited one by one); ``loc`` as text."""
    out = {k: df[k].to_numpy()[idx].tolist() for k in cols}
    if "loc" in out and "loc_fmt" in df.columns:
        fmts = df["loc_fmt"].to_numpy()[idx].tolist()
        lines = df["loc_line"].to_numpy()[idx].tolist()
        out["loc"] = [f.format(n) if loc is None and f is not None else loc
                      for loc, f, n in zip(out["loc"], fmts, lines)]
    return out


def latest_wins(df: pd.DataFrame, report: ReportBuilder) -> pd.DataFrame:
    """Among timed runs (finite ``ts``) scoring the same model, benchmark, metric and shots, keep the latest;
    the earlier ones are listed as dropped."""
    ts_all = df["ts"].to_numpy()
    timed = np.flatnonzero(~np.isnan(ts_all))
    if len(timed) < 2:
        return df
    c = _lists(df, timed, (*_KEY, "file", "loc", "ts"))
    ts = c["ts"]
    groups: dict[tuple, list[int]] = {}
    for j in range(len(timed)):
        groups.setdefault((c["model"][j], c["benchmark"][j], c["metric"][j], c["shots"][j]), []).append(j)
    drop: list[int] = []
    models = []
    for key, idx in groups.items():
        if len(idx) < 2:
            continue
        best = max(ts[i] for i in idx)
        winner = next(i for i in idx if ts[i] == best)
        for i in idx:
            if ts[i] < best:
                drop.append(int(timed[i]))
                where = c["file"][winner] if c["file"][winner] != c["file"][i] else c["loc"][winner]
                report.drop(c["file"][i], f"{key[0]} {key[1]} {key[2] or ''}".strip(),
                            f"an earlier run ({fmt_ts(ts[i])}); the latest run, {where} ({fmt_ts(best)}), "
                            "was kept")
        models.append(key[0])
    if not drop:
        return df
    ms = sorted(set(models))
    ex = ", ".join(ms[:3]) + (" ..." if len(ms) > 3 else "")
    report.note(f"several runs scored the same model and benchmark: kept the latest run for {len(ms)} "
                f"model(s) ({ex}); {len(drop)} earlier score(s) listed as dropped")
    return _without(df, drop)


def _without(df: pd.DataFrame, drop) -> pd.DataFrame:
    keep = np.ones(len(df), dtype=bool)
    keep[np.asarray(drop, dtype=np.int64)] = False
    return df[keep].reset_index(drop=True)


def _key_codes(df: pd.DataFrame) -> np.ndarray:
    """One integer per row for its (model, benchmark, metric, shots), equal keys equal codes."""
    code = np.zeros(len(df), dtype=np.int64)
    for k in _KEY:
        c, u = pd.factorize(df[k], use_na_sentinel=False)
        code = pd.factorize(code * (len(u) + 1) + c)[0]
    return code


def dedupe(df: pd.DataFrame, report: ReportBuilder) -> pd.DataFrame:
    """Keep the first row of each model, benchmark, metric and shots; a later equal score is dropped, a later
    different one is a fault (dropped and listed; refused under ``strict``)."""
    if len(df) < 2:
        return df
    code = _key_codes(df)
    dup = pd.Series(code).duplicated(keep=False).to_numpy()
    if not dup.any():
        return df
    rows = np.flatnonzero(dup)
    c = _lists(df, rows, (*_KEY, "score", "file", "loc"))
    first: dict[int, int] = {}
    drop = []
    for j, key_code in enumerate(code[rows].tolist()):
        f = first.get(key_code)
        if f is None:
            first[key_code] = j
            continue
        key = (c["model"][j], c["benchmark"][j], c["metric"][j], c["shots"][j])
        a, b = c["score"][f], c["score"][j]
        where_j = f"{c['file'][f]}, {c['loc'][f]}"
        where_i = f"{c['file'][j]}, {c['loc'][j]}" if c["file"][j] != c["file"][f] else c["loc"][j]
        drop.append(int(rows[j]))
        if abs(a - b) > 1e-9:
            what = key[1] + (f" {key[2]}" if key[2] else "")
            report.fault(c["file"][j], f"{c['loc'][j]} ({key[0]}, {key[1]})",
                         f"a second, different {what} score for this model ({b:g}; {a:g} at {where_j} kept: the "
                         "first row wins)",
                         f"model {key[0]!r} has two different {what} scores: {a:g} ({where_j}) and {b:g} "
                         f"({where_i}); keep one row per model and benchmark")
            continue
        report.drop(c["file"][j], f"{c['loc'][j]} ({key[0]}, {key[1]})", f"the same score again ({where_j} kept)")
    return _without(df, drop) if drop else df


def override(model: str, overrides) -> str | None:
    """The family an override (model name or prefix, case-insensitive) gives ``model``, or ``None``."""
    low = model.lower()
    for k, fam in overrides.items():
        kl = str(k).lower()
        if low == kl or low.startswith(kl):
            return str(fam)
    return None


def _short_loc(loc: str) -> str:
    return loc.split(", column")[0]


def _param_conflict(m: str, c: dict, idx: list[int], p: float, report: ReportBuilder) -> None:
    """Report a model whose rows give different parameter counts (``idx``: its rows with one, in order)."""
    par = c["params"]
    lo = min((par[i], i) for i in idx)
    hi = max((par[i], i) for i in idx)
    if hi[0] > lo[0] * 1.1:
        la, lb = (_short_loc(c["loc"][k]) for k in (lo[1], hi[1]))
        report.fault(c["file"][hi[1]], f"{m} parameter count",
                     f"conflicting parameter counts {lo[0]:.4g} ({c['file'][lo[1]]}, {la}) and {hi[0]:.4g} "
                     f"({lb}); kept {p:.4g}, the first read",
                     f"model {m!r} has conflicting parameter counts: {lo[0]:.4g} ({c['file'][lo[1]]}, "
                     f"{la}) and {hi[0]:.4g} ({c['file'][hi[1]]}, {lb})")
    elif hi[0] != lo[0]:
        report.note(f"model {m!r}: parameter counts differ slightly between files ({lo[0]:.4g} vs "
                    f"{hi[0]:.4g}); the first read was kept")


def _family_conflict(m: str, c: dict, idx: list[int], report: ReportBuilder) -> None:
    """Report a model whose rows give different families (``idx``: its rows with one, in order)."""
    fam = c["family"]
    (f1, i1) = (fam[idx[0]], idx[0])
    i2 = next(i for i in idx if fam[i] != f1)
    f2 = fam[i2]
    la, lb = (_short_loc(c["loc"][k]) for k in (i1, i2))
    report.fault(c["file"][i2], f"{m} family",
                 f"conflicting families {f1!r} ({c['file'][i1]}, {la}) and {f2!r} ({lb}); kept "
                 f"{f1!r}, the first read",
                 f"model {m!r} has conflicting families: {f1!r} ({c['file'][i1]}, {la}) and "
                 f"{f2!r} ({c['file'][i2]}, {lb})")


def reconcile_models(df: pd.DataFrame, report: ReportBuilder, overrides, params_from_names: bool) -> None:
    """One parameter count and one family per model (in place): the first given count (sizes from names for
    models without one), and the override, else the first family column value, else the name's family.
    Conflicts are reported; per-model work runs once per distinct model name."""
    codes, uniq = pd.factorize(df["model"], use_na_sentinel=False)
    models = [str(m) for m in uniq]
    n_m = len(models)
    par = df["params"].to_numpy(dtype=float)
    gpar = pd.Series(par).groupby(codes, sort=True)
    p_first = gpar.first().reindex(range(n_m)).to_numpy()
    p_lo = gpar.min().reindex(range(n_m)).to_numpy()
    p_hi = gpar.max().reindex(range(n_m)).to_numpy()
    fam_raw = df["family"].to_numpy(dtype=object)
    fam_ok = fam_raw.astype(bool)  # truthiness, element by element
    f_first, f_n = _first_and_count(codes, n_m, fam_raw, fam_ok)
    first_row = np.unique(codes, return_index=True)[1]  # codes number the models 0, 1, ... in reading order
    native = df["native"].to_numpy(dtype=bool)[first_row]
    has_p = ~np.isnan(p_first)
    p_flag = has_p & (p_hi != p_lo)
    f_flag = f_n > 1
    _report_conflicts(df, codes, models, p_flag, f_flag, fam_ok, p_first, overrides, report)
    p_out, fam_out, named, mismatch, sizes = _per_model(models, has_p, p_first, native, f_first, overrides,
                                                        params_from_names, _derived_with_base(df, codes, n_m))
    df["params"] = p_out[codes]
    df["family"] = pd.Series(fam_out[codes], index=df.index, dtype=object)  # None stays None (no NaN)
    _size_notes(named, mismatch, sizes, report)
    if overrides:
        used = sum(1 for m in models if override(m, overrides) is not None)
        report.note(f"family overrides applied to {used} model(s)")


def _first_and_count(codes: np.ndarray, n_m: int, values: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per model (``codes``): the first of its ``values`` where ``ok``, and how many distinct ones it has."""
    first = np.full(n_m, None, dtype=object)
    count = np.zeros(n_m, dtype=np.int64)
    rows = np.flatnonzero(ok)
    if not len(rows):
        return first, count
    mc = codes[rows]
    m_u, at = np.unique(mc, return_index=True)
    first[m_u] = values[rows[at]]
    vcodes, vals = pd.factorize(pd.Series(values[rows], dtype=object))
    pairs = np.unique(mc.astype(np.int64) * len(vals) + vcodes)
    count[:] = np.bincount(pairs // len(vals), minlength=n_m)
    return first, count


def _report_conflicts(df, codes, models, p_flag, f_flag, fam_ok, p_first, overrides, report) -> None:
    """Report, model by model in reading order, conflicting sizes and families (only flagged models visited)."""
    flagged = np.flatnonzero(p_flag | f_flag)
    if not len(flagged):
        return
    sel = np.flatnonzero(np.isin(codes, flagged))
    c = _lists(df, sel, ("params", "family", "file", "loc"))
    c["family"] = [f if ok else None for f, ok in zip(c["family"], fam_ok[sel].tolist())]
    by: dict[int, list[int]] = {}
    for j, k in enumerate(codes[sel].tolist()):
        by.setdefault(k, []).append(j)
    for k in flagged.tolist():
        idx = by[k]
        if p_flag[k]:
            _param_conflict(models[k], c, [i for i in idx if c["params"][i] == c["params"][i]],
                            float(p_first[k]), report)
        if f_flag[k] and override(models[k], overrides or {}) is None:
            _family_conflict(models[k], c, [i for i in idx if c["family"][i]], report)


def _derived_with_base(df: pd.DataFrame, codes: np.ndarray, n_m: int) -> np.ndarray:
    """Per model: a fine-tune, chat model or merge whose file names another model as its base (its family
    then comes from the base model, see :func:`cape.ingest.identity.resolve_lineage`)."""
    from .identity import _DERIVED

    out = np.zeros(n_m, dtype=bool)
    base = df["base_model"].to_numpy(dtype=object)
    rows = np.flatnonzero(base.astype(bool))
    if len(rows):
        model = df["model"].to_numpy(dtype=object)
        mtype = df["model_type"].to_numpy(dtype=object)
        hit = [mtype[i] in _DERIVED and str(base[i]).lower() != str(model[i]).lower() for i in rows.tolist()]
        out[codes[rows[np.asarray(hit, dtype=bool)]]] = True
    return out


def _per_model(models, has_p, p_first, native, f_first, overrides, params_from_names: bool, lineage):
    """Size and family of each distinct model: ``(sizes, families, models sized from the name, size
    mismatches, name sizes)``; a derived model with a base model (``lineage``) and no family given gets
    none here (its base model's family, later)."""
    from ..families import infer_family

    p_out = p_first.copy()
    fam_out = np.empty(len(models), dtype=object)
    named: list[str] = []
    mismatch: list[tuple[str, float, float]] = []
    sizes: dict[str, object] = {}
    for k, m in enumerate(models):
        if has_p[k]:
            ns = sizes[m] = name_size(m)
            guess = None if ns is None else ns.total
            p = p_first[k]
            if guess is not None and (p > SIZE_MISMATCH * guess or guess > SIZE_MISMATCH * p):
                mismatch.append((m, p, guess))
        elif params_from_names and not native[k]:
            ns = sizes[m] = name_size(m)
            if ns is not None and ns.total >= 1e5:
                p_out[k] = ns.total
                named.append(m)
        fam = override(m, overrides) if overrides else None
        if fam is None:
            fam = f_first[k] if f_first[k] is not None else None if lineage[k] else infer_family(m)
        fam_out[k] = fam
    return p_out, fam_out, named, mismatch, sizes


def _size_notes(named: list[str], mismatch: list, sizes: dict, report: ReportBuilder) -> None:
    if named:
        ex = ", ".join(f"{m} -> {sizes[m].total:.3g}" for m in named[:3])
        report.note(f"{len(named)} model(s) without a parameter count got the nominal size in their name ({ex}"
                    f"{' ...' if len(named) > 3 else ''}); give exact counts if they matter")
        moe = [(m, sizes[m]) for m in named if sizes[m].is_moe]
        if moe:
            ex = ", ".join(f"{m}: {ns.experts} x {ns.expert:.3g} = {ns.total:.3g} total" for m, ns in moe[:3])
            report.note(f"{len(moe)} mixture-of-experts model(s) sized from the name as experts x expert size ({ex}"
                        f"{' ...' if len(moe) > 3 else ''}); the true total is lower (shared layers) and fewer "
                        "parameters are active per token")
    if mismatch:
        ex = ", ".join(f"{m}: {p:.3g} given, name says {g:.3g}" for m, p, g in mismatch[:3])
        report.note(f"{len(mismatch)} model(s) have a given size more than {SIZE_MISMATCH:g}x away from the size in "
                    "their name "
                    f"({ex}{' ...' if len(mismatch) > 3 else ''}); the given size was kept, check it")


def to_table(df: pd.DataFrame, name: str):
    """The :class:`~cape.scores.ScoreTable` (scores in percent) of the resolved rows, which it empties."""
    from ..scores import COLUMNS, ScoreTable

    data = {k: df.pop(k) for k in COLUMNS}
    for k in list(df.columns):  # the rows are handed over: nothing of them is held twice
        del df[k]
    return ScoreTable(pd.DataFrame(data), units="percent", name=name, infer_family=False, copy=False)


def variants(table) -> list[dict]:
    """One dict per benchmark x metric x shots of ``table`` with its number of models, in the table's
    benchmark order."""
    df = table.long
    g = df.groupby(["benchmark", "metric", "shots"], dropna=False)["model"].nunique().reset_index()
    out = []
    order = {b: i for i, b in enumerate(table.benchmarks)}
    for r in g.itertuples(index=False):
        shots = None if pd.isna(r.shots) else int(r.shots)
        out.append({"benchmark": r.benchmark, "metric": r.metric, "shots": shots, "models": int(r.model)})
    out.sort(key=lambda v: (order.get(v["benchmark"], 99), v["metric"], -1 if v["shots"] is None else v["shots"]))
    return out


__all__ = ["latest_wins", "dedupe", "reconcile_models", "to_table", "variants", "override", "SIZE_MISMATCH"]
