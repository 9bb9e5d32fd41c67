"""The text of a coupling diagnosis: the cells of ``cape diagnose``'s table and :meth:`DiagnosisResult.summary`.

One home for the wording, so the command line and a notebook print the same text (the command line adds
colour). Only the standard library and the formatting helpers: the functions read result objects' attributes.
"""

from __future__ import annotations

from ._format import Line, TextTable, fmt_number, fmt_params, render_text
from .catalog import info

#: families shown in detail by default when a cohort has more than this many
DEFAULT_TOP = 20

#: Column names and justification of the compact table (the r column's name depends on the pair).
COMPACT_COLUMNS = (("family", "left"), ("n", "right"), ("sizes", "left"), ("r [CI]", "right"),
                   ("phase path", "left"), ("N_c [CI]", "right"), ("status", "left"))


def ci_text(nc) -> str:
    """``[4.15B, ∞)``-style CI of an N_c result (``0`` / ``∞`` for an unbounded end, ``—`` when absent)."""
    lo = "0" if nc.ci_low_unbounded else (fmt_params(nc.ci_low) if nc.ci_low is not None else "—")
    hi = "∞)" if nc.ci_high_unbounded else ((fmt_params(nc.ci_high) if nc.ci_high is not None else "—") + "]")
    return f"[{lo}, {hi}"


def nc_text(nc) -> str:
    """``3.49B [2.92B, 13.4B]``-style estimate and CI; ``—`` when there is none."""
    if nc is None or nc.status == "insufficient":
        return "—"
    lo = "0" if nc.ci_low_unbounded else fmt_params(nc.ci_low)
    hi = "∞" if nc.ci_high_unbounded else fmt_params(nc.ci_high)
    est = fmt_params(nc.estimate) if nc.estimate is not None else ("none" if nc.status == "none" else "—")
    return f"{est} [{lo}, {hi}]"


def nc_compact(nc) -> str:
    """The N_c cell: estimate and CI, or only the CI when there is no estimate."""
    if nc is None or nc.status == "insufficient":
        return "—"
    return nc_text(nc) if nc.estimate is not None else ci_text(nc)


def nc_line_parts(nc) -> tuple[str, str]:
    """``(headline, rest)`` of an N_c result in one line: ``("3.49B", " (observed; 95% CI [...])")``."""
    ci = f"{int(round(100 * nc.level))}% CI {ci_text(nc)}"
    if nc.estimate is None:
        return nc.status, f" ({ci})"
    return fmt_params(nc.estimate), f" ({nc.status}; {ci})"


def sizes_text(f) -> str:
    """The size range of a family's usable models."""
    if not f.size_range:
        return "no usable models"
    lo, hi = f.size_range
    return fmt_params(lo) if lo == hi else f"{fmt_params(lo)}–{fmt_params(hi)}"


def r_text(f) -> str:
    """``-0.99 [-1.00, -0.94]``: a family's population r with its CI."""
    r = f.r
    if r is None or r.r is None:
        return "—"
    return f"{r.r:+.2f} [{fmt_number(r.ci_low, 2)}, {fmt_number(r.ci_high, 2)}]"


def phase_runs(f) -> list[tuple[str, int]]:
    """A family's phase path with repeats counted: ``[("tax", 4), ("bonus", 1)]``."""
    path = f.phase_path() if f.coupling else None
    runs: list[list] = []
    for p in path or ():
        if runs and runs[-1][0] == p:
            runs[-1][1] += 1
        else:
            runs.append([p, 1])
    return [(p, n) for p, n in runs]


def path_text(f) -> str:
    """``tax×4 → bonus``; ``—`` without a path."""
    runs = phase_runs(f)
    return " → ".join(p + (f"×{n}" if n > 1 else "") for p, n in runs) if runs else "—"


def status_of(f) -> str:
    """A family's N_c status (``insufficient`` without an estimate)."""
    return f.nc.status if f.nc else "insufficient"


def shown_families(families, top: int | None):
    """(families shown in detail, one line about the rest or None). A cohort of more than :data:`DEFAULT_TOP`
    families (or with ``top``) shows the families with enough models to estimate r (3 or more), most models
    first, and counts the rest in one line."""
    fams = list(families)
    if top is None and len(fams) <= DEFAULT_TOP:
        return fams, None
    n = top if top is not None else DEFAULT_TOP
    enough = sorted((f for f in fams if f.n_models >= 3), key=lambda f: (-f.n_models, f.family))
    shown = enough[:n]
    rest = len(fams) - len(shown)
    if rest == 0:
        return shown, None
    few = sum(1 for f in fams if f.n_models < 3)
    more = len(enough) - len(shown)
    parts = []
    if more:
        parts.append(f"{more} more with 3 or more models (--top {len(enough)} shows them)")
    if few:
        parts.append(f"{few} with fewer than 3 models (too few for r)")
    return shown, (f"{rest} more famil{'y' if rest == 1 else 'ies'} not shown: {'; '.join(parts)}; --family NAME "
                   "shows one, --json lists every family")


def thresholds(res) -> tuple[str, str]:
    """The phase thresholds of a diagnosis as ``("-0.1", "+0.1")``."""
    from .coupling import phase_scheme  # noqa: PLC0415 - lazy: keeps `cape --help` free of numpy

    sch = phase_scheme(res.scheme if res.scheme != "custom" else "nature")
    return f"{sch.lower:+g}", f"{sch.upper:+g}"


def compact_blocks(res, top: int | None = None) -> list[Line | TextTable]:
    """The default view of ``cape diagnose``: one row per family, then the pooled N_c in one line."""
    s1, s2 = info(res.b1).short, info(res.b2).short
    lvl = int(round(100 * res.level))
    cols = tuple(f"r({s1},{s2}) [CI]" if c == "r [CI]" else c for c, _ in COMPACT_COLUMNS)
    shown, rest_line = shown_families(res.families, top)
    rows = tuple((f.family, str(f.n_models), sizes_text(f), r_text(f), path_text(f), nc_compact(f.nc), status_of(f))
                 for f in shown)
    out: list[Line | TextTable] = [TextTable(
        f"{res.b1} vs {res.b2} ({res.source}; {lvl}% CIs, {res.n_boot} resamples, seed {res.seed})", cols, rows,
        right=tuple(c for c, (_, j) in zip(cols, COMPACT_COLUMNS) if j == "right"))]
    if rest_line:
        out.append(Line(rest_line, dim=True))
    p = res.pooled
    parts = []
    if p.offsets is not None:
        parts.append("shared U with family offsets " + "".join(nc_line_parts(p.offsets)))
    if p.paper is not None:
        parts.append("paper's procedure " + "".join(nc_line_parts(p.paper)))
    if parts:
        out.append(Line("Pooled N_c: " + "; ".join(parts), bold=10))
    lo, hi = thresholds(res)
    out.append(Line(f"Phases: tax gamma < {lo}, bonus > {hi}. N_c status: observed (inside the sizes), "
                    "extrapolated, reversal, none (no flip the data can place) or insufficient. Per family gamma, "
                    "checks and notes: --details", dim=True))
    return out


def compact_text(res, top: int | None = None) -> str:
    """:func:`compact_blocks` as plain text."""
    return render_text(compact_blocks(res, top))
