"""The ``cape`` command line: a thin view over the library.

Each command module in :mod:`cape.commands` registers its commands. The root group lists every command from
the static table :data:`COMMANDS` and imports a command's module only when that command runs (its ``--help``
included), so ``cape --help`` and each command import only what they use; heavy imports (pandas, torch,
plotting) happen inside command bodies.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

#: Every top-level command, in ``cape --help`` order: name -> (the module of :mod:`cape.commands` whose
#: ``register`` adds it, the first paragraph of its help). ``--help`` lists the commands from here without
#: importing any command module; ``tests/test_startup.py`` keeps it equal to what the modules register.
COMMANDS: dict[str, tuple[str, str]] = {
    "diagnose": ("coupling", "Coupling diagnosis per family: r with CI, gamma per interval, phase path, N_c with CI "
                             "and status."),
    "claims": ("coupling", "The paper's headline numbers: published value, value computed with the paper's "
                           "procedure, value from the sound estimator, and a verdict with a one-line reason. "
                           "Everything is computed now from the embedded data."),
    "ode": ("dynamics", "Discover the capability ODE with pysindy, test it on a held-out family against baselines."),
    "predict": ("dynamics", "Predict a family's scores at a new size, with prediction intervals and the predicted "
                            "phase."),
    "frontier": ("frontier", "Frontier diagnostics: population coupling, h-field, per-lab statistics and "
                             "trajectories, leave-one-lab-out error, axis saturation and the three-benchmark "
                             "sub-panel."),
    "doctor": ("frontier", "Diagnose one model: local coupling against its family neighbours, phase with a "
                           "confidence, position relative to the family's N_c, residuals from family and cohort "
                           "trends, d_eff context, and recommended interventions, each with the rule that fired "
                           "and its numbers."),
    "ingest": ("ingest", "Read benchmark results into one score table, printing what was read and everything "
                         "dropped, with reasons."),
    "heads": ("internals", "Per-head coupling of reasoning and truthfulness for every layer and head of each model."),
    "layers": ("internals", "Per-layer residual coupling (contrast and paper measures), the projection bottleneck "
                            "and d_rep."),
    "levers": ("levers", "What moves coupling at matched scale: each lever's effect with a family bootstrap CI, a "
                         "permutation p (the lever shuffled across families), families per level and the "
                         "equivalent-scale reading."),
    "dashboard": ("report", "Start the interactive dashboard (Streamlit) on http://HOST:PORT; stop it with Ctrl-C."),
    "report": ("report", "Write a self-contained HTML report (figures + tables, Plotly inlined, opens offline)."),
    "figure": ("report", "Write the main figure (phase diagram + gamma(N) with N_c) for a paper, with matplotlib."),
    "data": ("data", "The embedded datasets: list them, show a family, export as CSV/JSON."),
    "steer": ("steer", "Activation steering: train a direction from contrast pairs, apply it during generation, "
                       "evaluate it."),
    "sweep": ("sweep", "Sweep heads, layers or steering evaluation over many models (one task per model; "
                       "resumable; --engine local or ray)."),
    "fetch": ("fetch", "Fetch public score tables from the Hugging Face Hub into its cache (offline-first: with no "
                       "network the cached copy is used, and its date stated)."),
    "cache": ("cache", "Cached models (dequantised GGUF files kept as safetensors): list or clear them."),
}


class _Listed(TyperCommand):
    """A command as ``cape --help`` lists it (name and help from :data:`COMMANDS`), before its module is
    imported; it is replaced by the real command when it runs."""


class _LazyGroup(TyperGroup):
    """The root group: every command of :data:`COMMANDS` is listed, and loaded when it is resolved to run."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, helptext) in COMMANDS.items():
            self.commands.setdefault(name, _Listed(name=name, help=helptext))

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and isinstance(self.commands.get(args[0]), _Listed):
            self.commands[args[0]] = load_command(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="cape",
    cls=_LazyGroup,
    help="CAPE: capability coupling across model scale. Do two capabilities compete or cooperate as a model "
         "family grows, where does that flip (N_c), and what should you change?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

#: How a value's type reads in ``--help`` (instead of ``<list[Path]>`` or ``<bool>``).
_TYPE_WORDS = {"Path": "PATH", "str": "TEXT", "int": "INTEGER", "float": "NUMBER"}


def _readable_type(self, ctx) -> str | None:
    """The help's type column: nothing for an on/off flag, PATH / TEXT / INTEGER / NUMBER otherwise (with ``...``
    when the option may be repeated or the argument takes several values), or the option's own metavar."""
    if self.metavar is not None:
        return self.metavar
    if getattr(self, "is_flag", False):
        return None
    label = self.display_type(ctx).strip("<>")
    many = label.startswith("list[")
    label = label[5:-1] if many else label
    label = _TYPE_WORDS.get(label, label.upper() if label.isidentifier() else label)
    return label + ("..." if many else "")


def _type_metavar(self, param, ctx=None) -> str | None:
    """Typer 0.26 to 0.28: a value type's word in ``--help`` (PATH / TEXT / INTEGER / NUMBER, ``...`` for a
    repeatable option), None for the others (their own default)."""
    word = _TYPE_WORDS.get(self.name) or _TYPE_WORDS.get(str(self.name).capitalize())
    if word is None:
        return None
    return word + ("..." if getattr(param, "multiple", False) else "")


def _readable_metavars() -> None:
    from typer import core

    if hasattr(core.TyperOption, "display_type_rich"):  # Typer 0.29 and later draw the type column themselves
        for cls in (core.TyperOption, core.TyperArgument):
            cls.display_type_rich = _readable_type
        return
    from typer._click import types  # 0.26 to 0.28 (Click vendored): the type column is the value type's metavar

    types.ParamType.get_metavar = _type_metavar  # type: ignore[method-assign]


_readable_metavars()

#: Optional packages and the extra that installs each (``pip install 'cape[EXTRA]'``).
EXTRAS = {"torch": "internals", "transformers": "internals", "safetensors": "internals", "accelerate": "internals",
          "gguf": "internals", "streamlit": "dashboard", "plotly": "dashboard", "matplotlib": "dashboard",
          "kaleido": "dashboard", "huggingface_hub": "hub", "pyarrow": "hub", "ray": "cluster", "mkdocs": "docs"}


def _version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"cape {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                       help="Print CAPE's version and exit.")) -> None:
    """CAPE: capability coupling across model scale. Do two capabilities compete or cooperate as a model family
    grows, where does that flip (N_c), and what should you change?"""

#: One runnable example per command, shown at the end of its ``--help``.
EXAMPLES = {
    "diagnose": "cape diagnose --family Pythia --family OPT    (add --details for gamma per step, notes and checks)",
    "claims": "cape claims --verdict differs --format markdown",
    "ode": "cape ode --holdout Llama-2",
    "predict": "cape predict --family Pythia --params 3e9",
    "frontier": "cape frontier --format csv > frontier.csv",
    "doctor": "cape doctor Pythia-1B",
    "ingest": "cape ingest results/*.json -o scores.csv",
    "heads": "cape heads HuggingFaceTB/SmolLM2-135M -o heads/",
    "layers": "cape layers HuggingFaceTB/SmolLM2-135M -o layers/",
    "levers": "cape levers --json",
    "dashboard": "cape dashboard --port 8501",
    "report": "cape report -o report.html",
    "figure": "cape figure -o figure.pdf --width single --family Pythia --family OPT",
    "data show": "cape data show Pythia --format markdown",
    "data export": "cape data export base -o base.csv",
    "steer train": "cape steer train HuggingFaceTB/SmolLM2-135M -o vector.safetensors",
    "steer generate": "cape steer generate HuggingFaceTB/SmolLM2-135M --vector vector.safetensors -p 'Is the earth flat?'",
    "steer eval": "cape steer eval HuggingFaceTB/SmolLM2-135M --vector vector.safetensors",
    "steer summarize": "cape steer summarize results/",
    "sweep heads": "cape sweep heads --family Pythia -o results/",
    "sweep layers": "cape sweep layers --models-file models.txt -o results/",
    "sweep steer": "cape sweep steer --models-file models.txt -o results/",
    "fetch leaderboard": "cape fetch leaderboard -o leaderboard.csv",
    "fetch results": "cape fetch results EleutherAI/pythia-1b -o pythia-1b.csv",
    "cache info": "cape cache info --json",
    "cache clear": "cape cache clear",
}


def _unwrap(doc: str | None) -> str | None:
    """A docstring with the line breaks inside each paragraph removed (the help wraps to the terminal)."""
    if not doc:
        return doc
    import inspect

    paras = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in paras)


def _polish_help(a: typer.Typer, prefix: str = "") -> None:
    """Help texts that reflow to the terminal, and the example of :data:`EXAMPLES` under each command."""
    for c in a.registered_commands:
        name = prefix + (c.name or c.callback.__name__)
        if c.help is None and c.callback is not None:
            c.callback.__doc__ = _unwrap(c.callback.__doc__)
        elif c.help:
            c.help = _unwrap(c.help)
        if name in EXAMPLES and not c.epilog:
            c.epilog = f"Example: {EXAMPLES[name]}"
    for g in a.registered_groups:
        _polish_help(g.typer_instance, prefix + g.name + " ")


@functools.cache
def _registered(module: str) -> typer.Typer:
    """A Typer app holding the commands that ``cape.commands.<module>`` registers, help texts polished."""
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode="rich")
    importlib.import_module(f"cape.commands.{module}").register(sub)
    _polish_help(sub)
    return sub


def load_command(name: str) -> Any:
    """The click command of top-level command ``name`` (a key of :data:`COMMANDS`), importing its module, with
    the option ranges of :mod:`cape.commands._options` attached."""
    from .commands._options import install

    cmd = typer.main.get_group(_registered(COMMANDS[name][0])).commands[name]
    return install(cmd, (name,))


def full_command() -> Any:
    """The root click group with every command loaded (for tools and tests that walk the whole tree)."""
    root = typer.main.get_command(app)
    for name in COMMANDS:
        root.commands[name] = load_command(name)  # type: ignore[attr-defined]
    return root


def missing_extra_message(e: ModuleNotFoundError) -> str | None:
    """One sentence naming the missing optional package and the command that installs it, or None when the
    missing module is not an optional dependency (then it is a real bug).

    Example:
        >>> missing_extra_message(ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib"))
        "this command needs matplotlib, which is not installed: pip install 'cape[dashboard]'"
    """
    top = (e.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return f"this command needs {top}, which is not installed: pip install 'cape[{extra}]'"


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app, turning CAPE errors into one-line messages and exit codes."""
    from .errors import CapeError

    table = sys.modules.get("cape.commands._table")  # a previous in-process run's format, if any, is forgotten
    if table is not None:
        table.reset()
    debug = bool(os.environ.get("CAPE_DEBUG"))
    try:
        # standalone mode: usage errors (including an option outside its range) print their message and
        # raise SystemExit(2); the root group itself has no numeric option to check
        typer.main.get_command(app).main(args=argv, prog_name="cape")
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except CapeError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except FileNotFoundError as e:
        if debug:
            raise
        print(f"error: file not found: {e.filename}", file=sys.stderr)
        return 2
    except PermissionError as e:
        if debug:
            raise
        print(f"error: permission denied: {e.filename}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        msg = missing_extra_message(e)
        if debug or msg is None:
            if debug:
                raise
            print(f"internal error: {type(e).__name__}: {e} (set CAPE_DEBUG=1 for a traceback)", file=sys.stderr)
            return 1
        print(f"error: {msg}", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an unexpected failure: one line, and how to see the traceback
        if debug:
            raise
        print(f"internal error: {type(e).__name__}: {e} (set CAPE_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1
    return 0


def _entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
