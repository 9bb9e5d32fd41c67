"""Readers of cape.ingest on the realistic files in tests/data/ingest, and the `cape ingest` command."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cape.errors import DataError, NotFoundError
from cape.ingest import read_any
from cape.ingest.common import (CellError, load_json, params_from_name, parse_params, parse_score,
                                timestamp_from_name)
from cape.ingest.csv_generic import parse_bench_header, parse_mapping
from cape.scores import ScoreTable

DATA = Path(__file__).parent / "data" / "ingest"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_data(monkeypatch):
    monkeypatch.chdir(DATA)


def one(table: ScoreTable, model: str, bench: str, metric: str | None = None) -> pd.Series:
    df = table.long
    sel = df[(df["model"] == model) & (df["benchmark"] == bench)]
    if metric is not None:
        sel = sel[sel["metric"] == metric]
    assert len(sel) == 1, sel
    return sel.iloc[0]


# ----------------------------------------------------------------------------------------------- generic CSV

def test_wide_csv_needs_no_options():
    t, r = read_any("wide_basic.csv")
    assert t.n_models == 10
    assert t.benchmarks == ["HellaSwag", "TruthfulQA", "ARC-Challenge", "WinoGrande", "MMLU"]
    assert t.families == ["Cerebras-GPT", "OPT", "Pythia"]
    row = one(t, "Pythia-410M", "TruthfulQA")
    assert row["score"] == pytest.approx(41.2) and row["metric"] == "mc2" and row["params"] == 4.1e8
    assert r.files[0].format == "csv-wide" and r.files[0].rows == 50
    # the Average column is reported, not silently ignored
    assert [(d.item, d.reason.split(";")[0]) for d in r.dropped] == [
        ("column Average", "not a benchmark CAPE knows or a model attribute")]


def test_fractions_params_in_billions_and_stderr_columns():
    t, r = read_any("wide_fractions_params_b.csv")
    row = one(t, "EleutherAI/gpt-neo-1.3B", "HellaSwag")
    assert row["score"] == pytest.approx(48.57)
    assert row["stderr"] == pytest.approx(0.50)  # 0.0050 fraction -> 0.50 percent points
    assert row["params"] == pytest.approx(1.3e9)
    assert one(t, "EleutherAI/gpt-j-6b", "TruthfulQA")["metric"] == "mc2"
    msgs = " | ".join(n.message for n in r.notes)
    assert "fractions" in msgs and "billions" in msgs


def test_units_override_refuses_percent_declared_as_fraction():
    with pytest.raises(DataError, match="declared fractions"):
        read_any("wide_basic.csv", units="fraction")
    t, _ = read_any("wide_fractions_params_b.csv", units="percent")
    assert one(t, "EleutherAI/gpt-j-6b", "HellaSwag")["score"] == pytest.approx(0.6624)


def test_metric_and_shots_from_column_names_keep_mc1_and_mc2_apart():
    t, r = read_any("wide_variants_percent.csv")
    tq = t.long[t.long["benchmark"] == "TruthfulQA"]
    assert sorted(tq["metric"].unique()) == ["mc1", "mc2"]
    assert one(t, "bigscience/bloom-3b", "TruthfulQA", "mc1")["score"] == pytest.approx(21.7)
    assert one(t, "bigscience/bloom-3b", "HellaSwag")["shots"] == 10
    assert one(t, "bigscience/bloom-3b", "WinoGrande")["shots"] == 5
    assert one(t, "bigscience/bloom-7b1", "HellaSwag")["params"] == pytest.approx(7.069e9)
    assert r.mixed_variants() == {"TruthfulQA": ["mc1", "mc2"]}
    with pytest.raises(DataError, match="mixes metric variants"):
        t.check_variants()
    assert t.select_variant("TruthfulQA", "mc2").wide()["TruthfulQA"].notna().all()


def test_long_csv_with_metric_shots_stderr_source():
    t, r = read_any("long_scores.csv")
    row = one(t, "Llama-2-13B", "HellaSwag")
    assert (row["score"], row["shots"], row["stderr"], row["source"]) == (82.1, 10, 0.38, "Open LLM Leaderboard v1")
    assert one(t, "Llama-2-7B", "TruthfulQA", "mc1")["score"] == pytest.approx(25.2)  # truthfulqa_mc1 alias
    reasons = {d.item: d.reason for d in r.dropped}
    assert any("piqa" in k and v == "not a benchmark CAPE knows" for k, v in reasons.items())
    assert any("same score again" in v for v in reasons.values())  # identical repeated row


def test_mapping_file_for_custom_layout():
    from cape.ingest.csv_generic import load_toml

    mp = load_toml("custom_map.toml")
    t, r = read_any("custom_layout.csv", mapping=mp)
    row = one(t, "olmo-7b", "HellaSwag")
    assert row["params"] == pytest.approx(6.888e9)  # millions declared by params_unit = "M"
    assert row["shots"] == 10 and row["source"] == "OLMo technical report, table 6" and row["lab"] == "AI2"
    assert one(t, "olmo-1b", "TruthfulQA")["metric"] == "mc2"
    assert one(t, "olmo-1b", "ARC-Challenge")["shots"] == 25


def test_column_options_and_params_unit_override():
    mp = {"model": "Model name", "params": "Size (M)", "HellaSwag": "hs_10shot", "TruthfulQA": "tqa"}
    t, _ = read_any("custom_layout.csv", mapping=mp)
    # the column name says (M): read as millions without being told
    assert one(t, "olmo-1b", "HellaSwag")["params"] == pytest.approx(1.177e9)
    t2, _ = read_any("custom_layout.csv", mapping=mp, params_unit="B")
    assert one(t2, "olmo-1b", "HellaSwag")["params"] == pytest.approx(1.177e12)
    # unmapped columns are still recognised by name ("arc" is an alias of ARC-Challenge)
    assert one(t, "olmo-7b", "ARC-Challenge")["score"] == pytest.approx(45.6)


def test_params_unit_detected_from_values(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("model,params,HellaSwag\na-70m,70,27.3\na-1b,1000,49.7\na-12b,12000,67.3\n")
    t, r = read_any(f)
    assert one(t, "a-12b", "HellaSwag")["params"] == pytest.approx(1.2e10)  # below 1e7: millions
    assert any("millions" in n.message for n in r.notes)
    f.write_text("model,params,HellaSwag\na-1b,1,49.7\na-7b,7B,60.1\na-125m,125M,30.0\n")
    t, _ = read_any(f)
    assert one(t, "a-1b", "HellaSwag")["params"] == pytest.approx(1e9)
    assert one(t, "a-125m", "HellaSwag")["params"] == pytest.approx(1.25e8)  # suffix wins over the column unit


def test_family_inference_and_overrides():
    t, _ = read_any("wide_fractions_params_b.csv")
    fams = t.model_frame()["family"].to_dict()
    assert fams["EleutherAI/gpt-neo-125m"] == "GPT-Neo" and fams["EleutherAI/gpt-j-6b"] == "GPT-J/NeoX"
    t2, r = read_any("wide_fractions_params_b.csv", family_overrides={"EleutherAI/": "EleutherAI"})
    assert t2.families == ["EleutherAI"]
    assert any("family overrides applied to 4" in n.message for n in r.notes)
    # an override beats the file's own family column
    t3, _ = read_any("wide_basic.csv", family_overrides={"pythia-1": "Pythia-big"})
    assert t3.model_frame().loc["Pythia-1.4B", "family"] == "Pythia-big"
    assert t3.model_frame().loc["Pythia-70M", "family"] == "Pythia"


# ----------------------------------------------------------------------------------------------- lm-eval

def test_lmeval_tree_reads_nested_runs():
    t, r = read_any("lmeval")
    assert r.n_files == 7 and all(f.format == "lm-eval" for f in r.files)
    assert set(t.models) == {"EleutherAI/pythia-160m", "EleutherAI/pythia-410m", "EleutherAI/pythia-1b@step100000",
                             "facebook/opt-125m", "meta-llama/Llama-2-7b-chat-hf", "HuggingFaceTB/SmolLM2-135M"}
    row = one(t, "EleutherAI/pythia-410m", "HellaSwag")
    assert (row["score"], row["metric"], row["shots"], row["params"]) == (pytest.approx(40.68), "acc_norm", 10,
                                                                          405334016)
    assert row["stderr"] == pytest.approx(100 * math.sqrt(0.4068 * 0.5932 / 10041), rel=1e-3)
    assert any("samples" not in f.path for f in r.files)
    assert any(".jsonl x1" in n.message for n in r.notes)  # samples_*.jsonl counted, not read


def test_lmeval_truthfulqa_mc2_is_reported_under_acc_and_mc1_stays_distinct():
    t, r = read_any("lmeval")
    blob = json.loads(Path("lmeval/pythia/EleutherAI__pythia-410m/results_2024-05-03T14-40-00.120000.json").read_text())
    mc2 = blob["results"]["truthfulqa_mc2"]["acc,none"]
    mc1 = blob["results"]["truthfulqa_mc1"]["acc,none"]
    row = one(t, "EleutherAI/pythia-410m", "TruthfulQA")
    assert row["metric"] == "mc2" and row["score"] == pytest.approx(100 * mc2)
    assert any(n.message.startswith("TruthfulQA: kept mc2; also in the file: mc1") for n in r.notes)
    ta, _ = read_any("lmeval", all_metrics=True)
    assert one(ta, "EleutherAI/pythia-410m", "TruthfulQA", "mc1")["score"] == pytest.approx(100 * mc1)
    assert one(ta, "EleutherAI/pythia-410m", "TruthfulQA", "mc2")["score"] == pytest.approx(100 * mc2)
    assert one(ta, "EleutherAI/pythia-410m", "HellaSwag", "acc")["score"] == pytest.approx(33.79)
    gsm = ta.long[ta.long["benchmark"] == "GSM8K"]
    assert sorted(gsm["metric"]) == ["exact_match,flexible-extract", "exact_match,strict-match"]


def test_lmeval_latest_run_kept_and_reported():
    t, r = read_any("lmeval")
    assert one(t, "EleutherAI/pythia-160m", "HellaSwag")["score"] == pytest.approx(30.51)  # the June re-run
    assert one(t, "EleutherAI/pythia-160m", "ARC-Challenge")["score"] == pytest.approx(24.15)  # only in May
    earlier = [d for d in r.dropped if d.reason.startswith("an earlier run")]
    assert len(earlier) == 1 and "2024-05-01T10-12-03" in earlier[0].file and "2024-06-02" in earlier[0].reason
    assert any("kept the latest run for 1 model" in n.message for n in r.notes)


def test_lmeval_mmlu_group_aggregate_not_subjects():
    t, r = read_any("lmeval/EleutherAI__pythia-160m")
    blob = json.loads(Path("lmeval/EleutherAI__pythia-160m/results_2024-05-01T10-12-03.551212.json").read_text())
    row = one(t, "EleutherAI/pythia-160m", "MMLU")
    assert row["score"] == pytest.approx(100 * blob["results"]["mmlu"]["acc,none"])
    assert row["shots"] == 5  # from the subjects' n-shot
    assert not t.long["benchmark"].str.contains("mmlu_").any()
    # no subject or subgroup appears as dropped: they are covered by the group
    assert not any("mmlu" in d.item for d in r.dropped)


def test_lmeval_mmlu_from_subjects_is_sample_weighted():
    f = Path("lmeval/opt/facebook__opt-125m/results_2024-04-20T17-05-09.700000.json")
    blob = json.loads(f.read_text())
    subj = {k: v["acc,none"] for k, v in blob["results"].items() if k.startswith("mmlu_")}
    n = {k: blob["n-samples"][k]["effective"] for k in subj}
    expect = 100 * sum(subj[k] * n[k] for k in subj) / sum(n.values())
    t, r = read_any(f)
    assert len(subj) == 57
    assert one(t, "facebook/opt-125m", "MMLU")["score"] == pytest.approx(expect)
    assert any("sample-weighted mean of the 57 subjects" in n.message for n in r.notes)


def test_lmeval_chat_revision_legacy_and_params():
    t, r = read_any("lmeval")
    chat = one(t, "meta-llama/Llama-2-7b-chat-hf", "HellaSwag")
    assert chat["metric"] == "acc_norm+chat" and chat["params"] == 6738415616
    assert chat["family"] == "Llama-2"
    rev = one(t, "EleutherAI/pythia-1b@step100000", "HellaSwag")
    assert rev["score"] == pytest.approx(44.10) and rev["family"] == "Pythia"
    legacy = one(t, "HuggingFaceTB/SmolLM2-135M", "TruthfulQA")
    assert legacy["metric"] == "mc2" and legacy["score"] == pytest.approx(39.61) and legacy["shots"] == 0
    assert legacy["params"] == pytest.approx(1.35e8)  # nominal size from the name, reported
    assert any("nominal size in their name" in n.message for n in r.notes)
    t2, _ = read_any("lmeval", params_from_names=False)
    assert np.isnan(one(t2, "HuggingFaceTB/SmolLM2-135M", "TruthfulQA")["params"])


def test_json_is_parsed_as_json():
    for f in sorted(Path("lmeval").rglob("results*.json")):
        data = f.read_bytes()
        assert load_json(data, f.name) == json.loads(data)
    # a nested "results" written at the top level's indentation is still nested
    tricky = b'{\n  "config": {\n  "results": {"hellaswag": {"acc,none": 0.99}}\n  },\n  "results": {"hellaswag": {"acc,none": 0.30}}\n}'
    assert load_json(tricky, "x")["results"]["hellaswag"]["acc,none"] == 0.30
    # malformed JSON anywhere, even in a section no reader uses, is refused with its location
    with pytest.raises(DataError, match="line 2"):
        load_json(b'{\n  "configs": {oops},\n  "results": {}\n}', "x")
    assert load_json(b'{"results": {"a": 1}}', "x") == {"results": {"a": 1}}
    assert load_json(b'{\n  "re\\"s": 1,\n  "b": 2\n}', "x") == {'re"s': 1, "b": 2}


def test_workers_give_identical_results():
    t1, r1 = read_any("lmeval", workers=1)
    t2, r2 = read_any("lmeval", workers=2)
    pd.testing.assert_frame_equal(t1.long, t2.long)
    assert r1.to_dict() == r2.to_dict()


# ----------------------------------------------------------------------------------------------- leaderboard

def test_leaderboard_v1_settings_mmlu_mean_and_resubmission():
    t, r = read_any("leaderboard_v1")
    new = json.loads(Path("leaderboard_v1/EleutherAI/pythia-1.4b/results_2023-10-08T20-47-34.126370.json").read_text())
    subj = [v["acc"] for k, v in new["results"].items() if "hendrycksTest" in k]
    assert len(subj) == 57
    assert one(t, "EleutherAI/pythia-1.4b", "MMLU")["score"] == pytest.approx(100 * sum(subj) / 57)
    hs = one(t, "EleutherAI/pythia-1.4b", "HellaSwag")
    assert (hs["score"], hs["metric"], hs["shots"]) == (pytest.approx(54.37), "acc_norm", 10)
    tq = one(t, "EleutherAI/pythia-1.4b", "TruthfulQA")
    assert (tq["metric"], tq["shots"], tq["score"]) == ("mc2", 0, pytest.approx(38.67))
    assert one(t, "EleutherAI/pythia-1.4b", "ARC-Challenge")["shots"] == 25
    assert one(t, "EleutherAI/pythia-1.4b", "WinoGrande")["shots"] == 5
    reasons = [(d.file, d.item, d.reason) for d in r.dropped]
    assert any("falcon-7b" in f and i == "TruthfulQA mc2" and "NaN" in x for f, i, x in reasons)
    assert any("llama-7b" in f and i == "MMLU" and "version 0" in x for f, i, x in reasons)
    assert any(i == "task drop" for _, i, _ in reasons)
    assert sum(x.startswith("an earlier run") for _, _, x in reasons) == 4


def test_leaderboard_v2_csv_and_parquet_flag_normalized_and_raw():
    tc, rc = read_any("leaderboard_v2_contents.csv")
    tp, _ = read_any("leaderboard_v2_contents.parquet")
    pd.testing.assert_frame_equal(tc.long.drop(columns="source"), tp.long.drop(columns="source"))
    row = one(tc, "Qwen/Qwen2.5-7B", "BBH")
    assert (row["score"], row["metric"], row["shots"], row["params"]) == (35.81, "normalized", 3, 7.616e9)
    assert row["is_base"] is True or row["is_base"] == True  # noqa: E712
    assert one(tc, "Qwen/Qwen2.5-7B-Instruct", "IFEval")["is_base"] == False  # noqa: E712
    assert "GPQA Diamond" not in tc.benchmarks  # v2 GPQA pools three sets
    assert "someone/merge-of-merges-7B" not in tc.models  # flagged
    assert one(tc, "meta-llama/Llama-3.1-8B", "IFEval")["score"] == 12.46  # first precision kept
    ta, _ = read_any("leaderboard_v2_contents.csv", all_metrics=True)
    raw = one(ta, "Qwen/Qwen2.5-7B", "BBH", "raw")
    assert raw["score"] == pytest.approx(54.16)
    assert any("GPQA" in d.item for d in rc.dropped)


# ----------------------------------------------------------------------------------------------- epoch

def test_epoch_external_and_runs():
    t, r = read_any("epoch")
    assert one(t, "LLaMA-13B", "HellaSwag")["score"] == pytest.approx(79.2)
    falcon = t.long[(t.long["model"] == "falcon-7b")].sort_values("shots")
    assert falcon["shots"].tolist() == [0, 10] and falcon["score"].tolist() == [76.3, 78.1]
    assert pd.isna(one(t, "text-davinci-001", "HellaSwag")["shots"])  # "few"
    assert one(t, "Yi-9B", "HellaSwag")["score"] == 76.4  # no Model version: the Name is used
    swe = one(t, "gpt-4.1-2025-04-14", "SWE-bench Verified")
    assert (swe["score"], swe["stderr"]) == (pytest.approx(41.0), pytest.approx(2.0))  # latest of two runs
    assert one(t, "claude-3-7-sonnet-20250219", "GPQA Diamond")["stderr"] == pytest.approx(3.0)
    reasons = " | ".join(f"{d.item}: {d.reason}" for d in r.dropped)
    assert "Failed" in reasons and "OTIS Mock AIME" in reasons and "Qwen Technical Report" in reasons
    # a mixture of experts gets its nominal total from the name (8 experts x 7B)
    assert "Mixtral-8x7B-v0.1" in t.models and one(t, "Mixtral-8x7B-v0.1", "HellaSwag")["params"] == 5.6e10


# ----------------------------------------------------------------------------------------------- mixing

def test_everything_at_once_and_round_trip(tmp_path):
    t, r = read_any(["wide_basic.csv", "lmeval", "leaderboard_v1", "leaderboard_v2_contents.csv", "epoch",
                     "long_scores.csv"])
    assert {f.format for f in r.files} == {"csv-wide", "csv-long", "lm-eval", "leaderboard-v1", "leaderboard-v2",
                                           "epoch"}
    assert r.n_rows == len(t) and r.n_models == t.n_models
    out = tmp_path / "table.csv"
    t.to_csv(out)
    back, r2 = read_any(out)
    cols = ["model", "family", "params", "benchmark", "score", "metric", "shots"]
    a = t.long[cols].sort_values(cols[:2] + ["benchmark", "metric", "shots"]).reset_index(drop=True)
    b = back.long[cols].sort_values(cols[:2] + ["benchmark", "metric", "shots"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert r2.files[0].format == "cape"
    pd.testing.assert_frame_equal(back.long, t.long)


def test_variants_summary_counts_models():
    _, r = read_any("lmeval")
    hs10 = [v for v in r.variants if v["benchmark"] == "HellaSwag" and v["metric"] == "acc_norm"
            and v["shots"] == 10]
    assert hs10 == [{"benchmark": "HellaSwag", "metric": "acc_norm", "shots": 10, "models": 4}]
    d = r.to_dict()
    assert json.loads(json.dumps(d))["n_rows"] == r.n_rows
    assert "mixed_variants" in d and "HellaSwag" in d["mixed_variants"]  # acc_norm and acc_norm+chat


# ----------------------------------------------------------------------------------------------- parsers

@pytest.mark.parametrize("text, expect", [
    ("72.1", (72.1, math.nan, False)), ("95.3%", (95.3, math.nan, True)), ("0.35±0.02", (0.35, 0.02, False)),
    ("35 ± 2 %", (35.0, 2.0, True)), ("61.2 (1.4)", (61.2, 1.4, False)), ("0.5+/-0.1", (0.5, 0.1, False)),
])
def test_parse_score(text, expect):
    v, se, pct = parse_score(text)
    assert v == expect[0] and pct == expect[2]
    assert (math.isnan(se) and math.isnan(expect[1])) or se == expect[1]


@pytest.mark.parametrize("bad", ["NaN", "high", "1.2.3", "--3", "inf"])
def test_parse_score_refuses(bad):
    with pytest.raises(CellError):
        parse_score(bad)


def test_parse_params_and_names():
    assert parse_params("7,000,000,000") == (7e9, None)
    assert parse_params("1.4B") == (1.4e9, 1e9)
    assert parse_params("125M") == (1.25e8, 1e6)
    assert params_from_name("EleutherAI/pythia-1.4b-deduped") == 1.4e9
    assert params_from_name("facebook/opt-125m") == 1.25e8
    assert params_from_name("mistralai/Mixtral-8x7B-v0.1") == 5.6e10
    assert params_from_name("gpt2") is None


def test_timestamps_with_dashes_or_colons():
    a = timestamp_from_name("results_2023-07-19T16:30:47.402429.json")
    b = timestamp_from_name("results_2023-07-19T16-30-47.402429.json")
    assert a == b == pytest.approx(1689784247.402429)
    assert math.isnan(timestamp_from_name("results.json"))


def test_bench_header_parsing():
    assert parse_bench_header("TruthfulQA_MC1") == ("TruthfulQA", "mc1", None, False)
    assert parse_bench_header("HellaSwag (10-shot) SE") == ("HellaSwag", None, 10, True)
    assert parse_bench_header("hellaswag_acc_norm") == ("HellaSwag", "acc_norm", None, False)
    assert parse_bench_header("arc_challenge_stderr") == ("ARC-Challenge", None, None, True)
    assert parse_bench_header("Average") is None


def test_mapping_validation():
    with pytest.raises(DataError, match="did you mean HellaSwag"):
        parse_mapping({"benchmarks": {"HelaSwag": "hs"}})
    with pytest.raises(DataError, match="params_unit"):
        parse_mapping({"params_unit": "kg"})
    mp = parse_mapping({"model": "Name", "TruthfulQA[mc1]": "tqa1"})
    assert mp.columns == {"model": "Name"} and mp.benchmarks == {"tqa1": ("TruthfulQA", "mc1")}


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(NotFoundError, match="no such file"):
        read_any(tmp_path / "nope.csv")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "readme.md").write_text("x")
    with pytest.raises(DataError, match="folder holds no result files"):
        read_any(tmp_path / "d")


def test_keep_going_reports_broken_files(tmp_path):
    shutil.copytree("lmeval/pythia", tmp_path / "runs")
    broken = tmp_path / "runs" / "broken" / "results_2024-01-01T00-00-00.json"
    broken.parent.mkdir()
    broken.write_text('{\n  "results": {\n    "hellaswag": {"acc,none": 0.3,\n')
    with pytest.raises(DataError, match="not valid JSON"):
        read_any(tmp_path / "runs")
    t, r = read_any(tmp_path / "runs", keep_going=True)
    assert t.n_models == 2
    whole = [d for d in r.dropped if d.item == "whole file"]
    assert len(whole) == 1 and "not valid JSON" in whole[0].reason and whole[0].file.endswith(broken.name)


# ----------------------------------------------------------------------------------------------- CLI

def _cli(args, **kw):
    return subprocess.run([sys.executable, "-c", "import sys; from cape.cli import main; sys.exit(main(sys.argv[1:]))",
                           *args], capture_output=True, text=True, **kw)


def test_cli_ingest_writes_table_and_reports(tmp_path):
    out = tmp_path / "table.csv"
    p = _cli(["ingest", "lmeval", "leaderboard_v1", "-o", str(out)], cwd=DATA)
    assert p.returncode == 0, p.stderr
    assert "Read 11 file(s)" in p.stdout and "Dropped" in p.stdout and "an earlier run" in p.stdout
    assert f"to {out.as_posix()}" in p.stdout.replace("\n", "")
    assert out.read_text().startswith('# cape score table: {"version": 1, "units": "percent"')
    back = pd.read_csv(out, comment="#")
    assert list(back.columns)[:5] == ["model", "family", "params", "benchmark", "score"]
    assert len(back) == 38


def test_cli_json_col_family_and_units(tmp_path, capsys):
    from cape.cli import main

    out = tmp_path / "t.json"
    rc = main(["ingest", "custom_layout.csv", "--col", "model=Model name", "--col", "HellaSwag=hs_10shot",
               "--col", "params=Size (M)", "--family", "olmo=OLMo-fam", "-o", str(out), "--json"])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["table"] == {"rows": 6, "models": 2, "families": ["OLMo-fam"],
                            "benchmarks": ["HellaSwag", "TruthfulQA", "ARC-Challenge"]}
    obj = json.loads(out.read_text())
    assert obj["cape_score_table"] == 1 and obj["units"] == "percent"
    assert {r["model"]: r["params"] for r in obj["rows"]} == {"olmo-1b": 1.177e9, "olmo-7b": 6.888e9}
    rc = main(["ingest", "custom_layout.csv", "--map", "custom_map.toml", "--family-map", "families.toml",
               "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rc == 0 and rep["table"]["families"] == ["OLMo"] and rep["output"] is None
    rc = main(["ingest", "wide_fractions_params_b.csv", "--units", "percent", "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rc == 0 and rep["report"]["n_rows"] == 12


def test_cli_refuses_output_equal_to_input(tmp_path, capsys):
    from cape.cli import main

    f = tmp_path / "w.csv"
    shutil.copy("wide_basic.csv", f)
    before = f.read_bytes()
    assert main(["ingest", str(f), "-o", str(f)]) == 2
    assert "is one of the input files" in capsys.readouterr().err
    assert f.read_bytes() == before


def test_cli_help_lists_options():
    p = _cli(["ingest", "--help"])
    assert p.returncode == 0
    for opt in ("--map", "--col", "--params-unit", "--family-map", "--family", "--units", "--json", "--output"):
        assert opt in p.stdout


def test_from_wide_keeps_truthfulqa_variant_named_in_the_column():
    # regression: ScoreTable.from_wide labelled a truthfulqa_mc1 column as the default mc2
    wide = pd.DataFrame({"model": ["a-1b", "a-7b"], "params": [1e9, 7e9], "truthfulqa_mc1": [25.0, 22.0],
                         "TruthfulQA_MC2": [40.0, 38.0]})
    t = ScoreTable.from_wide(wide)
    got = t.long.set_index(["model", "metric"])["score"].to_dict()
    assert got == {("a-1b", "mc1"): 25.0, ("a-7b", "mc1"): 22.0, ("a-1b", "mc2"): 40.0, ("a-7b", "mc2"): 38.0}


def test_read_any_pauses_the_garbage_collector_and_restores_it(tmp_path, monkeypatch):
    """The cyclic collector is off while files are read (the readers build millions of small objects without
    cycles) and back on afterwards, also after a refusal; a caller that had it off keeps it off."""
    import gc

    from cape.ingest import csv_generic

    seen = []
    real = csv_generic.read_table

    def spy(*a, **kw):
        seen.append(gc.isenabled())
        return real(*a, **kw)

    monkeypatch.setattr(csv_generic, "read_table", spy)
    assert gc.isenabled()
    table, _ = read_any(DATA / "long_scores.csv")
    assert seen == [False] and gc.isenabled() and len(table) > 0
    bad = tmp_path / "bad.csv"
    bad.write_text("model,benchmark,score\na-1b,HellaSwag,abc\n", encoding="utf-8")
    with pytest.raises(DataError):
        read_any(bad, strict=True)
    assert gc.isenabled()
    gc.disable()
    try:
        read_any(DATA / "long_scores.csv")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_derived_models_join_their_base_models_family_unless_a_family_is_given(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("model,type,base_model,family,HellaSwag\n"
                 "EleutherAI/pythia-1b,pretrained,,,40\n"
                 "someone/cool-tune,fine-tuned,EleutherAI/pythia-1b,,41\n"
                 "someone/other-tune,chat,EleutherAI/pythia-1b,Mine,42\n"
                 "someone/no-base-7b,merge,,,43\n")
    t, r = read_any(p)
    fam = t.model_frame()["family"]
    assert fam["someone/cool-tune"] == "Pythia"  # from its base model
    assert fam["someone/other-tune"] == "Mine"  # a family column wins
    assert fam["someone/no-base-7b"] == "someone/no-base"[len("someone/"):]  # no base: its own name's stem
    assert any("1 fine-tuned, chat or merged model(s) grouped under their base model's family" in n.message
               for n in r.notes)
    t2, _ = read_any(p, family_overrides={"someone/cool": "Override"})
    assert t2.model_frame()["family"]["someone/cool-tune"] == "Override"  # an override wins
