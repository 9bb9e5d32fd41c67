"""The fast CSV reader (pyarrow, column by column) gives exactly the table of the careful line-by-line reader
(the csv module), or steps aside: same header, cells, line numbers and dropped lines on every layout below."""

from __future__ import annotations

from pathlib import Path

import pytest

from cape.errors import DataError
from cape.ingest.report import ReportBuilder
from cape.ingest.table import _read_columns, _read_lines, read_csv_table

HEAD = "model,benchmark,score\n"
CASES = {
    "plain": HEAD + "a-1b,HellaSwag,50\nb-7b,HellaSwag,60\n",
    "no final newline": HEAD + "a-1b,HellaSwag,50\nb-7b,HellaSwag,60",
    "crlf": (HEAD + "a-1b,HellaSwag,50\nb-7b,MMLU,60\n").replace("\n", "\r\n"),
    "bom": "\ufeff" + HEAD + "a-1b,HellaSwag,50\n",
    "leading comments and blanks": "# exported\n\n  \n" + HEAD + "a-1b,HellaSwag,50\nb,MMLU,40\n",
    "trailing blank lines": HEAD + "a-1b,HellaSwag,50\n\n\n",
    "blank line inside": HEAD + "a-1b,HellaSwag,50\n\nb-7b,HellaSwag,60\n",
    "all-blank row": HEAD + "a-1b,HellaSwag,50\n , ,\nb-7b,HellaSwag,60\n,,\n",
    "ragged row": HEAD + "a-1b,HellaSwag,50\nb-7b,HellaSwag\nc,MMLU,3\n",
    "trailing empty fields": HEAD + "a-1b,HellaSwag,50,,\nb,MMLU,4\n",
    "semicolons": "model;benchmark;score\na-1b;HellaSwag;50,5\n",
    "padded cells": HEAD + "  a-1b , HellaSwag ,50 \n",
    "comment line inside": HEAD + "a-1b,HellaSwag,50\n# note\n",
    "quotes": HEAD + '"a, 1b",HellaSwag,50\nb,"MMLU",60\n',
    "unicode": HEAD + "modèle-7b,HellaSwag,50\n中文-1b,MMLU,40\n",
    "form feed": HEAD + "a-1b,HellaSwag,50\x0cb,MMLU,40\n",
    "empty header cell": "model,,score,benchmark\na,1,50,MMLU\n",
}


def _table(t):
    return t.header, [list(r) for r in t.rows], list(t.locs)


def _outcome(path: Path, text: str | None):
    report = ReportBuilder()
    try:
        t = read_csv_table(path, text=text, report=report)
    except DataError as e:
        return "refused", str(e)
    return _table(t), report.dropped


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_fast_reader_equals_careful_reader(tmp_path, case, suffix):
    text = CASES[case] if suffix == ".csv" else CASES[case].replace(",", "\t")
    path = tmp_path / f"t{suffix}"
    path.write_bytes(text.encode("utf-8"))
    fast = _read_columns(path, path.read_bytes(), str(path))
    if fast is not None:  # the fast reader took it: it must give the careful reader's table
        assert _table(fast) == _table(_read_lines(path, text.lstrip("\ufeff"), str(path), ReportBuilder()))
    # and through the public reader (the fast one where it applies), the same table, drops or refusal
    assert _outcome(path, None) == _outcome(path, text.lstrip("\ufeff"))


def test_fast_reader_takes_plain_files_and_steps_aside_for_others(tmp_path):
    took = {}
    for case, text in CASES.items():
        p = tmp_path / "t.csv"
        p.write_bytes(text.encode("utf-8"))
        took[case] = _read_columns(p, p.read_bytes(), "t.csv") is not None
    assert took["plain"] and took["crlf"] and took["bom"] and took["leading comments and blanks"]
    assert took["trailing blank lines"] and took["all-blank row"] and took["unicode"] and took["blank line inside"]
    for case in ("quotes", "ragged row", "trailing empty fields", "form feed",
                 "comment line inside"):
        assert not took[case], case


def test_line_numbers_count_skipped_leading_lines(tmp_path):
    p = Path(tmp_path) / "t.csv"
    p.write_text(CASES["leading comments and blanks"], encoding="utf-8")
    t = read_csv_table(p, report=ReportBuilder())
    assert t.locs == ["line 5", "line 6"]
    assert t.loc(1) == "line 6" and t.cell(1, 0) == "b"
