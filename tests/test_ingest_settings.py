"""Comparable settings and cohorts: --variant / --shots on analysis commands, warnings naming the models when a
family mixes shots or metric variants, the pretrained-only default with --include-finetunes, and diagnose's
readable output on a big cohort (--top, the rest in one line, --json keeps everything)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from cape.commands._scores import apply_settings, base_models_only, parse_settings, setting_warnings
from cape.errors import DataError, NotFoundError
from cape.scores import ScoreTable

REAL = Path(__file__).parent / "data" / "real"


def _mixed() -> ScoreTable:
    return ScoreTable(pd.DataFrame({
        "model": ["a-1b", "a-2b", "a-3b", "a-1b", "a-2b", "a-3b"], "family": ["A"] * 6,
        "params": [1e9, 2e9, 3e9] * 2, "benchmark": ["HellaSwag"] * 3 + ["TruthfulQA"] * 3,
        "score": [40.0, 50.0, 60.0, 30.0, 31.0, 32.0], "shots": [0, 10, 10, 0, 0, 0],
        "metric": ["acc_norm"] * 3 + ["mc2"] * 3}), units="percent")


def test_mixed_shots_warning_names_models_and_option():
    w = setting_warnings(_mixed())
    assert len(w) == 1
    assert "family A: HellaSwag mixes shots: 0-shot (a-1b); 10-shot (a-2b, a-3b)" in w[0]
    assert "--shots HellaSwag=0" in w[0]


def test_shots_and_variant_selection():
    t, notes = apply_settings(_mixed(), shots=["hellaswag=10"], variant=["TQA=mc2"])
    assert sorted(t.long.loc[t.long["benchmark"] == "HellaSwag", "model"]) == ["a-2b", "a-3b"]
    assert len(t.long[t.long["benchmark"] == "TruthfulQA"]) == 3 and notes == []
    assert setting_warnings(t) == []
    with pytest.raises(NotFoundError, match=r"no HellaSwag scores with 5 shots \(shots present: 0, 10\)"):
        apply_settings(_mixed(), shots=["HellaSwag=5"])
    with pytest.raises(DataError, match="--shots expects BENCH=N"):
        parse_settings(["HellaSwag"], "--shots", integer=True)
    with pytest.raises(DataError, match="'ten' is not a whole number"):
        parse_settings(["HellaSwag=ten"], "--shots", integer=True)


def test_pretrained_only_by_default_and_lineage_attributes():
    from cape.ingest import read_any

    t, _ = read_any(REAL / "tables" / "open-llm-leaderboard-v2" / "contents_export.csv")
    mf = t.model_frame()
    n_pre = int(mf["model_type"].isin(["pretrained", "moe"]).sum())
    assert n_pre > 0 and mf["model_type"].notna().all()
    kept, note = base_models_only(t)
    assert kept.n_models == n_pre < t.n_models
    assert "left out" in note and "--include-finetunes" in note
    assert set(kept.model_frame()["model_type"].dropna()) <= {"pretrained", "moe"}


def test_diagnose_cli_default_drops_finetunes_and_json_keeps_every_family(capsys):
    from cape.cli import main

    f = str(REAL / "tables" / "open-llm-leaderboard-v2" / "contents_export.csv")
    assert main(["diagnose", f, "--pair", "BBH:IFEval", "--n-boot", "50", "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert any("left out" in n for n in a["input_notes"])
    assert main(["diagnose", f, "--pair", "BBH:IFEval", "--n-boot", "50", "--json", "--include-finetunes"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert len(b["families"]) > len(a["families"])
    assert main(["diagnose", f, "--pair", "BBH:IFEval", "--n-boot", "50", "--top", "2"]) == 0
    out = capsys.readouterr().out.replace("\n", " ")
    assert "more famil" in out and "--json lists every family" in out


def test_shown_families_most_evidence_first():
    from cape.diagnose_text import shown_families as _shown_families

    fams = [SimpleNamespace(family=f"F{i}", n_models=n) for i, n in enumerate([1, 5, 3, 2, 8, 1, 4] * 4)]
    shown, rest = _shown_families(fams, None)
    assert [f.n_models for f in shown][:3] == [8, 8, 8] and len(shown) == 16  # 16 families with >= 3 models
    assert rest.startswith("12 more families not shown") and "12 with fewer than 3 models" in rest
    shown, rest = _shown_families(fams, 2)
    assert len(shown) == 2 and "14 more with 3 or more models (--top 16 shows them)" in rest
    small = fams[:5]
    assert _shown_families(small, None) == (small, None)


def test_doctor_data_takes_the_family_from_the_file():
    """cape doctor MODEL --data FILE: the model's family and neighbours come from the file alone; the embedded
    cohort joins only with --with-cohort, and the result says which data were used."""
    from cape.doctor import diagnose_model
    from cape.ingest import read_any

    t, _ = read_any(REAL / "tables" / "obsscaling" / "base_llm_benchmark_eval.csv")
    r = diagnose_model("facebook/opt-1.3b", table=t)
    assert r.family == "OPT" and r.source.endswith("only")
    assert any("--with-cohort" in n for n in r.notes)
    text = str(r.to_dict()["coupling"])
    assert "facebook/opt-350m" in text and "facebook/opt-2.7b" in text  # its neighbours in the file
    r2 = diagnose_model("facebook/opt-1.3b", table=t, with_cohort=True)
    assert r2.source.endswith("+ embedded cohort")
