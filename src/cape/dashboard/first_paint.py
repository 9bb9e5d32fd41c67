"""The first chart of a browser session drawn before the rest of the page is sent.

When a session opens on a view that draws its first chart early (the Overview), the app's first run sends only
that view's title, caption and first chart, plus an invisible marker (:func:`wait_for_paint`). The marker's
script waits until the browser has painted the chart, then asks for a rerun; that rerun, and every later one,
sends the whole page (controls, downloads, the γ panel, the sidebar). Nothing is skipped: the browser draws
the first chart without also loading, compiling and drawing everything else at the same time, and the rest
follows as soon as the chart is on screen. If no chart appears within :data:`FALLBACK_MS` (an error instead
of a chart), the marker asks for the rest anyway.

It is on under ``cape dashboard`` (:mod:`cape.dashboard.serve` sets :data:`FIRST_PAINT_ENV`); a plain
``streamlit run`` of the app, and the app tests, send the whole page in one run.
"""

from __future__ import annotations

import os

import streamlit as st

from . import FIRST_PAINT_ENV
#: Session key set once the browser reported the first chart painted.
PAINTED_KEY = "_cape_first_chart_painted"
#: Milliseconds the marker waits for a chart before asking for the rest of the page anyway.
FALLBACK_MS = 4000

# Runs in the page (no iframe): polls each animation frame for a drawn Plotly chart; once one is in the
# document it waits for the frame holding it to be painted (a timeout set in an animation frame runs after the
# paint), then sets the trigger, which reruns the script.
_JS = """
export default function ({ setTriggerValue }) {
  let done = false;
  const t0 = performance.now();
  const fire = () => { if (!done) { done = true; setTriggerValue("painted", true); } };
  const check = () => {
    if (done) return;
    if (document.querySelector(".main-svg") || performance.now() - t0 > %d) {
      requestAnimationFrame(() => setTimeout(fire, 0));
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
}
""" % FALLBACK_MS

_marker = None


def enabled() -> bool:
    """Whether this server sends a session's first chart before the rest of its page."""
    return os.environ.get(FIRST_PAINT_ENV) == "1"


def pending() -> bool:
    """True in a session's runs before the browser has reported its first chart painted, or before the session
    got a whole page (only when :func:`enabled`)."""
    return enabled() and not st.session_state.get(PAINTED_KEY, False)


def _painted() -> None:
    st.session_state[PAINTED_KEY] = True


def whole_page_sent() -> None:
    """Record that this session got a whole page (a session that opened on another view then switches to the
    Overview keeps its sidebar: only a session's first page is sent in two steps)."""
    _painted()


def wait_for_paint() -> None:
    """Mount the invisible marker that reruns the script once the browser has painted the first chart. It sits in
    the sidebar: the main column's elements keep their places in the rerun, and the sidebar is open from the
    start, so the chart is drawn at its final width."""
    global _marker
    if _marker is None:  # registered once per server process (a name registered twice is replaced, with a warning)
        _marker = st.components.v2.component("cape_first_paint", js=_JS)
    with st.sidebar:
        _marker(key="cape-first-paint", on_painted_change=_painted)
