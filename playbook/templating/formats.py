"""Formatting that is sized before it runs: ``%`` (and the ``format`` filter) and
``str.format``.

A width or a precision asks for that many characters (``'%1000000000s' % 'x'``,
``'{:.999999999f}'.format(1)``), and one value may be written by many conversions
(``'%(a)s%(a)s...'``): each conversion is counted, the value's ``weight`` every time it
is referenced plus the widths and precisions, and the format is refused with
``limits.too_long()`` before Python builds any of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from string import Formatter
from typing import Any

from jinja2.sandbox import SandboxedEscapeFormatter, SandboxedFormatter
from markupsafe import Markup

from playbook.templating.limits import MAX_ITEMS, too_long, weight

_NUMBER = re.compile(r"\d+")
# One printf-style conversion: %(key) flags width .precision length type.
_PERCENT = re.compile(r"%(?:\(([^)]*)\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.DOTALL)


def size(value: object) -> int:
    """A width, precision or count as a number of characters (bools are ints too)."""
    return abs(int(value)) if isinstance(value, int) else 0


def text_over(total: int) -> None:
    """Refuse a text result of ``total`` characters past the limit."""
    if total > MAX_ITEMS:
        raise too_long()


def _written(spec: str) -> int:
    """The widths and precisions written in a format spec (``>10.3f``), added up."""
    total = 0
    for digits in _NUMBER.findall(spec):
        if len(digits) > len(str(MAX_ITEMS)):
            raise too_long()
        total += int(digits)
    return total


def check_percent(template: object, values: object) -> None:
    """``template % values``: refused if its conversions would write too much."""
    if isinstance(template, (bytes, bytearray)):
        text = bytes(template).decode("latin-1")
    elif isinstance(template, str):
        text = template
    else:
        return
    positional = list(values) if isinstance(values, tuple) else [values]
    taken = 0

    def take() -> Any:
        nonlocal taken
        taken += 1
        return positional[taken - 1] if taken <= len(positional) else None

    total = len(text)
    for match in _PERCENT.finditer(text):
        key, width, precision, conversion = match.groups()
        for written in (width, precision):
            total += size(take()) if written == "*" else _written(written or "")
        if conversion != "%":
            if key is None:
                total += weight(take())
            elif isinstance(values, Mapping):
                total += weight(values.get(key))
        text_over(total)


class _BoundedFormatter(SandboxedFormatter):
    """Jinja's sandboxed ``str.format``, counting what each field would write first."""

    def __init__(self, env: Any, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.total = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.total = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self.total += weight(value) + _written(format_spec)
        text_over(self.total)
        return super().format_field(value, format_spec)


class _BoundedEscapeFormatter(_BoundedFormatter, SandboxedEscapeFormatter):
    """The same for ``Markup.format``."""


def str_format(env: Any, method: Any) -> Callable[..., str] | None:
    """``str.format`` or ``str.format_map`` of a string, sandboxed and bounded: what
    Jinja's ``wrap_str_format`` returns, with a formatter that counts. None for any
    other value."""
    name = getattr(method, "__name__", None)
    owner = getattr(method, "__self__", None)
    if name not in ("format", "format_map") or not isinstance(owner, str):
        return None

    def formatted(*args: Any, **kwargs: Any) -> str:
        formatter: Formatter
        if isinstance(owner, Markup):
            formatter = _BoundedEscapeFormatter(env, escape=owner.escape)
        else:
            formatter = _BoundedFormatter(env)
        positional: tuple[Any, ...] = args
        named: Any = kwargs
        if name == "format_map":
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument, a mapping")
            positional, named = (), args[0]
        return type(owner)(formatter.vformat(owner, positional, named))

    formatted.__name__ = formatted.__qualname__ = name
    return formatted
