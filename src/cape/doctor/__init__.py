"""The doctor: diagnose one model and recommend interventions, each with the rule that fired and its numbers.

Modules: :mod:`~cape.doctor.config` (thresholds, the rule texts), :mod:`~cape.doctor.results` (the result,
a rule's outcome, a recommendation), :mod:`~cape.doctor.parts` (the typed parts of a result: coupling step,
phase, critical scale, residual, d_eff and frontier context), :mod:`~cape.doctor.inputs` (reading scores and names), :mod:`~cape.doctor.evidence` (noise gammas,
trend fits, N_c, d_eff), :mod:`~cape.doctor.rules`, :mod:`~cape.doctor.base` and :mod:`~cape.doctor.frontier`
(the two paths) and :mod:`~cape.doctor.diagnose` (the entry point, :func:`diagnose_model`).
"""

from __future__ import annotations

from .config import PHASES, RULES, DoctorConfig
from .diagnose import diagnose_model
from .inputs import parse_scores
from .parts import CouplingStep, CriticalContext, DEffContext, FrontierContext, PhaseReading, Residual
from .results import DoctorResult, Recommendation, RuleOutcome

__all__ = ["PHASES", "RULES", "CouplingStep", "CriticalContext", "DEffContext", "DoctorConfig", "DoctorResult",
           "FrontierContext", "PhaseReading", "Recommendation", "Residual", "RuleOutcome", "diagnose_model",
           "parse_scores"]
