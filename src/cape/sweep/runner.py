"""Running a sweep: skip what is done, submit the rest to an engine, retry, record failures, report.

Example:
    >>> from cape.sweep.tasks import heads_tasks                          # doctest: +SKIP
    >>> report = run_sweep(heads_tasks(models, out_dir="results"))        # doctest: +SKIP
    >>> [(o.model, o.reason) for o in report.failed]                      # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cape.internals.measures import as_jsonable

from .engines import Engine, make_engine
from .resume import is_done, read_failure, write_failure
from .retries import RetryPolicy, describe_failure
from .tasks import SweepTask, run_task

__all__ = ["SweepReport", "TaskOutcome", "run_sweep"]

EventFn = Callable[[str, SweepTask, dict[str, Any]], None]


@dataclass(frozen=True)
class TaskOutcome:
    """What happened to one task.

    Attributes:
        model, kind: The task.
        status: ``"computed"``, ``"skipped"`` (a result with the same settings existed) or ``"failed"``.
        attempts: One ``{"attempt", "error_type", "reason", "seconds"}`` per failed attempt.
        result: The worker's summary (``run_task``'s return value) when computed.
        reason: Why it failed (the last attempt's reason).
    """

    model: str
    kind: str
    status: str
    attempts: tuple[dict[str, Any], ...] = ()
    result: dict[str, Any] | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return as_jsonable({"model": self.model, "kind": self.kind, "status": self.status,
                            "attempts": list(self.attempts), "result": self.result, "reason": self.reason})


@dataclass(frozen=True)
class SweepReport:
    """All outcomes of a sweep, in the order of its tasks."""

    outcomes: tuple[TaskOutcome, ...]
    engine: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def computed(self) -> list[TaskOutcome]:
        return [o for o in self.outcomes if o.status == "computed"]

    @property
    def skipped(self) -> list[TaskOutcome]:
        return [o for o in self.outcomes if o.status == "skipped"]

    @property
    def failed(self) -> list[TaskOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def n_done(self) -> int:
        """Models with a result now (computed in this run or before)."""
        return len(self.computed) + len(self.skipped)

    def to_dict(self) -> dict[str, Any]:
        return as_jsonable({"engine": self.engine, "seconds": self.seconds, "n_tasks": len(self.outcomes),
                            "n_computed": len(self.computed), "n_skipped": len(self.skipped),
                            "n_failed": len(self.failed), "outcomes": [o.to_dict() for o in self.outcomes]})


def run_sweep(
    tasks: Sequence[SweepTask],
    engine: str | Engine = "local",
    *,
    policy: RetryPolicy | None = None,
    fn: Callable[[SweepTask], Any] = run_task,
    force: bool = False,
    skip_failed: bool = False,
    on_event: EventFn | None = None,
) -> SweepReport:
    """Run ``tasks`` on ``engine`` with bounded retries.

    Args:
        tasks: One task per model (:func:`cape.sweep.tasks.heads_tasks` and friends).
        engine: An :class:`~cape.sweep.engines.Engine` or a name for :func:`~cape.sweep.engines.make_engine`.
        policy: Retry policy (default: 3 attempts, permanent failures not retried).
        fn: What runs a task (default :func:`cape.sweep.tasks.run_task`; it must write the result file).
        force: Recompute tasks that already have a result with the same settings.
        skip_failed: Do not retry tasks with a failure record for the same settings; report them as failed.
        on_event: Called as ``on_event(event, task, info)`` with ``event`` in ``skipped``, ``started``,
            ``computed``, ``retry`` and ``failed`` (progress for the caller; runs in this process).

    Returns:
        :class:`SweepReport`. Failed tasks also leave ``<model>.<kind>.failed.json`` in the results folder.

    An interrupt (``KeyboardInterrupt``) cancels the tasks in flight and propagates; every result written so
    far is complete, and running the same sweep again computes only what is missing.
    """
    policy = policy or RetryPolicy()
    eng = make_engine(engine) if isinstance(engine, str) else engine
    emit = on_event or (lambda event, task, info: None)
    start = time.perf_counter()
    outcomes: dict[int, TaskOutcome] = {}
    pending: deque[int] = deque()
    for i, task in enumerate(tasks):
        if not force and is_done(task):
            outcomes[i] = TaskOutcome(task.model, task.kind, "skipped")
            emit("skipped", task, {"reason": "a result with the same settings exists"})
            continue
        earlier = read_failure(task) if skip_failed else None
        if earlier is not None:
            outcomes[i] = TaskOutcome(task.model, task.kind, "failed", tuple(earlier.get("attempts") or ()),
                                      reason=earlier.get("reason"))
            emit("failed", task, {"reason": earlier.get("reason"), "earlier": True})
            continue
        pending.append(i)
    for folder in {tasks[i].out_dir for i in pending}:
        Path(folder).mkdir(parents=True, exist_ok=True)
    if pending:
        _execute(tasks, pending, eng, policy, fn, emit, outcomes)
    ordered = tuple(outcomes[i] for i in range(len(tasks)))
    return SweepReport(ordered, eng.describe(), time.perf_counter() - start)


def _execute(tasks, pending, eng: Engine, policy: RetryPolicy, fn, emit: EventFn, outcomes) -> None:
    attempts: dict[int, list[dict[str, Any]]] = {i: [] for i in pending}
    running: dict[Any, tuple[int, float]] = {}
    eng.start()
    try:
        while pending or running:
            while pending and len(running) < eng.capacity:
                i = pending.popleft()
                emit("started", tasks[i], {"attempt": len(attempts[i]) + 1})
                running[eng.submit(fn, tasks[i])] = (i, time.perf_counter())
            handle, ok, value = eng.wait_one(list(running))
            i, t0 = running.pop(handle)
            task = tasks[i]
            if ok:
                outcomes[i] = TaskOutcome(task.model, task.kind, "computed", tuple(attempts[i]),
                                          value if isinstance(value, dict) else None)
                emit("computed", task, {"result": value, "attempts": len(attempts[i]) + 1})
                continue
            failure = {"attempt": len(attempts[i]) + 1, **describe_failure(value),
                       "seconds": round(time.perf_counter() - t0, 3)}
            attempts[i].append(failure)
            if policy.should_retry(value, failure["attempt"]):
                emit("retry", task, failure)
                pending.append(i)
                continue
            write_failure(task, attempts[i])
            outcomes[i] = TaskOutcome(task.model, task.kind, "failed", tuple(attempts[i]), reason=failure["reason"])
            emit("failed", task, failure)
    except BaseException:
        eng.cancel(list(running))
        raise
    finally:
        eng.close()
