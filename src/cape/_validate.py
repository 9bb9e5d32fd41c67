"""Argument checks for every public analysis: one sentence naming the argument, raised as ``DataError``.

The command line and the Python API share these checks, so a notebook gets the same message the CLI prints.
Every check returns the normalised value, so an entry point reads ``level = check_level(level)``.

Example:
    >>> check_level(0.9)
    0.9
    >>> check_level(90)
    Traceback (most recent call last):
    ...
    cape.errors.DataError: level must be a confidence level strictly between 0 and 1 (e.g. 0.95), got 90
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from . import catalog
from .errors import DataError

__all__ = ["check_choice", "check_int", "check_level", "check_n_boot", "check_nonnegative", "check_pair",
           "check_positive", "check_same_length", "check_seed", "check_table"]


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_level(level: Any, name: str = "level") -> float:
    """A confidence level strictly between 0 and 1.

    Args:
        level: the value given (e.g. 0.95).
        name: the argument's name in the message.

    Returns:
        ``level`` as a float.
    """
    ok = isinstance(level, numbers.Real) and not isinstance(level, bool) and 0.0 < float(level) < 1.0
    if not ok:
        raise DataError(f"{name} must be a confidence level strictly between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(level)


def check_int(value: Any, name: str, *, minimum: int = 0) -> int:
    """An integer at least ``minimum`` (a bool is not an integer here).

    Example:
        >>> check_int(3, "k", minimum=1)
        3
    """
    if not _is_int(value) or int(value) < minimum:
        raise DataError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_n_boot(n_boot: Any, name: str = "n_boot", *, minimum: int = 0) -> int:
    """A number of resamples (bootstrap or permutation): an integer >= ``minimum`` (0 skips them)."""
    return check_int(n_boot, name, minimum=minimum)


def check_seed(seed: Any, name: str = "seed", *, allow_none: bool = True) -> int | None:
    """A random seed: a non-negative integer, or None (fresh entropy) where ``allow_none``."""
    if seed is None and allow_none:
        return None
    if not _is_int(seed) or int(seed) < 0:
        what = "a non-negative integer or None" if allow_none else "a non-negative integer"
        raise DataError(f"{name} must be {what}, got {seed!r}")
    return int(seed)


def check_positive(value: Any, name: str) -> float:
    """A finite number > 0."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and float(value) > 0
    if not ok:
        raise DataError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_nonnegative(value: Any, name: str) -> float:
    """A finite number >= 0."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and float(value) >= 0
    if not ok:
        raise DataError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_choice(value: Any, choices: Iterable[str], name: str) -> str:
    """One of ``choices``.

    Example:
        >>> check_choice("cov", ("cov", "corr"), "use")
        'cov'
    """
    options = tuple(choices)
    if value not in options:
        raise DataError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def check_pair(pair: Sequence[str] | str, name: str = "pair") -> tuple[str, str]:
    """The canonical ``(B1, B2)`` benchmark pair from ``("HS", "TQA")`` or ``"HS:TQA"``.

    Raises:
        DataError: not two names, the same benchmark twice, or an unknown name
            (:class:`~cape.errors.UnknownBenchmarkError`).

    Example:
        >>> check_pair("HS:TQA")
        ('HellaSwag', 'TruthfulQA')
    """
    if isinstance(pair, str):
        parts = [p.strip() for p in pair.replace(",", ":").split(":") if p.strip()]
    elif isinstance(pair, Iterable):
        parts = list(pair)
    else:
        parts = []
    shown = pair if isinstance(pair, str) else ":".join(map(str, parts))
    if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        raise DataError(f"{name} {shown!r}: a benchmark pair needs two names like HellaSwag:TruthfulQA")
    b1, b2 = (catalog.canonical(p, where=f"{name} {shown!r}") for p in parts)
    if b1 == b2:
        raise DataError(f"{name} {shown!r}: names {b1} twice; a benchmark pair needs two different benchmarks")
    return b1, b2


def check_table(table: Any, name: str = "table", *, allow_none: bool = False):
    """A :class:`~cape.scores.ScoreTable` or a wide ``pandas.DataFrame`` (one row per model); None only where
    ``allow_none`` (the embedded data is used)."""
    from .scores import ScoreTable  # noqa: PLC0415 - scores imports pandas; keep this module light

    if table is None and allow_none:
        return None
    frame = type(table).__name__ == "DataFrame" and type(table).__module__.startswith("pandas")
    if not (isinstance(table, ScoreTable) or frame):
        what = "a ScoreTable (see cape.scores / cape.data) or a wide DataFrame"
        raise DataError(f"{name} must be {what}, got {type(table).__name__}" + (" (None: give a table)" if table is None
                                                                               else ""))
    return table


def check_same_length(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """Two sequences of paired values have the same length.

    Example:
        >>> check_same_length([1, 2], [3], "x", "y")
        Traceback (most recent call last):
        ...
        cape.errors.DataError: x and y must have the same length (one value per model), got 2 and 1
    """
    la, lb = len(a), len(b)
    if la != lb:
        raise DataError(f"{name_a} and {name_b} must have the same length (one value per model), got {la} and {lb}")
