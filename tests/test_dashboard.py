"""App-level tests of the dashboard (streamlit.testing.v1.AppTest, no browser) and of its figure builders."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytest.importorskip("streamlit")
pytest.importorskip("plotly")

from streamlit.testing.v1 import AppTest  # noqa: E402

from cape import data  # noqa: E402
from cape import plots as figures  # noqa: E402
from cape.dashboard import app_path, streamlit_command, views  # noqa: E402
from cape.scores import ScoreTable  # noqa: E402

TIMEOUT = 90


def _app(view: str | None = None, **session) -> AppTest:
    at = AppTest.from_file(str(app_path()), default_timeout=TIMEOUT)
    if view:
        at.query_params["view"] = view
    for k, v in session.items():
        at.session_state[k] = v
    return at.run()


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _trace_names(spec: dict) -> list[str]:
    return [t.get("name") for t in spec["data"]]


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _available(key: str) -> bool:
    return key in [v.key for v in views.available()]


def _upload_table() -> ScoreTable:
    wide = pd.DataFrame({"model": ["mytest-1b", "mytest-7b"], "family": ["MyTest", "MyTest"],
                         "params": [1e9, 7e9], "HellaSwag": [49.7, 70.1], "TruthfulQA": [38.9, 41.2],
                         "source": ["upload.json", "upload.json"]})
    return ScoreTable.from_wide(wide, name="upload.json")


# ------------------------------------------------------------------------------------------------ figures
def test_phase_diagram_has_one_trajectory_per_family_ordered_by_size():
    t = data.load_base()
    fig = figures.phase_diagram(t)
    names = [tr.name for tr in fig.data]
    assert sorted(names) == sorted(t.families)
    py = next(tr for tr in fig.data if tr.name == "Pythia")
    wide = t.filter(family="Pythia").wide(["HellaSwag", "TruthfulQA"]).sort_values("params")
    assert list(py.x) == wide["HellaSwag"].tolist()  # ordered by log N, not by score
    assert list(py.customdata[:, 0]) == wide.index.tolist()
    # hover names model, family, source and shots
    for field in ("customdata[0]", "family", "source", "shots"):
        assert field in py.hovertemplate


def test_family_colours_are_stable_and_distinct():
    fams = data.load_base().families
    a = figures.family_colors(fams)
    b = figures.family_colors(list(reversed(fams)))
    assert a == b
    assert len(set(a.values())) == len(fams)


def test_uploaded_models_are_stars():
    t = ScoreTable.concat([data.load_base(), _upload_table()])
    fig = figures.phase_diagram(t, uploaded={"mytest-1b", "mytest-7b"})
    tr = next(tr for tr in fig.data if tr.name == "MyTest")
    assert list(tr.marker.symbol) == ["star", "star"]


def test_figure_html_is_standalone():
    fig = figures.phase_diagram(data.load_base())
    page = figures.figure_html(fig, name="x")
    import re

    assert not re.search(r"<script[^>]*\bsrc=", page)  # no external script
    assert not re.search(r"<link[^>]*\bhref=\"http", page)  # no external stylesheet
    assert len(page) > 1_000_000  # plotly.js inlined


def test_streamlit_command_binds_loopback_and_disables_stats():
    cmd = streamlit_command(port=8765)
    s = " ".join(cmd)
    assert "--server.address 127.0.0.1" in s
    assert "--browser.gatherUsageStats false" in s
    assert "--server.port 8765" in s
    assert "--server.headless true" in s


# ------------------------------------------------------------------------------------------------ app
def test_app_starts_on_overview_with_phase_diagram():
    at = _app()
    _no_errors(at)
    assert at.title[0].value == "Overview"
    charts = _charts(at)
    assert charts, "no chart on the overview"
    assert "Pythia" in _trace_names(charts[0])
    # every chart has downloads: HTML, PNG and the data as CSV
    labels = [b.label for b in at.get("download_button")]
    assert any("HTML" in x for x in labels) and any("PNG" in x for x in labels) and any("CSV" in x for x in labels)


def test_view_switch_by_sidebar_and_url(claims_once):
    at = _app()
    keys = at.sidebar.radio[0].options
    assert "Overview" in keys
    if _available("claims"):
        at.sidebar.radio[0].set_value("claims").run()
        _no_errors(at)
        assert at.title[0].value == "Claims"
        assert at.query_params["view"] == ["claims"] or at.query_params["view"] == "claims"


def test_unknown_view_in_url_falls_back_to_overview():
    at = _app("no-such-view")
    _no_errors(at)
    assert at.title[0].value == "Overview"


def test_overview_benchmark_choice_changes_axes():
    at = _app()
    at.selectbox(key="ov_b1").set_value("ARC-Challenge").run()
    _no_errors(at)
    spec = _charts(at)[0]
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("ARC-Challenge")


def test_session_upload_shows_in_plots_and_leaves_embedded_data_alone():
    before = data.load_base().long
    at = _app(cape_uploads={"upload.json": (_upload_table(), {})})
    _no_errors(at)
    spec = _charts(at)[0]
    assert "MyTest (uploaded)" in _trace_names(spec)  # named as uploaded in the legend
    tr = next(t for t in spec["data"] if t["name"] == "MyTest (uploaded)")
    assert tr["marker"]["symbol"] == ["star", "star"]
    # its own colour: from the uploads' palette, never one an embedded family uses
    assert tr["line"]["color"] in figures.EXTRA_PALETTE
    assert tr["line"]["color"] not in {t["line"]["color"] for t in spec["data"] if t["name"] != tr["name"]}
    pd.testing.assert_frame_equal(data.load_base().long, before)
    # another session does not see it
    at2 = _app()
    assert not any("MyTest" in n for n in _trace_names(_charts(at2)[0]))


def test_upload_with_a_colliding_name_is_renamed_not_merged():
    t = ScoreTable.from_wide(pd.DataFrame({"model": ["Pythia-1B"], "family": ["Pythia"], "params": [1e9],
                                           "HellaSwag": [10.0], "TruthfulQA": [90.0]}), name="mine.csv")
    at = _app(cape_uploads={"mine.csv": (t, {})})
    _no_errors(at)
    spec = _charts(at)[0]
    py = next(tr for tr in spec["data"] if tr["name"] == "Pythia")
    up = next(tr for tr in spec["data"] if tr["name"] == "Pythia (uploaded)")
    assert "Pythia-1B" in [c[0] for c in py["customdata"]]
    assert [c[0] for c in up["customdata"]] == ["Pythia-1B (uploaded)"]
    assert up["marker"]["color"] != py["marker"]["color"]


def test_every_chart_legend_sits_below_the_plot_in_rows():
    at = _app()
    _no_errors(at)
    for spec in _charts(at):
        names = [t["name"] for t in spec["data"] if t.get("showlegend") is not False and t.get("name")]
        if not names or len(spec["data"]) < 2:  # Plotly draws no legend for a single trace
            continue
        lg = spec["layout"]["legend"]
        assert (lg["orientation"], lg["yref"], lg["y"], lg["yanchor"]) == ("h", "container", 0, "bottom")
        rows = spec["layout"]["meta"]["cape_legend_rows"]
        assert rows == figures.legend_rows(list(dict.fromkeys(names)), 1000 * 0.95) and rows >= 1
        assert spec["layout"]["margin"]["b"] >= 24 * rows


def test_legend_rows_and_height():
    # 17 names of 6 characters: 82 px each, 11 per 950 px row -> 2 rows; 1 row when they fit
    assert figures.legend_rows(["Family"] * 17, 950) == 2
    assert figures.legend_rows(["Family"] * 11, 950) == 1
    assert figures.legend_rows([], 950) == 0
    fig = figures.phase_diagram(data.load_base())
    h0 = fig.layout.height
    n = len(data.load_base().families)
    rows = figures.legend_rows(data.load_base().families, 480 * 0.95)
    figures.legend_below(fig, width_px=480)
    assert fig.layout.height == h0 + 24 * rows + 8 and rows >= 3 and n > 10
    figures.legend_below(fig, width_px=480)  # once only
    assert fig.layout.height == h0 + 24 * rows + 8
    one = figures.phase_diagram(data.load_base(), families=["Pythia"])  # one trace: Plotly draws no legend
    assert figures.legend_below(one).layout.height == h0 and one.layout.legend.orientation is None
    import plotly.graph_objects as go

    two = go.Figure([go.Scatter(y=[1, 2], name="band", showlegend=False), go.Scatter(y=[2, 3], name="Pythia")])
    assert figures.legend_below(two).layout.legend.orientation == "h"  # two traces: a legend with one entry


@pytest.mark.skipif(not _available("claims"), reason="claims view not available")
def test_claims_view_lists_claims_with_verdicts(claims_once):
    at = _app("claims")
    _no_errors(at)
    assert at.title[0].value == "Claims"
    from cape.paper import all_claims

    n = len(all_claims())
    if n:
        df = at.dataframe[0].value
        assert len(df) == n
        assert set(df["verdict"]) <= {"reproduces", "differs", "not computable"}
        assert sum(int(m.value) for m in at.metric) == n


@pytest.mark.skipif(not _available("frontier"), reason="frontier view not available")
def test_frontier_view_shows_the_library_fit():
    from cape.frontier import frontier_report

    at = _app("frontier")
    _no_errors(at)
    rep = frontier_report()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["population r"] == f"{rep.coupling.r:+.3f}"
    assert metrics["slope"] == f"{rep.coupling.slope:.3f}"
    charts = _charts(at)
    assert len(charts) >= 5
    names = _trace_names(charts[0])
    assert any(n.startswith("population") for n in names)
    assert set(rep.h_field.table["lab"].astype(str)) <= set(names)


def _arr(v) -> list:
    """A Plotly JSON array (plain list or base64 typed array) as a list of floats."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float).tolist()
    return [float(x) for x in v]


@pytest.mark.skipif(not _available("frontier"), reason="frontier view not available")
def test_frontier_paper_line_option_changes_the_h_field():
    from cape.frontier import FrontierConfig, frontier_report

    at = _app("frontier")
    at.radio(key="fr_method").set_value("paper").run()
    _no_errors(at)
    want = frontier_report(config=FrontierConfig(h_method="paper")).h_field.table["h"]
    default = frontier_report().h_field.table["h"]
    spec = _charts(at)[1]  # h-field per model
    got = {x: y for t in spec["data"] for x, y in zip(t["x"], _arr(t["y"]))}
    assert got == pytest.approx(want.to_dict(), abs=1e-9)
    assert got != pytest.approx(default.to_dict(), abs=1e-9)


def test_a_family_keeps_its_colour_in_every_figure():
    t = data.load_base()
    all_fams = figures.phase_diagram(t)
    one = figures.phase_diagram(t, families=["Pythia"])
    col = {tr.name: tr.line.color for tr in all_fams.data}
    assert one.data[0].name == "Pythia" and one.data[0].line.color == col["Pythia"]
    # a new family from an upload does not recolour the embedded ones
    t2 = ScoreTable.concat([t, ScoreTable.from_wide(pd.DataFrame({
        "model": ["aaa-1b"], "family": ["AAA"], "params": [1e9], "HellaSwag": [40.0], "TruthfulQA": [40.0]}))])
    col2 = {tr.name: tr.line.color for tr in figures.phase_diagram(t2).data}
    assert all(col2[f] == col[f] for f in col)


def test_scores_file_replaces_the_embedded_cohort(tmp_path, monkeypatch):
    pytest.importorskip("cape.ingest")
    from cape.dashboard import SCORES_ENV

    f = tmp_path / "mine.csv"
    pd.DataFrame({"model": ["zz-1b", "zz-3b", "zz-7b"], "family": ["ZZ"] * 3, "params": [1e9, 3e9, 7e9],
                  "HellaSwag": [40.0, 50.0, 60.0], "TruthfulQA": [41.0, 39.0, 40.0]}).to_csv(f, index=False)
    monkeypatch.setenv(SCORES_ENV, str(f))
    at = _app()
    _no_errors(at)
    assert _trace_names(_charts(at)[0]) == ["ZZ"]
    assert at.caption[0].value.startswith("3 models in 1 family")


def test_cli_dashboard_checks_the_scores_file_first(tmp_path, capsys):
    from cape.cli import main

    bad = tmp_path / "bad.csv"
    bad.write_text("model,HellaSwag\nx,not-a-number\n")
    rc = main(["dashboard", "--scores", str(bad), "--dry-run"])
    assert rc != 0
    err = capsys.readouterr().err
    assert err.startswith("error:") and "bad.csv" in err


def test_cli_dashboard_binds_loopback_unless_remote_is_allowed(capsys):
    import json

    from cape.cli import main

    for host in ("0.0.0.0", "192.0.2.7", "myhost.example"):
        assert main(["dashboard", "--host", host, "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and host in err and "--allow-remote" in err
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1"):
        assert main(["dashboard", "--host", host, "--dry-run", "--json"]) == 0
        assert capsys.readouterr().err == ""
    assert main(["dashboard", "--host", "0.0.0.0", "--allow-remote", "--dry-run", "--json"]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "upload" in captured.err
    assert json.loads(captured.out)["url"] == "http://0.0.0.0:8501"


def test_pooling_uploads_is_a_visible_choice():
    at = _app(cape_uploads={"upload.json": (_upload_table(), {})})
    _no_errors(at)
    box = next(c for c in at.checkbox if c.label.startswith("Pool the uploaded families"))
    assert box.value is False
    assert any("embedded cohort only" in c.value for c in at.caption)
    assert any("compete" in i.value for i in at.info)  # the headline sentence
    box.check().run()
    _no_errors(at)
    assert any("includes your uploaded families" in c.value for c in at.caption)
    assert not any(c.label.startswith("Pool the uploaded") for c in _app().checkbox)  # nothing to pool


def test_first_run_under_the_launcher_sends_the_first_chart_alone_then_the_whole_page(monkeypatch):
    from cape.dashboard import FIRST_PAINT_ENV, first_paint

    monkeypatch.setenv(FIRST_PAINT_ENV, "1")
    at = _app()
    _no_errors(at)
    # the session's first run: title, caption and the phase diagram, nothing else (no controls, downloads,
    # gamma panel or sidebar), and the marker that asks for the rest once the browser has painted the chart
    assert at.title[0].value == "Overview"
    charts = _charts(at)
    assert len(charts) == 1 and "Pythia" in _trace_names(charts[0])
    assert not at.get("download_button") and not at.selectbox and not at.info
    assert not at.sidebar.radio
    # the browser reports the chart painted: the rerun sends the whole page, the same chart first
    at.session_state[first_paint.PAINTED_KEY] = True
    at.run()
    _no_errors(at)
    full = _charts(at)
    assert len(full) == 2 and full[0] == charts[0]
    assert "Pooled over families" in at.info[0].value  # the headline sentence
    assert at.sidebar.radio[0].options and at.get("download_button") and at.selectbox
    # the next runs of the session, and other views, send the whole page at once
    at.run()
    assert len(_charts(at)) == 2 and at.sidebar.radio


def test_first_chart_alone_only_under_the_launcher_and_only_on_the_overview(monkeypatch):
    from cape.dashboard import FIRST_PAINT_ENV

    monkeypatch.delenv(FIRST_PAINT_ENV, raising=False)
    at = _app()
    assert len(_charts(at)) == 2 and at.sidebar.radio  # a plain ``streamlit run``: the whole page at once
    if _available("families"):
        monkeypatch.setenv(FIRST_PAINT_ENV, "1")
        at = _app("families")
        _no_errors(at)
        assert at.title[0].value == "Families" and at.sidebar.radio
        # a session that opened on another view keeps its sidebar when it switches to the Overview
        at.sidebar.radio[0].set_value("overview").run()
        _no_errors(at)
        assert at.title[0].value == "Overview" and len(_charts(at)) == 2 and at.sidebar.radio
