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

#: Command modules, in the order their commands appear in ``cape --help``.
COMMAND_MODULES = ("coupling", "dynamics", "frontier", "data", "ingest", "internals", "steer", "sweep", "levers",
                   "report", "fetch", "cache")

for _name in COMMAND_MODULES:
    importlib.import_module(f"cape.commands.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the app, turning CAPE errors into one-line messages and exit codes."""
    from .errors import CapeError

    debug = bool(os.environ.get("CAPE_DEBUG"))
    try:
        # standalone mode: usage errors print their message and raise SystemExit(2)
        app(args=argv, prog_name="cape")
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
