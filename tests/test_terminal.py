"""What a person sees in the terminal: tables at 80 columns and in a pipe, --format, --version, help, JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cape.cli import EXAMPLES, main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _cape(*args: str, env_extra: dict | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    """``cape ARGS`` in a subprocess whose stdout is a pipe (no terminal), 80 columns."""
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "80", **(env_extra or {})}
    env.pop("FORCE_COLOR", None)
    code = prelude + "\nimport sys\nfrom cape.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z'-]{3,}", text))


def test_version(capsys):
    from cape import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cape {__version__}"


def _commands():
    from cape.cli import full_command

    root = full_command()
    out = {}

    def walk(cmd, prefix):
        for name, sub in getattr(cmd, "commands", {}).items():
            full = f"{prefix}{name}"
            if getattr(sub, "commands", None):
                walk(sub, full + " ")
            else:
                out[full] = sub
    walk(root, "")
    return out


def test_every_command_has_an_example_whose_options_exist():
    cmds = _commands()
    assert set(EXAMPLES) <= set(cmds)
    missing = set(cmds) - set(EXAMPLES) - {"heads summarize", "layers summarize"}
    assert not missing, f"commands without an example: {sorted(missing)}"
    for name, ex in EXAMPLES.items():
        opts = {o for p in cmds[name].params for o in p.opts}
        used = set(re.findall(r"(?<!\S)(--?[a-zA-Z][\w-]*)", ex.split("(")[0]))
        assert used <= opts, f"{name}: example uses {used - opts}"


@pytest.mark.parametrize("cmd", [[], ["diagnose"], ["claims"], ["data", "show"], ["figure"], ["heads"]])
def test_help_has_readable_metavars_and_an_example(cmd, capsys):
    assert main([*cmd, "--help"]) == 0
    out = capsys.readouterr().out
    assert "<bool>" not in out and "list[" not in out and "<int>" not in out
    if cmd:
        assert "Example: cape " + " ".join(cmd) in out.replace("\n", " ")


def test_claims_at_80_columns_never_split_a_word(capsys, monkeypatch, claims_once):
    """The widest table at the width of a pipe (80 columns; the real pipe is exercised by the frontier test below,
    in a subprocess): no word is split or lost."""
    from cape.commands import _common
    from cape.paper import all_claims

    monkeypatch.setattr(_common.console, "width", 80)
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(x.rstrip()) for x in lines) <= 80
    shown = _words(out)
    expected = set()
    for c in all_claims():
        expected |= _words(" ".join([c.claim, c.reason, c.verdict]))
    assert not (expected - shown), f"split or lost words: {sorted(expected - shown)[:10]}"
    assert "reproduces" in shown


@pytest.mark.parametrize("width", [60, 80, 120])
def test_renderer_never_splits_a_word(width):
    from rich.console import Console
    from rich.table import Table

    from cape.commands._table import Out

    words = ("reproduces permutations truthfulness Cerebras-GPT insufficient extrapolated "
             "bootstrap WinoGrande DeepSeek-V2.5 interpretability").split()
    t = Table(title="t")
    for h in ("id", "verdict", "claim", "paper", "computed", "sound", "reason"):
        t.add_column(h)
    for i in range(4):
        t.add_row(str(i), words[i], " ".join(words), words[5], " ".join(words[3:]), words[8], " ".join(words[::-1]))
    buf = io.StringIO()
    Out("table", console=Console(file=buf, width=width, color_system=None)).table(t)
    text = buf.getvalue()
    assert max(len(x.rstrip()) for x in text.splitlines()) <= width
    assert _words(" ".join(words)) <= _words(text)


def test_a_table_too_wide_for_its_borders_drops_them_and_keeps_rows_short():
    """At 80 columns the diagnose table loses its borders before any cell wraps, and the width goes where it
    saves the most lines: no row takes more than two lines, and a one-line row stays one line."""
    from rich.console import Console
    from rich.table import Table

    from cape.commands._table import Out

    def table() -> Table:
        t = Table(title="HellaSwag vs TruthfulQA")
        for h in ("family", "n", "sizes", "r(HS,TQA) [CI]", "phase path", "N_c [CI]", "status"):
            t.add_column(h)
        t.add_row("BLOOM", "6", "560M–176B", "-0.86 [-0.98, -0.16]", "tax×4 → transition", "[0, ∞)", "none")
        t.add_row("Gemma", "1", "4B", "—", "—", "—", "insufficient")
        t.add_row("Cerebras-GPT", "7", "111M–13B", "-0.98 [-1.00, -0.88]", "tax×5 → bonus", "[12B, ∞)", "none")
        return t

    buf = io.StringIO()
    Out("table", console=Console(file=buf, width=80, color_system=None)).table(table())
    lines = buf.getvalue().splitlines()
    assert not any(ch in buf.getvalue() for ch in "│┃┏━")  # no borders
    assert max(len(x.rstrip()) for x in lines) <= 80
    body = lines[lines.index(next(x for x in lines if x.startswith("family"))) + 1:]
    starts = [i for i, x in enumerate(body) if x[:1].strip()]
    heights = [b - a for a, b in zip(starts, starts[1:] + [len(body)])]
    assert heights[1] == 1 and max(heights) <= 2, body
    buf = io.StringIO()  # wide enough: the bordered table, unchanged
    Out("table", console=Console(file=buf, width=120, color_system=None)).table(table())
    assert "┃" in buf.getvalue() or "│" in buf.getvalue()


def test_diagnose_compact_table_by_default_and_details(capsys):
    assert main(["diagnose", "--n-boot", "100", "--family", "Pythia", "--family", "OPT"]) == 0
    out = capsys.readouterr().out
    assert "phase path" in out and "N_c [CI]" in out and "Pooled N_c" in out
    assert "tax×3 → transition → tax×3" in out  # Pythia's path with runs counted
    assert "geometric midpoints" not in out  # the long form only with --details
    assert main(["diagnose", "--n-boot", "100", "--family", "Pythia", "--details"]) == 0
    assert "geometric midpoints" in capsys.readouterr().out


def test_diagnose_csv_and_markdown(capsys):
    assert main(["diagnose", "--n-boot", "100", "--family", "Pythia", "--family", "OPT", "--format", "csv"]) == 0
    cap = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(cap.out)))
    assert rows[0] == ["family", "n", "sizes", "r(HS,TQA) [CI]", "phase path", "N_c [CI]", "status"]
    fam = {r[0]: r for r in rows[1:]}
    assert set(fam) == {"Pythia", "OPT"} and fam["Pythia"][1] == "8" and fam["Pythia"][2] == "70M–12B"
    assert fam["Pythia"][3].startswith("-0.99 [") and fam["Pythia"][6] == "none"
    assert "Pooled N_c" in cap.err  # prose to stderr, stdout is only the table
    assert main(["diagnose", "--n-boot", "100", "--family", "Pythia", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| family | n | sizes |" in md and "| --- |" in md and "| Pythia | 8 | 70M–12B |" in md


def test_bad_format_is_one_sentence(capsys):
    assert main(["claims", "--format", "html"]) == 2
    assert capsys.readouterr().err.strip() == "error: --format must be one of table, markdown, csv, not 'html'"


def test_data_show_formats(capsys):
    assert main(["data", "show", "Pythia", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:4] == ["model", "params", "HS", "TQA"] and rows[1][:4] == ["Pythia-70M", "70M", "27.3", "47.1"]


def test_frontier_names_are_never_truncated():
    p = _cape("frontier", "--n-boot", "50")
    assert p.returncode == 0, p.stderr
    assert "DeepSe..." not in p.stdout and "…" not in p.stdout
    assert "DeepSeek" in p.stdout


@pytest.mark.parametrize("args", [["claims", "--json"], ["data", "--json"], ["data", "show", "OPT", "--json"],
                                  ["cache", "info", "--json"]])
def test_every_json_output_has_a_schema_version(args, capsys, tmp_path, monkeypatch, claims_once):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert isinstance(d, dict) and next(iter(d)) == "schema_version" and d["schema_version"] == 1


def test_emit_json_wraps_lists_and_results(capsys):
    from dataclasses import dataclass

    from cape.commands._common import emit_json

    emit_json([1, 2], key="rows")
    assert json.loads(capsys.readouterr().out) == {"schema_version": 1, "rows": [1, 2]}

    @dataclass(frozen=True)
    class R:
        x: float

        def to_dict(self):
            return {"x": self.x}

    emit_json(R(float("nan")))
    assert json.loads(capsys.readouterr().out) == {"schema_version": 1, "x": None}


HIDE = textwrap.dedent("""
    import sys
    for _m in {mods!r}:
        sys.modules[_m] = None
""")


@pytest.mark.parametrize("args,hidden,extra", [
    (["figure", "-o", "{tmp}/f.png"], ["matplotlib"], "dashboard"),
    (["report", "-o", "{tmp}/r.html"], ["plotly", "matplotlib"], "dashboard"),
    (["heads", "HuggingFaceTB/SmolLM2-135M", "-o", "{tmp}/h"], ["torch", "transformers"], "internals"),
    (["layers", "HuggingFaceTB/SmolLM2-135M", "-o", "{tmp}/l"], ["torch", "transformers"], "internals"),
])
def test_missing_extra_names_the_install_command(args, hidden, extra, tmp_path):
    args = [a.format(tmp=tmp_path) for a in args]
    p = _cape(*args, prelude=HIDE.format(mods=hidden))
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert f"pip install 'cape[{extra}]'" in p.stderr and "internal error" not in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_extra_message_only_for_optional_packages():
    from cape.cli import missing_extra_message

    assert missing_extra_message(ModuleNotFoundError("x", name="plotly.express")).endswith("'cape[dashboard]'")
    assert missing_extra_message(ModuleNotFoundError("x", name="numpyy")) is None


def test_progress_in_a_pipe_is_a_line_per_model():
    from cape.commands.internals import _LineProgress, _progress, display_name

    buf = io.StringIO()
    with _LineProgress(buf) as p:
        t = p.add_task("loading org/model-a", total=None)
        p.update(t, description="heads org/model-a", total=10, completed=0)
        p.update(t, completed=5)
        p.remove_task(t)
    lines = buf.getvalue().splitlines()
    assert lines[:2] == ["loading org/model-a ...", "heads org/model-a ..."]
    assert re.fullmatch(r"heads org/model-a: done in \d+\.\d s", lines[2]) and len(lines) == 3
    assert isinstance(_progress(False), _LineProgress)  # pytest's stderr is not a terminal
    assert display_name("/models/q/smollm2-135m-q8_0.gguf") == "smollm2-135m-q8_0.gguf"
    assert display_name("EleutherAI/pythia-70m") == "EleutherAI/pythia-70m"


def test_levers_and_predict_take_format(capsys):
    assert main(["levers", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:2] == ["lever", "contrast"] and any(r[0] == "d_model" for r in rows[1:])
    assert main(["predict", "--family", "Pythia", "--params", "3e9", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| --- |" in md and "Pythia" in md
    assert main(["data", "show", "Pythia"]) == 0  # the next command is back to the table format
    assert "| --- |" not in capsys.readouterr().out
