"""print(diagnose(...)) and notebooks: summary(), __str__ and _repr_html_ on the diagnosis."""

from __future__ import annotations

import pandas as pd

from cape import data
from cape.diagnose import diagnose
from cape.scores import ScoreTable


def test_print_shows_the_compact_table_not_the_dataclass():
    res = diagnose(data.load_base(), n_boot=200, families=["Pythia", "OPT"])
    text = str(res)
    assert text == res.summary() and len(text) < 1000 and "FamilyDiagnosis(" not in text
    lines = text.splitlines()
    assert lines[1].split() == ["family", "n", "sizes", "r(HS,TQA)", "[CI]", "phase", "path", "N_c", "[CI]",
                                "status"]
    py = next(x for x in lines if x.startswith("Pythia"))
    assert py.split("  ")[:3] == ["Pythia", "8", "70M–12B"]
    assert "-0.99 [-1.00, -0.94]" in py and "tax×3 → transition → tax×3" in py and "[12B, ∞)" in py
    assert any(x.startswith("Pooled N_c: ") for x in lines)


def test_repr_html_is_a_table_with_coloured_phases():
    res = diagnose(data.load_base(), n_boot=0, families=["Pythia"])
    h = res._repr_html_()
    assert h.count("<tr>") == 2 and "<th style='text-align:left'>N_c [CI]</th>" in h
    assert "<span style='color:#c62828'>tax</span>" in h


def test_python_quickstart_from_a_wide_frame():
    df = pd.DataFrame({"model": ["a-1b", "a-2b", "a-4b", "a-8b"], "family": ["A"] * 4,
                       "params": [1e9, 2e9, 4e9, 8e9], "HellaSwag": [40.0, 50.0, 60.0, 70.0],
                       "TruthfulQA": [40.0, 38.0, 36.0, 34.0]})
    res = diagnose(ScoreTable.from_wide(df), n_boot=200)
    row = next(x for x in res.summary().splitlines() if x.startswith("A "))
    assert row.split()[:3] == ["A", "4", "1B–8B"] and "-1.00" in row and "tax×3" in row
