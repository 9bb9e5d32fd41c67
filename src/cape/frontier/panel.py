"""The frontier panel: one row per model with its lab, date, subset and two axes (embedded, fixture, user rows)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .. import catalog, data
from ..errors import DataError
from ..scores import ScoreTable
from .config import GPQA, IFEVAL, SUBSETS, SWE


# ---------------------------------------------------------------------------------------------- the panel
def _norm_subset(s: Any) -> str:
    s = str(s).strip().lower() if s is not None and not (isinstance(s, float) and math.isnan(s)) else "core"
    s = s.replace("_", "-").replace(" ", "-")
    if s in ("post", "postcutoff", "post-cutoff"):
        return "post-cutoff"
    return s


def panel_from_wide(wide: pd.DataFrame, *, x: str = SWE, y: str = GPQA, subset: str | None = None,
                    name: str = "frontier panel") -> pd.DataFrame:
    """Normalise a wide frame (one row per model) into the panel layout.

    Args:
        wide: columns ``model``, ``lab`` (or ``family``), the two axis columns (names or aliases, percent),
            optional ``subset``, ``date`` / ``release_date`` and ``IFEval``.
        x, y: the two axes.
        subset: force every row's subset (e.g. ``"added"``); default: the ``subset`` column or ``core``.
        name: label used in error messages.

    Returns:
        DataFrame indexed by model with columns ``lab, date, subset, x, y`` and, where present, ``IFEval``.

    Raises:
        DataError: a missing column, a missing or out-of-range score.
    """
    df = pd.DataFrame(wide).copy()
    if "model" not in df.columns:
        if df.index.name == "model":
            df = df.reset_index()
        else:
            raise DataError(f"{name}: missing column 'model'")
    ren = {}
    for c in df.columns:
        if isinstance(c, str) and catalog.is_known(c):
            ren[c] = catalog.canonical(c)
    df = df.rename(columns=ren)
    x, y = catalog.canonical(x), catalog.canonical(y)
    for b in (x, y):
        if b not in df.columns:
            raise DataError(f"{name}: missing column {b!r} (every frontier model needs {x} and {y})")
    if "lab" not in df.columns:
        df["lab"] = df["family"] if "family" in df.columns else pd.NA
    df["lab"] = df["lab"].astype("string").fillna("unknown")
    if "date" not in df.columns:
        df["date"] = df["release_date"] if "release_date" in df.columns else pd.NA
    if subset is not None:
        df["subset"] = subset
    elif "subset" not in df.columns:
        df["subset"] = "core"
    df["subset"] = [_norm_subset(s) for s in df["subset"]]
    bad = sorted(set(df["subset"]) - set(SUBSETS))
    if bad:
        raise DataError(f"{name}: unknown subset {bad[0]!r} (expected one of {', '.join(SUBSETS)})")
    cols = ["model", "lab", "date", "subset", x, y] + ([IFEVAL] if IFEVAL in df.columns and IFEVAL not in (x, y)
                                                      else [])
    out = df[cols].copy()
    out["model"] = out["model"].astype(str).str.strip()
    for b in cols[4:]:
        v = pd.to_numeric(out[b], errors="coerce")
        nonnum = out[b].notna() & v.isna()
        if nonnum.any():
            m = out.loc[nonnum, "model"].iloc[0]
            raise DataError(f"{name}: model {m!r} has a non-numeric {b} score {out.loc[nonnum, b].iloc[0]!r}")
        rng = v.notna() & ((v < 0) | (v > 100))
        if rng.any():
            m = out.loc[rng, "model"].iloc[0]
            raise DataError(f"{name}: model {m!r} has {b} = {v[rng].iloc[0]:g}, outside 0-100 percent")
        out[b] = v.astype(float)
    miss = out[x].isna() | out[y].isna()
    if miss.any():
        m = out.loc[miss, "model"].iloc[0]
        lack = x if pd.isna(out.loc[miss, x].iloc[0]) else y
        raise DataError(f"{name}: model {m!r} has no {lack} score (every frontier model needs {x} and {y})")
    dup = out["model"].duplicated()
    if dup.any():
        raise DataError(f"{name}: model {out.loc[dup, 'model'].iloc[0]!r} appears twice")
    out["date"] = out["date"].astype("string")
    return out.set_index("model")


def embedded_panel(*, x: str = SWE, y: str = GPQA) -> pd.DataFrame:
    """The embedded frontier panel (34 paper models + post-cutoff models) with release dates.

    Returns the layout of :func:`panel_from_wide`; scores from ``cape.data.load_frontier()``.
    """
    fr = data.load_frontier()
    bs = [b for b in (x, y, IFEVAL) if b in fr.benchmarks]
    wide = fr.wide(bs).reset_index()
    meta = data.frontier_models().set_index("model")
    wide["lab"] = wide["model"].map(meta["lab"])
    wide["date"] = wide["model"].map(meta["release_date"])
    wide["subset"] = wide["model"].map(meta["subset"])
    return panel_from_wide(wide, x=x, y=y, name="embedded frontier panel")


def fixture_panel(*, with_post_cutoff: bool = True) -> pd.DataFrame:
    """The paper's frozen panel from the ``frontier34`` fixture (and ``post5``); no release dates."""
    frames = [data.fixture("frontier34")]
    if with_post_cutoff:
        frames.append(data.fixture("post5"))
    return panel_from_wide(pd.concat(frames, ignore_index=True), name="fixture frontier34")


def add_models(panel: pd.DataFrame, added, *, x: str = SWE, y: str = GPQA,
               name: str = "added scores") -> pd.DataFrame:
    """Append user models (subset ``added``) to a panel.

    Args:
        panel: a panel (:func:`embedded_panel`).
        added: a :class:`~cape.scores.ScoreTable` or a wide DataFrame with ``model``, ``lab`` and both axes.
        name: label for messages (the file name).

    Raises:
        DataError: a model without both axis scores, or a name already in the panel.
    """
    if isinstance(added, ScoreTable):
        bs = [b for b in (x, y, IFEVAL) if b in added.benchmarks]
        x_c, y_c = catalog.canonical(x), catalog.canonical(y)
        for b in (x_c, y_c):
            if b not in bs:
                raise DataError(f"{name}: no {b} scores (every frontier model needs {x_c} and {y_c})")
        wide = added.wide(bs, force=True).reset_index()
        mf = added.model_frame()
        wide["lab"] = wide["model"].map(mf["lab"]).fillna(wide["model"].map(mf["family"]))
        wide["date"] = wide["model"].map(mf["date"])
    else:
        wide = pd.DataFrame(added)
    new = panel_from_wide(wide, x=x, y=y, subset="added", name=name)
    clash = [m for m in new.index if m in panel.index]
    if clash:
        raise DataError(f"{name}: model {clash[0]!r} is already in the panel; give the added model another name")
    return pd.concat([panel, new.reindex(columns=panel.columns.union(new.columns, sort=False))], axis=0)
