"""Leaf actions, one small async function each, in one explicit registry.

Control flow that runs nested steps (``parallel``, ``foreach``, ``include``) belongs to the
runner; :data:`NESTED` names them so that a test can check registry + nested == the
schema's actions.

The workflow actions are imported on first use: they bring in temporalio, which a
playbook of ``log``/``set``/``assert`` steps never needs (half a second of start-up).
"""

from __future__ import annotations

import importlib
from typing import Any

from playbook.steps import control
from playbook.steps.base import Action, Call

WORKFLOW_ACTIONS = frozenset({
    "create", "start", "signal", "signal_with_start", "query", "update", "start_update",
    "await_update", "update_with_start", "await_result", "cancel", "terminate", "describe",
})


def _workflow_action(name: str) -> Action:
    async def action(call: Call) -> Any:
        module = importlib.import_module("playbook.steps.workflow")
        return await getattr(module, name)(call)

    action.__name__ = action.__qualname__ = name
    return action


REGISTRY: dict[str, Action] = {
    **{name: _workflow_action(name) for name in sorted(WORKFLOW_ACTIONS)},
    "assert": control.assert_,
    "sleep": control.sleep,
    "log": control.log,
    "set": control.set_,
    "confirm": control.confirm,
}

NESTED = ("parallel", "foreach", "include")
UNRENDERED = frozenset({"assert"})
"""Actions whose fields are expressions, evaluated by the action itself."""
