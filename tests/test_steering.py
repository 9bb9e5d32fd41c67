"""Steering on tiny random models of every supported architecture: hooks, exactness, batching, persistence."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import TINY_ARCHS, tiny_model  # noqa: E402

from cape.errors import CapeError, DataError, NotFoundError  # noqa: E402
from cape.internals.steering import (  # noqa: E402
    SteeringCompatibilityError,
    SteeringError,
    SteeringVector,
    compare_generations,
    evaluate_mc,
    generate,
    load_steering_vector,
    read_metadata,
    steer,
    train_steering_vector,
)
from cape.internals.steering._common import decoder_layers, resolve_layers  # noqa: E402
from cape.internals.steering.datasets import load_mc_items, load_pairs  # noqa: E402
from cape.internals.steering.forward import encode, score_completions  # noqa: E402

torch.set_num_threads(1)

PROMPTS = ["Lightning can strike", "The capital of Australia is", "Goldfish", "Why is the sky blue? Because"]
N_PAIRS = 24


@pytest.fixture(scope="module")
def pairs():
    return load_pairs("truthfulness")[0][:N_PAIRS]


@pytest.fixture(scope="module")
def trained(pairs):
    """One tiny model and vector per architecture (explicit layers: no sweep, fast)."""
    out = {}
    for arch in TINY_ARCHS:
        model, tok = tiny_model(arch)
        vec = train_steering_vector(model, tok, pairs, layers="all", batch_size=8)
        out[arch] = (model, tok, vec)
    return out


def _hook_count(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _batch(tok, texts):
    tok.padding_side = "right"
    return tok(texts, return_tensors="pt", padding=True)


def _logits(model, enc):
    with torch.no_grad():
        return model(**enc).logits


# --------------------------------------------------------------------------------------------- every architecture
@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_hooks_removed_after_use_and_on_exceptions(arch, trained):
    model, tok, vec = trained[arch]
    before = _hook_count(model)
    enc = _batch(tok, PROMPTS[:2])
    with vec.apply(model, 1.0) as handle:
        assert _hook_count(model) == before + 1 + len(vec.layers)
        _logits(model, enc)
        assert handle.calls == len(vec.layers)
    assert _hook_count(model) == before and not handle.active
    with pytest.raises(RuntimeError, match="boom"):
        with vec.apply(model, 1.0, positions="generated"):
            _logits(model, enc)
            raise RuntimeError("boom")
    assert _hook_count(model) == before
    # an exception inside the model's forward (bad input) also leaves no hooks behind
    with pytest.raises(Exception):
        with vec.apply(model, 1.0):
            model(input_ids=torch.tensor([[10**6]]))
    assert _hook_count(model) == before
    # patch()/remove() and an idempotent second remove()
    h = vec.patch(model, 0.5)
    assert _hook_count(model) > before
    h.remove()
    h.remove()
    assert _hook_count(model) == before


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_strength_zero_is_exactly_unsteered_and_nonzero_changes(arch, trained):
    model, tok, vec = trained[arch]
    enc = _batch(tok, PROMPTS)
    plain = _logits(model, enc)
    for positions in ("all", "prompt", "generated"):
        with vec.apply(model, 0.0, positions=positions):
            assert torch.equal(_logits(model, enc), plain)
    with vec.apply(model, 1.0, layers=[0]):
        steered = _logits(model, enc)
    assert not torch.allclose(steered, plain)
    # strength 0 in generation: identical greedy text, so an intervention rate of exactly 0
    pairs = compare_generations(model, tok, PROMPTS, vector=vec, strength=0.0, max_new_tokens=6, chat=False)
    assert not any(p.changed for p in pairs)


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_batched_and_one_at_a_time_steering_agree(arch, trained):
    model, tok, vec = trained[arch]
    items = load_mc_items()[:6]
    enc = [encode(tok, f"Q: {it.question}\nA:", it.true, False) for it in items]
    pad = tok.pad_token_id
    for positions in ("all", "generated"):
        with vec.apply(model, 0.8, positions=positions) as h:
            batched = score_completions(model, enc, pad=pad, batch_size=6, handle=h, positions=positions)
            single = score_completions(model, enc, pad=pad, batch_size=1, handle=h, positions=positions)
        np.testing.assert_allclose(batched, single, rtol=1e-4, atol=1e-4)
    # generation: left-padded batches of 4 vs one prompt at a time (greedy)
    for positions in ("all", "prompt", "generated"):
        kw = dict(vector=vec, strength=0.8, positions=positions, max_new_tokens=5, chat=False)
        assert generate(model, tok, PROMPTS, batch_size=4, **kw) == generate(model, tok, PROMPTS, batch_size=1, **kw)


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_saved_and_reloaded_vector_gives_identical_outputs(arch, trained, tmp_path):
    model, tok, vec = trained[arch]
    path = tmp_path / f"{arch}.safetensors"
    vec.save(path)
    again = load_steering_vector(path)
    assert again.layers == vec.layers and again.method == vec.method
    for layer in vec.directions:
        assert torch.equal(again.directions[layer], vec.directions[layer])
    assert again.norm_stats == vec.norm_stats
    assert again.provenance == vec.provenance
    enc = _batch(tok, PROMPTS)
    with vec.apply(model, 0.7):
        a = _logits(model, enc)
    with again.apply(model, 0.7):
        b = _logits(model, enc)
    assert torch.equal(a, b)
    kw = dict(strength=0.7, max_new_tokens=5, chat=False)
    assert generate(model, tok, PROMPTS, vector=vec, **kw) == generate(model, tok, PROMPTS, vector=again, **kw)


# --------------------------------------------------------------------------------------------- positions
def _layer0_additions(model, vec, positions, strength=1.0):
    """Which positions of each forward call got the steering delta at layer 0 (prefill, then two cached steps)."""
    block = decoder_layers(model)[0]
    seen: list[torch.Tensor] = []

    def observe(module, args, output):
        seen.append((output if isinstance(output, torch.Tensor) else output[0]).detach().clone())

    ids = torch.tensor([[5, 6, 7, 8]])

    def run():
        seen.clear()
        with torch.no_grad():
            out = model(input_ids=ids, use_cache=True)
            cache = out.cache
            nxt = torch.tensor([[9]])
            for _ in range(2):
                out = model(input_ids=nxt, cache=cache, use_cache=True)
                cache = out.cache
        return [s.clone() for s in seen]

    h_obs = block.register_forward_hook(observe)
    try:
        plain = run()
    finally:
        h_obs.remove()
    with vec.apply(model, strength, layers=[0], positions=positions):
        h_obs = block.register_forward_hook(observe)  # registered after the steering hook: sees its output
        try:
            steered = run()
        finally:
            h_obs.remove()
    return [((s - p).abs().amax(-1) > 1e-6)[0].tolist() for s, p in zip(steered, plain)]


def test_positions_prompt_generated_all(trained):
    model, tok, vec = trained["llama"]
    assert _layer0_additions(model, vec, "all") == [[True] * 4, [True], [True]]
    assert _layer0_additions(model, vec, "prompt") == [[True] * 4, [False], [False]]
    # "generated": the last prompt position (it produces the first new token) and every new token
    assert _layer0_additions(model, vec, "generated") == [[False, False, False, True], [True], [True]]


def test_positions_change_generation_differently(trained):
    model, tok, vec = trained["gpt_neox"]
    base = generate(model, tok, PROMPTS, max_new_tokens=6, chat=False)
    outs = {p: generate(model, tok, PROMPTS, vector=vec, strength=3.0, positions=p, max_new_tokens=6, chat=False)
            for p in ("all", "prompt", "generated")}
    assert all(o != base for o in outs.values())


# --------------------------------------------------------------------------------------------- training
def test_mean_difference_matches_a_plain_unbatched_computation(pairs):
    model, tok = tiny_model("gpt2", seed=1)
    vec = train_steering_vector(model, tok, pairs, layers=[0, 1], batch_size=7, read="last")
    # hidden_states[layer + 1] is block `layer`'s output, except for the last block (the final norm is applied)
    for layer in (0,):
        diffs = []
        for p in pairs:
            acts = []
            for text in (p.context + " " + p.positive, p.context + " " + p.negative):
                ids = tok(text, return_tensors="pt")
                with torch.no_grad():
                    hs = model(**ids, output_hidden_states=True).hidden_states
                acts.append(hs[layer + 1][0, -1])  # hidden_states[0] is the embedding output
            diffs.append(acts[0] - acts[1])
        mean = torch.stack(diffs).mean(0)
        expected = mean / mean.norm()
        torch.testing.assert_close(vec.directions[layer], expected.float(), rtol=1e-4, atol=1e-5)
        assert vec.norm_stats[layer]["diff_norm"] == pytest.approx(float(mean.norm()), rel=1e-4)


def test_batched_training_equals_one_at_a_time(pairs):
    model, tok = tiny_model("llama", seed=2)
    a = train_steering_vector(model, tok, pairs, layers="all", batch_size=16)
    b = train_steering_vector(model, tok, pairs, layers="all", batch_size=1)
    for layer in a.directions:
        torch.testing.assert_close(a.directions[layer], b.directions[layer], rtol=1e-4, atol=1e-5)
        assert a.norm_stats[layer]["mean"] == pytest.approx(b.norm_stats[layer]["mean"], rel=1e-5)


def test_pca_direction_is_unit_and_agrees_in_sign_with_the_mean(pairs):
    model, tok = tiny_model("qwen2", seed=3)
    mean = train_steering_vector(model, tok, pairs, layers="all", method="mean_diff")
    pca = train_steering_vector(model, tok, pairs, layers="all", method="pca")
    for layer in mean.directions:
        v = pca.directions[layer]
        assert float(v.norm()) == pytest.approx(1.0, abs=1e-5)
        assert float(v @ mean.directions[layer]) > 0
    assert pca.method == "pca"


def test_auto_layers_report_quarter_and_best(pairs):
    model, tok = tiny_model("gpt_neox", seed=4)
    vec = train_steering_vector(model, tok, pairs, layers="auto", batch_size=8)
    p = vec.provenance
    assert p["quarter_layer"] == 0  # floor(2 / 4)
    assert p["best_layer"] in (0, 1) and vec.layers == (p["best_layer"],)
    assert [r["layer"] for r in p["sweep"]] == [0, 1]
    assert p["n_validation_pairs"] == round(0.2 * N_PAIRS)
    assert set(vec.directions) == {0, 1}
    q = train_steering_vector(model, tok, pairs, layers="auto", select="quarter", batch_size=8)
    assert q.layers == (0,) and q.best_layer == p["best_layer"]
    assert q.select_layers("best") == [p["best_layer"]]


def test_quarter_layer_follows_the_paper():
    from cape.internals.steering import quarter_layer

    assert [quarter_layer(n) for n in (24, 16, 32, 30, 2)] == [6, 4, 8, 7, 0]
    assert resolve_layers("quarter", 24) == [6]
    assert resolve_layers("2-4,7", 10) == [2, 3, 4, 7]
    assert resolve_layers(-1, 10) == [9]
    with pytest.raises(SteeringError, match="out of range"):
        resolve_layers(12, 10)
    with pytest.raises(SteeringError, match="not understood"):
        resolve_layers("middle", 10)


def test_user_jsonl_pairs_and_bad_input(tmp_path):
    model, tok = tiny_model("opt")
    f = tmp_path / "pairs.jsonl"
    f.write_text('{"context": "Water", "positive": "is wet.", "negative": "is dry."}\n'
                 '{"context": "Fire", "positive": "is hot.", "negative": "is cold."}\n')
    vec = train_steering_vector(model, tok, str(f), layers=1)
    assert vec.provenance["n_pairs"] == 2 and vec.provenance["train_set"] == "pairs.jsonl"
    assert vec.provenance["train_set_hash"].startswith("sha256:")
    with pytest.raises(CapeError):
        train_steering_vector(model, tok, str(tmp_path / "missing.jsonl"), layers=1)
    with pytest.raises(SteeringError, match="at least 4 pairs"):
        train_steering_vector(model, tok, str(f), layers="auto")
    with pytest.raises(SteeringError, match="method"):
        train_steering_vector(model, tok, str(f), layers=1, method="lda")


# --------------------------------------------------------------------------------------------- compatibility
def test_refuses_other_models_unless_forced(trained):
    model, tok, vec = trained["llama"]
    other, _ = tiny_model("llama", seed=7)  # same architecture, other weights
    with pytest.raises(SteeringCompatibilityError, match="weights differ"):
        vec.apply(other, 0.5).__enter__()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with vec.apply(other, 0.5, force=True):
            pass
    assert any("another model" in str(x.message) for x in w)
    gpt2, _ = tiny_model("gpt2")  # same width, other architecture
    with pytest.raises(SteeringCompatibilityError, match="model type"):
        vec.patch(gpt2, 0.5)
    # a different hidden size can never be forced
    big = SteeringVector({0: torch.ones(64) / 8.0}, {0: {"mean": 1.0}}, (0,), provenance={})
    with pytest.raises(SteeringCompatibilityError, match="hidden size 64"):
        big.patch(model, 0.5, force=True)
    # identity from a LoadedModel-like wrapper: another model id is refused
    named = SteeringVector(vec.directions, vec.norm_stats, vec.layers, provenance=dict(vec.provenance, model_id="org/a"))

    class Loaded:
        def __init__(self, m, t):
            self.model, self.tokenizer, self.model_id, self.revision, self.file_hash = m, t, "org/b", None, None

    with pytest.raises(SteeringCompatibilityError, match="model id"):
        named.patch(Loaded(model, tok), 0.5)


def test_bad_arguments_are_clear_errors(trained):
    model, tok, vec = trained["gpt2"]
    with pytest.raises(SteeringError, match="positions"):
        vec.patch(model, 0.5, positions="middle")
    with pytest.raises(SteeringError, match="out of range"):
        vec.select_layers([5])
    only0 = SteeringVector({0: vec.directions[0]}, {0: vec.norm_stats[0]}, (0,), provenance=vec.provenance)
    with pytest.raises(SteeringError, match="no direction at layer"):
        only0.patch(model, 0.5, layers=[1])
    with pytest.raises(SteeringError, match="not finite"):
        vec.patch(model, float("nan"))
    with pytest.raises(SteeringError, match="batch size"):
        generate(model, tok, PROMPTS, vector=vec, batch_size=0, chat=False)
    with pytest.raises(SteeringError, match="chat template"):
        generate(model, tok, PROMPTS, chat=True)


def test_file_errors(tmp_path, trained):
    with pytest.raises(NotFoundError):
        load_steering_vector(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(DataError, match="not a readable safetensors"):
        load_steering_vector(bad)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(3)}, str(foreign))
    with pytest.raises(DataError, match="not a CAPE steering vector"):
        load_steering_vector(foreign)
    _, _, vec = trained["phi"]
    path = tmp_path / "v.safetensors"
    vec.save(path)
    meta = read_metadata(path)
    assert meta["format"] == "cape-steering-vector/1"
    prov = meta["provenance"]
    for key in ("model_type", "num_layers", "hidden_size", "weights_fingerprint", "train_set_hash", "n_pairs",
                "quarter_layer", "layer_rule", "created"):
        assert key in prov
    assert set(meta["norm_stats"]) == {"0", "1"}
    assert {"mean", "std", "median", "count", "diff_norm"} <= set(meta["norm_stats"]["0"])
    with pytest.raises(NotFoundError):
        vec.save(tmp_path / "no" / "such" / "dir" / "v.safetensors")


def test_raw_steer_context_manager(trained):
    model, tok, _ = trained["bloom"]
    enc = _batch(tok, PROMPTS[:2])
    plain = _logits(model, enc)
    before = _hook_count(model)
    with steer(model, {1: torch.zeros(32)}):
        assert torch.equal(_logits(model, enc), plain)
    with steer(model, {1: torch.ones(32)}):
        assert not torch.equal(_logits(model, enc), plain)
    assert _hook_count(model) == before
    with pytest.raises(SteeringError, match="out of range"):
        with steer(model, {5: torch.ones(32)}):
            pass
    assert _hook_count(model) == before


def test_sampling_uses_one_seed_for_both_runs(trained):
    model, tok, vec = trained["falcon"]
    kw = dict(vector=vec, strength=0.0, max_new_tokens=6, chat=False, do_sample=True, temperature=1.0, seed=3)
    pairs = compare_generations(model, tok, PROMPTS, **kw)
    assert not any(p.changed for p in pairs)  # zero steering under sampling: same seed, same text
    again = compare_generations(model, tok, PROMPTS, **kw)
    assert [p.steered for p in again] == [p.steered for p in pairs]


def test_evaluate_mc_on_a_tiny_model(trained):
    model, tok, vec = trained["gemma2"]
    items = load_mc_items()[:10]
    zero = evaluate_mc(model, tok, vec, items, strength=0.0, n_boot=200)
    assert zero.margin_diff == 0.0 and zero.margin_diff_ci == (0.0, 0.0) and zero.accuracy_diff == 0.0
    assert zero.verdict == "no detectable change"
    res = evaluate_mc(model, tok, vec, items, strength=1.0, n_boot=200)
    assert res.n == 10 and 0 <= res.accuracy_steered <= 1
    lo, hi = res.margin_diff_ci
    assert lo <= res.margin_diff <= hi
    sums = evaluate_mc(model, tok, vec, items, strength=1.0, n_boot=200, score="sum")
    assert sums.margin_unsteered != res.margin_unsteered


def test_batches_limit_padding_and_keep_every_index():
    from cape.internals.steering.forward import _batches

    lengths = [3, 30, 4, 5, 29, 3, 31, 6, 4, 28]
    batches = _batches(len(lengths), lengths, batch_size=4)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        real = sum(lengths[i] for i in b)
        assert len(b) <= 4 and (len(b) == 1 or max(lengths[i] for i in b) * len(b) <= 1.1 * real)
    assert [len(b) for b in _batches(5, [7] * 5, batch_size=2)] == [2, 2, 1]


def test_paired_bootstrap_ci_is_seeded():
    from cape.internals.steering import paired_bootstrap_ci

    d = np.linspace(-1, 2, 40)
    a = paired_bootstrap_ci(d, n_boot=500, seed=1)
    assert a == paired_bootstrap_ci(d, n_boot=500, seed=1)
    assert a[0] < d.mean() < a[1]
    assert paired_bootstrap_ci([0.0, 0.0, 0.0]) == (0.0, 0.0)


def test_negation_control_groups():
    from cape.internals.steering.datasets import MCItem
    from cape.internals.steering.evaluate import negation_control

    items = [MCItem("q?", "It is not so.", "It is so.", "a"), MCItem("q?", "It is so.", "It never is.", "b"),
             MCItem("q?", "Red.", "Blue.", "c")]
    groups = negation_control(items, [0.0, 0.0, 0.0], [1.0, -1.0, 0.5])
    assert [(g["n"], g["margin_gain"]) for g in groups] == [(1, 1.0), (1, -1.0), (1, 0.5)]


def test_same_weight_files_under_another_path_are_accepted(trained):
    model, tok, vec = trained["qwen3"]
    prov = dict(vec.provenance, model_id="/old/place/model", file_hash="sha256:abc")
    moved = SteeringVector(vec.directions, vec.norm_stats, vec.layers, provenance=prov)

    class Loaded:
        def __init__(self, file_hash):
            self.model, self.tokenizer, self.model_id = model, tok, "/new/place/model"
            self.revision, self.file_hash = None, file_hash

    assert moved.check_compatible(Loaded("sha256:abc")) == []
    with pytest.raises(SteeringCompatibilityError, match="file hash"):
        moved.check_compatible(Loaded("sha256:def"))


def _tamper(src, dst, *, tensors=None, meta=None):
    """Rewrite a saved vector with some tensors or metadata fields replaced (as a hand-edited file would be)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(src), framework="pt") as f:
        old_meta = dict(f.metadata())
        old = {k: f.get_tensor(k) for k in f.keys()}
    save_file({**old, **(tensors or {})}, str(dst), metadata={**old_meta, **(meta or {})})


def test_bad_vectors_are_refused_at_load(trained, tmp_path):
    import json

    _, _, vec = trained[TINY_ARCHS[0]]
    good = tmp_path / "good.safetensors"
    vec.save(good)
    layer = sorted(vec.directions)[0]
    d = vec.directions[layer].clone()
    nan_dir = d.clone()
    nan_dir[0] = float("nan")
    stats = {str(k): dict(v) for k, v in vec.norm_stats.items()}
    stats[str(layer)]["mean"] = float("nan")
    cases = {
        "nan_direction": ({f"direction.{layer}": nan_dir}, None, "non-finite"),
        "inf_direction": ({f"direction.{layer}": d.clone().fill_(float("inf"))}, None, "non-finite"),
        "int_direction": ({f"direction.{layer}": d.to(torch.int32)}, None, "floating point"),
        "nan_norm": (None, {"norm_stats": json.dumps(stats).replace("NaN", "NaN")}, "not a finite number"),
        "text_hidden_size": (None, {"hidden_size": "abc"}, "hidden_size"),
        "list_norm_stats": (None, {"norm_stats": "[]"}, "norm_stats"),
        "layers_not_ints": (None, {"layers": '["a"]'}, "layers"),
    }
    for name, (tensors, meta, words) in cases.items():
        bad = tmp_path / f"{name}.safetensors"
        _tamper(good, bad, tensors=tensors, meta=meta)
        with pytest.raises(DataError, match=words):
            load_steering_vector(bad)


def test_strength_zero_is_exact_even_for_a_non_finite_direction(trained):
    model, tok, vec = trained[TINY_ARCHS[0]]
    layer = sorted(vec.directions)[0]
    delta = vec.delta(layer, 0.0)
    assert torch.equal(delta, torch.zeros_like(delta))
    with pytest.raises(SteeringError, match="non-finite"):
        SteeringVector(directions={layer: torch.full_like(vec.directions[layer], float("nan"))},
                       norm_stats=vec.norm_stats, layers=(layer,))
