"""Width normalisation and its ratio-artefact null model (cape.width)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cape import data
from cape.errors import DataError
from cape.width import width_normalize, width_normalized_r, width_table


@pytest.fixture(scope="module")
def pythia():
    return width_normalized_r(data.fixture("pythia8").assign(family="Pythia"), n_null=5000, seed=0)


def test_pythia_flip_reproduces(pythia):
    assert round(pythia.r_raw, 3) == -0.989
    assert round(pythia.r_norm, 3) == 0.963
    assert pythia.flip and pythia.n == 8 and pythia.d_ref == 512
    assert pythia.d_model == (512, 768, 1024, 2048, 2048, 2560, 4096, 5120)


def test_ratio_artefact_null_explains_the_flip(pythia):
    # independent scores divided by the same widths are positively correlated almost always
    assert pythia.null_frac_positive > 0.99
    assert pythia.null_ci[0] > 0.5 and pythia.null_median > 0.85
    assert pythia.p_null > 0.05 and not pythia.exceeds_null
    assert "does not exceed" in pythia.message


def test_normal_null_and_a_family_without_flip():
    d = np.array([512, 768, 1024, 2048, 2560, 4096, 5120, 8192], float)
    base = np.linspace(20, 80, 8)
    df = pd.DataFrame({"model": [f"m{i}" for i in range(8)], "family": "F", "params": np.geomspace(1e8, 1e11, 8),
                       "HellaSwag": base, "TruthfulQA": 0.5 * base + 10, "d_model": d})
    res = width_normalized_r(df, n_null=4000, seed=1, null="normal")
    assert res.r_raw == pytest.approx(1.0) and not res.flip
    assert res.null_kind == "normal" and 0 < res.null_frac_positive <= 1
    assert "no sign flip" in res.message or "exceeds" in res.message


def test_width_normalize_and_bad_widths():
    assert width_normalize(np.array([50.0, 60.0]), np.array([512, 1024])).tolist() == [50.0, 30.0]
    with pytest.raises(DataError):
        width_normalize(np.array([1.0]), np.array([0.0]))
    with pytest.raises(DataError):
        width_normalized_r(data.fixture("pythia8").assign(family="Pythia"), null="bogus")


def test_widths_come_from_the_architecture_table():
    base = data.load_base()
    res = width_normalized_r(base, family="Pythia", n_null=500)
    assert res.r_norm == pytest.approx(0.963, abs=5e-4)
    arch = data.architectures().set_index("model")["d_model"]
    assert res.d_model == tuple(float(arch[m]) for m in res.models)


def test_explicit_mapping_and_missing_widths():
    p8 = data.fixture("pythia8").assign(family="Pythia").drop(columns=["d_model"])
    half = {m: 1024 for m in p8["model"][:2]}
    res = width_normalized_r(p8, d_model=half, n_null=100)
    assert res.status == "insufficient" and "no d_model" in res.message


def test_all_families_have_a_status():
    rows = width_table(data.load_base(), n_null=300)
    assert {r.family for r in rows} >= {"Pythia", "OPT", "BLOOM"}
    for r in rows:
        assert r.status in ("ok", "insufficient", "constant")
        if r.status == "ok":
            assert -1 <= r.r_norm <= 1 and 0 < r.p_null <= 1
        else:
            assert r.r_norm is None
