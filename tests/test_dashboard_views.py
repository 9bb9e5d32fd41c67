"""App-level tests of the analysis views (Diagnose, Families, Eigenstructure, Dynamics): each shows what the
library computes, and reacts to its inputs."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

from cape.dashboard import app_path, views  # noqa: E402
from cape.scores import ScoreTable  # noqa: E402

TIMEOUT = 120


def _available(key: str) -> bool:
    return key in [v.key for v in views.available()]


def _app(view: str, **session) -> AppTest:
    at = AppTest.from_file(str(app_path()), default_timeout=TIMEOUT)
    at.query_params["view"] = view
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _banner(at: AppTest) -> str:
    return next((m.value for m in at.markdown if "Phase:" in m.value), "")


# ------------------------------------------------------------------------------------------------ Diagnose
needs_doctor = pytest.mark.skipif(not _available("diagnose"), reason="cape.doctor / cape.ingest not installed")


@needs_doctor
def test_diagnose_described_tax_model_recommends_curation():
    from cape.doctor import diagnose_model

    at = _app("diagnose")
    at.text_input(key="dg_params").set_value("1e9")
    at.number_input(key="dg_score_HS").set_value(49.7)
    at.number_input(key="dg_score_TQA").set_value(38.9)
    at.button[0].click().run()  # the form's submit button
    _ok(at)
    want = diagnose_model(family="Pythia", params=1e9, scores={"HellaSwag": 49.7, "TruthfulQA": 38.9})
    assert want.phase.label == "tax"
    assert "Phase: TAX" in _banner(at)
    md = " ".join(m.value for m in at.markdown)
    for r in want.recommendations:
        assert r.title in md
    assert "Data curation" in md
    assert len(_charts(at)) >= 3  # phase diagram, gamma vs N, phase probabilities


@needs_doctor
def test_diagnose_cooperative_scores_change_the_verdict():
    at = _app("diagnose")
    at.text_input(key="dg_params").set_value("1e9")
    at.number_input(key="dg_score_HS").set_value(49.7)
    at.number_input(key="dg_score_TQA").set_value(45.0)
    at.button[0].click().run()
    _ok(at)
    banner = _banner(at)
    assert "TAX" not in banner and "BONUS" in banner
    assert "Data curation" not in " ".join(m.value for m in at.markdown)


@needs_doctor
def test_diagnose_bad_parameter_count_is_one_sentence():
    at = _app("diagnose")
    at.text_input(key="dg_params").set_value("lots")
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "lots" in at.error[0].value


@needs_doctor
def test_diagnose_a_model_from_an_uploaded_file():
    wide = pd.DataFrame({"model": ["pythia-1b-mine"], "family": ["Pythia"], "params": [1e9],
                         "HellaSwag": [49.7], "TruthfulQA": [38.9], "source": ["mine.csv"]})
    t = ScoreTable.from_wide(wide, name="mine.csv")
    at = _app("diagnose", cape_uploads={"mine.csv": (t, {})})
    at.radio(key="dg_mode").set_value("From a results file").run()
    _ok(at)
    assert at.selectbox(key="dg_file_model").value == ("mine.csv", "pythia-1b-mine")
    assert "TAX" in _banner(at)
    assert any(s.value == "pythia-1b-mine" for s in at.subheader)
    # its one-model uploaded family has no coupling: the gamma chart's family line is embedded Pythia's, named so
    gamma = next(c for c in _charts(at) if "local coupling" in c["layout"]["title"]["text"])
    assert "Pythia (embedded)" in [t.get("name") for t in gamma["data"]]


@needs_doctor
def test_diagnose_an_uploaded_family_names_its_line_as_uploaded():
    wide = pd.DataFrame({"model": ["mytest-1b", "mytest-3b", "mytest-7b", "mytest-13b"], "family": ["MyTest"] * 4,
                         "params": [1e9, 3e9, 7e9, 13e9], "HellaSwag": [40.0, 50.0, 60.0, 70.0],
                         "TruthfulQA": [42.0, 39.0, 37.0, 40.0], "source": ["mine.csv"] * 4})
    t = ScoreTable.from_wide(wide, name="mine.csv")
    at = _app("diagnose", cape_uploads={"mine.csv": (t, {})})
    at.radio(key="dg_mode").set_value("From a results file").run()
    at.selectbox(key="dg_file_model").set_value(("mine.csv", "mytest-7b")).run()
    _ok(at)
    gamma = next(c for c in _charts(at) if "local coupling" in c["layout"]["title"]["text"])
    names = [tr.get("name") for tr in gamma["data"]]
    assert "MyTest (uploaded)" in names and not any("(embedded)" in str(n) for n in names)


@needs_doctor
def test_diagnose_frontier_model_by_name():
    at = _app("diagnose")
    at.radio(key="dg_mode").set_value("Pick a model").run()
    at.selectbox(key="dg_pick").set_value("Claude 3.5 Haiku").run()
    _ok(at)
    from cape.doctor import diagnose_model

    want = diagnose_model("Claude 3.5 Haiku")
    assert any(want.frontier.message in i.value for i in at.info)
    names = [t.get("name") for t in _charts(at)[0]["data"]]
    assert "Claude 3.5 Haiku" in names  # the highlighted point on the frontier scatter


# ------------------------------------------------------------------------------------------------ Families
@pytest.mark.skipif(not _available("families"), reason="cape.diagnose not installed")
def test_families_view_shows_the_nc_table_of_the_diagnosis():
    from cape.diagnose import diagnose

    at = _app("families")
    _ok(at)
    res = diagnose()
    table = at.dataframe[0].value
    assert list(table["family"]) == [f.family for f in res.families]
    assert list(table["status"]) == [f.nc.status if f.nc else "insufficient" for f in res.families]
    metrics = {m.label: m.value for m in at.metric}
    from cape.plots import nc_short

    assert metrics["pooled N_c (family offsets)"] == nc_short(res.pooled_nc)
    assert any(res.pooled_nc.summary() in c.value for c in at.caption)
    # the family picker shows that family's own r
    at.selectbox(key="fam_pick").set_value("OPT").run()
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["r(HS, TQA)"] == f"{res.family('OPT').r.r:+.3f}"


# ------------------------------------------------------------------------------------------------ Eigen
@pytest.mark.skipif(not _available("eigen"), reason="cape.eigen not installed")
def test_eigen_view_reports_d_eff_per_phase_from_the_library():
    from cape import data
    from cape.eigen import phase_spectra

    at = _app("eigen")
    _ok(at)
    ps = phase_spectra(data.load_base(), n_boot=1000, seed=0)
    df = at.dataframe[0].value.set_index("group")
    for ph, e in ps.phases.items():
        assert df.loc[ph, "d_eff"] == pytest.approx(e.d_eff)
        assert df.loc[ph, "ci_low"] == pytest.approx(e.d_eff_ci[0])
    # correlation matrix instead of covariance changes d_eff
    at.radio(key="eg_use").set_value("corr").run()
    _ok(at)
    df2 = at.dataframe[0].value.set_index("group")
    assert df2.loc["all", "d_eff"] != pytest.approx(df.loc["all", "d_eff"])


# ------------------------------------------------------------------------------------------------ Dynamics
@pytest.mark.skipif(not _available("dynamics"), reason="cape.dynamics not installed")
def test_dynamics_view_shows_equations_holdout_and_prediction():
    from cape import data
    from cape.dynamics import discover, predict_scale

    at = _app("dynamics")
    _ok(at)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        disc = discover(data.load_base(), families=["Pythia"], n_models=100, seed=0)
        pred = predict_scale("Pythia", 3e10, data.load_base(), n_models=200, seed=0)
    assert at.code[0].value == "\n".join(disc.equations())
    assert len(_charts(at)) >= 4
    table = at.dataframe[-1].value
    assert table["predicted"].tolist() == pytest.approx(pred.to_frame()["predicted"].round(2).tolist())
    # a new scale gives a new prediction
    at.text_input(key="dy_pred_params").set_value("100B").run()
    _ok(at)
    t2 = at.dataframe[-1].value
    assert t2["predicted"].tolist() != pytest.approx(table["predicted"].tolist())
