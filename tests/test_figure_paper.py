"""``cape figure`` is paper-ready: TrueType fonts in PDF, column widths, --family, gamma error bars."""

from __future__ import annotations

import json
import re
import struct

import pytest

pytest.importorskip("matplotlib")

from cape import data  # noqa: E402
from cape.cli import main  # noqa: E402
from cape.diagnose import diagnose  # noqa: E402
from cape.gamma_error import gamma_errors, gamma_se  # noqa: E402
from cape.report.static import WIDTHS, build_figure  # noqa: E402


def test_gamma_se_is_the_delta_method():
    # gamma = -5/10 = -0.5; se = sqrt(1^2 + 0.25 * 1^2) / 10
    assert gamma_se(10.0, -5.0, 1.0, 1.0) == pytest.approx(0.111803, abs=1e-6)
    assert gamma_se(0.0, 1.0, 1.0, 1.0) is None and gamma_se(1.0, float("nan"), 1.0, 1.0) is None


def test_gamma_errors_use_the_scores_errors_and_the_measured_noise():
    t = data.load_base().filter(family="Pythia")
    stated = gamma_errors(diagnose(t, n_boot=0, noise="stated"), t)
    noisy = gamma_errors(diagnose(t, n_boot=0), t)
    assert len(stated) == 7 and stated["gamma_se"].notna().all()
    # the extra HellaSwag noise measured from the data widens every bar with gamma != 0 (it enters as gamma * se1)
    assert (noisy["gamma_se"] >= stated["gamma_se"] - 1e-12).all()
    assert ((noisy["gamma_se"] > stated["gamma_se"]) == (noisy["gamma"] != 0)).all()
    assert noisy["gamma_se"].iloc[0] == pytest.approx(0.751, abs=0.01)


def test_pdf_embeds_truetype_not_type3(tmp_path):
    out = tmp_path / "fig.pdf"
    build_figure(out, n_boot=50, families=["Pythia", "OPT"])
    raw = out.read_bytes()
    assert b"/Type3" not in raw and b"/FontType3" not in raw
    assert re.search(rb"/Subtype\s*/(CIDFontType2|TrueType)", raw)


def _png_size(path):
    w, h = struct.unpack(">II", path.read_bytes()[16:24])
    return w, h


@pytest.mark.parametrize("width", ["single", "double"])
def test_column_widths(tmp_path, width):
    out = tmp_path / f"{width}.png"
    res = build_figure(out, n_boot=0, families=["Pythia"], dpi=100, width=width)
    w, h = _png_size(out)
    assert res.width_in == WIDTHS[width] and abs(w - WIDTHS[width] * 100) <= 2
    assert (h > w) if width == "single" else (h < w)  # single column: panels stacked


def test_cli_figure_family_and_json(tmp_path, capsys):
    out = tmp_path / "f.svg"
    assert main(["figure", "-o", str(out), "--family", "pythia", "--family", "OPT", "--n-boot", "50", "--width",
                 "single", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema_version"] == 1 and d["families"] == ["Pythia", "OPT"] and d["width_in"] == 3.5
    svg = out.read_text()
    assert "Pythia" in svg and "tax" in svg and "bonus" in svg and "transition" in svg  # text stays text
    assert main(["figure", "-o", str(tmp_path / "g.png"), "--family", "Nope"]) == 3
    assert "--family Nope" in capsys.readouterr().err
    assert main(["figure", "-o", str(tmp_path / "g.png"), "--width", "wide"]) == 2
    assert "--width must be single, double" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


def test_dashboard_gamma_figure_draws_the_error_bars_and_phase_labels():
    pytest.importorskip("plotly")
    from cape.plots import gamma_figure

    t = data.load_base().filter(family=["Pythia", "OPT"])
    res = diagnose(t, n_boot=0)
    errs = gamma_errors(res, t)
    fig = gamma_figure(res, errors=errs)
    py = next(tr for tr in fig.data if tr.name == "Pythia")
    want = errs[errs["family"] == "Pythia"].sort_values("N_mid")["gamma_se"].to_numpy(float)
    assert [float(v) for v in py.error_y.array] == pytest.approx([float(v) for v in want])
    assert len(want) == 7 and (want > 0).all()
    labels = {a.text for a in fig.layout.annotations}
    assert {"<b>bonus: cooperate</b>", "<b>tax: compete</b>", "transition"} <= labels


def test_claims_view_colours_the_verdict():
    pytest.importorskip("streamlit")
    from cape.dashboard.views.claims import VERDICT_STYLE, _verdict_style

    assert _verdict_style("reproduces") == VERDICT_STYLE["reproduces"] and "#e8f5e9" in VERDICT_STYLE["reproduces"]
    assert _verdict_style("differs") != _verdict_style("reproduces") and _verdict_style("x") == ""


def test_uploaded_families_never_share_an_embedded_colour():
    pytest.importorskip("plotly")
    from cape.plots import family_colors
    from cape.plots.base import EXTRA_PALETTE, PALETTE

    base = data.load_base().families
    cols = family_colors([*base, "MyLab", "ZZ-upload", "Another"])
    embedded = {cols[f] for f in base}
    mine = [cols[f] for f in ("MyLab", "ZZ-upload", "Another")]
    assert len(set(mine)) == 3 and not set(mine) & embedded and set(mine) <= set(EXTRA_PALETTE)
    assert not set(EXTRA_PALETTE) & set(PALETTE)
