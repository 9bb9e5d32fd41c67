"""Activation capture: all heads and layers in one pass per batch, padding-independent, hooks always removed."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import TINY_ARCHS, tiny_model  # noqa: E402

from cape.internals.adapters import get_adapter  # noqa: E402
from cape.internals.hooks import capture, capture_contrast  # noqa: E402
from cape.internals.prompts import load_contrast_set  # noqa: E402

TEXTS = [
    "The dog heard the doorbell and ran to the door.",
    "Water boils",
    "Lightning can strike the same place more than once.",
    "She cut her finger while chopping onions, so she put a bandage on it.",
    "Bats are not blind.",
]


def _hook_count(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_capture_shapes_and_final_logits(arch):
    model, tok = tiny_model(arch)
    acts = capture(model, tok, TEXTS, logits=True, batch_size=2)
    n = len(TEXTS)
    assert acts.heads.shape == (n, 2, 4, 8)
    assert acts.residual.shape == (n, 2, 32)
    assert acts.final.shape == (n, 32)
    assert acts.logits.shape == (n, model.config.vocab_size)
    # the captured logits are the model's own logits at each text's last token
    for i, text in enumerate(TEXTS):
        batch = tok(text, return_tensors="pt")
        with torch.no_grad():
            ref = model(**batch).logits[0, -1].numpy()
        np.testing.assert_allclose(acts.logits[i], ref, atol=2e-4, rtol=1e-4)
    assert _hook_count(model) == 0


@pytest.mark.parametrize("arch", ["llama", "gpt2", "bloom", "opt"])
def test_batching_and_padding_do_not_change_activations(arch):
    model, tok = tiny_model(arch)
    one = capture(model, tok, TEXTS, batch_size=1)
    many = capture(model, tok, TEXTS, batch_size=5)
    for a, b in [(one.heads, many.heads), (one.residual, many.residual), (one.final, many.final)]:
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def test_heads_equal_the_o_proj_input_at_the_last_token():
    model, tok = tiny_model("llama")
    ad = get_adapter(model)
    acts = capture(model, tok, TEXTS[:1])
    seen = {}
    handle = ad.o_proj(ad.layers(model)[1]).register_forward_pre_hook(lambda m, a: seen.setdefault("x", a[0]))
    try:
        with torch.no_grad():
            model(**tok(TEXTS[0], return_tensors="pt"))
    finally:
        handle.remove()
    np.testing.assert_allclose(acts.heads[0, 1].reshape(-1), seen["x"][0, -1].numpy(), atol=1e-5)


def test_hooks_removed_even_when_the_forward_pass_fails():
    model, tok = tiny_model("llama")
    ad = get_adapter(model)
    boom = ad.layers(model)[1].mlp.register_forward_hook(lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    before = _hook_count(model)
    with pytest.raises(RuntimeError, match="boom"):
        capture(model, tok, TEXTS)
    assert _hook_count(model) == before
    boom.remove()
    assert _hook_count(model) == 0


def test_one_forward_pass_per_batch():
    model, tok = tiny_model("gpt_neox")
    ad = get_adapter(model)
    calls = []
    handle = ad.layers(model)[0].register_forward_pre_hook(lambda *a: calls.append(1))
    try:
        capture(model, tok, TEXTS, batch_size=2)
    finally:
        handle.remove()
    assert len(calls) == 3  # ceil(5 / 2) batches, each capturing every head of every layer


def test_capture_contrast_splits_sides_in_item_order():
    model, tok = tiny_model("qwen2")
    r = load_contrast_set("reasoning")[:4]
    t = load_contrast_set("truthfulness")[:3]
    acts = capture_contrast(model, tok, r, t, head_maps=True)
    assert acts.r_pos.heads.shape[0] == 4 and acts.t_neg.heads.shape[0] == 3
    single = capture(model, tok, [t[2].negative_text])
    np.testing.assert_allclose(acts.t_neg.heads[2], single.heads[0], atol=1e-5)
    assert acts.head_maps.shape == (2, 4, 32, 8)
    assert acts.reasoning_ids == tuple(i.id for i in r)
