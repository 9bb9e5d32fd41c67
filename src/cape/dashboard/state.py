"""Data and caching for the dashboard: the embedded cohort, the user's uploads (session only) and cached calls
into the library.

Uploaded files are parsed with :func:`cape.ingest.read_any` and kept in ``st.session_state`` of the user's
session; they are combined with a *copy* of the embedded table for display and never change the embedded data
(a model whose name collides with an embedded one is shown as ``"<name> (uploaded)"``). Uploaded models form
families of their own, ``"<family> (uploaded)"``, drawn in colours no embedded family uses.

Heavy library calls go through ``st.cache_data``; a :class:`~cape.scores.ScoreTable` argument is hashed by the
content of its long table (:func:`table_digest`), so the cache is keyed on the data itself.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from ..scores import ScoreTable
from . import SCORES_ENV

UPLOADS_KEY = "cape_uploads"  # session_state: {file name: (ScoreTable, report dict)}


def table_digest(table: ScoreTable) -> str:
    """A content hash of a table (its long frame), used as the cache key for ScoreTable arguments."""
    h = pd.util.hash_pandas_object(table.long.astype(str), index=False).to_numpy()
    return hashlib.sha1(h.tobytes()).hexdigest()


#: ``hash_funcs`` for ``st.cache_data``: tables are keyed on their content.
HASH_FUNCS = {ScoreTable: table_digest}


def read_scores_file(path: str | os.PathLike) -> ScoreTable:
    """Read a score file of any supported kind with the library's reader."""
    from ..ingest import read_any

    table, _report = read_any([Path(path)])
    return table


@st.cache_data(show_spinner=False)
def _embedded(path: str | None) -> ScoreTable:
    if path:
        return read_scores_file(path)
    from .. import data

    return data.load_base()


def embedded_table() -> ScoreTable:
    """The cohort the app starts from: the embedded base cohort, or the file named by ``CAPE_DASHBOARD_SCORES``
    (set by ``cape dashboard --scores FILE``)."""
    return _embedded(os.environ.get(SCORES_ENV) or None)


@st.cache_data(show_spinner=False, max_entries=32)
def parse_upload(name: str, content: bytes):
    """Parse one uploaded file (its original name keeps the extension the reader dispatches on).

    Returns:
        ``(ScoreTable, report_dict)``.
    """
    from ..ingest import read_any

    fname = Path(name).name
    with tempfile.TemporaryDirectory(prefix="cape-upload-") as d:
        p = Path(d) / fname
        p.write_bytes(content)
        table, report = read_any([p], name=fname)
        # the source names the file the user uploaded, not the temporary copy
        df = table.long
        df["source"] = df["source"].astype("string").str.replace(str(p), f"uploaded {fname}", regex=False)
    table = ScoreTable(df, units="percent", name=fname, infer_family=False)
    rep = report.to_dict() if hasattr(report, "to_dict") else {"report": str(report)}
    return table, rep


def is_embedded(table: ScoreTable) -> bool:
    """True when ``table`` is the unmodified embedded cohort (no uploads, no ``--scores`` override)."""
    return not os.environ.get(SCORES_ENV) and not uploads() and table is not None and \
        table.name == "embedded base cohort"


def uploads() -> dict:
    """The current session's uploads: ``{file name: (ScoreTable, report dict)}``."""
    return st.session_state.setdefault(UPLOADS_KEY, {})


def add_upload(name: str, content: bytes) -> ScoreTable:
    """Parse and store an upload in this session (raises CapeError on a bad file)."""
    table, rep = parse_upload(name, content)
    uploads()[name] = (table, rep)
    return table


def remove_upload(name: str) -> None:
    uploads().pop(name, None)


def uploaded_models() -> set[str]:
    """Display names of uploaded models (after collision renaming)."""
    tab = combined_table()
    base = set(embedded_table().models)
    return {m for m in tab.models if m not in base}


def combined_table() -> ScoreTable:
    """Embedded cohort plus this session's uploads (uploads renamed on a name collision)."""
    base = embedded_table()
    ups = uploads()
    if not ups:
        return base
    return _combine(base, tuple(t for t, _ in ups.values()))


#: Appended to the family of every uploaded model (and to a model name that collides with an embedded one).
UPLOADED = " (uploaded)"


def uploaded_family(family) -> str:
    """The display family of an uploaded model: ``"OPT (uploaded)"``. It is a family of its own, drawn in a
    colour no embedded family uses, and it joins the cohort's pooled N_c only when the user ticks the box."""
    name = str(family) if family is not None and not pd.isna(family) else "unknown"
    return name if name.endswith(UPLOADED) else name + UPLOADED


@st.cache_data(show_spinner=False, hash_funcs=HASH_FUNCS, max_entries=16)
def _combine(base: ScoreTable, extra: tuple) -> ScoreTable:
    from ..families import infer_family

    taken = set(base.models)
    frames = [base.long]
    for t in extra:
        df = t.long
        ren = {m: f"{m}{UPLOADED}" for m in df["model"].unique() if m in taken}
        fam = df["family"].astype(object)
        miss = fam.isna()
        fam[miss] = [infer_family(m) for m in df.loc[miss, "model"]]
        df["family"] = [uploaded_family(f) for f in fam]
        df["model"] = df["model"].replace(ren)
        taken |= set(df["model"].unique())
        frames.append(df)
    return ScoreTable(pd.concat(frames, ignore_index=True), units="percent", name="dashboard scores",
                      infer_family=True)


def csv_bytes(df: pd.DataFrame, *, index: bool = False) -> bytes:
    """A frame as UTF-8 CSV bytes for a download button."""
    return df.to_csv(index=index).encode("utf-8")
