"""Engines that run sweep tasks: the current process, a local process pool, or a Ray cluster.

Every engine offers the same four operations to :func:`cape.sweep.runner.run_sweep` (submit a task, wait for
any one to finish, cancel, close); retries, resuming and the record of failures live in the runner, so they
behave the same on every engine.

Example:
    >>> make_engine("local").name
    'local'
"""

from __future__ import annotations

from typing import Any

from cape.errors import CapeError

from .base import Engine

__all__ = ["ENGINES", "Engine", "SweepUsageError", "make_engine"]

ENGINES = ("local", "ray")


class SweepUsageError(CapeError):
    """A sweep option has an invalid value."""


def make_engine(name: str = "local", **options: Any) -> Engine:
    """Build an engine by name.

    Args:
        name: ``"local"`` (``workers``: 1 runs in this process, more use a process pool) or ``"ray"``
            (``address``, ``cpus_per_task``, ``gpus_per_task``, ``memory_gb``; needs the ``cluster`` extra).
        **options: The engine's options (``None`` values are ignored).

    Raises:
        SweepUsageError: an unknown engine or an option it does not take.
    """
    options = {k: v for k, v in options.items() if v is not None}
    if name == "local":
        from .local import LocalEngine

        cls: Any = LocalEngine
    elif name == "ray":
        from .ray_engine import RayEngine

        cls = RayEngine
    else:
        raise SweepUsageError(f"--engine must be one of {', '.join(ENGINES)}, not {name!r}.")
    try:
        return cls(**options)
    except TypeError as exc:
        raise SweepUsageError(f"engine {name!r}: {exc}.") from None
