"""One writer for every file CAPE produces.

Every output (score tables, reports, figures, steering vectors, result files) goes through
:func:`write_output`. It refuses, with one sentence naming the path, anything that would harm what the user
has:

* a path that is one of this run's inputs, whether named on the command line or found by scanning a folder
  (compared by device and inode, so another spelling or a hard link of the same file is caught too);
* a folder, or an existing special file (character or block device, FIFO, socket);
* a location that cannot be written (missing folder, read-only file system, no permission).

It writes through a temporary file in the destination's folder and renames it into place, so a failure or an
interrupt never leaves a half-written file and never clobbers the old one. A symbolic link is written
*through*: its target is replaced and the link is kept. An existing file keeps its permission bits; a new one
gets the mode the user's umask gives (as ``open()`` would).

Readers call :func:`note_input` for every file they open, so that the check covers files found by scanning.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_output(d / "t.csv", "a,b\\n1,2\\n").name
    't.csv'
    >>> (d / "t.csv").read_text()
    'a,b\\n1,2\\n'
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .errors import DataError

__all__ = ["note_input", "clear_inputs", "check_output", "write_output", "check_suffix"]

#: (device, inode) -> how the input was named, for every file read in this process.
_INPUTS: dict[tuple[int, int], str] = {}


def _show(path: os.PathLike | str) -> str:
    return Path(path).as_posix()


def note_input(path: os.PathLike | str) -> None:
    """Record ``path`` as an input of this run: :func:`write_output` will refuse to write over it.

    Missing or unreadable paths are ignored (the reader reports those itself)."""
    try:
        st = os.stat(path)
    except OSError:
        return
    _INPUTS.setdefault((st.st_dev, st.st_ino), _show(path))


def clear_inputs() -> None:
    """Forget the recorded inputs (a long-lived process such as the dashboard calls it between jobs)."""
    _INPUTS.clear()


def check_suffix(path: os.PathLike | str, allowed: Iterable[str], *, option: str = "-o") -> str:
    """Return the lower-case suffix of ``path`` if it is one of ``allowed``, else refuse.

    The extension decides the format of an output, so a name such as ``x.parquet`` is never given CSV text.

    Raises:
        DataError: the suffix is not one of ``allowed``.
    """
    allowed = [a.lower() for a in allowed]
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise DataError(f"{_show(path)}: {option} must end in {' or '.join(allowed)} (the extension decides the "
                        "format)")
    return suffix


def check_output(path: os.PathLike | str, inputs: Iterable[os.PathLike | str] = ()) -> Path:
    """Check that ``path`` can be written without harming anything; returns the real destination.

    The destination is ``path`` itself, or the target of ``path`` when it is a symbolic link.

    Args:
        path: the output path as the user gave it.
        inputs: further inputs of this run, besides those recorded with :func:`note_input`.

    Raises:
        DataError: ``path`` is an input, a folder, a special file, or cannot be written.
    """
    path = Path(path)
    shown = _show(path)
    for p in inputs:
        note_input(p)
    dest = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(dest)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise DataError(f"{shown}: cannot be written ({e.strerror})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise DataError(f"{shown}: is a folder; give a file name inside it")
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{shown}: is a special file (device, FIFO or socket), not a regular file; "
                            "give a file name")
        named = _INPUTS.get((st.st_dev, st.st_ino))
        if named is not None:
            also = "" if named == shown else f" (read as {named})"
            raise DataError(f"{shown}: is one of this run's input files{also}; choose another output so the "
                            "input is not overwritten")
    parent = dest.parent
    if not parent.is_dir():
        raise DataError(f"{shown}: folder {_show(parent)} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"{shown}: folder {_show(parent)} cannot be written (read-only or no permission)")
    return dest


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt while a file is being written, so that the temporary
    file is removed before the process ends (only possible in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):  # pragma: no cover - exercised in a subprocess test
        raise KeyboardInterrupt(f"signal {signum}")

    old = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is None:
            continue
        try:
            old[sig] = signal.signal(sig, _raise)
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def write_output(path: os.PathLike | str, data: str | bytes, inputs: Iterable[os.PathLike | str] = ()) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` safely and atomically; returns ``path``.

    See the module's description for what is refused and how links and permissions are treated.

    Raises:
        DataError: the output would harm an input or a special file, or cannot be written.
    """
    path = Path(path)
    dest = check_output(path, inputs)
    try:
        mode = stat.S_IMODE(os.stat(dest).st_mode)
    except OSError:
        mode = _umask_mode()
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        with _signals_as_interrupts():
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fchmod(f.fileno(), mode)
            os.replace(tmp, dest)
            tmp = None
    except OSError as e:
        raise DataError(f"{_show(path)}: cannot be written ({e.strerror or e})") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path
