"""The cache of dequantised GGUF models: stored once keyed on the file's hash, used instead of the GGUF file,
size-checked, listed and cleared (``cape cache``)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")

from _models import tiny_model  # noqa: E402

from cape.cli import main  # noqa: E402
from cape.internals import cache  # noqa: E402
from cape.internals.loading import file_fingerprint, load_model  # noqa: E402


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("CAPE_CACHE_DIR", str(root))
    monkeypatch.delenv("CAPE_NO_CACHE", raising=False)
    return root


@pytest.fixture
def fake_gguf(tmp_path):
    """A file that is not a readable GGUF: a load that reaches the GGUF parser fails."""
    d = tmp_path / "m"
    d.mkdir()
    path = d / "tiny.Q4_0.gguf"
    path.write_bytes(b"GGUF-not-really" * 100)
    return path


def test_cache_root_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("CAPE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "cape"


def test_second_load_reads_the_cached_safetensors(cache_dir, fake_gguf):
    model, tok = tiny_model("llama")
    h = file_fingerprint([fake_gguf])
    entry = cache.gguf_entry(h, "float32")
    assert cache.store_entry(entry, model, tok, source=str(fake_gguf), file_hash=h, dtype="float32") is None
    assert cache.cached_entry(entry)
    lm = load_model(fake_gguf)  # the fake file is never parsed: the cache answers
    assert lm.file_hash == h and lm.model_id == str(fake_gguf)
    ids = tok("hello world", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, model(ids).logits, rtol=0, atol=0)
    with pytest.raises(Exception):  # without the cache the same file must go through the GGUF reader
        load_model(fake_gguf, cache=False)


def test_truncated_entry_is_not_used(cache_dir, fake_gguf):
    model, tok = tiny_model("llama")
    h = file_fingerprint([fake_gguf])
    entry = cache.gguf_entry(h, "float32")
    cache.store_entry(entry, model, tok, source=str(fake_gguf), file_hash=h, dtype="float32")
    weights = entry / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    assert not cache.cached_entry(entry)


def test_tied_output_layer_stored_as_the_embedding(cache_dir, fake_gguf, monkeypatch):
    """A tied output layer is stored once, under the input embedding's name, so loading ties it without first
    filling a vocabulary-sized matrix with random numbers."""
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM

    from _models import tiny_config, tiny_tokenizer

    config = tiny_config("llama")
    config.tie_word_embeddings = True
    model, tok = AutoModelForCausalLM.from_config(config).eval(), tiny_tokenizer()
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    h = file_fingerprint([fake_gguf])
    entry = cache.gguf_entry(h, "float32")
    assert cache.store_entry(entry, model, tok, source=str(fake_gguf), file_hash=h, dtype="float32") is None
    with safe_open(str(entry / "model.safetensors"), "pt") as fh:
        keys = set(fh.keys())
    assert "model.embed_tokens.weight" in keys and "lm_head.weight" not in keys
    assert len(keys) == len({p.data_ptr() for p in model.parameters()})
    initialised = []
    normal = torch.nn.init.normal_

    def spy(*args, **kw):  # record random fills of real tensors (the model is first built on the meta device)
        tensor = args[0] if args else kw["tensor"]
        if tensor.device.type != "meta":
            initialised.append(tuple(tensor.shape))
        return normal(*args, **kw)

    monkeypatch.setattr(torch.nn.init, "normal_", spy)
    lm = load_model(fake_gguf)
    assert initialised == []  # every weight came from the file
    assert lm.model.lm_head.weight.data_ptr() == lm.model.model.embed_tokens.weight.data_ptr()
    ids = tok("hello world", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, model(ids).logits, rtol=0, atol=0)


def test_entry_of_an_older_layout_is_rebuilt(cache_dir, fake_gguf):
    model, tok = tiny_model("llama")
    h = file_fingerprint([fake_gguf])
    entry = cache.gguf_entry(h, "float32")
    cache.store_entry(entry, model, tok, source=str(fake_gguf), file_hash=h, dtype="float32")
    meta = json.loads((entry / "cape-cache.json").read_text())
    del meta["layout"]  # as written before tied tensors were stored under the embedding's name
    (entry / "cape-cache.json").write_text(json.dumps(meta))
    assert not cache.cached_entry(entry)
    assert [e["current"] for e in cache.cache_entries()] == [False]  # listed (it takes disk space), marked old
    assert main(["cache", "info"]) == 0


def test_cache_limit_refuses_to_store(cache_dir, fake_gguf, monkeypatch):
    monkeypatch.setenv("CAPE_CACHE_MAX", "1K")
    model, tok = tiny_model("llama")
    entry = cache.gguf_entry("sha256:00", "float32")
    why = cache.store_entry(entry, model, tok, source="x", file_hash="sha256:00", dtype="float32")
    assert why is not None and "CAPE_CACHE_MAX" in why
    assert not entry.exists()


def test_cli_info_and_clear(cache_dir, capsys):
    model, tok = tiny_model("gpt2")
    entry = cache.gguf_entry("sha256:ab12", "float32")
    cache.store_entry(entry, model, tok, source="/models/x.gguf", file_hash="sha256:ab12", dtype="float32")
    assert main(["cache", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [e["source"] for e in info["entries"]] == ["/models/x.gguf"] and info["bytes"] > 0
    assert [e["current"] for e in info["entries"]] == [True]
    assert main(["cache", "clear", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["removed"] == 1 and out["bytes_freed"] == info["bytes"]
    assert not entry.exists() and cache.cache_entries() == []
