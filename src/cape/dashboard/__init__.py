"""The interactive CAPE dashboard (Streamlit + Plotly).

The app is a thin view: every number it shows comes from a library function (:mod:`cape.diagnose`,
:mod:`cape.doctor`, :mod:`cape.dynamics`, :mod:`cape.frontier`, :mod:`cape.paper` ...). Figures are built by
:mod:`cape.plots`, shared with the static report (:mod:`cape.report`).

Start it with ``cape dashboard`` (binds 127.0.0.1) or ``streamlit run`` on :func:`app_path`.
"""

from __future__ import annotations

from pathlib import Path

#: Environment variable naming a score file that replaces the embedded cohort in the app.
SCORES_ENV = "CAPE_DASHBOARD_SCORES"
#: Environment variable naming a folder of internals / steering result files opened by the Internals view.
RESULTS_ENV = "CAPE_DASHBOARD_RESULTS"
#: Environment variable that makes a session's first run send the Overview's first chart before the rest of the
#: page (``"1"``; set by ``cape dashboard``'s launcher, see :mod:`cape.dashboard.first_paint`).
FIRST_PAINT_ENV = "CAPE_DASHBOARD_FIRST_PAINT"


def app_path() -> Path:
    """Path of the Streamlit entry script."""
    return Path(__file__).resolve().parent / "app.py"


def streamlit_command(*, port: int = 8501, host: str = "127.0.0.1", python: str | None = None) -> list[str]:
    """The command line that serves the app on ``host:port`` headless, with usage statistics off.

    It runs Streamlit's own ``run`` command through :mod:`cape.dashboard.serve`, which warms the first view's
    imports in the background while the browser loads the page.

    Example:
        >>> cmd = streamlit_command(port=8600)
        >>> "--server.address" in cmd and "127.0.0.1" in cmd
        True
    """
    import sys

    return [python or sys.executable, "-m", "cape.dashboard.serve", "run", str(app_path()),
            "--server.port", str(int(port)), "--server.address", host,
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--global.developmentMode", "false",
            "--client.toolbarMode", "minimal", "--theme.base", "light"]
