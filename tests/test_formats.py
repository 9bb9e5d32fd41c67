"""``--format table|markdown|csv`` on the commands that print tables beside their summaries: heads / layers /
steer summarize, sweep (its plan and report), fetch, cache info and ingest. Each format must parse (markdown:
a pipe table; csv: the csv module), and ``--json`` keeps working beside it."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest

from cape.cli import main

TESTS = Path(__file__).parent
INGEST = TESTS / "data" / "ingest"


def csv_blocks(text: str) -> list[list[list[str]]]:
    """The CSV tables of a standard output, one empty line between tables."""
    return [list(csv.reader(io.StringIO(b))) for b in text.strip().split("\n\n") if b.strip()]


def md_tables(text: str) -> list[list[list[str]]]:
    """Every GitHub-flavoured Markdown pipe table of a text, as rows of cells (the --- line dropped)."""
    out, cur = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("| ") and line.endswith(" |"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]
            if not all(re.fullmatch(r"-{3,}", c) for c in cells):
                cur.append(cells)
            else:
                assert len(cur) == 1, "the --- line follows the header"
        elif cur:
            out.append(cur)
            cur = []
    return out


# ---------------------------------------------------------------------------------------------- summarize
@pytest.fixture()
def heads_folder(tmp_path):
    settings = {"analysis": "heads", "measure": "contrast", "n_perm": 1000}
    for model, n_comp, params in (("EleutherAI/pythia-1b", 0, 1.0e9), ("EleutherAI/pythia-2.8b", 3, 2.8e9),
                                  ("facebook/opt-1.3b", 0, 1.3e9)):
        payload = {"schema": 1, "kind": "heads", "measure": "contrast",
                   "summary": {"n_units": 100, "n_competing": n_comp, "n_competing_raw": n_comp + 1,
                               "pct_cooperative": 100.0 if n_comp == 0 else 75.0, "net": 0.5, "median_cosine": 0.5,
                               "zero_competing": n_comp == 0, "zero_competing_raw": False,
                               "all_cooperative": n_comp == 0},
                   "provenance": {"model_id": model, "settings": settings, "n_params": params}}
        (tmp_path / f"{model.replace('/', '_')}.heads.json").write_text(json.dumps(payload))
    return tmp_path


def test_heads_summarize_csv(heads_folder, capsys):
    assert main(["heads", "summarize", str(heads_folder), "--format", "csv"]) == 0
    cap = capsys.readouterr()
    groups, models = csv_blocks(cap.out)
    assert groups[0] == ["by", "group", "k/n", "share", "95% CI"]
    fam = {r[1]: r for r in groups[1:] if r[0] == "family"}
    assert fam["Pythia"][2:4] == ["1/2", "50%"] and fam["OPT"][2:4] == ["1/1", "100%"]
    assert models[0][:4] == ["model", "family", "size", "phase"] and len(models) == 4
    by_model = {r[0]: r for r in models[1:]}
    assert by_model["EleutherAI/pythia-2.8b"][4] == "3/4"  # competing sig/raw
    assert "3 models" in cap.err  # prose to stderr: stdout holds only the tables


def test_heads_summarize_markdown_and_json(heads_folder, capsys):
    assert main(["heads", "summarize", str(heads_folder), "--format", "markdown"]) == 0
    groups, models = md_tables(capsys.readouterr().out)
    assert groups[0] == ["by", "group", "k/n", "share", "95% CI"] and len(models) == 4
    assert main(["heads", "summarize", str(heads_folder), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema_version"] == 1 and len(d["models"]) == 3


def test_layers_and_steer_summarize_take_format(tmp_path, capsys):
    for words in (["layers", "summarize"], ["steer", "summarize"]):
        assert main([*words, str(tmp_path), "--format", "yaml"]) == 2
        assert "--format must be one of table, markdown, csv" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- sweep
def test_sweep_plan_in_every_format(tmp_path, capsys):
    base = ["sweep", "heads", "org/model-a", "org/model-b", "-o", str(tmp_path / "out"), "--dry-run"]
    assert main([*base, "--format", "csv"]) == 0
    (plan,) = csv_blocks(capsys.readouterr().out)
    assert plan == [["model", "status", "reason"], ["org/model-a", "to do", ""], ["org/model-b", "to do", ""]]
    assert main([*base, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Sweep plan (2 models)**") and md_tables(out)[0][1] == ["org/model-a", "to do", ""]
    assert main([*base, "--json"]) == 0
    assert [t["status"] for t in json.loads(capsys.readouterr().out)["tasks"]] == ["to do", "to do"]
    assert not (tmp_path / "out").exists()  # a plan writes nothing


def test_sweep_report_table_through_the_renderer(capsys):
    from cape.commands import _table
    from cape.commands.sweep import _report_table
    from cape.sweep.runner import SweepReport, TaskOutcome

    report = SweepReport(outcomes=(TaskOutcome("org/a", "heads", "computed", result={"seconds": 2.25}),
                                   TaskOutcome("org/b", "heads", "failed",
                                               attempts=({"attempt": 1, "reason": "out of memory"},),
                                               reason="out of memory"),
                                   TaskOutcome("org/c", "heads", "skipped")),
                         engine={"engine": "local"}, seconds=3.5)
    _table.set_format("csv")
    try:
        _report_table(report)
    finally:
        _table.reset()
    (rows,) = csv_blocks(capsys.readouterr().out)
    assert rows == [["model", "status", "attempts", "seconds", "reason"], ["org/a", "computed", "1", "2.2", ""],
                    ["org/b", "failed", "1", "—", "out of memory"], ["org/c", "skipped", "—", "—", ""]]


# ------------------------------------------------------------------------------------------------ ingest
def test_ingest_report_csv_markdown_and_json(capsys):
    args = ["ingest", str(INGEST / "lmeval"), str(INGEST / "leaderboard_v1")]
    assert main([*args, "--format", "csv"]) == 0
    cap = capsys.readouterr()
    files, kept, dropped = csv_blocks(cap.out)
    assert files[0] == ["file", "format", "scores", "models"] and len(files) == 12  # 11 files, none elided
    assert sum(int(r[2]) for r in files[1:]) >= 38
    assert kept[0] == ["benchmark", "metric", "shots", "models"]
    assert {"HellaSwag (mixed)", "WinoGrande"} <= {r[0] for r in kept[1:]}  # the mixed-metric mark kept
    assert dropped[0] == ["file", "item", "reason"] and len(dropped) > 1
    assert "nothing written" in cap.err
    assert main([*args, "--format", "markdown"]) == 0
    tables = md_tables(capsys.readouterr().out)
    assert [t[0] for t in tables] == [files[0], kept[0], dropped[0]] and tables[2][1:] == dropped[1:]
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["report"]["dropped"]) == len(dropped) - 1


# -------------------------------------------------------------------------------------------- cache info
def test_cache_info_csv_markdown_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CAPE_CACHE_DIR", str(tmp_path))
    entry = tmp_path / "gguf" / "fabcdef-float32"
    entry.mkdir(parents=True)
    (entry / "model.safetensors").write_bytes(b"\0" * 3 * 2**20)
    from cape.internals.cache import _LAYOUT

    (entry / "cape-cache.json").write_text(json.dumps({"source": "/models/x.gguf", "file_hash": "sha256:abcdef",
                                                       "dtype": "float32", "weights_bytes": 3 * 2**20,
                                                       "layout": _LAYOUT}))
    assert main(["cache", "info", "--format", "csv"]) == 0
    cap = capsys.readouterr()
    assert csv_blocks(cap.out) == [[["source", "dtype", "MiB", "file hash"],
                                    ["/models/x.gguf", "float32", "3", "sha256:abcdef"]]]
    assert str(tmp_path) in cap.err
    assert main(["cache", "info", "--format", "markdown"]) == 0
    assert md_tables(capsys.readouterr().out)[0][1] == ["/models/x.gguf", "float32", "3", "sha256:abcdef"]
    assert main(["cache", "info", "--json"]) == 0
    assert [e["dtype"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["float32"]


# ------------------------------------------------------------------------------------------------- fetch
def test_fetch_leaderboard_csv_and_markdown(monkeypatch, tmp_path, capsys):
    sys.path.insert(0, str(TESTS))
    from hubstub import CONTENTS, serving

    with serving(monkeypatch, tmp_path) as hub:
        sha = hub.repos[("dataset", CONTENTS)]["refs"]["main"]
        assert main(["fetch", "leaderboard", "--format", "csv"]) == 0
        (rows,) = csv_blocks(capsys.readouterr().out)
        assert rows == [["source", "state", "commit", "date", "files", "scores", "models", "benchmarks"],
                        [f"dataset {CONTENTS}", "fetched", sha[:7], "2024-06-01", "1", "180", "36",
                         "IFEval, BBH, MMLU-Pro, MATH Lvl 5, MuSR"]]
        assert main(["fetch", "leaderboard", "--offline", "--format", "markdown"]) == 0
        (t,) = md_tables(capsys.readouterr().out)
        assert t[1][:3] == [f"dataset {CONTENTS}", "cached copy", sha[:7]]
