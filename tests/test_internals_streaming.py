"""Layer-major capture: the same activations bit for bit as batch-major, each block run once per batch, and only
unmodified memory-mapped weights ever released from the process."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import TINY_ARCHS, tiny_model  # noqa: E402

from cape.internals import hooks, streaming  # noqa: E402
from cape.internals.adapters import get_adapter  # noqa: E402
from cape.internals.hooks import capture  # noqa: E402
from cape.internals.prompts import load_contrast_set  # noqa: E402

TEXTS = [x for it in load_contrast_set("reasoning")[:6] for x in (it.positive_text, it.negative_text)]


def _hook_count(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _mapped_model(arch, folder):
    """A tiny model read back from safetensors: its weights memory-mapped from the file, as cached loads are."""
    from transformers import AutoModelForCausalLM

    model, tok = tiny_model(arch)
    model.save_pretrained(folder)
    mapped = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    if not any(streaming.is_mapped(p, streaming.file_backed_ranges()) for p in mapped.parameters()):
        pytest.skip("safetensors weights are not memory-mapped here")
    return mapped, tok


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_layer_major_gives_identical_activations(arch, tmp_path):
    model, tok = _mapped_model(arch, tmp_path)
    batch = capture(model, tok, TEXTS, final=False, batch_size=5, layer_major=False)
    seen: list[int] = []
    layer = capture(model, tok, TEXTS, final=False, batch_size=5, progress=lambda d, n: seen.append(d))
    assert seen == [6, 12]  # one progress step per block (2 blocks): the layer-major path ran
    assert np.array_equal(batch.heads, layer.heads) and np.array_equal(batch.residual, layer.residual)
    assert _hook_count(model) == 0
    assert all("forward" not in blk.__dict__ for blk in get_adapter(model).layers(model))


def test_each_block_runs_once_per_batch_and_final_state_stays_batch_major(tmp_path, monkeypatch):
    model, tok = _mapped_model("llama", tmp_path)
    blocks = get_adapter(model).layers(model)
    order: list[int] = []
    # the MLP inside each block runs only when the block really computes (not while its inputs are recorded)
    handles = [b.mlp.register_forward_pre_hook(lambda *a, i=i: order.append(i)) for i, b in enumerate(blocks)]
    try:
        capture(model, tok, TEXTS, final=False, batch_size=5)  # 3 batches
        assert order == [0, 0, 0, 1, 1, 1]
        order.clear()
        capture(model, tok, TEXTS, final=True, batch_size=5)  # the final state needs whole passes
        assert order == [0, 1, 0, 1, 0, 1]
        order.clear()
        small, _ = tiny_model("llama")  # weights in ordinary memory: nothing to release, batch-major
        small.load_state_dict(model.state_dict())
        small_handles = [b.mlp.register_forward_pre_hook(lambda *a, i=i: order.append(i))
                         for i, b in enumerate(get_adapter(small).layers(small))]
        capture(small, tok, TEXTS, final=False, batch_size=5)
        assert order == [0, 1, 0, 1, 0, 1]
        for h in small_handles:
            h.remove()
        order.clear()
        monkeypatch.setattr(hooks, "GROUP_BYTES", 1)  # every batch its own group: weights streamed per batch
        grouped = capture(model, tok, TEXTS, final=False, batch_size=5)
        assert order == [0, 1, 0, 1, 0, 1]
        monkeypatch.undo()
        assert np.array_equal(grouped.heads, capture(model, tok, TEXTS, final=False, batch_size=5).heads)
    finally:
        for h in handles:
            h.remove()


def test_block_calls_refuses_a_decoder_that_skips_blocks():
    model, tok = tiny_model("llama")
    blocks = get_adapter(model).layers(model)
    ids = torch.tensor([[1, 2, 3]])
    calls = streaming.block_calls(model.get_decoder(), blocks, ids, torch.ones_like(ids))
    assert len(calls) == 2 and calls[0][0][0].shape == (1, 3, 32) and calls[1][0][0] is None
    with pytest.raises(streaming.LayerMajorUnavailable):
        streaming.block_calls(model.get_decoder(), list(blocks) + [blocks[0]], ids, torch.ones_like(ids))
    assert all("forward" not in blk.__dict__ for blk in blocks)


def test_hooks_removed_when_a_block_fails_mid_pass(tmp_path):
    model, tok = _mapped_model("llama", tmp_path)
    boom = get_adapter(model).layers(model)[1].mlp.register_forward_hook(
        lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        capture(model, tok, TEXTS, final=False)
    boom.remove()
    assert _hook_count(model) == 0


def test_release_touches_only_unmodified_file_mappings(tmp_path):
    mapped, _ = _mapped_model("llama", tmp_path)
    model, _ = tiny_model("llama")
    weight = get_adapter(mapped).layers(mapped)[0].mlp.down_proj.weight
    expected = weight.detach().clone()
    ranges = streaming.file_backed_ranges()
    assert streaming.is_mapped(weight, ranges)
    assert streaming.release_pages([weight], ranges) > 0
    assert torch.equal(weight, expected)  # read back from the file
    # weights in ordinary memory are never released (MADV_DONTNEED would zero them)
    anon = model.get_decoder().layers[0].mlp.down_proj.weight
    before = anon.detach().clone()
    assert streaming.release_pages([anon], ranges) == 0
    assert torch.equal(anon, before)
    # a mapped weight written in place (its page copied) is no longer in an unmodified mapping
    with torch.no_grad():
        weight.add_(1.0)
    assert streaming.release_pages([weight], streaming.file_backed_ranges()) == 0
    assert torch.equal(weight, expected + 1.0)
