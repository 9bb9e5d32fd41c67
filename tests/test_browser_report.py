"""The HTML report in headless Chromium: screenshots of every section kept under ``test-artifacts/``, and what
a person would check: the headline is there, no table's first row hides under its header, every legend is
horizontal below its plot (never a scrolling box) and lists every family, no chart is empty, no raw float."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium; make setup-browser)"),
]
pytest.importorskip("playwright.sync_api", reason="playwright (python package) not installed")
pytest.importorskip("plotly")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    from cape.data import load_base
    from cape.report.html import build_report

    out = tmp_path_factory.mktemp("report") / "report.html"
    table = load_base()
    build_report(out, table, seed=0)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(out.as_uri())
        page.wait_for_selector(".js-plotly-plot")
        page.wait_for_timeout(1500)
        yield page, table
        b.close()


def test_every_section_screenshot_and_headline(report_page):
    page, table = report_page
    keys = page.evaluate("() => [...document.querySelectorAll('main section')].map(s => s.id)")
    assert "overview" in keys and "families" in keys
    for k in keys:
        page.locator(f"section#{k}").screenshot(path=str(ARTIFACTS / f"report_{k}.png"))
    head = page.inner_text("p.headline")
    assert "compete" in head and "N_c =" in head and re.search(r"\d+(\.\d+)?B", head)


def test_first_row_of_every_table_is_visible(report_page):
    page, _ = report_page
    res = page.evaluate("""() => [...document.querySelectorAll('table.cape')].map(t => {
        const w = t.closest('.tablewrap') || t; w.scrollTop = 0; w.scrollIntoView({block: 'center'}); const th = t.querySelector('thead tr').getBoundingClientRect();
        const td = t.querySelector('tbody tr'); if (!td) return null;
        const r = td.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
        return {thBottom: th.bottom, rowTop: r.top, inRow: !!(hit && td.contains(hit))}; })""")
    res = [r for r in res if r]
    assert res and all(r["rowTop"] >= r["thBottom"] - 0.5 and r["inRow"] for r in res), res


def test_legends_are_static_and_list_every_family(report_page):
    page, table = report_page
    legends = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(g => ({
        orientation: (g.layout.legend || {}).orientation || 'v',
        names: [...g.querySelectorAll('.legendtext')].map(e => e.textContent),
        scroll: !!g.querySelector('.scrollbar[height]:not([height="0"])'),
        traces: (g.data || []).length}))""")
    assert all(lg["traces"] > 0 for lg in legends), "an empty chart"
    with_legend = [lg for lg in legends if lg["names"]]
    assert with_legend and all(lg["orientation"] == "h" for lg in with_legend)
    phase = with_legend[0]["names"]  # the overview's phase diagram: every family in its legend
    assert set(table.families) <= {re.sub(r" \(.*\)$", "", n) for n in phase}


def test_no_raw_floats_or_none_in_tables(report_page):
    page, _ = report_page
    cells = page.evaluate("() => [...document.querySelectorAll('table.cape td')].map(td => td.textContent)")
    assert cells
    bad = [c for c in cells if c in ("None", "nan") or re.fullmatch(r"-?\d*\.\d{5,}", c)]
    assert not bad, bad[:10]
