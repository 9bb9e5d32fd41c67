"""``cape steer``: train a steering vector, generate with it side by side, and measure what it does.

torch and transformers are imported inside the command bodies only, so ``cape --help`` stays fast.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from ._common import console, emit_json, err_console, fmt

steer_app = typer.Typer(
    help="Activation steering: train a direction from contrast pairs, apply it during generation, evaluate it.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    from .summarize import steer_summarize_cmd  # it shares its options and printing with heads/layers summarize

    if not any(c.name == "summarize" for c in steer_app.registered_commands):
        steer_app.command("summarize")(steer_summarize_cmd)
    app.add_typer(steer_app, name="steer")


# ----------------------------------------------------------------------------------------------- helpers
def _load(model: str, dtype: str, device: str, gguf_file: Optional[str], revision: Optional[str],
          trust_remote_code: bool, quiet: bool, allow_pickle_weights: bool = False):
    from transformers.utils import logging as hf_logging

    from ..internals.loading import load_model

    hf_logging.disable_progress_bar()  # the command shows its own progress
    with _status(f"loading {model}", quiet):
        return load_model(model, dtype=dtype, device=device, gguf_file=gguf_file, revision=revision,
                          trust_remote_code=trust_remote_code, allow_pickle_weights=allow_pickle_weights)


@contextmanager
def _status(text: str, quiet: bool) -> Iterator[None]:
    if quiet or not err_console.is_terminal:
        yield
        return
    with err_console.status(text):
        yield


@contextmanager
def _progress(quiet: bool) -> Iterator:
    """A ``progress(stage, done, total)`` callback drawing one rich bar per stage on stderr (terminals only)."""
    if quiet or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as prog:
        tasks: dict[str, int] = {}

        def cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=max(total, 1))
            prog.update(tasks[stage], completed=done, total=max(total, 1))

        yield cb


def _simple(cb, stage: str, total: int):
    if cb is None:
        return None
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        cb(stage, done[0], total)

    return tick


def _chat(value: Optional[bool]):
    return "auto" if value is None else value


def _layer_arg(layer: Optional[str]):
    if layer is None:
        return None
    s = layer.strip().lower()
    if s in ("best", "auto", "quarter", "all"):
        return s
    return layer


def _floats(text: Optional[str], what: str) -> Optional[list[float]]:
    if text is None:
        return None
    from ..internals.steering import SteeringError

    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SteeringError(f"{what} must be a comma-separated list of numbers (got {text!r})") from None


_MODEL_HELP = "A local model directory, a .gguf file (or a directory holding one), or a Hugging Face hub id."

# shared options
_dtype = typer.Option("float32", "--dtype", help="float32, bfloat16, float16 or auto.")
_device = typer.Option("cpu", "--device", help="Device, e.g. cpu or cuda.")
_gguf = typer.Option(None, "--gguf-file", help="GGUF file name inside the model directory.")
_rev = typer.Option(None, "--revision", help="Hub revision (branch, tag or commit).")
_trc = typer.Option(False, "--trust-remote-code", help="Allow code shipped with the checkpoint to run.")
_pkl = typer.Option(False, "--allow-pickle-weights",
                    help="Accept a checkpoint whose weights are only pickle files (pytorch_model.bin).")
_json = typer.Option(False, "--json", help="Print the result as JSON on stdout.")
_force = typer.Option(False, "--force", help="Apply the vector even if it was trained on another model.")


# ----------------------------------------------------------------------------------------------- train
@steer_app.command("train")
def train_cmd(
    model: str = typer.Argument(..., help=_MODEL_HELP),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the vector (.safetensors)."),
    pairs: str = typer.Option("truthfulness", "--pairs", help="Built-in contrast set (truthfulness, reasoning) or a "
                                                             "JSONL file with context/positive/negative."),
    layers: str = typer.Option("auto", "--layers", help="auto (sweep every layer), quarter, all, an index, "
                                                       "a list 4,6,8 or a range 2-10."),
    select: str = typer.Option("sweep", "--select", help="With --layers auto: default layer = sweep (best validated) "
                                                        "or quarter (the paper's floor(L/4))."),
    method: str = typer.Option("mean_diff", "--method", help="mean_diff (CAA) or pca."),
    read: str = typer.Option("mean", "--read", help="Read the continuation tokens' mean or the last token."),
    batch_size: int = typer.Option(16, "--batch-size", help="Sequences per forward pass."),
    sweep_strength: float = typer.Option(0.1, "--sweep-strength", help="Relative strength used in the layer sweep."),
    val_fraction: float = typer.Option(0.2, "--val-fraction", help="Share of pairs held out for the layer sweep."),
    chat: Optional[bool] = typer.Option(False, "--chat/--no-chat", help="Format contexts as chat user turns."),
    seed: int = typer.Option(0, "--seed", help="Seed of the validation split."),
    dtype: str = _dtype, device: str = _device, gguf_file: Optional[str] = _gguf, revision: Optional[str] = _rev,
    trust_remote_code: bool = _trc, allow_pickle_weights: bool = _pkl, json_: bool = _json,
) -> None:
    """Train a steering vector from contrast pairs and save it with its provenance."""
    from ..internals.steering import TrainOptions, train_steering_vector
    from ..internals.steering._common import require_torch

    require_torch()
    if output.suffix.lower() != ".safetensors":
        from ..errors import DataError

        raise DataError(f"{output}: the output file must end in .safetensors")
    opts = TrainOptions(layers=layers, method=method, read=read, select=select, batch_size=batch_size, chat=chat,
                        val_fraction=val_fraction, sweep_strength=sweep_strength, seed=seed)
    lm = _load(model, dtype, device, gguf_file, revision, trust_remote_code, json_, allow_pickle_weights)
    with _progress(json_) as cb:
        vec = train_steering_vector(lm, pairs=pairs, options=opts, progress=cb)
    vec.save(output)
    if json_:
        emit_json(dict(vec.to_dict(), output=str(output)))
        return
    console.print(vec.summary())
    sweep = vec.provenance.get("sweep") or []
    if sweep:
        from rich.table import Table

        t = Table(title=f"Layer sweep on {vec.provenance['n_validation_pairs']} validation pairs "
                        f"(strength {vec.provenance['sweep_strength']:g})")
        for c in ("layer", "margin gain", "se", "accuracy", "unsteered"):
            t.add_column(c, justify="right")
        for r in sweep:
            tag = []
            if r["layer"] == vec.quarter_layer:
                tag.append("quarter")
            if r["layer"] == vec.best_layer:
                tag.append("best")
            t.add_row(f"{r['layer']}" + (f" ({', '.join(tag)})" if tag else ""), fmt(r["margin_gain"]),
                      fmt(r["margin_gain_se"]), fmt(r["accuracy"], 2), fmt(r["accuracy_unsteered"], 2))
        console.print(t)
    console.print(f"wrote {output}")


# ----------------------------------------------------------------------------------------------- generate
@steer_app.command("generate")
def generate_cmd(
    model: str = typer.Argument(..., help=_MODEL_HELP),
    vector: Path = typer.Option(..., "--vector", "-v", help="A vector written by 'cape steer train'."),
    prompt: Optional[List[str]] = typer.Option(None, "--prompt", "-p", help="A prompt (repeat for several)."),
    prompts_file: Optional[Path] = typer.Option(None, "--prompts-file", help="JSONL (prompt fields) or text, one per line."),
    strength: float = typer.Option(0.1, "--strength", "-s", help="Multiple of the layer's mean residual norm."),
    layer: Optional[str] = typer.Option(None, "--layer", "-l", help="Layer(s) to steer: the vector's default, "
                                                                    "best, quarter, an index or a list."),
    positions: str = typer.Option("all", "--positions", help="all, prompt, or generated."),
    max_new_tokens: int = typer.Option(40, "--max-new-tokens"),
    batch_size: int = typer.Option(8, "--batch-size"),
    chat: Optional[bool] = typer.Option(None, "--chat/--no-chat", help="Chat template (default: when the tokenizer has one)."),
    sample: bool = typer.Option(False, "--sample", help="Sample instead of greedy decoding (same seed for both runs)."),
    temperature: float = typer.Option(0.7, "--temperature"),
    top_p: float = typer.Option(0.9, "--top-p"),
    seed: int = typer.Option(0, "--seed"),
    force: bool = _force,
    dtype: str = _dtype, device: str = _device, gguf_file: Optional[str] = _gguf, revision: Optional[str] = _rev,
    trust_remote_code: bool = _trc, allow_pickle_weights: bool = _pkl, json_: bool = _json,
) -> None:
    """Generate each prompt without and with steering, side by side."""
    from ..internals.steering import SteeringError, SteeringVector, compare_generations, load_generation_prompts
    from ..internals.steering._common import require_torch

    require_torch()
    prompts = list(prompt or [])
    if prompts_file is not None:
        prompts += load_generation_prompts(prompts_file)
    if not prompts:
        raise SteeringError("give at least one --prompt or a --prompts-file")
    vec = SteeringVector.load(vector)
    lm = _load(model, dtype, device, gguf_file, revision, trust_remote_code, json_, allow_pickle_weights)
    layers = _layer_arg(layer)
    with _progress(json_) as cb:
        pairs = compare_generations(lm, prompts=prompts, vector=vec, strength=strength, layers=layers,
                                    positions=positions, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                    chat=_chat(chat), do_sample=sample, temperature=temperature, top_p=top_p,
                                    seed=seed, force=force, progress=_simple(cb, "generating", len(prompts)))
    used = vec.select_layers(layers)
    if json_:
        emit_json({"model": lm.model_id, "vector": str(vector), "layers": used, "strength": strength,
                   "positions": positions, "decoding": "sampled" if sample else "greedy",
                   "generations": [p.to_dict() for p in pairs]})
        return
    from rich.table import Table

    t = Table(title=f"Steering at layer(s) {used}, strength {strength:g}, positions {positions}, "
                    f"{'sampled (seed ' + str(seed) + ')' if sample else 'greedy'}", show_lines=True)
    t.add_column("prompt", overflow="fold")
    t.add_column("unsteered", overflow="fold")
    t.add_column("steered", overflow="fold")
    t.add_column("changed", justify="center")
    for p in pairs:
        t.add_row(p.prompt, p.unsteered, p.steered, "yes" if p.changed else "no")
    console.print(t)


# ----------------------------------------------------------------------------------------------- eval
@steer_app.command("eval")
def eval_cmd(
    model: str = typer.Argument(..., help=_MODEL_HELP),
    vector: Path = typer.Option(..., "--vector", "-v", help="A vector written by 'cape steer train'."),
    strength: float = typer.Option(0.1, "--strength", "-s", help="Multiple of the layer's mean residual norm."),
    layer: Optional[str] = typer.Option(None, "--layer", "-l", help="Layer(s) to steer (default: the vector's)."),
    positions: str = typer.Option("all", "--positions", help="all, prompt, or generated."),
    items: Optional[Path] = typer.Option(None, "--items", help="Two-choice items JSONL (question/true/false); "
                                                               "default: the built-in held-out set."),
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="Generation prompts; default: built-in."),
    n_items: Optional[int] = typer.Option(None, "--n-items", help="Use the first N items only."),
    n_prompts: Optional[int] = typer.Option(None, "--n-prompts", help="Use the first N prompts (0: skip generation)."),
    max_new_tokens: int = typer.Option(30, "--max-new-tokens"),
    sweep_layers: str = typer.Option("default", "--sweep-layers", help="default, none, or layers (e.g. 2,7,15)."),
    sweep_strengths: str = typer.Option("-0.1,0.05,0.1,0.25,0.5", "--sweep-strengths", help="Comma-separated strengths."),
    score: str = typer.Option("mean", "--score", help="Answer score: mean log-prob per token, or sum."),
    batch_size: int = typer.Option(16, "--batch-size"),
    chat: Optional[bool] = typer.Option(None, "--chat/--no-chat", help="Chat template for generation prompts."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed"),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Also write the tables as Markdown."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the result as "
                                          "DIR/<model>.steer_eval.json (the dashboard's Internals view reads it)."),
    fail_if_no_gain: bool = typer.Option(False, "--fail-if-no-gain",
                                         help="Exit with status 1 unless the margin gain's CI lies above 0."),
    force: bool = _force,
    dtype: str = _dtype, device: str = _device, gguf_file: Optional[str] = _gguf, revision: Optional[str] = _rev,
    trust_remote_code: bool = _trc, allow_pickle_weights: bool = _pkl, json_: bool = _json,
) -> None:
    """Measure a vector: held-out truthfulness (with bootstrap CI), intervention rate, layer x strength sweep."""
    from ..internals.steering import EvalOptions, SteeringVector, evaluate_steering
    from ..internals.steering._common import require_torch

    require_torch()
    sl = sweep_layers.strip().lower()
    opts = EvalOptions(items=str(items) if items else None, prompts=str(prompts) if prompts else None,
                       strength=strength, layers=_layer_arg(layer), positions=positions, n_items=n_items,
                       n_prompts=n_prompts, max_new_tokens=max_new_tokens,
                       sweep_layers="default" if sl == "default" else None if sl in ("none", "") else sweep_layers,
                       sweep_strengths=_floats(sweep_strengths, "--sweep-strengths"), chat=_chat(chat),
                       batch_size=batch_size, n_boot=n_boot, seed=seed, force=force, score=score)
    vec = SteeringVector.load(vector)
    lm = _load(model, dtype, device, gguf_file, revision, trust_remote_code, json_, allow_pickle_weights)
    with _progress(json_) as cb:
        ev = evaluate_steering(lm, vector=vec, options=opts, progress=cb)
    if markdown is not None:
        from ..scores import write_atomic

        write_atomic(markdown, ev.markdown())
    if output is not None:
        from ..internals.results import SCHEMA_VERSION, model_slug
        from ..scores import write_atomic
        from ._common import to_json

        Path(output).mkdir(parents=True, exist_ok=True)  # -o names a results folder, created on demand
        path = Path(output) / f"{model_slug(lm.model_id)}.steer_eval.json"
        write_atomic(path, to_json({"schema": SCHEMA_VERSION, "kind": "steer_eval", **ev.to_dict()}))
        if not json_:
            console.print(f"wrote {path}")
    if json_:
        emit_json(ev)
    else:
        from rich.markdown import Markdown

        console.print(Markdown(ev.markdown()))
        if ev.generations:
            changed = [g for g in ev.generations if g.changed][:3]
            for g in changed:
                console.print(f"[bold]{g.prompt}[/]\n  unsteered: {g.unsteered!r}\n  steered:   {g.steered!r}")
    if fail_if_no_gain and not (ev.mc is not None and ev.mc.margin_diff_ci[0] > 0):
        raise typer.Exit(code=1)
