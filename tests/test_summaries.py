"""summary() on result objects: the text a notebook gets is the text the command line prints."""

from __future__ import annotations

from cape._format import Line, TextTable, render_text
from cape.doctor import diagnose_model


def test_render_text_aligns_columns_and_wraps_folded_cells():
    t = TextTable("T", ("name", "value"), (("a", "1.5"), ("bbb", "10.25")), right=("value",))
    assert render_text([Line("head"), t]).split("\n") == [
        "head", "T", "name  value", "----  -----", "a       1.5", "bbb   10.25"]
    long = TextTable("", ("why",), (("word " * 20,),), fold=True)
    assert all(len(x) <= 50 for x in render_text([long]).split("\n"))


def test_doctor_summary_is_the_cli_text(capsys):
    from cape.cli import main

    res = diagnose_model("Pythia-1B")
    text = res.summary()
    assert str(res) == text
    assert text.startswith("Pythia-1B — family Pythia, 1B parameters (base model; embedded cohort)\n")
    assert "Phase: tax (γ = -0.261 from Pythia-410M → Pythia-1B)" in text
    assert "Pythia-410M → Pythia-1B        8.80        -2.30  -0.261" in text
    try:
        main(["doctor", "Pythia-1B"])
    except SystemExit as e:
        assert e.code in (0, None)
    cli = capsys.readouterr().out
    # every prose line of the summary is printed by the CLI, verbatim (the CLI only wraps long lines)
    flat = " ".join(cli.split())
    for b in res.summary_blocks():
        if isinstance(b, Line) and b.text.strip():
            assert " ".join(b.text.split()) in flat, b.text


def test_diagnosis_summary_is_the_cli_table(capsys):
    from cape.cli import main
    from cape.diagnose import diagnose

    res = diagnose(families=["Pythia", "OPT"], n_boot=200)
    text = res.summary()
    assert str(res) == text
    lines = text.split("\n")
    assert lines[0] == "HellaSwag vs TruthfulQA (embedded base cohort; 95% CIs, 200 resamples, seed 0)"
    pythia = next(x for x in lines if x.startswith("Pythia"))
    assert "70M–12B" in pythia and "-0.99 [" in pythia and "tax×3 → transition → tax×3" in pythia
    assert pythia.rstrip().endswith("none")
    try:
        main(["diagnose", "--family", "Pythia", "--family", "OPT", "--n-boot", "200"])
    except SystemExit as e:
        assert e.code in (0, None)
    cli = " ".join(capsys.readouterr().out.split())
    for cell in ("70M–12B", "tax×3 → transition → tax×3", "125M–66B"):
        assert cell in cli


def test_coupling_summaries_pin_the_pythia_numbers():
    from cape import data
    from cape.coupling import local_coupling, population_coupling

    t = data.fixture_table("pythia8", family="Pythia")
    pc = population_coupling(t, n_boot=0)
    assert str(pc) == pc.summary()
    assert pc.summary().startswith("r(HellaSwag, TruthfulQA) = -0.989 (8 models), 95% CI [-0.998, -0.936]")
    assert "permutation p = 4.96e-05 (exact)" in pc.summary()
    fc = local_coupling(t)
    lines = fc.summary().split("\n")
    assert lines[1] == "  Pythia-70M -> Pythia-160M: dHellaSwag +4.10, dTruthfulQA -2.80, gamma -0.683 (tax)"
    assert lines[-1] == "  phase path: tax -> tax -> tax -> transition -> tax -> tax -> tax"
