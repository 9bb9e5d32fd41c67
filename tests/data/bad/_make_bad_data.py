"""Regenerate the bad-input corpus in this folder (deterministic; run from the repository root).

    python tests/data/bad/_make_bad_data.py

Each file is one way an input can be wrong; tests/test_ingest_bad.py lists, per file, the arguments to give
``cape ingest`` and the words its one-sentence error must contain.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent

WIDE_HEAD = "model,family,params,HellaSwag,TruthfulQA\n"


def lm(results: dict, *, model: str | None = "EleutherAI/pythia-160m", params=162322944, nshot=None) -> dict:
    blob = {"results": results, "n-shot": nshot or {t: 0 for t in results},
            "config": {"model": "hf", "model_num_parameters": params, "batch_size": 1}, "date": 1714557123.5}
    if model is not None:
        blob["config"]["model_args"] = f"pretrained={model},dtype=float16"
        blob["model_name"] = model
    return blob


def hs(acc_norm, acc=0.29) -> dict:
    return {"alias": "hellaswag", "acc,none": acc, "acc_stderr,none": 0.0045, "acc_norm,none": acc_norm,
            "acc_norm_stderr,none": 0.0046}


TEXT: dict[str, str] = {
    "empty.csv": "",
    "blank.json": "\n   \n\t\n",
    "truncated.json": json.dumps(lm({"hellaswag": hs(0.30)}), indent=2)[:180],
    "trailing_comma.json": '{\n  "results": {\n    "hellaswag": {"acc,none": 0.3,}\n  }\n}\n',
    "list_top.json": "[1, 2, 3]\n",
    "no_results_key.json": json.dumps({"config": {"model_args": "pretrained=x/y"}, "versions": {}}, indent=2),
    "results_is_list.json": json.dumps({"results": [0.3, 0.4]}, indent=2),
    "results_empty.json": json.dumps({"results": {}, "config": {"model_args": "pretrained=x/y"}}, indent=2),
    "lmeval_percent_scores.json": json.dumps(lm({"hellaswag": hs(30.36, 28.7)}), indent=2),
    "lmeval_text_score.json": json.dumps(lm({"hellaswag": hs("high")}), indent=2),
    "lmeval_negative_score.json": json.dumps(lm({"hellaswag": hs(-0.2)}), indent=2),
    "lmeval_no_model_name.json": json.dumps(lm({"hellaswag": hs(0.30)}, model=None), indent=2),
    "lmeval_unknown_tasks_only.json": json.dumps(lm({"piqa": {"alias": "piqa", "acc,none": 0.62},
                                                     "boolq": {"alias": "boolq", "acc,none": 0.55}}), indent=2),
    "lmeval_absurd_params.json": json.dumps(lm({"hellaswag": hs(0.30)}, params=1e20), indent=2),
    "lmeval_params_text.json": json.dumps(lm({"hellaswag": hs(0.30)}, params="160M-ish"), indent=2),
    "lmeval_task_not_object.json": json.dumps(lm({"hellaswag": 0.30}), indent=2),
    "leaderboard_v1_bad_shots.json": json.dumps({"config_general": {"model_name": "EleutherAI/pythia-70m"},
                                                 "results": {"harness|hellaswag|ten": {"acc": 0.27, "acc_norm": 0.27},
                                                             "harness|arc:challenge|25": {"acc": 0.2, "acc_norm": 0.21}}},
                                                indent=2),
    "leaderboard_v1_over_one.json": json.dumps({"config_general": {"model_name": "EleutherAI/pythia-70m"},
                                                "results": {"harness|hellaswag|10": {"acc": 27.3, "acc_norm": 27.6},
                                                            "harness|arc:challenge|25": {"acc": 0.2, "acc_norm": 0.21}}},
                                               indent=2),
    "deeply_nested.json": "[" * 200_000 + "]" * 200_000,
    "unclosed_quote.csv": WIDE_HEAD + 'Pythia-70M,Pythia,70000000,27.3,47.1\n"Pythia-160M,Pythia,160000000,31.4,44.3\n',
    "ragged_row.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\nPythia-160M,Pythia,160000000,31.4,44.3,99\n",
    "no_model_column.csv": "family,params,HellaSwag,TruthfulQA\nPythia,70000000,27.3,47.1\n",
    "no_benchmark_columns.csv": "model,params,speed,cost\nPythia-70M,70000000,12,3\nPythia-160M,160000000,10,4\n",
    "typo_benchmark_column.csv": "model,params,HelaSwag,TruthfulQA\nPythia-70M,70000000,27.3,47.1\n",
    "long_typo_benchmark.csv": "model,benchmark,score\nPythia-70M,HellaSwag,27.3\nPythia-70M,TruthfullQA,47.1\n",
    "nan_score.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\nPythia-160M,Pythia,160000000,NaN,44.3\n",
    "text_score.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\nPythia-160M,Pythia,160000000,high,44.3\n",
    "duplicate_model_conflict.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\n"
                                                "Pythia-70M,Pythia,70000000,29.9,47.1\n",
    "negative_params.csv": WIDE_HEAD + "Pythia-70M,Pythia,-70000000,27.3,47.1\n",
    "absurd_params.csv": WIDE_HEAD + "Pythia-70M,Pythia,7e20,27.3,47.1\n",
    "params_text.csv": WIDE_HEAD + "Pythia-70M,Pythia,seventy million,27.3,47.1\n",
    "params_mixed_units.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\nPythia-1B,Pythia,1,49.7,38.9\n",
    "fractions_mixed_with_percent.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\n"
                                                    "Pythia-160M,Pythia,160000000,0.314,44.3\n",
    "percent_marked_and_fraction.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3%,47.1%\n"
                                                   "Pythia-160M,Pythia,160000000,0.314,0.443\n",
    "score_over_100.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,127.3,47.1\n",
    "header_only.csv": WIDE_HEAD,
    "duplicate_header.csv": "model,HellaSwag,HellaSwag\nPythia-70M,27.3,27.9\n",
    "single_column.csv": "model\nPythia-70M\nPythia-160M\n",
    "empty_model_name.csv": WIDE_HEAD + "Pythia-70M,Pythia,70000000,27.3,47.1\n,Pythia,160000000,31.4,44.3\n",
    "bad_shots.csv": "model,benchmark,score,shots\nPythia-70M,HellaSwag,27.3,ten\n",
    "bad_is_base.csv": "model,is_base,HellaSwag\nPythia-70M,maybe,27.3\n",
    "leaderboard_v2_bad_params.csv": "eval_name,fullname,#Params (B),IFEval,IFEval Raw,BBH,BBH Raw\n"
                                     "Qwen_Qwen2.5-7B_bfloat16,Qwen/Qwen2.5-7B,big,33.74,0.3374,35.81,0.5416\n",
    "epoch_bad_score/external_benchmark_hellaswag.csv": "id,Name,Model version,Overall accuracy,Shots,Notes,Source,Source link\n"
                           "rec1,LLaMA 7B,LLaMA-7B,ninety%,0,,paper,https://example.org\n",
    "epoch/external_benchmark_helaswag.csv": "id,Name,Model version,Overall accuracy,Shots,Notes,Source,Source link\n"
                                             "rec1,LLaMA 7B,LLaMA-7B,76.1%,0,,paper,https://example.org\n",
    "empty_dir/notes.txt": "no results in here\n",
    "results_dir_given_as_file.json/README.txt": "a folder whose name looks like a results file\n",
    "tree_with_broken_file/EleutherAI__pythia-70m/results_2024-05-01T10-00-00.000000.json":
        json.dumps(lm({"hellaswag": hs(0.27)}, model="EleutherAI/pythia-70m", params=70426624), indent=2),
    "tree_with_broken_file/EleutherAI__pythia-160m/results_2024-05-01T11-00-00.000000.json":
        json.dumps(lm({"hellaswag": hs(0.30)}), indent=2)[:-40],
    "conflict_params/a.csv": "model,params,HellaSwag\nPythia-70M,70000000,27.3\n",
    "conflict_params/b.csv": "model,params,TruthfulQA\nPythia-70M,7000000000,47.1\n",
    "conflict_scores/a.csv": "model,HellaSwag\nPythia-70M,27.3\n",
    "conflict_scores/b.csv": "model,HellaSwag\nPythia-70M,29.9\n",
    "map_syntax_error.toml": "[columns]\nmodel = \"Model\n",
    "map_missing_column.toml": "[columns]\nmodel = \"Nom du modele\"\n",
    "map_unknown_target.toml": "[benchmarks]\nHelaSwag = \"HellaSwag\"\n",
    "map_is_dir.toml/README.txt": "a folder given where a TOML file is expected\n",
    "family_map_bad_value.toml": "[families]\n\"pythia\" = 3\n",
}


def main() -> None:
    for name, text in TEXT.items():
        p = HERE / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(2048))
    (HERE / "binary_junk.csv").write_bytes(b"\x00\x01PK\x03\x04" + junk)
    (HERE / "binary_junk.json").write_bytes(b"\x89PNG\r\n\x1a\n" + junk)
    (HERE / "latin1.csv").write_bytes("model,HellaSwag\nCaf\u00e9-7B,61.2\n".encode("latin-1"))
    (HERE / "utf16_no_bom.csv").write_bytes("model,HellaSwag\nPythia-70M,27.3\n".encode("utf-16-le"))
    n = len(TEXT) + 4
    print(f"wrote {n} bad inputs under {HERE}")


if __name__ == "__main__":
    if "--clean" in __import__("sys").argv:
        for p in HERE.iterdir():
            if p.name != Path(__file__).name:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    main()
