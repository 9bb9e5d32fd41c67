"""Property tests (hypothesis): every reader and ScoreTable constructor, fed arbitrary input, either returns a
table or raises a ``CapeError``; never another exception. The statistics helpers keep the invariances their
definitions promise (permuting pairs, rescaling units, reversing a variable)."""

from __future__ import annotations

import json
import math
import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cape import _stats
from cape.errors import CapeError
from cape.ingest import read_any
from cape.scores import ScoreTable

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.function_scoped_fixture])

# ------------------------------------------------------------------------------------------ arbitrary cells

_names = st.sampled_from(["model", "family", "params", "HellaSwag", "TruthfulQA", "hellaswag", "TQA", "MMLU",
                          "score", "benchmark", "metric", "shots", "stderr", "is_base", "HellaSwag_stderr",
                          "Unnamed: 0", "XWinograd", "Average", "", " ", "params_b", "#Params (B)", "Type"])
_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["n/a", "NaN", "-", "1.3B", "7b", "0", "-1", "1e30", "49.7%", "0.497", "true", "Pythia-1B"]),
)


@st.composite
def wide_frames(draw):
    cols = draw(st.lists(_names, min_size=1, max_size=7))  # duplicates allowed on purpose
    n = draw(st.integers(min_value=0, max_value=6))
    rows = [[draw(_cells) for _ in cols] for _ in range(n)]
    return pd.DataFrame(rows, columns=cols)


def _only_cape_errors(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except CapeError:
        return None


@SETTINGS
@given(df=wide_frames())
def test_scoretable_from_wide_raises_only_cape_errors(df):
    t = _only_cape_errors(ScoreTable.from_wide, df)
    if t is not None:  # what is accepted is valid: percent scores, positive sizes
        long = t.long
        assert ((long["score"] >= 0) & (long["score"] <= 100)).all()
        p = long["params"].dropna()
        assert (p > 0).all()


@SETTINGS
@given(df=wide_frames())
def test_scoretable_from_long_raises_only_cape_errors(df):
    _only_cape_errors(ScoreTable, df)


# ------------------------------------------------------------------------------------------ readers

def _write_and_read(data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / f"input{suffix}"
        f.write_bytes(data)
        out = _only_cape_errors(read_any, [f])
        return None if out is None else out[0]


@SETTINGS
@given(df=wide_frames(), sep=st.sampled_from([",", "\t", ";"]))
def test_csv_reader_raises_only_cape_errors(df, sep):
    text = df.to_csv(index=False, sep=sep)
    _write_and_read(text.encode("utf-8"), ".tsv" if sep == "\t" else ".csv")


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".json", ".tsv", ".parquet"]))
def test_readers_survive_arbitrary_bytes(data, suffix):
    _write_and_read(data, suffix)


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**12, max_value=10**12),
                       st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10))
_json = st.recursive(_json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                     max_leaves=12)


@st.composite
def lmeval_like(draw):
    """Objects shaped like lm-eval results files, with arbitrary values where numbers belong."""
    task = draw(st.sampled_from(["hellaswag", "truthfulqa_mc2", "arc_challenge", "mmlu", "winogrande", "boolq"]))
    metric = draw(st.sampled_from(["acc,none", "acc_norm,none", "acc", "mc2", "exact_match,strict-match"]))
    blob = {
        "results": {task: {metric: draw(_json_leaf), f"{metric}_stderr": draw(_json_leaf)}},
        "config": {"model_args": draw(st.sampled_from(["pretrained=org/m-1b", "", "pretrained=", "x=y"])),
                   "model_num_parameters": draw(_json_leaf)},
        "n-shot": {task: draw(_json_leaf)},
        "model_name": draw(st.one_of(st.none(), st.text(max_size=15))),
    }
    if draw(st.booleans()):
        blob["configs"] = draw(_json)
    return blob


@SETTINGS
@given(blob=lmeval_like())
def test_lmeval_reader_raises_only_cape_errors(blob):
    t = _write_and_read(json.dumps(blob).encode("utf-8"), ".json")
    if t is not None:
        assert ((t.long["score"] >= 0) & (t.long["score"] <= 100)).all()


@SETTINGS
@given(blob=_json)
def test_json_reader_survives_any_json(blob):
    _write_and_read(json.dumps(blob).encode("utf-8"), ".json")


# ------------------------------------------------------------------------------------------ statistics

_vectors = st.integers(min_value=3, max_value=9).flatmap(
    lambda n: st.tuples(*[st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=n,
                                   max_size=n) for _ in range(2)]))


def _r(x, y) -> float:
    return float(_stats.pearson_rows(np.asarray(x, float), np.asarray(y, float)))


@SETTINGS
@given(xy=_vectors, data=st.data())
def test_pearson_invariances(xy, data):
    x, y = (np.asarray(v, float) for v in xy)
    r = _r(x, y)
    assume(math.isfinite(r))
    perm = np.asarray(data.draw(st.permutations(range(x.size))))
    assert _r(x[perm], y[perm]) == pytest.approx(r, abs=1e-9)  # permuting pairs
    scale = data.draw(st.floats(min_value=0.01, max_value=100))
    shift = data.draw(st.floats(min_value=-100, max_value=100))
    assert _r(x * scale + shift, y) == pytest.approx(r, abs=1e-6)  # changing units
    assert _r(-x, y) == pytest.approx(-r, abs=1e-9)  # reversing a variable
    assert -1.0 <= r <= 1.0


@SETTINGS
@given(xy=_vectors)
def test_permutation_p_is_a_probability_and_sign_free(xy):
    x, y = (np.asarray(v, float) for v in xy)
    r = _r(x, y)
    assume(math.isfinite(r))
    p, how, k = _stats.permutation_p(x, y, r, n_perm=200, rng=np.random.default_rng(0))
    assert 0.0 < p <= 1.0 and k >= 1
    p2, _, _ = _stats.permutation_p(x, -y, -r, n_perm=200, rng=np.random.default_rng(0))
    assert p2 == pytest.approx(p)  # two-sided: the sign of the association does not matter
    if how == "exact":
        assert k == math.factorial(x.size)


@SETTINGS
@given(samples=st.lists(st.one_of(st.floats(min_value=-1e6, max_value=1e6), st.just(math.nan)), max_size=50),
       level=st.floats(min_value=0.5, max_value=0.99))
def test_percentile_ci_brackets_the_finite_samples(samples, level):
    lo, hi = _stats.percentile_ci(samples, level)
    finite = [s for s in samples if not math.isnan(s)]
    if len(finite) < 2:
        assert math.isnan(lo) and math.isnan(hi)
    else:
        assert min(finite) - 1e-9 <= lo <= hi <= max(finite) + 1e-9
        shifted = _stats.percentile_ci([s + 10 for s in samples], level)
        assert shifted[0] == pytest.approx(lo + 10, abs=1e-6) and shifted[1] == pytest.approx(hi + 10, abs=1e-6)


@SETTINGS
@given(r=st.floats(min_value=-0.999, max_value=0.999), n=st.integers(min_value=4, max_value=500),
       level=st.floats(min_value=0.5, max_value=0.99))
def test_fisher_ci_contains_r_and_narrows_with_n(r, n, level):
    lo, hi = _stats.fisher_ci(r, n, level)
    assert -1 <= lo <= r <= hi <= 1
    lo2, hi2 = _stats.fisher_ci(r, n + 50, level)
    assert hi2 - lo2 <= hi - lo + 1e-12


@SETTINGS
@given(groups=st.lists(st.sampled_from("abc"), min_size=1, max_size=12), n_boot=st.integers(1, 20))
def test_stratified_indices_stay_within_their_group(groups, n_boot):
    g = np.asarray(groups)
    idx = _stats.stratified_indices(g, n_boot, np.random.default_rng(1))
    assert idx.shape == (n_boot, g.size)
    assert (g[idx] == g[None, :]).all()


@SETTINGS
@given(ev=st.lists(st.floats(min_value=0, max_value=1e3), min_size=1, max_size=10))
def test_participation_ratio_bounds(ev):
    pr = float(_stats.participation_ratio(np.asarray(ev)))
    if sum(ev) == 0:
        assert math.isnan(pr)
    else:
        assert 1.0 - 1e-9 <= pr <= len(ev) + 1e-9
        assert float(_stats.participation_ratio(np.asarray(ev) * 7.5)) == pytest.approx(pr)
