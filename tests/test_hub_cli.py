"""`cape fetch leaderboard` and `cape fetch results` against the stub Hub on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hubstub import CONTENTS, PARQUET, V1, serving  # noqa: E402

from cape.cli import main  # noqa: E402


@pytest.fixture
def hub(monkeypatch, tmp_path):
    with serving(monkeypatch, tmp_path) as stub:
        yield stub


def test_fetch_leaderboard_prints_rows_date_and_commit(hub, capsys):
    assert main(["fetch", "leaderboard"]) == 0
    out = capsys.readouterr().out
    sha = hub.repos[("dataset", CONTENTS)]["refs"]["main"]
    assert "Open LLM Leaderboard v2" in out and "180" in out and "36" in out
    assert f"dataset {CONTENTS}" in out and "fetched" in out and sha[:7] in out and "2024-06-01" in out


def test_fetch_leaderboard_json_and_output_file(hub, capsys, tmp_path):
    out_csv = tmp_path / "lb.csv"
    assert main(["fetch", "leaderboard", "--json", "-o", str(out_csv)]) == 0
    d = json.loads(capsys.readouterr().out)
    sha = hub.repos[("dataset", CONTENTS)]["refs"]["main"]
    assert (d["rows"], d["models"], d["sha"], d["date"], d["from_cache"]) == (180, 36, sha, "2024-06-01", False)
    df = pd.read_csv(out_csv)
    assert len(df) == 180 and set(df["source"]) == {f"hf://datasets/{CONTENTS}@{sha}/{PARQUET}"}


def test_fetch_leaderboard_offline_says_cached_copy(hub, capsys):
    assert main(["fetch", "leaderboard"]) == 0
    capsys.readouterr()
    n = len(hub.log)
    assert main(["fetch", "leaderboard", "--offline"]) == 0
    cap = capsys.readouterr()
    assert len(hub.log) == n
    assert "cached copy" in cap.out and "dataset open-llm-leaderboard/contents" in cap.out
    assert "HF_HUB_OFFLINE is set: using the cached copy of dataset" in cap.err


def test_fetch_errors_are_one_line(hub, capsys, tmp_path):
    assert main(["fetch", "leaderboard", "--offline"]) == 5
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: dataset open-llm-leaderboard/contents: HF_HUB_OFFLINE")
    assert main(["fetch", "leaderboard", "--version", "v3"]) == 2
    assert "--version must be v1 or v2" in capsys.readouterr().err
    assert main(["fetch", "leaderboard", "-o", str(tmp_path / "x.parquet")]) == 2
    assert "-o must end in .csv or .json" in capsys.readouterr().err
    assert main(["fetch", "results", "facebook/opt-999m", "--source", "v1"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: facebook/opt-999m: no published result files found (dataset open-llm-leaderboard-old/results: "
        "folder facebook/opt-999m: not in the repository)")


def test_fetch_v1_org_and_results(hub, capsys):
    assert main(["fetch", "leaderboard", "--version", "v1", "--org", "facebook", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["models"] == 8 and d["repo_id"] == V1 and len(d["files"]) == 8
    assert main(["fetch", "results", "facebook/opt-2.7b", "--source", "v1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows"] == 4 and sorted(d["sources"][0]["benchmarks"]) == ["ARC-Challenge", "HellaSwag", "TruthfulQA",
                                                                  "WinoGrande"]


def test_fetch_results_skips_a_repository_file_that_is_not_lm_eval(hub, capsys):
    hub.add("model", "facebook/opt-350m", {"results_training.json": b'{"loss": 1.5}'})
    assert main(["fetch", "results", "facebook/opt-350m", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows"] == 4 and [s["repo_id"] for s in d["sources"]] == [V1]
    assert len(d["unread"]) == 1 and "hf://models/facebook/opt-350m@" in d["unread"][0]
    assert main(["fetch", "results", "facebook/opt-350m", "--source", "model"]) == 2
    assert "the result files found hold no scores CAPE reads" in capsys.readouterr().err
