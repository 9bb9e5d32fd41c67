"""Every hint names an option that exists: the messages CAPE gives while reading scores (errors, dropped items,
notes, mixed-setting warnings) are collected from real and bad inputs, and each ``--option`` they name is
checked against the command they name (``cape ingest --col ...``) or, when they name none, against every
command that reads scores."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cape.errors import CapeError
from cape.ingest import read_any
from cape.scores import ScoreTable

DATA = Path(__file__).parent / "data"
#: commands that read --scores files and run an analysis (where a bare hint may be shown)
ANALYSIS = ("diagnose", "ode", "predict", "frontier", "doctor", "levers", "report", "figure")


def _options() -> dict[str, set[str]]:
    from cape.cli import full_command

    cmd = full_command()
    out = {}
    for name, sub in cmd.commands.items():
        out[name] = {o for p in sub.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}
    return out


def _collect() -> list[str]:
    msgs: list[str] = []
    inputs = sorted((DATA / "bad").iterdir()) + [DATA / "ingest", DATA / "real"]
    for p in inputs:
        for strict in (False, True):
            try:
                _, r = read_any(p, strict=strict)
            except CapeError as e:
                msgs.append(str(e))
                continue
            msgs += [n.message for n in r.notes] + [d.reason for d in r.dropped]
    # mixed settings inside a family, a variant mix refused by an analysis, a missing shot setting
    from cape.commands._scores import parse_settings, setting_warnings

    t = ScoreTable(pd.DataFrame({
        "model": ["a-1b", "a-2b", "a-3b", "a-1b", "a-2b", "a-3b"], "family": ["A"] * 6,
        "params": [1e9, 2e9, 3e9] * 2, "benchmark": ["HellaSwag"] * 3 + ["TruthfulQA"] * 3,
        "score": [40, 50, 60, 30, 31, 32], "shots": [0, 10, 10, 0, 0, 0],
        "metric": ["acc_norm"] * 3 + ["mc1", "mc2", "mc2"]}), units="percent")
    msgs += setting_warnings(t)
    for call in (lambda: t.wide(), lambda: t.select_shots("HellaSwag", 5), lambda: t.select_variant("HS", "x"),
                 lambda: parse_settings(["HellaSwag"], "--shots", integer=True),
                 lambda: parse_settings(["HellaSwag=ten"], "--shots", integer=True),
                 lambda: parse_settings(["Hellaswg=acc"], "--variant")):
        try:
            call()
        except CapeError as e:
            msgs.append(str(e))
    return msgs


def test_every_option_named_in_a_message_exists():
    opts = _options()
    msgs = _collect()
    assert len(msgs) > 100
    named = 0
    bad = []
    for m in msgs:
        for hit in re.finditer(r"(?<![\w-])--[a-z][a-z0-9-]*", m):
            opt = hit.group(0)
            ctx = re.findall(r"cape (\w+)", m[:hit.start()])
            cmds = [ctx[-1]] if ctx else list(ANALYSIS)
            named += 1
            for c in cmds:
                if c not in opts or opt not in opts[c]:
                    bad.append(f"{opt} (not an option of cape {c}): {m}")
    assert named > 10
    assert not bad, "\n".join(sorted(set(bad))[:20])


def test_option_scanner_catches_a_wrong_hint():
    """The check above is not vacuous: the old advice '--variant WinoGrande=acc' on cape ingest is caught."""
    opts = _options()
    assert "--variant" not in opts["ingest"] and "--col" in opts["ingest"]
    for c in ANALYSIS:
        assert {"--variant", "--shots", "--strict"} <= opts[c], c


@pytest.mark.parametrize("col", ["XWinograd", "Winograd", "HumanEval", "GPQA"])
def test_other_benchmarks_are_never_mapped_to_a_look_alike(tmp_path, col):
    p = tmp_path / "t.csv"
    p.write_text(f"model,HellaSwag,{col}\na-1b,40,50\n")
    t, r = read_any(p, strict=True)
    assert t.benchmarks == ["HellaSwag"]
    reason = next(d.reason for d in r.dropped if d.item == f"column {col}")
    assert "does not analyse" in reason and "--col" not in reason
