"""The interface every engine implements."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Engine"]


class Engine(abc.ABC):
    """Runs ``fn(task)`` calls somewhere and reports each one's outcome.

    Attributes:
        name: Engine name (``"local"``, ``"ray"``).
        capacity: How many tasks may be in flight at once (the runner submits no more).
    """

    name: str = "engine"
    capacity: int = 1

    def start(self) -> None:
        """Acquire resources (a pool, a cluster connection). Called once before the first submit."""
        return None

    @abc.abstractmethod
    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        """Start ``fn(task)``; return a hashable handle."""

    @abc.abstractmethod
    def wait_one(self, handles: Iterable[Any]) -> tuple[Any, bool, Any]:
        """Block until one of ``handles`` finishes: ``(handle, ok, value)`` where ``value`` is the return value
        when ``ok`` and the exception (the task's own where the engine can recover it) otherwise."""

    def cancel(self, handles: Iterable[Any]) -> None:
        """Stop tasks still running (on interrupt). Results already written stay."""
        return None

    def close(self) -> None:
        """Release what :meth:`start` acquired."""
        return None

    def describe(self) -> dict[str, Any]:
        """The engine and its options, for reports."""
        return {"engine": self.name}
