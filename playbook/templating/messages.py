"""How whatever a render raises becomes our ``TemplateError`` and its message.

Refusals become ``TemplateSecurityError``; a use of an undefined value names the mapping
or list it was looked up in and what it holds; Jinja's syntax errors say the line when
the template has several; anything else keeps its own text. Only ``translate`` decides
the class of the error; every message is prefixed with the caller's ``where``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.utils import missing

from playbook import numbers
from playbook.errors import TemplateError, TemplateSecurityError
from playbook.templating.limits import is_int, unwritable_number
from playbook.templating.refusals import ESCAPE_NAMES, INTERNALS_HINT, Missing, Refused, internals

IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


def kind(value: object) -> str:
    """What a value is, in the words of a message: ``a mapping``, ``null``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _template_line(exc: BaseException) -> int | None:
    line = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _path_to(context: Mapping[str, Any], target: object) -> str | None:
    """Where ``target`` sits in the context, as ``steps.start.result[2]``; None if unknown.

    Breadth-first over mappings and lists, giving up after a few thousand values."""
    limit = 5_000
    queue: deque[tuple[str, object]] = deque((str(key), value) for key, value in context.items())
    queued = len(queue)
    while queue:
        path, value = queue.popleft()
        if value is target:
            return path
        children: Iterable[tuple[str, object]] = ()
        if isinstance(value, Mapping):
            children = (
                (
                    path
                    + (
                        f".{key}"
                        if isinstance(key, str) and IDENTIFIER.match(key)
                        else f"[{key!r}]"
                    ),
                    child,
                )
                for key, child in value.items()
            )
        elif isinstance(value, (list, tuple)):
            children = ((f"{path}[{index}]", child) for index, child in enumerate(value))
        for child in children:
            if queued >= limit:
                break
            queue.append(child)
            queued += 1
    return None


def _missing_message(error: Missing, context: Mapping[str, Any]) -> tuple[str, bool]:
    """The message for a use of an undefined value, and whether it is a security refusal."""
    undefined = error.undefined
    hint = undefined._undefined_hint
    obj = undefined._undefined_obj
    name = undefined._undefined_name
    if hint:
        return hint, False
    if obj is missing:
        if name in ESCAPE_NAMES or (isinstance(name, str) and name.startswith("_")):
            return str(internals(name)), True
        available = ", ".join(sorted(str(key) for key in context))
        return f"{name!r} is undefined (available: {available})", False
    path = _path_to(context, obj)
    if isinstance(obj, Mapping):
        keys = sorted(str(key) for key in obj)
        listed = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        has = f"it has: {listed}" if keys else "it is empty"
        return f"{path or 'the mapping'} has no key {name!r} ({has})", False
    if isinstance(obj, (list, tuple)) and is_int(name):
        count = len(obj)
        return (
            f"{path or 'the list'} has no item {name} (it has {count} item{'s' * (count != 1)})",
            False,
        )
    return f"{path or 'the value'} ({kind(obj)}) has no attribute {name!r}", False


def syntax_message(exc: TemplateSyntaxError, source: str, what: str) -> str:
    """A syntax error of a ``what`` ("template", "expression"), with its line if it has several."""
    message = exc.message or str(exc)
    if exc.lineno and "\n" in source.rstrip("\n"):
        return f"{what} syntax error on line {exc.lineno}: {message}"
    return f"{what} syntax error: {message}"


def expression_syntax(exc: TemplateSyntaxError, expression: str) -> str:
    """A bare expression's syntax error; says to drop the braces if it has some."""
    message = syntax_message(exc, expression, "expression")
    if "{{" in expression or "{%" in expression:
        message += " (write the expression without {{ }} or {% %})"
    return message


def translate(
    exc: BaseException, context: Mapping[str, Any], source: str, where: str
) -> TemplateError:
    """Any exception raised while rendering, as the TemplateError to raise."""
    security = False
    if isinstance(exc, Refused):
        message, security = str(exc), True
    elif isinstance(exc, TemplateSyntaxError):
        return TemplateError(syntax_message(exc, source, "template"), where=where)
    elif isinstance(exc, Missing):
        message, security = _missing_message(exc, context)
    elif isinstance(exc, SecurityError):
        message, security = f"{exc.message}; {INTERNALS_HINT}", True
    elif isinstance(exc, JinjaTemplateError):
        message = exc.message or type(exc).__name__
    elif isinstance(exc, MemoryError):
        message, security = "template used too much memory; simplify it", True
    elif isinstance(exc, RecursionError):
        message, security = "template recursed too deeply; simplify it", True
    elif isinstance(exc, TemplateError):
        return exc
    elif numbers.is_digit_limit(exc):
        # str(), repr(), json.dumps... of an integer of more than 4,300 digits
        message, security = str(unwritable_number()), True
    else:
        text = str(exc)
        if not text or isinstance(exc, LookupError):
            text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        message = text
    line = _template_line(exc)
    if line is not None and "\n" in source.rstrip("\n"):
        message = f"line {line}: {message}"
    cls = TemplateSecurityError if security else TemplateError
    return cls(message, where=where)
