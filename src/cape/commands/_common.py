"""Helpers shared by the command modules: consoles, JSON output, tables."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console

from .._format import fmt_number as fmt
from .._format import fmt_params, to_json

__all__ = ["SCHEMA_VERSION", "console", "emit_json", "err_console", "fmt", "fmt_params", "to_json"]

#: Version of the JSON every ``--json`` prints (``schema_version``, the first key); raised when a key is renamed
#: or removed or a value changes type. New keys do not change it. See the documentation page on JSON output.
SCHEMA_VERSION = 1

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(obj: Any, key: str = "items") -> None:
    """Print ``obj`` as JSON on standard output with ``schema_version`` as its first key.

    Args:
        obj: a mapping, a result object with ``to_dict()``, or a list.
        key: the key a list is put under (``{"schema_version": 1, key: [...]}``).
    """
    if hasattr(obj, "to_dict") and not isinstance(obj, dict):
        obj = obj.to_dict()
    if isinstance(obj, dict):
        body = {"schema_version": SCHEMA_VERSION, **{k: v for k, v in obj.items() if k != "schema_version"}}
    else:
        body = {"schema_version": SCHEMA_VERSION, key: obj}
    sys.stdout.write(to_json(body) + "\n")
    sys.stdout.flush()
