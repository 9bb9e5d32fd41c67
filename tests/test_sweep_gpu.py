"""GPU readiness without a GPU: device and dtype choices, batch size from free memory, device_map decisions, and
the CPU path of ``benchmarks/gpu_check.py`` (so CI keeps the GPU check working)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")

from cape.internals import gpu  # noqa: E402


def test_cpu_defaults():
    import torch

    assert gpu.resolve_device("cpu") == "cpu" and gpu.resolve_device("cuda:1") == "cuda:1"
    assert gpu.resolve_device("auto") == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert gpu.default_dtype("cpu") == "float32"
    assert gpu.free_memory("cpu") is None
    assert gpu.needs_device_map(70_000_000_000, "bfloat16", "cpu") is False


def test_auto_batch_size_from_free_memory():
    # 7B Llama shape, 128 tokens, bf16: 128 * (4*4096 + 2*11008) * 2 + 4 * 32 * 128**2 = 11_927_552 bytes per text
    per_text = 128 * (4 * 4096 + 2 * 11008) * 2 + 4 * 32 * 128 * 128
    assert per_text == 11_927_552
    kw = dict(hidden=4096, intermediate=11008, n_heads=32, max_length=128, dtype_bytes=2)
    assert gpu.auto_batch_size(**kw, free_bytes=10 * per_text) == 5  # half the free memory
    assert gpu.auto_batch_size(**kw, free_bytes=80 * 2**30) == 256  # capped
    assert gpu.auto_batch_size(**kw, free_bytes=1000) == 1
    assert gpu.auto_batch_size(**kw, free_bytes=None) == 16  # CPU default


def test_device_map_when_weights_exceed_free_memory(monkeypatch):
    monkeypatch.setattr(gpu, "free_memory", lambda device: 40 * 2**30)
    assert gpu.needs_device_map(70_000_000_000, "bfloat16", "cuda:0")  # 140 GB > 0.85 * 40 GiB
    assert not gpu.needs_device_map(7_000_000_000, "bfloat16", "cuda:0")  # 14 GB fits


def test_param_count_from_config_without_memory():
    from transformers import LlamaConfig

    cfg = LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      vocab_size=32000)
    assert gpu.estimate_param_count(cfg) == 6_738_415_616  # Llama-2-7B's parameter count


def test_gpu_check_cpu_path():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    args = mod.argparse.Namespace(tiny=True, model=None, items=10, device="cpu", dtype=None, batch_size=4,
                                  max_length=64, threads=1, json=True)
    res = mod.run(args)
    assert res["items"] == 10 and res["texts"] == 20 and res["device"] == "cpu" and res["dtype"] == "float32"
    assert res["heads_shape"] == [5, 4, 4, 16]  # 5 reasoning items x 4 layers x 4 heads x head_dim 16
    assert res["capture_s"] > 0 and res["forward_only_s"] > 0 and res["tokens"] > 20
