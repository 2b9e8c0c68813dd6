"""The guarded call: every temporalio call of the client core's operations goes through
:func:`call`.

``call`` runs the call, turns what temporalio raised into ours through
:mod:`playbook.core.errors`, and asks the server what a bare failure does not say: whether
any worker polls the task queue of a workflow that timed out, and whether a failed update
was ever accepted (if not, its validator rejected it). Our own bugs pass through
untranslated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import temporalio.api.enums.v1 as enums
import temporalio.api.taskqueue.v1
import temporalio.api.workflowservice.v1

from playbook.core.connection import ConnectSettings
from playbook.core.errors import (
    no_worker_polling,
    translatable,
    translate,
    update_rejected,
)
from playbook.errors import ConnectionFailed, OperationTimeout, TemporalError, UpdateFailed

if TYPE_CHECKING:
    from playbook.core.stub import WorkflowStub

T = TypeVar("T")

# Operations that wait for a worker to act: when one times out, ask whether anyone polls.
_NEEDS_WORKER = frozenset(
    {"await_result", "await_update", "query", "update", "start_update", "update_with_start"}
)


async def bounded(awaitable: Awaitable[T], timeout: float | None) -> T:
    """``awaitable``, given at most ``timeout`` seconds (``None``: no bound)."""
    if timeout is None:
        return await awaitable
    return await asyncio.wait_for(awaitable, timeout)


async def call(
    make: Callable[[], Awaitable[T]],
    stub: WorkflowStub,
    operation: str,
    name: str | None = None,
    *,
    timeout: float | None = None,
    update_id: str | None = None,
) -> T:
    """Await ``make()``, an ``operation`` on ``stub``; a failure is raised as one of ours.

    ``timeout`` is the bound the call was given (to word its timeout), ``update_id`` the
    update it sent (to tell a rejection from a failure)."""
    try:
        return await make()
    except Exception as e:
        if not translatable(e):
            raise
        error = translate(
            e,
            operation=operation,
            workflow_id=stub.workflow_id,
            run_id=stub.run_id,
            name=name,
            timeout=timeout,
            task_queue=stub.task_queue,
            settings=_settings(stub),
        )
        error = await _explained(error, stub, name, update_id)
        # our own bound has no temporalio exception to chain
        raise error from (None if isinstance(e, asyncio.TimeoutError) else e)


def _settings(stub: WorkflowStub) -> ConnectSettings:
    """Where the stub's client connects, as far as a message needs it."""
    return ConnectSettings(
        address=stub.client.service_client.config.target_host, namespace=stub.client.namespace
    )


async def _explained(
    error: TemporalError | ConnectionFailed,
    stub: WorkflowStub,
    name: str | None,
    update_id: str | None,
) -> TemporalError | ConnectionFailed:
    """``error``, with what the server can tell about it."""
    if isinstance(error, OperationTimeout) and error.operation in _NEEDS_WORKER:
        try:
            task_queue, pollers = await asyncio.wait_for(_pollers(stub), 5.0)
        except Exception:  # cannot tell (the server is down, say): the message stays as it is
            return error
        return error if pollers else no_worker_polling(error, task_queue)
    if isinstance(error, UpdateFailed) and update_id and not await _was_accepted(stub, update_id):
        return update_rejected(error, name)
    return error


async def _pollers(stub: WorkflowStub) -> tuple[str, int]:
    """The workflow's task queue and how many workers poll it for workflow tasks.

    A workflow whose task queue nobody polls never makes progress, so its result, queries
    and updates time out: the most common cause of a timeout, and the server knows it."""
    task_queue = stub.task_queue
    if not task_queue:
        handle = stub.client.get_workflow_handle(stub.workflow_id, run_id=stub.run_id)
        task_queue = (await handle.describe(rpc_timeout=timedelta(seconds=2))).task_queue
    response = await stub.client.workflow_service.describe_task_queue(
        temporalio.api.workflowservice.v1.DescribeTaskQueueRequest(
            namespace=stub.client.namespace,
            task_queue=temporalio.api.taskqueue.v1.TaskQueue(
                name=task_queue, kind=enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            task_queue_type=enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=timedelta(seconds=2),
    )
    return task_queue, len(response.pollers)


async def _was_accepted(stub: WorkflowStub, update_id: str) -> bool:
    """Whether the workflow's history holds the update's acceptance: a failed update that was
    never accepted was rejected by its validator (or had no handler)."""
    try:
        handle = stub.client.get_workflow_handle(stub.workflow_id)
        async for event in handle.fetch_history_events():
            if event.event_type == enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                attrs = event.workflow_execution_update_accepted_event_attributes
                if attrs.accepted_request.meta.update_id == update_id:
                    return True
    except Exception:
        return True  # cannot tell: report it as a failure of the update, not a rejection
    return False
