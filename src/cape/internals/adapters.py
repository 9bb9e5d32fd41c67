"""Architecture adapters: where the decoder blocks, attention, output projection and unembedding live.

Every supported architecture is described by one :class:`ArchAdapter`, a small frozen record of attribute
paths. The rest of :mod:`cape.internals` only talks to models through an adapter, so supporting a new
architecture means registering one more record with :func:`register_adapter`, nothing else.

Per-head outputs are read at the *input* of the attention output projection (``o_proj``, ``dense``,
``c_proj`` or ``out_proj``): that input is the concatenation of the heads' outputs, head ``h`` occupying
columns ``h * head_dim : (h + 1) * head_dim``. The head's contribution to the residual stream is its slice
times the matching column block of the projection weight (:func:`head_contributions`); the contributions of
all heads plus the projection bias sum exactly to the projection's output.

Example:
    >>> adapter = get_adapter(model)                      # doctest: +SKIP
    >>> block = adapter.layers(model)[0]                  # doctest: +SKIP
    >>> adapter.o_proj(block)                             # doctest: +SKIP
    Linear(in_features=576, out_features=576, bias=False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cape.errors import CapeError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "ArchAdapter",
    "UnsupportedArchitectureError",
    "block_output_hidden",
    "get_adapter",
    "head_contributions",
    "o_proj_weight",
    "register_adapter",
    "supported_model_types",
]


class UnsupportedArchitectureError(CapeError):
    """A model's architecture (``config.model_type``) has no registered adapter."""


def _get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _first_path(obj: Any, paths: tuple[str, ...], what: str, owner: str) -> Any:
    for path in paths:
        try:
            found = _get_path(obj, path)
        except AttributeError:
            continue
        if found is not None:
            return found
    raise UnsupportedArchitectureError(
        f"Could not find the {what} of this {owner} model (looked for {', '.join(paths)}); "
        "the installed transformers version may have renamed it."
    )


def _config_int(config: Any, keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = getattr(config, key, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _text_config(config: Any) -> Any:
    getter = getattr(config, "get_text_config", None)
    if callable(getter):
        try:
            return getter()
        except Exception:  # pragma: no cover - defensive: odd configs
            return config
    return config


@dataclass(frozen=True)
class ArchAdapter:
    """Where one family of decoder-only architectures keeps its parts.

    Attributes:
        name: Short adapter name, e.g. ``"gpt_neox"``.
        model_types: The ``config.model_type`` values this adapter serves.
        layers_paths: Candidate dotted paths, from the causal-LM model, to the ``ModuleList`` of decoder blocks.
        attention_names: Candidate attribute names of a block's self-attention module.
        o_proj_names: Candidate attribute names of the attention module's output projection.
        final_norm_paths: Candidate dotted paths, from the causal-LM model, to the final norm.
        unembed_paths: Candidate dotted paths to the unembedding (lm head).
        heads_keys, hidden_keys, head_dim_keys, kv_heads_keys: Config attribute names, tried in order.
        conv1d_o_proj: The output projection is a GPT-2 ``Conv1D`` (weight stored ``[in, out]``).
        logit_softcap_key: Config attribute holding a final logit soft-cap (Gemma 2), if any.
    """

    name: str
    model_types: tuple[str, ...]
    layers_paths: tuple[str, ...] = ("model.layers",)
    attention_names: tuple[str, ...] = ("self_attn",)
    o_proj_names: tuple[str, ...] = ("o_proj",)
    final_norm_paths: tuple[str, ...] = ("model.norm",)
    unembed_paths: tuple[str, ...] = ("lm_head",)
    heads_keys: tuple[str, ...] = ("num_attention_heads", "n_head", "num_heads")
    hidden_keys: tuple[str, ...] = ("hidden_size", "n_embd", "d_model")
    head_dim_keys: tuple[str, ...] = ("head_dim",)
    kv_heads_keys: tuple[str, ...] = ("num_key_value_heads", "num_kv_heads")
    conv1d_o_proj: bool = False
    logit_softcap_key: str | None = None
    notes: str = field(default="", compare=False)

    # ------------------------------------------------------------------ modules
    def layers(self, model: Any) -> torch.nn.ModuleList:
        """The decoder blocks of ``model`` (a causal-LM model), in order."""
        return _first_path(model, self.layers_paths, "decoder layers", self.name)

    def attention(self, layer: Any) -> torch.nn.Module:
        """The self-attention module of one decoder block."""
        return _first_path(layer, self.attention_names, "self-attention module", self.name)

    def o_proj(self, layer: Any) -> torch.nn.Module:
        """The attention output projection of one decoder block (``nn.Linear``, or ``Conv1D`` for GPT-2)."""
        return _first_path(self.attention(layer), self.o_proj_names, "attention output projection", self.name)

    def final_norm(self, model: Any) -> torch.nn.Module:
        """The norm applied after the last block (``nn.Identity`` where the model has none)."""
        try:
            return _first_path(model, self.final_norm_paths, "final norm", self.name)
        except UnsupportedArchitectureError:
            import torch

            return torch.nn.Identity()

    def unembed(self, model: Any) -> torch.nn.Module:
        """The unembedding (lm head) mapping the final hidden state to vocabulary logits."""
        getter = getattr(model, "get_output_embeddings", None)
        if callable(getter):
            found = getter()
            if found is not None:
                return found
        return _first_path(model, self.unembed_paths, "unembedding (lm head)", self.name)

    # ------------------------------------------------------------------ sizes
    def n_heads(self, config: Any) -> int:
        """Number of attention (query) heads per layer."""
        config = _text_config(config)
        value = _config_int(config, self.heads_keys)
        if value is None:
            raise UnsupportedArchitectureError(
                f"The {self.name} config has none of {', '.join(self.heads_keys)} (number of attention heads)."
            )
        return value

    def hidden_size(self, config: Any) -> int:
        """Width of the residual stream."""
        config = _text_config(config)
        value = _config_int(config, self.hidden_keys)
        if value is None:
            raise UnsupportedArchitectureError(
                f"The {self.name} config has none of {', '.join(self.hidden_keys)} (hidden size)."
            )
        return value

    def head_dim(self, config: Any) -> int:
        """Width of one head's output (``config.head_dim`` where set, else hidden size / heads)."""
        config = _text_config(config)
        value = _config_int(config, self.head_dim_keys)
        if value is not None:
            return value
        return self.hidden_size(config) // self.n_heads(config)

    def n_kv_heads(self, config: Any) -> int:
        """Number of key/value heads (equals :meth:`n_heads` without grouped-query attention)."""
        config = _text_config(config)
        if getattr(config, "multi_query", False) and not getattr(config, "new_decoder_architecture", False):
            return 1
        value = _config_int(config, self.kv_heads_keys)
        return value if value is not None else self.n_heads(config)

    def n_layers(self, model: Any) -> int:
        """Number of decoder blocks."""
        return len(self.layers(model))

    # ------------------------------------------------------------------ maps
    def logits(self, model: Any, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits from final hidden states (``unembed`` plus any final soft-cap the model applies)."""
        import torch

        out = self.unembed(model)(hidden)
        if self.logit_softcap_key:
            cap = getattr(_text_config(model.config), self.logit_softcap_key, None)
            if cap:
                out = torch.tanh(out / cap) * cap
        return out


_REGISTRY: dict[str, ArchAdapter] = {}


def register_adapter(adapter: ArchAdapter) -> None:
    """Register ``adapter`` for each of its ``model_types`` (replacing any earlier adapter for them).

    Example:
        >>> register_adapter(ArchAdapter(name="olmo", model_types=("olmo",)))  # llama-style paths
    """
    if not isinstance(adapter, ArchAdapter):
        raise TypeError("register_adapter expects an ArchAdapter")
    if not adapter.model_types:
        raise ValueError("an ArchAdapter must serve at least one model_type")
    for model_type in adapter.model_types:
        _REGISTRY[model_type] = adapter


def supported_model_types() -> tuple[str, ...]:
    """The ``config.model_type`` values with a registered adapter, sorted."""
    return tuple(sorted(_REGISTRY))


def get_adapter(model_or_config: Any) -> ArchAdapter:
    """The adapter serving a model (or a config, or a ``model_type`` string).

    Raises:
        UnsupportedArchitectureError: naming the model type and listing the supported ones.
    """
    if isinstance(model_or_config, str):
        model_type = model_or_config
    else:
        config = getattr(model_or_config, "config", model_or_config)
        model_type = getattr(config, "model_type", None)
        if model_type not in _REGISTRY:
            model_type = getattr(_text_config(config), "model_type", model_type)
    if model_type in _REGISTRY:
        return _REGISTRY[model_type]
    raise UnsupportedArchitectureError(
        f"Architecture {model_type!r} is not supported by cape.internals; supported model types: "
        f"{', '.join(supported_model_types())} (register one with cape.internals.adapters.register_adapter)."
    )


def block_output_hidden(output: Any) -> torch.Tensor:
    """The hidden-state tensor from a decoder block's forward output (a tensor, a tuple or a model output)."""
    import torch

    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    first = getattr(output, "last_hidden_state", None)
    if isinstance(first, torch.Tensor):
        return first
    raise TypeError(f"cannot find a hidden-state tensor in a block output of type {type(output).__name__}")


def o_proj_weight(adapter: ArchAdapter, layer: Any) -> torch.Tensor:
    """The output-projection weight in ``nn.Linear`` layout ``[out_features, in_features]``."""
    weight = adapter.o_proj(layer).weight
    return weight.T if adapter.conv1d_o_proj else weight


def head_contributions(
    adapter: ArchAdapter, layer: Any, o_proj_input: torch.Tensor, n_heads: int
) -> torch.Tensor:
    """Each head's contribution to the output projection's output.

    Args:
        adapter: The model's adapter.
        layer: One decoder block.
        o_proj_input: The projection's input, ``[..., n_heads * head_dim]``.
        n_heads: Number of heads.

    Returns:
        ``[..., n_heads, out_features]``: head ``h``'s slice times its column block of the projection weight.
        Summed over heads, plus the projection bias, this equals the projection's output.
    """
    import torch

    weight = o_proj_weight(adapter, layer)  # [out, in]
    out_features, in_features = weight.shape
    head_dim = in_features // n_heads
    z = o_proj_input.reshape(*o_proj_input.shape[:-1], n_heads, head_dim)
    w = weight.reshape(out_features, n_heads, head_dim).to(z.dtype)
    return torch.einsum("...hd,ohd->...ho", z, w)


_LLAMA_STYLE = (
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen3",
    "gemma",
    "phi3",
    "olmo",
    "olmo2",
    "smollm3",
)

for _adapter in (
    ArchAdapter(
        name="gpt_neox",
        model_types=("gpt_neox",),
        layers_paths=("gpt_neox.layers",),
        attention_names=("attention",),
        o_proj_names=("dense",),
        final_norm_paths=("gpt_neox.final_layer_norm",),
        unembed_paths=("lm_head", "embed_out"),
    ),
    ArchAdapter(
        name="gpt2",
        model_types=("gpt2",),
        layers_paths=("transformer.h",),
        attention_names=("attn",),
        o_proj_names=("c_proj",),
        final_norm_paths=("transformer.ln_f",),
        conv1d_o_proj=True,
    ),
    ArchAdapter(
        name="opt",
        model_types=("opt",),
        layers_paths=("model.decoder.layers",),
        o_proj_names=("out_proj",),
        final_norm_paths=("model.decoder.final_layer_norm",),
        hidden_keys=("hidden_size",),
        notes="OPT-350m projects the final hidden state to word_embed_proj_dim before the lm head.",
    ),
    ArchAdapter(
        name="bloom",
        model_types=("bloom",),
        layers_paths=("transformer.h",),
        attention_names=("self_attention",),
        o_proj_names=("dense",),
        final_norm_paths=("transformer.ln_f",),
    ),
    ArchAdapter(
        name="falcon",
        model_types=("falcon",),
        layers_paths=("transformer.h",),
        attention_names=("self_attention",),
        o_proj_names=("dense",),
        final_norm_paths=("transformer.ln_f",),
    ),
    ArchAdapter(name="llama", model_types=_LLAMA_STYLE),
    ArchAdapter(name="gemma2", model_types=("gemma2", "gemma3_text"), logit_softcap_key="final_logit_softcapping"),
    ArchAdapter(
        name="phi",
        model_types=("phi",),
        o_proj_names=("dense",),
        final_norm_paths=("model.final_layernorm",),
    ),
):
    register_adapter(_adapter)
