"""Levers on coupling: the fitting machinery, planted effects, identifiability, equivalent scale, fine-tunes, CLI.

The leaderboard fixture is an excerpt of the Open LLM Leaderboard v2 contents export (source in
tests/data/levers/SOURCES.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cape import data
from cape.errors import DataError
from cape.levers import finetune_shifts, fit, lever_effects, lineage_of, normalise_kind
from cape.levers.simulate import simulate_lever_families
from cape.scores import ScoreTable

LB = Path(__file__).parent / "data" / "levers" / "open_llm_leaderboard_v2_excerpt.csv"
FAST = {"n_boot": 200, "n_perm": 200}


# ------------------------------------------------------------------------------------------- fitting machinery
def test_solve_matches_least_squares_with_resampled_families():
    rng = np.random.default_rng(1)
    F, n = 6, 40
    fam = rng.integers(0, F, n)
    fam[:F] = np.arange(F)
    x, y, w = rng.normal(size=n), rng.normal(size=n), rng.uniform(0.5, 2.0, n)
    E = rng.normal(size=(F, 2))
    mom = fit.moments(fam, np.column_stack([np.ones(n), x]), y, w, F)
    counts = np.array([[1, 1, 1, 1, 1, 1], [2, 0, 1, 1, 1, 1]])
    got = fit.solve(mom, counts, E)
    for row, c in zip(got, counts):
        idx = np.concatenate([np.repeat(np.flatnonzero(fam == f), c[f]) for f in range(F)])
        X = np.column_stack([np.ones(n), x, E[fam]])[idx]
        sw = np.sqrt(w[idx])
        ref = np.linalg.lstsq(X * sw[:, None], y[idx] * sw, rcond=None)[0]
        np.testing.assert_allclose(row, ref, rtol=1e-9, atol=1e-12)


def test_solve_gives_nan_when_lever_has_no_variation():
    mom = fit.moments(np.array([0, 0, 1, 1]), np.column_stack([np.ones(4), [1.0, 2.0, 3.0, 4.0]]),
                      np.array([1.0, 2.0, 0.0, 1.0]), np.ones(4), 2)
    out = fit.solve(mom, np.ones((1, 2)), np.ones((2, 1)))  # lever equals the intercept
    assert np.isnan(out).all()


def test_stratified_counts_keep_each_level():
    strata = np.array([0, 0, 0, 1, 1, 2])
    C = fit.stratified_counts(strata, 500, np.random.default_rng(0))
    assert (C[:, :3].sum(1) == 3).all() and (C[:, 3:5].sum(1) == 2).all() and (C[:, 5] == 1).all()


def test_block_permutations_stay_within_blocks():
    blocks = np.array([0, 0, 0, 1, 1, 2])
    P = fit.block_permutations(blocks, 300, np.random.default_rng(0))
    assert set(map(tuple, np.sort(P[:, :3], 1))) == {(0, 1, 2)}
    assert set(map(tuple, np.sort(P[:, 3:5], 1))) == {(3, 4)} and (P[:, 5] == 5).all()
    assert len({tuple(r) for r in P[:, :3]}) == 6  # all 3! orders occur


def test_permutation_p_counts_ties_and_never_zero():
    p = fit.permutation_p(np.array([2.0, 0.0]), np.array([[1.0, 0.0], [-3.0, 1.0], [0.5, -1.0]]))
    np.testing.assert_allclose(p, [2 / 4, 4 / 4])


# ------------------------------------------------------------------------------------------- planted effects
def _effect(seed: int, effect: float, **kw):
    t, a = simulate_lever_families(16, effect=effect, seed=seed, **kw)
    return lever_effects(t, ["treated"], attributes=a, seed=seed, **FAST).get("treated", "yes")


def test_noise_free_plant_is_recovered_exactly_with_its_equivalent_scale():
    t, a = simulate_lever_families(12, effect=0.3, g0=0.5, family_sd=0.0, noise=0.0, seed=3)
    rep = lever_effects(t, ["treated"], attributes=a, **FAST)
    e = rep.get("treated", "yes")
    assert e.effect == pytest.approx(0.3, abs=1e-9)
    assert 0.4 < rep.scale_slope < 0.6  # the lever-free fit; the reading uses the slope fitted with the lever
    eq = e.equivalent_scale
    assert eq.equivalent_params == pytest.approx(1e9 * 10 ** (0.3 / 0.5), rel=1e-6)
    assert eq.nc_factor == pytest.approx(10 ** (-0.6), rel=1e-6)
    assert e.levels == ("no", "yes") and e.n_families == {"no": 6, "yes": 6}


def test_one_planted_effect_found_one_absent_not():
    found = _effect(101, 0.6)
    absent = _effect(1, 0.0)
    assert found.p < 0.05 and found.ci_low > 0 and found.significant
    assert absent.p >= 0.05 and absent.ci_low < 0 < absent.ci_high and absent.significant is False


@pytest.mark.slow
def test_planted_effect_found_and_absent_effect_not_found_at_stated_rates():
    """Small simulation (the benchmark runs a larger one): 16 families (8 with the lever), family offsets
    SD 0.15, score noise 0.5 pp. Stated rates: false positives at most alpha = 5%, power >= 90% for a planted
    shift of gamma by 0.6."""
    null = [_effect(s, 0.0) for s in range(24)]
    planted = [_effect(100 + s, 0.6) for s in range(12)]
    fp = sum(e.p < 0.05 for e in null)
    hits = sum(e.p < 0.05 and e.effect > 0 for e in planted)
    assert fp <= 3, fp  # P(X >= 4 | n=24, p=.05) = 3%
    assert hits >= 11, hits
    cover = sum(e.ci_low <= 0.6 <= e.ci_high for e in planted)
    assert cover >= 9, cover


@pytest.mark.slow
def test_permutation_is_across_families_not_models():
    """Strong family offsets, no lever effect: shuffling whole families keeps the false-positive rate; the same
    data analysed as if every model were its own family rejects far more often."""
    fp_family = fp_models = 0
    for s in range(12):
        t, a = simulate_lever_families(10, effect=0.0, family_sd=0.6, seed=200 + s, sizes=(5, 7))
        fp_family += lever_effects(t, ["treated"], attributes=a, measure="residual", seed=s,
                                   **FAST).get("treated", "yes").p < 0.05
        long = t.long
        long["family"] = long["model"]
        solo = ScoreTable(long, units="percent", name="one family per model")
        fp_models += lever_effects(solo, ["treated"], attributes=a, measure="residual", seed=s,
                                   **FAST).get("treated", "yes").p < 0.05
    assert fp_family <= 2
    assert fp_models >= fp_family + 3


# ------------------------------------------------------------------------------------------- identifiability
def test_recipe_not_identifiable_on_embedded_cohort_and_contract():
    rep = lever_effects(data.load_base(), ["recipe"], **FAST)
    e = rep.get("recipe", "curated")
    assert e.identifiable is False and e.effect is None and e.p is None
    assert e.n_families == {"web": 11, "curated": 2}
    assert "not identifiable from these data" in e.message and "Phi, Qwen2.5" in e.message
    d = json.loads(json.dumps(rep.to_dict()))
    lev = d["levers"][0]
    for k in ("lever", "levels", "effect", "ci_low", "ci_high", "p", "n_families", "identifiable",
              "equivalent_scale", "message"):
        assert k in lev
    assert lev["levels"] == ["web", "curated"] and lev["effect"] is None


def test_gqa_on_embedded_cohort_residual_counts_families_and_labs():
    e = lever_effects(data.load_base(), ["gqa"], measure="residual", **FAST).get("gqa", "yes")
    assert e.identifiable and e.n_families == {"no": 10, "yes": 6}
    assert set(e.families["yes"]) == {"Falcon", "Gemma", "Llama-3", "Mistral", "Qwen2.5", "Yi"}
    assert e.mixed_families == ("Falcon", "Llama-2")  # Falcon 1B is MHA; Llama-2-70B alone uses GQA
    assert e.ci_low <= e.effect <= e.ci_high and 0 < e.p <= 1


def test_two_families_a_side_is_not_identifiable():
    t, a = simulate_lever_families(7, effect=1.0, share=2 / 7, seed=4)
    e = lever_effects(t, ["treated"], attributes=a, **FAST).get("treated", "yes")
    assert not e.identifiable and e.n_families["yes"] == 2
    e3 = lever_effects(t, ["treated"], attributes=a, min_families=2, **FAST).get("treated", "yes")
    assert e3.identifiable


def test_collinear_levers_are_named():
    t, a = simulate_lever_families(12, effect=0.4, seed=5)
    a["copy"] = a["treated"]
    rep = lever_effects(t, ["treated", "copy"], attributes=a, **FAST)
    assert any(set(c["levers"]) == {"treated", "copy"} and c["r"] == pytest.approx(1.0) for c in rep.collinear)
    assert rep.get("treated", "yes").collinear_with == ("copy",)
    assert "collinear with copy" in rep.get("treated", "yes").message


def test_continuous_user_lever():
    t, a = simulate_lever_families(14, effect=0.0, seed=6)
    fam = a["model"].str.slice(0, 5)
    a["budget"] = fam.map({f: i for i, f in enumerate(sorted(fam.unique()))}).astype(float)
    e = lever_effects(t, ["budget"], attributes=a, **FAST).get("budget")
    assert e.kind == "continuous" and e.n_families == {"low": 7, "high": 7} and e.identifiable


def test_generation_within_lineages():
    """Three lineages of three generations each; each later generation raises gamma by 0.5."""
    rows = []
    rng = np.random.default_rng(7)
    for li in ("Alpha", "Beta", "Gamma"):
        for g in (1, 2, 3):
            x = np.linspace(8.5, 10.5, 5)
            hs = 30 + 10 * (x - 8.5) + rng.normal(0, 0.3)
            gam = 0.4 * (x[:-1] + x[1:]) / 2 - 3.8 + 0.5 * g
            tqa = 40 + np.concatenate([[0], np.cumsum(gam * np.diff(hs))])
            for i in range(5):
                rows.append({"model": f"{li}-{g}-{i}", "family": f"{li}-{g}", "params": 10 ** x[i],
                             "HellaSwag": hs[i], "TruthfulQA": tqa[i]})
    t = ScoreTable.from_wide(pd.DataFrame(rows), units="percent")
    e = lever_effects(t, ["generation"], **FAST).get("generation")
    assert e.identifiable and e.n_families == {"lineages": 3, "families": 9}
    assert e.effect == pytest.approx(0.5, abs=1e-6)
    assert lineage_of("Llama-2") == ("llama", 2.0) and lineage_of("Qwen2.5") == ("qwen", 2.5)
    assert lineage_of("OPT") == ("opt", None)


def test_bad_arguments():
    t = data.load_base()
    with pytest.raises(DataError, match="unknown lever 'colour'"):
        lever_effects(t, ["colour"], **FAST)
    with pytest.raises(DataError, match="measure must be one of"):
        lever_effects(t, ["gqa"], measure="angle", **FAST)
    with pytest.raises(DataError, match="n_boot must be an integer >= 100"):
        lever_effects(t, ["gqa"], n_boot=10)
    with pytest.raises(DataError, match="seed"):
        lever_effects(t, ["gqa"], seed=-1, **FAST)
    with pytest.raises(DataError, match="at must be a parameter count"):
        lever_effects(t, ["gqa"], at=7, **FAST)
    with pytest.raises(DataError, match="attributes: no 'model' column"):
        lever_effects(t, ["gqa"], attributes=pd.DataFrame({"name": ["Pythia-1B"], "x": ["a"]}), **FAST)
    with pytest.raises(DataError, match="lever column 'nope' is not in the attributes"):
        lever_effects(t, ["nope"], attributes=pd.DataFrame({"model": ["Pythia-1B"], "x": ["a"]}), **FAST)


# ------------------------------------------------------------------------------------------- fine-tunes
def _lb():
    from cape.commands._scores import read_scores as _read_scores
    from cape.commands.levers import read_attributes

    table, _ = _read_scores([LB])
    return table, read_attributes([LB])


def test_finetune_shifts_on_leaderboard_excerpt():
    table, attrs = _lb()
    rep = finetune_shifts(table, attributes=attrs, pair="BBH:IFEval", n_boot=200, n_perm=512)
    raw = pd.read_csv(LB)
    pre = raw[raw["Type"].str.contains("pretrained")]
    c = np.polyfit(pre["BBH"], pre["IFEval"], 1)[0]
    assert rep.slope == pytest.approx(c, rel=1e-9) and rep.slope_source == "pretrained models (8)"
    pf = rep.pairs.set_index("model")
    x = raw[raw["fullname"] == "AI-Sweden-Models/Llama-3-8B-instruct"].iloc[0]
    b = pre[pre["fullname"] == "meta-llama/Meta-Llama-3-8B"].iloc[0]
    want = (x["IFEval"] - b["IFEval"]) - c * (x["BBH"] - b["BBH"])
    assert pf.loc["AI-Sweden-Models/Llama-3-8B-instruct", "shift"] == pytest.approx(want, rel=1e-9)
    assert pf.loc["AI-Sweden-Models/Llama-3-8B-instruct", "base"] == "meta-llama/Meta-Llama-3-8B"
    kinds = {k.kind: k for k in rep.kinds}
    assert set(kinds) == {"chat", "fine-tuned"}
    assert kinds["chat"].n_bases == 8 and kinds["chat"].n_pairs == int((pf["kind"] == "chat").sum())
    # 8 bases: the sign-flip test is exact over 2**8 sign patterns
    assert kinds["chat"].p * 256 == pytest.approx(round(kinds["chat"].p * 256))
    by_base = pf[pf["kind"] == "chat"].groupby("base")["shift"].mean()
    assert kinds["chat"].mean_shift == pytest.approx(by_base.mean(), rel=1e-9)
    # every base's mean moved up: all 256 sign patterns but the two extremes give a smaller |mean|
    assert (by_base > 0).all() and kinds["chat"].p == pytest.approx(2 / 256)
    assert kinds["chat"].ci_low > 0
    assert normalise_kind("🤝 base merges and moerges") == "merge"
    assert normalise_kind("💬 chat models (RLHF, DPO, IFT, ...)") == "chat"
    assert normalise_kind("🟩 continuously pretrained") == "fine-tuned"


def test_cli_levers_json_on_leaderboard(capsys):
    from cape.cli import main

    rc = main(["levers", "--scores", str(LB), "--pair", "BBH:IFEval", "--json", "--n-boot", "200",
               "--n-perm", "200"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    post = next(e for e in out["levers"] if e["lever"] == "post_training")
    assert post["identifiable"] is True and post["n_families"] == {"base": 4, "post-trained": 4}
    # 4 families: 16 sign patterns, smallest p = 2/16, so no shift is rejected and the CI is unbounded
    assert post["p"] == pytest.approx(0.125) and post["ci_low"] is None and post["ci_high"] is None
    assert "smallest attainable p is 0.125" in post["message"]
    assert out["finetunes"]["n_pairs"] == len(out["finetunes"]["pairs"]) > 40
    moe = next(e for e in out["levers"] if e["lever"] == "moe")
    assert moe["identifiable"] is False


def test_cli_levers_bad_input(capsys, tmp_path):
    from cape.cli import main

    assert main(["levers", "--lever", "colour"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown lever 'colour'" in err and "Traceback" not in err
    assert main(["levers", "--at", "big"]) == 2
    assert "--at 'big'" in capsys.readouterr().err
    assert main(["levers", "--scores", str(LB)]) == 2  # no HellaSwag/TruthfulQA in a v2 file
    err = capsys.readouterr().err
    assert "HellaSwag" in err and "--pair B1:B2" in err
    before = LB.read_bytes()
    assert LB.read_bytes() == before


def test_family_equivalent_scale_noise_free():
    from cape.levers.family import family_equivalent_scale

    t, a = simulate_lever_families(8, effect=0.25, share=1 / 8, g0=0.5, family_sd=0.0, noise=0.0, seed=9)
    long = t.long
    yes = set(a.loc[a["treated"] == "yes", "model"])
    long["recipe"] = ["curated" if m in yes else "web" for m in long["model"]]
    tab = ScoreTable(long, units="percent")
    fam = long.loc[long["model"].isin(yes), "family"].iloc[0]
    r = family_equivalent_scale(tab, fam, n_boot=200)
    assert r.n_reference == 7 and r.offset == pytest.approx(0.25, abs=1e-9)
    assert r.equivalent_params == pytest.approx(1e9 * 10 ** 0.5, rel=1e-6)
    assert r.ci_low == pytest.approx(r.equivalent_params, rel=1e-6)  # noise-free reference line
    with pytest.raises(Exception, match="reference"):
        family_equivalent_scale(tab, fam, reference="distilled", n_boot=200)


def test_family_reading_on_embedded_phi():
    from cape.levers.family import family_equivalent_scale

    r = family_equivalent_scale(data.load_base(), "Phi", n_boot=500)
    assert r.n_reference == 11 and r.n_target_obs == 1  # Phi-1.5 -> Phi-2 (Phi-3-mini is an instruct model)
    assert r.offset > 0 and r.ci_low < 10e9 < r.ci_high and r.equivalent_params > 1e9


# ------------------------------------------------------------------------------------------- views
def test_report_levers_section_shows_the_library_numbers():
    pytest.importorskip("plotly")
    from cape.report.html import build_sections

    secs, _ = build_sections(only=("levers",))
    (s,) = secs
    assert s.title == "Levers" and [b.kind for b in s.blocks] == ["text", "figure", "figure", "table"]
    df = s.blocks[3].obj
    want = lever_effects(data.load_base()).get("gqa", "yes")
    row = df[(df["lever"] == "gqa")].iloc[0]
    assert row["effect"] == pytest.approx(want.effect) and row["p"] == pytest.approx(want.p)
    fig = s.blocks[1].obj
    assert {t.name for t in fig.data} >= {"not significant", "not identifiable"}


def test_dashboard_levers_view():
    pytest.importorskip("streamlit")
    import json as _json

    from streamlit.testing.v1 import AppTest

    from cape.dashboard import app_path

    at = AppTest.from_file(str(app_path()), default_timeout=120)
    at.query_params["view"] = "levers"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(m.label == "families" and m.value == "13" for m in at.metric)
    charts = [_json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    assert any("collinear" in w.value for w in at.warning)
    at.radio(key="lev_measure").set_value("residual").run()
    assert any(m.label == "families" and m.value == "16" for m in at.metric)


# ------------------------------------------------------------------------------------------- doctor evidence
def test_evidence_reads_the_lever_at_the_model_size():
    from cape.levers.evidence import evidence_for

    t, a = simulate_lever_families(12, effect=0.3, g0=0.5, family_sd=0.0, noise=0.0, seed=3)
    a = a.rename(columns={"treated": "recipe"}).replace({"recipe": {"yes": "curated", "no": "web"}})
    rep = lever_effects(t, ["recipe"], attributes=a, **FAST)
    (ev,) = evidence_for("curation", 2e9, rep)
    assert ev.identifiable and ev.significant and ev.effect == pytest.approx(0.3, abs=1e-9)
    assert ev.equivalent_params == pytest.approx(2e9 * 10 ** 0.6, rel=1e-6)
    assert "at 2B this model would couple like a reference model of 7.96B" in ev.text
    assert evidence_for("rotation", 2e9, rep) == ()


def test_evidence_says_when_not_identifiable_or_not_significant():
    from cape.levers.evidence import evidence_for

    rep = lever_effects(data.load_base(), ["recipe", "d_model", "aspect_ratio"], **FAST)
    (cur,) = evidence_for("curation", 1e9, rep)
    assert not cur.identifiable and cur.effect is None
    assert "not identifiable from these data" in cur.text and "rests on the rule" in cur.text
    width = evidence_for("width", 1e9, rep)
    assert [w.lever for w in width] == ["d_model", "aspect_ratio"]
    assert all(w.significant is False and "not significant" in w.text for w in width)
    assert all(w.n_families == {"low": 7, "high": 6} for w in width)


# ------------------------------------------------------------------------------------------- claims
def test_public_score_analogues_of_the_lever_claims():
    from cape.levers.family import family_equivalent_scale
    from cape.paper.levers import paper_claims

    rows = {c.id: c for c in paper_claims()}
    assert set(rows) == {"A4b", "A5b", "A7b"}
    phi = family_equivalent_scale(data.load_base(), "Phi", n_boot=2000, seed=0)
    assert rows["A7b"].verdict == ("reproduces" if phi.ci_low <= 10e9 <= phi.ci_high else "differs")
    assert rows["A7b"].computed_value.startswith("17.6B")
    assert "not identifiable" in rows["A7b"].reason
    assert rows["A4b"].verdict == "differs" and "+0.41, +0.34, +1.34, +0.28, +1.08" in rows["A4b"].computed_value
    assert rows["A5b"].verdict == "not computable" and "+12.2 points" in rows["A5b"].computed_value
    from cape.paper import levers as paper_levers
    from cape.paper.ledger import ledger_claims
    from cape.paper.registry import PROVIDERS

    assert paper_levers.paper_claims in PROVIDERS
    ledger = {c.id: c for c in ledger_claims()}
    for a in ("A4", "A5", "A7"):
        assert f"{a}b is its public-score analogue" in ledger[a].reason


def test_doctor_recommendations_cite_the_lever_evidence():
    from cape.doctor import diagnose_model

    d = diagnose_model(family="Pythia", params=1e9, scores={"HS": 49.7, "TQA": 38.9}, d_model=1024)
    recs = {r.name: r for r in d.recommendations}
    assert {"curation", "width"} <= set(recs)
    (cur,) = recs["curation"].lever_evidence
    assert cur["lever"] == "recipe" and cur["identifiable"] is False and cur["n_families"] == {"web": 11, "curated": 2}
    assert "Measured on public scores: recipe = curated vs web: not identifiable" in recs["curation"].evidence_text
    width = recs["width"].lever_evidence
    rep = lever_effects(data.load_base(), ["d_model", "aspect_ratio"], n_boot=1000, n_perm=1000)
    assert [w["lever"] for w in width] == ["d_model", "aspect_ratio"]
    for w in width:
        e = rep.get(w["lever"])
        assert w["effect"] == pytest.approx(e.effect) and w["significant"] is False
    assert "not significant" in recs["width"].evidence_text
    assert all(not r.lever_evidence for n, r in recs.items() if n not in ("curation", "width"))
    assert d.to_dict()["recommendations"][0]["lever_evidence"] is not None
