"""Run every performance benchmark in this folder and print its figures.

Each ``bench_*.py`` is a standalone script that measures its target and a baseline in the same run and prints
both. Usage: ``python benchmarks/run_all.py [NAME ...]`` (names without the ``bench_`` prefix, e.g. ``ingest``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        want = {a.removeprefix("bench_").removesuffix(".py") for a in argv}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in want]
    failed = []
    for s in scripts:
        print(f"\n=== {s.stem} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(s)], cwd=HERE.parent)
        print(f"--- {s.stem}: exit {rc}, {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(s.stem)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
