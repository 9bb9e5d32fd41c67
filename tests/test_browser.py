"""End-to-end tests of the dashboard in headless Chromium (Playwright), with every request recorded.

The server starts once for the module on a free port; one persistent browser context records every request
and websocket URL. Screenshots go to ``test-artifacts/`` (gitignored). Needs Debian's ``chromium``
(``make setup-browser``); skipped with a reason when it is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
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
playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright (python package) not installed")
pytest.importorskip("streamlit")

from cape.dashboard import RESULTS_ENV, streamlit_command, views  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


def lmeval_file(path: Path, *, model: str = "testlab/mytest-1b", hs: float = 0.497, tqa: float = 0.389,
                params: int = 1_000_000_000) -> Path:
    """A minimal lm-evaluation-harness v0.4 results file."""
    blob = {
        "results": {
            "hellaswag": {"alias": "hellaswag", "acc,none": hs - 0.1, "acc_stderr,none": 0.005,
                          "acc_norm,none": hs, "acc_norm_stderr,none": 0.005},
            "truthfulqa_mc2": {"alias": "truthfulqa_mc2", "acc,none": tqa, "acc_stderr,none": 0.014},
        },
        "n-shot": {"hellaswag": 10, "truthfulqa_mc2": 0},
        "config": {"model": "hf", "model_args": f"pretrained={model}", "model_num_parameters": params},
        "model_name": model,
        "lm_eval_version": "0.4.5",
    }
    path.write_text(json.dumps(blob), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    # the server imports this checkout's sources (it runs in another folder, where a relative path would miss)
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)
    results = None
    try:  # real per-head / per-layer / steering result files for the Internals view (needs torch)
        from test_dashboard_internals import make_internals_results

        results = make_internals_results(tmp_path_factory.mktemp("results"))
        env[RESULTS_ENV] = str(results)
    except (ImportError, pytest.skip.Exception):
        pass
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(streamlit_command(port=port, python=sys.executable), stdout=fh,
                                stderr=subprocess.STDOUT, env=env, cwd=str(tmp_path_factory.getbasetemp()))
    try:
        wait_healthy(url, proc)
        yield {"url": url, "t0": t0, "proc": proc, "log": log, "results": results}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    seen: list[str] = []
    blocked: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, args=LAUNCH_ARGS,
                                                   headless=True, viewport={"width": 1400, "height": 1000})

        def route(r):
            u = r.request.url
            seen.append(u)
            host = urlparse(u).hostname
            if u.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
                r.continue_()
            else:
                blocked.append(u)
                r.abort()

        ctx.route("**/*", route)
        ctx.on("request", lambda req: seen.append(req.url))
        ctx.on("page", lambda pg: pg.on("websocket", lambda ws: seen.append(ws.url)))
        page = ctx.new_page()
        page.on("websocket", lambda ws: seen.append(ws.url))
        page.set_default_timeout(TIMEOUT_MS)
        yield {"ctx": ctx, "page": page, "seen": seen, "blocked": blocked}
        ctx.close()


def goto_view(page, url: str, key: str, title: str) -> None:
    """Open a view and wait for the whole page (the Overview's first run sends its first chart alone; the
    sidebar comes with the rest)."""
    page.goto(f"{url}/?view={key}")
    page.wait_for_selector(f"h1:has-text('{title}')")
    page.wait_for_selector("[data-testid='stSidebar'] [role='radiogroup']")


def trace_names(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                         ".flatMap(g => (g.data || []).map(t => String(t.name)))")


def shot(page, name: str) -> None:
    """Screenshot of the whole app (Streamlit scrolls an inner container, so the viewport is grown to fit)."""
    vp = page.viewport_size
    h = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                      " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": vp["width"], "height": int(min(max(h, vp["height"]), 8000))})
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"dashboard_{name}.png"))
    page.set_viewport_size(vp)


LEGENDS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => {
  const names = [...new Set((g.data || []).filter(t => t.showlegend !== false && t.name).map(t => String(t.name)))];
  const lg = g.querySelector('.legend');
  const on = !!(g._fullLayout && g._fullLayout.showlegend);
  if (!on || !lg) return {names, on, shown: [], scroll: false, below: true, inside: true};
  const shown = [...lg.querySelectorAll('.legendtext')].map(e => e.textContent);
  const bg = lg.querySelector('rect.bg').getBoundingClientRect();
  const box = lg.querySelector('.scrollbox').getBoundingClientRect();
  const sb = lg.querySelector('.scrollbar');
  const plot = g.querySelector('.draglayer .nsewdrag');
  const pb = plot ? plot.getBoundingClientRect().bottom : -1e9;
  return {names, on, shown, scroll: (sb ? sb.getBoundingClientRect().height : 0) > 0 || box.height > bg.height + 2,
          below: bg.top >= pb - 2, inside: bg.bottom <= g.getBoundingClientRect().bottom + 2};
})"""


def check_legends(page, where: str) -> list[dict]:
    """What a person checks on every chart with a legend: it sits below the plot, inside the figure, does not
    scroll, and shows every named trace (every family)."""
    legends = page.evaluate(LEGENDS_JS)
    for i, lg in enumerate(legends):
        if not lg["on"]:
            continue
        assert not lg["scroll"], f"{where}, chart {i + 1}: the legend scrolls"
        assert lg["below"] and lg["inside"], f"{where}, chart {i + 1}: the legend is not below the plot"
        missing = set(lg["names"]) - set(lg["shown"])
        assert not missing, f"{where}, chart {i + 1}: not in the legend: {sorted(missing)}"
    return legends


def _available(key: str) -> bool:
    return key in [v.key for v in views.available()]


# ------------------------------------------------------------------------------------------------ tests
def test_app_starts_and_first_chart_is_visible(server, browser):
    page = browser["page"]
    page.goto(server["url"])
    page.wait_for_selector(".main-svg")
    elapsed = time.perf_counter() - server["t0"]
    assert page.locator("h1:has-text('Overview')").count() == 1
    assert "Pythia" in trace_names(page)
    # the rest of the page follows the first chart once the browser has painted it: the γ chart, the
    # headline and the sidebar
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2")
    page.wait_for_selector("[data-testid='stSidebar'] [role='radiogroup']")
    page.wait_for_selector("text=Pooled over families")
    shot(page, "overview")
    # from launching the server to the first chart, including the browser's start
    assert elapsed < 60, f"first chart after {elapsed:.1f} s"


@pytest.mark.parametrize("spec", views.VIEWS, ids=[v.key for v in views.VIEWS])
def test_each_view_renders_a_chart(server, browser, spec):
    if not _available(spec.key):
        pytest.skip(f"{spec.title}: its library module ({', '.join(spec.requires)}) is not installed yet")
    if spec.key == "internals" and server["results"] is None:
        pytest.skip("no result files (torch/transformers not installed)")
    page = browser["page"]
    goto_view(page, server["url"], spec.key, spec.title)
    page.wait_for_selector(".main-svg")
    page.wait_for_timeout(300)
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    # what a person checks: no chart without data
    n_traces = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(g => (g.data || []).length)")
    assert all(n > 0 for n in n_traces), f"{spec.key}: an empty chart ({n_traces})"
    check_legends(page, spec.key)
    shot(page, spec.key)


def test_overview_names_every_family_in_a_legend_and_tells_the_story(server, browser):
    from cape.data import load_base

    page = browser["page"]
    goto_view(page, server["url"], "overview", "Overview")
    page.wait_for_selector(".main-svg")
    page.wait_for_selector("text=Pooled over families")  # the headline sentence
    legends = check_legends(page, "overview")
    assert set(load_base().families) <= set(legends[0]["shown"])  # drawn in the legend, not only in the data
    labels = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot .annotation-text')]"
                           ".map(e => e.textContent)")
    assert {"bonus: cooperate", "tax: compete"} <= set(labels)
    shot(page, "overview_story")


def test_uploaded_lmeval_file_shows_in_plots(server, browser, tmp_path):
    if not _available("diagnose"):  # the upload path needs cape.ingest
        pytest.skip("cape.ingest not installed yet")
    page = browser["page"]
    goto_view(page, server["url"], "overview", "Overview")
    page.wait_for_selector(".main-svg")
    assert "mytest" not in trace_names(page)
    f = lmeval_file(tmp_path / "results_2024-05-01T12-00-00.json")
    page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(f))
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".some(g => (g.data || []).some(t => String(t.name) === 'mytest (uploaded)'))")
    page.wait_for_selector("text=Pool the uploaded families")  # pooling them is a visible choice, off
    legends = check_legends(page, "overview with an upload")
    assert "mytest (uploaded)" in legends[0]["shown"]
    shot(page, "overview_uploaded")


def _fill_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill("" if value is None else str(value))


def _banner_text(page) -> str:
    loc = page.locator(".st-key-phase-banner")
    return loc.first.inner_text() if loc.count() else ""


def _diagnose(page, *, hs, tqa, params="1e9") -> float:
    """Fill the Diagnose form and submit; returns seconds from the click to the verdict for these scores."""
    page.get_by_label("parameter count", exact=True).fill(params)
    _fill_number(page, "HellaSwag", hs)
    _fill_number(page, "TruthfulQA", tqa)
    want = [f"HellaSwag {hs:.1f}", f"TruthfulQA {tqa:.1f}"]
    t0 = time.perf_counter()
    page.get_by_role("button", name="Diagnose").click()
    page.wait_for_function(
        "(want) => { const a = document.querySelector('.st-key-phase-banner');"
        " return a && a.innerText.includes('Phase:') && want.every(w => a.innerText.includes(w)); }", arg=want)
    return time.perf_counter() - t0


def test_diagnose_tax_model_recommends_curation_and_verdict_follows_scores(server, browser):
    if not _available("diagnose"):
        pytest.skip("cape.doctor / cape.ingest not installed yet")
    page = browser["page"]
    goto_view(page, server["url"], "diagnose", "Diagnose")
    page.wait_for_selector("text=Phase:")
    # enter the tax-phase model explicitly (the form starts with example values; change them first)
    _diagnose(page, hs=50.5, tqa=38.0)
    _diagnose(page, hs=49.7, tqa=38.9)
    banner = _banner_text(page)
    assert "TAX" in banner
    assert page.get_by_text("Data curation").count() >= 1
    page.wait_for_selector(".main-svg")
    shot(page, "diagnose_tax")
    # a cooperative pattern: TruthfulQA rises with HellaSwag from the next-smaller Pythia
    _diagnose(page, hs=49.7, tqa=45.0)
    banner2 = _banner_text(page)
    assert "TAX" not in banner2 and "BONUS" in banner2
    assert page.get_by_text("Data curation").count() == 0
    shot(page, "diagnose_bonus")


def test_no_request_left_loopback(browser):
    seen, blocked = browser["seen"], browser["blocked"]
    assert seen, "no request was recorded"
    outside = sorted({u for u in seen if not u.startswith(("data:", "blob:", "about:"))
                      and urlparse(u).hostname not in LOOPBACK})
    assert not blocked and not outside, f"requests outside 127.0.0.1: {outside[:10]}"
