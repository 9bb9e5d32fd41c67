"""Regenerate the ingest test files in this folder (deterministic; run from the repository root).

    python tests/data/ingest/_make_ingest_data.py

The files imitate the real layouts: lm-evaluation-harness v0.4 ``results_<timestamp>.json`` trees (with the
MMLU group, its subgroups and 57 subjects, TruthfulQA mc1/mc2 under ``acc``, GSM8K filters, n-shot, n-samples,
config.model_args / model_num_parameters, a chat-template run, a revision run, a v0.3 file, a re-run of one
model and ``samples_*.jsonl`` beside them), Open LLM Leaderboard v1 per-model JSON (``harness|task|shots``,
57 hendrycksTest subjects, a resubmission, a NaN mc2, a wrong-MMLU-version file), the v2 ``contents`` table
(CSV and Parquet), Epoch Hub CSVs (percent strings, ``0.35±0.02``, Shots incl. ``few``, several sources) and
generic wide/long CSVs with a TOML mapping. Scores are plausible values, not real measurements.
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "src"))
from cape.ingest.common import MMLU_SUBJECTS  # noqa: E402

CATS = {"humanities": ("formal_logic", "high_school_european_history", "high_school_us_history",
                       "high_school_world_history", "international_law", "jurisprudence", "logical_fallacies",
                       "moral_disputes", "moral_scenarios", "philosophy", "prehistory", "professional_law",
                       "world_religions"),
        "social_sciences": ("econometrics", "high_school_geography", "high_school_government_and_politics",
                            "high_school_macroeconomics", "high_school_microeconomics", "high_school_psychology",
                            "human_sexuality", "professional_psychology", "public_relations", "security_studies",
                            "sociology", "us_foreign_policy"),
        "stem": ("abstract_algebra", "anatomy", "astronomy", "college_biology", "college_chemistry",
                 "college_computer_science", "college_mathematics", "college_physics", "computer_security",
                 "conceptual_physics", "electrical_engineering", "elementary_mathematics", "high_school_biology",
                 "high_school_chemistry", "high_school_computer_science", "high_school_mathematics",
                 "high_school_physics", "high_school_statistics", "machine_learning")}
CATS["other"] = tuple(s for s in MMLU_SUBJECTS if not any(s in v for v in CATS.values()))
N_ITEMS = {s: 100 + (i * 37) % 400 for i, s in enumerate(MMLU_SUBJECTS)}


def r6(x: float) -> float:
    return round(x, 6)


def se(p: float, n: int) -> float:
    return r6(math.sqrt(p * (1 - p) / (n - 1)))


def entry(alias: str, metrics: dict[str, float], n: int, filt: str = "none") -> dict:
    e = {"alias": alias}
    for m, v in metrics.items():
        e[f"{m},{filt}"] = r6(v)
        e[f"{m}_stderr,{filt}"] = se(v, n)
    return e


def lmeval_blob(model_id: str, params: int | None, tasks: dict, *, date: float, revision: str | None = None,
                chat: bool = False, mmlu: float | None = None, mmlu_group: bool = True, seed: int = 0) -> dict:
    """tasks: name -> (shots, {metric: value}) ; mmlu: mean subject accuracy (adds 57 subjects)."""
    rng = random.Random(seed)
    results, n_shot, n_samples, configs, versions, hib = {}, {}, {}, {}, {}, {}
    group_subtasks: dict[str, list] = {}
    sizes = {"hellaswag": 10042, "arc_challenge": 1172, "winogrande": 1267, "truthfulqa_mc1": 817,
             "truthfulqa_mc2": 817, "truthfulqa_gen": 817, "gsm8k": 1319, "piqa": 1838, "lambada_openai": 5153}
    for t, (shots, mets) in tasks.items():
        n = sizes.get(t, 1000)
        if t == "gsm8k":
            e = {"alias": t}
            for filt, v in mets.items():
                e[f"exact_match,{filt}"] = r6(v)
                e[f"exact_match_stderr,{filt}"] = se(v, n)
            results[t] = e
            mlist = ["exact_match"]
        elif t == "truthfulqa_gen":
            results[t] = {"alias": " - truthfulqa_gen", **{f"{k},none": r6(v) for k, v in mets.items()},
                          **{f"{k}_stderr,none": 0.8 for k in mets}}
            mlist = list(mets)
        else:
            alias = f" - {t}" if t.startswith("truthfulqa") else t
            results[t] = entry(alias, mets, n)
            mlist = list(mets)
        n_shot[t] = shots
        n_samples[t] = {"original": n, "effective": n}
        versions[t] = 1.0 if t != "truthfulqa_mc2" else 2.0
        hib[t] = {m: True for m in mlist}
        configs[t] = {"task": t, "dataset_path": f"data/{t}", "num_fewshot": shots,
                      "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in mlist],
                      "output_type": "generate_until" if t in ("gsm8k", "truthfulqa_gen") else "multiple_choice",
                      "metadata": {"version": versions[t]}}
        group_subtasks[t] = []
    if any(t.startswith("truthfulqa_") for t in tasks):
        results["truthfulqa"] = {"alias": "truthfulqa"}
        group_subtasks["truthfulqa"] = sorted(t for t in tasks if t.startswith("truthfulqa_"))
        for t in group_subtasks["truthfulqa"]:
            group_subtasks.pop(t, None)
    if mmlu is not None:
        subj_vals = {}
        for s in MMLU_SUBJECTS:
            v = min(0.95, max(0.05, mmlu + rng.gauss(0, 0.04)))
            subj_vals[s] = v
            t = f"mmlu_{s}"
            results[t] = entry(f"  - {s.replace('_', ' ')}", {"acc": v}, N_ITEMS[s])
            n_shot[t] = 5
            n_samples[t] = {"original": N_ITEMS[s], "effective": N_ITEMS[s]}
            versions[t] = 1.0
            hib[t] = {"acc": True}
            configs[t] = {"task": t, "dataset_path": "hails/mmlu_no_train", "dataset_name": s, "num_fewshot": 5,
                          "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
                          "output_type": "multiple_choice",
                          "tag": f"mmlu_{[c for c, v in CATS.items() if s in v][0]}_tasks"}
        if mmlu_group:
            tot = sum(N_ITEMS.values())
            gv = sum(subj_vals[s] * N_ITEMS[s] for s in MMLU_SUBJECTS) / tot
            results["mmlu"] = entry("mmlu", {"acc": gv}, tot)
            for c, subs in CATS.items():
                cn = sum(N_ITEMS[s] for s in subs)
                cv = sum(subj_vals[s] * N_ITEMS[s] for s in subs) / cn
                results[f"mmlu_{c}"] = entry(f" - {c.replace('_', ' ')}", {"acc": cv}, cn)
                group_subtasks[f"mmlu_{c}"] = [f"mmlu_{s}" for s in subs]
                hib[f"mmlu_{c}"] = {"acc": True}
            group_subtasks["mmlu"] = [f"mmlu_{c}" for c in sorted(CATS)]
            hib["mmlu"] = {"acc": True}
            versions["mmlu"] = 2
    args = f"pretrained={model_id},dtype=bfloat16" + (f",revision={revision}" if revision else "")
    template = ("{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}"
                if chat else None)
    blob = {
        "results": results,
        "group_subtasks": group_subtasks,
        "configs": configs,
        "versions": versions,
        "n-shot": n_shot,
        "higher_is_better": hib,
        "n-samples": n_samples,
        "config": {"model": "hf", "model_args": args, "model_num_parameters": params, "model_dtype": "torch.bfloat16",
                   "model_revision": revision or "main", "model_sha": "", "batch_size": "auto", "batch_sizes": [64],
                   "device": "cuda:0", "use_cache": None, "limit": None, "bootstrap_iters": 100000,
                   "gen_kwargs": None, "random_seed": 0, "numpy_seed": 1234, "torch_seed": 1234,
                   "fewshot_seed": 1234},
        "git_hash": "4e7e0d4",
        "date": date,
        "pretty_env_info": "PyTorch version: 2.5.1+cu124",
        "transformers_version": "4.46.3",
        "lm_eval_version": "0.4.7",
        "upper_git_hash": None,
        "tokenizer_pad_token": ["<|endoftext|>", "0"],
        "tokenizer_eos_token": ["<|endoftext|>", "0"],
        "tokenizer_bos_token": ["<|endoftext|>", "0"],
        "eot_token_id": 0,
        "max_length": 2048,
        "task_hashes": {},
        "model_source": "hf",
        "model_name": model_id,
        "model_name_sanitized": model_id.replace("/", "__"),
        "system_instruction": None,
        "system_instruction_sha": None,
        "fewshot_as_multiturn": chat,
        "chat_template": template,
        "chat_template_sha": "9c1f5e2a" if chat else None,
        "start_time": 1000.0,
        "end_time": 4000.0,
        "total_evaluation_time_seconds": "3000.0",
    }
    return blob


def ts_name(iso: str) -> str:
    return f"results_{iso.replace(':', '-')}.json"


def write_json(path: Path, obj, nan_ok: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, allow_nan=nan_ok) + "\n", encoding="utf-8")


def epoch_seconds(iso: str) -> float:
    from datetime import datetime, timezone

    return datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp()


def make_lmeval(root: Path) -> None:
    base = root / "lmeval"
    # pythia-160m: a full run, then a later re-run of hellaswag
    iso = "2024-05-01T10:12:03.551212"
    tasks = {"hellaswag": (10, {"acc": 0.2872, "acc_norm": 0.3036}), "arc_challenge": (25, {"acc": 0.1997,
             "acc_norm": 0.2415}), "winogrande": (5, {"acc": 0.5138}), "truthfulqa_mc1": (0, {"acc": 0.2448}),
             "truthfulqa_mc2": (0, {"acc": 0.4432}), "truthfulqa_gen": (0, {"bleu_max": 17.3, "bleu_acc": 0.33}),
             "piqa": (0, {"acc": 0.6192, "acc_norm": 0.6183})}
    p = base / "EleutherAI__pythia-160m"
    write_json(p / ts_name(iso), lmeval_blob("EleutherAI/pythia-160m", 162322944, tasks, date=epoch_seconds(iso),
                                             mmlu=0.249, seed=1))
    (p / f"samples_hellaswag_{iso.replace(':', '-')}.jsonl").write_text(
        '{"doc_id": 0, "target": "2", "filtered_resps": [["-12.1", "False"]], "acc": 0.0, "acc_norm": 1.0}\n'
        '{"doc_id": 1, "target": "0", "filtered_resps": [["-9.4", "True"]], "acc": 1.0, "acc_norm": 1.0}\n',
        encoding="utf-8")
    iso2 = "2024-06-02T08:00:41.004120"
    write_json(p / ts_name(iso2), lmeval_blob("EleutherAI/pythia-160m", 162322944,
                                              {"hellaswag": (10, {"acc": 0.2880, "acc_norm": 0.3051})},
                                              date=epoch_seconds(iso2)))
    # pythia-410m (nested one level deeper), with GSM8K filters
    iso = "2024-05-03T14:40:00.120000"
    tasks = {"hellaswag": (10, {"acc": 0.3379, "acc_norm": 0.4068}), "arc_challenge": (25, {"acc": 0.2201,
             "acc_norm": 0.2619}), "winogrande": (5, {"acc": 0.5312}), "truthfulqa_mc1": (0, {"acc": 0.2338}),
             "truthfulqa_mc2": (0, {"acc": 0.4125}), "gsm8k": (5, {"strict-match": 0.0099, "flexible-extract": 0.0152})}
    write_json(base / "pythia" / "EleutherAI__pythia-410m" / ts_name(iso),
               lmeval_blob("EleutherAI/pythia-410m", 405334016, tasks, date=epoch_seconds(iso), mmlu=0.266, seed=2))
    # pythia-1b at a training checkpoint (revision) - deeper still
    iso = "2024-05-04T09:00:00.000001"
    tasks = {"hellaswag": (10, {"acc": 0.3601, "acc_norm": 0.4410}), "truthfulqa_mc2": (0, {"acc": 0.4012})}
    write_json(base / "pythia" / "checkpoints" / "EleutherAI__pythia-1b" / ts_name(iso),
               lmeval_blob("EleutherAI/pythia-1b", 1011781632, tasks, date=epoch_seconds(iso), revision="step100000"))
    # opt-125m: MMLU subjects but no group aggregate (older harness layout)
    iso = "2024-04-20T17:05:09.700000"
    tasks = {"hellaswag": (10, {"acc": 0.2915, "acc_norm": 0.3147}), "truthfulqa_mc2": (0, {"acc": 0.4287}),
             "winogrande": (5, {"acc": 0.5028})}
    write_json(base / "opt" / "facebook__opt-125m" / ts_name(iso),
               lmeval_blob("facebook/opt-125m", 125239296, tasks, date=epoch_seconds(iso), mmlu=0.246,
                           mmlu_group=False, seed=3))
    # a chat model evaluated with its chat template
    iso = "2024-05-10T11:11:11.111111"
    tasks = {"hellaswag": (10, {"acc": 0.5780, "acc_norm": 0.7551}), "truthfulqa_mc1": (0, {"acc": 0.3023}),
             "truthfulqa_mc2": (0, {"acc": 0.4532}), "arc_challenge": (25, {"acc": 0.4932, "acc_norm": 0.5290})}
    write_json(base / "chat" / "meta-llama__Llama-2-7b-chat-hf" / ts_name(iso),
               lmeval_blob("meta-llama/Llama-2-7b-chat-hf", 6738415616, tasks, date=epoch_seconds(iso), chat=True,
                           mmlu=0.464, seed=4))
    # an lm-eval 0.3 file: metric names without filters, truthfulqa_mc with mc1/mc2, hendrycksTest subjects
    res = {"hellaswag": {"acc": 0.3452, "acc_stderr": 0.0047, "acc_norm": 0.4215, "acc_norm_stderr": 0.0049},
           "truthfulqa_mc": {"mc1": 0.2301, "mc1_stderr": 0.0147, "mc2": 0.3961, "mc2_stderr": 0.0142},
           "arc_challenge": {"acc": 0.2125, "acc_stderr": 0.0120, "acc_norm": 0.2466, "acc_norm_stderr": 0.0126}}
    legacy = {"results": res, "versions": {"hellaswag": 0, "truthfulqa_mc": 1, "arc_challenge": 0},
              "config": {"model": "hf-causal-experimental", "model_args": "pretrained=HuggingFaceTB/SmolLM2-135M",
                         "num_fewshot": 0, "batch_size": 1, "device": "cuda", "no_cache": False, "limit": None,
                         "bootstrap_iters": 100000, "description_dict": {}}}
    write_json(base / "legacy" / "HuggingFaceTB__SmolLM2-135M" / "results.json", legacy)


def v1_blob(model: str, sha: str, vals: dict, mmlu: float, *, seed: int, old_config: bool = False,
            mmlu_version: int = 1, start: float = 1.0) -> dict:
    rng = random.Random(seed)
    res = {
        "harness|arc:challenge|25": {"acc": vals["arc"][0], "acc_stderr": 0.0135, "acc_norm": vals["arc"][1],
                                     "acc_norm_stderr": 0.0142},
        "harness|hellaswag|10": {"acc": vals["hs"][0], "acc_stderr": 0.0049, "acc_norm": vals["hs"][1],
                                 "acc_norm_stderr": 0.0050},
    }
    ver = {"harness|arc:challenge|25": 0, "harness|hellaswag|10": 0}
    for s in MMLU_SUBJECTS:
        v = r6(min(0.9, max(0.1, mmlu + rng.gauss(0, 0.05))))
        k = f"harness|hendrycksTest-{s}|5"
        res[k] = {"acc": v, "acc_stderr": se(v, N_ITEMS[s]), "acc_norm": v, "acc_norm_stderr": se(v, N_ITEMS[s])}
        ver[k] = mmlu_version
    res["harness|truthfulqa:mc|0"] = {"mc1": vals["tqa"][0], "mc1_stderr": 0.0150, "mc2": vals["tqa"][1],
                                      "mc2_stderr": 0.0142}
    ver["harness|truthfulqa:mc|0"] = 1
    if "wg" in vals:
        res["harness|winogrande|5"] = {"acc": vals["wg"], "acc_stderr": 0.0139}
        res["harness|gsm8k|5"] = {"acc": vals["gsm8k"], "acc_stderr": 0.0043}
        res["harness|drop|3"] = {"em": 0.0012, "em_stderr": 0.0003, "f1": 0.0451, "f1_stderr": 0.0011}
        ver.update({"harness|winogrande|5": 0, "harness|gsm8k|5": 0, "harness|drop|3": 1})
    res["all"] = {"acc": 0.3, "acc_stderr": 0.03, "acc_norm": 0.31, "acc_norm_stderr": 0.03}
    cfg = {"model_name": model, "model_sha": sha, "model_dtype": "torch.float16",
           "lighteval_sha": "0f318ecf002208468154899217b3ba7c6ae09374",
           "num_few_shot_default": 0, "num_fewshot_seeds": 1, "override_batch_size": 1, "max_samples": None}
    if old_config:
        return {"config": cfg, "results": res, "versions": ver}
    cfg.update({"job_id": "", "start_time": start, "end_time": start + 3600.0, "total_evaluation_time_secondes":
                "3600.0", "model_size": "2.61 GB"})
    return {"config_general": cfg, "results": res, "versions": {**ver, "all": 0},
            "config_tasks": {}, "summary_tasks": {}, "summary_general": {"hashes": {}, "truncated": 0}}


def make_leaderboard(root: Path) -> None:
    base = root / "leaderboard_v1"
    write_json(base / "EleutherAI" / "pythia-1.4b" / "results_2023-07-19T16-30-47.402429.json",
               v1_blob("EleutherAI/pythia-1.4b", "fedc38a16eea3bd36a96b906d78d11d2ce18ed79",
                       {"arc": (0.2884, 0.3259), "hs": (0.4081, 0.5423), "tqa": (0.2277, 0.3866)}, 0.2656, seed=5,
                       old_config=True))
    write_json(base / "EleutherAI" / "pythia-1.4b" / "results_2023-10-08T20-47-34.126370.json",
               v1_blob("EleutherAI/pythia-1.4b", "fedc38a16eea3bd36a96b906d78d11d2ce18ed79",
                       {"arc": (0.2884, 0.3268), "hs": (0.4081, 0.5437), "tqa": (0.2277, 0.3867), "wg": 0.5730,
                        "gsm8k": 0.0144}, 0.2660, seed=6))
    nanblob = v1_blob("tiiuae/falcon-7b", "898df1396f35e447d5fe44e0a3ccaaaa69f30d36",
                      {"arc": (0.4386, 0.4787), "hs": (0.5776, 0.7808), "tqa": (0.2240, float("nan")), "wg": 0.7238,
                       "gsm8k": 0.0462}, 0.2779, seed=7)
    write_json(base / "tiiuae" / "falcon-7b" / "results_2023-10-09T10-10-10.000001.json", nanblob, nan_ok=True)
    write_json(base / "huggyllama" / "llama-7b" / "results_2023-07-19T10-00-00.000000.json",
               v1_blob("huggyllama/llama-7b", "8416d3fefb0cb3ff5775a7b13c1692d10ff1aa16",
                       {"arc": (0.4795, 0.5094), "hs": (0.5722, 0.7781), "tqa": (0.2203, 0.3408)}, 0.3580, seed=8,
                       old_config=True, mmlu_version=0))


V2_HEADER = ["eval_name", "Precision", "Type", "T", "Weight type", "Architecture", "Model", "fullname", "Model sha",
             "Average ⬆️", "Hub License", "Hub ❤️", "#Params (B)", "Available on the hub", "MoE", "Flagged",
             "Chat Template", "CO₂ cost (kg)", "IFEval Raw", "IFEval", "BBH Raw", "BBH", "MATH Lvl 5 Raw",
             "MATH Lvl 5", "GPQA Raw", "GPQA", "MUSR Raw", "MUSR", "MMLU-PRO Raw", "MMLU-PRO", "Merged",
             "Official Providers", "Upload To Hub Date", "Submission Date", "Generation", "Base Model"]


def v2_rows() -> list[list]:
    def row(full, prec, typ, params, raw, norm, flagged=False, chat=False, date="2024-09-16"):
        org, name = full.split("/")
        link = f'<a target="_blank" href="https://huggingface.co/{full}">{full}</a>'
        avg = round(sum(norm) / 6, 2)
        cells = [f"{full.replace('/', '_')}_{prec}", prec, typ, typ[0], "Original", "Qwen2ForCausalLM", link, full,
                 "e4ab1d2c", avg, "apache-2.0", 120, params, True, False, flagged, chat, 1.21]
        for r, n in zip(raw, norm):
            cells += [r, n]
        cells += [False, org in ("Qwen", "meta-llama"), date, "2024-09-19", 0, full]
        return cells

    pre, chat = "🟢 : 🟢 pretrained", "💬 : 💬 chat models (RLHF, DPO, IFT, ...)"
    return [
        row("Qwen/Qwen2.5-0.5B", "bfloat16", pre, 0.5, (0.1627, 0.3275, 0.0393, 0.2458, 0.3433, 0.1906),
            (16.27, 6.95, 3.93, 0.0, 2.08, 10.06)),
        row("Qwen/Qwen2.5-1.5B", "bfloat16", pre, 1.544, (0.2674, 0.4078, 0.0914, 0.2852, 0.3576, 0.2855),
            (26.74, 16.66, 9.14, 4.69, 5.27, 20.61)),
        row("Qwen/Qwen2.5-7B", "bfloat16", pre, 7.616, (0.3374, 0.5416, 0.2024, 0.3247, 0.4424, 0.4365),
            (33.74, 35.81, 20.24, 9.96, 14.52, 37.39)),
        row("Qwen/Qwen2.5-7B-Instruct", "bfloat16", chat, 7.616, (0.7585, 0.5394, 0.5000, 0.2911, 0.4020, 0.4287),
            (75.85, 34.89, 50.00, 5.48, 8.45, 36.52), chat=True),
        row("meta-llama/Llama-3.1-8B", "bfloat16", pre, 8.03, (0.1246, 0.4659, 0.0498, 0.3104, 0.3812, 0.3288),
            (12.46, 25.05, 4.98, 6.04, 8.61, 24.95)),
        row("meta-llama/Llama-3.1-8B", "float16", pre, 8.03, (0.1230, 0.4662, 0.0476, 0.3087, 0.3813, 0.3287),
            (12.30, 25.09, 4.76, 5.82, 8.63, 24.97)),
        row("someone/merge-of-merges-7B", "bfloat16", "🤝 : 🤝 base merges and moerges", 7.24,
            (0.4457, 0.5210, 0.0718, 0.3012, 0.4389, 0.3055), (44.57, 32.51, 7.18, 6.82, 13.87, 22.83), flagged=True),
        row("unknown-lab/mystery-model", "bfloat16", "🔶 : 🔶 fine-tuned on domain-specific datasets", 0,
            (0.3000, 0.4000, 0.0300, 0.2800, 0.3600, 0.2500), (30.00, 14.00, 3.00, 4.00, 4.50, 16.67)),
    ]


def make_v2(root: Path) -> None:
    import csv

    rows = v2_rows()
    with open(root / "leaderboard_v2_contents.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(V2_HEADER)
        w.writerows(rows)
    try:
        import pandas as pd

        df = pd.DataFrame(rows, columns=V2_HEADER)
        df.to_parquet(root / "leaderboard_v2_contents.parquet", index=False)
    except ImportError:  # pragma: no cover
        print("pyarrow missing: the Parquet copy was not written")


EPOCH_HS = """id,Name,Model version,Overall accuracy,Shots,Notes,Source,Source link
rec0000000000001,LLaMA 7B,LLaMA-7B,76.1%,0,,LLaMA: Open and Efficient Foundation Language Models,https://arxiv.org/abs/2302.13971
rec0000000000002,LLaMA 13B,LLaMA-13B,79.2%,0,,LLaMA: Open and Efficient Foundation Language Models,https://arxiv.org/abs/2302.13971
rec0000000000003,LLaMA 65B,LLaMA-65B,84.2%,0,,LLaMA: Open and Efficient Foundation Language Models,https://arxiv.org/abs/2302.13971
rec0000000000004,Falcon 7B,falcon-7b,76.3%,0,,Falcon2-11B Technical Report,https://arxiv.org/abs/2407.14885
rec0000000000005,Falcon 7B,falcon-7b,78.1%,10,,Falcon2-11B Technical Report,https://arxiv.org/abs/2407.14885
rec0000000000006,Falcon 7B,falcon-7b,74.1%,0,,Qwen Technical Report,https://arxiv.org/abs/2309.16609
rec0000000000007,GPT-3 Few-Shot,text-davinci-001,79.3%,few,,Language Models are Few-Shot Learners,https://arxiv.org/abs/2005.14165
rec0000000000008,Mixtral 8x7B,Mixtral-8x7B-v0.1,86.7%,10,,Mixtral of Experts,https://arxiv.org/abs/2401.04088
rec0000000000009,Mistral 7B,Mistral-7B-v0.1,81.0%,,,Mixtral of Experts,https://arxiv.org/abs/2401.04088
rec0000000000010,Gemma 2B,gemma-2b,71.4%,0,"Run with the
HuggingFace H6 suite",Gemma: Open Models Based on Gemini Research and Technology,https://arxiv.org/abs/2403.08295
rec0000000000011,Yi-9B,,76.4%,,,Yi: Open Foundation Models by 01.AI,https://arxiv.org/abs/2403.04652
rec0000000000012,LLaMA 13B,LLaMA-13B,79.2%,0,,Gemma: Open Models Based on Gemini Research and Technology,https://arxiv.org/abs/2403.08295
"""

EPOCH_RUNS = """id,task,model,Best score (across scorers),Scores,log viewer,logs,started_at,Status
run0001,SWE-Bench verified,claude-3-7-sonnet-20250219,0.522,swe_bench_scorer:0.52±0.02,https://logs.example/1,https://logs.example/1.eval,24 April 2025 6:49pm,Success
run0002,SWE-Bench verified,gpt-4.1-2025-04-14,0.410,swe_bench_scorer:0.41±0.02,https://logs.example/2,https://logs.example/2.eval,30 April 2025 7:13am,Success
run0003,SWE-Bench verified,gpt-4.1-2025-04-14,0.396,swe_bench_scorer:0.40±0.02,https://logs.example/3,https://logs.example/3.eval,2 March 2025 7:13am,Success
run0004,GPQA diamond,claude-3-7-sonnet-20250219,0.684,choice:0.68±0.03,https://logs.example/4,https://logs.example/4.eval,25 February 2025 9:05am,Success
run0005,GPQA diamond,gpt-4.1-2025-04-14,0.665,choice:0.67±0.03,https://logs.example/5,https://logs.example/5.eval,15 April 2025 1:05pm,Success
run0006,GPQA diamond,grok-3-beta,,,https://logs.example/6,https://logs.example/6.eval,30 April 2025 5:43am,Failed
run0007,OTIS Mock AIME 2024-2025,gpt-4.1-2025-04-14,0.381,model_graded:0.38±0.05,https://logs.example/7,https://logs.example/7.eval,15 April 2025 2:00pm,Success
run0008,FrontierMath-2025-02-28-Private,gpt-4.1-2025-04-14,0.041,verifier:0.04±0.01,https://logs.example/8,https://logs.example/8.eval,16 April 2025 2:00pm,Success
"""

WIDE_BASIC = """model,family,params,HellaSwag,TruthfulQA,ARC-Challenge,WinoGrande,MMLU,Average
Pythia-70M,Pythia,70000000,27.3,47.1,21.6,51.5,25.9,34.7
Pythia-160M,Pythia,160000000,31.4,44.3,24.1,51.4,24.9,35.2
Pythia-410M,Pythia,410000000,40.9,41.2,26.2,53.1,27.3,37.7
Pythia-1B,Pythia,1000000000,49.7,38.9,29.1,53.6,24.3,39.1
Pythia-1.4B,Pythia,1400000000,52.9,38.9,31.5,58.0,25.8,41.4
OPT-125M,OPT,125000000,31.5,42.9,22.9,51.6,26.0,35.0
OPT-350M,OPT,350000000,36.7,41.0,23.6,52.6,26.0,36.0
OPT-1.3B,OPT,1300000000,54.5,38.7,29.6,59.6,25.1,41.5
Cerebras-GPT-111M,Cerebras-GPT,111000000,26.7,46.3,20.0,48.8,25.9,33.5
Cerebras-GPT-590M,Cerebras-GPT,590000000,32.4,44.2,23.7,49.8,26.0,35.2
"""

WIDE_FRACTIONS = """model,params_B,hellaswag,hellaswag_stderr,truthfulqa_mc2,truthfulqa_mc2_stderr,arc_challenge
EleutherAI/gpt-neo-125m,0.125,0.3034,0.0046,0.4558,0.0157,0.2295
EleutherAI/gpt-neo-1.3B,1.3,0.4857,0.0050,0.3963,0.0153,0.3123
EleutherAI/gpt-neo-2.7B,2.7,0.5624,0.0050,0.3978,0.0151,0.3336
EleutherAI/gpt-j-6b,6.05,0.6624,0.0047,0.3596,0.0140,0.4138
"""

WIDE_VARIANTS = """Model,#Params (B),HellaSwag (10-shot),TruthfulQA_MC1,TruthfulQA_MC2,Winogrande (5-shot),Notes
bigscience/bloom-560m,0.559,37.0%,24.4%,42.4%,51.5%,base
bigscience/bloom-1b1,1.065,42.9%,22.5%,41.8%,55.0%,
bigscience/bloom-3b,3.003,54.6%,21.7%,40.6%,57.6%,
bigscience/bloom-7b1,7.069,62.0%,22.4%,38.9%,65.4%,-
"""

LONG = """model,family,params,benchmark,score,metric,shots,stderr,source
Llama-2-7B,Llama-2,6.74e9,HellaSwag,78.6,acc_norm,10,0.41,Open LLM Leaderboard v1
Llama-2-7B,Llama-2,6.74e9,TruthfulQA,38.8,mc2,0,1.36,Open LLM Leaderboard v1
Llama-2-7B,Llama-2,6.74e9,truthfulqa_mc1,25.2,,0,1.52,Open LLM Leaderboard v1
Llama-2-7B,Llama-2,6.74e9,ARC-Challenge,53.1,acc_norm,25,,Open LLM Leaderboard v1
Llama-2-7B,Llama-2,6.74e9,piqa,78.1,acc,0,,own run
Llama-2-13B,Llama-2,1.3e10,HellaSwag,82.1,acc_norm,10,0.38,Open LLM Leaderboard v1
Llama-2-13B,Llama-2,1.3e10,TruthfulQA,37.4,mc2,0,1.34,Open LLM Leaderboard v1
Llama-2-13B,Llama-2,1.3e10,ARC-Challenge,59.4,acc_norm,25,,Open LLM Leaderboard v1
Llama-2-70B,Llama-2,6.9e10,HellaSwag,87.3,acc_norm,10,0.33,Open LLM Leaderboard v1
Llama-2-70B,Llama-2,6.9e10,TruthfulQA,44.9,mc2,0,1.41,Open LLM Leaderboard v1
Llama-2-70B,Llama-2,6.9e10,ARC-Challenge,67.3,acc_norm,25,,Open LLM Leaderboard v1
Llama-2-70B,Llama-2,6.9e10,HellaSwag,87.3,acc_norm,10,0.33,Open LLM Leaderboard v1 (mirror)
"""

CUSTOM = """Model name;Size (M);Lab;hs_10shot;tqa;arc
olmo-1b;1177;AI2;62.5;32.9;34.5
olmo-7b;6888;AI2;76.4;36.0;45.6
"""

CUSTOM_MAP = """# column mapping for custom_layout.csv (semicolon-separated, sizes in millions)
params_unit = "M"

[columns]
model = "Model name"
params = "Size (M)"
lab = "Lab"

[benchmarks]
HellaSwag = "hs_10shot"
"TruthfulQA[mc2]" = "tqa"
ARC-Challenge = "arc"

[shots]
HellaSwag = 10
ARC-Challenge = 25

[defaults]
source = "OLMo technical report, table 6"
"""

FAMILIES = """# family overrides: model name or prefix = family
[families]
"olmo-" = "OLMo"
"EleutherAI/gpt-neo-" = "GPT-Neo"
"EleutherAI/gpt-j" = "GPT-J/NeoX"
"""


def main() -> None:
    root = HERE
    make_lmeval(root)
    make_leaderboard(root)
    make_v2(root)
    (root / "epoch").mkdir(exist_ok=True)
    (root / "epoch" / "external_benchmark_hellaswag.csv").write_text(EPOCH_HS, encoding="utf-8")
    (root / "epoch" / "benchmarks_runs.csv").write_text(EPOCH_RUNS, encoding="utf-8")
    for name, text in (("wide_basic.csv", WIDE_BASIC), ("wide_fractions_params_b.csv", WIDE_FRACTIONS),
                       ("wide_variants_percent.csv", WIDE_VARIANTS), ("long_scores.csv", LONG),
                       ("custom_layout.csv", CUSTOM), ("custom_map.toml", CUSTOM_MAP), ("families.toml", FAMILIES)):
        (root / name).write_text(text, encoding="utf-8")
    print(f"wrote ingest test data under {root}")


if __name__ == "__main__":
    main()
