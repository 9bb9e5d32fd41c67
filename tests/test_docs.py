"""The documentation's promises that a test can check without building the site (the build itself runs in
``make docs`` with ``mkdocs build --strict``): the README stays short and opens with the two commands, and
the quickstart's Python example prints exactly the output the page shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _blocks(text: str) -> list[tuple[str, str]]:
    """Fenced code blocks of a Markdown text as ``(language, body)``."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S)]


def test_readme_is_short_and_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) < 10_000
    first_lang, first_block = _blocks(readme)[0]
    assert first_lang == "bash"
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]


def test_readme_links_point_at_existing_pages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert targets, "the README links into the docs"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []


@pytest.mark.slow
def test_quickstart_python_example_prints_what_the_page_shows():
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    section = text[text.index("## From Python"):]
    blocks = _blocks(section)
    code = next(body for lang, body in blocks if lang == "python")
    shown = next(body for lang, body in blocks if lang == "text")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "quickstart.md", "exec"), {"__name__": "quickstart"})
    assert out.getvalue() == shown


def test_sources_and_tests_cite_only_documents_the_repository_has():
    cited: dict[str, list[str]] = {}
    stale = []
    for path in sorted([*(ROOT / "src" / "cape").rglob("*.py"), *(ROOT / "tests").glob("test_*.py")]):
        if path.name == "test_docs.py":
            continue
        text = path.read_text(encoding="utf-8")
        for doc in re.findall(r"\bdocs/[\w./-]+\.md\b", text):
            cited.setdefault(doc, []).append(path.name)
        if re.search(r"METHODS-SPEC|methods spec|spec §|the README, \"", text, flags=re.I):
            stale.append(path.name)
    assert stale == []
    assert cited, "docstrings point readers to the documentation"
    assert {d: f for d, f in cited.items() if not (ROOT / d).exists()} == {}
