"""The paper figure (``cape figure``): phase diagram + gamma(N) with N_c and its CI, drawn with matplotlib.

Writes PNG or PDF (by the file's extension) atomically. Panel (a) is the phase diagram (TruthfulQA against
HellaSwag, one trajectory per family, marker size by log N); panel (b) each family's local coupling gamma
against N with its N_c and confidence band, as computed by :func:`cape.diagnose.diagnose`.

Example:
    >>> from cape.report.static import build_figure
    >>> build_figure("fig.pdf")                 # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..scores import ScoreTable, write_atomic

FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


@dataclass(frozen=True)
class FigureResult:
    path: Path
    format: str
    panels: tuple[str, ...]
    bytes: int
    seconds: float
    width_in: float = 7.16
    families: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"path": str(self.path), "format": self.format, "panels": list(self.panels), "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "width_in": self.width_in, "families": list(self.families)}


def _phase_panel(ax, table: ScoreTable, b1: str, b2: str, colors: dict) -> None:
    from ..plots import hover_frame

    df = hover_frame(table, [b1, b2])
    logs = np.log10(df["params"].astype(float))
    lo, hi = float(np.nanmin(logs)), float(np.nanmax(logs))
    for fam, g in df.assign(_l=logs).groupby("family", sort=True):
        g = g.sort_values("params")
        sizes = 12 + 60 * ((g["_l"].fillna(lo) - lo) / max(hi - lo, 1e-9))
        ax.plot(g[b1], g[b2], "-", color=colors[fam], lw=0.8, alpha=0.85, zorder=1)
        ax.scatter(g[b1], g[b2], s=sizes * 0.6, color=colors[fam], edgecolor="white", linewidth=0.5, zorder=2,
                   label=str(fam))
    ax.set_xlabel(f"{b1} (%)")
    ax.set_ylabel(f"{b2} (%)")
    ax.set_title("(a) phase diagram (marker size: log N)", loc="left", fontsize=8.5)
    ax.grid(alpha=0.25, lw=0.4)


#: Column widths in inches: one column and the full text width of a two-column paper (IEEE / ACM templates).
WIDTHS = {"single": 3.5, "double": 7.16}
_PHASE_FILL = {"tax": "#d62728", "transition": "#bcbd22", "bonus": "#2ca02c"}


def _phase_bands(ax, lower: float, upper: float, top: float, bottom: float) -> None:
    """Shade and label the three phases of gamma: tax below ``lower``, transition between, bonus above."""
    import matplotlib.transforms as mtransforms

    ax.axhspan(bottom, lower, color=_PHASE_FILL["tax"], alpha=0.07, lw=0, zorder=0)
    ax.axhspan(lower, upper, color=_PHASE_FILL["transition"], alpha=0.16, lw=0, zorder=0)
    ax.axhspan(upper, top, color=_PHASE_FILL["bonus"], alpha=0.07, lw=0, zorder=0)
    tr = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    for name, y, va in (("tax", bottom, "bottom"), ("transition", upper, "bottom"), ("bonus", top, "top")):
        ax.text(0.995 if name == "tax" else 0.005, y, name, ha="right" if name == "tax" else "left", transform=tr, va=va, fontsize=6.5, color=_PHASE_FILL[name],
                fontweight="bold", zorder=5)


def _gamma_panel(ax, res, table, colors: dict, families) -> None:
    """gamma(N) per family with delta-method error bars, phase bands, and each family's N_c with its interval."""
    from ..coupling import phase_scheme
    from ..gamma_error import gamma_errors

    g = gamma_errors(res, table)
    g = g[g["gamma"].notna() & g["family"].isin(families)]
    clip = 3.0
    for fam, d in g.groupby("family", sort=True):
        d = d.sort_values("N_mid")
        y = d["gamma"].astype(float).clip(-clip, clip)
        err = d["gamma_se"].astype(float).fillna(0.0)
        ax.errorbar(d["N_mid"], y, yerr=err, fmt="o-", color=colors.get(fam, "#555"), ms=3, lw=0.9,
                    elinewidth=0.7, capsize=1.5, alpha=0.95, label=str(fam), zorder=3)
    sch = phase_scheme(res.scheme if res.scheme != "custom" else "nature")
    reach = (g["gamma"].astype(float).abs() + g["gamma_se"].astype(float).fillna(0.0)).to_numpy(float)
    clip = float(min(clip, max(1.0, np.nanmax(reach) * 1.05 if len(reach) else 1.0)))
    ax.set_ylim(-clip * 1.05, clip * 1.25)
    _phase_bands(ax, sch.lower, sch.upper, clip * 1.25, -clip * 1.05)
    ax.axhline(0, color="black", lw=0.6, zorder=1)
    ax.set_xscale("log")
    # N_c intervals: one horizontal line per family whose interval says something (an estimate, or a bounded side),
    # stacked near the top; a diamond marks the estimate, an arrow an open end
    xs = g["N_mid"].to_numpy(float)
    x0, x1 = (float(np.nanmin(xs)) / 2, float(np.nanmax(xs)) * 2) if len(xs) else (1e8, 1e11)
    shown = [f for f in res.families if f.family in families and f.nc is not None
             and f.nc.status not in ("insufficient",) and (f.nc.estimate is not None or f.nc.ci_low is not None
                                                          or f.nc.ci_high is not None)]
    for i, f in enumerate(shown[:6]):
        nc, col = f.nc, colors.get(f.family, "#555")
        lo = nc.ci_low if nc.ci_low is not None else x0
        hi = nc.ci_high if nc.ci_high is not None else x1
        yy = clip * (1.1 - 0.16 * i)
        ax.plot([lo, hi], [yy, yy], color=col, lw=1.6, solid_capstyle="butt", zorder=4)
        if nc.ci_high is None:
            ax.plot([hi], [yy], marker=">", ms=4, color=col, zorder=5)
        if nc.ci_low is None:
            ax.plot([lo], [yy], marker="<", ms=4, color=col, zorder=5)
        if nc.estimate is not None:
            ax.plot([nc.estimate], [yy], marker="D", ms=4, color=col, mec="white", mew=0.5, zorder=5)
            txt = f"{f.family} $N_c$ {_params(nc.estimate)}"
        else:
            txt = (f"{f.family} $N_c$ > {_params(nc.ci_low)}" if nc.ci_low is not None
                   else f"{f.family} $N_c$ < {_params(nc.ci_high)}")
        ax.text(lo, yy + clip * 0.04, txt, fontsize=6, color=col, ha="left", va="bottom", zorder=5)
    pn = res.pooled_nc
    if pn is not None and pn.estimate is not None:
        ax.axvline(pn.estimate, color="#333", ls="--", lw=0.8, zorder=2)
        lo = pn.ci_low if pn.ci_low is not None else x0
        hi = pn.ci_high if pn.ci_high is not None else x1
        ax.axvspan(lo, hi, color="#777", alpha=0.10, lw=0, zorder=0)
        ax.text(pn.estimate, -clip * 1.0, f" pooled $N_c$ {_params(pn.estimate)}", fontsize=6.5, va="bottom",
                ha="left", color="#333", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_xlabel("parameters N")
    ax.set_ylabel(r"local coupling $\gamma$ (± 1 SE)")
    ax.set_title(r"(b) $\gamma(N)$, family $N_c$ with CI", loc="left", fontsize=8.5)
    ax.grid(alpha=0.25, lw=0.4)


def _params(v) -> str:
    from .._format import fmt_params

    return fmt_params(v)


def _width_in(width) -> float:
    """Figure width in inches from ``single``, ``double`` or a number of inches."""
    if isinstance(width, str) and width.lower() in WIDTHS:
        return WIDTHS[width.lower()]
    try:
        w = float(width)
    except (TypeError, ValueError):
        raise DataError(f"--width must be single, double or a width in inches, not {width!r}") from None
    if not 1.0 <= w <= 30.0:
        raise DataError(f"--width {w:g}: give a width between 1 and 30 inches")
    return w


def _select_families(table: ScoreTable, families) -> tuple[ScoreTable, list[str]]:
    """``table`` narrowed to ``families`` (matched case-insensitively; all when None) and their names.

    Raises:
        NotFoundError: a family the table does not hold (the sentence names ``--family``).
    """
    if not families:
        return table, list(table.families)
    want = {f.lower(): f for f in table.families}
    unknown = [f for f in families if f.lower() not in want]
    if unknown:
        from ..errors import NotFoundError

        raise NotFoundError(f"--family {unknown[0]}: not a family of the scores (families: "
                            f"{', '.join(sorted(table.families))})")
    fams = [want[f.lower()] for f in families]
    return (table.filter(family=fams) if len(fams) > 1 else table.filter(family=fams[0])), fams


def build_figure(out_path, table: ScoreTable | None = None, *, b1: str = "HellaSwag", b2: str = "TruthfulQA",
                 seed: int = 0, dpi: int = 300, width="double", families=None,
                 n_boot: int = 2000) -> FigureResult:
    """Draw the main figure and write it atomically as PNG, PDF or SVG (chosen by the extension).

    PDF and SVG keep their text as text: TrueType fonts embedded in a PDF (fonttype 42, accepted by IEEE and ACM
    checkers), real text in an SVG.

    Args:
        out_path: output file, ``.png``, ``.pdf`` or ``.svg``.
        table: scores (default the embedded base cohort).
        b1, b2: the benchmark pair.
        seed: bootstrap seed of the diagnosis behind panel (b).
        dpi: raster resolution (PNG).
        width: ``single`` (3.5 in, one column: the panels stacked), ``double`` (7.16 in, full text width: side
            by side) or a width in inches.
        families: draw only these families (default all).
        n_boot: bootstrap resamples of the diagnosis.

    Returns:
        :class:`FigureResult`.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from .. import catalog
    from ..plots import family_colors

    t0 = time.perf_counter()
    out_path = Path(out_path)
    fmt = FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise DataError(f"{out_path}: the figure's file name must end in .png, .pdf or .svg")
    w_in = _width_in(width)
    if table is None:
        from .. import data

        table = data.load_base()
    b1, b2 = catalog.canonical(b1), catalog.canonical(b2)
    colors = family_colors(table.families)
    table, fams = _select_families(table, families)
    panels = ["phase diagram"]
    res = None
    try:
        from ..diagnose import diagnose

        res = diagnose(table, b1=b1, b2=b2, seed=seed, n_boot=n_boot)
        panels.append("gamma(N)")
    except ImportError:
        pass
    stacked = w_in < 5.0
    rc = {"font.size": 7, "axes.spines.top": False, "axes.spines.right": False, "pdf.fonttype": 42,
          "ps.fonttype": 42, "svg.fonttype": "none", "axes.labelsize": 7, "xtick.labelsize": 6.5,
          "ytick.labelsize": 6.5}
    with plt.rc_context(rc):
        n = len(panels)
        shape = (n, 1) if stacked else (1, n)
        h_in = (w_in * 0.78 * n) if stacked else w_in * 0.40
        fig, axes = plt.subplots(*shape, figsize=(w_in, h_in + 0.45), squeeze=False)
        axes = axes.ravel()
        _phase_panel(axes[0], table, b1, b2, colors)
        if res is not None:
            _gamma_panel(axes[1], res, table, colors, fams)
        handles, labels = axes[0].get_legend_handles_labels()
        ncol = min(len(labels), 4 if stacked else 8)
        fig.legend(handles, labels, loc="lower center", ncol=max(ncol, 1), fontsize=6, frameon=False,
                   markerscale=0.7, handletextpad=0.3, columnspacing=0.9, borderaxespad=0.2)
        rows = math.ceil(len(labels) / max(ncol, 1))
        fig.tight_layout(rect=(0, min(0.04 + 0.035 * rows * (0.6 if stacked else 1.0) * (3.0 / h_in), 0.4), 1, 1))
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Creator": "CAPE"} if fmt != "png" else None)
        plt.close(fig)
    data_bytes = buf.getvalue()
    write_atomic(out_path, data_bytes)
    return FigureResult(path=out_path, format=fmt, panels=tuple(panels), bytes=len(data_bytes),
                        seconds=time.perf_counter() - t0, width_in=w_in, families=tuple(fams))
