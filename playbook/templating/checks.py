"""Load-time checks of templates and expressions: syntax, and the names they use.

Nothing here renders: validation calls the syntax checks so that a broken template is
reported with the playbook's other problems, before anything runs.
"""

from __future__ import annotations

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.meta import find_undeclared_variables
from jinja2.parser import Parser

from playbook.templating.environment import (
    ENV,
    compiled_expression,
    compiled_template,
    long_numbers_refused,
    native_expression,
)
from playbook.templating.limits import MAX_TEMPLATE_LENGTH
from playbook.templating.messages import expression_syntax, syntax_message


def check_template(value: str) -> str | None:
    """Syntax check of a template string: None if it compiles, else a message."""
    if len(value) > MAX_TEMPLATE_LENGTH:
        return f"template is longer than {MAX_TEMPLATE_LENGTH} characters"
    try:
        expression = native_expression(value)
        if expression is not None:
            compiled_expression(expression)
        else:
            compiled_template(value)
    except TemplateSyntaxError as exc:
        return syntax_message(exc, value, "template")
    except RecursionError:
        return "template is nested too deeply"
    return None


def check_expression(expression: str) -> str | None:
    """Syntax check of a bare expression: None if it compiles, else a message."""
    if len(expression) > MAX_TEMPLATE_LENGTH:
        return f"expression is longer than {MAX_TEMPLATE_LENGTH} characters"
    try:
        compiled_expression(expression)
    except TemplateSyntaxError as exc:
        return expression_syntax(exc, expression)
    except RecursionError:
        return "expression is nested too deeply"
    return None


def parse(value: str, *, expression: bool = False) -> nodes.Template | None:
    """The syntax tree of a template (or a bare expression), or None when it does not
    parse or is too long (``check_template`` says why)."""
    if len(value) > MAX_TEMPLATE_LENGTH:
        return None
    try:
        with long_numbers_refused():
            if not expression:
                return ENV.parse(value)
            parser = Parser(ENV, value, state="variable")
            body = parser.parse_expression()
            if not parser.stream.eos:
                return None
            tree = nodes.Template([nodes.Output([body])])
            tree.set_environment(ENV)
            return tree
    except (TemplateSyntaxError, RecursionError):
        return None


def referenced_names(value: str, *, expression: bool = False) -> set[str]:
    """The top-level names a template (or, with ``expression=True``, a bare expression)
    takes from the context, e.g. ``{"steps", "vars"}``. Globals (``uuid``, ``now``,
    ``range``...) are not included. A template that does not parse gives an empty set
    (``check_template`` reports it)."""
    tree = parse(value, expression=expression)
    if tree is None:
        return set()
    return set(find_undeclared_variables(tree)) - set(ENV.globals)
