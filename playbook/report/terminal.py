"""What the console may do on its stream: colours (``--color``, ``NO_COLOR``,
``FORCE_COLOR``), bold, and a live line that fits the terminal's width.

A live line is redrawn with ``\\r`` and "erase to the end of the line", which only reach
the row the cursor is on: a line wider than the terminal wraps onto rows that nothing
erases. So the line is cut to one column less than the width (a line that fills the last
column leaves some terminals' cursor waiting to wrap), counting wide characters as two
columns and control characters as none they could move the cursor with.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

COLOR_CHOICES = ("auto", "always", "never")
_FALLBACK_WIDTH = 80
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Styling:
    """``colour``: foreground colours; ``bold``: bold alone (kept under ``NO_COLOR`` on a
    terminal, as no-color.org allows)."""

    colour: bool
    bold: bool


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def styling(choice: str, stream: TextIO, environ: Mapping[str, str] | None = None) -> Styling:
    """``--color`` first (an explicit flag beats the environment), then ``NO_COLOR`` (set
    and not empty: no colour), then ``FORCE_COLOR`` (set: colour even into a pipe, unless
    it is ``0`` or ``false``), then whether the stream is a terminal."""
    env = os.environ if environ is None else environ
    if choice == "always":
        return Styling(colour=True, bold=True)
    if choice == "never":
        return Styling(colour=False, bold=False)
    tty = is_terminal(stream)
    if env.get("NO_COLOR"):
        return Styling(colour=False, bold=tty)
    force = env.get("FORCE_COLOR")
    if force is not None and force != "":
        on = force.strip().lower() not in ("0", "false")
        return Styling(colour=on, bold=on)
    return Styling(colour=tty, bold=tty)


def width(stream: TextIO) -> int:
    """The terminal's width in columns, asked again at every draw (it may be resized);
    80 when the stream is not a terminal or does not say."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_WIDTH
    return columns if columns > 0 else _FALLBACK_WIDTH


def _columns(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit(text: str, columns: int) -> str:
    """``text`` on one row of a terminal ``columns`` wide: control characters (a newline
    in a step's name) shown as spaces, cut to ``columns - 1`` columns, colour codes kept
    (and reset when the cut falls inside a styled span)."""
    room = max(columns - 1, 1)
    out: list[str] = []
    used = 0
    styled = False
    position = 0
    for match in [*_SGR.finditer(text), None]:
        end = match.start() if match else len(text)
        for char in _CONTROL.sub(" ", text[position:end]):
            size = _columns(char)
            if used + size > room:
                return "".join(out) + ("\x1b[0m" if styled else "")
            out.append(char)
            used += size
        if match is None:
            break
        out.append(match.group())
        styled = match.group() not in ("\x1b[0m", "\x1b[m")
        position = match.end()
    return "".join(out)
