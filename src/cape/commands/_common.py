"""Helpers shared by the command modules: consoles, JSON output, tables."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

from .._format import fmt_number as fmt
from .._format import fmt_params, to_json

__all__ = ["console", "emit_json", "err_console", "fmt", "fmt_params", "to_json"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(obj: Any) -> None:
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()
