"""Real public score files (tests/data/real, sources in its SOURCES.md): every one ingests without hand-editing,
values read equal the raw file's, and the identity, lineage, size and round-trip rules hold on them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from cape.errors import DataError
from cape.ingest import NothingUsable, read_any
from cape.scores import ScoreTable

REAL = Path(__file__).parent / "data" / "real"
OBS = REAL / "tables" / "obsscaling"
V2 = REAL / "tables" / "open-llm-leaderboard-v2"


def _score(t: ScoreTable, model: str, bench: str, metric: str | None = None) -> float:
    df = t.long
    sel = (df["model"] == model) & (df["benchmark"] == bench)
    if metric is not None:
        sel &= df["metric"] == metric
    vals = df.loc[sel, "score"].tolist()
    assert len(vals) == 1, (model, bench, vals)
    return vals[0]


def _raw_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("path", sorted(str(p.relative_to(REAL)) for p in REAL.rglob("*")
                                        if p.suffix in (".csv", ".json") and p.name != "SOURCES.md"))
def test_every_real_file_ingests_or_says_why(path):
    p = REAL / path
    if p.name == "base_llm_emergent_capability_eval.csv":  # BIG-bench tasks only: nothing CAPE analyses
        with pytest.raises(NothingUsable, match="no benchmark columns CAPE knows"):
            read_any(p)
        return
    t, r = read_any(p)
    assert len(t) > 0 and r.n_rows == len(t)


def test_real_folders_ingest_whole():
    for folder in ("lm-eval-v0.3", "lm-eval-v0.4", "tables"):
        t, r = read_any(REAL / folder)
        assert len(t) > 0
    _, r = read_any(OBS)
    assert any(d.item == "whole file" and "emergent" in d.file for d in r.dropped)


def test_obsscaling_values_equal_the_raw_file_and_units_survive():
    p = OBS / "base_llm_benchmark_eval.csv"
    t, r = read_any(p)
    raw = _raw_rows(p)
    for row in (raw[0], raw[17], raw[-1]):
        for col, bench in (("HellaSwag", "HellaSwag"), ("TruthfulQA", "TruthfulQA"), ("GSM8K", "GSM8K"),
                           ("ARC-C", "ARC-Challenge"), ("MMLU", "MMLU")):
            if row[col]:
                assert _score(t, row["Model"], bench) == pytest.approx(100 * float(row[col]), abs=1e-9)
    # "Model Size (B)" is the size column; the family column is used
    mf = t.model_frame()
    assert mf.loc["meta-llama/Llama-2-7b-hf", "params"] == 7e9
    assert mf.loc["meta-llama/Llama-2-7b-hf", "family"] == "Llama-2"
    # Winograd / XWinograd / HumanEval are dropped as other benchmarks, never mapped to WinoGrande
    reasons = {d.item: d.reason for d in r.dropped}
    assert "not WinoGrande" in reasons["column Winograd"] and "column XWinograd" in reasons
    assert "WinoGrande" not in t.benchmarks
    # GSM8K scores below 1 percent survive the round trip through every output format
    low = t.long[(t.long["benchmark"] == "GSM8K") & (t.long["score"] < 1)]
    assert len(low) > 0


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_ingest_output_reads_back_unchanged_through_diagnose(tmp_path, suffix):
    from cape.cli import main

    out = tmp_path / f"table{suffix}"
    assert main(["ingest", str(OBS / "base_llm_benchmark_eval.csv"), "-o", str(out)]) == 0
    t, _ = read_any(OBS / "base_llm_benchmark_eval.csv")
    back, rep = read_any(out)
    pd.testing.assert_frame_equal(back.long, t.long)
    assert rep.files[0].format == "cape"
    assert main(["diagnose", "--scores", str(out), "--json"]) == 0


def test_leaderboard_v2_export_lineage_precision_and_sizes():
    p = V2 / "contents_export.csv"
    t, r = read_any(p)
    raw = _raw_rows(p)
    mf = t.model_frame()
    # the unnamed pandas index column is dropped, not an error
    assert any(d.item.startswith("column 1") and "index" in d.reason for d in r.dropped)
    # sampled values equal the raw file's, normalized scores, as the leaderboard shows them
    first = raw[0]
    assert _score(t, first["fullname"], "IFEval") == pytest.approx(float(first["IFEval"]))
    assert _score(t, first["fullname"], "MMLU-Pro") == pytest.approx(float(first["MMLU-PRO"]))
    # precision duplicates: one evaluation kept, bfloat16 first
    dup = [d for d in r.dropped if "another evaluation of this model" in d.reason]
    assert dup and all("float16" in d.item or "4bit" in d.item or "bfloat16" in d.item for d in dup)
    # sentinel sizes (-1, 0) do not refuse the file; those models get no size from the column
    sentinel = [row for row in raw if row["#Params (B)"].strip() in ("-1", "0", "0.0", "-1.0")]
    assert sentinel
    for row in sentinel:
        assert row["fullname"] in mf.index
    # lineage: type and base model kept; fine-tunes join the base model's family
    pre = [row for row in raw if "pretrained" in row["Type"] and "continuously" not in row["Type"]]
    assert mf.loc[pre[0]["fullname"], "model_type"] in ("pretrained", "moe")
    assert bool(mf.loc[pre[0]["fullname"], "is_base"])
    ft = next(row for row in raw if "fine-tuned" in row["Type"] and row["Base Model"]
              and row["Base Model"].lower() != row["fullname"].lower() and row["Flagged"] == "False")
    assert mf.loc[ft["fullname"], "model_type"] == "fine-tuned"
    assert mf.loc[ft["fullname"], "base_model"].lower() == ft["Base Model"].lower()
    assert not bool(mf.loc[ft["fullname"], "is_base"])
    derived = mf[mf["model_type"].isin(["fine-tuned", "chat", "merge"])
                 & (mf["base_model"].str.lower() != mf.index.str.lower())]
    assert len(derived) == 36 and derived["family"].notna().all()
    assert mf.loc["EpistemeAI/Athena-gemma-2-2b-it", "family"] == "Gemma"  # its base: google/gemma-2-9b
    assert mf.loc["mattshumer/ref_70_e3", "family"] == "Llama-3"  # the name says nothing; the base does
    assert any("36 fine-tuned, chat or merged model(s) grouped under their base model's family" in n.message
               for n in r.notes)
    # GPQA (pooled) is not stored as GPQA Diamond
    assert "GPQA Diamond" not in t.benchmarks


def test_leaderboard_v2_flattened_layout():
    p = V2 / "flattened_2024-10-29.csv"
    t, r = read_any(p)
    raw = _raw_rows(p)
    row = raw[0]
    assert _score(t, row["fullname"], "BBH") == pytest.approx(float(row["bbh"]))
    mf = t.model_frame()
    # its base_model column carries a " (Merge)" suffix; the hub id is kept without it
    merged = [x for x in raw if x["base_model"].endswith("(Merge)")]
    if merged:
        m = merged[0]
        assert not mf.loc[m["fullname"], "base_model"].endswith("(Merge)")
    assert any("negations" in n.message for n in r.notes)
    assert (mf["model_type"] == "pretrained").sum() > 0


def test_lmeval_identity_case_and_legacy_paths():
    t, r = read_any([REAL / "lm-eval-v0.3", REAL / "lm-eval-v0.4"])
    models = set(t.models)
    # qwen/qwen2.5-3B and Qwen/Qwen2.5-3B are one model (the later run's scores kept)
    assert "Qwen/Qwen2.5-3B" in models and "qwen/qwen2.5-3B" not in models
    assert any("only in case" in n.message for n in r.notes)
    raw = json.loads((REAL / "lm-eval-v0.4/results-0.4.8/qwen__qwen2.5-3B/results_2025-03-18T00-57-09.174988.json")
                     .read_text())
    assert _score(t, "Qwen/Qwen2.5-3B", "HellaSwag") == pytest.approx(
        100 * raw["results"]["hellaswag"]["acc_norm,none"])
    # the legacy local path .../LLaMA/lm/huggingface/7B is llama-7B, family Llama-1 (not a family "7b")
    assert "llama-7B" in models and "7B" not in models
    assert t.model_frame().loc["llama-7B", "family"] == "Llama-1"
    # Llama-3.1-8B split over two files: MMLU from one, the rest from the other
    assert {"MMLU", "HellaSwag"} <= set(t.long.loc[t.long["model"] == "meta-llama/Llama-3.1-8B", "benchmark"])


def test_strict_refuses_what_lenient_drops():
    with pytest.raises(DataError, match="header column 1 has no name"):
        read_any(V2 / "contents_export.csv", strict=True)
    # a file with no row or column problem reads the same either way
    a, _ = read_any(REAL / "lm-eval-v0.4/results/google__gemma-2-2b", strict=True)
    b, _ = read_any(REAL / "lm-eval-v0.4/results/google__gemma-2-2b")
    pd.testing.assert_frame_equal(a.long, b.long)
