"""``cape heads`` and ``cape layers``: where inside open-weight models reasoning and truthfulness couple.

torch and transformers are imported inside the command bodies only, so ``cape --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, List, Optional

import typer
from typer.core import TyperCommand

from ._common import console, emit_json, err_console, fmt
from .summarize import _MEASURES, InternalsUsageError, heads_summarize_cmd, layers_summarize_cmd

__all__ = ["InternalsUsageError", "register"]
_DTYPES = ("float32", "bfloat16", "float16", "auto")


def register(app: typer.Typer) -> None:
    app.command("heads", cls=_HeadsCommand)(heads_cmd)
    app.command("layers", cls=_LayersCommand)(layers_cmd)


class _WithSummarize(TyperCommand):
    """``cape heads MODEL...`` runs the analysis; ``cape heads summarize DIR`` aggregates a results folder.

    The analysis takes any number of models, so ``summarize`` cannot be an ordinary subcommand: a first
    argument ``summarize`` hands the remaining arguments to the summarize command instead.
    """

    summarize_fn: Any = None

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[override]
        if args and args[0] == "summarize":
            sub = typer.Typer(add_completion=False, rich_markup_mode="rich")
            sub.command("summarize")(type(self).summarize_fn)
            cmd = typer.main.get_command(sub)
            return cmd.make_context(f"{info_name} summarize", list(args[1:]), parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


# ------------------------------------------------------------------------------------------------- options
_MODELS = typer.Argument(..., help="Model directories, GGUF files or hub ids (from the local HF cache or the hub).")
_JSON = typer.Option(False, "--json", help="Print the results as JSON on stdout (progress goes to stderr).")
_OUT = typer.Option(None, "-o", "--out", help="Write one result file per model here (JSON + Parquet); models "
                    "already done with the same settings are skipped.")
_DTYPE = typer.Option("float32", "--dtype", help="Weights dtype: float32, bfloat16, float16 or auto.")
_DEVICE = typer.Option("cpu", "--device", help="Device, e.g. cpu or cuda:0 (ignored with --device-map).")
_DEVICE_MAP = typer.Option(None, "--device-map", help="Pass 'auto' to spread a large model over devices (accelerate).")
_GGUF = typer.Option(None, "--gguf-file", help="GGUF file name inside a model directory holding several.")
_REVISION = typer.Option(None, "--revision", help="Hub revision (branch, tag or commit).")
_MAX_ITEMS = typer.Option(None, "--max-items", help="Use the first N items of each prompt set.")
_SEED = typer.Option(0, "--seed", help="Seed of the bootstrap and permutation null.")
_NBOOT = typer.Option(1000, "--n-boot", help="Bootstrap resamples over items (0 to skip).")
_NPERM = typer.Option(1000, "--n-perm", help="Label permutations for the null (0 to skip).")
_TRUST = typer.Option(False, "--trust-remote-code", help="Allow code shipped with a checkpoint to run (off by default).")
_PICKLE = typer.Option(False, "--allow-pickle-weights",
                       help="Accept a checkpoint whose weights are only pickle files (pytorch_model.bin).")
_REASONING = typer.Option("reasoning", "--reasoning", help="Reasoning contrast set: 'reasoning' or a JSONL file.")
_TRUTH = typer.Option("truthfulness", "--truthfulness", help="Truthfulness contrast set: 'truthfulness' or a JSONL file.")
_BATCH = typer.Option(16, "--batch-size", help="Texts per forward pass.")
_MAXLEN = typer.Option(128, "--max-length", help="Keep at most the last N tokens of a text.")
_THREADS = typer.Option(None, "--threads", help="CPU threads for torch (default: torch's choice).")
_FORCE = typer.Option(False, "--force", help="Recompute models whose result files already exist.")


def _check(measure: str | None, dtype: str, max_items: int | None, n_boot: int, n_perm: int, batch: int) -> None:
    if measure is not None and measure not in _MEASURES:
        raise InternalsUsageError(f"--measure must be one of {', '.join(_MEASURES)}, not {measure!r}.")
    if dtype not in _DTYPES:
        raise InternalsUsageError(f"--dtype must be one of {', '.join(_DTYPES)}, not {dtype!r}.")
    if max_items is not None and max_items < 2:
        raise InternalsUsageError(f"--max-items must be at least 2, not {max_items}.")
    if n_boot < 0 or n_perm < 0:
        raise InternalsUsageError("--n-boot and --n-perm must be zero or positive.")
    if batch < 1:
        raise InternalsUsageError("--batch-size must be at least 1.")


def _precheck_architecture(spec: str, gguf_file: str | None, revision: str | None, trust: bool) -> None:
    """Fail before loading any weights when the architecture has no adapter (when the config is readable)."""
    from cape.internals.adapters import get_adapter
    from cape.internals.loading import ModelLoadError, resolve_spec

    try:
        location, gguf_name, is_local = resolve_spec(spec, gguf_file)
    except ModelLoadError:
        raise
    if gguf_name is not None:
        return  # reading a GGUF header costs as much as loading; the adapter check happens after loading
    try:
        from transformers import AutoConfig

        kw: dict[str, Any] = {"trust_remote_code": trust, "local_files_only": True}
        if revision and not is_local:
            kw["revision"] = revision
        config = AutoConfig.from_pretrained(location, **kw)
    except Exception:  # noqa: BLE001 - not readable locally: load_model reports the real problem
        return
    get_adapter(config)


class _LineProgress:
    """Progress for a standard error that is not a terminal (a pipe, a log file): one line when a model starts
    and one when it ends, with the elapsed seconds, instead of a live bar nobody sees."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tasks: dict[int, list] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def _say(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def add_task(self, description: str, total=None, **kw) -> int:
        import time

        tid = len(self.tasks)
        self.tasks[tid] = [description, time.perf_counter()]
        self._say(f"{description} ...")
        return tid

    def update(self, task: int, description: str | None = None, **kw) -> None:
        if description is not None and description != self.tasks[task][0]:
            self.tasks[task][0] = description
            self._say(f"{description} ...")

    def remove_task(self, task: int) -> None:
        import time

        desc, t0 = self.tasks.pop(task)
        self._say(f"{desc}: done in {time.perf_counter() - t0:.1f} s")


def display_name(model_id: str) -> str:
    """A model as tables show it: the Hub id as given, a local file or folder by its name (not its full path).

    Example:
        >>> display_name("HuggingFaceTB/SmolLM2-135M"), display_name("/data/models/smollm2-135m-q8_0.gguf")
        ('HuggingFaceTB/SmolLM2-135M', 'smollm2-135m-q8_0.gguf')
    """
    p = Path(str(model_id))
    looks_local = p.is_absolute() or str(model_id).startswith((".", "~")) or p.suffix.lower() == ".gguf" or p.exists()
    return p.name if looks_local and p.name else str(model_id)


def _progress(json_mode: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not err_console.is_terminal:
        return _LineProgress(sys.stderr)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=False,
    )


def _setup_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise InternalsUsageError("--threads must be at least 1.")
        import torch

        torch.set_num_threads(threads)


def _load(spec: str, *, dtype, device, device_map, trust, gguf_file, revision, allow_pickle=False):
    from transformers.utils import logging as hf_logging

    from cape.internals.adapters import get_adapter
    from cape.internals.loading import load_model

    hf_logging.disable_progress_bar()  # the command shows its own progress
    os.environ.setdefault("TQDM_DISABLE", "1")  # e.g. the GGUF dequantisation bar
    _precheck_architecture(spec, gguf_file, revision, trust)
    lm = load_model(
        spec,
        dtype=dtype,
        device=device,
        device_map=device_map,
        trust_remote_code=trust,
        gguf_file=gguf_file,
        revision=revision,
        allow_pickle_weights=allow_pickle,
    )
    get_adapter(lm.model)
    return lm


def _done(json_path: Path, settings: dict, dtype: str) -> dict | None:
    from cape.internals.results import read_result, settings_match

    if not settings_match(json_path, settings):
        return None
    payload = read_result(json_path, as_input=False)  # a finished result, which --force may recompute
    if dtype != "auto" and payload.get("provenance", {}).get("dtype") != dtype:
        return None
    return payload


def _resumed(out: Path | None, spec: str, kind: str, settings: dict, dtype: str, force: bool) -> dict | None:
    """The finished ``kind`` result of ``spec`` in ``out`` made with the same settings (announced on stderr as
    skipped), or None when there is none, no ``out`` or ``--force``."""
    if out is None or force:
        return None
    from cape.internals.results import result_paths

    done = _done(result_paths(out, spec, kind)[0], settings, dtype)
    if done is not None:
        err_console.print(f"{spec}: already done in {out}, skipped (use --force to recompute).")
    return done


def _finish(json_out: bool, payloads: list[dict[str, Any]], warnings: list[str], out: Path | None,
            table: Any) -> None:
    """Print the results: JSON (results and warnings), or ``table()`` then the warnings and where the files are.
    ``warnings`` are the cross-model checks; each result's own warnings come first, duplicates dropped."""
    warnings = list(dict.fromkeys([w for p in payloads for w in p.get("warnings", [])] + warnings))
    if json_out:
        emit_json({"results": payloads, "warnings": warnings})
        return
    table()
    for w in warnings:
        err_console.print(f"[yellow]warning:[/] {w}")
    if out is not None:
        console.print(f"Results in {out}")


# ------------------------------------------------------------------------------------------------- heads
def heads_cmd(
    models: List[str] = _MODELS,
    json_out: bool = _JSON,
    out: Optional[Path] = _OUT,
    measure: str = typer.Option("contrast", "--measure", help="contrast (default) or paper (the paper's raw means)."),
    representation: str = typer.Option("z", "--representation", help="z (head output) or result (through o_proj)."),
    dtype: str = _DTYPE,
    device: str = _DEVICE,
    device_map: Optional[str] = _DEVICE_MAP,
    gguf_file: Optional[str] = _GGUF,
    revision: Optional[str] = _REVISION,
    max_items: Optional[int] = _MAX_ITEMS,
    seed: int = _SEED,
    n_boot: int = _NBOOT,
    n_perm: int = _NPERM,
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the permutation test."),
    fdr: bool = typer.Option(False, "--fdr", help="Benjamini-Hochberg over all heads of a model."),
    competing: float = typer.Option(-0.5, "--competing-below", help="Competing threshold on the cosine."),
    reasoning: str = _REASONING,
    truthfulness: str = _TRUTH,
    batch_size: int = _BATCH,
    max_length: int = _MAXLEN,
    threads: Optional[int] = _THREADS,
    trust_remote_code: bool = _TRUST,
    allow_pickle_weights: bool = _PICKLE,
    force: bool = _FORCE,
) -> None:
    """Per-head coupling of reasoning and truthfulness for every layer and head of each model.

    Aggregate a folder of results across models with [bold]cape heads summarize DIR[/].
    """
    _check(measure, dtype, max_items, n_boot, n_perm, batch_size)
    if representation not in ("z", "result"):
        raise InternalsUsageError(f"--representation must be z or result, not {representation!r}.")
    _setup_threads(threads)
    from cape.internals.analysis import analyze_heads, heads_settings, prepare_prompt_sets
    from cape.internals.results import Thresholds, sanity_warnings, write_result

    thresholds = Thresholds(competing=competing, alpha=alpha, fdr=fdr)
    r_items, t_items, info = prepare_prompt_sets(reasoning, truthfulness, max_items)
    settings = heads_settings(
        info, measure=measure, representation=representation, n_boot=n_boot, n_perm=n_perm, seed=seed,
        thresholds=thresholds, max_length=max_length,
    )
    summaries: list[dict[str, Any]] = []
    payloads: list[dict[str, Any]] = []
    with _progress(json_out) as progress:
        for spec in models:
            done = _resumed(out, spec, "heads", settings, dtype, force)
            if done is not None:
                payloads.append(done)
                summaries.append({"model_id": spec, "status": "skipped", **done.get("summary", {})})
                continue
            task = progress.add_task(f"loading {spec}", total=None)
            lm = _load(spec, dtype=dtype, device=device, device_map=device_map, trust=trust_remote_code,
                       allow_pickle=allow_pickle_weights, gguf_file=gguf_file, revision=revision)
            progress.update(task, description=f"heads {spec}", total=2 * (len(r_items) + len(t_items)), completed=0)
            res = analyze_heads(
                lm, reasoning=r_items, truthfulness=t_items, measure=measure, representation=representation,
                n_boot=n_boot, n_perm=n_perm, seed=seed, thresholds=thresholds, batch_size=batch_size,
                max_length=max_length, progress=lambda done, total: progress.update(task, completed=done),
            )
            res = _with_settings(res, settings, spec)
            progress.remove_task(task)
            if out is not None:
                write_result(res, out, "heads")
            payloads.append({"kind": "heads", **res.to_dict()})
            summaries.append({"model_id": res.provenance.model_id, "status": "computed", **res.summary_dict()})
            del lm
    warnings = sanity_warnings(
        {p["provenance"]["model_id"]: p["per_layer"] for p in payloads},
        {p["provenance"]["model_id"]: p["cosine"] for p in payloads},
    )
    _finish(json_out, payloads, warnings, out, lambda: _heads_table(summaries, measure))


def _with_settings(res, settings: dict, spec: str):
    """Name the result by the spec as given (what resuming looks up) and store the resume settings."""
    from dataclasses import replace

    return replace(res, provenance=replace(res.provenance, model_id=spec, settings=settings))


def _heads_table(rows: list[dict[str, Any]], measure: str) -> None:
    from rich.table import Table

    table = Table(title=f"Per-head coupling (measure={measure})")
    for col in ("model", "heads", "coop %", "competing sig/raw", "near 0", "median", "early/mid/late"):
        table.add_column(col, justify="left" if col == "model" else "right", overflow="fold")
    for r in rows:
        table.add_row(
            display_name(str(r["model_id"])),
            str(r.get("n_units", "—")),
            fmt(r.get("pct_cooperative"), 1),
            f"{r.get('n_competing', '—')}/{r.get('n_competing_raw', '—')}",
            str(r.get("n_near_zero", "—")),
            fmt(r.get("median_cosine"), 2),
            f"{fmt(r.get('early'), 2)}/{fmt(r.get('mid'), 2)}/{fmt(r.get('late'), 2)}",
        )
    console.print(table)
    console.print("competing: sig = below the threshold and below the label-permutation null; raw = threshold "
                  "only (the paper's count). 'Zero competing' and '100% cooperative' are in the JSON summary.")


# ------------------------------------------------------------------------------------------------- layers
def layers_cmd(
    models: List[str] = _MODELS,
    json_out: bool = _JSON,
    out: Optional[Path] = _OUT,
    dtype: str = _DTYPE,
    device: str = _DEVICE,
    device_map: Optional[str] = _DEVICE_MAP,
    gguf_file: Optional[str] = _GGUF,
    revision: Optional[str] = _REVISION,
    max_items: Optional[int] = _MAX_ITEMS,
    seed: int = _SEED,
    n_boot: int = _NBOOT,
    n_perm: int = _NPERM,
    drep_boot: int = typer.Option(100, "--drep-boot", help="Bootstrap resamples for d_rep (0 to skip)."),
    reasoning: str = _REASONING,
    truthfulness: str = _TRUTH,
    batch_size: int = _BATCH,
    max_length: int = _MAXLEN,
    threads: Optional[int] = _THREADS,
    trust_remote_code: bool = _TRUST,
    allow_pickle_weights: bool = _PICKLE,
    force: bool = _FORCE,
) -> None:
    """Per-layer residual coupling (contrast and paper measures), the projection bottleneck and d_rep.

    Aggregate a folder of results across models with [bold]cape layers summarize DIR[/].
    """
    _check(None, dtype, max_items, n_boot, n_perm, batch_size)
    if drep_boot < 0:
        raise InternalsUsageError("--drep-boot must be zero or positive.")
    _setup_threads(threads)
    from cape.internals.analysis import analyze_layers, layers_settings, prepare_prompt_sets
    from cape.internals.results import sanity_warnings, write_result

    r_items, t_items, info = prepare_prompt_sets(reasoning, truthfulness, max_items)
    settings = layers_settings(
        info, n_boot=n_boot, n_perm=n_perm, seed=seed, max_length=max_length, drep_boot=drep_boot
    )
    payloads: list[dict[str, Any]] = []
    with _progress(json_out) as progress:
        for spec in models:
            done = _resumed(out, spec, "layers", settings, dtype, force)
            if done is not None:
                payloads.append(done)
                continue
            task = progress.add_task(f"loading {spec}", total=None)
            lm = _load(spec, dtype=dtype, device=device, device_map=device_map, trust=trust_remote_code,
                       allow_pickle=allow_pickle_weights, gguf_file=gguf_file, revision=revision)
            progress.update(task, description=f"layers {spec}", total=2 * (len(r_items) + len(t_items)), completed=0)
            rep = analyze_layers(
                lm, reasoning=r_items, truthfulness=t_items, n_boot=n_boot, n_perm=n_perm, drep_boot=drep_boot,
                seed=seed, batch_size=batch_size, max_length=max_length,
                progress=lambda done, total: progress.update(task, completed=done),
            )
            rep = _with_settings(rep, settings, spec)
            progress.remove_task(task)
            if out is not None:
                write_result(rep, out, "layers")
            payloads.append({"kind": "layers", **rep.to_dict()})
            del lm
    profiles = {
        f"{p['provenance']['model_id']} [{m}]": p["layer_coupling"][m]["cosine"]
        for p in payloads
        for m in p["layer_coupling"]
    }
    _finish(json_out, payloads, sanity_warnings(profiles), out, lambda: _layers_table(payloads))


def _layers_table(payloads: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="Per-layer coupling, projection bottleneck and d_rep")
    for col in ("model", "measure", "layers early / mid / late", "hidden", "logits", "delta", "GELU(hidden)",
                "d_rep min..max"):
        table.add_column(col, justify="left" if col in ("model", "measure") else "right")
    for p in payloads:
        drep = [v for v in p["d_rep"]["per_layer"] if v is not None]
        drep_txt = f"{min(drep):.1f}..{max(drep):.1f}" if drep else "—"
        for m, lc in p["layer_coupling"].items():
            b = p["bottleneck"][m]
            table.add_row(
                display_name(str(p["provenance"]["model_id"])),
                m,
                f"{fmt(lc['early'])} / {fmt(lc['mid'])} / {fmt(lc['late'])}",
                fmt(b["hidden"]["cosine"]),
                fmt((b["logits"] or {}).get("cosine")),
                fmt(b["delta_logits_minus_hidden"]),
                fmt(b["gelu_hidden"]["cosine"]),
                drep_txt,
            )
    console.print(table)
    console.print("GELU(hidden) is what the paper calls a 'wider projection' (an untrained map equal to GELU(h)).")


_HeadsCommand = type("_HeadsCommand", (_WithSummarize,), {"summarize_fn": staticmethod(heads_summarize_cmd)})
_LayersCommand = type("_LayersCommand", (_WithSummarize,), {"summarize_fn": staticmethod(layers_summarize_cmd)})
