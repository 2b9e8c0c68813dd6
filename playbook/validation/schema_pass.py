"""The schema pass: the walk over one file that checks each part against its piece of the
JSON Schema, and the collector of problems that both passes add to.

A step is checked by first picking its action key and then validating the step against
that action only, so the schema's ``oneOf`` over the actions never reaches the user; the
nested step lists of ``parallel`` and ``foreach`` are walked the same way. The wording of
each error is :mod:`playbook.validation.messages`'."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator

from playbook.errors import Problem
from playbook.schema import schema
from playbook.suggest import did_you_mean
from playbook.validation.messages import messages
from playbook.validation.shape import ACTIONS, COMMON_KEYS, DEFS, NESTING_ACTIONS, STEP_PROPERTIES
from playbook.validation.words import got
from playbook.yamlsource import Source, YamlPath, format_path


def _strip_steps(sub: dict[str, Any], key: str, minimum: int) -> dict[str, Any]:
    """A copy of an object schema whose nested step list is checked by the walker instead."""
    copy = dict(sub)
    copy["properties"] = {**sub["properties"], key: {"type": "array", "minItems": minimum}}
    return copy


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    """A validator for the top level ("root"), a step's common keys ("step"), or a $def."""
    root = schema()
    if name == "root":
        top = {k: v for k, v in root.items() if k not in ("$defs", "$id")}
        top = _strip_steps(_strip_steps(top, "steps", 1), "finally", 0)
    elif name == "step":
        top = {
            "type": "object",
            "properties": {key: STEP_PROPERTIES[key] for key in COMMON_KEYS},
        }
    elif name in ("action_parallel", "action_foreach"):
        top = _strip_steps(DEFS[name], "steps", 1)
    else:
        top = {"$ref": f"#/$defs/{name}"}
    return Draft202012Validator({**top, "$defs": DEFS})


class Checker:
    """Collects problems of one source, each positioned at its value (or key)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: dict[tuple[int, int, str, str], Problem] = {}
        self.paths: set[YamlPath] = set()  # where the schema pass found something

    def add(self, path: YamlPath, message: str, *, at_key: bool = False) -> None:
        position = self.source.key_positions.get(path) if at_key else None
        if position is None:
            position = self.source.positions.get(path) or self.source.locate(path)
        line, column = position
        dotted = format_path(path)
        self.problems.setdefault(
            (line, column, dotted, message),
            Problem(
                self.source.path, line, column, dotted, message, self.source.excerpt(line, column)
            ),
        )

    def schema_errors(self, name: str, value: Any, base: YamlPath) -> None:
        for error in _validator(name).iter_errors(value):
            for path, message, at_key in messages(error, base):
                self.paths.add(path)
                self.add(path, message, at_key=at_key)

    def check_schema(self, data: Any) -> None:
        self.schema_errors("root", data, ())
        for section in ("steps", "finally"):
            steps = data.get(section)
            if isinstance(steps, list):
                for index, step in enumerate(steps):
                    self.check_step(step, (section, index))

    def check_step(self, step: Any, path: YamlPath) -> None:
        if not isinstance(step, dict):
            self.paths.add(path)
            self.add(
                path,
                f"a step must be a mapping with one action key ({', '.join(ACTIONS)}), "
                f"not {got(step)}",
            )
            return
        allowed = [*COMMON_KEYS, *ACTIONS]
        typo_of_action = False
        for key in step:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                typo_of_action |= any(f"'{a}'" in hint for a in ACTIONS)
                self.paths.add((*path, key))
                self.add(
                    (*path, key),
                    f"unknown key {key!r}{hint or '; remove it, or use a step key or an action'}",
                    at_key=True,
                )
        actions = [key for key in step if key in ACTIONS]
        if not actions and not typo_of_action:
            self.add(path, f"this step has no action; give it exactly one of: {', '.join(ACTIONS)}")
        if len(actions) > 1:
            listed = " and ".join(repr(a) for a in actions)
            self.add(
                path,
                f"a step has exactly one action, this one has {listed}; split it into separate steps",
            )
        self.schema_errors("step", step, path)
        for action in actions:
            body = step[action]
            self.schema_errors(f"action_{action}", body, (*path, action))
            if action in NESTING_ACTIONS and isinstance(body, dict):
                inner = body.get("steps")
                if isinstance(inner, list):
                    for index, child in enumerate(inner):
                        self.check_step(child, (*path, action, "steps", index))
