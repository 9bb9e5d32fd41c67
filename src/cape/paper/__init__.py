"""The paper's claims: the claim type, one module per topic, and the registry that collects them.

``cape claims`` prints :func:`verify_claims` (a :class:`ClaimsResult` of :func:`all_claims`). This package reads the analyses; no analysis imports it.
"""

from __future__ import annotations

from .claim import VERDICTS, Claim, verdict_close, wilson_interval
from .registry import PROVIDERS, all_claims
from .result import ClaimsResult, claim_json, verify_claims

__all__ = ["PROVIDERS", "VERDICTS", "Claim", "ClaimsResult", "all_claims", "claim_json", "verdict_close",
           "verify_claims", "wilson_interval"]
