"""The claims as one result: :class:`ClaimsResult` (what ``cape claims`` prints), with ``to_dict()``,
``summary()`` and a selection by verdict or id.

Example:
    >>> from cape.paper import verify_claims
    >>> res = verify_claims()                       # doctest: +SKIP
    >>> print(res.select(verdict="differs"))        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._format import Line, TextSummary, TextTable, numbers_in
from ..errors import DataError
from .claim import VERDICTS, Claim

#: Colour of each verdict on a terminal.
VERDICT_STYLES = (("reproduces", "green"), ("differs", "yellow"), ("not computable", "dim"))


def check_verdict(verdict: str) -> str:
    """``verdict`` as one of :data:`~cape.paper.VERDICTS` (``not-computable`` and any case accepted).

    Raises:
        DataError: another value (naming ``--verdict`` and the choices).
    """
    v = verdict.replace("-", " ").strip().lower()
    if v not in VERDICTS:
        raise DataError(f"--verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    return v


def claim_json(c: Claim) -> dict:
    """One claim for ``--json``: the text values and, beside them, the numbers they contain (``paper``,
    ``computed``: the first number of each text, the headline; ``*_numbers``: all of them in order;
    sizes in raw parameters, percentages in percent; None where the text holds none)."""
    d: dict = {"id": c.id, "claim": c.claim, "verdict": c.verdict}
    for key, text in (("paper", c.paper_value), ("computed", c.computed_value)):
        nums = numbers_in(text)
        d[key] = nums[0] if nums else None
        d[f"{key}_numbers"] = nums
    d["sound_numbers"] = numbers_in(c.sound_value)
    d.update(paper_value=c.paper_value, computed_value=c.computed_value, sound_value=c.sound_value,
             reason=c.reason)
    return d


@dataclass(frozen=True)
class ClaimsResult(TextSummary):
    """The paper's claims checked against computation, in the order ``cape claims`` lists them.

    Attributes:
        claims: one :class:`~cape.paper.Claim` per published number.
    """

    claims: tuple[Claim, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many claims have each verdict (every verdict listed, zeros included)."""
        return {v: sum(c.verdict == v for c in self.claims) for v in VERDICTS}

    def select(self, verdict: str | None = None, ids: Sequence[str] | None = None) -> ClaimsResult:
        """The claims with this verdict (``differs``, ``not-computable``, ...) and among these ids (any case).

        Raises:
            DataError: an unknown verdict, or an id no claim has (naming the option and the choices).
        """
        rows = list(self.claims)
        if verdict is not None:
            v = check_verdict(verdict)
            rows = [c for c in rows if c.verdict == v]
        if ids:
            want = {i.lower() for i in ids}
            unknown = sorted(want - {c.id.lower() for c in rows})
            if unknown:
                raise DataError(f"--id {', '.join(unknown)}: no such claim; the ids run "
                                f"{', '.join(c.id for c in rows[:5])}, ... (cape claims lists them all)")
            rows = [c for c in rows if c.id.lower() in want]
        return ClaimsResult(tuple(rows))

    def to_dict(self) -> dict:
        """``{"claims": [...], "counts": {...}}``: each claim as :func:`claim_json` (what ``--json`` prints)."""
        return {"claims": [claim_json(c) for c in self.claims], "counts": self.counts}

    def summary_blocks(self) -> list[Line | TextTable]:
        """The table of claims (verdicts coloured on a terminal) and the count of each verdict."""
        cols = ("id", "verdict", "claim", "paper", "computed (paper's procedure)", "sound estimator", "reason")
        rows = tuple((c.id, c.verdict, c.claim, c.paper_value, c.computed_value or "—", c.sound_value or "—",
                      c.reason) for c in self.claims)
        return [TextTable("Paper claims vs computation (embedded data)", cols, rows, show_lines=True, fold=True,
                          styles=VERDICT_STYLES),
                Line(", ".join(f"{k}: {v}" for k, v in self.counts.items()))]



def verify_claims(*, internals: str | None = None, keep_instruct: bool = False) -> ClaimsResult:
    """Compute every claim (:func:`~cape.paper.all_claims`; shared diagnoses and fits computed once).

    Args:
        internals: a folder of per-head results (``cape sweep heads -o DIR``) for row M21.
        keep_instruct: keep instruct/chat/fine-tuned models in the base analyses.

    Returns:
        :class:`ClaimsResult`.
    """
    from .._runcache import compute_once
    from .registry import all_claims

    with compute_once():  # claims share their diagnoses, N_c, noise estimates and fits
        return ClaimsResult(tuple(all_claims(internals=internals, keep_instruct=keep_instruct)))
