"""The Ray engine: one Ray task per model on a Ray cluster (the ``cluster`` extra: ``pip install 'cape[cluster]'``).

Ray places each task on a node with the resources it asks for (``cpus_per_task``, ``gpus_per_task``,
``memory_gb``) and reports a worker that died (killed, out of memory, node lost) as a failed task. Ray's own
task retries are turned off: the sweep's runner retries, so every attempt and its reason are recorded the same
way on every engine. Workers need ``cape`` (with the ``internals`` extra) installed and the results folder on
storage every node can write (a shared file system).

Example:
    >>> engine = RayEngine(address="auto", gpus_per_task=1)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cape.errors import CapeError, DependencyError

from .base import Engine

__all__ = ["RayEngine"]


def _call(fn: Callable[[Any], Any], task: Any) -> Any:
    """What a Ray worker runs: ``fn(task)`` (a module-level function, so Ray pickles it by reference)."""
    return fn(task)


class RayEngine(Engine):
    """Run tasks as Ray tasks.

    Args:
        address: Cluster address (``"auto"``, ``"ray://host:10001"``, ...); ``None`` joins a cluster this
            process already started or starts a local one.
        cpus_per_task: CPUs Ray reserves per task (default 1).
        gpus_per_task: GPUs per task (fractions share a GPU; default 0).
        memory_gb: Memory Ray reserves per task, in GiB (a scheduling hint; default none).
        init_options: Extra keyword arguments for ``ray.init`` when this engine starts the cluster.
    """

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_task: float = 1.0, gpus_per_task: float = 0.0,
                 memory_gb: float | None = None, init_options: dict[str, Any] | None = None) -> None:
        if cpus_per_task < 0 or gpus_per_task < 0 or (memory_gb is not None and memory_gb <= 0):
            raise CapeError("--cpus-per-task and --gpus-per-task must be zero or positive, --memory-gb positive.")
        self.address = address
        self.cpus_per_task = float(cpus_per_task)
        self.gpus_per_task = float(gpus_per_task)
        self.memory_gb = memory_gb
        self.init_options = dict(init_options or {})
        self.capacity = 1 << 30  # Ray queues tasks until resources are free
        self._ray: Any = None
        self._remote: Any = None
        self._owns_cluster = False

    def start(self) -> None:
        try:
            import ray
        except ImportError as exc:
            raise DependencyError("--engine ray needs Ray: pip install 'cape[cluster]'.") from exc
        self._ray = ray
        if not ray.is_initialized():
            import logging

            opts = {"include_dashboard": False, "logging_level": logging.ERROR, **self.init_options}
            if self.address:
                opts["address"] = self.address
            try:
                ray.init(**opts)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = self.address or "a new local cluster"
                raise CapeError(f"--engine ray: cannot connect to {where} ({str(exc).splitlines()[0]}).") from exc
            self._owns_cluster = True
        options: dict[str, Any] = {"num_cpus": self.cpus_per_task, "num_gpus": self.gpus_per_task,
                                   "max_retries": 0, "retry_exceptions": False}
        if self.memory_gb is not None:
            options["memory"] = int(self.memory_gb * 2**30)
        self._remote = ray.remote(_call).options(**options)

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        return self._remote.remote(fn, task)

    def wait_one(self, handles: Iterable[Any]) -> tuple[Any, bool, Any]:
        ray = self._ray
        ready, _ = ray.wait(list(handles), num_returns=1)
        ref = ready[0]
        try:
            return ref, True, ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the task raised: report its own exception
            cause = getattr(exc, "cause", None)
            return ref, False, cause if isinstance(cause, BaseException) else exc
        except ray.exceptions.RayError as exc:  # worker died, node lost, out of memory, cancelled
            return ref, False, exc

    def cancel(self, handles: Iterable[Any]) -> None:
        if self._ray is None:
            return
        for ref in handles:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass

    def close(self) -> None:
        if self._owns_cluster and self._ray is not None:
            self._ray.shutdown()
            self._owns_cluster = False

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "address": self.address, "cpus_per_task": self.cpus_per_task,
                "gpus_per_task": self.gpus_per_task, "memory_gb": self.memory_gb}
