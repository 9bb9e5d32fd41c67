"""``cape sweep``: one analysis over many models, one task per model, on this machine or a Ray cluster.

torch, transformers and Ray are imported inside the command bodies only, so ``cape --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from ._common import emit_json, err_console, fmt
from ._table import format_option, set_format
from ._table import out as current

sweep_app = typer.Typer(
    help="Sweep heads, layers or steering evaluation over many models (one task per model; resumable; "
         "--engine local or ray).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(sweep_app, name="sweep")


# ----------------------------------------------------------------------------------------------- options
_MODELS = typer.Argument(None, help="Model directories, GGUF files or hub ids.", show_default=False)
_FILE = typer.Option(None, "--models-file", help="A text file with one model per line (# comments allowed).")
_FAMILY = typer.Option(None, "--family", help="Every model of a family of the architectures table "
                                              "(see `cape data architectures`).")
_STUDY = typer.Option(None, "--study", help="A predefined model list: paper40 (the paper's 40-model study).")
_OUT = typer.Option(..., "-o", "--out", help="Shared results folder: one result file per model; models already "
                                             "done with the same settings are skipped.")
_ENGINE = typer.Option("local", "--engine", help="local (this machine) or ray (a Ray cluster; needs the "
                                                 "cluster extra).")
_WORKERS = typer.Option(1, "--workers", help="Local engine: models at once (1: in this process; more: a pool "
                                             "of worker processes).")
_ADDRESS = typer.Option(None, "--address", help="Ray engine: cluster address (e.g. auto or ray://head:10001); "
                                                "default: start a local cluster.")
_CPUS = typer.Option(1.0, "--cpus-per-task", help="Ray engine: CPUs reserved per model.")
_GPUS = typer.Option(0.0, "--gpus-per-task", help="Ray engine: GPUs reserved per model (fractions share a GPU).")
_MEM = typer.Option(None, "--memory-gb", help="Ray engine: memory reserved per model, GiB (scheduling hint).")
_ATTEMPTS = typer.Option(3, "--max-attempts", help="Attempts per model before its failure is recorded "
                                                   "(failures that would repeat, like an unreadable checkpoint, "
                                                   "are recorded after the first).")
_SKIP_FAILED = typer.Option(False, "--skip-failed", help="Do not retry models with a failure record from an "
                                                         "earlier run.")
_FORCE = typer.Option(False, "--force", help="Recompute models whose result files already exist.")
_DRY = typer.Option(False, "--dry-run", help="List the models and whether each is done, failed or to do; run nothing.")
_DEVICE = typer.Option("auto", "--device", help="auto (CUDA when visible, else CPU), cpu, cuda:0, ...")
_DTYPE = typer.Option(None, "--dtype", help="Weights dtype: float32, bfloat16, float16 or auto (the checkpoint's); "
                                            "default float32 on CPU, bfloat16 on CUDA.")
_DEVICE_MAP = typer.Option(None, "--device-map", help="auto: spread every model over the visible devices "
                                                      "(default: only models that do not fit on one).")
_BATCH = typer.Option(None, "--batch-size", help="Texts per forward pass (default: from free GPU memory; 16 on CPU).")
_THREADS = typer.Option(None, "--threads", help="CPU threads for torch in each task.")
_TRUST = typer.Option(False, "--trust-remote-code", help="Allow code shipped with a checkpoint to run (off by default).")
_REVISION = typer.Option(None, "--revision", help="Hub revision for every model.")
_JSON = typer.Option(False, "--json", help="Print the sweep report as JSON on stdout (progress goes to stderr).")
_FORMAT = format_option()
_MAX_ITEMS = typer.Option(None, "--max-items", help="Use the first N items of each prompt set.")
_SEED = typer.Option(0, "--seed", help="Seed of all resampling.")
_NBOOT = typer.Option(1000, "--n-boot", help="Bootstrap resamples over items (0 to skip).")
_NPERM = typer.Option(1000, "--n-perm", help="Label permutations for the null (0 to skip).")
_REASONING = typer.Option("reasoning", "--reasoning", help="Reasoning contrast set: 'reasoning' or a JSONL file.")
_TRUTH = typer.Option("truthfulness", "--truthfulness", help="Truthfulness contrast set: 'truthfulness' or a JSONL file.")
_MAXLEN = typer.Option(128, "--max-length", help="Keep at most the last N tokens of a text.")


def _options(device, dtype, device_map, batch_size, threads, trust, revision):
    from cape.sweep.engines import SweepUsageError
    from cape.sweep.tasks import TaskOptions

    if dtype is not None and dtype not in ("float32", "bfloat16", "float16", "auto"):
        raise SweepUsageError(f"--dtype must be float32, bfloat16, float16 or auto, not {dtype!r}.")
    if device_map not in (None, "auto"):
        raise SweepUsageError(f"--device-map must be auto, not {device_map!r}.")
    if batch_size is not None and batch_size < 1:
        raise SweepUsageError("--batch-size must be at least 1.")
    if threads is not None and threads < 1:
        raise SweepUsageError("--threads must be at least 1.")
    return TaskOptions(device=device, dtype=dtype, device_map=device_map, batch_size=batch_size, threads=threads,
                       trust_remote_code=trust, revision=revision)


def _models(models, models_file, family, study) -> list[str]:
    from cape.sweep.models import resolve_models

    return resolve_models(models or [], models_file=models_file, family=family, study=study)


def _check_common(out: Path, max_items, n_boot: int, n_perm: int, max_attempts: int) -> None:
    import os

    from cape.sweep.engines import SweepUsageError

    os.environ.setdefault("TQDM_DISABLE", "1")  # before transformers is imported: no library progress bars

    if out.exists() and not out.is_dir():
        raise SweepUsageError(f"--out {out}: exists and is not a folder.")
    if max_items is not None and max_items < 2:
        raise SweepUsageError(f"--max-items must be at least 2, not {max_items}.")
    if n_boot < 0 or n_perm < 0:
        raise SweepUsageError("--n-boot and --n-perm must be zero or positive.")
    if max_attempts < 1:
        raise SweepUsageError(f"--max-attempts must be at least 1, not {max_attempts}.")


def _run(tasks, *, engine: str, workers: int, address, cpus, gpus, memory_gb, max_attempts: int, skip_failed: bool,
         force: bool, dry_run: bool, json_out: bool, fmt_: str = "table") -> None:
    from cape.sweep.engines import make_engine
    from cape.sweep.retries import RetryPolicy
    from cape.sweep.runner import run_sweep

    out = set_format(fmt_)
    if dry_run:
        _plan(tasks, json_out)
        return
    opts: dict[str, Any] = {"workers": workers} if engine == "local" else {
        "address": address, "cpus_per_task": cpus, "gpus_per_task": gpus, "memory_gb": memory_gb}
    eng = make_engine(engine, **opts)
    Path(tasks[0].out_dir).mkdir(parents=True, exist_ok=True)
    on_event = _printer(len(tasks))
    try:
        report = run_sweep(tasks, eng, policy=RetryPolicy(max_attempts=max_attempts), force=force,
                           skip_failed=skip_failed, on_event=on_event)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: every result written so far is complete in {tasks[0].out_dir}; run the "
                          "same command again to continue.")
        raise typer.Exit(code=130) from None
    if json_out:
        emit_json(report.to_dict())
    else:
        _report_table(report)
        out.print(f"Results in {tasks[0].out_dir}")
    if report.failed:
        err_console.print(f"{len(report.failed)} of {len(tasks)} model(s) failed; their reasons are in "
                          f"{tasks[0].out_dir}/*.failed.json. Run the same command again to retry them.")
        raise typer.Exit(code=1)


def _printer(total: int):
    """A progress callback for the runner: one line per model on stderr."""
    counter = {"n": 0}

    def on_event(event: str, task, info: dict) -> None:
        name = task.model
        if event == "started":
            suffix = f" (attempt {info['attempt']})" if info.get("attempt", 1) > 1 else ""
            err_console.print(f"started {name}{suffix}")
            return
        if event == "retry":
            err_console.print(f"{name}: attempt {info['attempt']} failed ({info['reason']}); retrying")
            return
        counter["n"] += 1
        head = f"[{counter['n']}/{total}]"
        if event == "skipped":
            err_console.print(f"{head} {name}: already done, skipped")
        elif event == "computed":
            secs = (info.get("result") or {}).get("seconds")
            err_console.print(f"{head} {name}: done" + (f" in {secs:.1f} s" if secs is not None else ""))
        else:
            err_console.print(f"{head} [red]{name}: failed[/] ({info.get('reason')})")

    return on_event


def _plan(tasks, json_out: bool) -> None:
    from cape.sweep.resume import is_done, read_failure

    rows = []
    for t in tasks:
        failure = read_failure(t)
        status = "done" if is_done(t) else ("failed" if failure else "to do")
        rows.append({"model": t.model, "kind": t.kind, "status": status, "result": str(t.result_path),
                     "reason": failure.get("reason") if failure else None})
    if json_out:
        emit_json({"tasks": rows})
        return
    from rich.table import Table

    table = Table(title=f"Sweep plan ({len(rows)} models)")
    for col in ("model", "status", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["model"], r["status"], r["reason"] or "")
    current().table(table)


def _report_table(report) -> None:
    from rich.table import Table

    table = Table(title=f"Sweep: {len(report.computed)} computed, {len(report.skipped)} skipped, "
                        f"{len(report.failed)} failed ({report.engine.get('engine')}, {report.seconds:.1f} s)")
    for col in ("model", "status", "attempts", "seconds", "reason"):
        table.add_column(col, justify="right" if col in ("attempts", "seconds") else "left", overflow="fold")
    for o in report.outcomes:
        secs = (o.result or {}).get("seconds")
        n_att = len(o.attempts) + (1 if o.status == "computed" else 0)
        table.add_row(o.model, o.status, str(n_att) if o.status != "skipped" else "—", fmt(secs, 1),
                      o.reason or "")
    current().table(table)


# ----------------------------------------------------------------------------------------------- commands
@sweep_app.command("heads")
def heads_cmd(
    models: Optional[List[str]] = _MODELS,
    out: Path = _OUT,
    models_file: Optional[Path] = _FILE,
    family: Optional[str] = _FAMILY,
    study: Optional[str] = _STUDY,
    engine: str = _ENGINE,
    workers: int = _WORKERS,
    address: Optional[str] = _ADDRESS,
    cpus_per_task: float = _CPUS,
    gpus_per_task: float = _GPUS,
    memory_gb: Optional[float] = _MEM,
    max_attempts: int = _ATTEMPTS,
    skip_failed: bool = _SKIP_FAILED,
    force: bool = _FORCE,
    dry_run: bool = _DRY,
    measure: str = typer.Option("contrast", "--measure", help="contrast (default) or paper (the paper's raw means)."),
    representation: str = typer.Option("z", "--representation", help="z (head output) or result (through o_proj)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the permutation test."),
    fdr: bool = typer.Option(False, "--fdr", help="Benjamini-Hochberg over all heads of a model."),
    competing: float = typer.Option(-0.5, "--competing-below", help="Competing threshold on the cosine."),
    max_items: Optional[int] = _MAX_ITEMS,
    seed: int = _SEED,
    n_boot: int = _NBOOT,
    n_perm: int = _NPERM,
    reasoning: str = _REASONING,
    truthfulness: str = _TRUTH,
    max_length: int = _MAXLEN,
    device: str = _DEVICE,
    dtype: Optional[str] = _DTYPE,
    device_map: Optional[str] = _DEVICE_MAP,
    batch_size: Optional[int] = _BATCH,
    threads: Optional[int] = _THREADS,
    trust_remote_code: bool = _TRUST,
    revision: Optional[str] = _REVISION,
    json_out: bool = _JSON,
    fmt_: str = _FORMAT,
) -> None:
    """Per-head coupling of every model (the files of `cape heads -o DIR`); then `cape heads summarize DIR`."""
    from cape.internals.results import Thresholds
    from cape.sweep.engines import SweepUsageError
    from cape.sweep.tasks import heads_tasks

    _check_common(out, max_items, n_boot, n_perm, max_attempts)
    if measure not in ("contrast", "paper"):
        raise SweepUsageError(f"--measure must be contrast or paper, not {measure!r}.")
    if representation not in ("z", "result"):
        raise SweepUsageError(f"--representation must be z or result, not {representation!r}.")
    opts = _options(device, dtype, device_map, batch_size, threads, trust_remote_code, revision)
    tasks = heads_tasks(_models(models, models_file, family, study), out, measure=measure,
                        representation=representation, reasoning=reasoning, truthfulness=truthfulness,
                        max_items=max_items, n_boot=n_boot, n_perm=n_perm, seed=seed,
                        thresholds=Thresholds(competing=competing, alpha=alpha, fdr=fdr), max_length=max_length,
                        options=opts)
    _run(tasks, engine=engine, workers=workers, address=address, cpus=cpus_per_task, gpus=gpus_per_task,
         memory_gb=memory_gb, max_attempts=max_attempts, skip_failed=skip_failed, force=force, dry_run=dry_run,
         json_out=json_out, fmt_=fmt_)


@sweep_app.command("layers")
def layers_cmd(
    models: Optional[List[str]] = _MODELS,
    out: Path = _OUT,
    models_file: Optional[Path] = _FILE,
    family: Optional[str] = _FAMILY,
    study: Optional[str] = _STUDY,
    engine: str = _ENGINE,
    workers: int = _WORKERS,
    address: Optional[str] = _ADDRESS,
    cpus_per_task: float = _CPUS,
    gpus_per_task: float = _GPUS,
    memory_gb: Optional[float] = _MEM,
    max_attempts: int = _ATTEMPTS,
    skip_failed: bool = _SKIP_FAILED,
    force: bool = _FORCE,
    dry_run: bool = _DRY,
    drep_boot: int = typer.Option(100, "--drep-boot", help="Bootstrap resamples for d_rep (0 to skip)."),
    max_items: Optional[int] = _MAX_ITEMS,
    seed: int = _SEED,
    n_boot: int = _NBOOT,
    n_perm: int = _NPERM,
    reasoning: str = _REASONING,
    truthfulness: str = _TRUTH,
    max_length: int = _MAXLEN,
    device: str = _DEVICE,
    dtype: Optional[str] = _DTYPE,
    device_map: Optional[str] = _DEVICE_MAP,
    batch_size: Optional[int] = _BATCH,
    threads: Optional[int] = _THREADS,
    trust_remote_code: bool = _TRUST,
    revision: Optional[str] = _REVISION,
    json_out: bool = _JSON,
    fmt_: str = _FORMAT,
) -> None:
    """Per-layer coupling, bottleneck and d_rep of every model (the files of `cape layers -o DIR`)."""
    from cape.sweep.engines import SweepUsageError
    from cape.sweep.tasks import layers_tasks

    _check_common(out, max_items, n_boot, n_perm, max_attempts)
    if drep_boot < 0:
        raise SweepUsageError("--drep-boot must be zero or positive.")
    opts = _options(device, dtype, device_map, batch_size, threads, trust_remote_code, revision)
    tasks = layers_tasks(_models(models, models_file, family, study), out, reasoning=reasoning,
                         truthfulness=truthfulness, max_items=max_items, n_boot=n_boot, n_perm=n_perm,
                         drep_boot=drep_boot, seed=seed, max_length=max_length, options=opts)
    _run(tasks, engine=engine, workers=workers, address=address, cpus=cpus_per_task, gpus=gpus_per_task,
         memory_gb=memory_gb, max_attempts=max_attempts, skip_failed=skip_failed, force=force, dry_run=dry_run,
         json_out=json_out, fmt_=fmt_)


@sweep_app.command("steer")
def steer_cmd(
    models: Optional[List[str]] = _MODELS,
    out: Path = _OUT,
    models_file: Optional[Path] = _FILE,
    family: Optional[str] = _FAMILY,
    study: Optional[str] = _STUDY,
    engine: str = _ENGINE,
    workers: int = _WORKERS,
    address: Optional[str] = _ADDRESS,
    cpus_per_task: float = _CPUS,
    gpus_per_task: float = _GPUS,
    memory_gb: Optional[float] = _MEM,
    max_attempts: int = _ATTEMPTS,
    skip_failed: bool = _SKIP_FAILED,
    force: bool = _FORCE,
    dry_run: bool = _DRY,
    pairs: str = typer.Option("truthfulness", "--pairs", help="Training pairs: a built-in set or a JSONL file."),
    strength: float = typer.Option(0.1, "--strength", "-s", help="Multiple of the layer's mean residual norm."),
    n_items: Optional[int] = typer.Option(None, "--n-items", help="Use the first N held-out items."),
    n_prompts: Optional[int] = typer.Option(None, "--n-prompts", help="Use the first N prompts (0: skip generation)."),
    max_new_tokens: int = typer.Option(30, "--max-new-tokens"),
    sweep_strengths: str = typer.Option("-0.1,0.05,0.1,0.25,0.5", "--sweep-strengths",
                                        help="Comma-separated strengths of the layer x strength sweep ('' for none)."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples."),
    seed: int = _SEED,
    device: str = _DEVICE,
    dtype: Optional[str] = _DTYPE,
    device_map: Optional[str] = _DEVICE_MAP,
    batch_size: Optional[int] = _BATCH,
    threads: Optional[int] = _THREADS,
    trust_remote_code: bool = _TRUST,
    revision: Optional[str] = _REVISION,
    json_out: bool = _JSON,
    fmt_: str = _FORMAT,
) -> None:
    """Train a steering vector on every model and evaluate it (the files of `cape steer eval -o DIR`)."""
    from cape.sweep.engines import SweepUsageError
    from cape.sweep.tasks import steer_tasks

    _check_common(out, None, n_boot, 0, max_attempts)
    try:
        strengths = [float(s) for s in sweep_strengths.split(",") if s.strip()] or None
    except ValueError:
        raise SweepUsageError(f"--sweep-strengths must be comma-separated numbers, not {sweep_strengths!r}.") from None
    opts = _options(device, dtype, device_map, batch_size, threads, trust_remote_code, revision)
    if pairs not in ("truthfulness", "reasoning"):
        pairs_path = Path(pairs)
        if not pairs_path.is_file():
            raise SweepUsageError(f"--pairs {pairs}: not a built-in set and no such file.")
        pairs = str(pairs_path.resolve())
    tasks = steer_tasks(_models(models, models_file, family, study), out, pairs=pairs, strength=strength,
                        n_items=n_items, n_prompts=n_prompts, max_new_tokens=max_new_tokens,
                        sweep_strengths=strengths, n_boot=n_boot, seed=seed, options=opts)
    _run(tasks, engine=engine, workers=workers, address=address, cpus=cpus_per_task, gpus=gpus_per_task,
         memory_gb=memory_gb, max_attempts=max_attempts, skip_failed=skip_failed, force=force, dry_run=dry_run,
         json_out=json_out, fmt_=fmt_)
