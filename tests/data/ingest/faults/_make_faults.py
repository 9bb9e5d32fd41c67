"""Regenerate the lenient-reading test tables in this folder (deterministic; run from the repository root).

    python tests/data/ingest/faults/_make_faults.py

``long_faults.csv`` and ``wide_faults.csv`` hold one example of every problem the generic reader drops or
repairs row by row (empty model name, unreadable or out-of-range score, NaN text, sentinel and unreadable sizes,
bad shots, bad is_base, unknown model type, unknown and misspelt benchmarks, duplicates with equal and different
scores, case variants of one model, a size far from the name's, a 0-1 fraction among percent scores, a
mixture-of-experts name) among ordinary rows, so that the ingest report pins each reason. Values are invented.
``leaderboard_like.csv`` (150 models, v2 contents layout) was written by ``make_leaderboard(path, 150, seed=3)``
in ``benchmarks/bench_ingest_scale.py``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = (("HellaSwag", "acc_norm", "10"), ("TruthfulQA", "mc2", "0"), ("ARC-Challenge", "acc_norm", "25"),
         ("MMLU", "acc", "5"), ("GSM8K", "exact_match", "5"))


def _long(rng: random.Random) -> list[list[str]]:
    rows = []
    for fam, sizes in (("pythia", ("70m", "160m", "410m", "1b", "1.4b", "2.8b")), ("opt", ("125m", "350m", "1.3b")),
                       ("qwen", ("0.5B", "1.5B", "3B", "7B"))):
        for s in sizes:
            model = f"{fam}-{s}"
            for b, metric, shots in BENCH:
                rows.append([model, fam, "", b, f"{rng.uniform(20, 80):.2f}", metric, shots,
                             f"{rng.uniform(0.2, 1.5):.2f}"])
    # sizes given for some, in billions
    for r in rows:
        if r[0].startswith("opt-"):
            r[2] = {"opt-125m": "0.125", "opt-350m": "0.35", "opt-1.3b": "1.3"}[r[0]]
    faults = [
        ["", "pythia", "", "HellaSwag", "50.0", "acc_norm", "10", ""],             # empty model name
        ["pythia-6.9b", "pythia", "", "HellaSwag", "nan", "acc_norm", "10", ""],   # NaN text
        ["pythia-6.9b", "pythia", "", "TruthfulQA", "abc", "mc2", "0", ""],        # unreadable score
        ["pythia-6.9b", "pythia", "", "ARC-Challenge", "150", "acc_norm", "25", ""],  # out of range
        ["pythia-6.9b", "pythia", "", "MMLU", "", "acc", "5", ""],                 # empty score
        ["pythia-6.9b", "pythia", "", "GSM8K", "12.5", "exact_match", "x", ""],    # bad shots
        ["pythia-12b", "pythia", "-1", "HellaSwag", "70.1", "acc_norm", "10", ""],  # sentinel size
        ["pythia-12b", "pythia", "abc", "TruthfulQA", "33.3", "mc2", "0", ""],     # unreadable size
        ["pythia-12b", "pythia", "0", "ARC-Challenge", "40.0", "acc_norm", "25", "bad"],  # sentinel + bad stderr
        ["pythia-12b", "pythia", "", "Hellaswg", "70.0", "acc_norm", "10", ""],    # misspelt benchmark
        ["pythia-12b", "pythia", "", "", "70.0", "acc_norm", "10", ""],            # empty benchmark
        *[["pythia-12b", "pythia", "", "piqa", f"{70 + i}.0", "acc", "0", ""] for i in range(5)],  # unknown x5
        ["pythia-70m", "pythia", "", "HellaSwag", "99.0", "acc_norm", "10", ""],   # different duplicate
        ["Pythia-160M", "pythia", "", "MMLU", "26.0", "acc", "5", ""],             # case variant
        ["qwen-7B", "qwen", "38.9", "MMLU", "60.0", "acc", "5", ""],               # size 38.9B vs name 7B
        ["llama-70B", "llama", "38.9", "HellaSwag", "85.0", "acc_norm", "10", ""],  # ratio 1.8
        ["llama-13B", "llama", "9.1", "HellaSwag", "80.0", "acc_norm", "10", ""],   # ratio 1.43
        ["llama-7B", "llama", "", "HellaSwag", "0.5", "acc_norm", "10", ""],        # fraction among percent
        ["Mixtral-8x7B", "mixtral", "", "HellaSwag", "86.0", "acc_norm", "10", ""],  # mixture of experts
        ["opt-2.7b", "opt", "2.7", "HellaSwag", "61.0", "acc_norm", "few", ""],    # shots 'few'
        ["opt-2.7b", "llama", "2.7", "MMLU", "26.1", "acc", "5", ""],              # conflicting family
        ["opt-2.7b", "opt", "5.4", "ARC-Challenge", "31.0", "acc_norm", "25", ""],  # conflicting size
    ]
    rows.extend(faults)
    rows.append(list(rows[0]))  # an exact duplicate
    return rows


def _wide(rng: random.Random) -> list[list[str]]:
    head = ["", "model", "#Params (B)", "is_base", "type", "HellaSwag", "TruthfulQA_MC2", "ARC", "MMLU",
            "XWinograd", "Hellaswg", "HellaSwag SE"]
    rows = [head]
    names = ["gpt2", "gpt2-medium", "bloom-1b1", "bloom-7b1", "stablelm-2-1_6b", "falcon-7b", "falcon-40b",
             "Mixtral_AI_128k_bioMedical", "GPT-2-Large-115k-steps", "llama-3-8b-instruct", "llama-70b"]
    for i, m in enumerate(names):
        size = {"gpt2": "0.124", "gpt2-medium": "0.355", "falcon-40b": "-1", "llama-70b": "38.9",
                "falcon-7b": "0.0", "bloom-7b1": "7.1B"}.get(m, "")
        base = {"llama-3-8b-instruct": "no", "gpt2": "maybe"}.get(m, "yes")
        typ = {"llama-3-8b-instruct": "chat", "falcon-40b": "pretrained", "bloom-1b1": "weird"}.get(m, "")
        cells = [f"{rng.uniform(25, 85):.1f}" for _ in range(4)]
        if m == "gpt2-medium":
            cells[1] = "n/a"
        if m == "falcon-7b":
            cells[2] = "inf"
        if m == "bloom-1b1":
            cells[3] = "12%%"
        rows.append([str(i), m, size, base, typ, *cells, f"{rng.uniform(0, 10):.1f}", "50", "0.4"])
    rows.append(["11", "gpt2", "0.124", "yes", "", "30", "40", "20", "25", "1", "50", "0.4"])  # duplicate model
    rows.append(["12", "short", "row"])  # wrong number of fields
    return rows


def main() -> None:
    rng = random.Random(12)
    with open(HERE / "long_faults.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["model", "family", "params_b", "benchmark", "score", "metric", "shots", "stderr"])
        w.writerows(_long(rng))
    with open(HERE / "wide_faults.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(_wide(rng))


if __name__ == "__main__":
    main()
