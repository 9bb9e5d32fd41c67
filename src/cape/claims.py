"""The paper's headline claims: published value, value computed with the paper's own procedure, value from
the sound estimator, and a verdict.

Each analysis module contributes its claims through a function ``paper_claims() -> list[Claim]``; this module
collects them (the modules named in :data:`PROVIDERS`). Every ``computed_value`` is computed at run time from
the embedded data; published values are the paper's text, kept only to compare against.

Example:
    >>> from cape.claims import all_claims
    >>> rows = all_claims()              # doctest: +SKIP
    >>> {c.verdict for c in rows} <= {"reproduces", "differs", "not computable"}   # doctest: +SKIP
    True
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass

VERDICTS = ("reproduces", "differs", "not computable")

#: Modules that define ``paper_claims()``, in the order the table lists them.
PROVIDERS = ("cape.coupling", "cape.critical", "cape.width", "cape.eigen", "cape.loss", "cape.dynamics",
             "cape.frontier")


@dataclass(frozen=True)
class Claim:
    """One published number checked against computation.

    Attributes:
        id: stable identifier (METHODS-SPEC item, e.g. ``"M1"``).
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


def all_claims(providers: tuple[str, ...] = PROVIDERS) -> list[Claim]:
    """Collect the claims of every provider module that exists and defines ``paper_claims()``."""
    out: list[Claim] = []
    for name in providers:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        fn = getattr(mod, "paper_claims", None)
        if fn is not None:
            out.extend(fn())
    return out
