"""Resuming: which tasks already have a result with the same settings, and the record of failed ones.

A task is *done* when its result file exists, parses, and stores exactly the task's settings (and, when the task
asks for a specific dtype, was computed in it). Result files are written atomically (a temporary file renamed
into place), so a sweep interrupted at any moment leaves either a complete file or none: re-running it computes
exactly the models without one.

A task that failed for good leaves ``<model>.<kind>.failed.json`` beside where its result would be, with every
attempt's reason; a later success removes it. A re-run retries failed models unless asked to skip them.

Example:
    >>> from cape.sweep.tasks import heads_tasks
    >>> t = heads_tasks(["EleutherAI/pythia-70m"], out_dir="no-such-folder", max_items=4)[0]
    >>> is_done(t)
    False
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from cape.internals.measures import as_jsonable

__all__ = ["clear_failure", "failure_path", "is_done", "read_failure", "read_failures", "write_failure"]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stored_settings(payload: dict[str, Any]) -> Any:
    """The settings a result file was computed with (``provenance.settings``)."""
    return (payload.get("provenance") or {}).get("settings")


def is_done(task: Any) -> bool:
    """Whether ``task``'s result file exists, is complete and holds the task's settings (and dtype, if fixed)."""
    payload = _read_json(task.result_path)
    if payload is None or stored_settings(payload) != as_jsonable(task.settings):
        return False
    dtype = task.options.dtype
    return dtype is None or dtype == "auto" or (payload.get("provenance") or {}).get("dtype") == dtype


def failure_path(task: Any) -> Path:
    """``<model>.<kind>.failed.json`` beside the task's result."""
    path = task.result_path
    return path.with_name(path.name[: -len(".json")] + ".failed.json")


def write_failure(task: Any, attempts: list[dict[str, Any]]) -> Path:
    """Record that ``task`` failed after ``attempts`` (each ``{"attempt", "error_type", "reason", ...}``)."""
    from cape.scores import write_atomic

    last = attempts[-1] if attempts else {}
    payload = {
        "kind": "sweep_failure",
        "task_kind": task.kind,
        "model_id": task.model,
        "reason": last.get("reason"),
        "error_type": last.get("error_type"),
        "attempts": attempts,
        "settings": task.settings,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = failure_path(task)
    write_atomic(path, json.dumps(as_jsonable(payload), indent=2, allow_nan=False))
    return path


def clear_failure(task: Any) -> None:
    """Remove ``task``'s failure record (after it succeeded)."""
    with contextlib.suppress(OSError):
        failure_path(task).unlink()


def read_failure(task: Any) -> dict[str, Any] | None:
    """``task``'s failure record when it has one for the same settings."""
    payload = _read_json(failure_path(task))
    if payload is None or payload.get("settings") != as_jsonable(task.settings):
        return None
    return payload


def read_failures(folder: str | Path) -> list[dict[str, Any]]:
    """Every failure record in ``folder`` (recursively), each with ``_file``."""
    out = []
    for path in sorted(Path(folder).rglob("*.failed.json")):
        payload = _read_json(path)
        if payload is not None and payload.get("kind") == "sweep_failure":
            out.append(dict(payload, _file=path.name))
    return out
