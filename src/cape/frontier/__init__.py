"""Frontier diagnostics: population coupling of two frontier axes, the h-field, per-lab statistics,
leave-one-lab-out error, axis saturation (benchmark rotation) and the three-benchmark sub-panel.

The frontier panel is one row per model with its lab, release date, subset (``core``, ``extended``,
``post-cutoff`` or ``added``) and its scores on two axes, by default SWE-bench Verified (``x``, the older,
coding axis) and GPQA Diamond (``y``, the reasoning axis), both in percent. Which models enter the population
fit is a choice (:class:`FrontierConfig`): by default the paper's 34-model panel (``core`` + ``extended``);
post-cutoff models and models a user adds are *shown* in every table (their residual, their lab, their
leave-one-lab-out prediction, their rank) but do not move the fit unless asked.

Quantities (docs/methods.md, "Frontier regressions"):

* population coupling: Pearson r with its two-sided p, OLS ``y = slope * x + intercept`` with standard errors,
  t intervals and a pairs bootstrap (vectorised, seeded) for r, slope and intercept;
* h-field: ``h_i = y_i - (slope * x_i + intercept)`` in points of ``y``; positive = reasoning-rich relative to
  the population, negative = coding-rich; each with the 95% prediction-interval half-width of a new model at
  ``x_i`` so a residual can be read against the population scatter;
* per-lab statistics: models, mean h (all / core), spread, the lab's own OLS slope and r, the swing
  ``max h - min h``, and each lab's h trajectory over release dates (``dh`` between consecutive releases);
* leave-one-lab-out (LOLO): refit without a lab, predict its models, MAE in points of ``y``; summary mean and
  population SD (ddof = 0) over labs with at least ``lolo_min_models`` test models;
* saturation: top-k spread of the old axis over the top-k spread of the new axis (ranked by the old axis);
  ``rotate`` when the ratio is below ``rotate_below`` (0.2);
* three-benchmark sub-panel (SWE, GPQA, IFEval): correlation matrix, determinant, eigenvalues, covariance
  participation ratio ``d_eff``, and the IFEval-on-GPQA regression with its residual ``h3``.

``h_method="paper"`` rounds the fitted line to the published precision (slope to 3 decimals, intercept to 1),
which is how the paper's frozen ``0.513 * SWE + 46.4`` arises from the fit; the default uses the unrounded fit.

Example:
    >>> from cape.frontier import frontier_report
    >>> rep = frontier_report()                      # the embedded panel
    >>> round(rep.coupling.r, 4)                     # doctest: +SKIP
    0.7235
    >>> rep.h_field.to_frame().loc["Claude Opus 4.6", "h"]   # doctest: +SKIP
    3.45...
"""

from __future__ import annotations

from .config import FrontierConfig, GPQA, IFEVAL, SUBSETS, SWE
from .panel import add_models, embedded_panel, fixture_panel, panel_from_wide
from .regression import LINE_METHODS, LinearCoupling, bootstrap_line, linear_coupling
from .results import FrontierReport, HField, LabStatistics, LeaveOneLabOut, Saturation, SubsetCoupling, ThreeAxisPanel
from .analyses import (SUBSET_RULES, h_field, lab_statistics, leave_one_lab_out, mark_fit, population_coupling,
                       saturation, subset_couplings, three_axis_panel)
from .report import default_three_axis_source, frontier_report

__all__ = [
    "FrontierConfig", "FrontierReport", "GPQA", "HField", "IFEVAL", "LINE_METHODS", "LabStatistics",
    "LeaveOneLabOut", "LinearCoupling", "SUBSETS", "SUBSET_RULES", "SWE", "Saturation", "SubsetCoupling",
    "ThreeAxisPanel", "add_models", "bootstrap_line", "default_three_axis_source", "embedded_panel",
    "fixture_panel", "frontier_report", "h_field", "lab_statistics", "leave_one_lab_out", "linear_coupling",
    "mark_fit", "panel_from_wide", "population_coupling", "saturation", "subset_couplings", "three_axis_panel"
]
