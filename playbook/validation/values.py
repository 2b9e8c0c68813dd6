"""What one value means to validation: the names a template or expression reads (and the
filters and tests it applies), and whether a value is a usable duration. Both passes use
these; neither renders anything."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.meta import TrackingCodeGenerator

from playbook.durations import parse_duration
from playbook.templating import is_template
from playbook.templating.checks import parse
from playbook.templating.environment import ENV


@dataclass(frozen=True)
class TemplateRefs:
    """What a template or expression reads: top-level names, ``name.attr`` pairs, calls;
    the names it takes from the context (``free``: not its own ``{% set %}`` or loop
    targets), and the filters and tests it applies (by name, also those named in
    ``map('f')``, ``select('t')`` and the like)."""

    names: frozenset[str] = frozenset()
    attributes: frozenset[tuple[str, str]] = frozenset()
    calls: frozenset[str] = frozenset()
    free: frozenset[str] = frozenset()
    filters: frozenset[str] = frozenset()
    tests: frozenset[str] = frozenset()


def _any_filter(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


class _AnyName(dict[str, Any]):
    """Filters or tests by name, where every name is one: Jinja's compiler refuses an
    unknown filter outside ``{% if %}``, and the free names of a template with one are still
    worth knowing (the filter is reported on its own)."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, _any_filter)


_TRACKING = ENV.overlay()
_TRACKING.filters = _AnyName(ENV.filters)
_TRACKING.tests = _AnyName(ENV.tests)


def _free_names(tree: nodes.Template) -> frozenset[str]:
    """The names a template takes from the context (``jinja2.meta.find_undeclared_variables``,
    with any filter name accepted); none when it does not compile (check_* report why)."""
    tracker = TrackingCodeGenerator(_TRACKING)
    try:
        tracker.visit(tree)
    except (TemplateSyntaxError, RecursionError):
        return frozenset()
    return frozenset(tracker.undeclared_identifiers)


# Filters that take the name of another filter or test as a string: the argument's position.
_NAMED_FILTER = {"map": 0}
_NAMED_TEST = {"select": 0, "reject": 0, "selectattr": 1, "rejectattr": 1}


def _named(call: nodes.Filter, positions: dict[str, int]) -> str | None:
    """The filter or test named by a string argument of ``call`` (``select('odd')``)."""
    position = positions.get(call.name)
    if position is None or len(call.args) <= position:
        return None
    arg = call.args[position]
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None


def _filters_and_tests(tree: nodes.Template) -> tuple[set[str], set[str]]:
    filters: set[str] = set()
    tests = {t.name for t in tree.find_all(nodes.Test)}
    for call in tree.find_all(nodes.Filter):
        filters.add(call.name)
        named_filter, named_test = _named(call, _NAMED_FILTER), _named(call, _NAMED_TEST)
        if named_filter is not None:
            filters.add(named_filter)
        if named_test is not None:
            tests.add(named_test)
    return filters, tests


@functools.lru_cache(maxsize=4096)
def template_refs(value: str, *, expression: bool = False) -> TemplateRefs:
    """The names a template (or bare expression) reads; empty when it does not parse."""
    tree = parse(value, expression=expression)
    if tree is None:  # a template that does not parse reads nothing; check_* report it
        return TemplateRefs()
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    attributes: set[tuple[str, str]] = set()
    for attr in tree.find_all(nodes.Getattr):
        if isinstance(attr.node, nodes.Name):
            attributes.add((attr.node.name, attr.attr))
    for item in tree.find_all(nodes.Getitem):
        key = item.arg
        if isinstance(item.node, nodes.Name) and isinstance(key, nodes.Const):
            if isinstance(key.value, str):
                attributes.add((item.node.name, key.value))
    calls = {c.node.name for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Name)}
    filters, tests = _filters_and_tests(tree)
    return TemplateRefs(
        frozenset(names),
        frozenset(attributes),
        frozenset(calls),
        _free_names(tree),
        frozenset(filters),
        frozenset(tests),
    )


def duration_problem(value: Any) -> str | None:
    """The message for a value that is not a usable duration, or None."""
    if is_template(value):
        return None
    try:
        parse_duration(value)
    except ValueError as error:
        return str(error)
    return None
