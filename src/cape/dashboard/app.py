"""Streamlit entry of the CAPE dashboard: ``cape dashboard`` (or ``streamlit run`` on this file).

The sidebar picks a view (also addressable as ``?view=<key>`` in the URL) and holds the file uploader; each
view module renders itself from library results. Nothing here computes a statistic.
"""

from __future__ import annotations

import streamlit as st

from cape.dashboard import first_paint, state, views
from cape.errors import CapeError

# An inline SVG (sent as a data URL): an emoji icon makes Streamlit load its emoji table (0.2-0.5 s CPU), and a
# Material icon makes the browser fetch it from a font server outside this machine.
ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="none" '
        'stroke="#333" stroke-width="1.5"/><path d="M8 1a7 7 0 0 0 0 14z" fill="#333"/></svg>')
st.set_page_config(page_title="CAPE dashboard", page_icon=ICON, layout="wide",
                   menu_items={"Get help": None, "Report a bug": None,
                               "About": "CAPE: capability coupling across model scale."})

AVAILABLE = views.available()
KEYS = [v.key for v in AVAILABLE]
TITLES = {v.key: v.title for v in AVAILABLE}


def _sync_view() -> None:
    st.query_params["view"] = st.session_state["cape_view"]


want = st.query_params.get("view", KEYS[0])
if "cape_view" not in st.session_state or st.session_state["cape_view"] not in KEYS:
    st.session_state["cape_view"] = want if want in KEYS else KEYS[0]
elif want in KEYS and want != st.session_state["cape_view"] and st.session_state.get("_cape_url_view") != want:
    st.session_state["cape_view"] = want  # the URL was changed by hand
st.session_state["_cape_url_view"] = want

def _take_uploads() -> list[tuple[str, str]]:
    """Parse the files in the sidebar's uploader (its value from this rerun, read before the widget is drawn)
    into the session; returns ``(kind, message)`` pairs for the sidebar."""
    files = st.session_state.get("cape_upload_widget") or []
    from_widget = st.session_state.setdefault("_cape_widget_files", set())
    seen, notes = set(), []
    for f in files:
        seen.add(f.name)
        if f.name in state.uploads():
            continue
        try:
            t = state.add_upload(f.name, f.getvalue())
            from_widget.add(f.name)
            notes.append(("success", f"{f.name}: {t.n_models} model(s), {', '.join(t.benchmarks)}"))
        except CapeError as e:
            notes.append(("error", f"{f.name}: {e}"))
    for name in sorted(from_widget - seen):  # removed from the uploader
        state.remove_upload(name)
        from_widget.discard(name)
    return notes


def _sidebar(notes: list[tuple[str, str]]) -> None:
    with st.sidebar:
        st.markdown("### ◐ CAPE")
        st.caption("Capability coupling across model scale")
        st.radio("View", KEYS, format_func=TITLES.get, key="cape_view", on_change=_sync_view)
        spec = views.by_key(st.session_state["cape_view"])
        if spec and spec.caption:
            st.caption(spec.caption)
        st.divider()
        st.markdown("**Your scores** (this session only)")
        st.file_uploader("lm-eval JSON, CSV or leaderboard files", accept_multiple_files=True,
                         key="cape_upload_widget",
                         help="Parsed by cape.ingest; kept in your browser session only and never written "
                              "into the embedded data.")
        for kind, msg in notes:
            (st.success if kind == "success" else st.error)(msg)
        if state.uploads():
            st.caption("Uploaded: " + ", ".join(sorted(state.uploads())))
        missing = [v.title for v in views.VIEWS if v not in AVAILABLE]
        if missing:
            st.caption("Not available on this installation: " + ", ".join(missing))


# The view first, the sidebar after it: the page's first chart reaches the browser before the sidebar's widgets
# (each widget kind is a script the browser loads and compiles). Uploads are read before the view, from the
# uploader's value in this rerun, so the view always shows them. Under ``cape dashboard``, a session's first run
# on the Overview sends its first chart alone; the rest follows once the browser has painted it (first_paint).
notes = _take_uploads()
view = views.by_key(st.session_state["cape_view"])
st.query_params["view"] = view.key
first_only = view.key == "overview" and first_paint.pending()
try:
    mod = __import__(view.module, fromlist=["render"])
    if first_only:
        mod.render(first_chart_only=True)
    else:
        mod.render()
except CapeError as e:  # a user-caused problem: one sentence, no traceback
    st.error(str(e))
except ImportError as e:  # an installed module that cannot be imported (a missing optional dependency)
    st.error(f"The {view.title} view cannot run on this installation: {e}")
finally:
    if first_only:
        first_paint.wait_for_paint()
    else:
        _sidebar(notes)
        first_paint.whole_page_sent()
