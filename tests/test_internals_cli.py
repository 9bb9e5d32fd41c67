"""``cape heads`` / ``cape layers``: JSON output, result files with provenance, resume, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import tiny_model  # noqa: E402

from cape.cli import main  # noqa: E402

FAST = ["--max-items", "6", "--n-boot", "20", "--n-perm", "20"]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    out = {}
    for arch in ("llama", "gpt2"):
        model, tok = tiny_model(arch)
        model.save_pretrained(root / arch)
        tok.save_pretrained(root / arch)
        out[arch] = root / arch
    bad = root / "mamba"
    model, tok = tiny_model("llama")
    model.save_pretrained(bad)
    tok.save_pretrained(bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["model_type"] = "mamba"
    (bad / "config.json").write_text(json.dumps(cfg))
    out["mamba"] = bad
    return out


def test_heads_json_files_and_resume(model_dirs, tmp_path, capsys):
    out = tmp_path / "res"
    specs = [str(model_dirs["llama"]), str(model_dirs["gpt2"])]
    assert main(["heads", *specs, "--json", "-o", str(out), *FAST]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["results"]) == 2
    first = payload["results"][0]
    assert first["n_layers"] == 2 and first["n_heads"] == 4 and len(first["cosine"]) == 2
    prov = first["provenance"]
    assert prov["model_id"] == specs[0] and prov["file_hash"].startswith("sha256:")
    assert prov["seed"] == 0 and prov["dtype"] == "float32"
    assert prov["prompt_sets"]["reasoning"]["hash"].startswith("sha256:")
    assert {"torch", "transformers", "numpy", "python"} <= set(prov["versions"])
    assert {"zero_competing", "all_cooperative", "pct_cooperative", "n_competing"} <= set(first["summary"])
    jsons = sorted(out.glob("*.heads.json"))
    parquets = sorted(out.glob("*.heads.parquet"))
    assert len(jsons) == 2 and len(parquets) == 2
    table = pd.read_parquet(parquets[0])
    assert len(table) == 8 and {"layer", "head", "cosine", "competing"} <= set(table.columns)
    stamp = [p.stat().st_mtime_ns for p in jsons]

    assert main(["heads", *specs, "-o", str(out), *FAST]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("already done") == 2
    assert [p.stat().st_mtime_ns for p in jsons] == stamp

    assert main(["heads", specs[0], "-o", str(out), "--seed", "1", *FAST]) == 0  # new settings: recomputed
    assert "already done" not in capsys.readouterr().err


def test_paper_measure_and_table(model_dirs, capsys):
    assert main(["heads", str(model_dirs["llama"]), "--measure", "paper", *FAST]) == 0
    out = capsys.readouterr().out
    assert "Per-head coupling" in out and "measure=paper" in out


def test_layers_json(model_dirs, tmp_path, capsys):
    out = tmp_path / "lay"
    assert main(["layers", str(model_dirs["gpt2"]), "--json", "-o", str(out), "--drep-boot", "5", *FAST]) == 0
    payload = json.loads(capsys.readouterr().out)["results"][0]
    assert set(payload["layer_coupling"]) == {"contrast", "paper"}
    assert set(payload["bottleneck"]["paper"]) >= {"hidden", "logits", "gelu_hidden", "pca_sweep"}
    assert len(payload["d_rep"]["per_layer"]) == 2
    assert len(list(out.glob("*.layers.json"))) == 1 and len(list(out.glob("*.layers.parquet"))) == 1


def test_errors_are_one_sentence(model_dirs, capsys):
    assert main(["heads", str(model_dirs["mamba"]), *FAST]) != 0
    err = capsys.readouterr().err
    assert "'mamba' is not supported" in err and "Traceback" not in err
    assert main(["heads", str(model_dirs["llama"]), "--measure", "bogus"]) != 0
    assert "--measure must be one of" in capsys.readouterr().err
    assert main(["layers", "/definitely/not/here"]) != 0
    assert "no such file or directory" in capsys.readouterr().err


def test_command_module_does_not_import_torch():
    code = "import sys, cape.commands.internals; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
