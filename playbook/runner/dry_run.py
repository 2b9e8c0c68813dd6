"""``playbook run --dry-run`` (SPEC section 12): the read-only actions and the control steps
run (:data:`playbook.actions.READ_ONLY`); every other step is held: its fields are rendered
and recorded as its request, and its status is ``would_run``, without calling its action.

A read-only step on a workflow that the dry run never started (its ``start`` was held) is
held too: there is nothing on the server to read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playbook.actions import READ_ONLY, UNRENDERED
from playbook.errors import PlaybookError
from playbook.expect import Outcome

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.records import StepRecord
    from playbook.runner.env import Scope, StepEnv

WOULD_RUN = "would_run"
"""The status of a held step (JSON report, ``steps.<id>.status``); the console says ``DRY``."""


def held(step: Step, scope: Scope) -> str | None:
    """Why the dry run holds ``step`` (its record's reason), or None: it runs."""
    if step.kind not in READ_ONLY:
        return "would run"
    stub = scope.stubs.get(step.target) if step.target is not None else None
    if stub is not None and getattr(stub, "is_new", False) and not stub.started:
        return "would run: its workflow is not started in a dry run"
    return None


def hold(record: StepRecord, env: StepEnv, step: Step, reason: str) -> Outcome | None:
    """Record and report the held step with its rendered request; an Outcome instead when
    rendering failed (the runner then finishes the step as failed, as it would have)."""
    try:
        spec = step.fields if step.kind in UNRENDERED else env.render(step.fields, step.kind)
    except PlaybookError as e:
        return Outcome(step.kind, error=e)
    shared = env.runner.shared
    record.request = shared.masker.data({step.kind: spec})
    record.status, record.reason = WOULD_RUN, reason
    if record.id:
        env.scope.records[record.id] = record.view()
    shared.reporter.step_finished(record)
    return None
