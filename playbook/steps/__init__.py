"""Leaf actions, one small async function each, in one explicit registry.

Control flow that runs nested steps (``parallel``, ``foreach``, ``include``) belongs to the
runner; :data:`NESTED` names them so that a test can check registry + nested == the
schema's actions.
"""

from __future__ import annotations

from playbook.steps import control, workflow
from playbook.steps.base import Action

REGISTRY: dict[str, Action] = {
    "create": workflow.create,
    "start": workflow.start,
    "signal": workflow.signal,
    "signal_with_start": workflow.signal_with_start,
    "query": workflow.query,
    "update": workflow.update,
    "start_update": workflow.start_update,
    "await_update": workflow.await_update,
    "update_with_start": workflow.update_with_start,
    "await_result": workflow.await_result,
    "cancel": workflow.cancel,
    "terminate": workflow.terminate,
    "describe": workflow.describe,
    "assert": control.assert_,
    "sleep": control.sleep,
    "log": control.log,
    "set": control.set_,
    "confirm": control.confirm,
}

NESTED = ("parallel", "foreach", "include")
WORKFLOW_ACTIONS = frozenset(
    name for name, fn in REGISTRY.items() if fn.__module__ == workflow.__name__
)
UNRENDERED = frozenset({"assert"})
"""Actions whose fields are expressions, evaluated by the action itself."""
