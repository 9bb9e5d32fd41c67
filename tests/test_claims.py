"""The claims table (cape.paper, cape claims): every computed value comes from the embedded data."""

from __future__ import annotations

import json

import pytest

from cape.paper import VERDICTS, Claim, all_claims, wilson_interval
from cape.cli import main

# claims (docs/paper.md) marked reproduced in the coupling / N_c / width / eigen / loss areas
MUST_REPRODUCE = {"M1", "A2", "A3", "M4a", "M5a", "M5b", "M8", "M16", "M17", "M39", "S2", "S3",
                  "M35", "E1", "M37", "M40", "S10", "S11", "A8"}
# one tolerance rule (half a unit of the published last digit): M10 (slope 3.448 vs 3.5), M21 (83.50% vs 84%)
# and M38 (0.6266 vs 0.626) do not round to the published numbers
MUST_DIFFER = {"M4c", "M5c", "M6", "M3", "M34", "S1", "S8", "S4", "S7", "M7", "M17b", "M10", "M21", "M38"}


@pytest.fixture(scope="module")
def rows(_claims_memo):
    """Every claim, computed once per test process (the whole table takes seconds; conftest ``claims_once``)."""
    return _claims_memo()


@pytest.fixture(scope="module")
def claims(rows):
    return {c.id: c for c in rows}


def test_ids_unique_and_verdicts_valid(rows):
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


def test_cli_claims_json_and_filters(capsys, claims_once):
    assert main(["claims", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema_version"] == 1
    rows = d["claims"]
    assert {"id", "claim", "paper_value", "computed_value", "verdict", "reason", "sound_value"} <= set(rows[0])
    m1 = next(r for r in rows if r["id"] == "M1")  # numbers beside the text: r = -0.9886, p = 3.65e-06
    assert m1["computed"] == -0.9886 and m1["computed_numbers"] == [-0.9886, 3.65e-06] and m1["paper"] == -0.989
    assert any(r["id"] == "A2" and r["verdict"] == "reproduces" for r in rows)
    assert main(["claims", "--id", "M1", "--id", "a3", "--verdict", "reproduces"]) == 0
    out = capsys.readouterr().out
    assert "M1" in out and "A3" in out and "M8 " not in out and "reproduces: 2" in out
    assert main(["claims", "--verdict", "maybe"]) == 2


def test_one_tolerance_rule():
    from cape.paper.claim import matches_published, published_tolerance

    assert published_tolerance("84%") == 0.5 and published_tolerance("0.102") == pytest.approx(0.0005)
    assert published_tolerance("2.5e-3") == pytest.approx(0.00005)
    assert not matches_published(83.496, "84") and matches_published(83.5, "84")
    assert not matches_published(3.448, "3.5") and matches_published(-0.9886, "-0.989")


def test_not_computable_reasons_carry_no_typed_result(claims):
    """A not-computable row's reason may quote the paper (its figures and constants), never a result typed in."""
    import re

    num = re.compile(r"-?\d+\.\d+|\d{2,}")
    quoted = {"A9": {"37"}, "M9": {"44", "0.3", f"{44 / 0.3:.0f}"}, "M19": {"0.83", "0.827"}, "M28": {"0.789"}}
    for c in claims.values():
        if c.verdict != "not computable":
            continue
        reason = re.sub(r"\b[AMSE]\d+[a-c]?\b", "", c.reason)  # claim ids are not numbers
        extra = set(num.findall(reason)) - set(num.findall(c.claim)) - set(num.findall(c.paper_value))
        assert not extra - quoted.get(c.id, set()), (c.id, extra)


def test_instruct_models_out_of_base_claims_unless_kept():
    from cape.paper import coupling, eigen

    ids = ("M7",)
    out = {c.id: c.computed_value for c in eigen.paper_claims() if c.id in ids}
    kept = {c.id: c.computed_value for c in all_claims([eigen.paper_claims], ledger=False, keep_instruct=True)
            if c.id in ids}
    assert "bonus 1.281" in out["M7"] and "(14 models" in out["M7"]
    assert "bonus 1.314" in kept["M7"] and "(15 models" in kept["M7"]
    assert coupling  # the coupling claims use the same cohort (base_cohort)
