"""``cape report``: the whole report against its slowest single analysis, in the same run.

Target: writing the whole report (every section, embedded data) costs at most 1.5x its slowest section written
alone (``cape report --only SECTION``), each in a fresh process: the sections share each analysis (one
computation per run), so the whole report costs little more than its most expensive part.

Each command runs as a fresh process, timed by wall clock and by CPU (user + system of the child, which
background load inflates less than wall time); the whole report and every single section alternate in each
round, after a warm-up round; medians and spreads are printed, then the ratio of the medians.

Run: ``python benchmarks/bench_report.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import interleaved_processes, spread_s

SRC = str(Path(__file__).resolve().parents[1] / "src")
SECTIONS = ("overview", "families", "eigen", "dynamics", "frontier", "levers", "claims", "data")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds (after one warm-up round)")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp()) / "report.html"
    cmd = [sys.executable, "-m", "cape.cli", "report", "-o", str(out), "--json"]
    cases = {"whole report": cmd, **{f"--only {s}": [*cmd, "--only", s] for s in SECTIONS}}
    times = interleaved_processes(cases, repeat=args.repeat, src=SRC, extra_env={"PYTHONWARNINGS": "ignore"})
    print(f"cape report on the embedded data, fresh processes, median [min-max] of {args.repeat} interleaved "
          f"rounds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, (wall, cpu) in times.items():
        print(f"  {name:18s} wall {spread_s(wall)}   cpu {spread_s(cpu)}")
    singles = {k: v for k, v in times.items() if k != "whole report"}
    slowest = max(singles, key=lambda k: statistics.median(singles[k][1]))
    whole_cpu, slow_cpu = statistics.median(times["whole report"][1]), statistics.median(singles[slowest][1])
    whole_wall, slow_wall = statistics.median(times["whole report"][0]), statistics.median(singles[slowest][0])
    print(f"baseline: the slowest single section, {slowest}: {slow_cpu:.2f} s cpu, {slow_wall:.2f} s wall")
    print(f"ratio whole / slowest section: {whole_cpu / slow_cpu:.2f}x cpu, {whole_wall / slow_wall:.2f}x wall   "
          f"target <= 1.5x: {'met' if whole_cpu / slow_cpu <= 1.5 else 'NOT met'} (cpu)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
