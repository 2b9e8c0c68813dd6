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
    "LOCAL",
    "NESTED",
    "REGISTRY",
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

# Each further family of server actions adds its names here and its entries to REGISTRY.
TEMPORAL_ACTIONS = WORKFLOW_ACTIONS
"""Actions that talk to Temporal (a playbook without any never connects)."""


def lazy(module_name: str, name: str) -> Action:
    """The action *name* of ``playbook.actions.<module_name>``, imported at its first call."""

    async def action(call: Call) -> Any:
        module = importlib.import_module(f"playbook.actions.{module_name}")
        return await getattr(module, name)(call)

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
    **LOCAL,
}

NESTED = ("parallel", "foreach", "include")
UNRENDERED = frozenset({"assert"})
"""Actions whose fields are expressions, evaluated by the action itself."""
