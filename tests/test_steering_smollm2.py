"""Steering end to end on the real SmolLM2-135M-Instruct: train, steer, evaluate, save, reload (small counts)."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import smollm2  # noqa: E402

pytestmark = pytest.mark.model

PROMPTS = ["The moon landing was", "Vaccines work by"]


def _hook_count(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def lm_and_vector():
    from cape.internals.steering import train_steering_vector
    from cape.internals.steering.datasets import load_pairs

    torch.set_num_threads(2)
    lm = smollm2()
    pairs = load_pairs("truthfulness")[0][:40]
    vec = train_steering_vector(lm, pairs=pairs, layers="auto", sweep_layers=[3, 7, 12, 20], batch_size=40)
    return lm, vec


def test_training_on_smollm2(lm_and_vector):
    lm, vec = lm_and_vector
    p = vec.provenance
    assert vec.hidden_size == 576 and p["num_layers"] == 30 and p["model_type"] == "llama"
    assert p["quarter_layer"] == 7  # floor(30 / 4), the paper's choice
    assert p["best_layer"] in (3, 7, 12, 20) and vec.layers == (p["best_layer"],)
    assert len(vec.directions) == 30 and p["n_pairs"] == 40 and p["n_validation_pairs"] == 8
    assert p["model_id"] == lm.model_id and p["file_hash"] == lm.file_hash
    for layer, st in vec.norm_stats.items():
        assert st["mean"] > 0 and math.isfinite(st["std"])
        assert float(vec.directions[layer].norm()) == pytest.approx(1.0, abs=1e-5)


def test_steering_smollm2_logits_and_generation(lm_and_vector):
    from cape.internals.steering import compare_generations, generate

    lm, vec = lm_and_vector
    model, tok = lm.model, lm.tokenizer
    enc = tok(["Q: Is the Earth round?\nA:"], return_tensors="pt")
    before = _hook_count(model)
    with torch.no_grad():
        plain = model(**enc).logits
        with vec.apply(lm, 0.0):
            assert torch.equal(model(**enc).logits, plain)
        with vec.apply(lm, 0.5):
            assert not torch.allclose(model(**enc).logits, plain)
    assert _hook_count(model) == before
    zero = compare_generations(lm, prompts=PROMPTS, vector=vec, strength=0.0, max_new_tokens=8)
    assert [g.changed for g in zero] == [False, False]
    kw = dict(vector=vec, strength=0.25, max_new_tokens=8)
    batched = generate(lm, prompts=PROMPTS, batch_size=2, **kw)
    single = generate(lm, prompts=PROMPTS, batch_size=1, **kw)
    assert batched == single
    assert _hook_count(model) == before


def test_evaluate_save_reload_smollm2(lm_and_vector, tmp_path):
    from cape.internals.steering import evaluate_steering, load_steering_vector

    lm, vec = lm_and_vector
    q, best = vec.quarter_layer, vec.best_layer
    ev = evaluate_steering(lm, vector=vec, strength=0.25, n_items=16, n_prompts=3, max_new_tokens=8,
                           sweep_layers=sorted({q, best}), sweep_strengths=[0.1], n_boot=500, batch_size=32)
    m = ev.mc
    assert m.n == 16 and 0 <= m.accuracy_unsteered <= 1 and 0 <= m.accuracy_steered <= 1
    assert m.margin_diff_ci[0] <= m.margin_diff <= m.margin_diff_ci[1]
    assert ev.n_prompts == 3 and 0 <= ev.intervention_rate <= 1
    assert {c.layer for c in ev.sweep} == {q, best} and {c.strength for c in ev.sweep} == {0.1, 0.25}
    assert ev.quarter_layer == 7 and ev.validated_layer == best
    assert sum(g["n"] for g in ev.negation_control) == 16
    json.dumps(ev.to_dict(), allow_nan=False, default=str)
    assert "Intervention rate" in ev.markdown()

    path = tmp_path / "smollm2-truth.safetensors"
    vec.save(path)
    again = load_steering_vector(path)
    assert again.provenance == vec.provenance
    enc = lm.tokenizer(PROMPTS, return_tensors="pt", padding=True)
    with torch.no_grad():
        with vec.apply(lm, 0.3):
            a = lm.model(**enc).logits
        with again.apply(lm, 0.3):
            b = lm.model(**enc).logits
    assert torch.equal(a, b)
