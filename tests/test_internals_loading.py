"""Model loading: local directories, dtype, clear errors, remote code off by default."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import tiny_model  # noqa: E402

from cape.errors import CapeError  # noqa: E402
from cape.internals.loading import ModelLoadError, load_model, resolve_spec  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_llama")
    model, tok = tiny_model("llama")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_load_local_directory(tiny_dir):
    lm = load_model(tiny_dir)
    assert lm.model_type == "llama" and not lm.model.training
    assert lm.dtype == "float32" and lm.device == "cpu"
    assert lm.file_hash.startswith("sha256:") and lm.revision is None
    assert lm.model_id == str(tiny_dir)
    assert lm.weight_bytes() > 0 and lm.n_params > 0
    assert load_model(tiny_dir).file_hash == lm.file_hash
    ref, _ = tiny_model("llama")
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, ref(ids).logits)
    prov = lm.provenance()
    assert prov["model_type"] == "llama" and prov["file_hash"] == lm.file_hash


def test_dtype_option(tiny_dir):
    lm = load_model(tiny_dir, dtype="bfloat16")
    assert lm.dtype == "bfloat16"
    assert next(lm.model.parameters()).dtype == torch.bfloat16
    with pytest.raises(ModelLoadError, match="dtype 'int3'"):
        load_model(tiny_dir, dtype="int3")


def test_remote_code_is_off_unless_asked(tiny_dir, monkeypatch):
    import transformers

    seen = []
    real = transformers.AutoModelForCausalLM.from_pretrained

    def spy(*args, **kwargs):
        seen.append(kwargs.get("trust_remote_code"))
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", spy)
    load_model(tiny_dir)
    load_model(tiny_dir, trust_remote_code=True)
    assert seen == [False, True]


def test_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelLoadError, match="no such file or directory"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="neither a config.json nor a .gguf"):
        load_model(tmp_path / "empty")
    two = tmp_path / "two"
    two.mkdir()
    (two / "a.gguf").write_bytes(b"x")
    (two / "b.gguf").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="several GGUF files"):
        load_model(two)
    assert resolve_spec(two, "a.gguf")[1] == "a.gguf"
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="must be a .gguf file"):
        load_model(tmp_path / "w.bin")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="cape-no-such-org/no-such-model") as err:
        load_model("cape-no-such-org/no-such-model")
    assert isinstance(err.value, CapeError)


def test_device_map_through_accelerate(tiny_dir):
    pytest.importorskip("accelerate")
    from cape.internals.hooks import capture

    lm = load_model(tiny_dir, device_map="auto")
    assert lm.device == "cpu"
    acts = capture(lm.model, lm.tokenizer, ["Water boils at one hundred degrees."], logits=True)
    assert acts.heads.shape == (1, 2, 4, 8) and acts.logits.shape[0] == 1


def _pickle_checkpoint(model, tok, path):
    """A checkpoint folder whose weights exist only as ``pytorch_model.bin`` (as older hub repos ship)."""
    model.save_pretrained(path)
    tok.save_pretrained(path)
    for f in path.glob("*.safetensors"):
        f.unlink()
    torch.save(model.state_dict(), path / "pytorch_model.bin")
    return path


def test_pickle_only_checkpoints_are_refused_unless_allowed(tiny_dir, tmp_path):
    import shutil
    import time

    model, tok = tiny_model("llama")
    pkl = _pickle_checkpoint(model, tok, tmp_path / "pkl")
    assert not list(pkl.glob("*.safetensors")) and list(pkl.glob("*.bin"))
    with pytest.raises(ModelLoadError, match=r"only in pickle format \(pytorch_model\.bin\).*--allow-pickle-weights"):
        load_model(pkl)
    lm = load_model(pkl, allow_pickle_weights=True)
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, model(ids).logits)
    # a folder holding both formats is read from safetensors
    both = tmp_path / "both"
    shutil.copytree(tiny_dir, both)
    shutil.copy(pkl / "pytorch_model.bin", both / "pytorch_model.bin")
    assert load_model(both).n_params == lm.n_params
    # a mistyped local path fails at once, with no hub lookup
    t0 = time.perf_counter()
    for spec in ("./no-such-dir", "models/nope/x", "weights.safetensors", "a b"):
        with pytest.raises(ModelLoadError, match="no such file or directory"):
            load_model(spec)
    assert time.perf_counter() - t0 < 5


def test_cli_names_the_pickle_option(tmp_path, capsys):
    from cape.cli import main

    model, tok = tiny_model("llama")
    pkl = _pickle_checkpoint(model, tok, tmp_path / "pkl")
    assert main(["heads", str(pkl), "--json"]) != 0
    err = capsys.readouterr().err
    assert "--allow-pickle-weights" in err and "weights_only" not in err and "Traceback" not in err


def test_plain_fast_tokenizer_is_read_directly_and_equals_the_auto_class(tiny_dir, tmp_path):
    """A folder whose tokenizer_config names the plain fast tokenizer class is read by that class directly
    (skipping AutoTokenizer's imports); the tokenizer is the one AutoTokenizer gives: same class, ids, special
    tokens. A folder naming another class goes through AutoTokenizer."""
    import json
    import shutil

    from transformers import AutoTokenizer

    from cape.internals.loading import _plain_fast_tokenizer

    assert _plain_fast_tokenizer(str(tiny_dir))
    got = load_model(tiny_dir).tokenizer
    ref = AutoTokenizer.from_pretrained(tiny_dir)
    assert type(got) is type(ref)
    texts = ["Is the earth flat?", "The capital of France is Paris.", ""]
    assert got(texts)["input_ids"] == ref(texts)["input_ids"]
    assert (got.eos_token, got.pad_token, got.bos_token) == (ref.eos_token, ref.pad_token, ref.bos_token)
    other = tmp_path / "other"
    shutil.copytree(tiny_dir, other)
    cfg = json.loads((other / "tokenizer_config.json").read_text())
    cfg["tokenizer_class"] = "GPT2Tokenizer"
    (other / "tokenizer_config.json").write_text(json.dumps(cfg))
    assert not _plain_fast_tokenizer(str(other))
    (other / "tokenizer_config.json").write_text("[1, 2]")
    assert not _plain_fast_tokenizer(str(other))
    assert not _plain_fast_tokenizer(str(tmp_path / "missing"))
