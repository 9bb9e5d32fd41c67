"""The Internals view and report section on real result files: per-head and per-layer results written by the
library's own analyses on tiny random models, and a steering evaluation of a trained vector.

``make_internals_results(folder)`` is shared with the browser tests.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

TIMEOUT = 120


@functools.lru_cache(maxsize=1)
def _generated() -> Path:
    """Write heads/layers result files for two tiny models and one steering evaluation (once per process)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import warnings

    from _models import tiny_model

    from cape.internals.analysis import analyze_heads, analyze_layers
    from cape.internals.loading import load_model
    from cape.internals.results import write_result
    from cape.internals.steering import evaluate_steering, train_steering_vector

    out = Path(tempfile.mkdtemp(prefix="cape-internals-results-"))
    work = Path(tempfile.mkdtemp(prefix="cape-internals-models-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for arch, seed, layers in (("gpt_neox", 0, True), ("llama", 1, False)):
            m, tok = tiny_model(arch, seed)
            d = work / f"tiny-{arch}"
            m.save_pretrained(d)
            tok.save_pretrained(d)
            lm = load_model(d)
            write_result(analyze_heads(lm, max_items=8, n_boot=50, n_perm=50), out, "heads")
            if layers:
                write_result(analyze_layers(lm, max_items=8, n_boot=50, n_perm=50, drep_boot=10), out, "layers")
            else:
                vec = train_steering_vector(m, tok, layers=[0, 1])
                ev = evaluate_steering(m, tok, vec, strength=0.5, n_items=12, n_prompts=2, max_new_tokens=4,
                                       sweep_layers=[0, 1], sweep_strengths=[0.25, 1.0], n_boot=200)
                (out / f"tiny-{arch}.steer_eval.json").write_text(json.dumps(ev.to_dict(), default=str))
    shutil.rmtree(work, ignore_errors=True)
    return out


def make_internals_results(folder: Path) -> Path:
    """Copy the generated result files into ``folder`` (created) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for p in _generated().iterdir():
        shutil.copy2(p, folder / p.name)
    return folder


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    return make_internals_results(tmp_path_factory.mktemp("results"))


def _app(folder: Path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from cape.dashboard import RESULTS_ENV, app_path

    monkeypatch.setenv(RESULTS_ENV, str(folder))
    at = AppTest.from_file(str(app_path()), default_timeout=TIMEOUT)
    at.query_params["view"] = "internals"
    return at.run()


pytestmark = pytest.mark.slow


def _decode(v):
    """A Plotly JSON array (nested lists or a base64 typed array with shape) as a numpy array."""
    import base64

    import numpy as np

    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(float)
        if "shape" in v:
            a = a.reshape([int(x) for x in str(v["shape"]).split(",")])
        return a
    return np.asarray(v, dtype=float)


def test_internals_view_shows_every_result_file(results_dir, monkeypatch):
    at = _app(results_dir, monkeypatch)
    assert not at.exception, [e.message for e in at.exception]
    assert any("2 per-head, 1 per-layer and 1 steering" in c.value for c in at.caption)
    heads = sorted(results_dir.glob("*.heads.json"))
    payload = json.loads(heads[0].read_text())
    summary = at.dataframe[0].value
    assert len(summary) == 2
    assert set(summary["pct_cooperative"]) >= {payload["summary"]["pct_cooperative"]}
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    # the heatmap holds the first file's per-head values (files are listed in name order)
    z = _decode(specs[0]["data"][0]["z"])
    assert z.shape == (payload["n_layers"], payload["n_heads"])
    assert z.ravel().tolist() == pytest.approx([v for row in payload["cosine"] for v in row])
    titles = " ".join(s["layout"]["title"]["text"] for s in specs)
    for part in ("per-head coupling", "Per-layer coupling", "d_rep", "bottleneck", "steering"):
        assert part.lower() in titles.lower()


def test_degenerate_profile_is_flagged(results_dir, tmp_path, monkeypatch):
    make_internals_results(tmp_path)
    src = sorted(tmp_path.glob("*.heads.json"))[0]
    d = json.loads(src.read_text())
    d["per_layer"] = [0.9786] * len(d["per_layer"])  # the paper's released files look like this
    d["provenance"]["model_id"] = "degenerate-model"
    (tmp_path / "degenerate.heads.json").write_text(json.dumps(d))
    at = _app(tmp_path, monkeypatch)
    assert not at.exception
    assert any("constant across" in w.value and "degenerate-model" in w.value for w in at.warning)


def test_missing_folder_is_explained(tmp_path, monkeypatch):
    at = _app(tmp_path / "nope", monkeypatch)
    assert not at.exception
    assert any("not a folder" in i.value for i in at.info)


def test_report_includes_internals_section(results_dir, tmp_path):
    from cape.report.html import build_report

    res = build_report(tmp_path / "r.html", results_dir=results_dir, only=("internals",))
    assert res.sections == ("Internals",)
    page = (tmp_path / "r.html").read_text()
    assert "Per-head coupling" in page and "Steering sweep" in page
    assert res.n_figures >= 5
