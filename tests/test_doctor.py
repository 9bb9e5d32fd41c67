"""The doctor: every rule with a case where it must fire and one where it must not; inputs, bad input,
configuration, the result object and the ``cape doctor`` command."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cape.doctor import RULES, DoctorConfig, DoctorResult, diagnose_model, parse_scores
from cape.cli import main
from cape.errors import DataError, NotFoundError, UnknownBenchmarkError
from cape.scores import ScoreTable

CFG = DoctorConfig(n_boot=400)
_CACHE: dict = {}


def dx(model=None, **kw) -> DoctorResult:
    """Cached diagnosis (the embedded data do not change within a run)."""
    key = (model, repr(sorted(kw.items(), key=lambda t: t[0])))
    if key not in _CACHE:
        kw.setdefault("config", CFG)
        _CACHE[key] = diagnose_model(model, **kw)
    return _CACHE[key]


def _synth(**over) -> ScoreTable:
    """A family with a clean flip near 3B: gamma -0.5, -0.5, -0.3, +0.3, +0.5, +0.5 (HS steps of 8)."""
    params = [1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11]
    hs = np.array([30, 38, 46, 54, 62, 70, 78.0])
    tqa = [45.0]
    for g in (-0.5, -0.5, -0.3, 0.3, 0.5, 0.5):
        tqa.append(tqa[-1] + g * 8)
    d = {"model": [f"Synth-{i}" for i in range(7)], "family": "Synth", "params": params, "HellaSwag": hs,
         "TruthfulQA": tqa, "recipe": "web"}
    d.update(over)
    return ScoreTable.from_wide(pd.DataFrame(d), name="synth.csv")


# ---------------------------------------------------------------------------------------------- diagnosis parts
def test_local_coupling_against_neighbours_and_phase_confidence():
    d = dx("Pythia-1B")
    assert d.kind == "base" and d.family == "Pythia" and d.params == 1e9
    below, above = d.coupling
    assert (below.lower, below.upper) == ("Pythia-410M", "Pythia-1B")
    assert (above.lower, above.upper) == ("Pythia-1B", "Pythia-1.4B")
    assert below.gamma == pytest.approx((38.9 - 41.2) / (49.7 - 40.9))
    assert above.gamma == pytest.approx(0.0)
    lo, hi = below.ci
    assert lo < below.gamma < hi
    ph = d.phase
    assert ph.label == "tax" and ph.interval == "Pythia-410M → Pythia-1B"
    pr = ph.probabilities
    assert sum(pr.values()) == pytest.approx(1.0)
    assert ph.confidence == pr["tax"] and 0.5 < ph.confidence < 1.0


def test_phase_confidence_is_seeded_and_tracks_noise():
    a = diagnose_model("Pythia-1B", config=replace(CFG, seed=3))
    b = diagnose_model("Pythia-1B", config=replace(CFG, seed=3))
    assert a.phase.probabilities == b.phase.probabilities
    # the same step measured with tiny errors is classified with near certainty
    t = _synth()
    long = t.long.assign(stderr=0.01)
    sharp = diagnose_model("Synth-1", table=ScoreTable(long, units="percent", name="s"), config=CFG)
    assert sharp.phase.label == "tax" and sharp.phase.confidence > 0.99


def test_critical_position_and_residuals():
    d = dx("Pythia-1B")
    c = d.critical
    assert c.status == "none" and c.direction == "above" and c.position == "below"
    assert c.ci[0] > 1e9
    keys = {r.key: r for r in d.residuals}
    assert set(keys) == {"family", "web", "paper"}
    fam = keys["family"]
    assert abs(fam.value) < fam.pi_half                    # Pythia-1B sits on its family's curve
    # the paper's UNIV curve (DS-BOOT14 quadratic, computed from the fixture) at 1B
    assert keys["paper"].predicted == pytest.approx(4.53164617 * 81 - 86.42060681 * 9 + 447.76697412, abs=0.01)
    assert d.d_eff.phase == "tax" and 1.0 <= d.d_eff.d_eff <= 5.0


def test_curated_model_reads_above_the_web_curve():
    d = dx("Phi-3-mini-4k")
    web = next(r for r in d.residuals if r.key == "web")
    assert web.value > 5 and "curated" in web.reading


# ---------------------------------------------------------------------------------------------- rules: curation
def test_curation_fires_for_tax_model_below_nc():
    r = dx("Pythia-1B").rule("curation")
    assert r.status == "fired"
    ev = r.evidence
    assert ev["phase"] == "tax" and ev["position"] == "below"
    assert ev["curated_median_gamma"] > CFG.curation_min_gamma
    fams = {i["family"] for i in ev["curated_intervals"]}
    assert fams <= {"Phi", "Qwen2.5", "Qwen3"} and fams
    assert all(1e9 / 3 <= i["n_mid"] <= 3e9 for i in ev["curated_intervals"])
    rec = next(x for x in dx("Pythia-1B").recommendations if x.name == "curation")
    assert rec.rule == RULES["curation"][2] and "median gamma" in rec.evidence_text


@pytest.mark.parametrize("model,kw,why", [
    ("Llama-3-70B", {}, "phase is bonus"),
    ("Phi-2", {}, "already trained on curated data"),
    ("Pythia-1B", {"config": replace(CFG, curation_min_gamma=5.0)}, "not cooperative"),
    ("Pythia-1B", {"config": replace(CFG, curation_size_factor=1.0)}, "no curated-data family interval"),
])
def test_curation_must_not_fire(model, kw, why):
    r = dx(model, **kw).rule("curation")
    assert r.status == "not fired" and why in r.reason


def test_curation_needs_position_below_nc():
    t = _synth()
    above = diagnose_model("Synth-5", table=t, config=CFG).rule("curation")      # bonus above the flip
    assert above.status == "not fired"
    below = diagnose_model("Synth-1", table=t, config=CFG)
    assert below.critical.position == "below" and below.rule("curation").status == "fired"


# ---------------------------------------------------------------------------------------------- rules: width
def test_width_fires_for_narrow_model():
    r = dx("Pythia-410M").rule("width")
    assert r.status == "fired"
    ev = r.evidence
    assert ev["d_model"] == 1024 and ev["residual_dex"] <= -CFG.width_narrow_dex
    assert ev["law"]["source"].startswith("family Pythia") and ev["d_law"] > 1024
    # a described model with an explicit narrow width
    d = dx(family="Pythia", params=1e9, scores={"HS": 49.7, "TQA": 38.9}, d_model=1024)
    assert d.rule("width").status == "fired"


def test_width_must_not_fire():
    assert dx("Pythia-1B").rule("width").status == "not fired"                  # wide for its size
    r = dx("Llama-3-70B").rule("width")                                         # narrow, but bonus phase
    assert r.status == "not fired" and "bonus" in r.reason and r.evidence["residual_dex"] < -CFG.width_narrow_dex
    na = dx(family="Pythia", params=1e9, scores={"HS": 49.7, "TQA": 38.9}).rule("width")
    assert na.status == "not applicable" and "--d-model" in na.reason


# ---------------------------------------------------------------------------------------------- rules: rotation
def test_rotation_fires_at_saturated_top():
    r = dx("Llama-3-70B").rule("rotation")
    assert r.status == "fired"
    item = next(c for c in r.evidence["checked"] if c["old"] == "HellaSwag")
    assert item["ratio"] < 0.2 and item["at_top"] and item["model_rank"] <= 5
    f = dx("Claude Opus 4.6").rule("rotation")
    assert f.status == "fired"
    fi = f.evidence["checked"][0]
    assert round(fi["ratio"], 3) == 0.099 and round(fi["spread_old"], 1) == 0.9


def test_rotation_must_not_fire():
    r = dx("Pythia-1B").rule("rotation")
    assert r.status == "not fired" and "not among the top" in r.reason
    r2 = dx("Llama-3-70B", config=replace(CFG, rotation_ratio=0.05)).rule("rotation")
    assert r2.status == "not fired" and "still separates" in r2.reason
    assert dx("o3").rule("rotation").status == "not fired"


# ---------------------------------------------------------------------------------------------- rules: checkpoints
def test_checkpoints_fire_near_zero_coupling():
    r = dx("OLMo-7B").rule("checkpoints")
    assert r.status == "fired" and "-0.048" in r.reason
    assert dx("Pythia-1B").rule("checkpoints").status == "fired"                 # 1B -> 1.4B: dTQA = 0


def test_checkpoints_fire_inside_nc_ci():
    d = diagnose_model("Synth-3", table=_synth(), config=CFG)
    assert d.critical.status == "observed" and d.critical.position == "near"
    lo, hi = d.critical.ci
    assert lo < 3e9 < hi and 2e9 < d.critical.nc < 5e9
    r = d.rule("checkpoints")
    assert r.status == "fired" and "CI of its family's N_c" in r.reason
    off = diagnose_model("Synth-3", table=_synth(), config=replace(CFG, checkpoints_on_nc=False))
    assert off.rule("checkpoints").status == "not fired"


def test_checkpoints_must_not_fire():
    r = dx("Pythia-2.8B").rule("checkpoints")
    assert r.status == "not fired"
    assert dx("Mistral-7B").rule("checkpoints").status == "not applicable"


# ---------------------------------------------------------------------------------------------- rules: rebalance
def test_rebalance_fires_and_not():
    assert dx("o3").rule("rebalance").status == "fired" and "coding" in dx("o3").rule("rebalance").reason
    son = dx("Claude Sonnet 4.6").rule("rebalance")
    assert son.status == "fired" and "reasoning" in son.reason and son.evidence["h"] < -5
    assert dx("Claude Opus 4.6").rule("rebalance").status == "not fired"
    assert dx("Pythia-1B").rule("rebalance").status == "not applicable"


# ---------------------------------------------------------------------------------------------- no intervention
def test_no_intervention_when_nothing_fires():
    d = dx("Phi-2")
    assert d.fired == []
    assert [r.name for r in d.recommendations] == ["none"]
    assert "no rule fired" in d.recommendations[0].evidence_text
    f = dx(scores={"SWE": 60, "GPQA": 77})
    assert f.kind == "frontier" and f.fired == [] and f.recommendations[0].name == "none"


def test_pythia_1b_recommendations():
    names = [r.name for r in dx("Pythia-1B").recommendations]
    assert names == ["curation", "checkpoints"]


# ---------------------------------------------------------------------------------------------- inputs
def test_described_model_matches_embedded_one():
    a = dx("Pythia-1B")
    b = dx(family="Pythia", params=1e9, scores={"HellaSwag": 49.7, "TruthfulQA": 38.9})
    assert b.coupling[0].gamma == pytest.approx(a.coupling[0].gamma)
    assert b.phase.label == a.phase.label
    assert any("Pythia-1B" in n and "set aside" in n for n in b.notes)
    assert b.source.startswith("described")


def test_what_if_scores_override():
    d = dx("Pythia-1B", scores={"TQA": 45.0})
    assert d.phase.label == "bonus" and any("what-if" in n for n in d.notes)


def test_frontier_described_with_lab_neighbours():
    d = dx(scores={"SWE": 80, "GPQA": 85}, lab="Anthropic", name="Claude X")
    assert d.kind == "frontier" and d.family == "Anthropic"
    assert {c.lower for c in d.coupling} | {c.upper for c in d.coupling} >= {"Claude X"}
    assert d.frontier.h == pytest.approx(85 - (d.frontier.line[0] * 80 + d.frontier.line[1]))
    assert d.rule("curation").status == "not applicable"


def test_ingested_table_model():
    d = diagnose_model("Synth-1", table=_synth(), config=CFG)
    assert d.family == "Synth" and d.source.startswith("synth.csv")


def test_family_with_too_few_models_says_what_is_missing():
    d = dx("Mistral-7B")
    assert d.phase is None and d.coupling == ()
    assert any("Mistral has no other member" in n and "HellaSwag and TruthfulQA" in n for n in d.notes)
    y = dx(family="Yi", params=34e9, scores={"HS": 85, "TQA": 45})
    assert any("Yi has no other member" in n for n in y.notes)
    h = dx(family="Pythia", params=2e9, scores={"HS": 55})
    assert h.phase is None and any("no TruthfulQA score" in n for n in h.notes)


def test_unknown_model_suggests_close_matches():
    with pytest.raises(NotFoundError, match="did you mean Pythia-1B"):
        diagnose_model("Pythia-1G", config=CFG)
    assert diagnose_model("pythia-1b", config=CFG).model == "Pythia-1B"
    with pytest.raises(NotFoundError, match="did you mean .*Claude Opus 4.6"):
        diagnose_model("Claude Opus 4.66", config=CFG)
    with pytest.raises(NotFoundError, match="did you mean Pythia"):
        diagnose_model(family="Pythya", params=1e9, scores={"HS": 50, "TQA": 40}, config=CFG)


@pytest.mark.parametrize("items,exc,msg", [
    (["HS=120"], DataError, "between 0 and 100"),
    (["HS=-1"], DataError, "between 0 and 100"),
    (["HelaSwag=50"], UnknownBenchmarkError, "did you mean HellaSwag"),
    (["Foo=50"], UnknownBenchmarkError, "unknown benchmark"),
    (["HS:50"], DataError, "BENCHMARK=VALUE"),
    (["HS=abc"], DataError, "not a number"),
    (["HS=50", "HellaSwag=51"], DataError, "given twice"),
])
def test_bad_scores_are_rejected(items, exc, msg):
    with pytest.raises(exc, match=msg):
        parse_scores(items)


def test_bad_descriptions_are_rejected():
    with pytest.raises(DataError, match="raw count"):
        diagnose_model(family="Pythia", params=7, scores={"HS": 50, "TQA": 40}, config=CFG)
    with pytest.raises(DataError, match="--params"):
        diagnose_model(family="Pythia", scores={"HS": 50, "TQA": 40}, config=CFG)
    with pytest.raises(DataError, match="GPQA Diamond"):
        diagnose_model(scores={"SWE": 80}, config=CFG)
    with pytest.raises(DataError, match="--family"):
        diagnose_model(scores={"HS": 50}, config=CFG)
    assert parse_scores({"tqa": "38.9%"}) == {"TruthfulQA": 38.9}


# ---------------------------------------------------------------------------------------------- config and result
def test_config_from_toml(tmp_path):
    f = tmp_path / "doctor.toml"
    f.write_text('[doctor]\nnear_zero = 0.3\nrotation_pairs = [["HS", "MMLU"]]\nwidth_phases = ["tax"]\n')
    c = DoctorConfig.from_toml(f)
    assert c.near_zero == 0.3 and c.rotation_pairs == (("HellaSwag", "MMLU"),) and c.width_phases == ("tax",)
    bad = tmp_path / "bad.toml"
    bad.write_text("near_zeros = 0.3\n")
    with pytest.raises(DataError, match="did you mean near_zero"):
        DoctorConfig.from_toml(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("near_zero = = 1\n")
    with pytest.raises(DataError, match="not valid TOML"):
        DoctorConfig.from_toml(broken)
    with pytest.raises(DataError, match="phase_lower"):
        DoctorConfig(phase_lower=0.5, phase_upper=0.1)
    # a threshold changes the verdict: Pythia-2.8B (|gamma| ~0.42) is a boundary under near_zero = 0.5
    assert dx("Pythia-2.8B", config=replace(CFG, near_zero=0.5)).rule("checkpoints").status == "fired"
    with pytest.raises(Exception):
        CFG.near_zero = 1.0                                                       # frozen


def test_result_to_dict_is_plain_json():
    for d in (dx("Pythia-1B"), dx("o3"), dx("Mistral-7B")):
        txt = json.dumps(d.to_dict(), allow_nan=False)
        back = json.loads(txt)
        assert back["model"] == d.model and len(back["rules"]) == 5
        assert list(d.to_frame().index) == ["curation", "width", "rotation", "checkpoints", "rebalance"]
        assert {r["name"] for r in back["rules"]} == {"curation", "width", "rotation", "checkpoints", "rebalance"}
        for rec in back["recommendations"]:
            assert rec["rule"] and rec["evidence_text"]


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_doctor_json_and_text(capsys, monkeypatch):
    assert main(["doctor", "Pythia-1B", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["phase"]["label"] == "tax" and [r["name"] for r in d["recommendations"]] == ["curation", "checkpoints"]
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["doctor", "--family", "Pythia", "--params", "1e9", "--score", "HellaSwag=49.7",
                 "--score", "TruthfulQA=38.9"]) == 0
    out = capsys.readouterr().out
    assert "Data curation" in out and "tax" in out and "Evaluate several checkpoints" in out
    assert main(["doctor", "--score", "SWE=80", "--score", "GPQA=85", "--json"]) == 0
    f = json.loads(capsys.readouterr().out)
    assert f["kind"] == "frontier" and f["frontier"]["h"] is not None


def test_cli_doctor_errors(capsys, tmp_path):
    assert main(["doctor", "Pythia-1G"]) == 3
    err = capsys.readouterr().err
    assert "did you mean Pythia-1B" in err and "Traceback" not in err
    assert main(["doctor", "--family", "Pythia", "--params", "1e9", "--score", "HS=149"]) == 2
    assert "between 0 and 100" in capsys.readouterr().err
    assert main(["doctor", "--family", "Pythia", "--params", "1e9", "--score", "Helaswag=49"]) == 2
    assert "did you mean HellaSwag" in capsys.readouterr().err
    cfg = tmp_path / "c.toml"
    cfg.write_text("near_zero = 0.5\n")
    assert main(["doctor", "Pythia-2.8B", "--config", str(cfg), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["config"]["near_zero"] == 0.5 and "checkpoints" in [r["name"] for r in d["recommendations"]]
