"""Command-line tests of ``cape ode`` and ``cape predict``."""

from __future__ import annotations

import json

import pytest

from cape.cli import main


def _json(capsys, argv):
    rc = main(argv)
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


def test_ode_json_default_split(capsys):
    d = _json(capsys, ["ode", "--n-models", "30", "--json"])
    assert d["method"] == "sound"
    assert d["discovery"]["families"] == ["Pythia"]
    assert len(d["discovery"]["equations"]) == 5
    ho = d["holdout"]
    assert ho["holdout"] == "Llama-2" and ho["train"] == ["Pythia"]
    assert {m["method"] for m in ho["methods"]} == {"sindy", "poly1", "poly2", "linear_ode", "constant_rate",
                                                     "last_value"}
    assert ho["winner"] == ho["methods"][0]["method"]


def test_ode_paper_json_reproduces_numbers(capsys):
    d = _json(capsys, ["ode", "--method", "paper", "--json"])
    assert round(d["ode_fit"]["overall"], 2) == 2.63
    assert round(d["holdout"]["mape"], 2) == 5.65
    assert round(d["per_phase"]["tax"], 4) == 0.1201 and round(d["per_phase"]["bonus"], 4) == 0.7506


def test_ode_human_output(capsys):
    rc = main(["ode", "--n-models", "20", "--degree", "1", "--train", "Pythia", "--train", "BLOOM",
               "--holdout", "OPT", "--benchmarks", "HS,TQA,ARC"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "dHS/dlog10N" in out and "Held-out OPT" in out and "sparse ODE ranks" in out


def test_ode_phases_and_no_holdout(capsys):
    d = _json(capsys, ["ode", "--n-models", "20", "--degree", "1", "--holdout", "none", "--phases", "--json"])
    assert "holdout" not in d
    assert d["phases"]["headline"]["equation"] == "TQA"


def test_ode_scores_csv(tmp_path, capsys):
    from cape.data import load_base

    f = tmp_path / "cohort.csv"
    load_base().wide().reset_index().to_csv(f, index=False)
    d = _json(capsys, ["ode", "--scores", str(f), "--n-models", "10", "--benchmarks", "HS,TQA", "--json"])
    assert d["discovery"]["benchmarks"] == ["HellaSwag", "TruthfulQA"]


def test_predict_json(capsys):
    d = _json(capsys, ["predict", "--family", "Pythia", "--params", "30B", "--n-models", "50", "--json"])
    assert d["family"] == "Pythia" and d["params"] == 3e10 and d["status"] == "extrapolated"
    assert all(lo <= hi for lo, hi in zip(d["lo"], d["hi"]))
    assert d["phase"] in ("tax", "transition", "bonus", "undetermined")


def test_predict_human(capsys):
    rc = main(["predict", "--family", "OPT", "--params", "175B", "--n-models", "30"])
    out = capsys.readouterr().out
    assert rc == 0 and "Predicted phase" in out and "OPT-66B" in out


@pytest.mark.parametrize("argv, msg", [
    (["ode", "--train", "Pyhtia"], "did you mean Pythia"),
    (["ode", "--holdout", "Pythia"], "both trained on and held out"),
    (["ode", "-b", "HS"], "at least 2 benchmarks"),
    (["ode", "--method", "magic"], "--method must be"),
    (["predict", "--family", "Pythia", "--params", "seven"], "is not a parameter count"),
    (["predict", "--family", "Nope", "--params", "7B"], "no family 'Nope'"),
])
def test_errors_are_one_line(capsys, argv, msg):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc != 0
    assert msg in err and "Traceback" not in err


def test_ode_holdout_all_json(capsys):
    d = _json(capsys, ["ode", "--holdout", "all", "--degree", "1", "--n-models", "5", "-b", "HS,TQA", "--json"])
    assert len(d["sweep"]["families"]) >= 5
    assert set(d["sweep"]["wins"]) == {"sindy", "poly1", "poly2", "linear_ode", "constant_rate", "last_value"}
