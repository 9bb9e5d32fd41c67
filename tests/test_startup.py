"""Start-up: each command imports only what it uses.

Every command path runs in a fresh interpreter and the heavy modules it loaded are listed: ``--help`` of every
command loads none of them; the main job (``cape diagnose``) and the light commands load numpy and pandas but
never scipy (its distribution functions are computed by ``cape._dist``), scikit-learn, pysindy, plotting
libraries or torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("numpy", "pandas", "scipy", "scipy.special", "scipy.stats", "sklearn", "pysindy", "matplotlib", "plotly",
         "streamlit", "torch", "transformers", "huggingface_hub", "statsmodels", "pydantic")
NEVER_ON_MAIN_PATH = ("scipy.stats", "sklearn", "pysindy", "matplotlib", "plotly", "streamlit", "torch",
                      "transformers")

_PROBE = """
import contextlib, io, json, sys
from cape.cli import main
runs = json.loads(sys.argv[1])
codes = []
for argv in runs:
    with contextlib.redirect_stdout(io.StringIO()):
        codes.append(main(argv))
print(json.dumps({"codes": codes, "loaded": [m for m in json.loads(sys.argv[2]) if m in sys.modules]}))
"""


def _loaded(*runs: list[str], tmp_path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
               CAPE_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(runs)), json.dumps(HEAVY)],
                         capture_output=True, text=True, env=env, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _commands() -> list[str]:
    from cape.cli import COMMANDS

    return sorted(COMMANDS)


def test_every_help_loads_no_heavy_module(tmp_path):
    cmds = _commands()
    assert {"diagnose", "claims", "report", "heads", "steer", "cache"} <= set(cmds)
    res = _loaded(["--help"], *[[c, "--help"] for c in cmds], tmp_path=tmp_path)
    assert res["loaded"] == [], f"--help imported {res['loaded']}"
    assert set(res["codes"]) == {0}


def test_root_help_imports_no_command_module(tmp_path):
    """``cape --help`` lists every command from the static table: no command module (nor rich's console
    machinery beyond the help renderer) is imported, and every command is listed."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), COLUMNS="200")
    code = ("import contextlib, io, sys; from cape.cli import main; buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf): main(['--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('cape.commands.')))\n"
            "print(buf.getvalue())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         check=True).stdout
    assert out.splitlines()[0] == "[]"
    for name in _commands():
        assert f"│ {name} " in out, name


def test_static_command_table_matches_the_modules():
    """:data:`cape.cli.COMMANDS` names exactly what the command modules register, each under the module that
    registers it, with the first paragraph of its real help, so the listing of ``cape --help`` is the one the
    loaded commands would give."""
    import importlib

    import typer

    from cape.cli import COMMANDS, full_command

    registered: dict[str, str] = {}
    for module in sorted({m for m, _ in COMMANDS.values()}):
        sub = typer.Typer()
        importlib.import_module(f"cape.commands.{module}").register(sub)
        for name in typer.main.get_group(sub).commands:
            registered[name] = module
    assert registered == {name: module for name, (module, _) in COMMANDS.items()}
    root = full_command()
    assert list(root.commands) == list(COMMANDS)
    for name, (_, helptext) in COMMANDS.items():
        real = root.commands[name]
        assert (real.short_help or real.help or "").split("\n\n")[0].strip() == helptext, name


def test_diagnose_loads_no_heavy_module_it_does_not_use(tmp_path):
    res = _loaded(["diagnose", "--n-boot", "50"], tmp_path=tmp_path)
    assert res["codes"] == [0]
    assert not set(res["loaded"]) & {*NEVER_ON_MAIN_PATH, "scipy", "scipy.special"}, res["loaded"]
    assert {"numpy", "pandas"} <= set(res["loaded"])
    if _typer_version() < (0, 29):  # Typer 0.29 parses every option through pydantic; the pinned 0.28 does not
        assert "pydantic" not in res["loaded"]


def _typer_version() -> tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(p) for p in version("typer").split(".")[:2])


@pytest.mark.parametrize("argv", [["data"], ["cache", "info"]])
def test_light_commands_stay_light(tmp_path, argv):
    res = _loaded(argv, tmp_path=tmp_path)
    assert res["codes"] == [0]
    assert not set(res["loaded"]) & {*NEVER_ON_MAIN_PATH, "scipy"}, res["loaded"]
    if argv == ["cache", "info"]:
        assert res["loaded"] == [], res["loaded"]  # a listing of folders: no numpy, no pandas


def test_import_free_pvalue_and_quantile_equal_scipy():
    """The t-test p-value and the normal quantile used on the diagnose path need no scipy import, and agree
    with scipy.special (betainc, ndtri) to 2e-9 relative over n = 3..302 and |r| < 1."""
    import numpy as np
    from scipy.special import betainc

    from cape.coupling import fisher_ci, pearson_pvalue

    worst = 0.0
    for n in range(3, 303, 7):
        df = n - 2
        for r in np.linspace(-0.99999, 0.99999, 41):
            t2 = r * r * df / (1 - r * r)
            ref = float(betainc(df / 2, 0.5, df / (df + t2)))
            got = pearson_pvalue(float(r), n)
            worst = max(worst, abs(got - ref) / ref if ref > 0 else got)
    assert worst < 2e-9
    assert f"{pearson_pvalue(-0.9886223474431346, 8):.4e}" == "3.6508e-06"
    lo, hi = fisher_ci(-0.9886, 8)
    assert (round(lo, 4), round(hi, 4)) == (-0.998, -0.9359)


def test_import_free_distribution_functions_equal_scipy():
    """The chi-square survival function, the normal quantile and Student's t quantile of the N_c fit and the
    noise test agree with scipy.special (chdtrc, ndtri, stdtrit) to 1e-12 relative; the t quantile falls back to
    scipy for fractional or large df and tails below 1e-4."""
    import numpy as np
    from scipy.special import chdtrc, ndtri, stdtrit

    from cape._dist import chi2_sf, normal_quantile, t_quantile

    worst = 0.0
    for df in [*range(1, 40), 75, 300, 1000, 0.5, 2.5, 7.3]:
        for x in [1e-8, 1e-3, *np.linspace(0.01, 5 * df + 30, 60), 500.0]:
            ref = float(chdtrc(df, x))
            got = chi2_sf(float(x), df)
            worst = max(worst, abs(got - ref) / ref if ref > 1e-300 else got)
    assert worst < 1e-12
    assert chi2_sf(0.0, 3) == 1.0
    assert f"{chi2_sf(3.841458820694124, 1):.12f}" == "0.050000000000"
    worst = 0.0
    for df in [*range(1, 31), 57, 120, 299, 300, 301, 2.5]:
        for level in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9998, 0.99999):
            p = 0.5 + level / 2
            ref = float(stdtrit(df, p))
            worst = max(worst, abs(t_quantile(p, df) - ref) / ref, abs(t_quantile(1 - p, df) + ref) / ref)
    assert worst < 1e-12
    assert t_quantile(0.5, 4) == 0.0
    assert f"{t_quantile(0.975, 10):.6f}" == "2.228139"
    assert max(abs(normal_quantile(p) - float(ndtri(p))) for p in np.linspace(1e-6, 1 - 1e-6, 501)) < 1e-14
