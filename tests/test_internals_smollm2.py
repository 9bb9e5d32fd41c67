"""End to end on the real SmolLM2-135M (30 layers x 9 heads): one capture, every analysis, real numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import smollm2, smollm2_gguf  # noqa: E402

pytestmark = pytest.mark.model

N_ITEMS = 40


@pytest.fixture(scope="module")
def captured():
    from cape.internals.analysis import prepare_prompt_sets
    from cape.internals.hooks import capture_contrast

    lm = smollm2()
    r, t, info = prepare_prompt_sets(max_items=N_ITEMS)
    acts = capture_contrast(lm.model, lm.tokenizer, r, t, heads=True, residual=True, final=True, logits=True)
    return lm, acts, info


def test_heads_on_smollm2(captured):
    from cape.internals.heads import head_coupling

    lm, acts, _ = captured  # its speed is measured by benchmarks/bench_heads.py, not here
    assert acts.r_pos.heads.shape == (N_ITEMS, 30, 9, 64)
    contrast = head_coupling(acts, measure="contrast", n_boot=200, n_perm=200, seed=0)
    paper = head_coupling(acts, measure="paper", n_boot=200, n_perm=200, seed=0)
    for res in (contrast, paper):
        assert res.cosine.shape == (30, 9) and np.isfinite(res.cosine).all()
        assert res.warnings == ()  # the per-layer profile is not constant
        assert np.ptp(res.per_layer) > 0.01
        json.dumps(res.to_dict(), allow_nan=False)
    # raw mean outputs share a large common component, so the paper's measure is strongly positive;
    # the contrast directions are far less aligned
    assert paper.median_cosine > 0.5
    assert paper.median_cosine > contrast.median_cosine + 0.3
    again = head_coupling(acts, measure="contrast", n_boot=200, n_perm=200, seed=0)
    np.testing.assert_array_equal(again.stats.ci_low, contrast.stats.ci_low)
    np.testing.assert_array_equal(again.stats.p_lower, contrast.stats.p_lower)


def _mapped_weights_resident(model) -> int:
    """Bytes of this process's resident pages in the file mappings that hold the model's parameters."""
    import re
    from pathlib import Path

    ptrs = [p.data_ptr() for p in model.parameters()]
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
        if head:
            lo, hi = int(head[1], 16), int(head[2], 16)
            inside = "/" in line and any(lo <= x < hi for x in ptrs)
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1]) * 1024
    return total


def test_layer_major_heads_identical_and_weights_released(captured):
    """The heads capture runs block by block: the same activations bit for bit, and the memory-mapped weights
    are no longer resident in the process afterwards."""
    from cape.internals.analysis import prepare_prompt_sets
    from cape.internals.hooks import capture_contrast
    from cape.internals.streaming import file_backed_ranges

    lm, acts, _ = captured
    if not any(lo <= lm.model.model.layers[0].mlp.up_proj.weight.data_ptr() < hi for lo, hi in file_backed_ranges()):
        pytest.skip("the weights are not memory-mapped here")
    r, t, _ = prepare_prompt_sets(max_items=N_ITEMS)
    lean = capture_contrast(lm.model, lm.tokenizer, r, t, heads=True, residual=False, final=False)
    for full, part in zip(acts.parts(), lean.parts()):
        assert np.array_equal(full.heads, part.heads)
    assert _mapped_weights_resident(lm.model) < 0.05 * lm.weight_bytes()


def test_layers_bottleneck_and_drep_on_smollm2(captured):
    from cape.internals.bottleneck import projection_bottleneck
    from cape.internals.layers import layer_coupling, rep_dimensionality

    lm, acts, _ = captured
    for measure in ("contrast", "paper"):
        lc = layer_coupling(acts, measure=measure, n_boot=100, n_perm=100)
        assert lc.per_layer.shape == (30,) and np.isfinite(lc.per_layer).all()
        assert np.ptp(lc.per_layer) > 1e-3
        b = projection_bottleneck(acts, measure=measure, n_boot=100, n_perm=100)
        assert b.vocab_size == 49152 and b.hidden_size == 576
        assert all(np.isfinite([b.hidden, b.logits, b.gelu_hidden]))
        assert b.pca_cosine[-1] == pytest.approx(b.hidden, abs=1e-6)
    d = rep_dimensionality(acts, n_boot=20)
    assert d.per_layer.shape == (30,) and np.all(d.per_layer >= 1) and np.ptp(d.per_layer) > 1


def test_provenance_names_the_gguf_file(captured):
    from cape.internals.loading import file_fingerprint

    lm, _, info = captured
    assert lm.file_hash == file_fingerprint([smollm2_gguf()])
    assert "SmolLM2-135M" in lm.model_id
    assert info["reasoning"]["n_items"] == N_ITEMS


@pytest.mark.slow
def test_gguf_file_loads_directly(captured):
    """Dequantising the GGUF file again (10-50 s) gives the cached model exactly."""
    import torch

    from cape.internals.loading import load_model

    cached, _, _ = captured
    lm = load_model(smollm2_gguf())
    assert lm.model_type == "llama" and lm.file_hash == cached.file_hash
    ids = lm.tokenizer("The capital of France is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(lm.model(ids).logits, cached.model(ids).logits)
