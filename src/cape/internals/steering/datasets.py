"""Inputs of the steering tools: contrast pairs for training, multiple-choice items and open prompts for evaluation.

Shipped with the package, written for CAPE:

- ``truthfulness`` training pairs (:func:`cape.internals.prompts.load_contrast_set`);
- ``truthfulness_eval.jsonl``: held-out multiple-choice items ``{id, topic, question, true, false}`` (the false
  answer is a common misconception); no question appears in the training set;
- ``generation_prompts.jsonl``: open prompts ``{id, prompt}`` for the intervention rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

from cape.errors import DataError, NotFoundError

__all__ = [
    "Pair",
    "MCItem",
    "as_pairs",
    "load_pairs",
    "load_mc_items",
    "load_generation_prompts",
]


@dataclass(frozen=True)
class Pair:
    """A contrast pair: a shared context and a positive and a negative continuation."""

    context: str
    positive: str
    negative: str
    id: str

    def to_dict(self) -> dict:
        return {"context": self.context, "positive": self.positive, "negative": self.negative, "id": self.id}


@dataclass(frozen=True)
class MCItem:
    """A two-choice item: a question, its true answer and a false one (a common misconception)."""

    question: str
    true: str
    false: str
    id: str
    topic: str = ""

    def to_dict(self) -> dict:
        return {"id": self.id, "topic": self.topic, "question": self.question, "true": self.true, "false": self.false}


def as_pairs(items: Iterable[Any]) -> list[Pair]:
    """Normalise contrast items (``ContrastItem``, ``Pair``, dicts or ``(context, positive, negative)`` tuples)."""
    out = []
    for i, it in enumerate(items):
        if isinstance(it, Pair):
            out.append(it)
        elif isinstance(it, dict):
            try:
                out.append(Pair(str(it["context"]), str(it["positive"]), str(it["negative"]), str(it.get("id", i))))
            except KeyError as e:
                raise DataError(f"contrast item {i} has no field {e.args[0]!r} (expected context, positive, negative)") from None
        elif isinstance(it, (tuple, list)):
            if len(it) == 2:
                out.append(Pair("", str(it[0]), str(it[1]), str(i)))
            elif len(it) == 3:
                out.append(Pair(str(it[0]), str(it[1]), str(it[2]), str(i)))
            else:
                raise DataError(f"contrast item {i} has {len(it)} parts (expected (positive, negative) or (context, positive, negative))")
        elif all(hasattr(it, a) for a in ("context", "positive", "negative")):
            out.append(Pair(it.context, it.positive, it.negative, str(getattr(it, "id", i))))
        else:
            raise DataError(f"contrast item {i} of type {type(it).__name__} is not a contrast pair")
    return out


def load_pairs(source: Any = "truthfulness") -> tuple[list[Pair], str]:
    """Training pairs from a built-in set name, a JSONL path (``context``/``positive``/``negative``) or a list.

    Returns:
        ``(pairs, label)`` where ``label`` names the source for provenance.
    """
    if isinstance(source, (str, Path)):
        from cape.internals.prompts import load_contrast_set

        items = load_contrast_set(source if isinstance(source, str) else str(source))
        label = str(source) if isinstance(source, str) and "/" not in str(source) else Path(source).name
        return as_pairs(items), label
    return as_pairs(source), "user pairs"


def _data_path(name: str):
    return resources.files("cape").joinpath("data", "prompts", name)


def _read_jsonl(source: Any, default_name: str) -> tuple[list[dict], str]:
    if source is None:
        text = _data_path(default_name).read_text(encoding="utf-8")
        label = default_name
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise NotFoundError(f"{source}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text") from None
        label = str(path)
    rows = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if source is not None and not line.startswith("{") and default_name == "generation_prompts.jsonl":
            rows.append({"prompt": line, "id": f"line-{lineno}", "_line": lineno})
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{label}, line {lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{label}, line {lineno}: expected a JSON object")
        obj["_line"] = lineno
        rows.append(obj)
    if not rows:
        raise DataError(f"{label}: no items")
    return rows, label


def load_mc_items(source: Any = None) -> list[MCItem]:
    """Held-out two-choice truthfulness items (built-in by default, or a JSONL file with question/true/false)."""
    rows, label = _read_jsonl(source, "truthfulness_eval.jsonl")
    out, seen = [], set()
    for r in rows:
        for key in ("question", "true", "false"):
            if not isinstance(r.get(key), str) or not r[key].strip():
                raise DataError(f"{label}, line {r['_line']}: field {key!r} must be a non-empty string")
        if r["true"].strip() == r["false"].strip():
            raise DataError(f"{label}, line {r['_line']}: the true and false answers are identical")
        item_id = str(r.get("id", f"line-{r['_line']}"))
        if item_id in seen:
            raise DataError(f"{label}, line {r['_line']}: duplicate id {item_id!r}")
        seen.add(item_id)
        out.append(MCItem(r["question"].strip(), r["true"].strip(), r["false"].strip(), item_id, str(r.get("topic", ""))))
    return out


def load_generation_prompts(source: Any = None) -> list[str]:
    """Open generation prompts (built-in by default; a JSONL file with ``prompt`` fields or a plain text file)."""
    rows, label = _read_jsonl(source, "generation_prompts.jsonl")
    out = []
    for r in rows:
        p = r.get("prompt")
        if not isinstance(p, str) or not p.strip():
            raise DataError(f"{label}, line {r['_line']}: field 'prompt' must be a non-empty string")
        out.append(p.strip())
    return out


def split_items(items: Sequence[Any], frac: float, seed: int) -> tuple[list[Any], list[Any]]:
    """Shuffle with ``numpy.random.Generator(seed)`` and split off ``frac`` of the items (at least one each side)."""
    import numpy as np

    n = len(items)
    if n < 2:
        raise DataError(f"a validation split needs at least 2 items (got {n})")
    k = int(round(n * frac))
    k = min(max(k, 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val = sorted(order[:k].tolist())
    train = sorted(order[k:].tolist())
    return [items[i] for i in train], [items[i] for i in val]
