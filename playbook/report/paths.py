"""Where a report file goes: each path is checked before a run starts (a usage error names
the option, the path and what is wrong with it), and written at the end as what it is.

- ``-``, or a name of standard output's own file (``/dev/stdout``): standard output (the
  command then prints its console report on standard error);
- a regular file, or a new one: written to a temporary file beside it, then renamed into
  place, so a reader never sees half a report and a failed write keeps the last one;
  missing folders are created;
- a symbolic link, a FIFO or a device (``/dev/null``): opened and written
  through, never replaced. A FIFO's writer waits for a reader (``stop`` can end the wait).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

STDOUT = "-"
_POLL = 0.05  # how often a FIFO without a reader is tried again


class ReportInterrupted(OSError):
    """The wait for a FIFO's reader was given up."""


def check(paths: Mapping[str, str | None]) -> list[str]:
    """The problems with the report paths, by option (``{"--json-report": path}``), each a
    whole message; empty if every report can be written."""
    given = {flag: path for flag, path in paths.items() if path is not None}
    problems = [
        f"{flag} {path}: {reason}" for flag, path in given.items() if (reason := _problem(path))
    ]
    to_stdout = [flag for flag, path in given.items() if is_stdout(path)]
    if len(to_stdout) > 1:
        named = ", ".join(str(given[flag]) for flag in to_stdout)
        problems.append(
            f"{' and '.join(to_stdout)} both go to standard output ({named}): only one report can"
        )
    files = [(flag, path) for flag, path in given.items() if path != STDOUT and _is_file(path)]
    seen: dict[str, str] = {}
    for flag, path in files:
        real = os.path.realpath(path)
        if real in seen:
            problems.append(f"{seen[real]} and {flag} name the same file ({path}): give two files")
        seen[real] = flag
    return problems


def is_stdout(path: str | None) -> bool:
    """``-``, or a name of the file that standard output already writes to
    (``/dev/stdout``, ``/dev/fd/1``), unless that is ``/dev/null``."""
    if path == STDOUT:
        return True
    if not path:
        return False
    try:
        here = os.stat(path)
        out = os.fstat(sys.stdout.fileno())
        null = os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):  # (a captured stdout has no descriptor)
        return False
    return os.path.samestat(here, out) and not os.path.samestat(here, null)


def _is_file(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # a file to create


def _problem(path: str) -> str | None:
    if path == STDOUT:
        return None
    if not path:
        return "the path is empty"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        target = (
            os.path.join(os.path.dirname(path), os.readlink(path)) if os.path.islink(path) else path
        )
        return _folder_problem(target)
    except NotADirectoryError:
        return _folder_problem(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop; give a file"
        return f"cannot be written: {e.strerror or e}"
    if stat.S_ISDIR(mode):
        return "is a folder; give a file name (e.g. report.json inside it)"
    if stat.S_ISSOCK(mode):
        return "is a socket; give a file, a FIFO, a device or '-'"
    if not os.access(path, os.W_OK):
        return "is not writable"
    if stat.S_ISREG(mode) and not os.path.islink(path):
        folder = os.path.dirname(path) or "."
        if not os.access(folder, os.W_OK | os.X_OK):
            return (
                f"its folder {folder} is not writable (a report is written beside its file, "
                "then renamed into place)"
            )
    return None


def _folder_problem(path: str) -> str | None:
    """For a file to create: the nearest existing folder above it must be one, writable
    (the folders below it are created)."""
    folder = Path(path).parent  # (as given: the message names what the user wrote)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


# -- writing -----------------------------------------------------------------------------


def write_text(
    path: str | Path, text: str | Iterable[str], *, stop: Callable[[], bool] | None = None
) -> None:
    """Write a report to ``path`` as what it is (see the module); ``OSError`` if it cannot
    be written, :class:`ReportInterrupted` if ``stop`` ended the wait for a FIFO's reader.
    ``text`` may come in pieces (a report made as it is written)."""
    name = os.fspath(path)
    if is_stdout(name):  # (also /dev/stdout: through our descriptor, not a new one)
        _write_stdout(text)
        return
    try:
        link = stat.S_ISLNK(os.lstat(name).st_mode)
        mode: int | None = os.stat(name).st_mode
    except FileNotFoundError:
        link, mode = os.path.islink(name), None
    if mode is not None and stat.S_ISFIFO(mode):
        _write_fd(_open_fifo(name, stop), text)
    elif link or (mode is not None and not stat.S_ISREG(mode)):
        # O_CREAT: a dangling link makes its target; a device ignores O_TRUNC
        _write_fd(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), text)
    else:
        atomic_write(name, text)


def atomic_write(path: str | Path, text: str | Iterable[str]) -> None:
    """Write to a temporary file beside ``path``, then rename: a reader never sees half a
    report, and an earlier report survives a failed write."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        _write_fd(fd, text)
        # mkstemp makes the file 0600; a report is as readable as any file the user makes.
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_fd(fd: int, text: str | Iterable[str]) -> None:
    # backslashreplace: a lone surrogate (from a payload) becomes \udXXX, which in a JSON
    # string is the same value again, instead of losing the report.
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
        f.writelines([text] if isinstance(text, str) else text)


def _write_stdout(text: str | Iterable[str]) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    for piece in [text] if isinstance(text, str) else text:
        if buffer is None:
            sys.stdout.write(piece)
        else:
            buffer.write(piece.encode("utf-8", "backslashreplace"))
    if buffer is not None:
        buffer.flush()
    sys.stdout.flush()


def _open_fifo(path: str, stop: Callable[[], bool] | None) -> int:
    """Open a FIFO for writing once it has a reader: without one, a non-blocking open fails
    with ENXIO, so try again until one comes or ``stop`` says to give up."""
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
        else:
            os.set_blocking(fd, True)
            return fd
        if stop is not None and stop():
            raise ReportInterrupted(errno.EINTR, "interrupted while waiting for a reader")
        time.sleep(_POLL)
