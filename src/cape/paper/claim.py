"""The claim type: one published number checked against computation, with a verdict.

Example:
    >>> verdict_close(-0.9886, -0.989, 0.0005)
    'reproduces'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

VERDICTS = ("reproduces", "differs", "not computable")

@dataclass(frozen=True)
class Claim:
    """One published number checked against computation.

    Attributes:
        id: stable identifier (as listed in docs/paper.md, e.g. ``"M1"``).
        claim: the claim in words.
        paper_value: the value as published (text).
        computed_value: the value computed with the paper's own procedure on the embedded data (text), or None.
        sound_value: the value from CAPE's default (sound) estimator, or None where it is the same procedure.
        verdict: ``reproduces``, ``differs`` or ``not computable``.
        reason: one line saying why.
    """

    id: str
    claim: str
    paper_value: str
    computed_value: str | None
    verdict: str
    reason: str
    sound_value: str | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict must be one of {VERDICTS}, not {self.verdict!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def verdict_close(computed: float, published: float, tol: float) -> str:
    """``reproduces`` when ``|computed - published| <= tol`` (the published precision), else ``differs``."""
    return "reproduces" if abs(computed - published) <= tol else "differs"


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a proportion ``k/n`` (docs/methods.md, "Claims and verdicts").

    Example:
        >>> lo, hi = wilson_interval(38, 40)
        >>> round(lo, 3), round(hi, 3)
        (0.835, 0.986)
    """
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    den = 1 + z * z / n
    mid = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ((mid - half) / den, (mid + half) / den)
