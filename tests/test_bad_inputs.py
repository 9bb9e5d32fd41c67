"""The bad-input corpus for every command: options out of range, non-finite numbers, wrong units, bad config and
model files, outputs that would harm an input.

Every case must end with a non-zero exit, one sentence on stderr naming the culprit (the option, file, row or
field), no traceback and no "internal error", no input file changed and no existing ``-o`` file changed. The
cases are generated from tables below; the counts are printed by ``test_corpus_size``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cape.cli import main

DATA = Path(__file__).parent / "data"
WIDE = DATA / "ingest" / "wide_basic.csv"


# ------------------------------------------------------------------------------------------------ the cases

#: Numeric options: (command words, option, bad values). Options of the model commands are checked before a
#: model is loaded, so those cases name a model that does not exist and must still name the option.
_INT_BAD = ["0", "-1", "abc", "1.5", "9" * 40]
_SKIPPABLE_BAD = ["-1", "abc", "1.5", "9" * 40]  # counts whose help documents 0 as "skip"
_SEED_BAD = ["-1", "abc", "1.5", "9" * 40]
_LEVEL_BAD = ["0", "1", "1.5", "2", "-0.5", "nan", "inf", "abc"]
_POS_FLOAT_BAD = ["-1", "nan", "inf", "-inf", "abc"]
_FRACTION_BAD = ["-0.1", "1.5", "nan", "inf", "abc"]

NUMERIC: list[tuple[list[str], str, list[str]]] = [
    (["diagnose"], "--n-boot", _INT_BAD),
    (["diagnose"], "--seed", _SEED_BAD),
    (["diagnose"], "--level", _LEVEL_BAD),
    (["diagnose"], "--min-delta", ["-1", "nan", "inf", "abc"]),
    (["diagnose"], "--scheme", ["nan,nan", "1,-1", "a,b", "0.5", "inf,1"]),
    (["diagnose"], "--pair", ["HS", "HS,HS", "HS,Nope", ""]),
    (["diagnose"], "--bootstrap", ["bogus"]),
    (["diagnose"], "--family", ["NoSuchFamily"]),
    (["ode"], "--n-models", ["-1", "abc", "1.5", "9" * 40]),  # 0 is valid here: no ensemble
    (["ode"], "--seed", _SEED_BAD),
    (["ode"], "--degree", ["0", "3", "-1", "abc"]),
    (["ode"], "--threshold", _POS_FLOAT_BAD),
    (["ode"], "--benchmarks", ["HS", "HS,Nope", ""]),
    (["ode"], "--method", ["bogus"]),
    (["ode"], "--units", ["bogus"]),
    (["ode"], "--cv-rule", ["bogus"]),
    (["ode"], "--holdout", ["NoSuchFamily"]),
    (["predict", "--family", "Pythia", "--params", "30B"], "--n-models", _INT_BAD),
    (["predict", "--family", "Pythia", "--params", "30B"], "--level", _LEVEL_BAD),
    (["predict", "--family", "Pythia", "--params", "30B"], "--seed", _SEED_BAD),
    (["predict", "--family", "Pythia", "--params", "30B"], "--degree", ["0", "3", "abc"]),
    (["predict", "--family", "Pythia"], "--params", ["0", "-1", "nan", "inf", "1e20", "abc", "30Q"]),
    (["predict", "--params", "30B"], "--family", ["NoSuchFamily"]),
    (["frontier"], "--n-boot", _INT_BAD),
    (["frontier"], "--seed", _SEED_BAD),
    (["frontier"], "--top-k", ["0", "-1", "abc"]),
    (["frontier"], "--rotate-below", _POS_FLOAT_BAD),
    (["frontier"], "--method", ["bogus"]),
    (["frontier"], "--x", ["Nope"]),
    (["frontier"], "--rank-by", ["bogus"]),
    (["doctor", "Pythia-1B"], "--seed", _SEED_BAD),
    (["doctor", "--family", "Pythia", "--score", "HS=49.7", "--score", "TQA=38.9"], "--params",
     ["0", "-1", "nan", "inf", "1e20", "abc"]),
    (["doctor", "--family", "Pythia", "--params", "1e9"], "--score",
     ["HS=nan", "HS=-3", "HS=130", "HS=abc", "HS", "Nope=40", "HS=0.497"]),
    (["doctor", "--family", "Pythia", "--params", "1e9", "--score", "HS=49.7", "--score", "TQA=38.9"],
     "--d-model", ["0", "-1", "abc"]),
    (["claims"], "--id", ["ZZ99"]),
    (["claims"], "--verdict", ["bogus"]),
    (["data", "show", "Pythia"], "--dataset", ["bogus"]),
    (["figure"], "--dpi", ["0", "-1", "abc", "100000"]),
    (["figure"], "--seed", _SEED_BAD),
    (["report"], "--seed", _SEED_BAD),
    (["report"], "--only", ["bogus"]),
    (["dashboard", "--dry-run"], "--port", ["0", "-1", "70000", "abc"]),
    (["heads", "no-such-model-dir/x/y"], "--n-boot", _SKIPPABLE_BAD),
    (["heads", "no-such-model-dir/x/y"], "--n-perm", _SKIPPABLE_BAD),
    (["heads", "no-such-model-dir/x/y"], "--seed", _SEED_BAD),
    (["heads", "no-such-model-dir/x/y"], "--alpha", _FRACTION_BAD + ["0", "1"]),
    (["heads", "no-such-model-dir/x/y"], "--max-items", ["0", "-1", "abc"]),
    (["heads", "no-such-model-dir/x/y"], "--batch-size", ["0", "-1", "abc"]),
    (["heads", "no-such-model-dir/x/y"], "--max-length", ["0", "-1", "abc"]),
    (["heads", "no-such-model-dir/x/y"], "--threads", ["0", "-1", "abc"]),
    (["heads", "no-such-model-dir/x/y"], "--dtype", ["int3"]),
    (["layers", "no-such-model-dir/x/y"], "--n-boot", _SKIPPABLE_BAD),
    (["layers", "no-such-model-dir/x/y"], "--drep-boot", _SKIPPABLE_BAD),
    (["layers", "no-such-model-dir/x/y"], "--seed", _SEED_BAD),
    (["layers", "no-such-model-dir/x/y"], "--batch-size", ["0", "-1"]),
    (["steer", "train", "no-such-model-dir/x/y"], "--val-fraction", ["-0.1", "1", "1.5", "nan", "abc"]),
    (["steer", "train", "no-such-model-dir/x/y"], "--sweep-strength", ["nan", "inf", "abc"]),
    (["steer", "train", "no-such-model-dir/x/y"], "--batch-size", ["0", "-1"]),
    (["steer", "train", "no-such-model-dir/x/y"], "--seed", _SEED_BAD),
]


#: Options whose error may name the value instead of the option ("no family 'X'", "unknown benchmark 'Nope'").
_NAMED_BY_VALUE = {"--pair", "--scheme", "--bootstrap", "--family", "--benchmarks", "--method", "--units",
                   "--cv-rule", "--holdout", "--x", "--rank-by", "--dataset", "--only", "--id", "--verdict",
                   "--score", "--dtype", "--params"}


def _numeric_cases():
    for words, option, values in NUMERIC:
        for value in values:
            culprit = (option, f"'{value}'", f"{value}") if option in _NAMED_BY_VALUE and value else (option,)
            yield pytest.param([*words, option, value], [culprit], id=f"{' '.join(words[:2])} {option}={value}")


#: Files given to --scores of every analysis command: (file name, content, words the error must contain).
SCORE_FILES: list[tuple[str, str, list[str]]] = [
    # files with nothing usable in them (a problem confined to a row is dropped and reported instead, unless
    # --strict; the ingest corpus covers those)
    ("empty.csv", "", ["empty.csv"]),
    ("binary.csv", "\x00\x01\x02garbage\x00", ["binary.csv"]),
    ("header_only.csv", "model,family,params,HellaSwag,TruthfulQA\n", ["header_only.csv"]),
    ("no_model.csv", "name_of_thing,HellaSwag,TruthfulQA\n,30,40\n", ["no_model.csv"]),
    ("no_benchmarks.csv", "model,family,params,speed,cost\nA,F,1e9,3,4\n", ["no_benchmarks.csv"]),
    ("ragged.csv", "model,family,params,HellaSwag,TruthfulQA\nA,F,1e9,30,40,50,60\n\"unclosed,1\n",
     ["ragged.csv"]),
    ("list.json", "[1, 2, 3]", ["list.json"]),
    ("bad.json", '{"results": {"hellaswag": ', ["bad.json"]),
    ("utf16.csv", "model,HellaSwag\nA,30\n".encode("utf-16-le").decode("latin-1"), ["utf16.csv"]),
    ("other_pair.csv", "model,family,params,MMLU,WinoGrande\nA,F,1e9,30,60\nB,F,2e9,35,62\n",
     [("other_pair.csv", "HellaSwag")]),
]

COMMANDS_WITH_SCORES: list[list[str]] = [
    ["diagnose", "--scores"],
    ["doctor", "A", "--data"],
    ["ode", "--scores"],
    ["frontier", "--scores"],
    ["report", "-o", "OUT.html", "--scores"],
    ["figure", "-o", "OUT.png", "--scores"],
    ["dashboard", "--dry-run", "--scores"],
    ["ingest", "-o", "OUT.csv"],
]


def _file_cases():
    for words in COMMANDS_WITH_SCORES:
        for name, _content, must in SCORE_FILES:
            if name == "other_pair.csv" and words[0] in ("ingest", "dashboard", "report"):
                continue  # fine for commands that need no particular benchmark (a report section says why)
            yield pytest.param(words, name, must, id=f"{words[0]} {name}")


#: Whole command lines with their own files (written by the fixture below) and the words the error must hold.
OTHER: list[tuple[list[str], list[str]]] = [
    (["doctor", "Pythia-1B", "--config", "doctor_nan.toml"], ["doctor_nan.toml", "phase_lower"]),
    (["doctor", "Pythia-1B", "--config", "doctor_nboot.toml"], ["doctor_nboot.toml", "n_boot"]),
    (["doctor", "Pythia-1B", "--config", "syntax.toml"], ["syntax.toml"]),
    (["doctor", "Pythia-1B", "--config", "missing.toml"], ["missing.toml"]),
    (["doctor", "NoSuchModel-7B"], ["NoSuchModel-7B"]),
    (["ingest", "lmeval_huge_params.json"], ["lmeval_huge_params.json", "5000 digits"]),
    (["ingest", "wide.csv", "-o", "wide.csv"], ["wide.csv", "input"]),
    (["ingest", "wide.csv", "-o", "sub"], ["sub", "folder"]),
    (["ingest", "wide.csv", "-o", "missing/x.csv"], ["missing/x.csv", "does not exist"]),
    (["ingest", "wide.csv", "-o", "x.parquet.txt"], ["x.parquet.txt", "-o"]),
    (["ingest", "wide.csv", "--units", "bogus"], ["--units"]),
    (["ingest", "wide.csv", "--params-unit", "bogus"], ["--params-unit"]),
    (["ingest", "wide.csv", "--col", "nonsense"], ["--col"]),
    (["report", "--scores", "wide.csv", "-o", "wide.csv"], ["wide.csv", "input"]),
    (["report", "-o", "sub"], ["sub", "folder"]),
    (["figure", "--scores", "wide.csv", "-o", "wide.csv"], ["wide.csv"]),
    (["figure", "-o", "x.docx"], ["x.docx"]),
    (["data", "export", "base", "-o", "x.parquet.txt"], ["x.parquet.txt"]),
    (["data", "export", "nope", "-o", "x.csv"], ["nope"]),
    (["layers", "config_list"], ["config_list"]),
    (["heads", "config_list"], ["config_list"]),
    (["steer", "eval", "no-such-model-dir/x/y", "--vector", "missing.safetensors"], ["missing.safetensors"]),
]


# ------------------------------------------------------------------------------------------------ fixtures

@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(WIDE, tmp_path / "wide.csv")
    (tmp_path / "sub").mkdir()
    for name, content, _ in SCORE_FILES:
        (tmp_path / name).write_text(content, encoding="latin-1")
    (tmp_path / "doctor_nan.toml").write_text("[doctor]\nphase_lower = nan\n")
    (tmp_path / "doctor_nboot.toml").write_text("[doctor]\nn_boot = 0\n")
    (tmp_path / "syntax.toml").write_text("[doctor\nx = \n")
    lm = {"results": {"hellaswag": {"acc_norm,none": 0.5, "acc,none": 0.45}},
          "config": {"model_args": "pretrained=org/model-1b", "model_num_parameters": 1000000000},
          "n-shot": {"hellaswag": float("nan")}, "model_name": "org/model-1b"}
    (tmp_path / "lmeval_nan_shots.json").write_text(json.dumps(lm))
    lm2 = {**lm, "n-shot": {"hellaswag": 10}}
    text = json.dumps(lm2).replace("1000000000", "9" * 5000)
    (tmp_path / "lmeval_huge_params.json").write_text(text)
    cfg = tmp_path / "config_list"
    cfg.mkdir()
    (cfg / "config.json").write_text("[]")
    return tmp_path


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _check(args: list[str], must: list[str], root: Path, capsys) -> None:
    before = _snapshot(root)
    rc = main(args)
    out, err = capsys.readouterr()
    text = err.strip()
    assert rc != 0, f"accepted silently: cape {' '.join(args)}\n{out[-500:]}"
    assert "Traceback" not in err and "internal error" not in err, err
    for word in must:
        alternatives = word if isinstance(word, tuple) else (word,)  # a tuple: any one of them
        assert any(w in err for w in alternatives), f"{word!r} not named in: {err}"
    errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
    # one sentence: CAPE's own errors are one "error:" line (progress or note lines may precede it); a usage
    # error from the option parser is its short panel
    assert len(errors) == 1 or "Usage:" in text, err
    after = _snapshot(root)
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, f"inputs changed: {changed}"


# ------------------------------------------------------------------------------------------------ the tests

@pytest.mark.parametrize("args, must", list(_numeric_cases()))
def test_bad_option(args, must, workdir, capsys, claims_once):
    _check(args, must, workdir, capsys)


@pytest.mark.parametrize("words, name, must", list(_file_cases()))
def test_bad_score_file(words, name, must, workdir, capsys):
    args = [w.replace("OUT", "out") for w in words] + [name]
    if words[0] == "doctor":
        args = ["doctor", "A", "--data", name]
    _check(args, must, workdir, capsys)
    assert not (workdir / "out.html").exists() and not (workdir / "out.png").exists()


@pytest.mark.parametrize("args, must", OTHER, ids=[" ".join(a[:3]) for a, _ in OTHER])
def test_bad_command_line(args, must, workdir, capsys):
    _check(args, must, workdir, capsys)


def test_corpus_size():
    n = len(list(_numeric_cases())) + len(list(_file_cases())) + len(OTHER)
    print(f"bad-input corpus: {n} cases")
    assert n >= 300


def test_nan_shot_count_is_unknown_not_an_error(workdir, capsys):
    """lm-eval writes NaN where a task has no few-shot setting: the shots are unknown, the score is kept."""
    assert main(["ingest", "lmeval_nan_shots.json", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["table"]["models"] == 1 and payload["table"]["benchmarks"] == ["HellaSwag"]


def test_report_on_a_table_without_the_pair_explains_the_sections(workdir, capsys):
    (workdir / "mw.csv").write_text("model,family,params,MMLU,WinoGrande\nA,F,1e9,30,60\nB,F,2e9,35,62\n")
    assert main(["report", "--scores", "mw.csv", "-o", "r.html", "--only", "overview,families"]) == 0
    html = (workdir / "r.html").read_text()
    assert html.count("could not be computed from these data") == 2 and "no HellaSwag" in html


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wide_basic.csv"])
def test_every_command_works_on_a_user_table(name, workdir, capsys):
    """No section or command depends on an embedded family: each runs on a user's table of other families."""
    shutil.copy(DATA / "ingest" / name, workdir / "user.csv")
    keep = _snapshot(workdir)
    for args in (["diagnose", "--scores", "user.csv", "--n-boot", "50", "--json"],
                 ["report", "--scores", "user.csv", "-o", "r.html"],
                 ["figure", "--scores", "user.csv", "-o", "f.png", "--dpi", "50"],
                 ["levers", "--scores", "user.csv", "--json"]):
        assert main(args) == 0, (args, capsys.readouterr().err)
        err = capsys.readouterr().err
        assert "internal error" not in err and "Traceback" not in err
    assert all(_snapshot(workdir)[k] == v for k, v in keep.items())
    assert (workdir / "r.html").stat().st_size > 10_000 and (workdir / "f.png").stat().st_size > 10_000


@pytest.mark.parametrize("args", [["heads", "--n-boot", "0"], ["heads", "--n-perm", "0"],
                                  ["layers", "--drep-boot", "0"], ["sweep", "layers", "--drep-boot", "0"]])
def test_zero_means_skip_where_the_help_says_so(args, workdir, capsys):
    """Counts documented as "0 to skip" pass the option check; the missing model is then the culprit."""
    cmd = args[:-2] + ["no-such-model-dir/x/y"] + args[-2:]
    if args[0] == "sweep":
        cmd += ["-o", "res"]
    assert main(cmd) != 0
    err = capsys.readouterr().err
    assert "Invalid value" not in err and "no-such-model-dir" in err
