"""The ``cape`` command line: a thin view over the library.

Each command module in :mod:`cape.commands` registers its commands; heavy imports (pandas, torch,
plotting) happen inside command bodies so that ``cape --help`` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

app = typer.Typer(
    name="cape",
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


def _readable_metavars() -> None:
    from typer import core

    for cls in (core.TyperOption, core.TyperArgument):
        cls.display_type_rich = _readable_type


_readable_metavars()

#: Command modules, in the order their commands appear in ``cape --help``.
COMMAND_MODULES = ("coupling", "dynamics", "frontier", "data", "ingest", "internals", "steer", "sweep", "levers",
                   "report", "fetch", "cache")

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


for _name in COMMAND_MODULES:
    importlib.import_module(f"cape.commands.{_name}").register(app)

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


_polish_help(app)


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

    from .commands import _table

    _table.reset()
    debug = bool(os.environ.get("CAPE_DEBUG"))
    try:
        from .commands._options import install

        # standalone mode: usage errors (including an option outside its range) print their message and
        # raise SystemExit(2)
        install(typer.main.get_command(app)).main(args=argv, prog_name="cape")
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
