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


# ---------------------------------------------------------------------------------------------- other results
def _markdown_holds(blocks, md: str) -> None:
    """Every line and every table title and cell of ``blocks`` appears in the command's Markdown output."""
    from cape._format import TextTable

    for b in blocks:
        if isinstance(b, TextTable):
            assert f"**{b.title}**" in md if b.title else True
            for row in b.rows:
                assert "| " + " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in row) + " |" in md, row
        else:
            assert b.text.strip() in md, b.text


def test_holdout_summary_is_what_cape_ode_prints(capsys):
    from cape.cli import main
    from cape.dynamics import cross_predict

    res = cross_predict(n_models=10)
    text = res.summary()
    assert str(res) == text
    lines = text.splitlines()
    assert lines[0] == ("Held-out Llama-2: trained on Pythia, started from Llama-2-7B, predicting Llama-2-13B, "
                        "Llama-2-70B (MAPE %, MAE in points)")
    assert lines[1].split() == ["method", "HS", "TQA", "ARC", "WG", "MMLU", "all", "MAE", "pp", "95%", "ens."]
    sparse = next(x for x in lines if x.startswith("sparse ODE"))
    assert sparse.split()[2:] == ["5.62", "14.12", "8.15", "1.14", "24.26", "10.66", "6.55", "10.1-11.7"]
    assert lines[3].startswith("poly deg 2") and lines[-1].startswith("On Llama-2 (2 models predicted")
    assert main(["ode", "--n-models", "10", "--format", "markdown"]) == 0
    _markdown_holds(res.summary_blocks(), capsys.readouterr().out)


def test_frontier_summary_is_what_cape_frontier_prints(capsys):
    from cape.cli import main
    from cape.frontier import FrontierConfig, frontier_report

    rep = frontier_report(config=FrontierConfig(n_boot=300))
    text = rep.summary()
    assert str(rep) == text
    lines = text.splitlines()
    assert lines[0] == ("Frontier population coupling: GPQA Diamond on SWE-bench Verified, 34 fitted models "
                        "(core, extended), 39 shown")
    r = next(x for x in lines if x.startswith("r "))
    assert r.split() == ["r", "0.7235", "[0.510,", "0.853]", "[0.570,", "0.832]"]
    assert "h-field: GPQA Diamond - (0.5131 * SWE-bench Verified + 46.38)  [fit line; PI = 95% prediction " \
           "interval]" in lines
    assert any(x.startswith("Saturation: ") for x in lines)
    assert any(x.strip().startswith("LOLO MAE ") for x in lines)
    assert main(["frontier", "--n-boot", "300", "--format", "markdown"]) == 0
    _markdown_holds(rep.summary_blocks(), capsys.readouterr().out)


def test_claims_summary_select_and_json():
    import pytest

    from cape.errors import DataError
    from cape.paper import Claim, ClaimsResult

    res = ClaimsResult((Claim("M1", "r(HS, TQA) in Pythia", "-0.989", "-0.9886", "reproduces", "within 0.0005"),
                        Claim("M2", "N_c", "3.2B", None, "not computable", "no data", sound_value="4.1B")))
    text = str(res)
    assert text == res.summary()
    lines = text.splitlines()
    assert lines[0] == "Paper claims vs computation (embedded data)"
    assert lines[3].split()[:4] == ["M1", "reproduces", "r(HS,", "TQA)"]
    assert lines[-1] == "reproduces: 1, differs: 0, not computable: 1"
    assert [c.id for c in res.select(verdict="not-computable").claims] == ["M2"]
    assert [c.id for c in res.select(ids=["m1"]).claims] == ["M1"]
    with pytest.raises(DataError, match="--verdict must be one of"):
        res.select(verdict="maybe")
    with pytest.raises(DataError, match="--id m9: no such claim"):
        res.select(ids=["m9"])
    d = res.to_dict()
    assert d["counts"] == {"reproduces": 1, "differs": 0, "not computable": 1}
    assert d["claims"][0]["paper"] == -0.989 and d["claims"][0]["computed"] == -0.9886
    assert d["claims"][1]["computed"] is None and d["claims"][1]["sound_numbers"] == [pytest.approx(4.1e9)]


def test_discovery_and_phases_summaries_are_what_cape_ode_prints(capsys):
    from cape.cli import main
    from cape.dynamics import discover, per_phase

    disc = discover(families=["Pythia"], n_models=10)
    text = str(disc)
    assert text == disc.summary()
    lines = text.splitlines()
    assert lines[0] == "Discovered ODE  dB/dlog10N = f(B)  (pysindy, STLSQ)"
    assert lines[1].startswith("  families: Pythia (8); 7 derivative samples (secant); degree 2;")
    assert "    dHS/dlog10N = 0.182" in lines and "    dTQA/dlog10N = -0.0616" in lines
    assert any(x.startswith("  No coupling term survives cross-validation") for x in lines)
    pythia = next(x for x in lines if x.startswith("Pythia "))
    assert pythia.split() == ["Pythia", "3.39", "3.12", "4.41", "8.19", "8.03", "5.43", "2.18"]
    ph = per_phase(n_models=5)
    ptext = ph.summary()
    assert str(ph) == ptext and ptext.splitlines()[0].startswith("Per-phase discovery (phases by gamma)")
    assert ptext.splitlines()[-1].startswith("24 tax-phase and 14 bonus-phase intervals")
    assert main(["ode", "--n-models", "5", "--holdout", "none", "--phases", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    _markdown_holds([b for b in ph.summary_blocks()], md)
