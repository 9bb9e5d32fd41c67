"""The column store every reader appends scores to before they become a :class:`~cape.scores.ScoreTable`.

Readers of small files add one score at a time (:meth:`Rows.add`); the generic table reader appends whole
columns at once (:meth:`Rows.add_block`), so a million-row file never becomes a million Python dicts.
:meth:`Rows.frame` gives everything, in reading order, as one :class:`pandas.DataFrame`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ROW_FIELDS = ("model", "family", "params", "benchmark", "score", "metric", "shots", "stderr", "source", "lab",
              "is_base", "recipe", "date", "base_model", "model_type")
#: every column of a row: the table's fields, then the file and location (for messages), the run's time stamp
#: (for the latest-run-wins rule; NaN when the format has none) and whether it came from a CAPE table
ALL_FIELDS = (*ROW_FIELDS, "file", "loc", "ts", "native")
_FLOAT_FIELDS = ("params", "score", "stderr", "ts")


class LineLocs:
    """Locations of a block's rows kept as line numbers and one format (``"line {}, column 'score'"``), turned
    into text only for the rows a message is about (a million rows need no million strings)."""

    def __init__(self, lines, fmt: str):
        self.lines = lines
        self.fmt = fmt

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return LineLocs(self.lines[i], self.fmt)
        return self.fmt.format(int(self.lines[i]))


def _empty_cols() -> dict[str, list]:
    return {k: [] for k in ALL_FIELDS}


@dataclass
class Rows:
    """Column store of scores (percent) before they become a :class:`~cape.scores.ScoreTable`.

    ``cols`` holds the rows added one by one since the last block; ``blocks`` the columns appended whole (each a
    dict of equal-length sequences keyed by :data:`ALL_FIELDS`), in reading order.
    """

    cols: dict[str, list] = field(default_factory=_empty_cols)
    blocks: list[dict] = field(default_factory=list)

    def add(self, *, model, benchmark, score, file, loc, family=None, params=math.nan, metric=None, shots=None,
            stderr=math.nan, source=None, lab=None, is_base=None, recipe=None, date=None, ts=math.nan,
            base_model=None, model_type=None) -> None:
        c = self.cols
        c["model"].append(model)
        c["family"].append(family)
        c["params"].append(params)
        c["benchmark"].append(benchmark)
        c["score"].append(score)
        c["metric"].append(metric)
        c["shots"].append(shots)
        c["stderr"].append(stderr)
        c["source"].append(source)
        c["lab"].append(lab)
        c["is_base"].append(is_base)
        c["recipe"].append(recipe)
        c["date"].append(date)
        c["base_model"].append(base_model)
        c["model_type"].append(model_type)
        c["file"].append(file)
        c["loc"].append(loc)
        c["ts"].append(ts)
        c["native"].append(False)

    def _flush(self) -> None:
        if self.cols["model"]:
            self.blocks.append(self.cols)
            self.cols = _empty_cols()

    def add_block(self, block: dict) -> None:
        """Append whole columns (a dict keyed by every name in :data:`ALL_FIELDS`, equal lengths)."""
        self._flush()
        if len(block["model"]):
            self.blocks.append(block)

    def extend(self, other: Rows) -> None:
        for b in (*other.blocks, other.cols):
            self.add_block(b)

    def __len__(self) -> int:
        return sum(len(b["model"]) for b in self.blocks) + len(self.cols["model"])

    def models_since(self, n0: int) -> int:
        """The number of distinct models among the rows from position ``n0`` on."""
        seen: set = set()
        pos = 0
        for b in (*self.blocks, self.cols):
            m = b["model"]
            if pos + len(m) > n0:
                seen.update(m[max(0, n0 - pos):])
            pos += len(m)
        return len(seen)

    def truncate(self, n: int) -> None:
        """Drop every row from position ``n`` on (a file that failed half-way leaves nothing behind)."""
        self._flush()
        pos = 0
        keep = []
        for b in self.blocks:
            m = len(b["model"])
            if pos + m <= n:
                keep.append(b)
            elif pos < n:
                keep.append({k: v[:n - pos] for k, v in b.items()})
            pos += m
        self.blocks = keep

    def frame(self):
        """Every row, in reading order, as a DataFrame with the columns of :data:`ALL_FIELDS` (floats as
        float64, the rest as Python objects with ``None`` for missing)."""
        import numpy as np
        import pandas as pd

        self._flush()
        data = _loc_columns(self.blocks)
        for k in ALL_FIELDS:
            if k == "loc":
                continue
            parts = [np.asarray(b[k], dtype=float if k in _FLOAT_FIELDS else object) for b in self.blocks
                     if len(b[k])]
            if k == "native":
                parts = [p.astype(bool) for p in parts]
            if parts:
                data[k] = np.concatenate(parts) if len(parts) > 1 else parts[0]
            else:
                data[k] = np.empty(0, dtype=float if k in _FLOAT_FIELDS else bool if k == "native" else object)
        # object columns stay object (pandas would infer its string dtype and turn None into NaN)
        return pd.DataFrame({k: pd.Series(v, dtype=v.dtype, copy=False) for k, v in data.items()}, copy=False)


def _loc_columns(blocks: list[dict]) -> dict:
    """``loc`` (text, or ``None`` where kept as a line number), ``loc_line`` and ``loc_fmt`` of every row."""
    import numpy as np

    locs, lines, fmts = [], [], []
    for b in blocks:
        loc = b["loc"]
        n = len(loc)
        if isinstance(loc, LineLocs):
            locs.append(np.full(n, None, dtype=object))
            lines.append(np.asarray(loc.lines, dtype=np.int64))
            fmts.append(np.full(n, loc.fmt, dtype=object))
        else:
            locs.append(np.asarray(loc, dtype=object))
            lines.append(np.full(n, -1, dtype=np.int64))
            fmts.append(np.full(n, None, dtype=object))
    if not blocks:
        return {"loc": np.empty(0, dtype=object), "loc_line": np.empty(0, dtype=np.int64),
                "loc_fmt": np.empty(0, dtype=object)}
    return {"loc": np.concatenate(locs), "loc_line": np.concatenate(lines), "loc_fmt": np.concatenate(fmts)}
