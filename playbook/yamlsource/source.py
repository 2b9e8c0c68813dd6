"""A parsed file as the rest of the code sees it: ``Source``, its paths and positions.

A ``YamlPath`` such as ``("steps", 2, "signal")`` names a value; ``format_path`` writes
it the way messages show it, ``steps[2].signal``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from playbook.yamlsource.excerpts import LINE_BREAK, excerpt

YamlPath = tuple[str | int, ...]
Position = tuple[int, int]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Source:
    """A parsed file: its data, and where each value and key was written."""

    path: str
    text: str
    data: Any
    positions: dict[YamlPath, Position] = field(repr=False)
    key_positions: dict[YamlPath, Position] = field(repr=False)

    def locate(self, path: Sequence[str | int]) -> Position:
        """The position of ``path``, or of its deepest prefix that exists; (1, 1) for ()."""
        parts = tuple(path)
        for end in range(len(parts), 0, -1):
            found = self.positions.get(parts[:end])
            if found is not None:
                return found
        return (1, 1)

    def excerpt(self, line: int, column: int) -> str:
        """The source line, numbered, with a caret under ``column``."""
        return excerpt(self._lines, line, column)

    @cached_property
    def _lines(self) -> list[str]:
        return LINE_BREAK.split(self.text)


def format_path(path: Sequence[str | int]) -> str:
    """``("steps", 2, "signal", "args")`` -> ``steps[2].signal.args``; "" for ()."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out
