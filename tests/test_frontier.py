"""Frontier diagnostics: the paper's numbers computed from the embedded panel, intervals, added models,
saturation, LOLO, the three-axis sub-panel, bad input and the ``cape frontier`` command."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cape import data
from cape.cli import main
from cape.errors import AnalysisError, DataError, UnknownBenchmarkError
from cape._stats import participation_ratio
from cape.frontier import (GPQA, SWE, FrontierConfig, add_models, embedded_panel, fixture_panel, frontier_report,
                           h_field, leave_one_lab_out, linear_coupling, mark_fit, population_coupling, saturation,
                           three_axis_panel)
from cape.paper.frontier import paper_claims

FAST = FrontierConfig(n_boot=400)


@pytest.fixture(scope="module")
def rep():
    return frontier_report(config=FAST)


@pytest.fixture(scope="module")
def fx():
    return mark_fit(fixture_panel(), FAST)


# ---------------------------------------------------------------------------------------------- paper numbers
def test_population_coupling_reproduces_m30_m31(fx):
    c = population_coupling(fx, FAST)
    assert c.n == 34
    assert abs(c.r - 0.7235) < 5e-5                       # A11 / M30
    assert abs(c.p - 1.33e-6) < 0.005e-6                  # p is NOT < 1e-6
    assert abs(c.slope - 0.5131) < 5e-5 and abs(c.intercept - 46.380) < 5e-4   # M31
    assert abs(c.se_slope - 0.087) < 5e-4 and abs(c.se_intercept - 5.81) < 5e-3  # the published standard errors
    assert abs(c.t_crit - 2.037) < 1e-3
    lo, hi = c.slope_ci_t
    assert abs((hi - lo) / 2 - 0.176) < 1e-3


def test_embedded_panel_matches_fixture(rep, fx):
    """frontier.csv and the frontier34 fixture hold the same 34 fitted models and scores."""
    c_fix = population_coupling(fx, FAST)
    assert rep.coupling.n == 34 and abs(rep.coupling.r - c_fix.r) < 1e-12
    p = rep.panel
    assert set(p.index[p["in_fit"]]) == set(fx.index[fx["in_fit"]])
    assert set(p.index[p["subset"] == "post-cutoff"]) == set(data.fixture("post5")["model"])


def test_lolo_reproduces_m32(rep):
    lo = rep.lolo
    assert lo.n_labs == 4
    assert round(lo.mean_mae, 2) == 9.20 and round(lo.sd_mae, 2) == 2.38
    assert set(lo.labs.index[lo.labs["in_summary"]]) == {"Anthropic", "DeepSeek", "Google", "OpenAI"}
    assert round(lo.labs.loc["Anthropic", "mae"], 2) == 12.39 and round(lo.labs.loc["OpenAI", "mae"], 2) == 6.55
    assert round(lo.mean_mape, 1) == 13.5


def test_per_lab_b2_b3_b4_b5(rep):
    L = rep.labs.table
    assert round(L.loc["Google", "slope"], 3) == 1.152 and round(L.loc["DeepSeek", "slope"], 3) == 0.232  # B2
    assert round(L.loc["Google", "mean_h_core"], 1) == 5.5 and round(L.loc["Anthropic", "mean_h_core"], 1) == -6.9
    assert round(L.loc["OpenAI", "mean_h_core"], 1) == 3.1 and round(L.loc["DeepSeek", "mean_h_core"], 1) == 1.9
    assert round(L.loc["DeepSeek", "swing"], 1) == 15.9                                                   # B4
    assert L.loc["Anthropic", "n"] == 8 and L.loc["Anthropic", "n_core"] == 7
    assert L.loc["Anthropic", "confidence"] == "HIGH" and L.loc["Meta", "confidence"] == "LOW"
    h = rep.h_field.table["h"]
    assert round(h["GPT-5.4 xhigh"] - h["GPT-5.4 std"], 1) == 7.8                                         # B5
    assert round(L.loc["Anthropic", "r"], 3) == 0.934


def test_subsets_b1_b6(rep):
    s = {x.name: x for x in rep.subsets}
    assert s["core"].n == 23 and round(s["core"].r, 4) == 0.6535
    assert s["x>=40"].n == 32 and round(s["x>=40"].r, 4) == 0.6866
    assert s["no compute tier"].n == 32 and round(s["no compute tier"].r, 4) == 0.7167
    assert s["all shown"].n == 39 and round(s["all shown"].r, 4) == 0.7497
    refit = frontier_report(config=replace(FAST, include_post_cutoff=True))
    assert refit.coupling.n == 39 and round(refit.coupling.r, 4) == 0.7497
    assert round(refit.coupling.slope, 4) == 0.5266


def test_three_axis_b7():
    ta = three_axis_panel(data.fixture("nc3"), source="nc3")
    R = ta.corr
    assert round(R[0, 1], 3) == 0.131 and round(R[1, 2], 3) == 0.813 and round(R[0, 2], 3) == -0.367
    assert round(ta.det, 3) == 0.110
    assert round(ta.d_eff_cov, 3) == 1.751 and round(ta.d_eff_corr, 3) == 1.946
    assert round(ta.third_on_second["slope"], 4) == 0.9676 and round(ta.third_on_second["intercept"], 2) == 6.81
    assert ta.psd
    # h3 = IFEval - (slope GPQA + intercept); residuals of an OLS fit sum to zero
    assert abs(sum(ta.h3.values())) < 1e-9


def test_h_field_paper_line_and_worked_examples(rep, fx):
    c = population_coupling(fx, FAST)
    hp = h_field(fx, c, replace(FAST, h_method="paper"))
    assert (hp.slope, hp.intercept) == (0.513, 46.4)
    assert round(hp.table.loc["Claude Opus 4.6", "h"], 2) == 3.45
    assert round(hp.table.loc["Claude Opus 4.7", "h"], 2) == 2.86       # B11, post-cutoff, not fitted
    # default: unrounded fit; h of fitted models sums to zero (OLS residuals)
    t = rep.h_field.table
    assert abs(t.loc[t["in_fit"], "h"].sum()) < 1e-8


def test_paper_claims_are_computed_and_honest():
    cl = {c.id: c for c in paper_claims()}
    for cid in ("A11", "M31", "M32", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B11"):
        assert cl[cid].verdict == "reproduces", (cid, cl[cid].computed_value)
    assert cl["M30"].verdict == "differs" and "1.33e-06" in cl["M30"].computed_value
    assert cl["B9"].verdict == "differs" and "0.099" in cl["B9"].computed_value


# ---------------------------------------------------------------------------------------------- intervals
def test_prediction_interval_matches_formula_and_covers():
    rng = np.random.default_rng(1)
    x = rng.uniform(10, 90, 40)
    y = 0.5 * x + 40 + rng.normal(0, 3, 40)
    c = linear_coupling(x, y, n_boot=500, seed=3)
    from scipy import stats

    lr = stats.linregress(x, y)
    assert abs(c.se_slope - lr.stderr) < 1e-10 and abs(c.se_intercept - lr.intercept_stderr) < 1e-10
    s = np.sqrt(np.sum((y - c.predict(x)) ** 2) / 38)
    hw = stats.t.ppf(0.975, 38) * s * np.sqrt(1 + 1 / 40 + (50 - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2))
    assert abs(c.prediction_halfwidth(50.0) - hw) < 1e-10
    # over repeated samples, a fresh draw from the same law falls inside the 95% PI about 95% of the time
    hits = []
    for _ in range(400):
        xs = rng.uniform(10, 90, 12)
        cs = linear_coupling(xs, 0.5 * xs + 40 + rng.normal(0, 3, 12), n_boot=0)
        xn = rng.uniform(10, 90)
        hits.append(abs(0.5 * xn + 40 + rng.normal(0, 3) - cs.predict(xn)) <= cs.prediction_halfwidth(xn))
    assert 0.92 < np.mean(hits) < 0.98
    assert c.slope_ci_boot[0] < 0.5 < c.slope_ci_boot[1]
    assert c.r_ci_boot[0] < c.r < c.r_ci_boot[1]


def test_bootstrap_is_seeded():
    x, y = np.arange(10.0), np.arange(10.0) ** 1.1 + np.sin(np.arange(10.0))
    a = linear_coupling(x, y, n_boot=300, seed=5)
    b = linear_coupling(x, y, n_boot=300, seed=5)
    c = linear_coupling(x, y, n_boot=300, seed=6)
    assert a.slope_ci_boot == b.slope_ci_boot and a.slope_ci_boot != c.slope_ci_boot


def test_linear_coupling_rejects_degenerate_input():
    with pytest.raises(AnalysisError, match="at least 3"):
        linear_coupling([1, 2], [1, 2])
    with pytest.raises(AnalysisError, match="same"):
        linear_coupling([5, 5, 5], [1, 2, 3])


# ---------------------------------------------------------------------------------------------- added models
def _added():
    return pd.DataFrame({"model": ["Acme-1", "Acme-2"], "lab": ["Acme", "Acme"],
                         "SWE-bench Verified": [82.0, 60.0], "GPQA Diamond": [80.0, 90.0],
                         "IFEval": [90.0, np.nan], "date": ["2026-05-01", "2026-06-01"]})


def test_added_model_appears_in_every_table():
    rep = frontier_report(config=FAST, added=_added())
    assert rep.added_models == ["Acme-1", "Acme-2"]
    assert rep.coupling.n == 34                                   # shown, not fitted
    assert {"Acme-1", "Acme-2"} <= set(rep.h_field.table.index)
    assert round(rep.h_field.table.loc["Acme-1", "h"], 3) == round(80 - (rep.coupling.slope * 82 + rep.coupling.intercept), 3)
    assert "Acme" in rep.labs.table.index and "Acme-1" in rep.labs.table.loc["Acme", "shown_only"]
    assert {"Acme-1", "Acme-2"} <= set(rep.labs.trajectory["model"])
    assert {"Acme-1", "Acme-2"} <= set(rep.lolo.models.index)
    assert np.isfinite(rep.lolo.models.loc["Acme-1", "predicted"])
    assert {"Acme-1", "Acme-2"} <= set(rep.saturation.ranking.index)
    assert rep.saturation.ranking.loc["Acme-1", "rank"] == 1
    assert "Acme-1" in rep.three_axis.models and "Acme-2" not in rep.three_axis.models   # only with IFEval
    assert {"Acme-1", "Acme-2"} <= set(rep.to_frame().index)
    assert any(s.name == "all shown" and s.n == 41 for s in rep.subsets)
    d = rep.to_dict()
    assert "Acme-1" in json.dumps(d)
    fitted = frontier_report(config=replace(FAST, fit_added=True), added=_added())
    assert fitted.coupling.n == 36 and fitted.coupling.r != rep.coupling.r


def test_added_models_are_validated():
    p = embedded_panel()
    bad = _added().drop(columns=["GPQA Diamond"])
    with pytest.raises(DataError, match="GPQA Diamond"):
        add_models(p, bad, name="mine.csv")
    with pytest.raises(DataError, match="outside 0-100"):
        add_models(p, _added().assign(**{"GPQA Diamond": [80.0, 120.0]}), name="mine.csv")
    with pytest.raises(DataError, match="already in the panel"):
        add_models(p, _added().assign(model=["o3", "x"]), name="mine.csv")
    with pytest.raises(UnknownBenchmarkError, match="did you mean"):
        FrontierConfig(y="GPQA Diamnd")
    with pytest.raises(DataError, match="h_method"):
        FrontierConfig(h_method="rounded")


# ---------------------------------------------------------------------------------------------- saturation / lolo
def test_saturation_on_panel_and_thresholds(fx):
    s = saturation(fx, config=FAST)
    assert s.top_models == ("Claude Opus 4.5", "Claude Opus 4.6", "Gemini 3.1 Pro", "MiniMax M2.5", "GPT-5.2 Pro")
    assert round(s.spread_old, 1) == 0.9 and round(s.spread_new, 1) == 9.1 and round(s.ratio, 3) == 0.099
    assert s.rotate
    assert not saturation(fx, config=replace(FAST, rotate_below=0.05)).rotate
    by_new = saturation(fx, config=replace(FAST, rank_by="new"))
    assert by_new.rank_by == GPQA and by_new.top_models[0] == "Gemini 3.1 Pro"


def test_saturation_must_not_fire_on_spread_axis():
    df = pd.DataFrame({"model": list("abcdef"), "lab": list("LLMMNN"),
                       SWE: [80, 70, 60, 50, 40, 30.0], GPQA: [90, 88, 86, 84, 82, 80.0]})
    from cape.frontier import panel_from_wide

    s = saturation(mark_fit(panel_from_wide(df), FAST), config=FAST)
    assert s.ratio == pytest.approx(40 / 8) and not s.rotate


def test_lolo_on_exact_line_is_zero():
    from cape.frontier import panel_from_wide

    x = np.array([20, 30, 40, 50, 60, 70, 80, 35.0])
    df = pd.DataFrame({"model": [f"m{i}" for i in range(8)], "lab": list("AAABBBCC"), SWE: x, GPQA: 0.4 * x + 50})
    lo = leave_one_lab_out(mark_fit(panel_from_wide(df), FAST), replace(FAST, lolo_min_models=2))
    assert lo.n_labs == 3 and lo.mean_mae < 1e-9 and lo.sd_mae < 1e-9


def test_trajectory_orders_by_release_date(rep):
    tr = rep.labs.trajectory
    g = tr[tr["lab"] == "Google"]["model"].tolist()
    assert g[0] == "Gemini 2.0 Flash" and g.index("Gemini 3 Pro") < g.index("Gemini 3 Flash")
    first = tr.groupby("lab").head(1)
    assert first["dh"].isna().all()
    an = tr[tr["lab"] == "Anthropic"].set_index("model")
    assert an.loc["Claude Opus 4.6", "reallocation"]        # -13.1 -> +3.5
    # the fixture has no dates: ordered by SWE, and says so
    fx = frontier_report(fixture_panel(), FAST)
    assert "release dates missing" in fx.labs.order


def test_participation_ratio():
    assert participation_ratio([1, 1, 1]) == pytest.approx(3.0)
    assert participation_ratio([2, 0, -1e-9]) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_frontier_json_with_added_scores(tmp_path, capsys):
    f = tmp_path / "mine.csv"
    _added().to_csv(f, index=False)
    rc = main(["frontier", "--json", "--n-boot", "200", "--scores", str(f)])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert round(d["coupling"]["r"], 4) == 0.7235 and d["added_models"] == ["Acme-1", "Acme-2"]
    assert any(m["model"] == "Acme-1" for m in d["h_field"]["models"])
    assert any(m["model"] == "Acme-1" for m in d["lolo"]["models"])
    assert any(m["model"] == "Acme-1" for m in d["saturation"]["ranking"])


def test_cli_frontier_human_output(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    f = tmp_path / "mine.csv"
    _added().to_csv(f, index=False)
    rc = main(["frontier", "--n-boot", "200", "--scores", str(f)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "0.7235" in out and "9.20 ± 2.38" in out and "fixture nc3 + 1 added" in out
    assert out.count("Acme-1") >= 5


def test_cli_frontier_bad_input(tmp_path, capsys):
    f = tmp_path / "bad.csv"
    pd.DataFrame({"model": ["z"], "lab": ["Z"], "SWE-bench Verified": [150.0], "GPQA Diamond": [80.0]}).to_csv(
        f, index=False)
    assert main(["frontier", "--scores", str(f)]) == 2
    err = capsys.readouterr().err
    # the out-of-range cell is left out and said so (with its value), then the frontier refuses the empty panel
    assert err.splitlines()[-1].startswith("error:") and "150" in err and "Traceback" not in err
    assert main(["frontier", "--method", "nonsense"]) == 2
