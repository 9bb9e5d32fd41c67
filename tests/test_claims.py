"""The claims table (cape.paper, cape claims): every computed value comes from the embedded data."""

from __future__ import annotations

import json

import pytest

from cape.paper import VERDICTS, Claim, all_claims, wilson_interval
from cape.cli import main

# claims (docs/paper.md) marked reproduced in the coupling / N_c / width / eigen / loss areas
MUST_REPRODUCE = {"M1", "A2", "A3", "M4a", "M5a", "M5b", "M8", "M10", "M16", "M17", "M21", "M39", "S2", "S3",
                  "M35", "E1", "M37", "M38", "M40", "S10", "S11", "A8"}
MUST_DIFFER = {"M4c", "M5c", "M6", "M3", "M34", "S1", "S8", "S4", "S7", "M7", "M17b"}


@pytest.fixture(scope="module")
def claims():
    return {c.id: c for c in all_claims()}


def test_ids_unique_and_verdicts_valid():
    rows = all_claims()
    ids = [c.id for c in rows]
    assert len(ids) == len(set(ids))
    assert all(c.verdict in VERDICTS and c.reason for c in rows)


def test_reproduced_items(claims):
    missing = MUST_REPRODUCE - set(claims)
    assert not missing
    bad = {i: claims[i].computed_value for i in MUST_REPRODUCE if claims[i].verdict != "reproduces"}
    assert not bad


def test_differing_items_say_why(claims):
    for i in MUST_DIFFER:
        assert claims[i].verdict == "differs", (i, claims[i])
        assert claims[i].computed_value


def test_headline_values_are_computed(claims):
    assert "3.494B" in claims["A2"].computed_value
    assert claims["A3"].computed_value == "[2.916B, 13.404B]"
    assert claims["A2"].sound_value and "Pythia" in claims["A2"].sound_value
    assert "-0.9886" in claims["M1"].computed_value
    assert claims["M17"].computed_value == "-0.989 -> +0.963"


def test_constants_and_missing_data_are_not_computable(claims):
    for i in ("A4", "A5", "A9", "M15", "M22", "M27", "M33", "S5"):
        assert claims[i].verdict == "not computable" and claims[i].computed_value is None


def test_wilson():
    lo, hi = wilson_interval(38, 40)
    assert (round(lo, 3), round(hi, 3)) == (0.835, 0.986)
    assert wilson_interval(0, 10)[0] == 0.0
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_claim_verdict_validation():
    with pytest.raises(ValueError):
        Claim("X", "x", "1", "1", "maybe", "r")


def test_cli_claims_json_and_filters(capsys):
    assert main(["claims", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "claim", "paper_value", "computed_value", "verdict", "reason", "sound_value"} <= set(rows[0])
    assert any(r["id"] == "A2" and r["verdict"] == "reproduces" for r in rows)
    assert main(["claims", "--id", "M1", "--id", "a3", "--verdict", "reproduces"]) == 0
    out = capsys.readouterr().out
    assert "M1" in out and "A3" in out and "M8 " not in out and "reproduces: 2" in out
    assert main(["claims", "--verdict", "maybe"]) == 2
