"""Helpers for the sweep tests: tiny random models saved as model directories, and injected faults.

The fault functions wrap :func:`cape.sweep.tasks.run_task` and are module-level, so a process pool or a Ray worker
can unpickle them; they coordinate through marker files in the results folder (shared by every worker).
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from _models import tiny_model


def save_tiny_models(root: Path, archs=("llama", "gpt2"), corrupt: bool = True) -> list[str]:
    """Save one tiny random model per architecture under ``root``; with ``corrupt`` add ``root/corrupt`` whose
    weights file is garbage. Returns the model directories (corrupt last)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    os.environ.setdefault("TQDM_DISABLE", "1")
    dirs = []
    for i, arch in enumerate(archs):
        model, tok = tiny_model(arch, seed=i)
        path = root / f"tiny-{arch}"
        model.save_pretrained(path)
        tok.save_pretrained(path)
        dirs.append(str(path))
    if corrupt:
        bad = root / "corrupt"
        bad.mkdir()
        first = Path(dirs[0])
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
            if (first / name).is_file():
                shutil.copy(first / name, bad / name)
        (bad / "model.safetensors").write_bytes(b"\x00not a safetensors file" * 8)
        dirs.append(str(bad))
    return dirs


def _first_time(task, tag: str) -> bool:
    """True exactly once per (task, tag): creates a marker file beside the task's result."""
    marker = Path(task.out_dir) / f".{tag}-{Path(task.model).name}"
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def kill_first_attempt(task):
    """The worker process kills itself (SIGKILL) on the first attempt of the first model, then runs normally."""
    from cape.sweep.tasks import run_task

    if Path(task.model).name == "tiny-llama" and _first_time(task, "killed"):
        os.kill(os.getpid(), signal.SIGKILL)
    return run_task(task)


def fail_first_attempt(task):
    """A transient error (out of memory) on the first attempt of every model, then a normal run."""
    from cape.sweep.tasks import run_task

    if _first_time(task, "oom"):
        raise MemoryError("CUDA out of memory (injected)")
    return run_task(task)


def count_runs(task):
    """Run the task and leave one ``.run-N`` marker per execution (to prove nothing runs twice)."""
    from cape.sweep.tasks import run_task

    out = run_task(task)
    runs = Path(task.out_dir) / ".runs"
    runs.mkdir(exist_ok=True)
    (runs / f"{Path(task.model).name}-{os.getpid()}-{len(list(runs.iterdir()))}").touch()
    return out


def kill_first_light(task):
    """No model: the worker process kills itself on the first attempt of each model, then reports success
    (for the local process pool, without importing torch in the workers)."""
    if _first_time(task, "killed-light"):
        os.kill(os.getpid(), signal.SIGKILL)
    return {"model": task.model, "pid": os.getpid()}
