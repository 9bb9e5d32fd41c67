"""Contrast prompt sets: the built-in sets and user JSONL with one clear error per bad line."""

from __future__ import annotations

import json

import pytest

from cape.internals.prompts import PromptSetError, contrast_set_hash, load_contrast_set


@pytest.mark.parametrize("name", ["reasoning", "truthfulness"])
def test_builtin_sets(name):
    items = load_contrast_set(name)
    assert len(items) >= 100
    assert len({it.id for it in items}) == len(items)
    assert len({(it.context, it.positive) for it in items}) == len(items)
    for it in items:
        assert it.positive.strip() != it.negative.strip()
        assert it.positive_text.startswith(it.context.rstrip())
        assert it.negative_text.endswith(it.negative.strip())
    assert contrast_set_hash(items) == contrast_set_hash(load_contrast_set(name))


def test_user_jsonl(tmp_path):
    p = tmp_path / "mine.jsonl"
    p.write_text(
        "# my items\n"
        + json.dumps({"context": "Ice", "positive": "is cold.", "negative": "is hot."}) + "\n\n"
        + json.dumps({"id": 7, "context": "Fire", "positive": "is hot.", "negative": "is cold."}) + "\n"
    )
    items = load_contrast_set(p)
    assert [it.id for it in items] == ["mine-2", "7"]
    assert items[0].positive_text == "Ice is cold."


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a"]', "line 2: expected a JSON object"),
        ('{"context": "a", "positive": "b"}', "line 2: missing field 'negative'"),
        ('{"context": "a", "positive": 1, "negative": "c"}', "line 2: field 'positive' must be a string"),
        ('{"context": "a", "positive": "b", "negative": " b "}', "line 2: 'positive' and 'negative' are identical"),
        ('{"id": "x", "context": "a", "positive": "b", "negative": "c"}', "line 2: duplicate id 'x'"),
    ],
)
def test_bad_lines_are_named(tmp_path, line, message):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps({"id": "x", "context": "a", "positive": "b", "negative": "c"}) + "\n" + line + "\n")
    with pytest.raises(PromptSetError, match=message.replace("(", r"\(")) as err:
        load_contrast_set(p)
    assert str(p) in str(err.value)


def test_missing_and_empty(tmp_path):
    with pytest.raises(PromptSetError, match="not a built-in prompt set"):
        load_contrast_set(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(PromptSetError, match="no contrast items"):
        load_contrast_set(empty)
