"""Architecture adapters: every supported architecture, exact per-head decomposition, clear errors."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import TINY_ARCHS, tiny_model  # noqa: E402

from cape.errors import CapeError  # noqa: E402
from cape.internals.adapters import (  # noqa: E402
    ArchAdapter,
    UnsupportedArchitectureError,
    block_output_hidden,
    get_adapter,
    head_contributions,
    register_adapter,
    supported_model_types,
)


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_adapter_finds_every_part(arch):
    model, _ = tiny_model(arch)
    ad = get_adapter(model)
    assert model.config.model_type in ad.model_types
    layers = ad.layers(model)
    assert len(layers) == model.config.num_hidden_layers
    n_heads, head_dim = ad.n_heads(model.config), ad.head_dim(model.config)
    assert (n_heads, head_dim) == (4, 8)
    assert ad.hidden_size(model.config) == 32
    for layer in layers:
        assert isinstance(ad.attention(layer), torch.nn.Module)
        proj = ad.o_proj(layer)
        in_features = proj.weight.shape[0] if ad.conv1d_o_proj else proj.weight.shape[1]
        assert in_features == n_heads * head_dim
    assert isinstance(ad.final_norm(model), torch.nn.Module)
    assert ad.unembed(model).weight.shape[0] == model.config.vocab_size


@pytest.mark.parametrize("arch", TINY_ARCHS)
def test_head_contributions_sum_to_o_proj_output(arch):
    """sum over heads of head_slice @ W_o_slice.T + bias == o_proj output, in every layer."""
    model, tok = tiny_model(arch)
    ad = get_adapter(model)
    seen: dict = {}
    handles = []
    for i, layer in enumerate(ad.layers(model)):
        proj = ad.o_proj(layer)
        handles.append(proj.register_forward_pre_hook(lambda m, a, i=i: seen.__setitem__(("in", i), a[0].clone())))
        handles.append(proj.register_forward_hook(lambda m, a, o, i=i: seen.__setitem__(("out", i), o.clone())))
    try:
        batch = tok(["The dog heard the doorbell and ran to the door."], return_tensors="pt")
        with torch.no_grad():
            model(**batch)
    finally:
        for h in handles:
            h.remove()
    for i, layer in enumerate(ad.layers(model)):
        contrib = head_contributions(ad, layer, seen[("in", i)], ad.n_heads(model.config))
        assert contrib.shape[-2] == 4
        bias = ad.o_proj(layer).bias
        total = contrib.sum(-2) + (bias if bias is not None else 0)
        torch.testing.assert_close(total, seen[("out", i)], atol=1e-5, rtol=1e-5)


def test_unsupported_architecture_names_the_type_and_lists_supported():
    class Cfg:
        model_type = "mamba"

    with pytest.raises(UnsupportedArchitectureError) as err:
        get_adapter(Cfg())
    msg = str(err.value)
    assert "'mamba'" in msg and "gpt_neox" in msg and "llama" in msg
    assert isinstance(err.value, CapeError)


def test_registry_is_extensible():
    assert "my_llama_clone" not in supported_model_types()
    register_adapter(ArchAdapter(name="my_llama_clone", model_types=("my_llama_clone",)))
    try:
        assert get_adapter("my_llama_clone").name == "my_llama_clone"
    finally:
        from cape.internals import adapters

        adapters._REGISTRY.pop("my_llama_clone")


def test_block_output_hidden_accepts_tensor_and_tuple():
    t = torch.zeros(2, 3, 4)
    assert block_output_hidden(t) is t
    assert block_output_hidden((t, None)) is t
    with pytest.raises(TypeError):
        block_output_hidden(None)
