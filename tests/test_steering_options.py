"""Training and evaluation settings as options objects (TrainOptions, EvalOptions): the same results as the
keyword arguments they replace, which keep working; bad options are one-sentence SteeringErrors."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import tiny_model  # noqa: E402

from cape.internals.steering import (  # noqa: E402
    EvalOptions,
    SteeringError,
    TrainOptions,
    evaluate_steering,
    train_steering_vector,
)
from cape.internals.steering.datasets import load_mc_items, load_pairs  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setup():
    model, tok = tiny_model("llama")
    pairs = load_pairs("truthfulness")[0][:12]
    return model, tok, pairs


def test_train_options_equal_keywords(setup):
    model, tok, pairs = setup
    by_kw = train_steering_vector(model, tok, pairs, layers="auto", select="quarter", batch_size=4, seed=3)
    by_opt = train_steering_vector(model, tok, pairs, options=TrainOptions(layers="auto", select="quarter",
                                                                             batch_size=4, seed=3))
    assert by_kw.layers == by_opt.layers == (by_kw.quarter_layer,)
    assert by_kw.best_layer == by_opt.best_layer
    for layer, v in by_kw.directions.items():
        assert torch.equal(v, by_opt.directions[layer])
    assert by_kw.provenance["sweep"] == by_opt.provenance["sweep"] and by_kw.provenance["seed"] == 3
    # a keyword overrides the options' field
    over = train_steering_vector(model, tok, pairs, options=TrainOptions(layers="auto"), layers=[0], batch_size=4)
    assert over.layers == (0,) and over.provenance["layer_rule"] == "explicit"


def test_eval_options_equal_keywords(setup):
    model, tok, pairs = setup
    vec = train_steering_vector(model, tok, pairs, layers="all", batch_size=4)
    items = load_mc_items(None)[:6]
    kw = dict(items=items, strength=1.0, n_prompts=0, sweep_layers=[0, 1], sweep_strengths=[0.5], n_boot=50,
              batch_size=4)
    a = evaluate_steering(model, tok, vec, **kw)
    b = evaluate_steering(model, tok, vec, options=EvalOptions(**kw))
    c = evaluate_steering(model, tok, vec, options=EvalOptions(**{**kw, "strength": 0.2}), strength=1.0)
    assert a.to_dict() == b.to_dict() == c.to_dict()
    assert a.strength == 1.0 and a.settings["n_items"] == 6 and a.intervention_rate is None
    assert {(x.layer, x.strength) for x in a.sweep} == {(0, 0.5), (0, 1.0), (1, 0.5), (1, 1.0)}
    assert str(a) == a.summary() == a.markdown()


@pytest.mark.parametrize("make, match", [
    (lambda: EvalOptions(strength="x"), "strength 'x' is not a number"),
    (lambda: EvalOptions(positions="middle"), "positions 'middle' is not one of"),
    (lambda: EvalOptions(n_items=0), "n_items must be at least 1"),
    (lambda: EvalOptions(score="max"), "score 'max' is not one of mean, sum"),
    (lambda: TrainOptions(method="ica"), "method 'ica' is not one of mean_diff, pca"),
    (lambda: TrainOptions(select="best"), "select 'best' is not 'sweep' or 'quarter'"),
])
def test_bad_options_are_steering_errors(make, match):
    with pytest.raises(SteeringError, match=match):
        make()


def test_unknown_keyword_and_wrong_options_type(setup):
    model, tok, pairs = setup
    with pytest.raises(SteeringError, match="evaluate_steering: unknown option 'strenght'; did you mean 'strength'"):
        evaluate_steering(model, tok, None, strenght=1.0)
    with pytest.raises(SteeringError, match="train_steering_vector: options must be a TrainOptions"):
        train_steering_vector(model, tok, pairs, options=EvalOptions())
