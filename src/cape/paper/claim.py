"""The claim type: one published number checked against computation, with a verdict.

Example:
    >>> verdict_close(-0.9886, -0.989, 0.0005)
    'reproduces'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

VERDICTS = ("reproduces", "differs", "not computable")

#: Whether the claims' base analyses keep instruct/chat/fine-tuned models (``all_claims(keep_instruct=...)``).
_KEEP_INSTRUCT = [False]


def base_cohort():
    """The embedded base cohort as the claims use it: without instruct/chat/fine-tuned models unless
    ``all_claims(keep_instruct=True)`` asked for them."""
    from ..data import load_base

    return load_base(include_instruct=_KEEP_INSTRUCT[0])

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
    """``reproduces`` when ``|computed - published| <= tol``, else ``differs``. Claims use
    :func:`verdict_published` (one tolerance rule for every row); this stays for other callers."""
    return "reproduces" if abs(computed - published) <= tol else "differs"


def published_tolerance(published: str) -> float:
    """Half a unit of the last printed digit of a published number: the one tolerance rule of every claim.

    Example:
        >>> published_tolerance("3.5"), published_tolerance("-0.989"), published_tolerance("84%")
        (0.05, 0.0005, 0.5)
    """
    t = published.strip().lstrip("+-").rstrip("%").strip()
    mant, _, exp = t.lower().partition("e")
    dec = len(mant.split(".")[1]) if "." in mant else 0
    return 0.5 * 10.0 ** (-dec + (int(exp) if exp else 0))


def matches_published(computed: float, published: str) -> bool:
    """Does ``computed`` round to the published number (``|computed - published| <= half a unit of its last
    digit``)? ``published`` is the number as printed in the paper (text, so its precision is known).

    Example:
        >>> matches_published(83.496, "84"), matches_published(-0.9886, "-0.989")
        (False, True)
    """
    value = float(published.strip().rstrip("%"))
    return bool(math.isfinite(computed) and abs(computed - value) <= published_tolerance(published) * (1 + 1e-9))


def verdict_published(computed: float, published: str) -> str:
    """``reproduces`` when :func:`matches_published`, else ``differs``."""
    return "reproduces" if matches_published(computed, published) else "differs"


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
