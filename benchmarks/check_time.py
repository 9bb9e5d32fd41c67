"""How long ``make check`` takes, against a baseline measured in the same run.

Target: ``make check`` (ruff, mypy, the doctests and every test outside the ``model``, ``browser`` and ``ray``
markers, two pytest workers) under 120 s of wall time on a quiet 2-core machine.

Figure: the steps of ``make check`` on the tree at ``--ref`` (default ``HEAD``). Baseline: the steps of
``make check`` as they were at ``--base`` (default: the last commit before the test suite was sped up), run the
way that Makefile ran them: the doctests in a pytest process of their own, then the tests. Both trees are
exported with ``git archive`` into a temporary folder (no bytecode, mypy or pytest cache helps either side; mypy
starts cold) and run with this interpreter and its ``ruff`` and ``mypy``. Each step prints its wall time, its
CPU time (user + system of the step and its worker processes) and pytest's summary line. The two trees hold
the tests of their own day, so the test counts differ; both are printed.

Usage::

    python benchmarks/check_time.py                 # HEAD against the baseline, one round each
    python benchmarks/check_time.py --rounds 2      # alternate baseline and HEAD twice (medians printed)
    python benchmarks/check_time.py --no-baseline   # HEAD only
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: The last commit before the test-suite speed work: its Makefile ran the doctests in a separate process.
BASE = "382829a193782f4b86b57368cf847c6b432b86a7"
TARGET_S = 120.0
MARKERS = "not model and not browser and not ray"
DOCTEST = ["--doctest-modules", "src/cape", "--ignore=src/cape/dashboard", "--ignore=src/cape/report"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"]


def recipe(tree: Path, *, old: bool) -> list[tuple[str, list[str]]]:
    """The steps of ``make check``: ``old`` as the baseline's Makefile ran them, else as this one does."""
    lint = [("ruff", [str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "docs/hooks"]),
            ("mypy", [str(BIN / "mypy"), "--cache-dir", str(tree / ".bench-mypy-cache")])]
    if old:
        return lint + [("doctests", [*PYTEST, *DOCTEST]),
                       ("tests", [*PYTEST, "--dist", "loadgroup", "-m", MARKERS])]
    return lint + [("tests+doctests", [*PYTEST, "--dist", "loadgroup", "-m", MARKERS, "tests", *DOCTEST])]


def export(ref: str, dest: Path) -> Path:
    """``git archive REF`` unpacked into ``dest`` (created)."""
    dest.mkdir(parents=True)
    archive = dest.with_suffix(".tar")
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), ref], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    archive.unlink()
    return dest


def run_step(cmd: list[str], tree: Path) -> dict:
    """Run one step in ``tree``; wall and CPU seconds, exit status and the last summary line."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [x for x in (p.stdout + p.stderr).splitlines() if x.strip()]
    summary = next((x for x in reversed(lines) if re.search(r"\b(passed|failed|error|Success|All checks)", x)),
                   lines[-1] if lines else "")
    return {"wall": wall, "cpu": cpu, "rc": p.returncode, "summary": summary.strip("= ")}


def run_recipe(label: str, tree: Path, *, old: bool) -> dict:
    steps = {}
    for name, cmd in recipe(tree, old=old):
        steps[name] = run_step(cmd, tree)
        s = steps[name]
        print(f"  {label:9s} {name:15s} {s['wall']:7.1f} s wall {s['cpu']:7.1f} s CPU  exit {s['rc']}  "
              f"{s['summary'][:90]}", flush=True)
    total = {"wall": sum(s["wall"] for s in steps.values()), "cpu": sum(s["cpu"] for s in steps.values()),
             "ok": all(s["rc"] == 0 for s in steps.values())}
    print(f"  {label:9s} {'total':15s} {total['wall']:7.1f} s wall {total['cpu']:7.1f} s CPU  "
          f"{'all steps passed' if total['ok'] else 'A STEP FAILED'}", flush=True)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default="HEAD", help="the tree to measure (a git ref; default HEAD)")
    ap.add_argument("--base", default=BASE, help="the baseline's git ref (default: before the speed work)")
    ap.add_argument("--no-baseline", action="store_true", help="measure --ref only")
    ap.add_argument("--rounds", type=int, default=1, help="rounds, alternating baseline and figure (default 1)")
    args = ap.parse_args(argv)
    print(f"target: make check under {TARGET_S:.0f} s wall on a quiet 2-core machine (os.cpu_count() here: "
          f"{os.cpu_count()}, load average {os.getloadavg()[0]:.1f})", flush=True)
    res: dict[str, list[dict]] = {"figure": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="cape-check-time-") as tmp:
        fig_tree = export(args.ref, Path(tmp) / "figure")
        base_tree = None if args.no_baseline else export(args.base, Path(tmp) / "baseline")
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            if base_tree is not None:
                res["baseline"].append(run_recipe("baseline", base_tree, old=True))
            res["figure"].append(run_recipe("figure", fig_tree, old=False))

    def line(name: str, ref: str) -> str:
        runs = res[name]
        wall, cpu = statistics.median(x["wall"] for x in runs), statistics.median(x["cpu"] for x in runs)
        return f"{wall:6.1f} s wall, {cpu:6.1f} s CPU  (git {ref[:12]}; median of {len(runs)})"

    print(f"\ntarget:   make check < {TARGET_S:.0f} s wall")
    print("figure:   " + line("figure", args.ref))
    if res["baseline"]:
        print("baseline: " + line("baseline", args.base))
    ok = all(x["ok"] for v in res.values() for x in v)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
