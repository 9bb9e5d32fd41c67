"""The bad-input corpus (tests/data/bad): every input gets one sentence naming the file, line or field and what
was expected; `cape ingest` exits non-zero without a traceback, changes no input and leaves an existing -o
output alone."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cape.errors import CapeError, DataError
from cape.ingest import read_any

BAD = Path(__file__).parent / "data" / "bad"
GOOD = Path(__file__).parent / "data" / "ingest"

#: (arguments after `cape ingest`, words the error sentence must contain). Paths are relative to tests/data/bad.
CASES: list[tuple[list[str], list[str]]] = [
    (["empty.csv"], ["empty.csv", "is empty"]),
    (["blank.json"], ["blank.json", "is empty"]),
    (["truncated.json"], ["truncated.json", "not valid JSON (line"]),
    (["trailing_comma.json"], ["trailing_comma.json", "not valid JSON (line 3"]),
    (["list_top.json"], ["list_top.json", "holds a JSON list"]),
    (["deeply_nested.json"], ["deeply_nested.json", "nested too deeply"]),
    (["binary_junk.json"], ["binary_junk.json", "binary data"]),
    (["no_results_key.json"], ["no_results_key.json", "no 'results' entry"]),
    (["results_is_list.json"], ["results_is_list.json", "'results' is a list"]),
    (["results_empty.json"], ["results_empty.json", "'results' is empty"]),
    (["lmeval_percent_scores.json"], ["lmeval_percent_scores.json", "results.hellaswag", "0-1 fractions"]),
    (["lmeval_text_score.json"], ["lmeval_text_score.json", "'high'", "between 0 and 1"]),
    (["lmeval_negative_score.json"], ["lmeval_negative_score.json", "-0.2", "between 0 and 1"]),
    (["lmeval_no_model_name.json"], ["lmeval_no_model_name.json", "no model name", "pretrained="]),
    (["lmeval_unknown_tasks_only.json"], ["lmeval_unknown_tasks_only.json", "boolq, piqa"]),
    (["lmeval_absurd_params.json"], ["lmeval_absurd_params.json", "model_num_parameters", "absurd"]),
    (["lmeval_params_text.json"], ["lmeval_params_text.json", "'160M-ish'", "whole number"]),
    (["lmeval_task_not_object.json"], ["lmeval_task_not_object.json", "results.hellaswag", "object of metrics"]),
    (["leaderboard_v1_bad_shots.json"], ["leaderboard_v1_bad_shots.json", "harness|hellaswag|ten", "whole number"]),
    (["leaderboard_v1_over_one.json"], ["leaderboard_v1_over_one.json", "27.6", "0-1 fractions"]),
    (["unclosed_quote.csv"], ["unclosed_quote.csv", "line 3", "not valid CSV"]),
    (["ragged_row.csv", "--strict"], ["ragged_row.csv", "line 3 has 6 fields", "header has 5"]),
    (["no_model_column.csv"], ["no_model_column.csv", "no model column"]),
    (["no_benchmark_columns.csv"], ["no_benchmark_columns.csv", "no benchmark columns", "speed, cost"]),
    (["typo_benchmark_column.csv", "--strict"], ["typo_benchmark_column.csv", "'HelaSwag'",
                                                "if it holds HellaSwag", "cape ingest --col HellaSwag='HelaSwag'"]),
    (["long_typo_benchmark.csv", "--strict"], ["long_typo_benchmark.csv", "line 3", "'TruthfullQA'", "did you mean TruthfulQA"]),
    (["nan_score.csv", "--strict"], ["nan_score.csv", "line 3, column 'HellaSwag'", "'NaN'"]),
    (["text_score.csv", "--strict"], ["text_score.csv", "line 3, column 'HellaSwag'", "'high' is not a number"]),
    (["duplicate_model_conflict.csv", "--strict"], ["duplicate_model_conflict.csv", "'Pythia-70M'", "27.3", "29.9", "line 3"]),
    (["negative_params.csv", "--strict"], ["negative_params.csv", "line 2", "'-70000000'", "positive"]),
    (["absurd_params.csv", "--strict"], ["absurd_params.csv", "line 2", "absurd parameter count 7e+20"]),
    (["params_text.csv", "--strict"], ["params_text.csv", "line 2, column 'params'", "'seventy million'"]),
    (["params_mixed_units.csv", "--strict"], ["params_mixed_units.csv", "line 3", "too small for a raw count"]),
    (["fractions_mixed_with_percent.csv", "--strict"], ["fractions_mixed_with_percent.csv", "line 3", "0.314",
                                            "fractions mixed with percent"]),
    (["percent_marked_and_fraction.csv"], ["percent_marked_and_fraction.csv", "line 3",
                                           "fractions mixed with percent"]),
    (["score_over_100.csv", "--strict"], ["score_over_100.csv", "line 2, column 'HellaSwag'", "127.3", "outside 0-100"]),
    (["binary_junk.csv"], ["binary_junk.csv", "binary data"]),
    (["latin1.csv"], ["latin1.csv", "not valid UTF-8", "0xe9"]),
    (["utf16_no_bom.csv"], ["utf16_no_bom.csv", "UTF-16", "UTF-8"]),
    (["header_only.csv"], ["header_only.csv", "no data lines"]),
    (["duplicate_header.csv", "--strict"], ["duplicate_header.csv", "'HellaSwag' appears more than once"]),
    (["single_column.csv"], ["single_column.csv", "single column 'model'"]),
    (["empty_model_name.csv", "--strict"], ["empty_model_name.csv", "line 3", "empty model name"]),
    (["bad_shots.csv", "--strict"], ["bad_shots.csv", "line 2", "shots 'ten'"]),
    (["bad_is_base.csv", "--strict"], ["bad_is_base.csv", "line 2", "is_base 'maybe'"]),
    (["leaderboard_v2_bad_params.csv", "--strict"], ["leaderboard_v2_bad_params.csv", "line 2", "'#Params (B)' 'big'"]),
    (["epoch_bad_score"], ["epoch_bad_score/external_benchmark_hellaswag.csv", "line 2", "'ninety%'"]),
    (["epoch"], ["epoch/external_benchmark_helaswag.csv", "'helaswag'", "did you mean HellaSwag"]),
    (["empty_dir"], ["empty_dir", "no result files"]),
    (["results_dir_given_as_file.json"], ["results_dir_given_as_file.json", "no result files"]),
    (["tree_with_broken_file"], ["tree_with_broken_file/EleutherAI__pythia-160m/"
                                 "results_2024-05-01T11-00-00.000000.json", "not valid JSON"]),
    (["conflict_params", "--strict"], ["'Pythia-70M'", "conflicting parameter counts", "conflict_params/a.csv",
                           "conflict_params/b.csv"]),
    (["conflict_scores", "--strict"], ["'Pythia-70M'", "two different HellaSwag scores", "conflict_scores/a.csv",
                           "conflict_scores/b.csv"]),
    (["does_not_exist.csv"], ["does_not_exist.csv", "no such file or directory"]),
    (["../ingest/custom_layout.csv", "--map", "map_syntax_error.toml"], ["map_syntax_error.toml", "not valid TOML"]),
    (["../ingest/custom_layout.csv", "--map", "map_missing_column.toml"], ["custom_layout.csv", "'Nom du modele'",
                                                                           "not in the file"]),
    (["../ingest/custom_layout.csv", "--map", "map_unknown_target.toml"], ["map_unknown_target.toml", "'HelaSwag'",
                                                                           "did you mean HellaSwag"]),
    (["../ingest/custom_layout.csv", "--map", "map_is_dir.toml"], ["map_is_dir.toml", "is a directory"]),
    (["../ingest/wide_basic.csv", "--family-map", "family_map_bad_value.toml"], ["family_map_bad_value.toml",
                                                                                 "'pythia' = 3"]),
    (["../ingest/wide_basic.csv", "--params-unit", "kg"], ["--params-unit", "'kg'", "raw, M or B"]),
    (["../ingest/wide_basic.csv", "--units", "percents"], ["--units", "'percents'"]),
    (["../ingest/wide_basic.csv", "--col", "model"], ["--col", "ROLE=COLUMN", "'model'"]),
    (["../ingest/wide_basic.csv", "--col", "HelaSwag=HellaSwag"], ["--col", "'HelaSwag'", "did you mean HellaSwag"]),
]
FILE_CASES = [c for c in CASES if len([a for a in c[0] if a != "--strict"]) == 1 and c[0][0] != "does_not_exist.csv"]
#: problems confined to a row, cell or column: refused under --strict (above), dropped and listed by default;
#: file -> words of the dropped item's location and reason
LENIENT = {
    "ragged_row.csv": ["line 3", "has 6 fields"], "typo_benchmark_column.csv": ["column HelaSwag", "HellaSwag"],
    "long_typo_benchmark.csv": ["line 3", "TruthfullQA"], "nan_score.csv": ["line 3, column 'HellaSwag'", "'NaN'"],
    "text_score.csv": ["line 3, column 'HellaSwag'", "'high'"],
    "duplicate_model_conflict.csv": ["Pythia-70M", "the first row wins"],
    "negative_params.csv": ["line 2", "placeholder for unknown"], "absurd_params.csv": ["line 2", "absurd"],
    "params_text.csv": ["line 2", "seventy million"], "params_mixed_units.csv": ["line 3", "too small"],
    "fractions_mixed_with_percent.csv": ["line 3", "0.314"], "score_over_100.csv": ["line 2", "127.3"],
    "duplicate_header.csv": ["HellaSwag", "repeats the name"], "empty_model_name.csv": ["line 3", "no model name"],
    "bad_shots.csv": ["line 2", "'ten'"], "bad_is_base.csv": ["line 2", "'maybe'"],
    "leaderboard_v2_bad_params.csv": ["line 2", "'big'"], "conflict_params": ["Pythia-70M", "conflicting"],
    "conflict_scores": ["Pythia-70M", "the first row wins"],
}


def _hash_tree(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_corpus_is_large_enough():
    files = {a[0] for a, _ in CASES} | {a[2] for a, _ in CASES if len(a) > 2 and a[1] in ("--map", "--family-map")}
    assert len(CASES) >= 30 and len(files) >= 30


@pytest.mark.parametrize("args, words", FILE_CASES, ids=[c[0][0] for c in FILE_CASES])
def test_reader_error_names_the_place(args, words, monkeypatch):
    monkeypatch.chdir(BAD)
    with pytest.raises(CapeError) as e:
        read_any(args[0], strict="--strict" in args)
    msg = str(e.value)
    for w in words:
        assert w in msg, (w, msg)
    assert "\n" not in msg.strip()


@pytest.mark.parametrize("name", sorted(LENIENT))
def test_lenient_by_default_drops_only_the_bad_item(name, monkeypatch):
    """Without --strict the rest of the file is read and the bad item is listed with its place and reason."""
    monkeypatch.chdir(BAD)
    table, report = read_any(name)
    assert len(table) > 0
    texts = [f"{d.file}: {d.item}: {d.reason}" for d in report.dropped]
    assert any(all(w in t for w in LENIENT[name]) for t in texts), texts


_DRIVER = r"""
import contextlib, io, json, sys
from cape.cli import main
out = []
for args in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        rc = main(["ingest", *args])
    out.append({"rc": rc, "stderr": err.getvalue()})
print(json.dumps(out))
"""
#: cases also run each in its own fresh interpreter (one per kind of failure)
FRESH = ("truncated.json", "nan_score.csv", "binary_junk.csv", "tree_with_broken_file", "does_not_exist.csv",
         "conflict_scores", "latin1.csv", "lmeval_percent_scores.json")


def _check(args, words, rc, stderr, left) -> list[str]:
    err = stderr.strip()
    problems = []
    if rc == 0:
        problems.append("exit 0")
    if "Traceback" in stderr or "internal error" in stderr:
        problems.append("traceback/internal error")
    if len(err.splitlines()) != 1 or not err.startswith("error: "):
        problems.append("not one 'error:' line")
    problems += [f"missing {w!r}" for w in words if w not in err]
    if left != "sentinel,keep\n1,2\n":
        problems.append("-o overwritten")
    return [f"{' '.join(args)}: {problems}: {err!r}"] if problems else []


def test_cli_on_every_bad_input(tmp_path):
    """Every case through the command line in a subprocess: non-zero exit, one 'error:' line with the expected
    words, no traceback, inputs unchanged, the existing -o file untouched; a few in their own fresh process."""
    import json

    before = _hash_tree(BAD, GOOD)
    outs = []
    argv = []
    for i, (args, _) in enumerate(CASES):
        out = tmp_path / f"out{i}.csv"
        out.write_text("sentinel,keep\n1,2\n")
        outs.append(out)
        argv.append([*args, "-o", str(out)])
    p = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(argv)], cwd=BAD, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    failures = []
    for (args, words), r, out in zip(CASES, res, outs):
        failures += _check(args, words, r["rc"], r["stderr"], out.read_text())

    code = "import sys; from cape.cli import main; sys.exit(main(sys.argv[1:]))"
    fresh = [(i, c) for i, c in enumerate(CASES) if c[0][0] in FRESH]

    def run(i_case):
        i, (args, words) = i_case
        q = subprocess.run([sys.executable, "-c", code, "ingest", *args, "-o", str(outs[i])], cwd=BAD,
                           capture_output=True, text=True, timeout=120)
        return _check(args, words, q.returncode, q.stderr, outs[i].read_text())

    with ThreadPoolExecutor(max_workers=4) as ex:
        for f in ex.map(run, fresh):
            failures += f
    assert len(fresh) == len(FRESH)
    assert not failures, "\n".join(failures)
    assert _hash_tree(BAD, GOOD) == before
    assert not list(BAD.rglob(".*.csv.*")) and not list(tmp_path.glob(".out*"))  # no temporary files left


def test_output_path_checks(tmp_path, capsys):
    from cape.cli import main

    assert main(["ingest", str(GOOD / "wide_basic.csv"), "-o", str(tmp_path / "t.txt")]) == 2
    assert "-o must end in .csv, .json or .parquet" in capsys.readouterr().err
    assert main(["ingest", str(GOOD / "wide_basic.csv"), "-o", str(tmp_path)]) == 2
    assert "names a folder" in capsys.readouterr().err


def test_unreadable_file(tmp_path, monkeypatch):
    f = tmp_path / "scores.csv"
    f.write_text("model,HellaSwag\nPythia-70M,27.3\n")
    real = Path.read_bytes

    def deny(self):
        if self.name == "scores.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(DataError, match=r"scores.csv: cannot be read \(permission denied\)"):
        read_any(f)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_chmod(tmp_path):
    f = tmp_path / "scores.csv"
    f.write_text("model,HellaSwag\nPythia-70M,27.3\n")
    f.chmod(0)
    try:
        with pytest.raises(DataError, match="permission denied"):
            read_any(f)
    finally:
        f.chmod(0o644)


def test_directory_given_where_a_file_is_expected(tmp_path):
    from cape.ingest.common import read_bytes

    with pytest.raises(DataError, match="is a directory where a file was expected"):
        read_bytes(tmp_path)


def test_keep_going_still_fails_when_nothing_is_left(monkeypatch):
    monkeypatch.chdir(BAD)
    with pytest.raises(DataError, match="no scores read from"):
        read_any(["empty.csv", "truncated.json"], keep_going=True)


def test_samples_jsonl_named_explicitly(capsys):
    from cape.cli import main

    f = next((GOOD / "lmeval").rglob("samples_*.jsonl"))
    assert main(["ingest", str(f)]) == 2
    assert "is a JSON Lines file" in capsys.readouterr().err
