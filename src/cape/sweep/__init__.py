"""Many models, one analysis each: sweeps of ``heads``, ``layers`` and steering evaluation on an engine.

A sweep turns a list of models into one task per model (:mod:`~cape.sweep.tasks`), runs the tasks on an engine
(:mod:`~cape.sweep.engines`: the current process, a local process pool, or a Ray cluster), retries failures a
bounded number of times (:mod:`~cape.sweep.retries`), and writes the same per-model result files as
``cape heads -o DIR`` / ``cape layers -o DIR`` / ``cape steer eval -o DIR``, atomically, into one folder. A model
whose result file already holds the same settings is skipped, so an interrupted sweep continues where it
stopped (:mod:`~cape.sweep.resume`). :mod:`~cape.sweep.summaries` aggregates such a folder across models.

Only the Ray engine needs Ray (the ``cluster`` extra); it is imported when that engine is built.

Example:
    >>> from cape.sweep import heads_tasks, run_sweep                       # doctest: +SKIP
    >>> tasks = heads_tasks(["EleutherAI/pythia-70m"], out_dir="results")   # doctest: +SKIP
    >>> report = run_sweep(tasks, engine="local")                           # doctest: +SKIP
    >>> report.n_done, report.failed                                        # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SweepTask": "tasks",
    "TaskOptions": "tasks",
    "heads_tasks": "tasks",
    "layers_tasks": "tasks",
    "steer_tasks": "tasks",
    "run_task": "tasks",
    "RetryPolicy": "retries",
    "SweepReport": "runner",
    "TaskOutcome": "runner",
    "run_sweep": "runner",
    "make_engine": "engines",
    "resolve_models": "models",
    "study_models": "models",
    "summarize_heads": "summaries",
    "summarize_layers": "summaries",
    "summarize_steering": "summaries",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cape.sweep' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cape.sweep.{module}"), name)
