"""Dashboard and report performance, each against a baseline measured in the same run.

Figures printed:

* first chart: seconds from launching ``cape dashboard``'s server to the first Plotly chart drawn in headless
  Chromium (target: within 1.15x of the baseline, and < 5 s); baseline: a bare Streamlit app drawing one Plotly
  chart, launched the same way; the servers' CPU seconds up to that moment are printed beside (less sensitive
  to a busy machine than wall time);
  an untimed warm-up launch of each side absorbs the browser's start and fills the disk cache, then the two
  alternate, their order swapped every round (``--launches``, median and range, the ratio of the medians, and
  each round's ratio with their median, which a load spike on one launch moves less);
* Diagnose update: seconds from pressing *Diagnose* to the new verdict on the page, warm, median of several
  score changes (target < 1 s); baseline: the library call ``cape.doctor.diagnose_model`` alone;
* report: seconds to write ``cape report`` in a fresh process (target < 5 s); baseline: the same command
  restricted to the phase diagram and the data table; and each section's own time.

Needs Debian's ``chromium`` and the playwright package for the browser figures (skipped with a note otherwise).
Usage: ``python benchmarks/bench_dashboard.py [--rounds N] [--launches N] [--no-report]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CPU: dict[str, list[float]] = {}  # server CPU seconds at the first chart, per side
BARE_APP = """
import plotly.graph_objects as go
import streamlit as st
st.title("bare")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2])))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(cmd: list[str], port: int, log: Path) -> subprocess.Popen:
    fh = open(log, "w")
    # the servers import this checkout's sources (they run in another folder, where a relative path would miss)
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=tempfile.gettempdir(),
                            env=dict(os.environ, PYTHONPATH=path))


def wait_health(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("server not healthy")


def first_chart(ctx, cmd_for_port, title: str) -> tuple[float, float, subprocess.Popen, int, object]:
    """Launch a server and load it in a new page; returns (seconds to health, seconds to first chart, ...)."""
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"bench-dashboard-{port}.log"
    t0 = time.perf_counter()
    proc = serve(cmd_for_port(port), port, log)
    wait_health(port, proc)
    t_health = time.perf_counter() - t0
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector(".main-svg")
    t_chart = time.perf_counter() - t0
    CPU.setdefault(title, []).append(cpu_seconds(proc.pid))
    return t_health, t_chart, proc, port, page


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def bench_browser(rounds: int, launches: int = 3) -> None:
    from playwright.sync_api import sync_playwright

    from cape.dashboard import streamlit_command

    bare = Path(tempfile.mkdtemp()) / "bare_app.py"
    bare.write_text(BARE_APP)

    def bare_cmd(port):
        # plain ``streamlit run`` with the same flags, the bare app instead of CAPE's (CAPE's command runs
        # Streamlit through cape.dashboard.serve, which also warms CAPE's own imports)
        cmd = streamlit_command(port=port)
        return [sys.executable, "-m", "streamlit", "run", str(bare), *cmd[5:]]

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path=CHROMIUM, args=ARGS,
                                                   headless=True, viewport={"width": 1400, "height": 1000})
        sides = (("bare", bare_cmd), ("CAPE", lambda port: streamlit_command(port=port)))
        # warm-up: one untimed launch of each side absorbs the browser's own start and fills the disk cache;
        # then the two alternate, the order swapped every round (bare, CAPE, CAPE, bare, ...)
        for _name, cmd in sides:
            _, _, proc_w, _, page_w = first_chart(ctx, cmd, f"warm-up {_name}")
            page_w.close()
            stop(proc_w)
        first: dict[str, list[float]] = {"bare": [], "CAPE": []}
        health: dict[str, list[float]] = {"bare": [], "CAPE": []}
        for i in range(launches):
            for name, cmd in (sides if i % 2 == 0 else sides[::-1]):
                h, t, pr, _po, pg = first_chart(ctx, cmd, name)
                first[name].append(t)
                health[name].append(h)
                pg.close()
                stop(pr)
        # a CAPE server of its own for the update timing (started after every first-chart launch)
        _, _, proc, port, page = first_chart(ctx, sides[1][1], "update server")

        def med(v):
            return f"{statistics.median(v):.2f} s [{min(v):.2f}-{max(v):.2f}]"

        ratios = [c / b for c, b in zip(first["CAPE"], first["bare"])]
        print(f"first chart after launch ({launches} alternating launches after a warm-up, median [min-max]): "
              f"CAPE dashboard {med(first['CAPE'])} (server healthy {med(health['CAPE'])}); baseline bare "
              f"Streamlit + Plotly app {med(first['bare'])} (healthy {med(health['bare'])})")
        print(f"server CPU seconds up to the first chart, median [min-max]: CAPE {med(CPU['CAPE'])} (with the "
              f"warm-up's work), bare {med(CPU['bare'])}")
        print(f"first chart, CAPE / bare: {statistics.median(first['CAPE']) / statistics.median(first['bare']):.2f}x "
              f"of the medians; per round {', '.join(f'{r:.2f}x' for r in ratios)} (median "
              f"{statistics.median(ratios):.2f}x)   target <= 1.15x (and < 5 s); load average now "
              f"{os.getloadavg()[0]:.1f}")
        try:
            page.goto(f"http://127.0.0.1:{port}/?view=diagnose")
            page.wait_for_selector(".st-key-phase-banner")
            times = []
            for i in range(rounds):
                tqa = 38.9 if i % 2 == 0 else 45.0
                hs = 49.8 + 0.1 * i
                page.get_by_label("HellaSwag", exact=True).fill(f"{hs:.1f}")
                page.get_by_label("TruthfulQA", exact=True).fill(f"{tqa:.1f}")
                want = [f"HellaSwag {hs:.1f}", f"TruthfulQA {tqa:.1f}"]
                t0 = time.perf_counter()
                page.get_by_role("button", name="Diagnose").click()
                page.wait_for_function(
                    "(want) => { const a = document.querySelector('.st-key-phase-banner');"
                    " return a && want.every(w => a.innerText.includes(w)); }", arg=want)
                times.append(time.perf_counter() - t0)
            from cape.doctor import diagnose_model

            lib = []
            for i in range(rounds):
                t0 = time.perf_counter()
                diagnose_model(family="Pythia", params=1e9, scores={"HS": 49.7 + 0.1 * i, "TQA": 38.9 + 0.3 * i})
                lib.append(time.perf_counter() - t0)
            print(f"Diagnose update (click to new verdict, {rounds} score changes): median "
                  f"{statistics.median(times):.2f} s, max {max(times):.2f} s; baseline library call diagnose_model "
                  f"median {statistics.median(lib):.2f} s   target < 1 s")
        finally:
            stop(proc)
            ctx.close()


def bench_report() -> None:
    code = ("import sys,time; t=time.perf_counter(); from cape.report.html import build_report; "
            "only=None if sys.argv[2] == 'all' else tuple(sys.argv[2].split(',')); "
            "r=build_report(sys.argv[1], only=only); "
            "print(f'{time.perf_counter()-t:.2f} {r.n_figures} {r.n_tables} {r.bytes}')")
    out = Path(tempfile.mkdtemp()) / "report.html"
    runs = (("every section", "all"),
            ("baseline: phase diagram + data only", "overview,data"))
    for label, only in runs:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-W", "ignore", "-c", code, str(out), only], capture_output=True,
                           text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        wall = time.perf_counter() - t0
        if r.returncode:
            print(f"report ({label}) failed: {r.stderr.strip().splitlines()[-1] if r.stderr else r.returncode}")
            return
        inner, n_fig, n_tab, size = r.stdout.split()
        print(f"report, {label}: {wall:.2f} s in a fresh process (build {float(inner):.2f} s), {n_fig} figures, "
              f"{n_tab} tables, {int(size) / 1e6:.1f} MB   target < 5 s")
    # where the time goes: each section alone, in this process (imports already paid by the previous sections)
    from cape.report import html as H

    parts = []
    for key, *_rest in H.SECTIONS:
        t0 = time.perf_counter()
        H.build_sections(only=(key,))
        parts.append(f"{key} {time.perf_counter() - t0:.2f}")
    print("report sections (s, in order, one process): " + ", ".join(parts))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--launches", type=int, default=9, help="alternating first-chart launches per side")
    ap.add_argument("--no-report", action="store_true", help="skip the report figures")
    a = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if CHROMIUM is None:
        print("chromium not installed: browser figures skipped (apt-get install chromium)")
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            print("playwright not installed: browser figures skipped")
        else:
            bench_browser(a.rounds, a.launches)
    if not a.no_report:
        bench_report()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
