"""Showing where a problem is: the numbered source line with a caret under the column.

Lines are split at the line breaks PyYAML counts in its marks, so that a mark's line
number finds its line here.
"""

from __future__ import annotations

import re

import yaml

# The line breaks PyYAML counts in its marks; str.splitlines() knows more of them.
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE

_WINDOW = 120


def position_at(text: str, index: int) -> tuple[int, int]:
    """The (line, column), both from 1, of ``text[index]``."""
    lines = LINE_BREAK.split(text[:index])
    return len(lines), len(lines[-1]) + 1


def excerpt(lines: list[str], line: int, column: int) -> str:
    """``   3 |   name: again`` and a caret line under ``column``; long lines are cut."""
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    index = column - 1
    if len(text) > _WINDOW:
        start = max(0, min(index - _WINDOW // 2, len(text) - _WINDOW))
        head = "..." if start else ""
        text = head + text[start : start + _WINDOW] + ("..." if start + _WINDOW < len(text) else "")
        index += len(head) - start
    text = "".join("\ufffd" if ch != "\t" and NON_PRINTABLE.match(ch) else ch for ch in text)
    pad = "".join("\t" if ch == "\t" else " " for ch in text[:index]) + " " * max(
        0, index - len(text)
    )
    width = max(4, len(str(line)))
    return f"{line:>{width}} | {text}\n{'':>{width}} | {pad}^"
