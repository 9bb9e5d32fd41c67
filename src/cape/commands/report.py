"""``cape dashboard``, ``cape report`` and ``cape figure``: the interactive app and the static outputs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._scores import FINETUNES_OPT, SHOTS_OPT, STRICT_OPT, UNITS_OPT, VARIANT_OPT
from ._common import console, emit_json


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
    app.command("report")(report)
    app.command("figure")(figure)


def _scores(path: Optional[Path], units: str = "auto", variant=None, shots=None, strict: bool = False,
            include_finetunes: bool = False):
    """The user's score file restricted to the chosen variants and shots; the embedded cohort (``None``) when
    no file is given and nothing is chosen."""
    from ._scores import apply_settings, read_scores

    if path is None and not (variant or shots):
        return None
    if path is None:
        from ..data import load_base

        table = load_base()
    else:
        table, _ = read_scores(path, units=units, strict=strict)
    return apply_settings(table, variant, shots, include_finetunes=include_finetunes or path is None)[0]


def _is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def dashboard(
    port: int = typer.Option(8501, "--port", "-p", help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="Score file replacing the embedded cohort."),
    results: Optional[Path] = typer.Option(None, "--results",
                                           help="Folder of `cape heads/layers/steer -o` result files."),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="Allow a --host other than loopback (the app accepts uploads)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the server command instead of starting it."),
    json_: bool = typer.Option(False, "--json", help="Print the URL and server command as JSON."),
) -> None:
    """Start the interactive dashboard (Streamlit) on http://HOST:PORT; stop it with Ctrl-C.

    It binds to 127.0.0.1 (this machine only). Another address starts only with --allow-remote, since anyone
    who reaches the port can upload files to the app.
    """
    import os
    import subprocess
    import sys

    from ..dashboard import RESULTS_ENV, SCORES_ENV, streamlit_command
    from ..errors import DataError, DependencyError

    try:
        import streamlit  # noqa: F401
    except ImportError as e:
        raise DependencyError("the dashboard needs the [dashboard] extra: pip install 'cape[dashboard]'") from e
    if not 0 < port < 65536:
        raise DataError(f"--port {port} is not a TCP port (1-65535)")
    if not _is_loopback(host):
        if not allow_remote:
            raise DataError(f"--host {host} is not a loopback address; the dashboard accepts uploads, so binding "
                            "it to other machines needs --allow-remote")
        print(f"warning: --host {host} exposes the dashboard (and its upload box) to every machine that can "
              "reach this one", file=sys.stderr)
    env = dict(os.environ)
    if scores is not None:
        _scores(scores)  # fail here, with one sentence, rather than inside the app
        env[SCORES_ENV] = str(scores.resolve())
    if results is not None:
        if not results.is_dir():
            raise DataError(f"--results {results}: not a folder")
        env[RESULTS_ENV] = str(results.resolve())
    cmd = streamlit_command(port=port, host=host)
    url = f"http://{host}:{port}"
    if json_:
        emit_json({"url": url, "command": cmd})
    elif not dry_run:
        console.print(f"CAPE dashboard on [bold]{url}[/] (Ctrl-C to stop)")
    if dry_run:
        if not json_:
            console.print(" ".join(cmd))
        return
    sys.stdout.flush()
    if os.name == "posix":  # become the server: signals (Ctrl-C, SIGTERM) reach it directly, no orphan left
        os.execve(cmd[0], cmd, env)
    try:  # pragma: no cover - Windows
        rc = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        rc = 0
    if rc:
        raise typer.Exit(rc)


def report(
    output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="Score file to analyse instead of the "
                                                                 "embedded cohort."),
    results: Optional[Path] = typer.Option(None, "--results", help="Folder of `cape heads/layers -o` and "
                                                                   "steering result files (adds Internals)."),
    only: Optional[str] = typer.Option(None, "--only", help="Comma-separated sections: overview, families, eigen, "
                                                            "dynamics, frontier, internals, claims, data."),
    seed: int = typer.Option(0, "--seed", help="Seed of every bootstrap."),
    units: str = UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    include_finetunes: bool = FINETUNES_OPT,
    json_: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write a self-contained HTML report (figures + tables, Plotly inlined, opens offline)."""
    from .._output import check_output, check_suffix
    from ..report.html import build_report

    check_output(output, inputs=[p for p in (scores,) if p is not None])
    check_suffix(output, (".html", ".htm"))  # before minutes of work
    sections = tuple(s.strip() for s in only.split(",") if s.strip()) if only else None
    table = _scores(scores, units, variant, shots, strict, include_finetunes)
    res = build_report(output, table, seed=seed, results_dir=results, only=sections)
    if json_:
        emit_json(res)
        return
    console.print(f"wrote {res.path} ({res.bytes / 1e6:.1f} MB, {res.n_figures} figures, {res.n_tables} tables, "
                  f"{res.seconds:.1f} s)")
    if res.skipped:
        console.print(f"not included (module not installed): {', '.join(res.skipped)}")


def figure(
    output: Path = typer.Option(Path("cape_figure.png"), "--output", "-o", help="PNG, PDF or SVG file."),
    scores: Optional[Path] = typer.Option(None, "--scores", help="Score file instead of the embedded cohort."),
    b1: str = typer.Option("HellaSwag", "--b1", help="x benchmark."),
    b2: str = typer.Option("TruthfulQA", "--b2", help="y benchmark."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap behind the N_c band."),
    dpi: int = typer.Option(300, "--dpi", help="Resolution of a PNG."),
    width: str = typer.Option("double", "--width", help="single (3.5 in, one column of a two-column paper; panels "
                                                        "stacked), double (7.16 in, full text width) or inches.",
                              metavar="single|double|INCHES"),
    family: Optional[List[str]] = typer.Option(None, "--family", "-f", help="Only this family (repeatable)."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples behind the N_c intervals."),
    units: str = UNITS_OPT,
    variant: Optional[List[str]] = VARIANT_OPT,
    shots: Optional[List[str]] = SHOTS_OPT,
    strict: bool = STRICT_OPT,
    include_finetunes: bool = FINETUNES_OPT,
    json_: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write the main figure (phase diagram + gamma(N) with N_c) for a paper, with matplotlib."""
    from .._output import check_output, check_suffix
    from ..report.static import build_figure

    if n_boot < 0:
        from ..errors import DataError

        raise DataError(f"--n-boot must be >= 0, got {n_boot}")
    check_output(output, inputs=[p for p in (scores,) if p is not None])
    check_suffix(output, (".png", ".pdf", ".svg"))
    res = build_figure(output, _scores(scores, units, variant, shots, strict, include_finetunes), b1=b1, b2=b2,
                       seed=seed, dpi=dpi, width=width, families=family or None, n_boot=n_boot)
    if json_:
        emit_json(res)
        return
    console.print(f"wrote {res.path} ({res.format}, {res.width_in:g} in wide, panels: {', '.join(res.panels)}, "
                  f"{res.seconds:.1f} s)")
