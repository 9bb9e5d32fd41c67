"""Helpers shared by the command modules: consoles, JSON output, tables."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _default(o: Any):
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return _clean(float(o))
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.ndarray):
            return [_default(x) if not isinstance(x, (int, float, str)) else _clean(x) for x in o.tolist()]
    except ImportError:  # pragma: no cover
        pass
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if isinstance(o, (set, tuple)):
        return list(o)
    try:
        import pandas as pd

        if o is pd.NA or o is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return str(o)


def _clean(x):
    """NaN and infinities are not JSON: they become ``null``."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def to_json(obj: Any) -> str:
    """Serialise ``obj`` (result objects via ``to_dict()``, numpy scalars, NaN -> null) as JSON text."""
    def prep(o):
        if hasattr(o, "to_dict") and not isinstance(o, dict):
            o = o.to_dict()
        if isinstance(o, dict):
            return {str(k): prep(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [prep(v) for v in o]
        if isinstance(o, float):
            return _clean(o)
        return o

    return json.dumps(prep(obj), default=lambda o: _clean(_default(o)), indent=2, allow_nan=False)


def emit_json(obj: Any) -> None:
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()


def fmt(x: Any, nd: int = 3) -> str:
    """Format a number for a table; missing values as an em dash."""
    if x is None:
        return "—"
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(xf):
        return "—"
    return f"{xf:.{nd}f}"


def fmt_params(n: Any) -> str:
    """Raw parameter count as ``70M`` / ``1.4B``."""
    try:
        n = float(n)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(n):
        return "—"
    if n >= 1e9:
        return f"{n / 1e9:.3g}B"
    if n >= 1e6:
        return f"{n / 1e6:.3g}M"
    return f"{n:.3g}"
