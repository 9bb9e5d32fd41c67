"""The static report opened in headless Chromium from a file:// URL with every network request refused: all of
its charts draw (Plotly is inlined), and the page asks for nothing outside the file."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium; make setup-browser)"),
]
pytest.importorskip("playwright.sync_api", reason="playwright (python package) not installed")

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from cape.report.html import build_report

    out = tmp_path_factory.mktemp("report") / "report.html"
    return build_report(out)


def test_report_draws_every_chart_offline(report, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    requested, refused = [], []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                   args=LAUNCH_ARGS, headless=True, offline=True,
                                                   viewport={"width": 1400, "height": 1000})

        def route(r):
            u = r.request.url
            requested.append(u)
            if u.startswith(("file:", "data:", "blob:", "about:")):
                r.continue_()
            else:
                refused.append(u)
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.path.resolve().as_uri())
        page.wait_for_selector(".main-svg", timeout=60_000)
        page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                               f"{report.n_figures}", timeout=60_000)
        n_plots = page.locator(".js-plotly-plot").count()
        n_svg = page.locator(".main-svg").count()
        drawn = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                              ".filter(g => g.querySelector('.main-svg') && (g.data || []).length > 0).length")
        page.screenshot(path=str(ARTIFACTS / "report_top.png"))
        ctx.close()
    assert n_plots == report.n_figures
    assert drawn == report.n_figures, f"{report.n_figures - drawn} chart(s) did not draw"
    assert n_svg >= report.n_figures
    assert not errors, errors[:3]
    outside = [u for u in requested if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert not refused and not outside, outside[:5]
    assert all(urlparse(u).scheme in ("file", "data", "blob", "about") for u in requested)
