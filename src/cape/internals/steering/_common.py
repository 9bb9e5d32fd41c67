"""Shared helpers of the steering package: errors, model access, identity, tokenisation and prompt formats.

Nothing here is specific to one step (training, applying, evaluating); each step imports from here.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from cape.errors import CapeError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "SteeringError",
    "SteeringCompatibilityError",
    "POSITIONS",
    "unwrap_model",
    "model_identity",
    "decoder_layers",
    "n_layers",
    "hidden_size",
    "quarter_layer",
    "resolve_layers",
    "use_chat",
    "format_prompt",
    "encode_prompt",
    "encode_completion",
    "pad_right",
    "padding_for_generation",
    "sha256_json",
]

#: Where a steering vector is added: every position, prompt positions only, or the positions that produce
#: generated tokens (the last prompt token and every generated token).
POSITIONS = ("all", "prompt", "generated")


#: Words that negate a statement; used to report how far a contrast set or an evaluation confounds truth with negation.
NEGATION = re.compile(r"\b(no|not|never|cannot|can't|don't|doesn't|isn't|aren't|won't|nothing|none|without)\b",
                      re.IGNORECASE)


class SteeringError(CapeError):
    """A steering request cannot be carried out (bad layer, bad strength, empty training set, ...)."""


class SteeringCompatibilityError(SteeringError):
    """A steering vector was trained on a different model (hidden size or identity) than the one given."""


# ----------------------------------------------------------------------------------------------- models
def unwrap_model(model: Any, tokenizer: Any = None) -> tuple[Any, Any, dict]:
    """Split a :class:`cape.internals.loading.LoadedModel` (or a bare HF model) into model, tokenizer, identity.

    Args:
        model: A ``LoadedModel`` (attributes ``model``, ``tokenizer``, ``model_id``, ...) or a HF causal LM.
        tokenizer: The tokenizer; taken from the ``LoadedModel`` when not given.

    Returns:
        ``(hf_model, tokenizer, identity)`` where ``identity`` is :func:`model_identity` of the model.
    """
    ident_extra: dict = {}
    if hasattr(model, "model") and hasattr(model, "tokenizer") and hasattr(model, "model_id"):
        loaded = model
        model = loaded.model
        tokenizer = tokenizer if tokenizer is not None else loaded.tokenizer
        ident_extra = {
            "model_id": getattr(loaded, "model_id", None),
            "revision": getattr(loaded, "revision", None),
            "file_hash": getattr(loaded, "file_hash", None),
        }
    ident = model_identity(model)
    for k, v in ident_extra.items():
        if v:
            ident[k] = str(v)
    return model, tokenizer, ident


def _text_config(config: Any) -> Any:
    getter = getattr(config, "get_text_config", None)
    if callable(getter):
        try:
            return getter()
        except Exception:  # pragma: no cover - odd configs
            return config
    return config


def weights_fingerprint(model: Any) -> str | None:
    """A short hash of the first input-embedding values, coarsely rounded so that a dtype change keeps it.

    It identifies a model whose name is unknown (a model built from a config in memory); it is a fallback, the
    model id and revision or file hash come first.
    """
    import torch

    try:
        emb = model.get_input_embeddings().weight
    except Exception:  # pragma: no cover - models without input embeddings
        return None
    with torch.no_grad():
        flat = emb.detach().reshape(-1)[:64].float().cpu()
        coarse = torch.round(flat * 256.0).to(torch.int64).numpy().tobytes()
    shape = "x".join(str(s) for s in emb.shape).encode()
    return hashlib.sha256(shape + b"|" + coarse).hexdigest()[:16]


def model_identity(model: Any) -> dict:
    """What identifies a model for steering: id, revision/file hash, architecture, sizes, weights fingerprint."""
    cfg = getattr(model, "config", None)
    tcfg = _text_config(cfg) if cfg is not None else None
    name = getattr(cfg, "_name_or_path", "") or None
    revision = getattr(cfg, "_commit_hash", None)
    return {
        "model_id": str(name) if name else None,
        "revision": str(revision) if revision else None,
        "file_hash": None,
        "model_type": getattr(tcfg, "model_type", None) or getattr(cfg, "model_type", None),
        "num_layers": n_layers(model),
        "hidden_size": hidden_size(model),
        "weights_fingerprint": weights_fingerprint(model),
    }


def _adapter(model: Any):
    from cape.internals.adapters import get_adapter

    return get_adapter(model)


def decoder_layers(model: Any):
    """The ``ModuleList`` of decoder blocks (through the architecture adapter)."""
    return _adapter(model).layers(model)


def n_layers(model: Any) -> int:
    """Number of decoder blocks of ``model``."""
    return len(decoder_layers(model))


def hidden_size(model: Any) -> int:
    """Width of the residual stream of ``model``."""
    return int(_adapter(model).hidden_size(model.config))


def quarter_layer(num_layers: int) -> int:
    """The paper's probe layer: ``floor(L / 4)`` (0-indexed block whose output is steered)."""
    return num_layers // 4


def resolve_layers(spec: Any, num_layers: int) -> list[int]:
    """Turn a layer specification into sorted, validated, 0-indexed block numbers.

    Args:
        spec: an int, a list of ints (negative counts from the end), ``"quarter"``, ``"all"``, or a string such as
            ``"6"``, ``"4,6,8"`` or ``"2-10"``.
        num_layers: Number of decoder blocks.
    """
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s == "quarter":
            return [quarter_layer(num_layers)]
        if s == "all":
            return list(range(num_layers))
        out: list[int] = []
        for part in s.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part[1:]:
                    i = part.index("-", 1)
                    a, b = int(part[:i]), int(part[i + 1:])
                    out.extend(range(a, b + 1))
                else:
                    out.append(int(part))
            except ValueError:
                raise SteeringError(
                    f"layer specification {spec!r} is not understood (expected 'auto', 'quarter', 'all', "
                    "an index, a comma list or a range such as 2-10)"
                ) from None
        spec = out
    if isinstance(spec, int):
        spec = [spec]
    layers = []
    for layer in spec:
        try:
            layer = int(layer)
        except (TypeError, ValueError):
            raise SteeringError(f"layer {layer!r} is not an integer") from None
        if layer < 0:
            layer += num_layers
        if not 0 <= layer < num_layers:
            raise SteeringError(f"layer {layer} is out of range: this model has {num_layers} layers (0..{num_layers - 1})")
        layers.append(layer)
    if not layers:
        raise SteeringError("no layers were given")
    return sorted(set(layers))


# ----------------------------------------------------------------------------------------------- prompts
def use_chat(tokenizer: Any, chat: Any) -> bool:
    """Whether to format prompts with the tokenizer's chat template (``chat`` is True, False or ``"auto"``)."""
    has = bool(getattr(tokenizer, "chat_template", None))
    if chat == "auto" or chat is None:
        return has
    if chat and not has:
        raise SteeringError("a chat template was requested but this tokenizer has none (use chat=False)")
    return bool(chat)


def format_prompt(tokenizer: Any, text: str, chat: bool, system: str | None = None) -> str:
    """The prompt text a model sees: the raw text, or a user turn plus the assistant header of the chat template."""
    if not chat:
        return text
    messages = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": text})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _ids(enc: Any) -> list[int]:
    ids = enc["input_ids"] if isinstance(enc, dict) or hasattr(enc, "keys") else enc
    return list(ids)


def encode_prompt(tokenizer: Any, text: str, chat: bool) -> list[int]:
    """Token ids of a (possibly chat-formatted) prompt; special tokens are added for plain text only."""
    formatted = format_prompt(tokenizer, text, chat)
    # A chat template already contains its special tokens.
    return _ids(tokenizer(formatted, add_special_tokens=not chat))


def encode_completion(tokenizer: Any, completion: str, after_prompt: bool) -> list[int]:
    """Token ids of a completion that follows a prompt (a leading space is added after a plain prompt)."""
    text = (" " + completion.lstrip()) if after_prompt else completion
    return _ids(tokenizer(text, add_special_tokens=False))


def pad_id(tokenizer: Any) -> int:
    """A token id to pad with (the pad token, else end-of-sequence, else 0)."""
    for attr in ("pad_token_id", "eos_token_id"):
        v = getattr(tokenizer, attr, None)
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        if v is not None:
            return int(v)
    return 0


def pad_right(seqs: Sequence[Sequence[int]], pad: int) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Right-pad token id lists into ``input_ids`` and ``attention_mask`` tensors ``[batch, max_len]``.

    Right padding keeps every real token at its natural position, so a plain forward pass computes exactly
    the same states for real tokens as without padding (causal attention never looks at later padding).
    """
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


@contextmanager
def padding_for_generation(tokenizer: Any) -> Iterator[Any]:
    """Temporarily set left padding (and a pad token if missing) on ``tokenizer``; restored afterwards."""
    side = getattr(tokenizer, "padding_side", "right")
    had_pad = getattr(tokenizer, "pad_token", None) is not None
    try:
        tokenizer.padding_side = "left"
        if not had_pad:
            eos = getattr(tokenizer, "eos_token", None)
            if eos is None:
                raise SteeringError("the tokenizer has neither a pad token nor an end-of-sequence token")
            tokenizer.pad_token = eos
        yield tokenizer
    finally:
        tokenizer.padding_side = side
        if not had_pad:
            tokenizer.pad_token = None


def sha256_json(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def check_strength(strength: Any) -> float:
    """Validate a strength (a finite number)."""
    import math

    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise SteeringError(f"strength {strength!r} is not a number") from None
    if not math.isfinite(s):
        raise SteeringError(f"strength {strength!r} is not finite")
    return s


def check_positions(positions: str) -> str:
    if positions not in POSITIONS:
        raise SteeringError(f"positions {positions!r} is not one of {', '.join(POSITIONS)}")
    return positions


def require_torch() -> None:
    """Raise a one-sentence :class:`cape.errors.DependencyError` when torch/transformers are missing."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        from cape.errors import DependencyError

        raise DependencyError(
            f"steering needs the 'internals' extra (torch, transformers): pip install 'cape[internals]' ({e.name} is missing)"
        ) from None
