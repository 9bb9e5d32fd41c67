"""ScoreTable: validation, units, variants, views and filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cape import catalog
from cape.errors import DataError, NotFoundError, UnknownBenchmarkError, VariantMixError
from cape.families import infer_family
from cape.scores import ScoreTable


def _wide(**over):
    d = {
        "model": ["a-160m", "a-1b", "a-7b", "b-1b", "b-7b"],
        "family": ["A", "A", "A", "B", "B"],
        "params": [1.6e8, 1e9, 7e9, 1e9, 7e9],
        "HellaSwag": [31.0, 49.0, 70.0, 60.0, 80.0],
        "TruthfulQA": [44.0, 39.0, 36.0, 42.0, 48.0],
    }
    d.update(over)
    return pd.DataFrame(d)


def test_wide_roundtrip_and_sorting():
    t = ScoreTable.from_wide(_wide())
    w = t.wide()
    assert list(w.columns) == ["family", "params", "HellaSwag", "TruthfulQA"]
    assert w.loc["a-1b", "HellaSwag"] == 49.0
    assert t.n_models == 5 and t.families == ["A", "B"]
    # sorted by family then params
    assert list(w.index) == ["a-160m", "a-1b", "a-7b", "b-1b", "b-7b"]
    # default metric variants are filled from the catalogue
    assert set(t.long.query("benchmark == 'TruthfulQA'")["metric"]) == {"mc2"}


def test_fractions_are_detected_and_converted():
    t = ScoreTable.from_wide(_wide(HellaSwag=[0.31, 0.49, 0.70, 0.60, 0.80],
                                   TruthfulQA=[0.44, 0.39, 0.36, 0.42, 0.48]))
    assert t.wide().loc["a-7b", "HellaSwag"] == pytest.approx(70.0)
    assert t.converted_from_fraction


def test_units_override_keeps_small_percent_values():
    # 0.5 percent on a frontier benchmark is plausible; declared percent is kept as is
    df = pd.DataFrame({"model": ["x", "y"], "benchmark": ["HLE", "HLE"], "score": [0.5, 0.9]})
    assert ScoreTable(df, units="percent").long["score"].tolist() == [0.5, 0.9]
    assert ScoreTable(df).long["score"].tolist() == [50.0, 90.0]


def test_fractions_mixed_with_percent_raise_naming_the_row():
    with pytest.raises(DataError, match=r"a-1b.*fractions mixed with percent"):
        ScoreTable.from_wide(_wide(HellaSwag=[31.0, 0.49, 70.0, 60.0, 80.0]))
    with pytest.raises(DataError, match="fractions mixed with percent"):
        ScoreTable.from_wide(_wide(HellaSwag=[0.31, 0.49, 0.70, 0.60, 0.80]))


@pytest.mark.parametrize("col,vals,pattern", [
    ("HellaSwag", [31.0, np.inf, 70.0, 60.0, 80.0], "infinite"),
    ("HellaSwag", [31.0, "abc", 70.0, 60.0, 80.0], "non-numeric score"),
    ("HellaSwag", [31.0, 49.0, 170.0, 60.0, 80.0], "outside 0-100"),
    ("params", [1.6e8, -1e9, 7e9, 1e9, 7e9], "non-positive parameter count"),
    ("params", [1.6e8, 1e9, 7e19, 1e9, 7e9], "absurd parameter count"),
    ("params", [0.16, 1.0, 7.0, 1.0, 7.0], "give the raw count"),
    ("params", [1.6e8, "big", 7e9, 1e9, 7e9], "non-numeric parameter count"),
])
def test_bad_values_raise_one_sentence(col, vals, pattern):
    with pytest.raises(DataError, match=pattern) as e:
        ScoreTable.from_wide(_wide(**{col: vals}))
    assert "\n" not in str(e.value)


def test_empty_wide_cell_means_not_measured():
    t = ScoreTable.from_wide(_wide(TruthfulQA=[44.0, None, 36.0, 42.0, 48.0]))
    assert np.isnan(t.wide().loc["a-1b", "TruthfulQA"])
    assert len(t) == 9


def test_missing_columns_and_empty_table():
    with pytest.raises(DataError, match="missing required column"):
        ScoreTable(pd.DataFrame({"model": ["a"], "score": [1.0]}))
    with pytest.raises(DataError, match="empty"):
        ScoreTable(pd.DataFrame(columns=["model", "benchmark", "score"]))
    with pytest.raises(DataError, match="missing column 'model'"):
        ScoreTable.from_wide(pd.DataFrame({"HellaSwag": [1.0]}))
    with pytest.raises(DataError, match="no benchmark columns"):
        ScoreTable.from_wide(pd.DataFrame({"model": ["a"], "foo": [1.0]}))


def test_unknown_benchmark_suggests_close_names():
    df = pd.DataFrame({"model": ["a"], "benchmark": ["HelaSwag"], "score": [50.0]})
    with pytest.raises(UnknownBenchmarkError, match="did you mean HellaSwag"):
        ScoreTable(df)


def test_duplicates_identical_are_merged_conflicting_raise():
    long = pd.DataFrame({"model": ["a", "a"], "benchmark": ["HS", "HellaSwag"], "score": [50.0, 50.0]})
    assert len(ScoreTable(long)) == 1
    long.loc[1, "score"] = 51.0
    with pytest.raises(DataError, match=r"duplicate model 'a' has different HellaSwag scores \(50, 51\)"):
        ScoreTable(long)


def test_conflicting_model_attributes_raise():
    long = pd.DataFrame({"model": ["a", "a"], "benchmark": ["HS", "TQA"], "score": [50.0, 40.0],
                         "params": [1e9, 2e9]})
    with pytest.raises(DataError, match="conflicting params"):
        ScoreTable(long)


def test_variant_mixing_is_an_error_unless_forced_or_selected():
    long = pd.DataFrame({
        "model": ["a", "b", "a", "b"], "benchmark": ["TruthfulQA"] * 4,
        "metric": ["mc2", "mc1", "mc1", "mc2"], "score": [40.0, 25.0, 24.0, 41.0],
    })
    t = ScoreTable(long)
    with pytest.raises(VariantMixError, match="mixes metric variants mc1, mc2"):
        t.wide()
    assert t.wide(force=True).loc["a", "TruthfulQA"] == pytest.approx(32.0)
    assert t.select_variant("TQA", "mc2").wide().loc["b", "TruthfulQA"] == 41.0
    with pytest.raises(NotFoundError):
        t.select_variant("TQA", "mc3")


def test_filters():
    t = ScoreTable.from_wide(_wide())
    assert t.filter(family="a").n_models == 3
    assert t.filter(min_params=1e9, max_params=1e9).models == ["a-1b", "b-1b"]
    with pytest.raises(NotFoundError, match="did you mean"):
        t.filter(family="AA")
    with pytest.raises(NotFoundError, match="no scores left"):
        t.filter(min_params=1e12)
    w = _wide()
    w["is_base"] = [True, True, False, True, True]
    assert "a-7b" not in ScoreTable.from_wide(w).filter(base_only=True).models


def test_stderr_falls_back_to_binomial():
    t = ScoreTable.from_wide(_wide())
    se = t.stderr_wide()
    expect = 100 * np.sqrt(0.49 * 0.51 / catalog.info("HellaSwag").n_items)
    assert se.loc["a-1b", "HellaSwag"] == pytest.approx(expect)


def test_to_csv_roundtrip(tmp_path):
    t = ScoreTable.from_wide(_wide())
    with pytest.raises(DataError, match="does not exist"):  # the writer never invents folders
        t.to_csv(tmp_path / "out" / "t.csv")
    (tmp_path / "out").mkdir()
    p = t.to_csv(tmp_path / "out" / "t.csv")
    back = ScoreTable(pd.read_csv(p, comment="#"), units="percent")
    pd.testing.assert_frame_equal(back.wide(), t.wide())
    pd.testing.assert_frame_equal(ScoreTable.read(p).long, t.long)


def test_catalog_aliases():
    assert catalog.canonical("truthfulqa_mc2") == "TruthfulQA"
    assert catalog.canonical("ARC-C") == "ARC-Challenge"
    assert catalog.canonical("gpqa_diamond") == "GPQA Diamond"
    with pytest.raises(UnknownBenchmarkError):
        catalog.canonical("no-such-bench")


@pytest.mark.parametrize("name,fam", [
    ("EleutherAI/pythia-1b-deduped", "Pythia"), ("EleutherAI/gpt-j-6b", "GPT-J/NeoX"),
    ("EleutherAI/gpt-neox-20b", "GPT-J/NeoX"), ("EleutherAI/gpt-neo-1.3B", "GPT-Neo"),
    ("facebook/opt-1.3b", "OPT"), ("meta-llama/Llama-2-7b-hf", "Llama-2"), ("Qwen/Qwen2.5-7B", "Qwen2.5"),
    ("mycorp/widget-7b", "widget"),
])
def test_infer_family(name, fam):
    assert infer_family(name) == fam


def test_infer_family_overrides():
    assert infer_family("mycorp/widget-7b", overrides={"mycorp/widget": "Widget"}) == "Widget"


def test_fraction_flag_is_set_for_every_units_mode_and_kept_by_filters():
    pct = ScoreTable.from_wide(_wide(), units="percent")
    assert pct.converted_from_fraction is False
    frac = ScoreTable.from_wide(_wide(HellaSwag=[0.31, 0.49, 0.70, 0.60, 0.80],
                                      TruthfulQA=[0.44, 0.39, 0.36, 0.42, 0.48]), units="fraction")
    assert frac.converted_from_fraction is True
    assert frac.filter(family="A").converted_from_fraction is True


# ----------------------------------------------------------------------------------------------- round trip

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)
_NAME = _TEXT.map(str.strip).filter(bool)
_BENCH = st.sampled_from(["HellaSwag", "TruthfulQA", "GSM8K", "MMLU", "BBH", "IFEval"])


@st.composite
def score_tables(draw):
    n = draw(st.integers(1, 6))
    models = draw(st.lists(_NAME, min_size=n, max_size=n, unique=True))
    rows = []
    for m in models:
        attrs = {
            "family": draw(st.none() | _NAME),
            "params": draw(st.none() | st.floats(1e5, 1e13, allow_nan=False)),
            "lab": draw(st.none() | _NAME),
            "model_type": draw(st.none() | st.sampled_from(["pretrained", "fine-tuned", "chat", "merge", "moe",
                                                            "unknown"])),
            "base_model": draw(st.none() | _NAME),
            "date": draw(st.none() | st.dates().map(str)),
        }
        for b in draw(st.lists(_BENCH, min_size=1, max_size=4, unique=True)):
            rows.append({"model": m, "benchmark": b, **attrs,
                         # scores below 1 percent, as GSM8K often has, must not be re-read as fractions
                         "score": draw(st.floats(0, 100, allow_nan=False)),
                         "metric": draw(st.none() | st.sampled_from(["acc", "acc_norm", "mc1", "raw"])),
                         "shots": draw(st.none() | st.integers(0, 25)),
                         "stderr": draw(st.none() | st.floats(0, 5, allow_nan=False)),
                         "source": draw(st.none() | _NAME)})
    return ScoreTable(pd.DataFrame(rows), units="percent", infer_family=False)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(t=score_tables(), fmt=st.sampled_from(["csv", "json", "parquet"]))
def test_round_trip_is_lossless(tmp_path_factory, t, fmt):
    """Whatever CAPE writes (CSV, JSON, Parquet) reads back, through read_any as every --scores option does, as
    the same table: scores, units, variants, shots, stderr and every attribute."""
    from cape.ingest import read_any

    p = tmp_path_factory.mktemp("rt") / f"t.{fmt}"
    getattr(t, f"to_{fmt}")(p)
    back, report = read_any(p)
    pd.testing.assert_frame_equal(back.long, t.long)
    assert report.files[0].format == "cape"
    assert back.converted_from_fraction is False
