"""Ingest at scale: a 10,000-model leaderboard-like table through ingest + diagnose, and a 1,000,000-row CSV.

Usage: ``python benchmarks/bench_ingest_scale.py [--models 10000] [--rows 1000000] [--keep DIR] [--no-diagnose]``

Each figure is measured in a fresh process (wall time and peak resident memory of that process), with its
baseline measured in the same run: a plain ``pandas.read_csv`` of the same file.

* ``leaderboard``: an Open LLM Leaderboard v2 contents-like CSV (pandas index column, Type, Precision with
  duplicates, ``#Params (B)`` with sentinels, Base Model, six score columns and their raw twins), about 8 % of
  the models pretrained in families of 3 to 8 sizes, the rest fine-tunes and merges naming a base model.
  Targets: ``cape ingest`` < 2 s; ``cape ingest`` and ``cape diagnose`` (pretrained models by default) < 10 s and
  600 MB together.
* ``long``: a 1,000,000-row long CSV (model, family, params, benchmark, metric, shots, score). Target: ``cape
  ingest FILE -o table.parquet`` < 15 s and < 1 GB.

Each line prints the target, the figure (wall and CPU seconds, peak memory) and the baseline.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}

V2_HEAD = ["", "eval_name", "Precision", "Type", "T", "Weight type", "Architecture", "Model", "fullname",
           "Model sha", "Average ⬆️", "Hub License", "Hub ❤️", "#Params (B)", "Available on the hub", "MoE", "Flagged",
           "Chat Template", "CO₂ cost (kg)", "IFEval Raw", "IFEval", "BBH Raw", "BBH", "MATH Lvl 5 Raw", "MATH Lvl 5",
           "GPQA Raw", "GPQA", "MUSR Raw", "MUSR", "MMLU-PRO Raw", "MMLU-PRO", "Merged", "Official Providers",
           "Upload To Hub Date", "Submission Date", "Generation", "Base Model"]
TYPES = {"pretrained": "🟢 pretrained", "fine-tuned": "🔶 fine-tuned on domain-specific datasets",
         "chat": "💬 chat models (RLHF, DPO, IFT, ...)", "merge": "🤝 base merges and moerges"}
SIZES = (0.135, 0.36, 0.5, 1.1, 1.5, 3.0, 7.0, 8.0, 13.0, 14.0, 32.0, 70.0)


def make_leaderboard(path: Path, n: int, seed: int = 0) -> int:
    """Write an n-model v2 contents-like table; returns the number of rows (precision duplicates included)."""
    rng = random.Random(seed)
    n_pre = max(3, n * 8 // 100)
    bases = []
    fam = 0
    while len(bases) < n_pre:
        k = rng.randint(3, 8)
        sizes = sorted(rng.sample(SIZES, k))
        q = rng.random()
        for s in sizes:
            bases.append((f"org{fam % 300}/famx{fam}-{s:g}b", s, q))
        fam += 1
    rows = []
    for i in range(n):
        if i < len(bases):
            name, size, q = bases[i]
            kind, base = "pretrained", name
        else:
            base, size, q = bases[rng.randrange(len(bases))]
            kind = rng.choice(("fine-tuned", "chat", "merge"))
            name = f"user{i % 997}/{base.split('/')[1]}-{kind}-v{i}"
        lift = 1 + 0.3 * (rng.random() - 0.5) if kind != "pretrained" else 1.0
        lg = (size ** 0.25) * lift
        sc = {b: min(99.0, max(0.0, (10 + 12 * lg + 6 * q + rng.gauss(0, 1.5)) * w))
              for b, w in (("IFEval", 1.2), ("BBH", 1.0), ("MATH Lvl 5", 0.4), ("GPQA", 0.3), ("MUSR", 0.5),
                           ("MMLU-PRO", 0.9))}
        p = "-1" if rng.random() < 0.01 else f"{size * (1 + rng.random() * 0.05):.3f}"
        for prec in (("bfloat16", "float16") if rng.random() < 0.02 else ("bfloat16",)):
            rec = {"": str(len(rows)), "eval_name": f"{name.replace('/', '_')}_{prec}", "Precision": prec,
                   "Type": TYPES[kind], "T": "", "Weight type": "Original", "Architecture": "LlamaForCausalLM",
                   "Model": f'<a target="_blank" href="https://huggingface.co/{name}">{name}</a>', "fullname": name,
                   "Model sha": "0" * 40, "Average ⬆️": f"{sum(sc.values()) / 6:.3f}", "Hub License": "apache-2.0",
                   "Hub ❤️": "0", "#Params (B)": p, "Available on the hub": "True", "MoE": "False",
                   "Flagged": "False", "Chat Template": str(kind == "chat"), "CO₂ cost (kg)": "1.0",
                   "Merged": str(kind == "merge"), "Official Providers": "False",
                   "Upload To Hub Date": "2024-06-01", "Submission Date": "2024-07-01", "Generation": "0",
                   "Base Model": base}
            for b, v in sc.items():
                rec[b] = f"{v:.4f}"
                rec[f"{b} Raw"] = f"{min(1.0, v / 100 + 0.1):.5f}"
            rows.append(rec)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=V2_HEAD)
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def make_long(path: Path, n_rows: int, seed: int = 0) -> None:
    """Write an n_rows long CSV: model, family, params, benchmark, metric, shots, score (percent)."""
    rng = random.Random(seed)
    benches = (("HellaSwag", "acc_norm", 10), ("TruthfulQA", "mc2", 0), ("ARC-Challenge", "acc_norm", 25),
               ("WinoGrande", "acc", 5), ("MMLU", "acc", 5), ("GSM8K", "exact_match", 5))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["model", "family", "params", "benchmark", "metric", "shots", "score"])
        i = 0
        m = 0
        while i < n_rows:
            size = SIZES[m % len(SIZES)] * 1e9
            fam = f"fam{m // len(SIZES)}"
            model = f"{fam}-{SIZES[m % len(SIZES)]:g}b"
            for b, metric, shots in benches:
                if i >= n_rows:
                    break
                w.writerow([model, fam, f"{size:.6g}", b, metric, shots, f"{rng.uniform(1, 95):.3f}"])
                i += 1
            m += 1


def run(cmd: list[str]) -> tuple[float, float, float, int, str]:
    """Run ``cmd`` in a fresh process: (wall seconds, CPU seconds (user + system), peak RSS MB of that process,
    exit code, stderr tail)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read() if p.stderr else ""  # read before waiting: a full pipe would block the child
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    cpu = ru.ru_utime + ru.ru_stime
    return wall, cpu, ru.ru_maxrss / 1024.0, rc, err.strip().splitlines()[-1] if err.strip() else ""


def baseline(path: Path) -> tuple[float, float, float, int, str]:
    return run([PY, "-c", f"import pandas as pd; pd.read_csv({str(path)!r})"])


def line(label: str, res, base, target: str) -> None:
    w, cpu, mem, rc, err = res
    bw, bcpu, bmem, _, _ = base
    print(f"{label:<40} target {target:<28} figure {w:6.2f} s wall {cpu:6.2f} s CPU {mem:6.0f} MB   "
          f"baseline pandas.read_csv {bw:5.2f} s wall {bcpu:5.2f} s CPU {bmem:5.0f} MB"
          + ("" if rc == 0 else f"   FAILED rc={rc}: {err}"))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=10_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="write the inputs here and keep them")
    ap.add_argument("--no-diagnose", action="store_true", help="measure the ingest steps only")
    a = ap.parse_args(argv)
    tmp = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="cape-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    lb, lg = tmp / "leaderboard.csv", tmp / "long.csv"
    n_rows = make_leaderboard(lb, a.models)
    make_long(lg, a.rows)
    print(f"inputs: {lb.name} ({a.models} models, {n_rows} rows, {lb.stat().st_size / 1e6:.1f} MB); "
          f"{lg.name} ({a.rows} rows, {lg.stat().st_size / 1e6:.1f} MB); each figure one fresh process")
    print(f"machine load average (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; wall times "
          "grow with the load, CPU times much less")
    cape = [PY, "-m", "cape.cli"]
    b_lb = baseline(lb)
    r_ing = run([*cape, "ingest", str(lb), "-o", str(tmp / "lb_table.csv"), "--json"])
    line("cape ingest leaderboard", r_ing, b_lb, "< 2 s (and < 10 s, 600 MB with diagnose)")
    if not a.no_diagnose:
        r_dx = run([*cape, "diagnose", str(lb), "--pair", "BBH:IFEval", "--n-boot", "1000"])
        line("cape diagnose leaderboard (pretrained only)", r_dx, b_lb, "< 10 s and < 600 MB with ingest")
        print(f"{'  ingest + diagnose':<40} target < 10 s, < 600 MB            figure {r_ing[0] + r_dx[0]:6.2f} s "
              f"wall {r_ing[1] + r_dx[1]:6.2f} s CPU {max(r_ing[2], r_dx[2]):6.0f} MB peak")
    b_lg = baseline(lg)
    r_lg = run([*cape, "ingest", str(lg), "-o", str(tmp / "long_table.parquet"), "--json"])
    line(f"cape ingest -o .parquet {a.rows:,}-row long CSV", r_lg, b_lg, "< 15 s and < 1 GB")
    if not a.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
