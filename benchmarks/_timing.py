"""Timing helpers shared by the benchmarks: interleaved repeats after a warm-up, median and spread.

Running the candidate and its baseline alternately (A B A B ...) exposes both to the same background load; the
median resists the outliers a shared machine produces, and the spread (min-max) says how much to trust it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(fns: dict[str, Callable[[], object]], *, repeat: int = 5, warmup: int = 1) -> dict[str, dict]:
    """Time each function ``repeat`` times, alternating between them, after ``warmup`` untimed rounds.

    Args:
        fns: name -> zero-argument function.
        repeat: timed rounds; warmup: untimed rounds first (imports, caches, allocator).

    Returns:
        name -> ``{"median": s, "min": s, "max": s, "times": [s, ...], "result": last return value}``.
    """
    out: dict[str, dict] = {k: {"times": []} for k in fns}
    for _ in range(warmup):
        for k, f in fns.items():
            out[k]["result"] = f()
    for _ in range(repeat):
        for k, f in fns.items():
            t0 = time.perf_counter()
            out[k]["result"] = f()
            out[k]["times"].append(time.perf_counter() - t0)
    for v in out.values():
        ts = v["times"]
        v.update(median=statistics.median(ts), min=min(ts), max=max(ts))
    return out


def spread(v: dict, unit: float = 1e3, fmt: str = ".1f") -> str:
    """``median [min-max]`` of one :func:`interleaved` entry, in ms by default."""
    return f"{v['median'] * unit:{fmt}} [{v['min'] * unit:{fmt}}-{v['max'] * unit:{fmt}}]"
