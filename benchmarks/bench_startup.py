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
import statistics
import sys
from pathlib import Path

from _timing import interleaved_processes, spread_s

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
    times = interleaved_processes({k: argv for k, (argv, _) in cases.items()}, repeat=args.repeat, src=SRC)
    print(f"whole-process start-up, median [min-max] of {args.repeat} interleaved runs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    missed = []
    for name, (_, target) in cases.items():
        wall, cpu = times[name]
        goal = f"   target < {target:g} s" if target else ""
        print(f"  {name:42s} wall {spread_s(wall, '.3f')}   cpu {spread_s(cpu, '.3f')}{goal}")
        if target and statistics.median(wall) >= target:
            missed.append(name)
    if missed:
        print(f"over target (wall): {', '.join(missed)} (a loaded machine inflates wall time; compare the cpu column)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
