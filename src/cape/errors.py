"""Exceptions raised by CAPE.

Every error a user can cause derives from :class:`CapeError`. Its message is one sentence that names the
file, row or field at fault and what was expected; the command line prints exactly that sentence (no
traceback) and exits with a non-zero status.
"""

from __future__ import annotations


class CapeError(Exception):
    """Base class of all user-facing CAPE errors."""

    exit_code = 2


class DataError(CapeError, ValueError):
    """Input data is malformed, inconsistent or out of range."""


class UnknownBenchmarkError(DataError):
    """A benchmark name is not recognised."""


class VariantMixError(DataError):
    """One benchmark appears with several metric variants in one analysis."""


class NotFoundError(CapeError, LookupError):
    """A model, family or dataset that was asked for does not exist."""

    exit_code = 3


class AnalysisError(CapeError, RuntimeError):
    """An analysis cannot be carried out on the data given (too few models, constant scores, ...)."""


class DependencyError(CapeError, ImportError):
    """An optional dependency (an extra) is not installed."""

    exit_code = 4


class HubUnavailableError(CapeError, ConnectionError):
    """The Hugging Face Hub (or the endpoint in ``HF_ENDPOINT``) could not be reached and nothing usable is cached."""

    exit_code = 5


class MemoryBudgetError(CapeError, MemoryError):
    """A computation would need more memory than the machine has free (the message names the option that
    lowers it)."""
