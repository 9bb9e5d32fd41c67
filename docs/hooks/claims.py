"""MkDocs hook: fills the claims table of ``paper.md`` from ``cape claims --json`` at build time.

The table is never typed by hand: every build recomputes all claims from the embedded data with the same
command a user runs, so the page cannot drift from the code.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

MARKER = "<!-- claims-table -->"
COUNTS = "<!-- claims-counts -->"
_CACHE: list[dict] | None = None


def _claims(root: Path) -> list[dict]:
    global _CACHE
    if _CACHE is None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root / "src"), env.get("PYTHONPATH", "")) if p)
        out = subprocess.run([sys.executable, "-m", "cape.cli", "claims", "--json"], cwd=root, env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"`cape claims --json` failed while building the docs: {out.stderr.strip()}")
        data = json.loads(out.stdout)
        # `cape claims --json` prints {"schema_version": ..., "claims": [...]}
        _CACHE = data["claims"] if isinstance(data, dict) else data
    return _CACHE


def _cell(value: object) -> str:
    if value is None or value == "":
        return "—"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict]) -> str:
    head = "| id | claim | paper | paper's procedure, recomputed | sound estimator | verdict | why |\n"
    head += "|---|---|---|---|---|---|---|\n"
    body = "".join(
        "| " + " | ".join(_cell(r.get(k)) for k in ("id", "claim", "paper_value", "computed_value", "sound_value",
                                                  "verdict", "reason")) + " |\n"
        for r in rows)
    return head + body


def _counts(rows: list[dict]) -> str:
    c = collections.Counter(r["verdict"] for r in rows)
    return (f"{len(rows)} claims: {c.get('reproduces', 0)} reproduce, {c.get('differs', 0)} differ and "
            f"{c.get('not computable', 0)} are not computable from released data.")


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs hook signature)
    if MARKER not in markdown and COUNTS not in markdown:
        return markdown
    rows = _claims(Path(config["config_file_path"]).parent)
    return markdown.replace(COUNTS, _counts(rows)).replace(MARKER, _table(rows))
