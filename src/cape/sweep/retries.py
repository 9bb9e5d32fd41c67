"""Bounded retries: which failures are worth another attempt, and how a failure is described.

A task is retried up to ``RetryPolicy.max_attempts`` attempts in all. Failures that will repeat on every attempt
(the model cannot be found or loaded, its architecture has no adapter, a prompt set is malformed) are
*permanent* and recorded after the first attempt; everything else (out of memory, a killed worker, a lost node,
an unexpected exception) is *transient* and retried.

Example:
    >>> policy = RetryPolicy(max_attempts=3)
    >>> policy.should_retry(ValueError("boom"), attempt=1), policy.should_retry(ValueError("boom"), attempt=3)
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from cape.errors import CapeError

__all__ = ["RetryPolicy", "describe_failure", "is_permanent"]

#: Names of exception classes whose failure repeats on every attempt.
PERMANENT = frozenset({
    "ModelLoadError",
    "UnsupportedArchitectureError",
    "PromptSetError",
    "DataError",
    "NotFoundError",
    "DependencyError",
    "SteeringCompatibilityError",
    "InternalsUsageError",
})


@dataclass(frozen=True)
class RetryPolicy:
    """How often a task is attempted.

    Attributes:
        max_attempts: Attempts in all (1 means no retry).
        retry_permanent: Also retry failures classed as permanent (:func:`is_permanent`).
    """

    max_attempts: int = 3
    retry_permanent: bool = False

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise CapeError(f"max_attempts must be at least 1, not {self.max_attempts}.")

    def should_retry(self, error: BaseException | str, attempt: int) -> bool:
        """Whether a task whose attempt number ``attempt`` (1-based) failed with ``error`` gets another one."""
        if attempt >= self.max_attempts:
            return False
        return self.retry_permanent or not is_permanent(error)


def _type_name(error: BaseException | str) -> str:
    return error if isinstance(error, str) else type(error).__name__


def is_permanent(error: BaseException | str) -> bool:
    """Whether ``error`` (an exception or its class name) will recur on every attempt."""
    if isinstance(error, BaseException):
        names = {c.__name__ for c in type(error).__mro__}
        return bool(names & PERMANENT)
    return error in PERMANENT


def describe_failure(error: BaseException) -> dict[str, str]:
    """``{"error_type", "reason"}``: the exception's class and its first line (the full sentence for CAPE errors).

    Out-of-memory errors name themselves (``"out of memory: ..."``) whatever library raised them.
    """
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    name = type(error).__name__
    if "out of memory" in text.lower() or name in {"OutOfMemoryError", "MemoryError"}:
        first = first if first.lower().startswith("out of memory") else f"out of memory: {first}"
    return {"error_type": name, "reason": first[:500]}
