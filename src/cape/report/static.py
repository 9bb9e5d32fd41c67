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

    def to_dict(self) -> dict:
        return {"path": str(self.path), "format": self.format, "panels": list(self.panels), "bytes": self.bytes,
                "seconds": round(self.seconds, 3)}


def _phase_panel(ax, table: ScoreTable, b1: str, b2: str, colors: dict) -> None:
    from ..plots import hover_frame

    df = hover_frame(table, [b1, b2])
    logs = np.log10(df["params"].astype(float))
    lo, hi = float(np.nanmin(logs)), float(np.nanmax(logs))
    for fam, g in df.assign(_l=logs).groupby("family", sort=True):
        g = g.sort_values("params")
        sizes = 12 + 60 * ((g["_l"].fillna(lo) - lo) / max(hi - lo, 1e-9))
        ax.plot(g[b1], g[b2], "-", color=colors[fam], lw=1.0, alpha=0.85, zorder=1)
        ax.scatter(g[b1], g[b2], s=sizes, color=colors[fam], edgecolor="white", linewidth=0.5, zorder=2,
                   label=str(fam))
    ax.set_xlabel(f"{b1} (%)")
    ax.set_ylabel(f"{b2} (%)")
    ax.set_title("(a) phase diagram", loc="left", fontsize=10)
    ax.grid(alpha=0.25, lw=0.5)


def _gamma_panel(ax, res, colors: dict) -> None:
    from ..plots import gamma_frame, nc_frame

    g = gamma_frame(res)
    for fam, d in g.groupby("family", sort=True):
        d = d.sort_values("N_mid")
        ax.plot(d["N_mid"], d["gamma"], "o-", color=colors.get(fam, "#555"), ms=3.5, lw=1.0, label=str(fam))
    nc = nc_frame(res)
    pooled = getattr(res, "pooled_nc", None)
    if pooled is not None and np.isfinite(getattr(pooled, "estimate", np.nan)):
        lo, hi = getattr(pooled, "ci_low", np.nan), getattr(pooled, "ci_high", np.nan)
        if np.isfinite(lo) and np.isfinite(hi):
            ax.axvspan(lo, hi, color="#999", alpha=0.18, lw=0)
        ax.axvline(pooled.estimate, color="#333", ls="--", lw=1.0)
        ax.text(pooled.estimate, 0.97, r" pooled $N_c$ " + pooled.summary().replace("(observed)", "").strip(),
                transform=ax.get_xaxis_transform(), va="top", fontsize=7)
    for _, r in nc.iterrows():
        if np.isfinite(r.get("N_c", np.nan)) and r.get("status") == "observed":
            ax.axvline(r["N_c"], color=colors.get(r["family"], "#555"), ls=":", lw=0.9)
    ax.axhspan(-0.1, 0.1, color="#bcbd22", alpha=0.12, lw=0)  # transition band |gamma| <= 0.1
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel(r"local coupling $\gamma_{12}$")
    ax.set_title(r"(b) $\gamma_{12}(N)$ and $N_c$", loc="left", fontsize=10)
    ax.grid(alpha=0.25, lw=0.5)


def build_figure(out_path, table: ScoreTable | None = None, *, b1: str = "HellaSwag", b2: str = "TruthfulQA",
                 seed: int = 0, dpi: int = 200, width_in: float = 10.0) -> FigureResult:
    """Draw the main figure and write it atomically as PNG, PDF or SVG (chosen by the extension).

    Args:
        out_path: output file, ``.png``, ``.pdf`` or ``.svg``.
        table: scores (default the embedded base cohort).
        b1, b2: the benchmark pair.
        seed: bootstrap seed of the diagnosis behind panel (b).
        dpi: raster resolution (PNG).
        width_in: figure width in inches.

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
    if table is None:
        from .. import data

        table = data.load_base()
    b1, b2 = catalog.canonical(b1), catalog.canonical(b2)
    colors = family_colors(table.families)
    panels = ["phase diagram"]
    res = None
    try:
        import cape.diagnose  # noqa: F401

        from ..diagnose import diagnose

        res = diagnose(table, b1=b1, b2=b2, seed=seed)
        panels.append("gamma(N)")
    except ImportError:
        pass
    plt.rcParams.update({"font.size": 8, "axes.spines.top": False, "axes.spines.right": False})
    fig, axes = plt.subplots(1, len(panels), figsize=(width_in, width_in * 0.42), squeeze=False)
    _phase_panel(axes[0, 0], table, b1, b2, colors)
    if res is not None:
        _gamma_panel(axes[0, 1], res, colors)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=7, frameon=False, markerscale=0.8)
    fig.tight_layout(rect=(0, 0, 0.86, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Creator": "CAPE"} if fmt != "png" else None)
    plt.close(fig)
    data_bytes = buf.getvalue()
    write_atomic(out_path, data_bytes)
    return FigureResult(path=out_path, format=fmt, panels=tuple(panels), bytes=len(data_bytes),
                        seconds=time.perf_counter() - t0)
