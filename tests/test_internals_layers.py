"""Per-layer coupling, d_rep and the projection bottleneck."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from _models import tiny_model  # noqa: E402

from cape.internals.bottleneck import default_ks, gelu, projection_bottleneck  # noqa: E402
from cape.internals.hooks import capture_contrast  # noqa: E402
from cape.internals.layers import layer_coupling, participation_ratio, rep_dimensionality  # noqa: E402
from cape.internals.measures import cosine_rows  # noqa: E402
from cape.internals.prompts import load_contrast_set  # noqa: E402


@pytest.fixture(scope="module")
def acts():
    model, tok = tiny_model("gpt2")
    r = load_contrast_set("reasoning")[:12]
    t = load_contrast_set("truthfulness")[:12]
    return capture_contrast(model, tok, r, t, heads=False, residual=True, final=True, logits=True)


def test_layer_coupling_both_measures(acts):
    for measure in ("contrast", "paper"):
        res = layer_coupling(acts, measure=measure, n_boot=50, n_perm=50)
        assert res.per_layer.shape == (2,)
        assert np.all(np.abs(res.per_layer) <= 1)
        json.dumps(res.to_dict(), allow_nan=False)
        assert len(res.to_frame()) == 2
    paper = layer_coupling(acts, measure="paper", n_boot=0, n_perm=0)
    r = np.concatenate([acts.r_pos.residual, acts.r_neg.residual]).mean(0)
    t = np.concatenate([acts.t_pos.residual, acts.t_neg.residual]).mean(0)
    np.testing.assert_allclose(paper.per_layer, cosine_rows(r, t), atol=1e-6)


def test_participation_ratio_known_cases():
    rng = np.random.default_rng(0)
    iso = rng.normal(size=(4000, 5))
    assert participation_ratio(iso) == pytest.approx(5.0, rel=0.05)
    line = np.outer(rng.normal(size=50), rng.normal(size=7))
    assert participation_ratio(line) == pytest.approx(1.0, rel=1e-6)
    assert np.isnan(participation_ratio(np.ones((5, 3))))


def test_rep_dimensionality(acts):
    res = rep_dimensionality(acts, n_boot=20)
    assert res.per_layer.shape == (2,)
    assert np.all((res.per_layer >= 1) & (res.per_layer <= res.max_possible))
    assert np.all(res.ci_low <= res.ci_high)
    x = np.concatenate([p.residual[:, 1] for p in acts.parts()])
    assert res.per_layer[1] == pytest.approx(participation_ratio(x), rel=1e-6)
    json.dumps(res.to_dict(), allow_nan=False)


def test_projection_bottleneck(acts):
    res = projection_bottleneck(acts, measure="paper", n_boot=30, n_perm=30)
    f = [p.final for p in acts.parts()]
    r, t = np.concatenate(f[:2]).mean(0), np.concatenate(f[2:]).mean(0)
    assert res.hidden == pytest.approx(float(cosine_rows(r, t)), abs=1e-6)
    lg = [p.logits for p in acts.parts()]
    assert res.logits == pytest.approx(float(cosine_rows(np.concatenate(lg[:2]).mean(0), np.concatenate(lg[2:]).mean(0))), abs=1e-5)
    g = [gelu(x) for x in f]
    assert res.gelu_hidden == pytest.approx(float(cosine_rows(np.concatenate(g[:2]).mean(0), np.concatenate(g[2:]).mean(0))), abs=1e-5)
    assert res.pca_ks == tuple(default_ks(32))
    assert res.pca_cosine[-1] == pytest.approx(res.hidden, abs=1e-6)  # k = d is the hidden state itself
    assert res.delta_logits == pytest.approx(res.logits - res.hidden)
    d = res.to_dict()
    assert "untrained" in d["gelu_hidden_note"]
    json.dumps(d, allow_nan=False)
    assert set(res.to_frame()["space"]) == {"hidden", "logits", "gelu_hidden", "pca"}


def test_gelu_matches_torch():
    x = np.linspace(-4, 4, 101, dtype=np.float32)
    np.testing.assert_allclose(gelu(x), torch.nn.functional.gelu(torch.from_numpy(x)).numpy(), atol=1e-6)
