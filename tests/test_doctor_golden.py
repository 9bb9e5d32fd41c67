"""``cape doctor --json`` and the doctor's text summary pinned on a few cases (base, described, frontier named and
described, a model without neighbours, a user file with a flip), so a change in the result types cannot change
what users see.

The expected files in ``tests/data/doctor/`` were written by this module's ``__main__`` from the code before the
result types became dataclasses; rewrite them (``python tests/test_doctor_golden.py``) only for a behaviour change
named in the commit. Floats are compared to 1e-9 relative (BLAS may differ in the last bits between machines).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cape.cli import main

HERE = Path(__file__).parent / "data" / "doctor"

CASES: dict[str, list[str]] = {
    "pythia_1b": ["Pythia-1B"],
    "described_base": ["--family", "Pythia", "--params", "1e9", "--score", "HellaSwag=49.7",
                       "--score", "TruthfulQA=38.9", "--d-model", "1024"],
    "frontier_named": ["o3"],
    "frontier_described": ["--score", "SWE=80", "--score", "GPQA=85", "--lab", "Anthropic", "--name", "Claude X"],
    "no_neighbours": ["Mistral-7B"],
    "near_zero": ["Pythia-2.8B", "--config", "{near}"],
    "user_file_flip": ["Synth-3", "--data", "{synth}"],
}


def _files(tmp: Path) -> dict[str, str]:
    """The config and score files the cases name (written fresh: a synthetic family flipping near 3B)."""
    cfg = tmp / "fast.toml"
    cfg.write_text("n_boot = 300\n")
    near = tmp / "near.toml"
    near.write_text("n_boot = 300\nnear_zero = 0.5\n")
    tqa = [45.0]
    for g in (-0.5, -0.5, -0.3, 0.3, 0.5, 0.5):
        tqa.append(tqa[-1] + g * 8)
    synth = tmp / "synth.csv"
    pd.DataFrame({"model": [f"Synth-{i}" for i in range(7)], "family": "Synth",
                  "params": [1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11], "HellaSwag": np.arange(30, 80, 8.0),
                  "TruthfulQA": tqa, "recipe": "web"}).to_csv(synth, index=False)
    return {"cfg": str(cfg), "near": str(near), "synth": str(synth)}


def _argv(case: str, files: dict[str, str]) -> list[str]:
    args = [a.format(**files) for a in CASES[case]]
    if "--config" not in args:
        args += ["--config", files["cfg"]]
    return ["doctor", *args]


def _run_json(case: str, files: dict[str, str], capsys) -> dict:
    assert main([*_argv(case, files), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _close(a, b, path: str = "$") -> list[str]:
    """Differences between two parsed JSON values (floats to 1e-9 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{path}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]


def _paths_free(obj):
    """The JSON with the temporary file names replaced (they differ per run)."""
    if isinstance(obj, dict):
        return {k: _paths_free(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_paths_free(v) for v in obj]
    if isinstance(obj, str) and ("synth.csv" in obj or ".toml" in obj):
        import re

        return re.sub(r"\S*[/\\](synth\.csv|\w+\.toml)", r"\1", obj)
    return obj


@pytest.mark.parametrize("case", sorted(CASES))
def test_doctor_json_unchanged(case, tmp_path, capsys):
    got = _paths_free(_run_json(case, _files(tmp_path), capsys))
    want = json.loads((HERE / f"{case}.json").read_text(encoding="utf-8"))
    diffs = _close(got, want)
    assert not diffs, "\n".join(diffs[:20])


SUMMARY_CASES = ("pythia_1b", "frontier_described", "user_file_flip")


def _summary(case: str, files: dict[str, str]) -> str:
    """The case's diagnosis through the Python API, as the text :meth:`DoctorResult.summary` gives."""
    from cape.doctor import DoctorConfig, diagnose_model, parse_scores
    from cape.ingest import read_any

    argv = _argv(case, files)[1:]
    kw: dict = {"config": DoctorConfig.from_toml(files["cfg"])}
    model, scores, i = None, [], 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--"):
            model, i = a, i + 1
            continue
        v = argv[i + 1]
        if a == "--score":
            scores.append(v)
        elif a == "--data":
            kw["table"] = read_any(v)[0]
        elif a != "--config":
            kw[{"--lab": "lab", "--name": "name", "--family": "family"}[a]] = v
        i += 2
    return _paths_free(diagnose_model(model, scores=parse_scores(scores), **kw).summary())


@pytest.mark.parametrize("case", SUMMARY_CASES)
def test_doctor_summary_unchanged(case, tmp_path):
    want = (HERE / f"{case}.txt").read_text(encoding="utf-8")
    assert _summary(case, _files(tmp_path)) == want


if __name__ == "__main__":  # rewrite the expected files (only for a named behaviour change)
    import tempfile

    class _Cap:
        def readouterr(self):
            out = sys.stdout.getvalue()
            sys.stdout.seek(0)
            sys.stdout.truncate()
            return type("R", (), {"out": out})

    import io

    with tempfile.TemporaryDirectory() as td:
        files = _files(Path(td))
        HERE.mkdir(parents=True, exist_ok=True)
        real = sys.stdout
        for name in CASES:
            sys.stdout = io.StringIO()
            try:
                got = _paths_free(_run_json(name, files, _Cap()))
            finally:
                sys.stdout = real
            (HERE / f"{name}.json").write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
            print("wrote", name)
        for name in SUMMARY_CASES:
            (HERE / f"{name}.txt").write_text(_summary(name, files), encoding="utf-8")
