"""The static HTML report and the paper figure (``cape report``, ``cape figure``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("plotly")

from cape import data  # noqa: E402
from cape.cli import main  # noqa: E402
from cape.report.html import build_sections  # noqa: E402
from cape.report.static import build_figure  # noqa: E402
from cape.scores import ScoreTable  # noqa: E402


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The whole report, written once for the module by ``cape report -o DIR/report.html --json``: the command's
    JSON (:class:`~cape.report.html.ReportResult` as a dict) and the page."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("report") / "report.html"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["report", "-o", str(out), "--json"]) == 0
    return json.loads(stdout.getvalue()), out.read_text(encoding="utf-8")


def test_report_is_self_contained(report):
    res, page = report
    assert Path(res["path"]).exists() and res["bytes"] == len(page.encode("utf-8"))
    assert not re.search(r"<script[^>]*\bsrc=", page), "an external script would need the network"
    assert not re.search(r"<link[^>]*\bhref=", page), "an external stylesheet would need the network"
    assert "Plotly.newPlot" in page
    assert page.count("Plotly.newPlot") == res["n_figures"]
    assert page.count('<table class="cape">') == res["n_tables"]
    assert len(page) > 3_000_000  # plotly.js (about 4.6 MB) inlined once, not per figure
    assert len(page) < 4_700_000 + 1_500_000


def test_report_holds_the_dashboard_figures_and_tables(report):
    res, page = report
    assert "Overview" in res["sections"] and "Data" in res["sections"]
    assert res["n_figures"] >= 1 and res["n_tables"] >= 1
    # every model of the cohort appears in the data table
    for m in data.load_base().models[:10]:
        assert m in page
    # each table carries a CSV download that decodes to the table
    import base64

    hrefs = re.findall(r'href="data:text/csv;base64,([^"]+)"', page)
    assert len(hrefs) == res["n_tables"]
    csvs = [base64.b64decode(h).decode() for h in hrefs]
    scores = next(c for c in csvs if c.startswith("model,family,params_B,HellaSwag"))
    assert len(scores.strip().splitlines()) == data.load_base().n_models + 1


def test_report_numbers_come_from_the_library(report):
    _, page = report
    try:
        from cape.frontier import frontier_report
    except ImportError:
        pytest.skip("frontier module not installed")
    r = frontier_report().coupling.r
    assert f"r = {r:+.3f}" in page


def test_report_on_other_scores_uses_them(tmp_path):
    wide = pd.DataFrame({"model": [f"zz-{s}b" for s in (1, 2, 4, 8)], "family": ["ZZ"] * 4,
                         "params": [1e9, 2e9, 4e9, 8e9], "HellaSwag": [40.0, 50.0, 60.0, 70.0],
                         "TruthfulQA": [40.0, 38.0, 37.0, 39.0]})
    t = ScoreTable.from_wide(wide, name="zz.csv")
    secs, _ = build_sections(t, only=("overview", "data"))
    assert secs[0].blocks[0].kind == "headline" and "of 1 family with at least 3 models" in secs[0].blocks[0].obj
    fig = next(b.obj for b in secs[0].blocks if b.kind == "figure")
    assert [tr.name for tr in fig.data][:1] == ["ZZ"]


def test_cli_report_writes_atomically_and_reports_json(report):
    info, _ = report  # written by `cape report -o DIR/report.html --json`
    out = Path(info["path"])
    assert out.name == "report.html" and out.exists()
    assert info["n_figures"] >= 1
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left behind


@pytest.mark.parametrize("ext, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_figure_png_and_pdf(tmp_path, ext, magic):
    out = tmp_path / f"fig{ext}"
    res = build_figure(out, dpi=80)
    assert out.read_bytes()[:4] == magic
    assert res.panels[0] == "phase diagram"
    assert res.bytes == out.stat().st_size


def test_cli_figure_rejects_unknown_extension(tmp_path, capsys):
    rc = main(["figure", "-o", str(tmp_path / "fig.jpg")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error:") and "fig.jpg" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "fig.jpg").exists()


def test_cli_dashboard_dry_run_binds_loopback(capsys):
    assert main(["dashboard", "--port", "8777", "--dry-run", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["url"] == "http://127.0.0.1:8777"
    cmd = " ".join(info["command"])
    assert "--server.address 127.0.0.1" in cmd and "--browser.gatherUsageStats false" in cmd


def test_cli_dashboard_rejects_bad_port(capsys):
    assert main(["dashboard", "--port", "70000", "--dry-run"]) == 2
    assert "70000" in capsys.readouterr().err


def test_cli_report_only_some_sections(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "-o", str(out), "--only", "overview,data", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sections"] == ["Overview", "Data"]
    assert main(["report", "-o", str(out), "--only", "nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_figures_get_the_white_template_unvalidated_but_equal():
    """apply_layout gives a figure Plotly's registered plotly_white template without validating it again; the
    figure's template is the one update_layout(template='plotly_white') gives, and the template is a copy (a
    figure's edit does not reach the registered one)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    from cape.plots.base import apply_layout

    fig = apply_layout(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), title="t", x="x", y="y", log_x=True)
    ref = go.Figure(go.Scatter(x=[1, 2], y=[3, 4])).update_layout(template="plotly_white")
    assert fig.layout.template.to_plotly_json() == ref.layout.template.to_plotly_json()
    assert fig.layout.template.layout.paper_bgcolor == "white" and fig.layout.xaxis.type == "log"
    fig.layout.template.layout.paper_bgcolor = "red"
    assert pio.templates["plotly_white"].layout.paper_bgcolor == "white"
