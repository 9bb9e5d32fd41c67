"""`cape diagnose` on the command line: JSON contract, options, user files, errors."""

from __future__ import annotations

import json

import pandas as pd

from cape.cli import main


def test_diagnose_json_contract(capsys):
    assert main(["diagnose", "--json", "--n-boot", "300", "--seed", "1"]) == 0
    d = json.loads(capsys.readouterr().out)
    fam = {f["family"]: f for f in d["families"]}
    py = fam["Pythia"]
    assert py["n_models"] == 8 and round(py["r"], 4) == -0.9886
    assert len(py["r_ci"]) == 2 and py["nc"]["status"] == "none"
    assert {"estimate", "ci_low", "ci_high", "status"} <= set(py["nc"])
    assert len(py["intervals"]) == 7 and py["intervals"][0]["gamma"] < 0
    assert round(d["pooled"]["paper_headline"]["estimate"] / 1e9, 3) == 3.494
    assert d["seed"] == 1 and d["n_boot"] == 300


def test_diagnose_human_output(capsys):
    assert main(["diagnose", "--n-boot", "200", "--family", "Pythia", "--family", "OPT", "--details"]) == 0
    out = capsys.readouterr().out
    assert "Pythia" in out and "OPT" in out and "BLOOM" not in out
    assert "gamma" in out and "N_c" in out and "Pooled N_c" in out and "3.494B" in out


def test_diagnose_user_csv_with_bad_families(tmp_path, capsys):
    df = pd.DataFrame({
        "model": ["a-1b", "a-3b", "b-1b", "b-3b", "b-9b", "b-30b", "c-1b", "c-2b", "c-4b"],
        "family": ["A", "A", "B", "B", "B", "B", "C", "C", "C"],
        "params": [1e9, 3e9, 1e9, 3e9, 9e9, 3e10, 1e9, 2e9, 4e9],
        "HellaSwag": [40, 50, 40, 52, 61, 70, 40, 45, 50],
        "TruthfulQA": [40, 39, 44, 41, 40, 43, 35, 35, 35],
    })
    f = tmp_path / "scores.csv"
    df.to_csv(f, index=False)
    assert main(["diagnose", "--scores", str(f), "--json", "--n-boot", "200"]) == 0
    d = json.loads(capsys.readouterr().out)
    fam = {x["family"]: x for x in d["families"]}
    assert fam["A"]["status"] == "insufficient" and fam["A"]["message"]
    assert fam["C"]["r_status"] == "constant" and fam["C"]["r"] is None
    assert fam["B"]["status"] == "ok"
    assert d["pooled"]["paper_headline"] is None  # only on the embedded data
    # positional files work too, and the text view does not crash on them
    assert main(["diagnose", str(f), "--n-boot", "100"]) == 0
    assert "insufficient" in capsys.readouterr().out


def test_diagnose_errors_are_one_line(tmp_path, capsys):
    assert main(["diagnose", "--family", "Nope", "--n-boot", "10"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Nope" in err and len(err.strip().splitlines()) == 1
    assert main(["diagnose", "--scores", str(tmp_path / "missing.csv")]) != 0
    assert main(["diagnose", "--pair", "HS", "--n-boot", "10"]) == 2
    assert main(["diagnose", "--level", "1.5", "--n-boot", "10"]) == 2
    capsys.readouterr()
