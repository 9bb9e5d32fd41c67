"""Per-head coupling: a planted competing head is found, results are deterministic and summarised per spec."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import tiny_config, tiny_model, tiny_tokenizer  # noqa: E402

from cape.internals.heads import head_coupling  # noqa: E402
from cape.internals.hooks import capture_contrast  # noqa: E402
from cape.internals.prompts import ContrastItem, load_contrast_set  # noqa: E402
from cape.internals.results import Thresholds, early_mid_late  # noqa: E402

PLANTED_LAYER, PLANTED_HEAD = 0, 2
S = list(range(8))  # residual coordinates carrying the planted signal


def _marker_tokens(tok, k=4):
    """``k`` words that are single tokens when they follow a space (so the last token is the marker)."""
    found = []
    for text, idx in sorted(tok.get_vocab().items(), key=lambda kv: kv[1]):
        if not text.startswith("\u0120") or not text[1:].isalpha() or len(text) < 4:
            continue
        word = text[1:]
        if tok("a b " + word)["input_ids"][-1] == idx:
            found.append((word, idx))
        if len(found) == k:
            return found
    raise AssertionError("tokenizer has too few single-token words")


def _planted_sets(tok, n=24, seed=0):
    """Reasoning ends with marker A (sensible) vs B (wrong); truthfulness with C (true) vs D (misconception)."""
    (a, ia), (b, ib), (c, ic), (d, id_) = _marker_tokens(tok)
    words = [w for it in load_contrast_set("reasoning") for w in it.context.split()][:400]
    rng = np.random.default_rng(seed)

    def ctx():
        return " ".join(rng.choice(words, size=int(rng.integers(3, 9))))

    reasoning = [ContrastItem(ctx(), a, b, f"r{i}") for i in range(n)]
    truth = [ContrastItem(ctx(), c, d, f"t{i}") for i in range(n)]
    return reasoning, truth, (ia, ib, ic, id_)


def _planted_llama(seed=0):
    """A tiny Llama whose head (0, 2) reads only coordinates S, where A/D and B/C carry opposite signs.

    Its reasoning direction (A - B) is then exactly opposite to its truthfulness direction (C - D): a competing
    head. No other head, MLP or query/key reads S, and the planted head writes nothing to the residual stream.
    """
    from transformers import AutoModelForCausalLM

    tok = tiny_tokenizer()
    config = tiny_config("llama", vocab_size=len(tok))
    config.num_key_value_heads = config.num_attention_heads  # one value head per head
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    gen = torch.Generator().manual_seed(seed)
    _, _, (ia, ib, ic, id_) = _planted_sets(tok)
    hd = config.head_dim if getattr(config, "head_dim", None) else config.hidden_size // config.num_attention_heads
    rows = slice(PLANTED_HEAD * hd, (PLANTED_HEAD + 1) * hd)
    u = torch.tensor([1.0, -1.0] * (len(S) // 2))
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) * p.shape[-1] ** -0.5)
        emb = model.get_input_embeddings().weight
        emb[:, S] = 0.0
        emb[ia, S], emb[ib, S], emb[ic, S], emb[id_, S] = 2 * u, -2 * u, -2 * u, 2 * u
        for layer in model.model.layers:
            att = layer.self_attn
            for lin in (att.q_proj, att.k_proj, att.v_proj, layer.mlp.gate_proj, layer.mlp.up_proj):
                lin.weight[:, S] = 0.0
        att = model.model.layers[PLANTED_LAYER].self_attn
        att.q_proj.weight[rows] = 0.0  # uniform attention
        att.v_proj.weight[rows] = 0.0
        att.v_proj.weight[rows, :len(S)] = torch.randn(hd, len(S), generator=gen)
        att.o_proj.weight[:, rows] = 0.0  # keeps the plant out of the residual stream
    return model, tok


def test_planted_competing_head_is_found():
    model, tok = _planted_llama()
    reasoning, truth, _ = _planted_sets(tok)
    acts = capture_contrast(model, tok, reasoning, truth)
    res = head_coupling(acts, n_boot=200, n_perm=200, seed=0)
    c = res.cosine
    assert c[PLANTED_LAYER, PLANTED_HEAD] < -0.99
    frame = res.to_frame().set_index(["layer", "head"])
    row = frame.loc[(PLANTED_LAYER, PLANTED_HEAD)]
    assert row["competing"] and row["competing_raw"] and row["p_lower"] < 0.01
    assert row["ci_high"] < -0.9
    assert res.n_competing >= 1 and not res.zero_competing
    assert np.nanargmin(c) == PLANTED_LAYER * res.n_heads + PLANTED_HEAD


def test_planted_head_is_not_competing_without_the_plant():
    model, tok = tiny_model("llama")
    reasoning, truth, _ = _planted_sets(tok)
    res = head_coupling(capture_contrast(model, tok, reasoning, truth), n_boot=100, n_perm=100)
    assert res.cosine[PLANTED_LAYER, PLANTED_HEAD] > -0.99


def test_head_coupling_is_deterministic():
    model, tok = tiny_model("gpt_neox")
    r = load_contrast_set("reasoning")[:12]
    t = load_contrast_set("truthfulness")[:12]
    a = head_coupling(capture_contrast(model, tok, r, t, batch_size=5), n_boot=100, n_perm=100, seed=3)
    b = head_coupling(capture_contrast(model, tok, r, t, batch_size=5), n_boot=100, n_perm=100, seed=3)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())


def test_summary_follows_the_spec_definitions():
    model, tok = tiny_model("qwen2")
    r = load_contrast_set("reasoning")[:10]
    t = load_contrast_set("truthfulness")[:10]
    acts = capture_contrast(model, tok, r, t, head_maps=True)
    res = head_coupling(acts, measure="paper", n_boot=50, n_perm=50)
    c = res.cosine
    d = res.summary_dict()
    assert d["n_units"] == 8 and d["n_cooperative"] == int((c > 0).sum())
    assert d["n_near_zero"] == int((np.abs(c) < 0.1).sum())
    assert d["n_competing_raw"] == int((c < -0.5).sum())
    assert d["median_cosine"] == pytest.approx(float(np.median(c)))
    assert d["all_cooperative"] == bool((c > 0).all())
    np.testing.assert_allclose(res.per_layer, c.mean(axis=1))
    assert early_mid_late([1, 2, 3, 4, 5, 6]) == (1.5, 3.5, 5.5)
    # thresholds are configurable
    loose = head_coupling(acts, measure="paper", n_boot=0, n_perm=0, thresholds=Thresholds(cooperative=2.0))
    assert loose.n_cooperative == 0
    res2 = head_coupling(acts, representation="result", n_boot=20, n_perm=20)
    assert res2.representation == "result" and res2.cosine.shape == (2, 4)
    json.dumps(res.to_dict(), allow_nan=False)
    frame = res.to_frame()
    assert len(frame) == 8 and {"layer", "head", "cosine", "ci_low", "p_lower", "competing"} <= set(frame.columns)
    assert "Per-head coupling" in res.summary()


def test_constant_profile_warns():
    from cape.internals.results import sanity_warnings

    warns = sanity_warnings({"m1": [0.9786] * 16, "m2": [0.9786] * 16})
    assert any("constant across 16 layers" in w for w in warns)
    assert any("identical" in w for w in warns)
    assert sanity_warnings({"m1": [0.1, 0.2, 0.3], "m2": [0.3, 0.2, 0.1]}) == []
