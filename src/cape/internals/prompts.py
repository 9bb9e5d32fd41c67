"""Contrast prompt sets: a shared context with a preferred and a dispreferred continuation.

Two sets ship with the package, written for CAPE (not copied from any benchmark):

* ``"reasoning"``: everyday situations with a sensible and a wrong continuation (HellaSwag-style);
* ``"truthfulness"``: a topic with a true statement and a common misconception (TruthfulQA-style).

Users can pass their own JSONL file, one object per line with the fields ``context``, ``positive`` and
``negative`` (strings) and optionally ``id``. The full text of a side is ``context + " " + continuation``.

Example:
    >>> items = load_contrast_set("reasoning")
    >>> len(items) >= 100
    True
    >>> items[0].positive_text.startswith(items[0].context)
    True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from cape.errors import DataError

__all__ = [
    "BUILTIN_SETS",
    "ContrastItem",
    "PromptSetError",
    "contrast_set_hash",
    "load_contrast_set",
]

BUILTIN_SETS = ("reasoning", "truthfulness")
_FIELDS = ("context", "positive", "negative")


class PromptSetError(DataError):
    """A contrast prompt set is missing or malformed."""


@dataclass(frozen=True)
class ContrastItem:
    """One contrast pair.

    Attributes:
        context: The shared beginning (a situation, a question or a topic).
        positive: The preferred continuation (sensible, or true).
        negative: The dispreferred continuation (wrong, or a misconception).
        id: A stable identifier, unique within its set.
    """

    context: str
    positive: str
    negative: str
    id: str

    @property
    def positive_text(self) -> str:
        return _join(self.context, self.positive)

    @property
    def negative_text(self) -> str:
        return _join(self.context, self.negative)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _join(context: str, continuation: str) -> str:
    context = context.rstrip()
    continuation = continuation.strip()
    if not context:
        return continuation
    return f"{context} {continuation}"


def _builtin_path(name: str):
    return resources.files("cape").joinpath("data", "prompts", f"{name}.jsonl")


def _parse_lines(lines: list[str], source: str) -> list[ContrastItem]:
    items: list[ContrastItem] = []
    seen: set[str] = set()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptSetError(f"{source} line {lineno}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(obj, dict):
            raise PromptSetError(f"{source} line {lineno}: expected a JSON object with context/positive/negative.")
        for key in _FIELDS:
            if key not in obj:
                raise PromptSetError(f"{source} line {lineno}: missing field {key!r}.")
            if not isinstance(obj[key], str):
                raise PromptSetError(f"{source} line {lineno}: field {key!r} must be a string.")
        if not obj["positive"].strip() or not obj["negative"].strip():
            raise PromptSetError(f"{source} line {lineno}: 'positive' and 'negative' must be non-empty.")
        if obj["positive"].strip() == obj["negative"].strip():
            raise PromptSetError(f"{source} line {lineno}: 'positive' and 'negative' are identical.")
        item_id = obj.get("id", f"{Path(source).stem}-{lineno}")
        if not isinstance(item_id, (str, int)):
            raise PromptSetError(f"{source} line {lineno}: field 'id' must be a string or an integer.")
        item_id = str(item_id)
        if item_id in seen:
            raise PromptSetError(f"{source} line {lineno}: duplicate id {item_id!r}.")
        seen.add(item_id)
        items.append(ContrastItem(obj["context"], obj["positive"], obj["negative"], item_id))
    if not items:
        raise PromptSetError(f"{source}: no contrast items (expected one JSON object per line).")
    return items


def load_contrast_set(name_or_path: str | Path) -> list[ContrastItem]:
    """Load a built-in contrast set by name (``"reasoning"``, ``"truthfulness"``) or a user JSONL file.

    Args:
        name_or_path: A built-in set name or the path of a JSONL file (one object per line with ``context``,
            ``positive``, ``negative`` and optionally ``id``; blank lines and ``#`` lines are skipped).

    Returns:
        The items, in file order.

    Raises:
        PromptSetError: the name is unknown, the file is missing, or a line is malformed (naming the line).
    """
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_SETS:
        text = _builtin_path(name_or_path).read_text(encoding="utf-8")
        return _parse_lines(text.splitlines(), f"{name_or_path}.jsonl")
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise PromptSetError(
            f"{name_or_path}: not a built-in prompt set ({', '.join(BUILTIN_SETS)}) and no such JSONL file."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PromptSetError(f"{path}: not UTF-8 text.") from exc
    return _parse_lines(text.splitlines(), str(path))


def contrast_set_hash(items: list[ContrastItem]) -> str:
    """``sha256:`` of the items' canonical JSON (order-sensitive): identifies a prompt set in provenance."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item.to_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()
