"""Infer a model's family from its name.

The rules are ordered regular expressions over the model name (the part after an ``org/`` prefix). Users
override them with an explicit ``family`` column or a mapping (``infer_family(name, overrides={...})``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_RULES: tuple[tuple[str, str], ...] = (
    (r"^pythia", "Pythia"),
    (r"^gpt-?j", "GPT-J/NeoX"),
    (r"^gpt-?neox", "GPT-J/NeoX"),
    (r"^gpt-?neo", "GPT-Neo"),
    (r"^gpt-?2", "GPT-2"),
    (r"^opt-", "OPT"),
    (r"^bloomz?", "BLOOM"),
    (r"^cerebras", "Cerebras-GPT"),
    (r"^falcon", "Falcon"),
    (r"^(llama-?1|llama1)\b|^llama-(7|13|30|33|65)b\b|^llama$", "Llama-1"),
    (r"^(llama-?2|llama2)", "Llama-2"),
    (r"^(meta-)?(llama-?3|llama3)", "Llama-3"),
    (r"^mistral", "Mistral"),
    (r"^mixtral", "Mixtral"),
    (r"^olmo-?2", "OLMo-2"),
    (r"^olmo", "OLMo"),
    (r"^phi", "Phi"),
    (r"^qwen-?2\.5|^qwen2_5", "Qwen2.5"),
    (r"^qwen-?3", "Qwen3"),
    (r"^qwen-?2", "Qwen2"),
    (r"^qwen", "Qwen"),
    (r"^gemma", "Gemma"),
    (r"^yi-", "Yi"),
    (r"^mpt", "MPT"),
    (r"^deepseek", "DeepSeek"),
    (r"^smollm2", "SmolLM2"),
    (r"^smollm", "SmolLM"),
    (r"^stablelm", "StableLM"),
    (r"^redpajama|^rp-incite", "RedPajama"),
)
#: the rules compiled once (a 10,000-model table is matched against them 10,000 times)
_COMPILED = tuple((re.compile(pat), fam) for pat, fam in _RULES)
_STEM = re.compile(r"[-_](\d+(\.\d+)?[mbk]|v\d)")


def known_family(model: str) -> str | None:
    """The family a name's rules give (``"LLaMA" -> "Llama-1"``), or ``None`` when no rule matches (then
    :func:`infer_family` falls back to the name's stem)."""
    name = str(model).strip().split("/")[-1].lower()
    for pat, fam in _COMPILED:
        if pat.search(name):
            return fam
    return None


def infer_family(model: str, overrides: Mapping[str, str] | None = None) -> str:
    """Family of ``model`` by name, e.g. ``"EleutherAI/pythia-1b" -> "Pythia"``.

    ``overrides`` maps a model name (or a name prefix, case-insensitive) to a family and wins over the
    rules. Unrecognised names return the name's stem before the first size token (``"foo-7b" -> "foo"``).
    """
    full = str(model).strip()
    if overrides:
        low = full.lower()
        for k, fam in overrides.items():
            if low == k.lower() or low.startswith(k.lower()):
                return fam
    name = full.split("/")[-1].lower()
    for pat, fam in _COMPILED:
        if pat.search(name):
            return fam
    stem = _STEM.split(name)[0]
    return stem or name
