"""The local engine: tasks one after another in this process, or in a pool of worker processes.

With ``workers=1`` (the default) every task runs in the calling process, sharing its memory and its torch
threads. With ``workers > 1`` tasks run in spawned processes (never forked: torch and forked processes do not
mix), one model per process at a time; a process that dies (killed, out of memory) fails the tasks it was
running, the pool is rebuilt, and the runner retries them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from cape.errors import CapeError

from .base import Engine

__all__ = ["LocalEngine", "WorkerDiedError"]


class WorkerDiedError(RuntimeError):
    """The worker process running a task ended without returning (killed, crashed or out of memory)."""


class LocalEngine(Engine):
    """Run tasks in this process (``workers=1``) or in ``workers`` spawned processes.

    Args:
        workers: Processes running tasks at once (1: this process).
    """

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if int(workers) < 1:
            raise CapeError(f"--workers must be at least 1, not {workers}.")
        self.workers = int(workers)
        self.capacity = self.workers
        self._pool: Any = None
        self._queued: dict[int, tuple[Callable[[Any], Any], Any]] = {}
        self._ids = itertools.count()

    # -------------------------------------------------------------------------------------- pool
    def _get_pool(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        if self.workers == 1:
            handle = next(self._ids)
            self._queued[handle] = (fn, task)
            return handle
        return self._get_pool().submit(fn, task)

    def wait_one(self, handles: Iterable[Any]) -> tuple[Any, bool, Any]:
        handles = list(handles)
        if self.workers == 1:
            handle = handles[0]
            fn, task = self._queued.pop(handle)
            try:
                return handle, True, fn(task)
            except Exception as exc:  # noqa: BLE001 - recorded by the runner; KeyboardInterrupt propagates
                return handle, False, exc
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = wait(handles, return_when=FIRST_COMPLETED)
        fut = next(iter(done))
        exc = fut.exception()
        if exc is None:
            return fut, True, fut.result()
        if isinstance(exc, BrokenProcessPool):
            self._discard_pool()
            return fut, False, WorkerDiedError(f"the worker process died while running the task ({exc})")
        return fut, False, exc

    def _discard_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def cancel(self, handles: Iterable[Any]) -> None:
        self._queued.clear()
        if self._pool is not None:
            for fut in handles:
                fut.cancel()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "workers": self.workers}
