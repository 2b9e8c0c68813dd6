"""What both passes of validation share: the schema's action names and the step keys,
template references, durations."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, nodes
from jinja2.parser import Parser

from playbook.durations import parse_duration
from playbook.schema import schema
from playbook.templating import is_template

_DEFS: dict[str, Any] = schema()["$defs"]
_STEP_PROPERTIES: dict[str, Any] = _DEFS["step"]["properties"]
ACTIONS: tuple[str, ...] = tuple(
    key
    for key, sub in _STEP_PROPERTIES.items()
    if sub.get("$ref", "").startswith("#/$defs/action_")
)
COMMON_KEYS: tuple[str, ...] = tuple(key for key in _STEP_PROPERTIES if key not in ACTIONS)
WORKFLOW_ACTIONS: tuple[str, ...] = tuple(
    a for a in ACTIONS if a != "create" and "workflow" in _DEFS[f"action_{a}"].get("properties", {})
)
STARTING_ACTIONS = ("start", "signal_with_start", "update_with_start")
NESTING_ACTIONS = ("parallel", "foreach")
CONTEXT_NAMES = ("inputs", "vars", "env", "steps", "run")
_CLOSING_STATUSES = ("completed", "failed", "canceled", "terminated", "timed_out")
_STEP_STATUSES = ("succeeded", "failed")
# Values of these keys are names or paths, never rendered.
_NOT_TEMPLATED = {"id", "workflow", "as", "playbook", "tags", "expect"}


def action_of(step: Any) -> str | None:
    """The step's one action key, or None when it has none or several."""
    if not isinstance(step, Mapping):
        return None
    found = [key for key in step if key in ACTIONS]
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateRefs:
    """What a template or expression reads: top-level names, ``name.attr`` pairs, calls."""

    names: frozenset[str] = frozenset()
    attributes: frozenset[tuple[str, str]] = frozenset()
    calls: frozenset[str] = frozenset()


_PARSER_ENV = Environment()  # syntax only; rendering happens in playbook.templating


@functools.lru_cache(maxsize=4096)
def template_refs(value: str, *, expression: bool = False) -> TemplateRefs:
    """The names a template (or bare expression) reads; empty when it does not parse."""
    try:
        if expression:
            parser = Parser(_PARSER_ENV, value, state="variable")
            body = parser.parse_expression()
            if not parser.stream.eos:
                return TemplateRefs()
            tree: nodes.Node = nodes.Template([nodes.Output([body])])
        else:
            tree = _PARSER_ENV.parse(value)
    except Exception:  # a template that does not parse reads nothing; check_* report it
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


