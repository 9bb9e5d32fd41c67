"""Aggregates over a results folder: Wilson intervals, family/size/phase breakdowns, the command line."""

from __future__ import annotations

import json

import pytest

from cape.cli import main
from cape.errors import DataError
from cape.sweep.models import study_models
from cape.sweep.summaries import model_phases, proportion, summarize_heads, summarize_layers, summarize_steering

SETTINGS = {"analysis": "heads", "measure": "contrast", "n_perm": 1000}
EXCEPTIONS = {"facebook/opt-30b": 75, "facebook/opt-66b": 150}  # competing heads in these two


def _heads_file(folder, model_id, n_competing, settings=SETTINGS, n_params=None):
    slug = model_id.replace("/", "_")
    payload = {
        "schema": 1, "kind": "heads", "measure": settings.get("measure"),
        "summary": {"n_units": 100, "n_competing": n_competing, "n_competing_raw": n_competing + 1,
                    "pct_cooperative": 100.0 if n_competing == 0 else 75.0, "net": 0.5, "median_cosine": 0.5,
                    "zero_competing": n_competing == 0, "zero_competing_raw": False,
                    "all_cooperative": n_competing == 0},
        "provenance": {"model_id": model_id, "settings": settings, "n_params": n_params},
    }
    (folder / f"{slug}.heads.json").write_text(json.dumps(payload))


@pytest.fixture()
def study_folder(tmp_path):
    for m in study_models("paper40"):
        _heads_file(tmp_path, m, EXCEPTIONS.get(m, 0))
    return tmp_path


def test_wilson_interval_of_38_of_40():
    p = proportion(38, 40)
    assert (p.k, p.n, p.share) == (38, 40, 0.95)
    assert p.low == pytest.approx(0.834961, abs=1e-5) and p.high == pytest.approx(0.986176, abs=1e-5)
    assert proportion(0, 0).share is None


def test_heads_summary_of_the_40_model_study(study_folder):
    s = summarize_heads(study_folder)
    assert (s.overall.k, s.overall.n) == (38, 40)
    assert s.overall.low == pytest.approx(0.834961, abs=1e-5)
    assert s.extra["zero competing heads (threshold only)"].k == 0
    assert s.extra["100% cooperative heads"].k == 38
    assert (s.by_family["OPT"].k, s.by_family["OPT"].n) == (6, 8)
    assert (s.by_family["Pythia"].k, s.by_family["Pythia"].n) == (8, 8)
    assert {k: (p.k, p.n) for k, p in s.by_size.items()} == {"< 1B": (8, 8), "1B-10B": (24, 24),
                                                              ">= 10B": (6, 8)}
    # phases from the embedded scores: 17 tax, 8 bonus (OPT-30B and -66B among them), 3 transition, 12 none
    assert {k: (p.k, p.n) for k, p in s.by_phase.items()} == {"bonus": (6, 8), "tax": (17, 17),
                                                               "transition": (3, 3), "unknown": (12, 12)}
    assert s.phase_test["table"] == [[17, 0], [6, 2]]
    assert s.phase_test["p_value"] == pytest.approx(0.0933333, abs=1e-6)
    row = next(r for r in s.models if r["model_id"] == "facebook/opt-30b")
    assert (row["name"], row["phase"], row["params"]) == ("OPT-30B", "bonus", 3e10)
    assert row["gamma"] == pytest.approx(0.369338, abs=1e-5)
    assert json.loads(json.dumps(s.to_dict()))["overall"]["k"] == 38


def test_summary_never_mixes_settings_and_counts_failures(study_folder):
    other = dict(SETTINGS, measure="paper")
    _heads_file(study_folder, "EleutherAI/pythia-70m-extra", 3, settings=other)
    (study_folder / "x.heads.failed.json").write_text(json.dumps(
        {"kind": "sweep_failure", "task_kind": "heads", "model_id": "bigscience/bloom-huge", "reason": "out of memory",
         "attempts": [{}, {}, {}]}))
    (study_folder / "broken.json").write_text("{not json")
    s = summarize_heads(study_folder)
    assert s.overall.n == 40
    assert any("other settings were left out" in w for w in s.warnings)
    assert any("broken.json" in w for w in s.warnings)
    assert s.failures == ({"model_id": "bigscience/bloom-huge", "reason": "out of memory", "attempts": 3},)


def test_phases_follow_the_score_table_given():
    from cape import data

    custom = data.fixture_table("pythia8", family="Pythia")
    ph = model_phases(custom)
    assert ph["pythia-160m"]["phase"] == "tax" and ph["pythia-70m"]["phase"] is None


def test_layers_and_steering_summaries(tmp_path):
    lay = {"kind": "layers", "provenance": {"model_id": "EleutherAI/pythia-1b", "settings": {"a": 1}},
           "layer_coupling": {"contrast": {"cosine": [0.5, -0.2, 0.3], "early": 0.5, "mid": -0.2, "late": 0.3}}}
    (tmp_path / "a.layers.json").write_text(json.dumps(lay))
    lay2 = json.loads(json.dumps(lay))
    lay2["provenance"]["model_id"] = "facebook/opt-1.3b"
    lay2["layer_coupling"]["contrast"] = {"cosine": [0.5, 0.6, 0.7], "early": 0.5, "mid": 0.6, "late": 0.7}
    (tmp_path / "b.layers.json").write_text(json.dumps(lay2))
    s = summarize_layers(tmp_path)
    assert (s.overall.k, s.overall.n) == (1, 2) and s.extra["late-third coupling below early-third"].k == 1
    ev = {"kind": "steer_eval", "model_id": "Qwen/Qwen2.5-7B", "layers": [7], "strength": 0.1,
          "mc": {"margin_diff": 0.2, "margin_diff_ci": [0.05, 0.35]}, "intervention_rate": 0.4,
          "provenance": {"model_id": "Qwen/Qwen2.5-7B", "settings": {"analysis": "steer_eval"}}}
    (tmp_path / "q.steer_eval.json").write_text(json.dumps(ev))
    st = summarize_steering(tmp_path)
    assert (st.overall.k, st.overall.n) == (1, 1) and st.models[0]["phase"] == "bonus"


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no heads result files"):
        summarize_heads(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        summarize_heads(tmp_path / "nope")


def test_cli_heads_summarize(study_folder, capsys):
    assert main(["heads", "summarize", str(study_folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["overall"]["k"], out["overall"]["n"]) == (38, 40) and out["by_phase"]["tax"]["k"] == 17
    assert main(["heads", "summarize", str(study_folder)]) == 0
    text = capsys.readouterr().out
    assert "38/40 = 95% [83.5%, 98.6%]" in text and "Fisher exact p = 0.0933" in text
    code = main(["heads", "summarize", str(study_folder / "nope")])
    assert code != 0 and "not a folder" in capsys.readouterr().err
    code = main(["heads", "summarize", str(study_folder), "--phase-scheme", "odd"])
    assert code != 0 and "--phase-scheme must be one of" in capsys.readouterr().err


def test_cli_layers_and_steer_summarize_exist(tmp_path, capsys):
    assert main(["layers", "summarize", str(tmp_path)]) != 0
    assert "no layers result files" in capsys.readouterr().err
    assert main(["steer", "summarize", str(tmp_path)]) != 0
    assert "no steering result files" in capsys.readouterr().err


def test_claim_m21_computed_from_a_folder(study_folder, tmp_path_factory):
    from cape.sweep.claim import m21_claim

    c = m21_claim(study_folder)
    assert (c.id, c.verdict, c.computed_value) == ("M21", "reproduces", "38/40 = 95% [83.5%, 98.6%]")
    assert "threshold only: 0/40" in c.reason and "100% cooperative: 38/40" in c.reason
    worse = tmp_path_factory.mktemp("worse")
    for i, m in enumerate(study_models("paper40")):
        _heads_file(worse, m, 5 if i % 2 else 0)
    c = m21_claim(worse)
    assert c.verdict == "differs" and c.computed_value.startswith("20/40 = 50%")
    few = tmp_path_factory.mktemp("few")
    _heads_file(few, "EleutherAI/pythia-70m", 0)
    assert m21_claim(few).verdict == "not computable"


def test_cli_claims_with_internals_folder(study_folder, capsys, claims_once):
    assert main(["claims", "--id", "M21", "--internals", str(study_folder), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["claims"]
    assert row["computed_value"] == "38/40 = 95% [83.5%, 98.6%]" and row["verdict"] == "reproduces"
    assert main(["claims", "--id", "M21", "--json"]) == 0  # without a folder: the arithmetic check
    (row,) = json.loads(capsys.readouterr().out)["claims"]
    assert "Wilson score interval of 38/40" in row["reason"]
    assert main(["claims", "--internals", str(study_folder / "nope")]) != 0
    assert "--internals" in capsys.readouterr().err
