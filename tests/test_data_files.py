"""Properties of the embedded data files (src/cape/data/*.csv and data/fixtures/*.csv).

These tests read the CSVs directly with pandas, independently of the loaders in ``cape.data``, and check
real properties of the compiled data: uniqueness, units, family assignment, and that the named fixtures
reproduce the published numbers they are meant to back (docs/methods.md, "Data fixtures").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

import cape


def _package_dir() -> Path:
    f = getattr(cape, "__file__", None)
    if f:
        return Path(f).parent
    return Path(list(cape.__path__)[0])  # namespace package (no __init__.py)


DATA = _package_dir() / "data"
FIX = DATA / "fixtures"
BASE_FIVE = ["HellaSwag", "TruthfulQA", "ARC-Challenge", "WinoGrande", "MMLU"]
N_BASE_MODELS = 61  # DS-63 roster minus the two cape_26 Llama-3 duplicates
# a source names a publication or leaderboard in words, never a file path or a data-folder name
PATH_LIKE = r"(?:^|\s)(?:/|~/|\./)\S|\\|\.csv\b|cape-scaling-data"


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return pd.read_csv(DATA / "base_models.csv")


@pytest.fixture(scope="module")
def frontier() -> pd.DataFrame:
    return pd.read_csv(DATA / "frontier.csv")


@pytest.fixture(scope="module")
def arch() -> pd.DataFrame:
    return pd.read_csv(DATA / "architectures.csv")


def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"{name}.csv")


# ----------------------------------------------------------------------------------------- base cohort
def test_base_columns(base):
    assert list(base.columns) == ["model", "family", "lab", "params", "is_base", "recipe", "benchmark", "score",
                                  "metric", "shots", "stderr", "source", "note"]


def test_base_no_duplicate_model_benchmark(base):
    assert not base.duplicated(["model", "benchmark"]).any()


def test_base_model_count_and_families(base):
    assert base["model"].nunique() == N_BASE_MODELS
    fam = base.groupby("model")["family"].nunique()
    assert (fam == 1).all(), fam[fam > 1]
    counts = base.groupby("family")["model"].nunique().to_dict()
    assert counts["Pythia"] == 8
    assert counts["GPT-J/NeoX"] == 2
    assert counts["OPT"] == 8 and counts["BLOOM"] == 6 and counts["Cerebras-GPT"] == 7
    assert counts["Llama-3"] == 2
    assert sum(counts.values()) == N_BASE_MODELS


def test_gpt_j_neox_not_pythia(base):
    fam = base.groupby("model")["family"].first()
    assert fam["GPT-J-6B"] == "GPT-J/NeoX"
    assert fam["GPT-NeoX-20B"] == "GPT-J/NeoX"
    assert not base.loc[base["family"] == "Pythia", "model"].str.contains("GPT").any()


def test_llama3_leaderboard_rows_kept(base):
    l3 = base[base["family"] == "Llama-3"]
    assert set(l3["model"]) == {"Llama-3-8B", "Llama-3-70B"}
    hs8 = l3.query("model == 'Llama-3-8B' and benchmark == 'HellaSwag'")["score"].item()
    assert hs8 == pytest.approx(82.23)  # leaderboard value, not the cape_26 82.0
    assert l3["source"].str.contains("Open LLM Leaderboard").all()


def test_base_scores_params_and_vocab(base):
    assert base["score"].notna().all()
    assert base["score"].between(0, 100).all()
    assert (base["params"] > 1e6).all()
    assert base.groupby("model")["params"].nunique().eq(1).all()
    assert set(base["benchmark"]) == set(BASE_FIVE)
    assert set(base["recipe"]) <= {"web", "curated", "distilled"}
    assert set(base["is_base"].astype(str).str.lower()) <= {"true", "false"}
    assert base["stderr"].isna().all()
    assert (base.loc[base["benchmark"] == "TruthfulQA", "metric"] == "mc2").all()


def test_leaderboard_settings(base):
    lb = base[base["source"].str.contains("Open LLM Leaderboard")]
    expect = {"HellaSwag": ("acc_norm", 10), "TruthfulQA": ("mc2", 0), "ARC-Challenge": ("acc_norm", 25),
              "WinoGrande": ("acc", 5), "MMLU": ("acc", 5)}
    for b, (metric, shots) in expect.items():
        sub = lb[lb["benchmark"] == b]
        assert (sub["metric"] == metric).all() and (sub["shots"] == shots).all(), b
    # non-leaderboard provenance: shots unknown, and the note says so
    other = base[~base["source"].str.contains("Open LLM Leaderboard")]
    assert other["shots"].isna().all()
    assert other["note"].str.contains("shot count not stated").all()


def test_instruct_models_flagged(base):
    flag = base.groupby("model")["is_base"].first().astype(str).str.lower()
    for m in ("Phi-3-mini-4k", "Qwen3-8B", "Gemma-4-E4B"):
        assert flag[m] == "false", m
    for m in ("Phi-2", "Gemma-3-4B", "Qwen2.5-7B", "Llama-2-70B", "Pythia-12B"):
        assert flag[m] == "true", m
    assert base.loc[base["is_base"].astype(str).str.lower() == "false", "note"].str.contains("is_base=false").all()


def test_pythia_rows_equal_ds_pythia8(base):
    p8 = fixture("pythia8").set_index("model")
    py = base[base["family"] == "Pythia"].pivot(index="model", columns="benchmark", values="score")
    assert set(py.index) == set(p8.index)
    for b in BASE_FIVE:
        np.testing.assert_allclose(py.loc[p8.index, b].to_numpy(), p8[b].to_numpy())
    pp = base[base["family"] == "Pythia"].groupby("model")["params"].first()
    np.testing.assert_allclose(pp.loc[p8.index].to_numpy(), p8["params"].to_numpy())


def test_sources_are_words_not_paths(base, frontier, arch):
    for df in (base, frontier, arch):
        assert df["source"].notna().all()
        bad = df.loc[df["source"].str.lower().str.contains(PATH_LIKE, regex=True), "source"]
        assert bad.empty, bad.tolist()[:3]


# ----------------------------------------------------------------------------------------- architectures
def test_architectures_match_base(base, arch):
    models = set(base["model"])
    assert set(arch["model"]) <= models
    with_width = arch[arch["d_model"].notna()]
    assert set(with_width["model"]) <= models
    fam = base.groupby("model")["family"].first()
    assert (arch["family"] == arch["model"].map(fam)).all()
    assert not arch["model"].duplicated().any()


def test_architectures_width_lists(arch):
    a = arch.set_index("model")
    # d_model lists of width normalisation (docs/methods.md)
    pythia = ["Pythia-70M", "Pythia-160M", "Pythia-410M", "Pythia-1B", "Pythia-1.4B", "Pythia-2.8B",
              "Pythia-6.9B", "Pythia-12B"]
    assert a.loc[pythia, "d_model"].tolist() == [512, 768, 1024, 2048, 2048, 2560, 4096, 5120]
    opt = ["OPT-125M", "OPT-350M", "OPT-1.3B", "OPT-2.7B", "OPT-6.7B", "OPT-13B", "OPT-30B", "OPT-66B"]
    assert a.loc[opt, "d_model"].tolist() == [768, 1024, 2048, 2560, 4096, 5120, 7168, 9216]
    bloom = ["BLOOM-560M", "BLOOM-1.1B", "BLOOM-1.7B", "BLOOM-3B", "BLOOM-7.1B", "BLOOM-176B"]
    assert a.loc[bloom, "d_model"].tolist() == [1024, 1536, 2048, 2560, 4096, 14336]
    cer = ["Cerebras-GPT-111M", "Cerebras-GPT-256M", "Cerebras-GPT-590M", "Cerebras-GPT-1.3B",
           "Cerebras-GPT-2.7B", "Cerebras-GPT-6.7B", "Cerebras-GPT-13B"]
    assert a.loc[cer, "d_model"].tolist() == [768, 1088, 1536, 2048, 2560, 4096, 5120]
    assert a.loc[["GPT-Neo-125M", "GPT-Neo-1.3B", "GPT-Neo-2.7B"], "d_model"].tolist() == [768, 2048, 2560]
    assert a.loc["GPT-J-6B", "d_model"] == 4096 and a.loc["GPT-NeoX-20B", "d_model"] == 6144
    # head counts behind the internal-results unit counts (units = layers x heads)
    assert a.loc["OPT-30B", "n_layers"] * a.loc["OPT-30B", "n_heads"] == 2688
    assert a.loc["OPT-66B", "n_layers"] * a.loc["OPT-66B", "n_heads"] == 4608
    assert a.loc["Llama-2-70B", "n_layers"] * a.loc["Llama-2-70B", "n_heads"] == 5120
    for m, units in {"Qwen2.5-0.5B": 336, "Qwen2.5-1.5B": 336, "Qwen2.5-3B": 576, "Qwen2.5-7B": 784,
                     "Qwen3-8B": 1152}.items():
        assert a.loc[m, "n_layers"] * a.loc[m, "n_heads"] == units, m
    full = a.dropna(subset=["d_model", "n_heads"])
    assert (full["d_model"] % full["n_heads"] == 0).all()


# ----------------------------------------------------------------------------------------- frontier
def test_frontier_panel(frontier):
    assert list(frontier.columns) == ["model", "lab", "release_date", "subset", "benchmark", "score", "source"]
    assert not frontier.duplicated(["model", "benchmark"]).any()
    assert frontier["score"].between(0, 100).all()
    panel = frontier[frontier["subset"].isin(["core", "extended"])]
    assert panel["model"].nunique() == 34
    assert panel["lab"].nunique() == 10
    labs = panel.groupby("model")["lab"].first().value_counts().to_dict()
    assert labs == {"OpenAI": 10, "Anthropic": 8, "Google": 5, "DeepSeek": 4, "xAI": 2, "Meta": 1,
                    "Moonshot": 1, "Alibaba": 1, "MiniMax": 1, "Zhipu": 1}
    assert panel.groupby("model")["subset"].first().value_counts()["core"] == 23
    post = frontier[frontier["subset"] == "post-cutoff"]
    assert post["model"].nunique() == 5
    assert set(frontier["benchmark"]) == {"SWE-bench Verified", "GPQA Diamond", "IFEval"}
    for m, g in frontier.groupby("model"):
        assert {"SWE-bench Verified", "GPQA Diamond"} <= set(g["benchmark"]), m
        assert g["release_date"].nunique() == 1 and g["subset"].nunique() == 1
    assert frontier["release_date"].notna().all()
    assert frontier["release_date"].str.fullmatch(r"\d{4}-\d{2}(-\d{2})?").all()


def test_frontier_regression_and_minimax(frontier):
    w = frontier[frontier["subset"] != "post-cutoff"].pivot(index="model", columns="benchmark", values="score")
    r, _ = pearsonr(w["SWE-bench Verified"], w["GPQA Diamond"])
    assert round(r, 4) == 0.7235
    slope, icpt = np.polyfit(w["SWE-bench Verified"], w["GPQA Diamond"], 1)
    assert round(slope, 3) == 0.513 and round(icpt, 1) == 46.4
    assert w.loc["MiniMax M2.5", "GPQA Diamond"] == 85.2  # panel value; DS-NC3's 85.0 lives in nc3.csv
    assert fixture("nc3").set_index("model").loc["MiniMax M2.5", "GPQA Diamond"] == 85.0


def test_frontier_matches_fixtures(frontier):
    f34 = fixture("frontier34")
    assert len(f34) == 34 and f34["lab"].nunique() == 10
    w = frontier.pivot(index="model", columns="benchmark", values="score")
    for df in (f34, fixture("post5")):
        for _, row in df.iterrows():
            assert w.loc[row["model"], "SWE-bench Verified"] == row["SWE-bench Verified"]
            assert w.loc[row["model"], "GPQA Diamond"] == row["GPQA Diamond"]
    sub = frontier.groupby("model")["subset"].first()
    assert (f34["subset"] == f34["model"].map(sub)).all()
    nc3 = fixture("nc3")
    for _, row in nc3.iterrows():
        assert w.loc[row["model"], "IFEval"] == row["IFEval"]


# ----------------------------------------------------------------------------------------- fixtures
def test_pythia8_correlation_and_width_normalisation():
    p = fixture("pythia8")
    r, _ = pearsonr(p["HellaSwag"], p["TruthfulQA"])
    assert round(r, 4) == -0.9886
    f = p["d_model"] / 512
    rn, _ = pearsonr(p["HellaSwag"] / f, p["TruthfulQA"] / f)
    assert round(rn, 3) == 0.963


def test_boot14_quadratic():
    b = fixture("boot14")
    assert b["family"].tolist() == ["Pythia"] * 8 + ["Llama-1"] * 3 + ["Llama-2"] * 3
    a, bb, c = np.polyfit(np.log10(b["params"]), b["TruthfulQA"], 2)
    assert round(a, 6) == pytest.approx(4.53164617, abs=5e-7)
    assert round(bb, 6) == pytest.approx(-86.42060681, abs=5e-7)
    assert c == pytest.approx(447.76697412, abs=1e-5)
    assert 10 ** (-bb / (2 * a)) == pytest.approx(3.43e9, rel=0.01)


def test_pythia_figures_equal_boot14_pythia_part():
    b = fixture("boot14").query("family == 'Pythia'").reset_index(drop=True)
    f = fixture("pythia_figures")
    pd.testing.assert_frame_equal(f[["model", "params", "HellaSwag", "TruthfulQA"]],
                                  b[["model", "params", "HellaSwag", "TruthfulQA"]])


def test_nc3_matrix():
    n = fixture("nc3")
    assert len(n) == 4
    x = n[["SWE-bench Verified", "GPQA Diamond", "IFEval"]].to_numpy()
    R = np.corrcoef(x.T)
    assert round(R[0, 1], 3) == 0.131 and round(R[1, 2], 3) == 0.813 and round(R[0, 2], 3) == -0.367
    assert round(np.linalg.det(R), 3) == 0.110
    ev = np.linalg.eigvalsh(np.cov(x.T))
    assert round(ev.sum() ** 2 / (ev ** 2).sum(), 3) == 1.751


def test_grad6_beta_and_loss8_fit():
    g = fixture("grad6")
    slope = np.polyfit(np.log10(g["params"]), np.log10(g["grad_norm"]), 1)[0]
    assert round(-slope, 3) == 0.401
    p = fixture("pythia8")
    v = p["params"] ** 0.238 * (p["val_loss"] - 1.533)
    assert v.std(ddof=0) / v.mean() == pytest.approx(0.0084, abs=5e-4)


def test_olmo_versions():
    o = fixture("olmo")
    assert list(o.columns) == ["version", "model", "params", "HellaSwag", "TruthfulQA", "note"]
    assert o["version"].nunique() == 3
    assert o.groupby("version").size().eq(2).all()
    assert o.query("version == 'paper_text'")["HellaSwag"].isna().all()
    assert (o.query("version == 'paper_text'")["TruthfulQA"] == 31.1).all()


def test_internal_tables():
    ladder = fixture("opt_internal_ladder")
    v = ladder.set_index("model")["internal_coupling"]
    assert round((v["OPT-13B"] - v["OPT-30B"]) / v["OPT-13B"], 3) == 0.594  # "59% crash"
    ir = fixture("internal_results")
    assert list(ir.columns[:8]) == ["model", "units", "coop_pct", "competing", "net", "early", "mid", "late"]
    assert not ir["model"].duplicated().any()
    assert ir["coop_pct"].between(0, 100).all()
    assert (ir.set_index("model").loc[["OPT-30B", "OPT-66B"], "competing"] == ladder.set_index("model").loc[
        ["OPT-30B", "OPT-66B"], "competing_units"]).all()


def test_manifest_files_exist():
    man = fixture("manifest")
    assert list(man.columns) == ["name", "file", "description", "used_for"]
    assert not man["name"].duplicated().any()
    for _, r in man.iterrows():
        assert (FIX / r["file"]).is_file(), r["file"]
        assert Path(r["file"]).stem == r["name"]
        assert isinstance(r["used_for"], str) and r["used_for"].strip()
    listed = set(man["file"]) | {"manifest.csv"}
    assert {p.name for p in FIX.glob("*.csv")} <= listed
