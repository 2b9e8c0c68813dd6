"""Reset of one workflow (SPEC section 12): to its first or last workflow task, found from
the history of its current run, or to an event id; the stub then follows the new run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import temporalio.api.common.v1 as common
import temporalio.api.enums.v1 as enums
import temporalio.api.workflowservice.v1 as service

from playbook.core.guard import call
from playbook.core.stub import WorkflowStub
from playbook.errors import TemporalError

RESET_TO = ("first_workflow_task", "last_workflow_task")
_COMPLETED = enums.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


def check_to(to: Any) -> str | None:
    """The problem with a reset's ``to``, or None."""
    if to in RESET_TO:
        return None
    if isinstance(to, Mapping) and set(to) == {"event_id"}:
        event_id = to["event_id"]
        if isinstance(event_id, int) and not isinstance(event_id, bool) and event_id > 0:
            return None
    return f"to: must be first_workflow_task, last_workflow_task or {{event_id: N}}, not {to!r}"


async def _task_event(stub: WorkflowStub, run_id: str, to: str) -> int:
    """The event id of the run's first or last completed workflow task."""
    handle = stub.client.get_workflow_handle(stub.workflow_id, run_id=run_id)
    found: list[int] = []
    async for event in handle.fetch_history_events():
        if event.event_type == _COMPLETED:
            found.append(event.event_id)
            if to == "first_workflow_task":
                break
    if not found:
        raise TemporalError(
            f"reset failed: workflow '{stub.workflow_id}' (run {run_id}) has no completed "
            "workflow task to reset to; has a worker run it yet?",
            operation="reset",
            workflow_id=stub.workflow_id,
            run_id=run_id,
            error_type="NothingToReset",
        )
    return found[0] if to == "first_workflow_task" else found[-1]


def reset_request(
    namespace: str,
    workflow_id: str,
    run_id: str,
    event_id: int,
    reason: str,
    reapply_signals: bool = True,
) -> service.ResetWorkflowExecutionRequest:
    """The server's reset request (the signals received after ``event_id`` are sent
    again to the new run with ``reapply_signals``)."""
    reapply = enums.ResetReapplyType
    return service.ResetWorkflowExecutionRequest(
        namespace=namespace,
        workflow_execution=common.WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        reason=reason,
        workflow_task_finish_event_id=event_id,
        request_id=str(uuid.uuid4()),
        reset_reapply_type=(
            reapply.RESET_REAPPLY_TYPE_SIGNAL
            if reapply_signals
            else reapply.RESET_REAPPLY_TYPE_NONE
        ),
        identity="temporal-playbook",
    )


async def reset(stub: WorkflowStub, to: Any, reason: str, *, reapply_signals: bool = True) -> str:
    """Reset the stub's workflow (its current run); the new run's id, which the stub then
    targets."""

    async def go() -> str:
        run_id = (await stub.handle().describe()).run_id
        event_id = (
            to["event_id"] if isinstance(to, Mapping) else await _task_event(stub, run_id, to)
        )
        request = reset_request(
            stub.client.namespace, stub.workflow_id, run_id, event_id, reason, reapply_signals
        )
        response = await stub.client.workflow_service.reset_workflow_execution(request)
        return str(response.run_id)

    new_run = await call(go, stub, "reset")
    follow(stub, new_run)
    return new_run


def follow(stub: WorkflowStub, run_id: str) -> None:
    """Later calls on the stub reach the new run: a started stub follows its chain from its
    first run (a reset run keeps it); a stub of an existing execution named a run, now this
    one."""
    stub.latest_run_id = stub.reset_run_id = run_id
    if not stub.started:
        stub.run_id = run_id
