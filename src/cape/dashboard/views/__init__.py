"""The dashboard's views, one module each, each with a ``render()`` function.

A view lists the library modules it calls in ``requires``; it is shown only when all of them import, so a
view never appears with invented numbers while its analysis is missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewSpec:
    key: str
    title: str
    module: str
    requires: tuple[str, ...] = ()
    caption: str = ""


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("overview", "Overview", "cape.dashboard.views.overview", (),
             "phase diagram and each family's coupling against scale"),
    ViewSpec("diagnose", "Diagnose", "cape.dashboard.views.diagnose", ("cape.doctor", "cape.ingest"),
             "one model's phase, position relative to N_c and what to change"),
    ViewSpec("families", "Families", "cape.dashboard.views.families", ("cape.diagnose",),
             "the N_c table and per-family details"),
    ViewSpec("eigen", "Eigenstructure", "cape.dashboard.views.eigen", ("cape.eigen",),
             "effective dimension per phase, loadings, spectra"),
    ViewSpec("dynamics", "Dynamics", "cape.dashboard.views.dynamics", ("cape.dynamics",),
             "discovered equations, held-out prediction, predictions at a chosen scale"),
    ViewSpec("frontier", "Frontier", "cape.dashboard.views.frontier", ("cape.frontier",),
             "SWE-bench vs GPQA, h-field per model and lab, rotation diagnostic"),
    ViewSpec("internals", "Internals", "cape.dashboard.views.internals", ("cape.internals.results",),
             "per-head, per-layer and steering result files"),
    ViewSpec("levers", "Levers", "cape.dashboard.views.levers", ("cape.levers",),
             "what moves coupling at matched scale: each lever's effect, CI, p and equivalent scale"),
    ViewSpec("claims", "Claims", "cape.dashboard.views.claims", ("cape.paper",),
             "the paper's numbers against the computed ones"),
)


def _present(name: str) -> bool:
    """Whether a module is installed, without importing it (so listing the views stays fast; the view imports
    its library modules when it is shown)."""
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def available() -> list[ViewSpec]:
    """The views whose own module and required library modules are installed."""
    return [v for v in VIEWS if all(_present(m) for m in (*v.requires, v.module))]


def by_key(key: str) -> ViewSpec | None:
    return next((v for v in VIEWS if v.key == key), None)
