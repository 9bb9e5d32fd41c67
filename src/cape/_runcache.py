"""One computation per run: analyses called again with the same inputs inside :func:`compute_once` return the
first result instead of recomputing it.

``cape report`` and ``cape claims`` ask many sections and claims for the same diagnosis, N_c, noise estimate or
ODE fit. Those functions carry :func:`once_per_run`; outside a :func:`compute_once` block they run as usual
(nothing is kept between runs, so a library user never sees stale results), inside it a repeated call with
equal arguments returns the first result. Results are frozen dataclasses, shared read-only.

Arguments are compared by value for numbers, strings, tuples, lists, dicts, numpy arrays, data frames (their
hashed content) and dataclasses, and by identity for score tables (a table does not change once built; the block
keeps a reference, so an identity is never reused while it lasts). A call with an argument of any other kind is
not memoised.

Example:
    >>> from cape._runcache import compute_once
    >>> from cape.diagnose import diagnose
    >>> with compute_once():                                   # doctest: +SKIP
    ...     a = diagnose(n_boot=200); b = diagnose(n_boot=200)
    >>> a is b                                                 # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_ACTIVE: ContextVar[dict | None] = ContextVar("cape_run_cache", default=None)


class _Unkeyable(Exception):
    pass


def _key(obj: Any, refs: list) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        return (type(obj).__name__, obj)
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, tuple(_key(v, refs) for v in obj))
    if isinstance(obj, dict):
        return ("dict", tuple(sorted((repr(k), _key(v, refs)) for k, v in obj.items())))
    if isinstance(obj, (set, frozenset)):
        return ("set", tuple(sorted(repr(v) for v in obj)))
    mod = type(obj).__module__
    if mod.startswith("numpy") and hasattr(obj, "tobytes"):
        return ("ndarray", getattr(obj, "shape", ()), str(getattr(obj, "dtype", "")), obj.tobytes())
    if type(obj).__name__ in ("DataFrame", "Series"):
        return _frame_key(obj)
    if type(obj).__name__ == "ScoreTable" or mod.startswith("pandas"):
        refs.append(obj)  # keep it alive: its id stays unique while the block lasts
        return ("id", type(obj).__name__, id(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__qualname__, tuple((f.name, _key(getattr(obj, f.name), refs))
                                              for f in dataclasses.fields(obj)))
    if callable(obj) and hasattr(obj, "__qualname__"):
        return ("callable", getattr(obj, "__module__", ""), obj.__qualname__)
    raise _Unkeyable


def _frame_key(obj) -> tuple:
    """A data frame's (or series') content: copies of one frame (score frames are handed out as copies) match."""
    import pandas as pd

    try:
        rows = pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes()
    except TypeError as exc:  # unhashable cells (lists, dicts)
        raise _Unkeyable from exc
    cols = tuple(map(str, obj.columns)) if hasattr(obj, "columns") else (str(obj.name),)
    dtypes = tuple(map(str, obj.dtypes)) if hasattr(obj, "columns") else (str(obj.dtype),)
    return ("frame", cols, dtypes, rows)


def once_per_run(fn: F) -> F:
    """Memoise ``fn`` inside :func:`compute_once` blocks (a plain call outside them)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        cache = _ACTIVE.get()
        if cache is None:
            return fn(*args, **kwargs)
        refs: list = []
        try:
            key = (fn.__module__, fn.__qualname__, _key(args, refs), _key(kwargs, refs))
        except _Unkeyable:
            return fn(*args, **kwargs)
        if key not in cache:
            cache[key] = fn(*args, **kwargs)
            cache.setdefault(("refs",), []).extend(refs)
            stats = cache.setdefault(("calls",), {})
            stats[fn.__qualname__] = stats.get(fn.__qualname__, 0) + 1
        else:
            hits = cache.setdefault(("hits",), {})
            hits[fn.__qualname__] = hits.get(fn.__qualname__, 0) + 1
        return cache[key]

    return wrapper  # type: ignore[return-value]


@contextmanager
def compute_once() -> Iterator[dict]:
    """A block in which :func:`once_per_run` functions compute each result once (nested blocks share the
    outer one). Yields the cache; ``cache[("calls",)]`` counts the computations per function and
    ``cache[("hits",)]`` the repeated calls answered from the cache."""
    outer = _ACTIVE.get()
    if outer is not None:
        yield outer
        return
    cache: dict = {}
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)
