"""What one value means to validation: the names a template or expression reads, and
whether a value is a usable duration. Both passes use these; neither renders anything."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

from playbook.durations import parse_duration
from playbook.templating import is_template
from playbook.templating.checks import parse


@dataclass(frozen=True)
class TemplateRefs:
    """What a template or expression reads: top-level names, ``name.attr`` pairs, calls."""

    names: frozenset[str] = frozenset()
    attributes: frozenset[tuple[str, str]] = frozenset()
    calls: frozenset[str] = frozenset()


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
    return TemplateRefs(frozenset(names), frozenset(attributes), frozenset(calls))


def duration_problem(value: Any) -> str | None:
    """The message for a value that is not a usable duration, or None."""
    if is_template(value):
        return None
    try:
        parse_duration(value)
    except ValueError as error:
        return str(error)
    return None
