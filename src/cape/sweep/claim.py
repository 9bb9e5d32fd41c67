"""The paper's claim M21 ("38 of 40 models have zero competing heads") computed from a folder of heads results.

The published row checks only the arithmetic of 38/40; given a folder written by ``cape sweep heads`` (or
``cape heads -o``), :func:`m21_claim` counts the models itself: the significance-aware count (heads below the
competing threshold *and* the permutation null), with the threshold-only count and "100% cooperative" (the two
definitions the paper mixes) in the reason.

Example:
    >>> c = m21_claim("results/")        # doctest: +SKIP
    >>> c.computed_value                 # doctest: +SKIP
    '38/40 = 95% [83.5%, 98.6%]'
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["M21_MIN_MODELS", "m21_claim"]

PUBLISHED_SHARE = 0.95
#: Fewer models than this cannot test the claim (the Wilson interval would hold almost any share).
M21_MIN_MODELS = 30


def m21_claim(folder: str | Path, *, scores=None):
    """The claims row M21 from the heads results in ``folder``.

    Verdict: ``reproduces`` when at least :data:`M21_MIN_MODELS` models were measured and the published 95% lies
    inside the Wilson 95% interval of the measured share; ``differs`` when it lies outside; ``not computable``
    with fewer models.

    Returns:
        :class:`cape.paper.Claim`.
    """
    from cape.paper.claim import Claim
    from cape.sweep.summaries import summarize_heads

    s = summarize_heads(folder, scores=scores)
    p = s.overall
    raw = s.extra["zero competing heads (threshold only)"]
    coop = s.extra["100% cooperative heads"]
    reason = (f"computed from {p.n} per-head result files in {Path(folder).name}/ (significance-aware count; "
              f"threshold only: {raw.k}/{raw.n}; 100% cooperative: {coop.k}/{coop.n}"
              + (f"; {len(s.failures)} model(s) failed and are not counted" if s.failures else "") + ")")
    if p.n < M21_MIN_MODELS:
        verdict = "not computable"
        reason = f"only {p.n} models measured (at least {M21_MIN_MODELS} needed to test a share); " + reason
    else:
        verdict = "reproduces" if p.low <= PUBLISHED_SHARE <= p.high else "differs"
    return Claim("M21", "38 of 40 models have zero competing heads: 95%, Wilson 95% CI 84-99%", "95% [84%, 99%]",
                 p.text(), verdict, reason)
