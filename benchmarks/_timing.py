"""Timing helpers shared by the benchmarks: interleaved repeats after a warm-up, median and spread.

Running the candidate and its baseline alternately (A B A B ...) exposes both to the same background load; the
median resists the outliers a shared machine produces, and the spread (min-max) says how much to trust it.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping


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


def run_child(argv: list[str], env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process running ``argv``, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def interleaved_processes(cases: Mapping[str, list[str]], *, repeat: int, src: str | None = None,
                          extra_env: Mapping[str, str] | None = None) -> dict[str, tuple[list[float], list[float]]]:
    """Run each command line ``repeat`` times in fresh processes, alternating between them, after one untimed
    round (it warms the file cache).

    Args:
        cases: name -> command line.
        repeat: timed rounds.
        src: a source folder put first on the children's ``PYTHONPATH`` (so they run this checkout's code).
        extra_env: more environment variables for the children.

    Returns:
        name -> ``(wall seconds, CPU seconds)``, one value per timed round each.
    """
    env = dict(os.environ, **(extra_env or {}))
    if src:
        env["PYTHONPATH"] = src + os.pathsep + os.environ.get("PYTHONPATH", "")
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    for i in range(repeat + 1):
        for name, argv in cases.items():
            wall, cpu = run_child(argv, env)
            if i:
                times[name][0].append(wall)
                times[name][1].append(cpu)
    return times


def spread_s(xs: list[float], fmt: str = ".2f") -> str:
    """``median [min-max]`` of a list of seconds."""
    return f"{statistics.median(xs):{fmt}} s [{min(xs):{fmt}}-{max(xs):{fmt}}]"
