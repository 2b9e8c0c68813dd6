"""The shape of a step, as the JSON Schema gives it: the action names, the keys every step
may have, which actions target, start or nest workflows; finding a step's action and
walking the steps nested in ``parallel`` and ``foreach``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from playbook.schema import schema
from playbook.yamlsource import YamlPath

DEFS: dict[str, Any] = schema()["$defs"]
STEP_PROPERTIES: dict[str, Any] = DEFS["step"]["properties"]
ACTIONS: tuple[str, ...] = tuple(
    key for key, sub in STEP_PROPERTIES.items() if sub.get("$ref", "").startswith("#/$defs/action_")
)
COMMON_KEYS: tuple[str, ...] = tuple(key for key in STEP_PROPERTIES if key not in ACTIONS)
# Actions that act on a workflow named by their ``workflow`` field (a create step's id).
TARGETING_ACTIONS: tuple[str, ...] = tuple(
    a for a in ACTIONS if a != "create" and "workflow" in DEFS[f"action_{a}"].get("properties", {})
)
STARTING_ACTIONS = ("start", "signal_with_start", "update_with_start")
NESTING_ACTIONS = ("parallel", "foreach")
CONTEXT_NAMES = ("inputs", "vars", "env", "steps", "run")


def action_of(step: Any) -> str | None:
    """The step's one action key, or None when it has none or several."""
    if not isinstance(step, Mapping):
        return None
    found = [key for key in step if key in ACTIONS]
    return found[0] if len(found) == 1 else None


def walk_steps(steps: Any, path: YamlPath) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """Every step (mapping) in a list, and the steps nested in parallel and foreach."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = (*path, index)
        yield here, step
        action = action_of(step)
        if action in NESTING_ACTIONS and isinstance(step[action], dict):
            yield from walk_steps(step[action].get("steps"), (*here, action, "steps"))


def all_steps(data: Mapping[str, Any]) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """Every step of a playbook, ``steps`` first, then ``finally``."""
    yield from walk_steps(data.get("steps"), ("steps",))
    yield from walk_steps(data.get("finally"), ("finally",))


def is_existing_execution(body: Any) -> bool:
    """A ``create`` of an existing execution: only workflow_id (and run_id)."""
    return (
        isinstance(body, dict) and "workflow_id" in body and set(body) <= {"workflow_id", "run_id"}
    )
