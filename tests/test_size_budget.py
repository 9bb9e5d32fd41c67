"""Size budget: no source file over 500 lines, no function over 80 lines.

A function that is genuinely one piece may exceed the budget when the first line of its body is a comment
``# long: <reason>`` (before the docstring, if any). The offenders that existed when the budget was introduced are
listed below; the lists may only shrink. The test fails when

* a file or function outside the lists is over budget (split it, or give a function its ``# long:`` reason);
* a listed item grew;
* a listed item is now within budget, gained its ``# long:`` reason or no longer exists (remove it from the list,
  so the list stays honest).

Lengths are physical lines: ``len(text.splitlines())`` for a file, ``end_lineno - lineno + 1`` for a function
(decorators excluded). Functions are named ``path::Qualified.name`` relative to ``src/cape``.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cape"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
LONG_MARK = "# long:"

# Files over budget today -> their line count. May only shrink.
FILE_ALLOWLIST: dict[str, int] = {}

# Functions over budget today without a `# long:` reason -> their length. May only shrink.
FUNCTION_ALLOWLIST: dict[str, int] = {}


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method in ``tree`` with its qualified name (nested ones included)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = prefix + node.name
            found.append((name, node))
            found.extend(_functions(node, name + ".<locals>."))
        elif isinstance(node, ast.ClassDef):
            found.extend(_functions(node, prefix + node.name + "."))
        else:
            found.extend(_functions(node, prefix))
    return found


def _has_long_reason(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> bool:
    """True when the first line of the body (after the signature, before any docstring) is ``# long: <why>``."""
    header_end = node.body[0].lineno - 1  # lines[node.lineno - 1 : header_end] hold the signature and comments
    for line in lines[node.lineno - 1 : header_end]:
        stripped = line.strip()
        if stripped.startswith(LONG_MARK) and stripped[len(LONG_MARK) :].strip():
            return True
    return False


@functools.cache
def measure() -> tuple[dict[str, int], dict[str, int]]:
    """Files over the line budget and functions over it without a ``# long:`` reason, with their lengths."""
    files: dict[str, int] = {}
    functions: dict[str, int] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) > MAX_FILE_LINES:
            files[rel] = len(lines)
        for name, node in _functions(ast.parse(text)):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _has_long_reason(node, lines):
                key = f"{rel}::{name}"
                functions[key] = max(length, functions.get(key, 0))
    return files, functions


def _problems(kind: str, found: dict[str, int], allowed: dict[str, int], budget: int) -> list[str]:
    out = []
    for name, length in sorted(found.items()):
        if name not in allowed:
            out.append(f"NEW {kind} over {budget} lines: {name} ({length} lines)")
        elif length > allowed[name]:
            out.append(f"GREW {kind}: {name} is {length} lines, the allowlist says {allowed[name]}")
    for name, length in sorted(allowed.items()):
        if name not in found:
            out.append(f"STALE allowlist entry ({kind} now within budget, marked `# long:` or gone): {name} "
                       f"(listed at {length}); remove it")
        elif found[name] < length:
            out.append(f"SHRUNK {kind}: {name} is {found[name]} lines, the allowlist says {length}; lower it")
    return out


def test_files_within_budget() -> None:
    files, _ = measure()
    problems = _problems("file", files, FILE_ALLOWLIST, MAX_FILE_LINES)
    assert not problems, "\n" + "\n".join(problems)


def test_functions_within_budget() -> None:
    _, functions = measure()
    problems = _problems("function", functions, FUNCTION_ALLOWLIST, MAX_FUNCTION_LINES)
    assert not problems, "\n" + "\n".join(problems)


def test_long_reason_is_recognised() -> None:
    src = (
        "def a(x,\n      y):\n    # long: one table of cases\n    '''Doc.'''\n    return x\n"
        "def b(x):\n    '''Doc.'''\n    return x\n"
        "def c(x):\n    # long:\n    return x\n"
    )
    lines = src.splitlines()
    marks = {name: _has_long_reason(node, lines) for name, node in _functions(ast.parse(src))}
    assert marks == {"a": True, "b": False, "c": False}  # c: a reason must follow the mark


def test_qualified_names() -> None:
    src = "class K:\n    def m(self):\n        def inner():\n            pass\ndef f():\n    pass\n"
    assert [name for name, _ in _functions(ast.parse(src))] == ["K.m", "K.m.<locals>.inner", "f"]


def test_allowlist_catches_growth_and_staleness() -> None:
    problems = _problems("function", {"a.py::f": 90, "a.py::g": 85, "a.py::h": 81},
                         {"a.py::f": 85, "a.py::g": 90, "a.py::gone": 100}, 80)
    assert problems == [
        "GREW function: a.py::f is 90 lines, the allowlist says 85",
        "NEW function over 80 lines: a.py::h (81 lines)",
        "SHRUNK function: a.py::g is 85 lines, the allowlist says 90; lower it",
        "STALE allowlist entry (function now within budget, marked `# long:` or gone): a.py::gone "
        "(listed at 100); remove it",
    ]
