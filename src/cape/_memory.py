"""Memory budget of the bootstraps: row chunks and a check before a long run.

Resample rows are independent, so a bootstrap of ``n_boot`` rows can run in chunks of rows whose arrays fit a
fixed budget; the random draws are taken chunk by chunk from the same stream, so the replicates are identical
to a single-block run. Arrays that cannot be chunked (one family's draws) are estimated first and refused with
one sentence when they would not fit.
"""

from __future__ import annotations

import os

from .errors import MemoryBudgetError

#: bytes of working arrays one bootstrap chunk may hold (several arrays of ``rows x columns`` float64)
CHUNK_BYTES = 64 * 2 ** 20

#: environment variable that sets the memory CAPE may use (bytes, or with a K/M/G suffix)
LIMIT_ENV = "CAPE_MEMORY_LIMIT"


def chunk_rows(n_rows: int, row_bytes: int, budget: int | None = None) -> int:
    """Rows per chunk so that one chunk's arrays take at most ``budget`` bytes (at least one row).

    Args:
        n_rows: rows in all (bootstrap replicates).
        row_bytes: bytes the working arrays of one row take together.
        budget: bytes allowed per chunk (default :data:`CHUNK_BYTES`).

    Returns:
        The chunk length in rows, between 1 and ``n_rows``.
    """
    budget = CHUNK_BYTES if budget is None else budget
    if n_rows <= 0:
        return 1
    return int(max(1, min(n_rows, budget // max(int(row_bytes), 1))))


def row_slices(n_rows: int, size: int):
    """Consecutive ``slice`` objects covering ``range(n_rows)`` in steps of ``size``."""
    for start in range(0, n_rows, size):
        yield slice(start, min(n_rows, start + size))


def _parse_bytes(text: str) -> int | None:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}
    try:
        if t and t[-1] in mult:
            return int(float(t[:-1]) * mult[t[-1]])
        return int(float(t))
    except ValueError:
        return None


def available_bytes() -> int | None:
    """Memory this process may use: ``CAPE_MEMORY_LIMIT`` when set, else the free memory the system reports
    (``MemAvailable``), else None (unknown: no check)."""
    env = os.environ.get(LIMIT_ENV)
    if env:
        v = _parse_bytes(env)
        if v is None or v <= 0:
            raise MemoryBudgetError(f"{LIMIT_ENV}={env!r} is not a size (write bytes or e.g. 2G, 512M)")
        return v
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def fmt_bytes(n: float) -> str:
    """``1.5 GiB`` / ``320 MiB`` style size."""
    if n >= 2 ** 30:
        return f"{n / 2 ** 30:.1f} GiB"
    return f"{n / 2 ** 20:.0f} MiB"


def check_memory(need: int, what: str, lower: str) -> None:
    """Refuse, before it starts, a computation that needs more memory than is available.

    Args:
        need: estimated peak bytes of the computation.
        what: what needs it, e.g. ``"the N_c bootstrap of family 'Pythia' (10000 resamples x 40000 models)"``.
        lower: the option that lowers it, e.g. ``"--n-boot"``.

    Raises:
        MemoryBudgetError: when ``need`` exceeds :func:`available_bytes`.
    """
    avail = available_bytes()
    if avail is not None and need > avail:
        raise MemoryBudgetError(f"{what} needs about {fmt_bytes(need)} of memory but only {fmt_bytes(avail)} "
                                f"is available; lower {lower} (or raise {LIMIT_ENV})")


_TUNED: list[bool] = []


def tune_allocator(mmap_threshold: int = 16 * 2 ** 20, trim_threshold: int = 64 * 2 ** 20) -> bool:
    """Let the C allocator reuse freed bootstrap-sized blocks instead of returning them to the system.

    A bootstrap allocates and frees many arrays of a few hundred KiB. glibc serves blocks above its mmap
    threshold (128 KiB by default, adjusted upward as blocks are freed) with fresh pages each time, and trims
    the heap top, so every array pays page faults (kernel time, about a sixth of a large diagnosis). Raising
    both thresholds keeps those blocks in the heap. Idempotent; a no-op (False) where ``mallopt`` is not
    available (not glibc).

    Args:
        mmap_threshold: blocks at least this large (bytes) are still mapped separately.
        trim_threshold: free heap top (bytes) kept before it is returned to the system.

    Returns:
        True when the allocator was tuned (now or before).
    """
    if _TUNED:
        return _TUNED[0]
    ok = False
    try:
        import ctypes

        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the C library the interpreter runs on
        if mallopt is not None:  # M_MMAP_THRESHOLD = -3, M_TRIM_THRESHOLD = -1; 1 on success
            ok = bool(mallopt(-3, int(mmap_threshold))) and bool(mallopt(-1, int(trim_threshold)))
    except (OSError, AttributeError):
        ok = False
    _TUNED.append(ok)
    return ok
