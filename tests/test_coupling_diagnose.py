"""The orchestrating diagnosis (cape.diagnose): per-family results, pooled summary, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cape.commands._common import to_json
from cape.diagnose import diagnose
from cape.errors import NotFoundError
from cape.scores import ScoreTable


@pytest.fixture(scope="module")
def res():
    return diagnose(n_boot=1000, seed=0)


def test_embedded_pythia(res):
    py = res.family("pythia")
    assert py.status == "ok" and py.n_models == 8
    assert round(py.r.r, 4) == -0.9886 and py.r.ci_high < -0.9
    assert len(py.coupling.intervals) == 7
    assert py.phase_path() == ["tax", "tax", "tax", "transition", "tax", "tax", "tax"]
    assert py.nc.status == "none" and py.nc.direction == "above"
    assert py.size_range == (7e7, 1.2e10)


def test_pooled_summary(res):
    p = res.pooled
    assert round(p.paper_headline.estimate / 1e9, 3) == 3.494
    assert round(p.paper_headline.ci_low / 1e9, 3) == 2.916 and round(p.paper_headline.ci_high / 1e9, 3) == 13.404
    assert {"Phi", "Qwen2.5"} <= set(p.excluded)  # curated recipes are not pooled with web-trained families
    assert "Pythia" in p.families and "Phi" not in p.families
    assert p.offsets is not None and p.offsets.status in ("observed", "extrapolated", "none")
    assert res.pooled_nc is p.offsets


def test_json_contract(res):
    d = json.loads(to_json(res))  # allow_nan=False: a NaN anywhere would raise
    fam = {f["family"]: f for f in d["families"]}
    py = fam["Pythia"]
    for k in ("family", "n_models", "r", "r_ci", "nc", "intervals"):
        assert k in py
    assert set(py["nc"]) >= {"estimate", "ci_low", "ci_high", "status"}
    assert py["intervals"][0]["n_lower"] == 7e7  # raw parameters
    assert py["r_ci"][0] < py["r"] < py["r_ci"][1]
    assert {"offsets", "paper", "paper_headline"} <= set(d["pooled"])
    assert d["pooled"]["paper_headline"]["estimate"] == pytest.approx(3.494e9, rel=2e-4)
    assert fam["Mistral"]["status"] == "insufficient" and fam["Mistral"]["r"] is None


def test_every_family_has_a_status_and_message(res):
    for f in res.families:
        assert f.status in ("ok", "insufficient", "missing_benchmark")
        if f.status != "ok":
            assert f.message
        if f.nc is not None and f.nc.estimate is not None:
            assert math.isfinite(f.nc.estimate)


def test_frames(res):
    g = res.gamma_frame()
    assert set(g["family"]) >= {"Pythia", "OPT"} and (g["N_mid"] > 0).all()
    nc = res.nc_frame()
    assert len(nc) == len(res.families) and "status" in nc


def bad_table():
    rows = [
        # two models only
        ("Two-1B", "Two", 1e9, 50.0, 40.0), ("Two-7B", "Two", 7e9, 70.0, 38.0),
        # tied sizes
        ("Tie-1B", "Tie", 1e9, 40.0, 44.0), ("Tie-1B-v2", "Tie", 1e9, 41.0, 43.0), ("Tie-3B", "Tie", 3e9, 50.0, 41.0),
        ("Tie-9B", "Tie", 9e9, 60.0, 39.0),
        # constant TruthfulQA
        ("Flat-1B", "Flat", 1e9, 40.0, 35.0), ("Flat-3B", "Flat", 3e9, 50.0, 35.0),
        ("Flat-9B", "Flat", 9e9, 60.0, 35.0),
        # a good family
        ("Good-100M", "Good", 1e8, 28.0, 46.0), ("Good-400M", "Good", 4e8, 38.0, 42.0),
        ("Good-1B", "Good", 1e9, 48.0, 39.0), ("Good-3B", "Good", 3e9, 58.0, 36.0),
        ("Good-10B", "Good", 1e10, 66.0, 34.0),
    ]
    df = pd.DataFrame(rows, columns=["model", "family", "params", "HellaSwag", "TruthfulQA"])
    miss = pd.DataFrame({"model": ["NoTQA-1B", "NoTQA-7B"], "family": "NoTQA", "params": [1e9, 7e9],
                         "HellaSwag": [50.0, 60.0], "TruthfulQA": [np.nan, np.nan]})
    return ScoreTable.from_wide(pd.concat([df, miss]), name="bad.csv")


def test_bad_input_never_crashes():
    r = diagnose(bad_table(), n_boot=300, seed=0)
    fam = {f.family: f for f in r.families}
    assert fam["Two"].status == "insufficient" and "at least 3" in fam["Two"].message
    assert fam["Two"].coupling is not None and len(fam["Two"].coupling.gammas()) == 1
    assert fam["NoTQA"].status == "missing_benchmark" and "TruthfulQA" in fam["NoTQA"].message
    tie = fam["Tie"]
    assert tie.coupling.intervals[0].status == "equal_n"
    assert any("share a size" in m for m in tie.messages)
    flat = fam["Flat"]
    assert flat.r.status == "constant" and flat.r.r is None
    assert flat.nc.status == "insufficient" and "constant" in flat.nc.message
    assert fam["Good"].status == "ok" and fam["Good"].nc.status in ("none", "observed", "extrapolated")
    json.loads(to_json(r))  # nothing undefined presented as NaN


def test_pair_families_and_compat_keywords():
    r = diagnose(pair="ARC:TQA", families=["Pythia"], n_boot=200)
    assert r.pair == ("ARC-Challenge", "TruthfulQA") and [f.family for f in r.families] == ["Pythia"]
    assert r.pooled.paper_headline is None  # the paper's headline is a HellaSwag/TruthfulQA number
    r2 = diagnose(b1="HellaSwag", b2="TruthfulQA", families=["OPT"], n_boot=200)
    assert r2.pair == ("HellaSwag", "TruthfulQA")
    with pytest.raises(NotFoundError):
        diagnose(families=["Pythai"], n_boot=10)


def test_seeded():
    a = diagnose(families=["Pythia", "OPT"], n_boot=500, seed=3).to_dict()
    b = diagnose(families=["Pythia", "OPT"], n_boot=500, seed=3).to_dict()
    assert a == b
