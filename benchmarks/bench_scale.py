"""Benchmark of ``cape diagnose`` as the cohort grows: time and peak memory per family, 10 to 10,000 families.

Each size is a synthetic cohort of families of 8 models (sizes log-uniform in 30M-100B, HellaSwag rising with
size, TruthfulQA U-shaped, binomial-sized noise), written as a wide CSV and diagnosed by ``cape diagnose
--scores FILE --json`` in a fresh process (every estimator at its default, 10,000 resamples). The child
reports its own peak resident memory.

Baseline (in the same run): the smallest cohort, whose time is mostly the fixed start-up. The growth curve
prints each step's marginal CPU per added family, (CPU(n) - CPU(previous)) / (n - previous), and its ratio to
the first step's: a flat curve (ratio ~1) means cost linear in the number of families.
Targets: 5,000 families in < 60 s and < 1 GiB peak; per-family time flat within 2x from 10 to 10,000.

A second baseline (``--serial``): the largest cohort again with the per-family loop on one thread
(``CAPE_THREADS=1``), against the default threads.

Usage: python benchmarks/bench_scale.py [--sizes 10 100 1000] [--n-boot 10000] [--models 8] [--serial]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import resource, sys, time
t0 = time.perf_counter()
from cape.cli import main
rc = main(sys.argv[1:])
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(f"CHILD {rc} {wall:.3f} {ru.ru_utime + ru.ru_stime:.3f} {ru.ru_maxrss}", file=sys.stderr)
"""


def write_cohort(path: Path, n_families: int, n_models: int, seed: int = 0) -> None:
    """A synthetic wide CSV: ``model,family,params,HellaSwag,TruthfulQA``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lines = ["model,family,params,HellaSwag,TruthfulQA"]
    for f in range(n_families):
        x = np.sort(rng.uniform(7.5, 11.0, n_models))
        hs = 30 + 12 * (x - 7.5) + rng.normal(0, 1.0, n_models)
        tqa = 40 + 2.5 * (x - rng.uniform(9.0, 10.0)) ** 2 + rng.normal(0, 1.0, n_models)
        for k in range(n_models):
            lines.append(f"fam{f}-m{k},fam{f},{10 ** x[k]:.6g},{hs[k]:.3f},{tqa[k]:.3f}")
    path.write_text("\n".join(lines) + "\n")


def run(path: Path, n_boot: int, threads: int | None = None) -> tuple[int, float, float, float]:
    """``(exit code, wall s, CPU s, peak MiB)`` of ``cape diagnose --scores path --json`` in a fresh process
    (``threads``: ``CAPE_THREADS`` for the child; None leaves CAPE's default)."""
    env = dict(os.environ)
    if threads is not None:
        env["CAPE_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, "-c", _CHILD, "diagnose", "--scores", str(path), "--json",
                          "--n-boot", str(n_boot)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         env=env)
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("CHILD ")]
    if not line:
        return out.returncode, float("nan"), float("nan"), float("nan")
    _, rc, wall, cpu, rss = line[-1].split()
    return int(rc), float(wall), float(cpu), int(rss) / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--n-boot", type=int, default=10_000)
    ap.add_argument("--models", type=int, default=8)
    ap.add_argument("--serial", action="store_true", help="also run the largest cohort on one thread "
                                                            "(CAPE_THREADS=1): the baseline of the threaded loop")
    args = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f}; {args.models} models per family, "
          f"{args.n_boot} resamples per estimate")
    print("baseline: the smallest cohort; marginal = CPU per family added since the previous size")
    print(f"{'families':>9s} {'models':>7s} {'wall s':>8s} {'CPU s':>8s} {'marginal ms/family':>19s} {'peak MiB':>9s} "
          f"{'ratio':>6s} {'exit':>5s}")
    results: dict[int, tuple] = {}
    first = prev = None
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(args.sizes):
            path = Path(tmp) / f"cohort{n}.csv"
            write_cohort(path, n, args.models)
            rc, wall, cpu, rss = run(path, args.n_boot)
            results[n] = (wall, cpu, rss, rc)
            if prev is None:
                print(f"{n:9d} {n * args.models:7d} {wall:8.1f} {cpu:8.1f} {'(baseline)':>19s} {rss:9.0f} "
                      f"{'':>6s} {rc:5d}", flush=True)
            else:
                marg = (cpu - results[prev][1]) / (n - prev) * 1e3
                first = first or marg
                ratios.append(marg / first)
                print(f"{n:9d} {n * args.models:7d} {wall:8.1f} {cpu:8.1f} {marg:19.1f} {rss:9.0f} "
                      f"{marg / first:6.2f} {rc:5d}", flush=True)
            prev = n
        if args.serial:
            n = max(results)
            path = Path(tmp) / f"cohort{n}.csv"
            write_cohort(path, n, args.models)
            rc, wall, cpu, rss = run(path, args.n_boot, threads=1)
            print(f"baseline, {n} families on one thread (CAPE_THREADS=1): wall {wall:.1f} s, CPU {cpu:.1f} s, peak "
                  f"{rss:.0f} MiB, exit {rc}; threaded above: wall {results[n][0]:.1f} s "
                  f"({wall / results[n][0]:.2f}x faster)")
    if ratios:
        print(f"marginal CPU per family from {min(results)} to {max(results)} families: x{max(ratios):.2f} of the "
              f"first step at most -> target flat within 2x: {'PASS' if max(ratios) <= 2 else 'FAIL'}")
    for n, (wall, cpu, rss, rc) in results.items():
        if n >= 5000:
            print(f"{n} families: wall {wall:.1f} s (target < 60 s: {'PASS' if wall < 60 else 'FAIL'}), peak "
                  f"{rss:.0f} MiB (target < 1024 MiB: {'PASS' if rss < 1024 else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
