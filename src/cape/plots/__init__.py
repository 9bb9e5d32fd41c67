"""Figures and tables shared by the dashboard and the static HTML report, one module per view (no statistics
inside: every builder draws a result object).

Every builder takes a :class:`~cape.scores.ScoreTable` or a library result object and returns a
``plotly.graph_objects.Figure``; none computes a statistic itself. Hover labels show model, family, parameter
count, source and shots. Colours are stable per family (:func:`family_colors`), so a family has the same colour
in every figure.

Example:
    >>> from cape import data
    >>> from cape.plots import phase_diagram
    >>> fig = phase_diagram(data.load_base())
    >>> len(fig.data) > 1
    True
"""

from __future__ import annotations

from .base import (EXTRA_PALETTE, HEIGHT, PALETTE, PHASE_COLORS, UPLOAD_SYMBOL, apply_layout, family_colors, figure_html, figure_png,
                   hover_frame, hover_template, legend_below, legend_rows, phase_diagram, plotly_config, shorten)
from .frontier import (frontier_scatter, h_field_figure, lab_h_figure, lab_trajectory_figure, matrix_heatmap,
                       saturation_figure)
from .claims import CLAIM_GROUPS, VERDICT_COLORS, claims_figure
from .doctor import (add_nc_band, doctor_gamma_figure, highlight_point, is_finite, phase_probability_figure,
                     residuals_figure)
from .coupling import GAMMA_CLIP, gamma_figure, gamma_frame, nc_forest_figure, nc_frame, nc_short
from .eigen import PHASE_ORDER, deff_figure, loadings_figure, spectrum_figure
from .dynamics import (BENCH_COLORS, holdout_errors_figure, holdout_prediction_figure, ode_terms_figure,
                       scale_prediction_figure)
from .internals import (bottleneck_figure, drep_figure, heads_heatmap, layer_profiles_figure, model_label,
                        steering_mc_figure, steering_sweep_figure)
from .tables import nc_table

__all__ = [
    "BENCH_COLORS", "CLAIM_GROUPS", "EXTRA_PALETTE", "GAMMA_CLIP", "HEIGHT", "PALETTE", "PHASE_COLORS", "PHASE_ORDER",
    "UPLOAD_SYMBOL", "VERDICT_COLORS", "add_nc_band", "apply_layout", "bottleneck_figure", "claims_figure",
    "deff_figure", "doctor_gamma_figure", "drep_figure", "family_colors", "figure_html", "figure_png",
    "frontier_scatter", "gamma_figure", "gamma_frame", "h_field_figure", "heads_heatmap", "highlight_point",
    "holdout_errors_figure", "holdout_prediction_figure", "hover_frame", "hover_template", "is_finite",
    "lab_h_figure", "lab_trajectory_figure", "layer_profiles_figure", "legend_below", "legend_rows", "loadings_figure",
    "matrix_heatmap", "model_label", "nc_forest_figure", "nc_frame", "nc_short", "nc_table", "ode_terms_figure",
    "phase_diagram", "phase_probability_figure", "plotly_config", "residuals_figure", "saturation_figure",
    "scale_prediction_figure", "shorten", "spectrum_figure", "steering_mc_figure", "steering_sweep_figure"
]
