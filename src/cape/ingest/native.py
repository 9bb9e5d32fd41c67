"""CAPE's own score tables as an input format: recognised by :func:`sniff` and read as written by
:func:`read_table` (the file format itself lives in :mod:`cape._scorefile`)."""

from __future__ import annotations

from pathlib import Path

from .._scorefile import CSV_MARK, JSON_KEY, read_frame, sniff, write_table

__all__ = ["CSV_MARK", "JSON_KEY", "read_table", "sniff", "write_table"]


def read_table(path: Path):
    """Read a table written by :func:`write_table` into a :class:`~cape.scores.ScoreTable`, as written.

    Raises:
        DataError: the file is not such a table, or it was edited into something invalid (one sentence naming
            the file and the row).
    """
    from ..scores import ScoreTable

    df, units, name = read_frame(Path(path))
    return ScoreTable(df, units=units, name=name, infer_family=False)
