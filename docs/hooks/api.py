"""MkDocs hook: one API reference page per public module of ``cape``, found in ``src/cape`` at build time.

The pages are generated (``::: cape.module`` rendered by mkdocstrings from the docstrings) and added under
"API reference" in the navigation, so the reference follows the package as modules move: nothing to edit by
hand, and a module that disappears takes its page with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mkdocs.structure.files import File
from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page

#: Views and the command line: documented on their command pages, not as an API.
SKIP = {"cli", "commands", "dashboard", "report"}
_PAGES: list[tuple[str, str]] = []


def _public_modules(src: Path) -> list[str]:
    """Top-level public modules and packages of ``cape``, and the public subpackages of ``cape.internals``."""
    out = []
    for path in sorted((src / "cape").iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        is_pkg = path.is_dir() and (path / "__init__.py").exists()
        if name.startswith("_") or name in SKIP or not (is_pkg or path.suffix == ".py"):
            continue
        out.append(f"cape.{name}")
    internals = src / "cape" / "internals"
    for path in sorted(internals.iterdir()):  # its subpackages (steering) have an API of their own
        if path.is_dir() and not path.name.startswith("_") and (path / "__init__.py").exists():
            out.append(f"cape.internals.{path.name}")
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


#: The layers of the architecture page, top to bottom; a module belongs to the first layer whose rule matches.
LAYERS = (
    ("views", "the command line, the report, the dashboard and their figures",
     lambda n: n in {"cli", "commands", "dashboard", "report", "plots"}),
    ("paper verification", "reads the analyses; no analysis imports it", lambda n: n == "paper"),
    ("runners (optional)", "many models on an engine", lambda n: n == "sweep"),
    ("internals (optional, torch)", "inside one open-weight model", lambda n: n == "internals"),
    ("analyses", "pure functions returning frozen results", lambda n: n not in _LOWER),
    ("scores and data", "the one data currency, its readers and the embedded data",
     lambda n: n in {"scores", "ingest", "hub", "data", "catalog", "families"}),
    ("helpers", "statistics, validation, formatting, output, errors", lambda n: n.startswith("_") or n == "errors"),
)
_LOWER = {"scores", "ingest", "hub", "data", "catalog", "families", "errors"}


def _summary(path: Path) -> str:
    init = path / "__init__.py" if path.is_dir() else path
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    return doc.strip().split("\n")[0].replace("|", "\\|")


def _package_map(src: Path) -> str:
    """The package as it is, grouped by layer: one row per top-level module with its docstring's first line."""
    rows: dict[str, list[str]] = {name: [] for name, _, _ in LAYERS}
    for path in sorted((src / "cape").iterdir()):
        is_pkg = path.is_dir() and (path / "__init__.py").exists()
        if not (is_pkg or path.suffix == ".py") or path.name == "__init__.py":
            continue
        name = path.name if is_pkg else path.stem
        layer = next(layer for layer, _, rule in LAYERS if rule(name))
        rows[layer].append(f"| `cape.{name}`{'/' if is_pkg else ''} | {_summary(path)} |")
    out = []
    for layer, what, _ in LAYERS:
        if rows[layer]:
            out += [f"**{layer}**: {what}", "", "| module | what it is |", "|---|---|", *rows[layer], ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (MkDocs hook signature)
    if "<!-- api-modules -->" in markdown:
        rows = "\n".join(f"* [`{mod}`]({Path(uri).name})" for mod, uri in _PAGES)
        markdown = markdown.replace("<!-- api-modules -->", rows)
    if "<!-- package-map -->" in markdown:
        src = Path(config["config_file_path"]).parent / "src"
        markdown = markdown.replace("<!-- package-map -->", _package_map(src))
    return markdown
