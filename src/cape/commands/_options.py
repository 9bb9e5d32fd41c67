"""What every numeric option of the ``cape`` command accepts, in one table, checked before a command runs.

The option parser already refuses text where a number is expected; these rules add the ranges (a seed is never
negative, a confidence level lies strictly between 0 and 1, a count is at least 1) and refuse NaN and
infinities, which the parser accepts. A value outside its rule stops the command before anything is read,
loaded or computed, with the parser's usual one-line message naming the option, e.g.
``Invalid value for '--level': 1.5 is not between 0 and 1 (exclusive)``.

The library checks its own arguments too (so the Python API refuses the same values); this table exists so that
the command line names the option the user typed, and so that model commands refuse a bad option before a
model is loaded.
"""

from __future__ import annotations

import math
import typing
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import typer

__all__ = ["Rule", "RULES", "install", "about"]

SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class Rule:
    """A numeric range: ``low``/``high`` bounds (``None`` = unbounded), each inclusive or not."""

    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    integer: bool = False

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks the rule, or ``None``."""
        if value is None or isinstance(value, bool):
            return None
        try:
            x = float(value)
        except (TypeError, ValueError):
            return None  # not a number: the parser's own type check speaks
        if not math.isfinite(x):
            return f"{value} is not a finite number"
        if self.integer and x != int(x):
            return f"{value} is not a whole number"
        if self.low is not None and (x < self.low or (x == self.low and not self.low_inclusive)):
            return f"{value} is {self._describe()}"
        if self.high is not None and (x > self.high or (x == self.high and not self.high_inclusive)):
            return f"{value} is {self._describe()}"
        return None

    def _describe(self) -> str:
        lo, hi = self.low, self.high
        fmt = (lambda v: f"{v:g}") if not self.integer else (lambda v: f"{int(v)}")
        if lo is not None and hi is not None:
            if not self.low_inclusive and not self.high_inclusive:
                return f"not between {fmt(lo)} and {fmt(hi)} (exclusive)"
            if self.low_inclusive and self.high_inclusive:
                return f"not between {fmt(lo)} and {fmt(hi)}"
            left = "[" if self.low_inclusive else "("
            right = "]" if self.high_inclusive else ")"
            return f"outside {left}{fmt(lo)}, {fmt(hi)}{right}"
        if lo is not None:
            return f"not {'at least' if self.low_inclusive else 'above'} {fmt(lo)}"
        return f"not {'at most' if self.high_inclusive else 'below'} {fmt(hi)}"


COUNT = Rule(1, 10**8, integer=True)
SEED = Rule(0, SEED_MAX, integer=True)
LEVEL = Rule(0, 1, low_inclusive=False, high_inclusive=False)
NONNEG = Rule(0, None)
FINITE = Rule(None, None)
PERCENT = Rule(0, 100)
FRACTION_OPEN = Rule(0, 1, low_inclusive=False, high_inclusive=False)

#: Option name -> rule, for every command that has the option; ``(command path, option)`` keys override it
#: for one command (e.g. ``cape ode --n-models 0`` means "no ensemble").
RULES: dict[Any, Rule] = {
    "--seed": SEED,
    "--n-boot": COUNT,
    "--n-perm": COUNT,
    "--drep-boot": COUNT,
    "--n-models": COUNT,
    ("ode", "--n-models"): Rule(0, 10**6, integer=True),
    # the internals commands (and their sweeps) document 0 as "skip this resampling"
    ("heads", "--n-boot"): Rule(0, 10**8, integer=True),
    ("heads", "--n-perm"): Rule(0, 10**8, integer=True),
    ("layers", "--n-boot"): Rule(0, 10**8, integer=True),
    ("layers", "--n-perm"): Rule(0, 10**8, integer=True),
    ("layers", "--drep-boot"): Rule(0, 10**8, integer=True),
    "--level": LEVEL,
    "--alpha": FRACTION_OPEN,
    "--min-delta": NONNEG,
    "--threshold": NONNEG,
    "--rotate-below": PERCENT,
    "--competing-below": FINITE,
    "--top-k": COUNT,
    "--top": COUNT,
    "--dpi": Rule(10, 2400, integer=True),
    "--max-items": COUNT,
    "--n-items": COUNT,
    "--n-prompts": Rule(0, 10**8, integer=True),  # 0: evaluate the two-choice items only
    "--batch-size": COUNT,
    "--max-length": COUNT,
    "--max-new-tokens": COUNT,
    "--threads": Rule(1, 4096, integer=True),
    "--d-model": COUNT,
    "--degree": Rule(1, 2, integer=True),
    "--val-fraction": Rule(0, 1, high_inclusive=False),
    "--strength": FINITE,
    "--sweep-strength": FINITE,
    "--temperature": Rule(0, None, low_inclusive=False),
    "--top-p": Rule(0, 1, low_inclusive=False),
    "--params": Rule(1e5, 1e14, low_inclusive=True),
    "--retries": Rule(0, 100, integer=True),
    "--workers": Rule(1, 4096, integer=True),
    "--cpus-per-task": Rule(0, 4096, low_inclusive=False),
    "--gpus-per-task": Rule(0, 4096),
}


def _rule_for(path: tuple[str, ...], option: str) -> Rule | None:
    for i in range(len(path)):
        rule = RULES.get((" ".join(path[i:]), option))
        if rule is not None:
            return rule
    return RULES.get(option)


def _wrap(param: Any, rule: Rule, option: str) -> None:
    previous: Callable | None = param.callback

    def callback(ctx: Any, p: Any, value: Any) -> Any:
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            problem = rule.problem(v)
            if problem is not None:
                raise typer.BadParameter(problem, ctx=ctx, param=p, param_hint=f"'{option}'")
        return previous(ctx, p, value) if previous is not None else value

    param.callback = callback


def _is_numeric(annotation: Any) -> bool:
    """Whether an option's annotation is ``int``/``float`` (possibly optional or a list of them)."""
    if annotation in (int, float):
        return True
    return any(_is_numeric(a) for a in typing.get_args(annotation) if a is not type(None))


def _numeric_param(param: Any) -> bool:
    """Whether a command-line parameter takes numbers: from its annotation where Typer keeps it (0.29 and
    later), else from its parameter type (``INT``/``FLOAT``, also for a repeatable option)."""
    desc = getattr(param, "type_descriptor", None)
    if desc is not None:
        return _is_numeric(desc.annotation)
    return getattr(getattr(param, "type", None), "name", "") in ("int", "integer", "float")


def install(command: Any, path: tuple[str, ...] = ()) -> Any:
    """Attach the rules to every numeric option of ``command`` and its subcommands; returns ``command``."""
    for name, sub in (getattr(command, "commands", None) or {}).items():
        install(sub, (*path, name))
    for param in command.params:
        if getattr(param, "is_flag", False) or not _numeric_param(param):
            continue
        long = [o for o in param.opts if o.startswith("--")]
        if not long:
            continue
        rule = _rule_for(path, long[0])
        if rule is not None:
            _wrap(param, rule, long[0])
    return command


@contextmanager
def about(option: str, value: Any) -> Iterator[None]:
    """Name ``option`` and the value the user typed in any :class:`~cape.errors.CapeError` raised inside.

    For checks that live in the library (which names the value, not the command-line option), so the command
    line's sentence says which option to fix.
    """
    from ..errors import CapeError

    try:
        yield
    except CapeError as e:
        raise type(e)(f"{option} {str(value)!r}: {e}") from None
