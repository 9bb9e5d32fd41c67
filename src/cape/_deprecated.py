"""Renamed settings: an old keyword argument or configuration key keeps working for a while, with a
:class:`DeprecationWarning` that names the new one.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     renamed_keys({"ci": 0.9}, {"ci": "level"}, where="doctor config")
    {'level': 0.9}
    >>> str(w[0].message)
    "doctor config: 'ci' is deprecated; use 'level' (the same value)"
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

from .errors import DataError

T = TypeVar("T", bound=type)


def renamed_keys(m: Mapping[str, Any], renames: Mapping[str, str], *, where: str, stacklevel: int = 3
                 ) -> dict[str, Any]:
    """``m`` with each old key of ``renames`` replaced by its new name (a DeprecationWarning for each).

    Raises:
        DataError: both the old and the new name are given.
    """
    out = dict(m)
    for old, new in renames.items():
        if old not in out:
            continue
        if new in out:
            raise DataError(f"{where}: give {new!r} only ({old!r} is its deprecated name)")
        warnings.warn(f"{where}: {old!r} is deprecated; use {new!r} (the same value)", DeprecationWarning,
                      stacklevel=stacklevel)
        out[new] = out.pop(old)
    return out


def renamed_fields(renames: Mapping[str, str], where: str):
    """Class decorator for a dataclass: its constructor also accepts each old keyword of ``renames`` (warning
    that it is deprecated), and reading the old attribute returns the new one (warning too)."""
    def deco(cls: T) -> T:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self, *args: Any, **kw: Any) -> None:
            init(self, *args, **renamed_keys(kw, renames, where=where))

        cls.__init__ = __init__  # type: ignore[misc]
        for old, new in renames.items():
            setattr(cls, old, property(_getter(old, new, where), doc=f"Deprecated name of ``{new}``."))
        return cls
    return deco


def _getter(old: str, new: str, where: str):
    def get(self: Any) -> Any:
        warnings.warn(f"{where}: {old!r} is deprecated; use {new!r} (the same value)", DeprecationWarning,
                      stacklevel=2)
        return getattr(self, new)
    return get
