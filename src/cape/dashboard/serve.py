"""Serve the dashboard: Streamlit's own command line, with the first view's imports warmed in the background.

``python -m cape.dashboard.serve run APP [streamlit flags]`` behaves exactly like ``python -m streamlit run APP
[flags]``. In addition, once the server answers, a background thread imports what the Overview draws first
(pandas, Plotly's figure classes, :mod:`cape.plots`, the embedded cohort) while the browser is still loading
Streamlit's page, so the first chart does not wait for them. The thread starts only after the server is up (it
never delays the server's start). If no browser session connects within :data:`IDLE_S` seconds after that, it
also computes the embedded cohort's diagnosis that the Overview shows under its first chart
(:func:`cape.dashboard.views._library.embedded_diagnosis`, kept for the server's life), so a browser opened later
finds it ready; a browser that connects sooner gets its first chart without that work competing for the CPU,
and the page computes the diagnosis once the chart is painted.
Any failure in the warm-up is ignored: the app imports and reports everything itself when it runs.
It also turns on :mod:`cape.dashboard.first_paint` (a session's first run sends the Overview's first chart
alone; the rest of the page follows once the browser has painted it).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

from . import FIRST_PAINT_ENV

#: Seconds the warm-up waits for the server to come up before giving up.
WAIT_S = 120.0
#: Seconds without a browser session, once the first chart's work is done, before the warm-up also computes the
#: Overview's diagnosis (a browser that connects sooner gets its first chart without that work competing).
IDLE_S = 2.0


def _runtime(deadline: float):
    """Streamlit's runtime once it has started (polled without importing anything), or None at the deadline."""
    while time.monotonic() < deadline:
        mod = sys.modules.get("streamlit.runtime.runtime")
        rt = getattr(getattr(mod, "Runtime", None), "_instance", None)
        if rt is not None and getattr(rt.state, "value", "INITIAL") != "INITIAL":
            return rt
        time.sleep(0.02)
    return None


def _no_session(rt) -> bool:
    return getattr(rt.state, "value", "") == "NO_SESSIONS_CONNECTED"


def _stays_idle(rt, idle_s: float) -> bool:
    """True when no browser session connects within ``idle_s`` seconds (False as soon as one does)."""
    deadline = time.monotonic() + idle_s
    while _no_session(rt):
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.05)
    return False


def warm(wait_s: float = WAIT_S, idle_s: float = IDLE_S) -> bool:
    """Import the first view's modules and build the embedded cohort's phase diagram, kept for the page (Plotly
    imports its property validators on first use), then, if no browser connects within ``idle_s`` seconds,
    compute the embedded cohort's diagnosis (otherwise the page computes it once its first chart is painted).

    Args:
        wait_s: seconds to wait for Streamlit's runtime to start.
        idle_s: seconds without a browser session before the diagnosis is computed here.

    Returns:
        True when the warm-up ran to its end, False when the server never came up or something failed.
    """
    try:
        rt = _runtime(time.monotonic() + wait_s)
        if rt is None:
            return False
        return _warm(rt, idle_s)
    finally:
        _gc_on()


def _gc_on() -> None:
    """The cyclic garbage collector back on, with what start-up built frozen out of its passes (modules,
    classes and the cached figure live as long as the server)."""
    gc.freeze()
    gc.enable()


def _warm(rt, idle_s: float) -> bool:
    try:
        import pandas  # noqa: F401
        import plotly.graph_objects  # noqa: F401
        from PIL import Image  # noqa: F401 - Streamlit reads the page icon with it

        from .. import data, plots
        from . import SCORES_ENV
        from .views import _library, overview  # noqa: F401 - the entry view's own imports
        from .widgets import FULL_WIDTH_PX

        if os.environ.get(SCORES_ENV):
            plots.phase_diagram(data.load_base())  # Plotly's validators only: the page draws another table
        else:
            _library.embedded_phase_figure(width_px=FULL_WIDTH_PX)
        _gc_on()
        if _stays_idle(rt, idle_s):  # no browser for a while: the Overview's analysis too
            from .. import gamma_error  # noqa: F401
            from ..report import headline  # noqa: F401

            if not os.environ.get(SCORES_ENV):
                _library.embedded_diagnosis()
    except Exception:  # noqa: BLE001 - the app reports any real problem itself when it runs
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    """Start the warm-up thread, then hand the command line to Streamlit (``argv`` as after ``streamlit``).

    The cyclic garbage collector is off until the warm-up has imported and built what the first chart needs
    (start-up allocates hundreds of thousands of long-lived objects, and collecting them repeatedly only costs
    time); :func:`warm` turns it back on, whatever happens."""
    gc.disable()
    os.environ.setdefault(FIRST_PAINT_ENV, "1")
    threading.Thread(target=warm, name="cape-dashboard-warm", daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
