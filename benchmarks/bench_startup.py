"""Start-up: whole-process time of ``cape --help`` and ``cape diagnose`` on the embedded cohort.

Targets: ``cape --help`` < 0.3 s and ``cape diagnose`` < 1 s, whole process, on a quiet machine.
Baselines, measured in the same run, interleaved: the floor of each command, what it cannot avoid loading:
a two-command Typer app printing its rich ``--help`` (the help renderer alone), and a process that only
imports numpy, pandas and typer (what a diagnosis on a pandas table behind a Typer command must import).

Each process is timed by wall clock and by CPU (user + system of the child, which background load inflates
less than wall time), median and spread of several interleaved repeats after a warm-up.

Run: ``python benchmarks/bench_startup.py [--repeat 7] [--n-boot 10000]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")

TYPER_HELP = """
import typer
app = typer.Typer(rich_markup_mode="rich", add_completion=False)
@app.command()
def a(x: int = 1):
    "First command."
@app.command()
def b(x: int = 1):
    "Second command."
app()
"""


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process running ``argv`` (output discarded)."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s [{min(xs):.3f}-{max(xs):.3f}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="interleaved timed rounds (after one warm-up round)")
    ap.add_argument("--n-boot", type=int, default=10_000, help="cape diagnose --n-boot")
    args = ap.parse_args()
    py = sys.executable
    cases = {
        "cape --help": ([py, "-m", "cape.cli", "--help"], 0.3),
        "baseline: a two-command Typer app --help": ([py, "-c", TYPER_HELP, "--help"], None),
        "cape diagnose": ([py, "-m", "cape.cli", "diagnose", "--n-boot", str(args.n_boot)], 1.0),
        "baseline: import numpy, pandas, typer": ([py, "-c", "import numpy, pandas, typer"], None),
    }
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    for i in range(args.repeat + 1):
        for name, (argv, _) in cases.items():
            wall, cpu = _run(argv)
            if i:  # round 0 warms the file cache
                times[name][0].append(wall)
                times[name][1].append(cpu)
    print(f"whole-process start-up, median [min-max] of {args.repeat} interleaved runs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    missed = []
    for name, (_, target) in cases.items():
        wall, cpu = times[name]
        goal = f"   target < {target:g} s" if target else ""
        print(f"  {name:42s} wall {_fmt(wall)}   cpu {_fmt(cpu)}{goal}")
        if target and statistics.median(wall) >= target:
            missed.append(name)
    if missed:
        print(f"over target (wall): {', '.join(missed)} (a loaded machine inflates wall time; compare the cpu column)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
