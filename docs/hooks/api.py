"""MkDocs hook: one API reference page per public module of ``cape``, found in ``src/cape`` at build time.

The pages are generated (``::: cape.module`` rendered by mkdocstrings from the docstrings) and added under
"API reference" in the navigation, so the reference follows the package as modules move: nothing to edit by
hand, and a module that disappears takes its page with it.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File
from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page

#: Views and the command line: documented on their command pages, not as an API.
SKIP = {"cli", "commands", "dashboard", "report"}
_PAGES: list[tuple[str, str]] = []


def _public_modules(src: Path) -> list[str]:
    """Top-level public modules and packages of ``cape``, and the public modules of ``cape.internals``."""
    out = []
    for path in sorted((src / "cape").iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        is_pkg = path.is_dir() and (path / "__init__.py").exists()
        if name.startswith("_") or name in SKIP or not (is_pkg or path.suffix == ".py"):
            continue
        out.append(f"cape.{name}")
    return out


def on_files(files, config):
    src = Path(config["config_file_path"]).parent / "src"
    _PAGES.clear()
    for mod in _public_modules(src):
        uri = f"api/{mod}.md"
        files.append(File.generated(config, uri, content=f"# `{mod}`\n\n::: {mod}\n"))
        _PAGES.append((mod, uri))
    return files


def on_nav(nav, config, files):
    for item in nav.items:
        if isinstance(item, Section) and item.title == "API reference":
            for mod, uri in _PAGES:
                page = Page(mod, files.get_file_from_path(uri), config)
                page.parent = item
                item.children.append(page)
    return nav


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs hook signature)
    if "<!-- api-modules -->" not in markdown:
        return markdown
    rows = "\n".join(f"* [`{mod}`]({Path(uri).name})" for mod, uri in _PAGES)
    return markdown.replace("<!-- api-modules -->", rows)
