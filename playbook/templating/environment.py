"""The one ``Sandbox`` every template runs in, and the compiled forms cached in front of it
(an integer literal too long for Python is a syntax error there).

Also decides which strings keep their native type: a template that is exactly one
``{{ expr }}`` is evaluated as the expression ``expr`` (see ``native_expression``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager

from jinja2.environment import Template, TemplateExpression
from jinja2.exceptions import TemplateSyntaxError

from playbook import numbers
from playbook.templating.sandbox import Sandbox

ENV = Sandbox()

_NATIVE = re.compile(r"\A\s*\{\{(.*)\}\}\s*\Z", re.DOTALL)


@contextmanager
def long_numbers_refused() -> Iterator[None]:
    """An integer literal of more than 4,300 digits (Python reads it, or writes it into
    the compiled code, only up to that) as a syntax error of the template."""
    try:
        yield
    except ValueError as error:
        if not numbers.is_digit_limit(error):
            raise
        raise TemplateSyntaxError(
            f"a number has more than {numbers.MAX_INT_DIGITS} digits", lineno=1
        ) from None


@functools.lru_cache(maxsize=2048)
def compiled_template(source: str) -> Template:
    with long_numbers_refused():
        return ENV.from_string(source)


@functools.lru_cache(maxsize=2048)
def compiled_expression(source: str) -> TemplateExpression:
    with long_numbers_refused():
        return ENV.compile_expression(source, undefined_to_none=False)


@functools.lru_cache(maxsize=2048)
def native_expression(source: str) -> str | None:
    """The expression of a template that is exactly one ``{{ expr }}``, else None."""
    match = _NATIVE.match(source)
    if match is None:
        return None
    variables = 0
    for _, token, value in ENV.lex(source):
        if token == "variable_begin":
            variables += 1
        elif (token == "data" and value.strip()) or token.endswith("_begin"):
            return None
    if variables != 1:
        return None
    inner = match.group(1)
    # whitespace control ({{- x -}}) is part of the delimiters, not of the expression
    if inner.startswith(("-", "+")):
        inner = inner[1:]
    if inner.endswith(("-", "+")):
        inner = inner[:-1]
    return inner
