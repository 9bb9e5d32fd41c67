"""`cape data` and the CLI's error handling."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from cape import data
from cape.cli import main

def test_data_list_json_counts(capsys):
    assert main(["data", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["datasets"]}
    base = data.load_base()
    assert rows["base"]["models"] == base.n_models == len(base.model_frame())
    assert rows["frontier"]["models"] == data.load_frontier().n_models
    assert {"pythia8", "boot14", "frontier34"} <= set(rows)
    assert rows["pythia8"]["rows"] == 8


def test_data_show_family_json(capsys):
    assert main(["data", "show", "pythia", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["family"] == "Pythia"
    ms = [m["model"] for m in out["models"]]
    assert len(ms) == 8 and ms[0] == "Pythia-70M"
    assert [m["params"] for m in out["models"]] == sorted(m["params"] for m in out["models"])


def test_data_export_csv_and_json(tmp_path):
    out = tmp_path / "base.csv"
    assert main(["data", "export", "base", "-o", str(out), "--wide"]) == 0
    df = pd.read_csv(out)
    assert len(df) == data.load_base().n_models
    j = tmp_path / "p8.json"
    assert main(["data", "export", "pythia8", "-o", str(j)]) == 0
    assert len(json.loads(j.read_text())) == 8
    pq = tmp_path / "base.parquet"
    assert main(["data", "export", "base", "-o", str(pq)]) == 0
    assert pq.read_bytes()[:4] == b"PAR1"  # the extension decides the format
    pd.testing.assert_frame_equal(pd.read_parquet(pq), data.load_base().long.reset_index(drop=True),
                                  check_dtype=False)
    assert main(["data", "export", "base", "-o", str(tmp_path / "base.xlsx")]) == 2
    assert not (tmp_path / "base.xlsx").exists()


def test_unknown_family_is_one_line_error_nonzero_exit(capsys):
    assert main(["data", "show", "Pythai"]) == 3
    err = capsys.readouterr().err
    assert err.strip().startswith("error: ") and "did you mean Pythia" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_usage_error_exit_code(capsys):
    assert main(["data", "show"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_help_does_not_import_heavy_modules():
    code = ("import sys; from cape.cli import main; main(['--help']); "
            "bad = [m for m in ('pandas', 'torch', 'matplotlib', 'scipy', 'pysindy', 'transformers', 'streamlit') "
            "if m in sys.modules]; print('HEAVY', bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in r.stdout, r.stdout[-500:] + r.stderr[-500:]
