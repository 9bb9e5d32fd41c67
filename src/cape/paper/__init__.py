"""The paper's claims: the claim type, one module per topic, and the registry that collects them.

``cape claims`` prints :func:`all_claims`. This package reads the analyses; no analysis imports it.
"""

from __future__ import annotations

from .claim import VERDICTS, Claim, verdict_close, wilson_interval
from .registry import PROVIDERS, all_claims

__all__ = ["PROVIDERS", "VERDICTS", "Claim", "all_claims", "verdict_close", "wilson_interval"]
