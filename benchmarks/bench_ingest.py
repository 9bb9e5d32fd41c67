"""Ingest performance: a 10,000-model lm-evaluation-harness corpus, embedded-data load, ``cape --help``.

Usage: ``python benchmarks/bench_ingest.py [--models N] [--keep DIR]``

Prints, each with its baseline measured in the same run:

* generate N (default 10,000) models x 6 benchmarks in lm-eval v0.4 layout (one ``results_<timestamp>.json`` per
  model in nested ``<family>/<org>__<model>/`` folders, MMLU group + subgroups + 57 subjects, TruthfulQA
  mc1/mc2, GSM8K filters, configs, n-shot, n-samples), then time :func:`cape.ingest.read_any` over the tree
  (target < 10 s) against a naive reader (``json.load`` + one DataFrame per score + ``concat``) timed on a
  sample and scaled;
* the CLI end to end (``cape ingest TREE -o table.csv --json``) in a subprocess;
* loading the embedded data (``cape.data.load_base()`` in a fresh interpreter; target < 0.5 s) against a bare
  ``pandas.read_csv`` of the same file;
* ``cape --help`` in a fresh interpreter (target < 0.5 s) against ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cape.ingest.common import MMLU_SUBJECTS  # noqa: E402

FAMILIES = ("pythia", "opt", "bloom", "gpt-neo", "cerebras-gpt", "qwen2.5", "llama-2", "olmo", "smollm2", "falcon")
SIZES = ("70m", "160m", "410m", "1b", "1.4b", "2.8b", "6.9b", "12b")
TASKS = {"hellaswag": 10, "arc_challenge": 25, "winogrande": 5, "truthfulqa_mc1": 0, "truthfulqa_mc2": 0,
         "gsm8k": 5}


def _cfg(task: str, shots: int) -> dict:
    return {"task": task, "dataset_path": f"data/{task}", "training_split": "train", "validation_split": "validation",
            "doc_to_text": "{{query}}", "doc_to_target": "{{label}}", "doc_to_choice": "choices",
            "description": "", "target_delimiter": " ", "fewshot_delimiter": "\n\n", "num_fewshot": shots,
            "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
            "output_type": "multiple_choice", "repeats": 1, "should_decontaminate": False,
            "metadata": {"version": 1.0}}


def make_blob(i: int, rng: random.Random) -> tuple[str, str, dict]:
    fam = FAMILIES[i % len(FAMILIES)]
    size = SIZES[(i // len(FAMILIES)) % len(SIZES)]
    model = f"org{i % 97}/{fam}-{size}-v{i}"
    q = rng.random()
    res = {
        "hellaswag": {"alias": "hellaswag", "acc,none": 0.25 + 0.4 * q, "acc_stderr,none": 0.0045,
                      "acc_norm,none": 0.26 + 0.5 * q, "acc_norm_stderr,none": 0.0046},
        "arc_challenge": {"alias": "arc_challenge", "acc,none": 0.2 + 0.3 * q, "acc_stderr,none": 0.012,
                          "acc_norm,none": 0.22 + 0.33 * q, "acc_norm_stderr,none": 0.013},
        "winogrande": {"alias": "winogrande", "acc,none": 0.5 + 0.25 * q, "acc_stderr,none": 0.014},
        "truthfulqa": {"alias": "truthfulqa"},
        "truthfulqa_mc1": {"alias": " - truthfulqa_mc1", "acc,none": 0.2 + 0.1 * rng.random(),
                           "acc_stderr,none": 0.015},
        "truthfulqa_mc2": {"alias": " - truthfulqa_mc2", "acc,none": 0.45 - 0.1 * q + 0.05 * rng.random(),
                           "acc_stderr,none": 0.014},
        "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.3 * q, "exact_match_stderr,strict-match": 0.004,
                  "exact_match,flexible-extract": 0.31 * q, "exact_match_stderr,flexible-extract": 0.004},
        "mmlu": {"alias": "mmlu", "acc,none": 0.25 + 0.4 * q, "acc_stderr,none": 0.0035},
    }
    for c in ("humanities", "other", "social_sciences", "stem"):
        res[f"mmlu_{c}"] = {"alias": f" - {c}", "acc,none": 0.25 + 0.4 * q, "acc_stderr,none": 0.007}
    for s in MMLU_SUBJECTS:
        res[f"mmlu_{s}"] = {"alias": f"  - {s}", "acc,none": round(0.25 + 0.4 * q + 0.05 * rng.random(), 6),
                            "acc_stderr,none": 0.04}
    n_shot = {**TASKS, **{f"mmlu_{s}": 5 for s in MMLU_SUBJECTS}}
    blob = {
        "results": res,
        "group_subtasks": {"mmlu": [f"mmlu_{c}" for c in ("humanities", "other", "social_sciences", "stem")],
                           "truthfulqa": ["truthfulqa_mc1", "truthfulqa_mc2"], **{t: [] for t in TASKS}},
        "configs": {t: _cfg(t, k) for t, k in TASKS.items()},
        "versions": {t: 1.0 for t in n_shot},
        "n-shot": n_shot,
        "higher_is_better": {t: {"acc": True} for t in res},
        "n-samples": {t: {"original": 1000, "effective": 1000} for t in n_shot},
        "config": {"model": "hf", "model_args": f"pretrained={model},dtype=bfloat16", "model_num_parameters":
                   int(7e7 * (1 + i % 200)), "model_dtype": "torch.bfloat16", "model_revision": "main",
                   "batch_size": "auto", "device": "cuda:0", "limit": None, "bootstrap_iters": 100000},
        "git_hash": "4e7e0d4", "date": 1.7e9 + i, "transformers_version": "4.46.3", "lm_eval_version": "0.4.7",
        "model_name": model, "model_name_sanitized": model.replace("/", "__"), "chat_template": None,
        "total_evaluation_time_seconds": "1800.0",
    }
    return fam, model, blob


def generate(root: Path, n: int) -> int:
    rng = random.Random(0)
    total = 0
    for i in range(n):
        fam, model, blob = make_blob(i, rng)
        d = root / fam / model.replace("/", "__")
        d.mkdir(parents=True, exist_ok=True)
        text = json.dumps(blob, indent=2, ensure_ascii=False)
        (d / "results_2024-05-01T10-00-00.000000.json").write_text(text, encoding="utf-8")
        total += len(text)
    return total


def naive_reader(files: list[Path]):
    """Baseline: json.load per file, one DataFrame per score, concat at the end."""
    import pandas as pd

    frames = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            blob = json.load(fh)
        model = blob["model_name"]
        for task, entry in blob["results"].items():
            for k, v in entry.items():
                if k == "alias" or "_stderr" in k:
                    continue
                frames.append(pd.DataFrame([{"model": model, "task": task, "metric": k, "score": v * 100}]))
    return pd.concat(frames, ignore_index=True)


def fresh(code: str, reps: int = 3) -> float:
    """Median wall time of running ``code`` in a fresh interpreter."""
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, default=None, help="write the corpus here and keep it")
    args = ap.parse_args(argv)
    missed = []

    tmp = Path(tempfile.mkdtemp(prefix="cape-bench-ingest-")) if args.keep is None else args.keep
    try:
        t0 = time.perf_counter()
        nbytes = generate(tmp, args.models)
        print(f"corpus: {args.models} models x 6 benchmarks, {nbytes / 1e6:.0f} MB of results JSON "
              f"(generated in {time.perf_counter() - t0:.1f} s)", flush=True)

        from cape.ingest import read_any

        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work slows every "
              "wall-clock figure below)", flush=True)
        t0, c0 = time.perf_counter(), time.process_time()
        table, report = read_any(tmp, workers=1)
        t_seq, c_seq = time.perf_counter() - t0, time.process_time() - c0
        print(f"read_any, one process: {t_seq:.2f} s wall ({c_seq:.2f} s CPU) for {report.n_files} files -> "
              f"{report.n_rows} scores, {table.n_models} models, benchmarks {', '.join(table.benchmarks)}",
              flush=True)
        t0 = time.perf_counter()
        table, report = read_any(tmp)
        t_ingest = time.perf_counter() - t0
        print(f"read_any, default (parallel readers for >= 1000 files): {t_ingest:.2f} s wall "
              f"({report.n_files / t_ingest:.0f} files/s; target < 10 s)", flush=True)
        if t_ingest >= 10:
            missed.append("ingest")
        files = sorted(tmp.rglob("results_*.json"))
        sample = files[: min(500, len(files))]
        t0 = time.perf_counter()
        naive_reader(sample)
        t_naive = (time.perf_counter() - t0) * len(files) / len(sample)
        print(f"baseline (json.load + a DataFrame per score + concat): {t_naive:.1f} s for {len(files)} files "
              f"(timed on {len(sample)}, scaled); read_any is {t_naive / t_ingest:.1f}x faster", flush=True)

        out = tmp.parent / f"{tmp.name}-table.csv"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sys; from cape.cli import main; sys.exit(main(sys.argv[1:]))",
                        "ingest", str(tmp), "-o", str(out), "--json"], check=True, cwd=ROOT, capture_output=True)
        print(f"cape ingest TREE -o table.csv --json (fresh process, end to end): {time.perf_counter() - t0:.2f} s",
              flush=True)
        out.unlink(missing_ok=True)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)

    code = ("import time; t0=time.perf_counter(); import cape.data as d; t1=time.perf_counter(); d.load_base(); "
            "t2=time.perf_counter(); print(t1-t0, t2-t1)")
    runs = []
    for _ in range(3):
        p = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
        runs.append(tuple(float(x) for x in p.stdout.split()))
    t_imp = statistics.median(r[0] for r in runs)
    t_load = statistics.median(r[1] for r in runs)
    t_read = fresh("import time, pandas as pd; t=time.perf_counter(); pd.read_csv('src/cape/data/base_models.csv'); "
                   "print(time.perf_counter()-t)")
    t_pass = fresh("pass")
    print(f"load_base() in a fresh interpreter: {t_load:.3f} s for the call (target < 0.5 s), after {t_imp:.2f} s "
          f"importing cape.data (pandas); whole fresh process {t_read:.2f} s for a bare import pandas + read_csv "
          "baseline")
    if t_load >= 0.5:
        missed.append("load_base")
    t_help = fresh("import sys; from cape.cli import main; sys.exit(main(['--help']))")
    print(f"cape --help: {t_help:.2f} s wall (baseline python -c pass: {t_pass:.2f} s; target < 0.5 s)")
    if t_help >= 0.5:
        missed.append("--help")
    if missed:
        print(f"MISSED targets: {', '.join(missed)}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
