"""The paper's headline claims: published value, value computed with the paper's own procedure, value from
the sound estimator, and a verdict.

One module per topic defines ``paper_claims() -> list[Claim]`` (:data:`PROVIDERS`, in the order the table
lists them); :func:`all_claims` collects them, then the ledger of arithmetic checks and not-computable items.
Every ``computed_value`` is computed at run time from the embedded data; published values are the paper's text,
kept only to compare against. The analyses never import this package.

Example:
    >>> from cape.paper import all_claims
    >>> rows = all_claims()              # doctest: +SKIP
    >>> {c.verdict for c in rows} <= {"reproduces", "differs", "not computable"}   # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import coupling, critical, dynamics, eigen, frontier, levers, loss, width
from .claim import Claim
from .ledger import ledger_claims

#: The topic modules' claim functions, in the order the table lists them.
PROVIDERS: tuple[Callable[[], list[Claim]], ...] = (
    coupling.paper_claims, critical.paper_claims, width.paper_claims, eigen.paper_claims, loss.paper_claims,
    dynamics.paper_claims, frontier.paper_claims, levers.paper_claims)


def all_claims(providers: Sequence[Callable[[], list[Claim]]] = PROVIDERS, *, ledger: bool = True,
               internals: str | None = None, keep_instruct: bool = False) -> list[Claim]:
    """Collect the claims of every provider (a topic module's ``paper_claims``), then the ledger of
    arithmetic checks and not-computable items (:func:`~cape.paper.ledger.ledger_claims`) for ids no provider
    covers.
    A claim id appears once: the first provider to define it wins. ``internals``: a folder of per-head
    results (``cape sweep heads -o DIR``) from which row M21 is computed instead of checked as arithmetic.
    ``keep_instruct``: keep instruct/chat/fine-tuned models in the base analyses (left out by default)."""
    from . import claim as _claim

    _claim._KEEP_INSTRUCT[0] = bool(keep_instruct)
    try:
        return _collect(providers, ledger=ledger, internals=internals)
    finally:
        _claim._KEEP_INSTRUCT[0] = False


def _collect(providers, *, ledger: bool, internals: str | None) -> list[Claim]:
    out: list[Claim] = []
    seen: set[str] = set()
    if internals is not None:
        from ..sweep.claim import m21_claim  # noqa: PLC0415 - only with a results folder

        out.append(m21_claim(internals))
        seen.add("M21")
    for provider in providers:
        for c in provider():
            if c.id not in seen:
                seen.add(c.id)
                out.append(c)
    if ledger:
        for c in ledger_claims():
            if c.id not in seen:
                seen.add(c.id)
                out.append(c)
    return out
