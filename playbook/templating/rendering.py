"""Rendering values and evaluating expressions: the run-time half of the public API.

``render`` walks mappings and lists and renders each template string; a string that is
exactly one ``{{ expr }}`` keeps the expression's native type. ``evaluate`` runs a bare
expression (``when``, ``retry.until``, ``assert``). Both run under one time budget and
let nothing but ``TemplateError`` escape.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from typing import Any, cast

from jinja2.exceptions import TemplateSyntaxError
from jinja2.runtime import Undefined

from playbook import numbers
from playbook.errors import TemplateError, TemplateSecurityError
from playbook.templating import timing
from playbook.templating.environment import (
    compiled_expression,
    compiled_template,
    native_expression,
)
from playbook.templating.limits import (
    MAX_ITEMS,
    MAX_OUTPUT,
    check_length,
    too_many_digits,
    too_many_items,
    too_much_output,
    weight,
)
from playbook.templating.loops import Iteration
from playbook.templating.messages import IDENTIFIER, expression_syntax, translate


def _to_value(value: Any) -> Any:
    """A native result as JSON-shaped data: sequences and iterators become lists, mappings
    dicts, str subclasses (Markup) plain strings. Undefined anywhere is an error; a bare
    function is an error (it was meant to be called). Its weight is counted as it is
    built, every reference to a shared value again, and so is every integer's size."""
    nodes = 0
    total = 0

    def count(amount: int) -> None:
        nonlocal nodes, total
        nodes += 1
        total += amount
        if total > MAX_ITEMS:
            raise too_many_items()
        if nodes % 1024 == 0:
            timing.tick()

    def key_of(key: Any) -> Any:
        if numbers.too_big(key):
            raise too_many_digits()
        count(weight(key))
        return key

    def convert(item: Any) -> Any:
        if isinstance(item, str):
            count(len(item))
            return item if type(item) is str else str(item)
        if isinstance(item, int) and not isinstance(item, bool):
            if numbers.too_big(item):
                raise too_many_digits()
            count(1 + item.bit_length() // 3)  # as limits.weight counts it
            return item
        count(1)
        if item is None or isinstance(item, (bool, float)):
            return item
        if isinstance(item, Undefined):
            item._fail_with_undefined_error()
        if isinstance(item, Mapping):
            return {key_of(key): convert(child) for key, child in item.items()}
        if isinstance(item, (list, tuple, set, frozenset, range, Iteration, Iterator)) or type(
            item
        ).__name__ in ("dict_keys", "dict_values", "dict_items"):
            return [convert(child) for child in item]
        if callable(item):
            name = getattr(item, "__name__", type(item).__name__)
            raise TypeError(f"{name!r} is a function; call it, e.g. {name}()")
        return item

    return convert(value)


def _render_string(source: str, context: Mapping[str, Any], where: str) -> Any:
    try:
        check_length(source)
        expression = native_expression(source)
        with timing.budgeted() as budget:
            if expression is not None:
                result = compiled_expression(expression)(dict(context))
                return _to_value(result)
            template = compiled_template(source)
            chunks: list[str] = []
            size = 0
            stream = cast(Generator[str, None, None], template.generate(dict(context)))
            try:
                for chunk in stream:
                    size += len(chunk)
                    if size > MAX_OUTPUT:
                        raise too_much_output()
                    if timing.CLOCK.get()() > budget.deadline:
                        raise timing.too_slow()
                    chunks.append(chunk)
            finally:
                stream.close()
            return "".join(chunks)
    except Exception as exc:
        raise translate(exc, context, source, where) from exc


def _child(where: str, key: object) -> str:
    if not where:
        return where
    if isinstance(key, int):
        return f"{where}[{key}]"
    if isinstance(key, str) and IDENTIFIER.match(key):
        return f"{where}.{key}"
    return f"{where}[{key!r}]"


def is_template(value: object) -> bool:
    """True for a string that contains Jinja markup (``{{``, ``{%`` or ``{#``)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def render(value: Any, context: Mapping[str, Any], *, where: str = "") -> Any:
    """Render every template in ``value``.

    A string that is exactly one ``{{ expr }}`` (whitespace around it allowed) gives the
    expression's value with its type (lists, mappings, numbers, null, booleans, strings);
    any other template string renders to a string; other strings are returned as they are.
    Mappings and lists are rendered item by item (keys are left alone) and, when ``where``
    is given, errors inside them name the item: ``<where>.args[0]``. Other values are
    returned as they are.

    The whole value is held to the size limit too, not only each template in it: a
    list of 300 templates that each give the same 1 MB string is 300 MB to write out.
    """
    if isinstance(value, str):
        return _render_string(value, context, where) if is_template(value) else value
    if isinstance(value, (Mapping, list, tuple)):
        return _render_tree(value, context, where, [0])
    return value


def _render_tree(value: Any, context: Mapping[str, Any], where: str, total: list[int]) -> Any:
    """``render`` below the top; ``total`` holds the weight of what is rendered so far."""
    if isinstance(value, Mapping):
        total[0] += 1 + sum(weight(key) for key in value)
        return {
            key: _render_tree(item, context, _child(where, key), total)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        total[0] += 1
        return [
            _render_tree(item, context, _child(where, index), total)
            for index, item in enumerate(value)
        ]
    rendered = _render_string(value, context, where) if is_template(value) else value
    total[0] += weight(rendered)
    if total[0] > MAX_ITEMS:
        raise TemplateSecurityError(str(too_many_items()), where=where)
    return rendered


def evaluate(expression: str, context: Mapping[str, Any], *, where: str = "") -> Any:
    """Evaluate a bare expression (no braces), as ``when``, ``retry.until`` and ``assert``
    are written, and return its value. A non-string (``when: true``) is its own value."""
    if not isinstance(expression, str):
        return expression
    try:
        check_length(expression)
        compiled = compiled_expression(expression)
        with timing.budgeted():
            return _to_value(compiled(dict(context)))
    except TemplateSyntaxError as exc:
        raise TemplateError(expression_syntax(exc, expression), where=where) from exc
    except Exception as exc:
        raise translate(exc, context, expression, where) from exc


def truthy(value: Any) -> bool:
    """Whether a value counts as true for ``when``, ``until`` and ``assert``: Python's rule
    on JSON values (false, null, 0, "", [] and {} are false; the string "false" is true)."""
    if isinstance(value, Undefined):
        return False
    return bool(value)
