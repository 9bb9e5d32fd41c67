"""Every frontier analysis over one panel in one call (:func:`frontier_report`)."""

from __future__ import annotations


import pandas as pd

from .. import data
from .._runcache import once_per_run
from ..errors import AnalysisError
from .analyses import (h_field, lab_statistics, leave_one_lab_out, mark_fit, population_coupling, saturation,
                       subset_couplings, three_axis_panel)
from .config import FrontierConfig, GPQA, IFEVAL, SWE
from .panel import add_models, embedded_panel
from .results import FrontierReport


def default_three_axis_source(panel: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Rows for the three-axis sub-panel: the paper's ``nc3`` fixture plus any added model with IFEval."""
    base = data.fixture("nc3").set_index("model")[[SWE, GPQA, IFEVAL]]
    src = "fixture nc3"
    if IFEVAL in panel.columns:
        extra = panel[(panel["subset"] == "added") & panel[IFEVAL].notna()][[SWE, GPQA, IFEVAL]]
        extra = extra[~extra.index.isin(base.index)]
        if len(extra):
            base = pd.concat([base, extra])
            src += f" + {len(extra)} added"
    return base, src


@once_per_run
def frontier_report(panel: pd.DataFrame | None = None, config: FrontierConfig = FrontierConfig(), *,
                    added=None, three_axis: pd.DataFrame | None | bool = True) -> FrontierReport:
    """Every frontier diagnostic on one panel.

    Args:
        panel: a panel (:func:`panel_from_wide` layout); default the embedded panel.
        config: :class:`FrontierConfig`.
        added: models to add (ScoreTable or wide frame with model, lab and both axes), subset ``added``.
        three_axis: ``True`` for the default sub-panel (nc3 fixture + added models with IFEval), a wide frame
            of rows to use, or ``False``/``None`` to skip it.

    Returns:
        :class:`FrontierReport`.
    """
    if panel is None:
        panel = embedded_panel(x=config.x, y=config.y)
    if added is not None:
        panel = add_models(panel, added, x=config.x, y=config.y, name=getattr(added, "name", None) or "added scores")
    panel = mark_fit(panel, config)
    notes = []
    shown_only = panel.index[~panel["in_fit"]]
    if len(shown_only):
        notes.append(f"{len(shown_only)} shown but not fitted ({', '.join(shown_only)})")
    coup = population_coupling(panel, config)
    hf = h_field(panel, coup, config)
    labs = lab_statistics(panel, hf, config)
    lolo = leave_one_lab_out(panel, config)
    sat = saturation(panel, config=config)
    ta = None
    if three_axis is not None and three_axis is not False:
        try:
            if three_axis is True:
                rows, src = default_three_axis_source(panel)
            else:
                rows, src = three_axis, "given rows"
            ta = three_axis_panel(rows, source=src)
        except AnalysisError as e:
            notes.append(f"three-axis sub-panel skipped: {e}")
    return FrontierReport(config=config, panel=panel, coupling=coup, subsets=subset_couplings(panel, config),
                          h_field=hf, labs=labs, lolo=lolo, saturation=sat, three_axis=ta, notes=tuple(notes))
