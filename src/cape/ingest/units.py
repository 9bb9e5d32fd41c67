"""Score units of one file: percent or 0-1 fractions, decided once for the whole file and applied to every
cell (whole columns at a time), with the cells that contradict the decision dropped and listed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataError


@dataclass
class ScoreCells:
    """Parsed score cells of one file, before conversion to percent."""

    values: list[float] = field(default_factory=list)
    ses: list[float] = field(default_factory=list)
    pct: list[bool] = field(default_factory=list)
    bench: list[str] = field(default_factory=list)
    locs: list[str] = field(default_factory=list)

    def add(self, v: float, se: float, pct: bool, bench: str, loc: str) -> None:
        self.values.append(v)
        self.ses.append(se)
        self.pct.append(pct)
        self.bench.append(bench)
        self.locs.append(loc)


def to_percent(cells: ScoreCells, units: str, name: str, report=None) -> tuple[list[float], list[float], str]:
    """Convert one file's score cells to percent (see :func:`to_percent_arrays`); lists in, lists out."""
    scores, ses, how = to_percent_arrays(np.asarray(cells.values, dtype=float), np.asarray(cells.ses, dtype=float),
                                         np.asarray(cells.pct, dtype=bool), np.asarray(cells.bench, dtype=object),
                                         cells.locs.__getitem__, units, name, report)
    return scores.tolist(), ses.tolist(), how


def to_percent_arrays(values: np.ndarray, ses: np.ndarray, pct: np.ndarray, bench: Sequence[str] | np.ndarray,
                      loc_at: Callable[[int], str], units: str, name: str, report=None
                      ) -> tuple[np.ndarray, np.ndarray, str]:
    """Convert one file's score cells to percent.

    ``units="auto"``: a cell marked ``%`` is percent; unmarked cells are fractions when every unmarked cell of
    the file lies in [0, 1] (and no cell is marked ``%``), else percent. Fractions inside a percent column of a
    base benchmark, and unmarked fractions beside ``%`` cells, are refused.

    With a ``report`` (lenient reading), a cell out of range or a 0-1 fraction among percent scores of a
    multiple-choice benchmark is dropped with its reason (NaN in the returned scores) instead of refusing the
    file.

    Args:
        values, ses: the cells' numbers and standard errors (NaN: none) in the cells' own unit.
        pct: True for a cell marked ``%``.
        bench: the canonical benchmark of each cell.
        loc_at: the location of cell ``i`` for messages (``"line 7, column 'score'"``).
        units: ``auto``, ``percent`` or ``fraction``.

    Returns:
        (scores, stderrs, how) in percent, with ``how`` in ``percent``/``fraction``/``mixed-marked``.
    """
    if units not in ("auto", "percent", "fraction"):
        raise DataError(f"{name}: units must be auto, percent or fraction, not {units!r}")
    bare = np.flatnonzero(~pct)
    marked = np.flatnonzero(pct)
    bad: dict[int, str] = {}
    factor, how = _unit(values, bare, marked, loc_at, units, name)
    if how == "percent" and units == "auto":
        _fractions_among_percent(values, bare, np.asarray(bench, dtype=object), loc_at, name, report, bad)
    f = np.where(pct, 1.0, factor)
    scores = values * f
    out = np.flatnonzero((scores < 0) | (scores > 100.0 + 1e-9))
    for i in out.tolist():
        unit = "percent" if f[i] == 1.0 else "a fraction"
        _refuse(report, bad, i, f"score {values[i]:g} read as {unit} is outside 0-100 percent; cell not read",
                f"{name}: {loc_at(i)} has score {values[i]:g} read as {unit}, which is outside 0-100 percent")
    if bad:
        for i in sorted(bad):
            report.drop(name, loc_at(i), bad[i])
        scores[np.fromiter(bad, dtype=np.int64, count=len(bad))] = math.nan
    if len(marked) and how == "fraction":
        how = "mixed-marked"
    return scores, ses * f, how


def _unit(values: np.ndarray, bare: np.ndarray, marked: np.ndarray, loc_at, units: str, name: str
          ) -> tuple[float, str]:
    """(factor to percent of the unmarked cells, ``fraction`` or ``percent``) for a file's declared or detected
    units; a declaration the file contradicts, or fractions beside ``%`` cells above 1, refuse the file."""
    if units == "fraction":
        over = bare[values[bare] > 1.0]
        if len(over):  # the declaration contradicts the file: not a one-cell problem
            i = int(over[0])
            raise DataError(f"{name}: {loc_at(i)} has score {values[i]:g} but the scores were declared "
                            "fractions (0-1); declare them percent (cape ingest --units percent) or fix the value")
        return 100.0, "fraction"
    if units == "percent":
        return 1.0, "percent"
    if len(bare) and bool(((values[bare] >= 0.0) & (values[bare] <= 1.0)).all()):
        if len(marked) and values[marked].max() > 1.0:
            i, j = int(bare[0]), int(marked[0])
            raise DataError(f"{name}: {loc_at(i)} has score {values[i]:g}, a 0-1 fraction, while "
                            f"{loc_at(j)} is a percent ({values[j]:g}%); fractions mixed with "
                            "percent: give every score in one unit")
        return 100.0, "fraction"
    return 1.0, "percent"


def _refuse(report, bad: dict[int, str], i: int, reason: str, message: str) -> None:
    if report is None or report.strict:
        raise DataError(message)
    bad[i] = reason


def _fractions_among_percent(values, bare, bench, loc_at, name, report, bad) -> None:
    """Mark 0-1 fractions in a percent file among a base benchmark's percent scores (up to more than 5)."""
    import pandas as pd

    from ..scores import _FLOORED

    if not len(bare):
        return
    bb = bench[bare]
    for b in pd.unique(bb):
        if b not in _FLOORED:
            continue
        idx = bare[bb == b]
        vals = values[idx]
        mx = vals.max()
        if mx <= 5.0:
            continue
        for i in idx[(vals > 0.0) & (vals < 1.0)].tolist():
            v = values[i]
            _refuse(report, bad, i, f"{b} score {v:g} looks like a 0-1 fraction among percent scores (up "
                                    f"to {mx:g}); cell not read",
                    f"{name}: {loc_at(i)} has {b} score {v:g}, a 0-1 fraction, while other "
                    f"{b} scores are percent (up to {mx:g}); fractions mixed with percent: give every score "
                    "in one unit")
