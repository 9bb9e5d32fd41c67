"""Sizes: from names (size tokens only) and from size columns under every common spelling, with the 1.5x check."""

from __future__ import annotations

import pytest

from cape.ingest import read_any
from cape.ingest.common import name_size, params_from_name


@pytest.mark.parametrize("name, total", [
    ("EleutherAI/pythia-1.4b", 1.4e9), ("facebook/opt-125m", 1.25e8), ("stabilityai/stablelm-2-1_6b", 1.6e9),
    ("bigscience/bloom-1b1", 1.1e9), ("bigscience/bloom-1b7", 1.7e9), ("bigscience/bloom-7b1", 7.1e9),
    ("SicariusSicariiStuff/LLAMA-3_8B_Unaligned", 8e9), ("mistralai/Mistral-7B-v0.1", 7e9),
    ("meta-llama/Llama-3.2-1B", 1e9), ("Qwen/Qwen2.5-3B", 3e9), ("HuggingFaceTB/SmolLM2-135M", 1.35e8),
    ("mistralai/Mixtral-8x7B-v0.1", 5.6e10),
    # never a context length, training steps, a version, an active size, or two different sizes
    ("someone/Mixtral_AI_128k_bioMedical", None), ("someone/GPT-2-Large-115k-steps", None),
    ("Qwen/Qwen1.5-MoE-A2.7B", None), ("microsoft/phi-1_5", None), ("x/llama-7b-distilled-from-70b", None),
])
def test_sizes_from_names(name, total):
    assert params_from_name(name) == total


def test_mixture_of_experts_keeps_experts_and_expert_size():
    ns = name_size("mistralai/Mixtral-8x7B-Instruct-v0.1")
    assert ns.is_moe and ns.experts == 8 and ns.expert == 7e9 and ns.total == 5.6e10


@pytest.mark.parametrize("header, cell, raw", [
    ("Model Size (B)", "7.0", 7e9), ("#Params (B)", "7.242", 7.242e9), ("params_b", "70", 7e10),
    ("Parameters", "72.706B", 7.2706e10), ("metadata_params_billions", "1.5", 1.5e9),
    ("model_num_parameters", "124439808", 124439808.0), ("params (M)", "160", 1.6e8),
])
def test_size_columns_under_common_spellings(tmp_path, header, cell, raw):
    p = tmp_path / "t.csv"
    p.write_text(f'model,"{header}",HellaSwag\nsome-model,{cell},50\n')
    t, _ = read_any(p)
    assert t.model_frame().loc["some-model", "params"] == pytest.approx(raw)


def test_sentinel_sizes_fall_back_to_the_name_and_a_size_mismatch_is_noted(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("model,#Params (B),HellaSwag\norg/a-7B,-1,50\norg/b-1.3b,0,40\norg/c-70B,30,70\nd,-1B,30\n")
    t, r = read_any(p)
    mf = t.model_frame()
    assert mf.loc["org/a-7B", "params"] == 7e9 and mf.loc["org/b-1.3b", "params"] == 1.3e9
    assert mf.loc["org/c-70B", "params"] == pytest.approx(3e10)  # the given size is kept ...
    assert any("1.5x away" in n.message and "org/c-70B" in n.message for n in r.notes)  # ... and noted
    assert str(mf.loc["d", "params"]) == "nan"
    assert sum("placeholder for unknown" in d.reason for d in r.dropped) == 3


@pytest.mark.parametrize("model,given,noted", [
    ("meta-llama/Llama-2-70B", "38.9", True),       # the example: 1.80x below the name
    ("org/m-70B", "46.6", True),                    # 1.502x below
    ("org/m-70B", "46.7", False),                   # 1.499x below
    ("huggyllama/llama-13B", "9.1", False),         # 1.43x below
    ("org/m-7B", "10.6", True),                     # 1.51x above
    ("org/m-7B", "10.4", False),                    # 1.49x above
    ("mistralai/Mixtral-8x7B-v0.1", "46.7", False),  # 1.2x below the nominal total 8 x 7B = 56B
    ("mistralai/Mixtral-8x7B-v0.1", "12.9", True),  # the active size: 4.3x below the total
])
def test_size_mismatch_beyond_one_and_a_half_times_is_noted(tmp_path, model, given, noted):
    p = tmp_path / "t.csv"
    p.write_text(f"model,params_b,HellaSwag\n{model},{given},50\n")
    t, r = read_any(p)
    assert t.model_frame().loc[model, "params"] == pytest.approx(float(given) * 1e9)  # the given size is kept
    hit = [n.message for n in r.notes if "away from the size in their name" in n.message]
    assert bool(hit) == noted
    if noted:
        assert f"{model}: {float(given) * 1e9:.3g} given" in hit[0] and "1.5x" in hit[0]


def test_moe_sized_from_name_is_noted(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("model,HellaSwag\nmistralai/Mixtral-8x7B-v0.1,84\n")
    t, r = read_any(p)
    assert t.model_frame().loc["mistralai/Mixtral-8x7B-v0.1", "params"] == 5.6e10
    assert any("8 x 7e+09 = 5.6e+10 total" in n.message and "active per token" in n.message for n in r.notes)
