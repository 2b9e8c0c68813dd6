"""Reading a playbook file or text into a ``Source``; every failure as ``InvalidPlaybook``.

Before any YAML is parsed: only a regular file is read (a FIFO, a device or a socket is
refused before it is opened), the size limit, the encoding (UTF-8, a byte-order mark skipped) and the characters YAML does not
allow. Then the builder runs, and whatever it or the parser raises becomes problems; no
input, however broken, produces a traceback.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Callable

import yaml

from playbook.errors import InvalidPlaybook, Problem
from playbook.yamlsource import limits
from playbook.yamlsource.builder import Builder
from playbook.yamlsource.composer import Fatal
from playbook.yamlsource.excerpts import LINE_BREAK, NON_PRINTABLE, excerpt, position_at
from playbook.yamlsource.source import Source
from playbook.yamlsource.syntax import rephrase


def load_file(path: str | os.PathLike[str]) -> Source:
    """Read and parse a playbook file; raises ``InvalidPlaybook``."""
    name = os.fspath(path)

    def fail(message: str) -> InvalidPlaybook:
        return InvalidPlaybook([Problem(name, 1, 1, "", message)])

    try:
        # Looked at before it is opened: opening a FIFO waits for a writer, and a device
        # may never end. Checked again once open, in case the path changed in between;
        # O_NONBLOCK makes that open return at once whatever the path has become.
        _check_regular(os.stat(path), fail)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as file:
            info = os.fstat(fd)
            _check_regular(info, fail)
            if info.st_size > limits.MAX_FILE_BYTES:
                raise fail(limits.too_big(info.st_size))
            # Bounded: the file may grow while it is read.
            data = file.read(limits.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise fail("the file does not exist; check the path") from None
    except PermissionError:
        raise fail("the file cannot be read: permission denied; check its permissions") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise fail("the path is a symbolic link loop; give the path of a file") from None
        raise fail(f"the file cannot be read: {error.strerror or error}; check the path") from None
    if len(data) > limits.MAX_FILE_BYTES:
        raise fail(limits.too_big(None))
    return load_text(data, name)


def _check_regular(info: os.stat_result, fail: Callable[[str], InvalidPlaybook]) -> None:
    """Refuse what is not a regular file (a directory, a FIFO, a device, a socket)."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise fail("this is a directory, not a playbook file; give the path of a YAML file")
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    )
    what = next((name for test, name in kinds if test(mode)), "a special file")
    raise fail(f"this is {what}, not a regular file; give the path of a YAML file")


def load_text(text: str | bytes, path: str = "<string>") -> Source:
    """Parse playbook YAML; raises ``InvalidPlaybook`` with every problem found."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > limits.MAX_FILE_BYTES:
            raise InvalidPlaybook([Problem(path, 1, 1, "", limits.too_big(len(text)))])
        text = _decode(bytes(text), path)
    elif len(text) > limits.MAX_FILE_BYTES // 4:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.MAX_FILE_BYTES:
            raise InvalidPlaybook([Problem(path, 1, 1, "", limits.too_big(size))])
    text = text.removeprefix("\ufeff")
    lines = LINE_BREAK.split(text)
    bad = NON_PRINTABLE.search(text)
    if bad:
        line, column = position_at(text, bad.start())
        what = "a NUL byte" if bad.group() == "\0" else f"the character U+{ord(bad.group()):04X}"
        message = f"the file contains {what}, which YAML does not allow; remove it (is this a binary file?)"
        raise InvalidPlaybook(
            [Problem(path, line, column, "", message, excerpt(lines, line, column))]
        )

    builder = Builder(path, lines)
    try:
        data = builder.run(text)
    except Fatal as fatal:
        builder.report(fatal.mark, fatal.path, fatal.message)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        builder.report(mark, (), rephrase(error, lines))
    except RecursionError:
        builder.report(None, (), "the file nests too deeply to read; flatten it")
    except Exception as error:  # a guard: whatever PyYAML raises must not become a traceback
        builder.report(None, (), f"the file cannot be read as YAML ({error}); check its syntax")
    if builder.problems:
        raise InvalidPlaybook(builder.problems)
    return Source(path, text, data, builder.positions, builder.key_positions)


def _decode(data: bytes, path: str) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8")
        line, column = position_at(prefix, len(prefix))
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            message = (
                "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
            )
        else:
            message = (
                f"the file is not valid UTF-8 (byte 0x{data[error.start]:02x}); save it as UTF-8"
            )
        lines = LINE_BREAK.split(data.decode("utf-8", "replace"))
        raise InvalidPlaybook(
            [Problem(path, line, column, "", message, excerpt(lines, line, column))]
        ) from None
