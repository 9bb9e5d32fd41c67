"""Regenerate the fixture files of the stub Hub (deterministic; run from the repository root).

    python tests/data/hub/_make_hub_data.py CONTENTS_EXPORT_CSV

Sources:

* ``contents/data/train-00000-of-00001.parquet``: 38 rows of the Open LLM Leaderboard v2 contents (the Qwen2.5
  family with its instruct, coder and math variants, Pythia, OPT and three fine-tunes), cut from the public
  export hlzhang109/causal-eval @ ca2a96b : data/open_llm_leaderboard.csv (the contents dataset
  open-llm-leaderboard/contents, saved with pandas). Values unchanged; the pandas index column is dropped, as
  in the dataset's own Parquet layout.
* ``results/facebook/opt-*/results_<time>.json``: the archived v1 results layout
  (open-llm-leaderboard-old/results: ``<org>/<model>/results_<time>.json``, ``harness|task|shots`` keys) for
  the OPT family, with the v1 leaderboard values embedded in ``src/cape/data/base_models.csv`` (source column:
  Open LLM Leaderboard v1); only those values are written (no standard errors, no mc1). MMLU is left out (a v1 file without the 57 subjects is read without MMLU). An
  older run of opt-1.3b with different numbers checks that the newest run is the one fetched.
* ``details/Qwen__Qwen2.5-0.5B/results_<time>.json``: the layout of the leaderboard v2 per-model details
  datasets (open-llm-leaderboard/<org>__<model>-details), an lm-eval v0.4 results file with the leaderboard's task
  names, holding the raw 0-1 scores of the same model from the contents excerpt (BBH Raw, MATH Lvl 5 Raw, MUSR Raw,
  MMLU-PRO Raw) under the metrics those columns report (acc_norm, exact_match, acc_norm, acc).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KEEP = ("Qwen/Qwen2.5-", "EleutherAI/pythia-", "facebook/opt-", "Alsebay/Qwen2.5-7B-test-novelist",
        "OpenAssistant/oasst-sft-1-pythia-12b")
OPT = {"OPT-125M": "opt-125m", "OPT-350M": "opt-350m", "OPT-1.3B": "opt-1.3b", "OPT-2.7B": "opt-2.7b",
       "OPT-6.7B": "opt-6.7b", "OPT-13B": "opt-13b", "OPT-30B": "opt-30b", "OPT-66B": "opt-66b"}
TASKS = {"HellaSwag": ("harness|hellaswag|10", "acc_norm"), "TruthfulQA": ("harness|truthfulqa:mc|0", "mc2"),
         "ARC-Challenge": ("harness|arc:challenge|25", "acc_norm"), "WinoGrande": ("harness|winogrande|5", "acc")}


def make_contents(export: Path) -> None:
    df = pd.read_csv(export)
    df = df.drop(columns=[c for c in df.columns if c.startswith("Unnamed")])
    keep = df[df["fullname"].astype(str).str.startswith(KEEP)].reset_index(drop=True)
    out = HERE / "contents" / "data" / "train-00000-of-00001.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    keep.to_parquet(out, index=False)
    print(f"{out.relative_to(ROOT)}: {len(keep)} rows")


def v1_blob(model: str, scores: dict[str, float], start: float) -> dict:
    results = {}
    for bench, v in scores.items():
        key, metric = TASKS[bench]
        results[key] = {metric: round(v / 100, 4)}  # no stderr: the source gives none
    results["all"] = {"acc": round(sum(scores.values()) / 400, 4)}
    return {"config_general": {"model_name": model, "model_sha": "", "model_dtype": "torch.float16",
                               "start_time": start, "end_time": start + 3600.0},
            "results": results, "versions": {k: 0 for k in results}}


def make_v1() -> None:
    vals: dict[str, dict[str, float]] = {}
    with open(ROOT / "src" / "cape" / "data" / "base_models.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["model"] in OPT and row["benchmark"] in TASKS and "Leaderboard v1" in row["source"]:
                vals.setdefault(row["model"], {})[row["benchmark"]] = float(row["score"])
    for name, folder in OPT.items():
        blob = v1_blob(f"facebook/{folder}", vals[name], 1.69e9)
        p = HERE / "results" / "facebook" / folder / "results_2023-10-10T10-00-00.000000.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(blob, indent=1), encoding="utf-8")
    old = v1_blob("facebook/opt-1.3b", {b: v - 5 for b, v in vals["OPT-1.3B"].items()}, 1.68e9)
    (HERE / "results" / "facebook" / "opt-1.3b" / "results_2023-07-19T10-00-00.000000.json").write_text(
        json.dumps(old, indent=1), encoding="utf-8")
    print(f"results/facebook: {len(OPT)} models")


def make_details(export: Path) -> None:
    df = pd.read_csv(export)
    row = df[(df["fullname"] == "Qwen/Qwen2.5-0.5B") & (df["Precision"] == "bfloat16")].iloc[0]
    tasks = {"leaderboard_bbh": ("acc_norm,none", "BBH Raw", 3), "leaderboard_math_hard": ("exact_match,none",
                                                                                         "MATH Lvl 5 Raw", 4),
             "leaderboard_musr": ("acc_norm,none", "MUSR Raw", 0), "leaderboard_mmlu_pro": ("acc,none",
                                                                                         "MMLU-PRO Raw", 5)}
    blob = {"results": {t: {"alias": t.replace("leaderboard_", ""), m: float(row[c])} for t, (m, c, _) in tasks.items()},
            "n-shot": {t: k for t, (_, _, k) in tasks.items()},
            "config": {"model": "hf", "model_args": "pretrained=Qwen/Qwen2.5-0.5B,dtype=bfloat16"},
            "model_name": "Qwen/Qwen2.5-0.5B", "model_name_sanitized": "Qwen__Qwen2.5-0.5B",
            "date": 1726710835.0}
    p = HERE / "details" / "Qwen__Qwen2.5-0.5B" / "results_2024-09-19T01-53-55.171307.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(blob, indent=1), encoding="utf-8")
    print(f"{p.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    make_contents(Path(sys.argv[1]))
    make_v1()
    make_details(Path(sys.argv[1]))
