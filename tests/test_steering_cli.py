"""``cape steer train / generate / eval`` on a tiny model saved to disk: JSON output, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import tiny_model  # noqa: E402

from cape.cli import main  # noqa: E402


def _save(tmp_path_factory, arch: str, seed: int):
    d = tmp_path_factory.mktemp(f"{arch}-{seed}")
    model, tok = tiny_model(arch, seed=seed)
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return _save(tmp_path_factory, "llama", 0)


@pytest.fixture(scope="module")
def other_dir(tmp_path_factory):
    return _save(tmp_path_factory, "llama", 1)


@pytest.fixture(scope="module")
def vector(model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("vec") / "v.safetensors"
    assert main(["steer", "train", str(model_dir), "-o", str(out), "--layers", "auto", "--json"]) == 0
    return out


def _run(capsys, args):
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_train_writes_a_vector_and_reports_both_layers(model_dir, tmp_path, capsys):
    out = tmp_path / "t.safetensors"
    rc, stdout, _ = _run(capsys, ["steer", "train", str(model_dir), "-o", str(out), "--layers", "auto", "--json"])
    assert rc == 0 and out.is_file()
    d = json.loads(stdout)
    prov = d["provenance"]
    assert prov["quarter_layer"] == 0 and prov["best_layer"] in (0, 1)
    assert d["layers"] == [prov["best_layer"]] and len(prov["sweep"]) == 2
    assert prov["file_hash"].startswith("sha256:") and prov["model_id"] == str(model_dir)
    rc, stdout, _ = _run(capsys, ["steer", "train", str(model_dir), "-o", str(out), "--layers", "1", "--method", "pca"])
    assert rc == 0 and "wrote" in stdout


def test_generate_side_by_side(model_dir, vector, capsys):
    args = ["steer", "generate", str(model_dir), "--vector", str(vector), "-p", "Lightning can", "-p", "Goldfish",
            "--max-new-tokens", "5", "--json"]
    rc, stdout, _ = _run(capsys, args + ["--strength", "0"])
    assert rc == 0
    d = json.loads(stdout)
    assert [g["changed"] for g in d["generations"]] == [False, False]
    assert d["decoding"] == "greedy"
    rc, stdout, _ = _run(capsys, args + ["--strength", "4", "--positions", "generated"])
    assert rc == 0 and any(g["changed"] for g in json.loads(stdout)["generations"])
    rc, stdout, _ = _run(capsys, args[:-1])  # the table view
    assert rc == 0 and "unsteered" in stdout


def test_eval_json_and_failing_gate(model_dir, vector, tmp_path, capsys):
    md = tmp_path / "eval.md"
    base = ["steer", "eval", str(model_dir), "--vector", str(vector), "--n-items", "8", "--n-prompts", "3",
            "--max-new-tokens", "4", "--n-boot", "200"]
    rc, stdout, _ = _run(capsys, base + ["--strength", "1", "--sweep-strengths", "0.5,1", "--json",
                                         "--markdown", str(md)])
    assert rc == 0
    d = json.loads(stdout)
    assert d["mc"]["n"] == 8 and d["n_prompts"] == 3 and 0 <= d["intervention_rate"] <= 1
    assert {(c["layer"], c["strength"]) for c in d["sweep"]} == {(0, 0.5), (0, 1.0), (1, 0.5), (1, 1.0)}
    assert d["quarter_layer"] == 0
    assert "Intervention rate" in md.read_text()
    # zero strength: no change at all, and the gate fails (exit 1)
    rc, stdout, _ = _run(capsys, base + ["--strength", "0", "--sweep-layers", "none", "--json", "--fail-if-no-gain"])
    assert rc == 1
    d = json.loads(stdout)
    assert d["intervention_rate"] == 0.0 and d["mc"]["margin_diff"] == 0.0 and d["sweep"] == []


def test_errors_are_one_line(model_dir, other_dir, vector, tmp_path, capsys):
    rc, _, err = _run(capsys, ["steer", "eval", str(model_dir), "--vector", str(tmp_path / "none.safetensors")])
    assert rc == 3 and err.startswith("error:") and err.count("\n") == 1
    rc, _, err = _run(capsys, ["steer", "generate", str(other_dir), "--vector", str(vector), "-p", "x"])
    assert rc == 2 and "trained on another model" in err and "--force" in err and err.count("\n") == 1
    rc, _, _ = _run(capsys, ["steer", "generate", str(other_dir), "--vector", str(vector), "-p", "x", "--force",
                             "--max-new-tokens", "2", "--json"])
    assert rc == 0
    rc, _, err = _run(capsys, ["steer", "generate", str(model_dir), "--vector", str(vector), "-p", "x", "--layer", "9"])
    assert rc == 2 and "out of range" in err
    rc, _, err = _run(capsys, ["steer", "generate", str(model_dir), "--vector", str(vector)])
    assert rc == 2 and "--prompt" in err
    rc, _, err = _run(capsys, ["steer", "train", str(model_dir), "-o", str(tmp_path / "v.pt")])
    assert rc == 2 and ".safetensors" in err
    rc, _, err = _run(capsys, ["steer", "train", str(tmp_path / "no-model"), "-o", str(tmp_path / "v.safetensors")])
    assert rc != 0 and err.startswith("error:") and not (tmp_path / "v.safetensors").exists()


def test_help_is_fast_and_imports_no_torch():
    code = ("import sys; from cape.cli import main; rc = main(['steer', '--help']); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'; sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    for cmd in ("train", "generate", "eval"):
        assert cmd in res.stdout


def test_eval_output_folder_is_read_by_the_dashboard(model_dir, vector, tmp_path, capsys):
    out = tmp_path / "results"
    rc, _, _ = _run(capsys, ["steer", "eval", str(model_dir), "--vector", str(vector), "--n-items", "6",
                             "--n-prompts", "0", "--n-boot", "100", "--sweep-layers", "none", "--strength", "1",
                             "-o", str(out)])
    assert rc == 0
    files = list(out.glob("*.steer_eval.json"))
    assert len(files) == 1
    d = json.loads(files[0].read_text())
    assert d["kind"] == "steer_eval" and d["mc"]["n"] == 6
    pytest.importorskip("streamlit")
    from cape.dashboard.views._library import internals_folder

    found = internals_folder(str(out))
    assert len(found["steering"]) == 1 and not found["errors"]
