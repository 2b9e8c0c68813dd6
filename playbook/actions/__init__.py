"""Leaf actions, one small async function each, in one explicit registry.

An action receives a :class:`~playbook.actions.base.Call` (its rendered fields and the
run's services) and returns its value, or a :class:`~playbook.actions.base.Done` that
also names the execution it touched; the runner alone writes records. Control flow that
runs nested steps (``parallel``, ``foreach``, ``include``) belongs to the runner;
:data:`NESTED` names it, so that a test can check registry + nested == the schema's
actions.

The workflow actions are imported on first use: they bring in temporalio, which a
playbook of ``log``/``set``/``assert`` steps never needs (half a second of start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

from playbook.actions import control
from playbook.actions.base import Action, Call, Done

__all__ = [
    "DESTRUCTIVE",
    "LOCAL",
    "NESTED",
    "OPS_ACTIONS",
    "READ_ONLY",
    "REGISTRY",
    "SCHEDULE_ACTIONS",
    "SERVER_ACTIONS",
    "TEMPORAL_ACTIONS",
    "UNRENDERED",
    "WORKFLOW_ACTIONS",
    "Action",
    "Call",
    "Done",
    "lazy",
]

WORKFLOW_ACTIONS = frozenset(
    {
        "create",
        "start",
        "signal",
        "signal_with_start",
        "query",
        "update",
        "start_update",
        "await_update",
        "update_with_start",
        "await_result",
        "cancel",
        "terminate",
        "describe",
    }
)
"""The client-core actions on one workflow (``playbook.actions.workflow``)."""

OPS_ACTIONS = frozenset({"batch", "reset"})
"""Batch operations and reset (``playbook.actions.ops``, SPEC section 12)."""

SCHEDULE_ACTIONS = frozenset(
    {
        "create_schedule",
        "describe_schedule",
        "update_schedule",
        "pause_schedule",
        "unpause_schedule",
        "trigger_schedule",
        "backfill_schedule",
        "delete_schedule",
        "list_schedules",
    }
)
"""The schedule actions (``playbook.actions.schedules``, SPEC section 12)."""

SERVER_ACTIONS = {
    "list": "list_",
    "count": "count",
    "history": "history",
    "task_queue": "task_queue",
}
"""What the server knows (``playbook.actions.server``, SPEC section 10): action -> function."""

# Each further family of server actions adds its names here and its entries to REGISTRY.
TEMPORAL_ACTIONS = WORKFLOW_ACTIONS | OPS_ACTIONS | SCHEDULE_ACTIONS | frozenset(SERVER_ACTIONS)
"""Actions that talk to Temporal (a playbook without any never connects)."""

READ_ONLY = frozenset(
    {
        "describe",
        "query",
        "list",
        "count",
        "history",
        "task_queue",
        "describe_schedule",
        "list_schedules",
        "create",  # makes a stub: no server call
        "assert",
        "sleep",
        "log",
        "set",
        "confirm",
        "parallel",
        "foreach",
        "include",
    }
)
"""What ``run --dry-run`` runs (SPEC section 12): the actions that change nothing on the
server, and the control steps; every other action is reported as ``would_run``."""

DESTRUCTIVE = frozenset(
    {"reset", "batch", "terminate", "cancel", "delete_schedule", "update_schedule"}
)
"""What ``plan`` marks: actions that end, rewind or remove what a server holds."""


def lazy(module_name: str, name: str) -> Action:
    """The action *name* of ``playbook.actions.<module_name>``, imported at its first call."""

    found: list[Action] = []  # (resolved at the first call; a fan-out calls it thousands of times)

    async def action(call: Call) -> Any:
        if not found:
            module = importlib.import_module(f"playbook.actions.{module_name}")
            found.append(getattr(module, name))
        return await found[0](call)

    action.__name__ = action.__qualname__ = name
    return action


LOCAL: dict[str, Action] = {
    "assert": control.assert_,
    "sleep": control.sleep,
    "log": control.log,
    "set": control.set_,
    "confirm": control.confirm,
}

REGISTRY: dict[str, Action] = {
    **{name: lazy("workflow", name) for name in sorted(WORKFLOW_ACTIONS)},
    **{name: lazy("ops", name) for name in sorted(OPS_ACTIONS)},
    **{name: lazy("schedules", name) for name in sorted(SCHEDULE_ACTIONS)},
    **{name: lazy("server", function) for name, function in SERVER_ACTIONS.items()},
    **LOCAL,
}

NESTED = ("parallel", "foreach", "include")
UNRENDERED = frozenset({"assert"})
"""Actions whose fields are expressions, evaluated by the action itself."""
