"""One task per model: what to compute, where its result goes, and the function a worker runs.

A :class:`SweepTask` is small and picklable (it travels to a worker process or a Ray node). :func:`run_task`
loads the model, runs the analysis, writes the result file atomically into the task's folder (the same files as
``cape heads -o DIR``, ``cape layers -o DIR`` and ``cape steer eval -o DIR``) and returns a short summary. The
*settings* of a task identify its result: a later sweep that finds a result file with equal settings skips it.

Example:
    >>> tasks = heads_tasks(["EleutherAI/pythia-70m"], out_dir="results", max_items=8, n_boot=0, n_perm=0)
    >>> tasks[0].kind, tasks[0].result_path.name.endswith(".heads.json")
    ('heads', True)
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cape.errors import CapeError, DataError
from cape.internals.measures import as_jsonable

__all__ = ["KINDS", "SweepTask", "TaskOptions", "heads_tasks", "layers_tasks", "run_task", "steer_tasks"]

KINDS = ("heads", "layers", "steer_eval")
#: Libraries whose exceptions while loading mean a corrupt checkpoint (a permanent failure, not retried).
_CHECKPOINT_ERROR_MODULES = frozenset({"safetensors", "pickle", "_pickle", "zipfile", "gguf", "json"})


@dataclass(frozen=True)
class TaskOptions:
    """How a worker loads a model.

    Attributes:
        device: ``"auto"`` (CUDA when visible, else CPU), ``"cpu"``, ``"cuda:0"``, ...
        dtype: Weights dtype; ``None`` picks float32 on CPU and bfloat16 (or float16) on CUDA.
        device_map: ``"auto"`` spreads every model over the visible devices; ``None`` does so only for a model
            whose weights do not fit in 85% of the device's free memory.
        batch_size: Texts per forward pass; ``None`` sizes it from the free device memory (16 on CPU).
        threads: CPU threads for torch in the worker (``None``: torch's choice).
        trust_remote_code: Allow code shipped with a checkpoint to run.
        revision: Hub revision for every model.
    """

    device: str = "auto"
    dtype: str | None = None
    device_map: str | None = None
    batch_size: int | None = None
    threads: int | None = None
    trust_remote_code: bool = False
    revision: str | None = None


@dataclass(frozen=True)
class SweepTask:
    """One model's analysis.

    Attributes:
        kind: ``"heads"``, ``"layers"`` or ``"steer_eval"``.
        model: The model spec (hub id, directory or GGUF file), also the name of its result.
        out_dir: The shared results folder.
        settings: What identifies the result (resuming compares these).
        params: Keyword arguments of the analysis (prompt sets, resamples, thresholds, ...).
        options: :class:`TaskOptions`.
    """

    kind: str
    model: str
    out_dir: str
    settings: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    options: TaskOptions = field(default_factory=TaskOptions)

    @property
    def result_path(self) -> Path:
        """The JSON result file this task writes."""
        from cape.internals.results import model_slug, result_paths

        if self.kind == "steer_eval":
            return Path(self.out_dir) / f"{model_slug(self.model)}.steer_eval.json"
        return result_paths(self.out_dir, self.model, self.kind)[0]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.model}"


# ---------------------------------------------------------------------------------------------- building tasks
def _prompt_sources(reasoning: Any, truthfulness: Any, max_items: int | None):
    """Prompt sets for workers: built-in names travel as names, user files as their items (no shared disk needed)."""
    from cape.internals.analysis import prepare_prompt_sets
    from cape.internals.prompts import BUILTIN_SETS

    r_items, t_items, info = prepare_prompt_sets(reasoning, truthfulness, max_items)
    r = reasoning if isinstance(reasoning, str) and reasoning in BUILTIN_SETS else r_items
    t = truthfulness if isinstance(truthfulness, str) and truthfulness in BUILTIN_SETS else t_items
    return {"reasoning": r, "truthfulness": t, "max_items": max_items}, info


def _tasks(kind: str, models: Sequence[str], out_dir: str | Path, settings: dict, params: dict,
           options: TaskOptions | None) -> list[SweepTask]:
    if not models:
        raise DataError("no models to sweep.")
    opts = options or TaskOptions()
    return [SweepTask(kind, str(m), str(out_dir), settings, params, opts) for m in models]


def heads_tasks(
    models: Sequence[str],
    out_dir: str | Path,
    *,
    measure: str = "contrast",
    representation: str = "z",
    reasoning: Any = "reasoning",
    truthfulness: Any = "truthfulness",
    max_items: int | None = None,
    n_boot: int = 1000,
    n_perm: int = 1000,
    seed: int = 0,
    thresholds: Any = None,
    max_length: int = 128,
    options: TaskOptions | None = None,
) -> list[SweepTask]:
    """Per-head coupling tasks (settings as ``cape heads``, so either command's results resume the other)."""
    from cape.internals.analysis import heads_settings
    from cape.internals.results import Thresholds

    thresholds = thresholds or Thresholds()
    prompts, info = _prompt_sources(reasoning, truthfulness, max_items)
    settings = heads_settings(info, measure=measure, representation=representation, n_boot=n_boot, n_perm=n_perm,
                              seed=seed, thresholds=thresholds, max_length=max_length)
    params = dict(prompts, measure=measure, representation=representation, n_boot=n_boot, n_perm=n_perm, seed=seed,
                  thresholds=thresholds, max_length=max_length)
    return _tasks("heads", models, out_dir, settings, params, options)


def layers_tasks(
    models: Sequence[str],
    out_dir: str | Path,
    *,
    reasoning: Any = "reasoning",
    truthfulness: Any = "truthfulness",
    max_items: int | None = None,
    n_boot: int = 1000,
    n_perm: int = 1000,
    drep_boot: int = 100,
    seed: int = 0,
    max_length: int = 128,
    options: TaskOptions | None = None,
) -> list[SweepTask]:
    """Per-layer coupling, bottleneck and ``d_rep`` tasks (settings as ``cape layers``)."""
    from cape.internals.analysis import layers_settings

    prompts, info = _prompt_sources(reasoning, truthfulness, max_items)
    settings = layers_settings(info, n_boot=n_boot, n_perm=n_perm, seed=seed, max_length=max_length,
                               drep_boot=drep_boot)
    params = dict(prompts, n_boot=n_boot, n_perm=n_perm, drep_boot=drep_boot, seed=seed, max_length=max_length)
    return _tasks("layers", models, out_dir, settings, params, options)


def steer_tasks(
    models: Sequence[str],
    out_dir: str | Path,
    *,
    pairs: str = "truthfulness",
    layers: Any = "auto",
    strength: float = 0.1,
    n_items: int | None = None,
    n_prompts: int | None = None,
    max_new_tokens: int = 30,
    sweep_strengths: Sequence[float] | None = (-0.1, 0.05, 0.1, 0.25, 0.5),
    n_boot: int = 2000,
    seed: int = 0,
    options: TaskOptions | None = None,
) -> list[SweepTask]:
    """Steering tasks: train a vector on each model (``pairs``), then evaluate it as ``cape steer eval`` does.

    The vector is saved beside the evaluation as ``<model>.steer_vector.safetensors``.
    """
    params = {"pairs": pairs, "layers": layers, "strength": float(strength), "n_items": n_items,
              "n_prompts": n_prompts, "max_new_tokens": max_new_tokens,
              "sweep_strengths": None if sweep_strengths is None else [float(s) for s in sweep_strengths],
              "n_boot": n_boot, "seed": seed}
    settings = as_jsonable({"analysis": "steer_eval", **params})
    return _tasks("steer_eval", models, out_dir, settings, params, options)


# ---------------------------------------------------------------------------------------------- running one task
def _load(task: SweepTask):
    """Load the task's model on the chosen device, spreading it with ``device_map="auto"`` when it does not fit."""
    import os

    from cape.internals.adapters import get_adapter
    from cape.internals.gpu import default_dtype, needs_device_map, resolve_device
    from cape.internals.loading import ModelLoadError, load_model

    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    opts = task.options
    device = resolve_device(opts.device)
    dtype = opts.dtype or default_dtype(device)
    device_map = opts.device_map
    if device_map is None and device.startswith("cuda"):
        device_map = "auto" if _too_big(task, dtype, device, needs_device_map) else None
    try:
        lm = load_model(task.model, dtype=dtype, device=device, device_map=device_map,
                        trust_remote_code=opts.trust_remote_code, revision=opts.revision)
    except CapeError:
        raise
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in _CHECKPOINT_ERROR_MODULES:
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(f"{task.model}: the checkpoint cannot be read ({first}).") from exc
    get_adapter(lm.model)
    return lm


def _too_big(task: SweepTask, dtype: str, device: str, needs_device_map) -> bool:
    try:
        from transformers import AutoConfig

        from cape.internals.gpu import estimate_param_count
        from cape.internals.loading import resolve_spec

        location, gguf, _ = resolve_spec(task.model)
        if gguf is not None:
            return False
        config = AutoConfig.from_pretrained(location, trust_remote_code=task.options.trust_remote_code)
        return needs_device_map(estimate_param_count(config), dtype, device)
    except Exception:  # noqa: BLE001 - the size is unknown before loading: load on one device
        return False


def _batch_size(task: SweepTask, lm: Any, max_length: int) -> int:
    if task.options.batch_size is not None:
        return task.options.batch_size
    from cape.internals.adapters import get_adapter
    from cape.internals.gpu import auto_batch_size, free_memory

    config = lm.model.config
    adapter = get_adapter(lm.model)
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "n_embd", 0) or 1024)
    inter = getattr(config, "intermediate_size", None) or getattr(config, "ffn_dim", None) or getattr(config, "n_inner", None)
    return auto_batch_size(hidden=hidden, intermediate=inter, n_heads=adapter.n_heads(config), max_length=max_length,
                           dtype_bytes=4 if lm.dtype == "float32" else 2, free_bytes=free_memory(lm.device))


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(int(threads))


def run_task(task: SweepTask) -> dict[str, Any]:
    """Run one task where it is called (in the driver, a pool process or a Ray worker).

    Returns:
        ``{"model", "kind", "files", "summary", "seconds", "n_params", "device", "dtype", "batch_size"}``.

    Raises:
        Whatever loading or the analysis raises; the engine records it and decides whether to retry.
    """
    from cape.sweep.resume import clear_failure

    start = time.perf_counter()
    _set_threads(task.options.threads)
    lm = _load(task)
    try:
        batch = _batch_size(task, lm, int(task.params.get("max_length", 128)))
        runner = {"heads": _run_heads, "layers": _run_layers, "steer_eval": _run_steer}[task.kind]
        files, summary = runner(task, lm, batch)
        info = {"n_params": lm.n_params, "device": lm.device, "dtype": lm.dtype, "batch_size": batch}
    finally:
        del lm
        _release_memory()
    clear_failure(task)
    return {"model": task.model, "kind": task.kind, "files": [str(f) for f in files], "summary": summary,
            "seconds": time.perf_counter() - start, **info}


def _release_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover
        pass


def _named(result: Any, task: SweepTask) -> Any:
    """Name the result by the spec as given (what resuming looks up) and store the task's settings."""
    return replace(result, provenance=replace(result.provenance, model_id=task.model, settings=task.settings))


def _run_heads(task: SweepTask, lm: Any, batch: int):
    from cape.internals.analysis import analyze_heads
    from cape.internals.results import write_result

    p = task.params
    res = analyze_heads(lm, reasoning=p["reasoning"], truthfulness=p["truthfulness"], max_items=p["max_items"],
                        measure=p["measure"], representation=p["representation"], n_boot=p["n_boot"],
                        n_perm=p["n_perm"], seed=p["seed"], thresholds=p["thresholds"], batch_size=batch,
                        max_length=p["max_length"])
    res = _named(res, task)
    return write_result(res, task.out_dir, "heads"), res.summary_dict()


def _run_layers(task: SweepTask, lm: Any, batch: int):
    from cape.internals.analysis import analyze_layers
    from cape.internals.results import write_result

    p = task.params
    rep = analyze_layers(lm, reasoning=p["reasoning"], truthfulness=p["truthfulness"], max_items=p["max_items"],
                         n_boot=p["n_boot"], n_perm=p["n_perm"], drep_boot=p["drep_boot"], seed=p["seed"],
                         batch_size=batch, max_length=p["max_length"])
    rep = _named(rep, task)
    early = {m: [lc.get("early"), lc.get("mid"), lc.get("late")]
             for m, lc in rep.to_dict().get("layer_coupling", {}).items()}
    return write_result(rep, task.out_dir, "layers"), {"early_mid_late": early}


def _run_steer(task: SweepTask, lm: Any, batch: int):
    from cape.internals.results import SCHEMA_VERSION, model_slug
    from cape.internals.steering import evaluate_steering, train_steering_vector
    from cape.scores import write_atomic

    p = task.params
    vec = train_steering_vector(lm, pairs=p["pairs"], layers=p["layers"], batch_size=batch, seed=p["seed"])
    vec_path = Path(task.out_dir) / f"{model_slug(task.model)}.steer_vector.safetensors"
    vec.save(vec_path)
    ev = evaluate_steering(lm, vector=vec, strength=p["strength"], n_items=p["n_items"], n_prompts=p["n_prompts"],
                           max_new_tokens=p["max_new_tokens"], sweep_strengths=p["sweep_strengths"],
                           batch_size=batch, n_boot=p["n_boot"], seed=p["seed"])
    payload = {"schema": SCHEMA_VERSION, "kind": "steer_eval", **ev.to_dict(), "model_id": task.model,
               "provenance": {"model_id": task.model, "settings": task.settings, "dtype": lm.dtype,
                              "device": lm.device, "n_params": lm.n_params}}
    write_atomic(task.result_path, json.dumps(as_jsonable(payload), indent=2, allow_nan=False))
    mc = ev.mc.to_dict() if ev.mc else {}
    summary = {"layers": list(ev.layers), "strength": ev.strength, "intervention_rate": ev.intervention_rate,
               **{k: mc.get(k) for k in ("accuracy_unsteered", "accuracy_steered", "margin_diff", "margin_diff_ci")}}
    return [task.result_path, vec_path], summary
