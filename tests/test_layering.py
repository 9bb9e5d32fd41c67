"""The layering rule, checked: arrows run views -> analyses -> scores/data -> helpers.

* Importing any core module (everything but the views and the optional ``internals`` package) pulls in no
  view and none of torch, matplotlib, plotly or streamlit: checked in a fresh interpreter through
  ``sys.modules`` after importing each module in turn, so the first offender is named.
* ``internals`` (torch, optional) never imports a view either.
* No core module imports a view anywhere in its source, including imports inside functions (parsed with ast).
* No import cycles among cape modules, counting imports inside functions too.
* Every ``from cape... import name`` inside a function (in the package, the tests and the benchmarks) resolves:
  such an import only fails when its function runs, so a moved module would otherwise go unnoticed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
VIEWS = ("cape.dashboard", "cape.report", "cape.cli", "cape.commands", "cape.plots")
OPTIONAL = ("cape.internals",)
HEAVY = ("torch", "matplotlib", "plotly", "streamlit")
#: Cycles that existed when this test was written, being broken up; a new cycle fails the test at once.
KNOWN_CYCLES = [
    ["cape.ingest", "cape.ingest.csv_generic", "cape.ingest.epoch", "cape.ingest.leaderboard", "cape.ingest.lmeval"],
]


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, is a package)."""
    out = {}
    for path in sorted((SRC / "cape").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = _modules()
CORE = sorted(m for m in MODULES if not _under(m, VIEWS + OPTIONAL))
INTERNALS = sorted(m for m in MODULES if _under(m, OPTIONAL))


def _resolve(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(name: str) -> set[str]:
    """The cape modules ``name`` imports anywhere in its source (top level or inside functions)."""
    path, is_pkg = MODULES[name]
    pkg = name if is_pkg else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(_resolve(a.name) for a in node.names if a.name.split(".")[0] == "cape")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "cape":
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.add(sub if sub in MODULES else _resolve(mod))
    found.discard(name)
    return found


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w in graph and w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (strongly connected, > 1 module)."""
    reach = {v: _reachable(graph, v) for v in graph}
    groups = {tuple(sorted({v} | {w for w in reach[v] if v in reach[w]})) for v in graph if v in reach[v]}
    return sorted(list(g) for g in groups if len(g) > 1)


_PROBE = """
import importlib, json, sys
forbidden = tuple(sys.argv[2].split(","))
bad = {}
for name in sys.argv[1].split(","):
    importlib.import_module(name)
    hit = sorted(m for m in sys.modules if m.split(".")[0] in forbidden or any(
        m == f or m.startswith(f + ".") for f in forbidden if f.startswith("cape.")))
    if hit:
        bad[name] = hit
        break
print(json.dumps(bad))
"""


def _probe(modules: list[str], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    env_path = str(SRC)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (env_path, os.environ.get("PYTHONPATH"))))}
    out = subprocess.run([sys.executable, "-c", _PROBE, ",".join(modules), ",".join(forbidden)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_core_imports_no_view_and_no_heavy_library():
    assert "cape.scores" in CORE and "cape.coupling" in CORE
    assert _probe(CORE, HEAVY + VIEWS) == {}


def test_internals_import_no_view():
    pytest.importorskip("torch")
    assert _probe(INTERNALS, VIEWS) == {}


def test_core_source_never_names_a_view():
    bad = {m: sorted(i for i in _imports(m) if _under(i, VIEWS)) for m in CORE}
    assert {m: v for m, v in bad.items() if v} == {}


def test_no_new_import_cycles():
    graph = {m: _imports(m) for m in MODULES}
    assert [c for c in _cycles(graph) if c not in KNOWN_CYCLES] == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _function_level_imports(path: Path) -> list[tuple[int, str, str]]:
    """``(line, module, name)`` for every ``from cape... import name`` inside a function body."""
    out = []
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "cape":
                out += [(node.lineno, node.module, a.name) for a in node.names if a.name != "*"]
    return out


@pytest.mark.slow
def test_imports_inside_functions_resolve():
    """An import inside a function only fails when the function runs: after a module moves, check them all."""
    import importlib
    import importlib.util

    root = SRC.parent
    bad = []
    for path in sorted([*SRC.rglob("*.py"), *(root / "tests").glob("*.py"), *(root / "benchmarks").glob("*.py")]):
        for line, module, name in _function_level_imports(path):
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as e:
                if (e.name or "").split(".")[0] == "cape":
                    bad.append(f"{path.name}:{line}: no module {module}")
                continue  # an optional dependency (torch, streamlit, ray) that is not installed
            if not hasattr(mod, name) and importlib.util.find_spec(f"{module}.{name}") is None:
                bad.append(f"{path.name}:{line}: {module} has no {name}")
    assert bad == []
