"""`--hub ORG/MODEL`: lineage and family across sizes from the (stub) Hub, then diagnose and doctor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hubstub import V1, serving  # noqa: E402

from cape.cli import main  # noqa: E402
from cape.errors import HubUnavailableError, NotFoundError  # noqa: E402
from cape.hub.client import HubSettings  # noqa: E402
from cape.hub.lineage import find_family, name_stem, siblings  # noqa: E402

OPT = ["facebook/opt-125m", "facebook/opt-350m", "facebook/opt-1.3b", "facebook/opt-2.7b", "facebook/opt-6.7b",
       "facebook/opt-13b", "facebook/opt-30b", "facebook/opt-66b"]


@pytest.fixture
def hub(monkeypatch, tmp_path):
    with serving(monkeypatch, tmp_path) as stub:
        yield stub


def test_name_stem_and_siblings():
    assert name_stem("Qwen/Qwen2.5-7B-Instruct") == "qwen/qwen2.5-*-instruct"
    assert name_stem("EleutherAI/pythia-1.4b") == "eleutherai/pythia-*"
    assert name_stem("mistralai/Mixtral-8x7B-v0.1") is None  # a mixture is not one size
    assert name_stem("openai-community/gpt2") is None
    names = ["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-Math-7B"]
    assert siblings("Qwen/Qwen2.5-7B-Instruct", names) == ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct",
                                                           "Qwen/Qwen2.5-72B-Instruct"]


def test_v1_family_matches_the_embedded_opt_numbers(hub):
    from cape import data
    from cape.diagnose import diagnose

    fam = find_family("facebook/opt-1.3b", "HellaSwag:TruthfulQA", settings=HubSettings.from_env())
    assert fam.family == "facebook/opt-*" and list(fam.members) == OPT and fam.scores_from == "v1"
    assert fam.model_type == "pretrained" and fam.base_model is None and fam.precisions == ("float16",)
    lone_ft = find_family("Alsebay/Qwen2.5-7B-test-novelist", "BBH:MMLU-Pro", settings=HubSettings.from_env())
    assert (lone_ft.model_type, lone_ft.base_model) == ("fine-tuned", "Qwen/Qwen2.5-7B")
    sha = hub.repos[("dataset", V1)]["refs"]["main"]
    assert fam.table.long["source"].str.startswith(f"hf://datasets/{V1}@{sha}/facebook/opt-").all()
    hubres = diagnose(fam.table, "HS:TQA", families=[fam.family], n_boot=200, seed=0)
    embres = diagnose(data.load_base(), "HS:TQA", families=["OPT"], n_boot=200, seed=0)
    g_hub = [iv.gamma for iv in hubres.families[0].coupling.intervals]
    g_emb = [iv.gamma for iv in embres.families[0].coupling.intervals]
    assert g_hub == pytest.approx(g_emb, abs=1e-9)
    assert [round(g, 3) for g in g_hub] == [-0.388, -0.119, -0.186, -0.320, -0.402, 0.369, 0.124]
    # same scores: the same N_c verdict as the embedded OPT rows (the bootstrap seed also depends on the family
    # name, so the interval's ends differ by resampling noise only)
    assert hubres.families[0].nc.status == embres.families[0].nc.status == "none"


def test_v2_pair_states_precisions_and_lone_fine_tunes(hub):
    s = HubSettings.from_env()
    fam = find_family("Qwen/Qwen2.5-0.5B-Instruct", "BBH:IFEval", settings=s)
    assert fam.family == "Qwen/Qwen2.5-*-Instruct" and len(fam.members) == 7 and fam.scores_from == "v2"
    assert fam.precisions == ("bfloat16", "float16") and fam.base_model == "Qwen/Qwen2.5-0.5B"
    assert ("Qwen/Qwen2.5-0.5B-Instruct is listed 2 times on the leaderboard v2 (bfloat16, float16); the bfloat16 "
            "evaluation is used (one precision per model, in the order bfloat16, float16, float32)") in fam.notes
    assert fam.table.wide().loc["Qwen/Qwen2.5-0.5B-Instruct", "BBH"] == pytest.approx(8.434864, abs=1e-6)
    lone = find_family("Alsebay/Qwen2.5-7B-test-novelist", "BBH:MMLU-Pro", settings=s)
    assert lone.family == "Qwen/Qwen2.5-*" and lone.diagnosed == "Qwen/Qwen2.5-7B"
    assert lone.notes == ("Alsebay/Qwen2.5-7B-test-novelist is a fine-tune of Qwen/Qwen2.5-7B with no siblings "
                          "across sizes; the family diagnosed is Qwen/Qwen2.5-7B's, not "
                          "Alsebay/Qwen2.5-7B-test-novelist's own",)


def test_not_found_cases_are_one_sentence(hub):
    s = HubSettings.from_env()
    with pytest.raises(NotFoundError, match=r"^--hub nobody/thing-7b: no results for it in the archived leaderboard"):
        find_family("nobody/thing-7b", "HS:TQA", settings=s)
    with pytest.raises(NotFoundError, match=r"^--hub nobody/thing-7b: not in the leaderboard v2 contents"):
        find_family("nobody/thing-7b", "BBH:IFEval", settings=s)


def test_offline_without_cache_uses_embedded_data_and_says_how_to_fetch(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fam = find_family("facebook/opt-1.3b", "HS:TQA", settings=HubSettings.from_env())
    assert fam.scores_from == "embedded" and fam.family == "OPT" and fam.diagnosed == "OPT-1.3B"
    assert len(hub.log) == 0
    assert fam.notes == ("dataset open-llm-leaderboard-old/results: HF_HUB_OFFLINE is set and nothing is cached: "
                         "diagnosed OPT-1.3B from CAPE's embedded data (family OPT) instead; run `cape fetch "
                         "leaderboard --version v1 --org facebook` when online for the Hub's numbers",)
    with pytest.raises(HubUnavailableError, match=r"nothing is cached; run .*; nobody/thing-7b is not in CAPE's "
                                                  r"embedded data either$"):
        find_family("nobody/thing-7b", "HS:TQA", settings=HubSettings.from_env())


def test_offline_with_cache_uses_it(hub, monkeypatch):
    online = find_family("facebook/opt-1.3b", "HS:TQA", settings=HubSettings.from_env())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    n = len(hub.log)
    off = find_family("facebook/opt-1.3b", "HS:TQA", settings=HubSettings.from_env())
    assert len(hub.log) == n and off.members == online.members
    assert any(x.startswith("HF_HUB_OFFLINE is set: using the cached copy of dataset open-llm-leaderboard-old/"
                            "results downloaded ") for x in off.notes)


def test_cli_diagnose_and_doctor_with_hub(hub, capsys):
    assert main(["diagnose", "--hub", "facebook/opt-1.3b", "--n-boot", "200", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["hub"]["family"] == "facebook/opt-*" and d["hub"]["members"] == OPT
    assert [f["family"] for f in d["families"]] == ["facebook/opt-*"]
    assert main(["doctor", "--hub", "facebook/opt-1.3b", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["hub"]["diagnosed"] == "facebook/opt-1.3b" and d["model"] == "facebook/opt-1.3b"
    assert d["phase"]["label"] == "tax" and d["phase"]["gamma"] == pytest.approx(-0.119, abs=5e-4)
    assert main(["diagnose", "--hub", "facebook/opt-1.3b", "--n-boot", "100"]) == 0
    out = capsys.readouterr().out
    assert "Hub: facebook/opt-1.3b (pretrained)" in out and "family facebook/opt-*: 8 sizes" in out
    assert main(["diagnose", "--hub", "facebook/opt-1.3b", "tests/data/hub/_make_hub_data.py"]) == 2
    assert "--hub and score files are two sources" in capsys.readouterr().err
    assert main(["diagnose", "--hub", "facebook/opt-1.3b", "--family", "OPT"]) == 2
    assert "--hub finds the model's family itself" in capsys.readouterr().err
    assert main(["doctor", "--hub", "facebook/opt-1.3b", "OPT-1.3B"]) == 2
    assert "--hub names the model and its data" in capsys.readouterr().err
    assert main(["doctor", "--hub", "not a model"]) == 2
    assert "expected a Hub id ORG/NAME" in capsys.readouterr().err


def test_cli_start_up_does_not_import_huggingface_hub():
    code = ("import sys; from cape.cli import app; import cape.commands.fetch, cape.commands._hub, cape.hub; "
            "print(any(m.startswith(('huggingface_hub', 'httpx')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.slow
def test_dashboard_diagnose_view_from_the_hub(hub):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from cape.dashboard import app_path

    at = AppTest.from_file(str(app_path()), default_timeout=120)
    at.query_params["view"] = "diagnose"
    at.run()
    at.radio(key="dg_mode").set_value("From the Hub").run()
    assert not at.exception and not at.error
    at.text_input(key="dg_hub").set_value("facebook/opt-1.3b")
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    md = " ".join(m.value for m in at.markdown)
    assert "family **facebook/opt-***: 8 sizes" in md
    assert any("Phase: TAX" in m.value for m in at.markdown)
    assert any(s.value == "facebook/opt-1.3b" for s in at.subheader)
    at.text_input(key="dg_hub").set_value("nobody/thing-7b")
    at.button[0].click().run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("--hub nobody/thing-7b: no results for it")
