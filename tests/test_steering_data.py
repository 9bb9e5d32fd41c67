"""The steering evaluation data: held-out truthfulness items and generation prompts (no torch needed)."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from cape.errors import DataError, NotFoundError
from cape.internals.prompts import load_contrast_set
from cape.internals.steering.datasets import load_generation_prompts, load_mc_items, split_items

_STOP = set("that with from they their does have about will what when which more than only into this were there "
            "after other these most your because".split())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3} - _STOP


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_eval_items_are_many_complete_and_unique():
    items = load_mc_items()
    assert len(items) >= 100
    assert len({it.id for it in items}) == len(items)
    assert len({_norm(it.question) for it in items}) == len(items)
    for it in items:
        assert it.question.endswith("?"), it.id
        assert it.true and it.false and _norm(it.true) != _norm(it.false)
        assert it.topic
    raw = resources.files("cape").joinpath("data", "prompts", "truthfulness_eval.jsonl").read_text(encoding="utf-8")
    for line in raw.splitlines():
        assert set(json.loads(line)) == {"id", "topic", "question", "true", "false"}


def test_eval_items_are_disjoint_from_the_training_pairs():
    """No held-out item repeats a training pair: no shared text, and little shared vocabulary with any pair."""
    items = load_mc_items()
    train = load_contrast_set("truthfulness")
    train_texts = {_norm(x) for t in train for x in (t.context, t.positive, t.negative, t.positive_text, t.negative_text)}
    worst = (0.0, None, None)
    for it in items:
        for field in (it.question, it.true, it.false):
            assert _norm(field) not in train_texts, it.id
        w_item = _words(" ".join((it.question, it.true, it.false)))
        for t in train:
            w_train = _words(" ".join((t.context, t.positive, t.negative)))
            j = len(w_item & w_train) / len(w_item | w_train)
            if j > worst[0]:
                worst = (j, it.id, t.id)
    # the closest pairs share a word or two ("invent", "vaccines") but state different facts
    assert worst[0] < 0.3, worst


def test_generation_prompts():
    prompts = load_generation_prompts()
    assert len(prompts) >= 30
    assert len(set(prompts)) == len(prompts)
    assert all(5 <= len(p) <= 200 for p in prompts)


def test_user_files(tmp_path):
    f = tmp_path / "items.jsonl"
    f.write_text('{"question": "Q1?", "true": "a", "false": "b"}\n\n# comment\n{"question": "Q2?", "true": "c", "false": "d", "id": "x"}\n')
    items = load_mc_items(f)
    assert [it.id for it in items] == ["line-1", "x"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q1?", "true": "a"}\n')
    with pytest.raises(DataError, match="line 1: field 'false'"):
        load_mc_items(bad)
    bad.write_text('{"question": "Q1?", "true": "a", "false": "a"}\n')
    with pytest.raises(DataError, match="identical"):
        load_mc_items(bad)
    bad.write_text("not json\n")
    with pytest.raises(DataError, match="not valid JSON"):
        load_mc_items(bad)
    with pytest.raises(NotFoundError):
        load_mc_items(tmp_path / "missing.jsonl")
    txt = tmp_path / "prompts.txt"
    txt.write_text("The moon is\n\nWater boils at\n")
    assert load_generation_prompts(txt) == ["The moon is", "Water boils at"]


def test_split_is_seeded_and_disjoint():
    items = list(range(50))
    a_tr, a_va = split_items(items, 0.2, seed=0)
    b_tr, b_va = split_items(items, 0.2, seed=0)
    assert (a_tr, a_va) == (b_tr, b_va)
    assert len(a_va) == 10 and not set(a_tr) & set(a_va) and sorted(a_tr + a_va) == items
    assert split_items(items, 0.2, seed=1)[1] != a_va
    with pytest.raises(DataError):
        split_items([1], 0.5, seed=0)
