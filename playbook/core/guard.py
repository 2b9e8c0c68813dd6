"""The guarded call: every temporalio call of the client core's operations goes through
:func:`call`.

``call`` runs the call; while a call that waits on the workflow (:data:`WAITING`) takes
longer than a second, it watches the workflow for a current workflow task failure
(:class:`~playbook.core.task_failures.Watch`) and raises that instead of waiting out a
timeout. It turns what temporalio raised into ours through :mod:`playbook.core.errors`,
and asks the server what a bare failure does not say: whether the workflow's task fails,
whether a worker polled the task queue of a workflow that timed out recently, and whether a
failed update was ever accepted (if not, its validator rejected it). Our own bugs pass
through untranslated; a cancellation (a step's timeout, Ctrl-C) goes on as one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar

import temporalio.api.enums.v1 as enums
import temporalio.client

from playbook import deadline
from playbook.core.connection import ConnectSettings
from playbook.core.errors import WAITING, translatable, translate, update_rejected
from playbook.core.pollers import QueueView, no_worker_polling, read_queue
from playbook.core.task_failures import TaskFailure, Watch, current_failure, workflow_task_failed
from playbook.errors import (
    ConnectionFailed,
    OperationTimeout,
    TemporalError,
    UpdateFailed,
    WorkflowTaskFailed,
)

if TYPE_CHECKING:
    from playbook.core.stub import WorkflowStub

T = TypeVar("T")

_ASKING = 3.0  # seconds the server is given to say what it knows after a failure


async def bounded(awaitable: Awaitable[T], timeout: float | None) -> T:
    """``awaitable``, given at most ``timeout`` seconds (``None``: no bound). On 3.11 in
    this task (``asyncio.timeout``): ``wait_for`` made a task of its own per call, CPU
    that a fan-out of thousands of awaited results pays for each one."""
    if timeout is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout):
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
    update it sent (to tell a rejection from a failure). Inside :func:`playbook.deadline.within`, the call
    ends by its deadline."""
    left = deadline.remaining()
    guarded = _guarded(make, stub, operation, name, timeout, update_id)
    # (no deadline, the common case: no coroutine in between, a fan-out's every call)
    return await (guarded if left is None else bounded(guarded, left))


async def _guarded(
    make: Callable[[], Awaitable[T]],
    stub: WorkflowStub,
    operation: str,
    name: str | None,
    timeout: float | None,
    update_id: str | None,
) -> T:
    watch = Watch(stub) if operation in WAITING else None
    try:
        value = await make()
    except asyncio.CancelledError:
        if watch is not None and watch.claimed():
            raise watch.error(operation, name) from watch.cause()
        raise
    except Exception as e:
        if watch is not None:
            watch.done()  # explaining the error below must not be cancelled by it
            if watch.claimed():
                raise watch.error(operation, name) from watch.cause()
        if _cancelled_as(e):
            raise asyncio.CancelledError() from e
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
        error = await _explained(error, stub, name, update_id, not_ready=_not_ready(e))
        if isinstance(error, WorkflowTaskFailed):  # chained to the worker's failure
            raise error from error.__cause__
        # our own bound has no temporalio exception to chain
        raise error from (None if isinstance(e, asyncio.TimeoutError) else e)
    finally:
        if watch is not None:
            watch.stop()
    if watch is not None:
        watch.claimed()  # it cancelled a call that answered anyway: take the cancellation back
    return value


def _failed(error: WorkflowTaskFailed, failure: TaskFailure) -> WorkflowTaskFailed:
    error.__cause__ = failure.exception
    return error


def _cancelled_as(error: Exception) -> bool:
    """temporalio turns a cancellation of an update's wait into an error of its own: a
    cancellation of ours (a step's timeout, Ctrl-C) must go on as one."""
    if not isinstance(error, temporalio.client.RPCTimeoutOrCancelledError):
        return False
    task = asyncio.current_task()
    return sys.version_info >= (3, 11) and task is not None and task.cancelling() > 0


def _settings(stub: WorkflowStub) -> ConnectSettings:
    """Where the stub's client connects, as far as a message needs it."""
    return ConnectSettings(
        address=stub.client.service_client.config.target_host, namespace=stub.client.namespace
    )


def _not_ready(error: Exception) -> bool:
    """The server's refusal of a query or an update on a workflow whose workflow task keeps
    failing (it answers so once the task has failed more than once)."""
    return (
        isinstance(error, temporalio.service.RPCError)
        and error.status == temporalio.service.RPCStatusCode.FAILED_PRECONDITION
        and "Workflow Task in failed state" in error.message
    )


async def _explained(
    error: TemporalError | ConnectionFailed,
    stub: WorkflowStub,
    name: str | None,
    update_id: str | None,
    *,
    not_ready: bool = False,
) -> TemporalError | ConnectionFailed:
    """``error``, with what the server can tell about it."""
    waited = isinstance(error, OperationTimeout) or not_ready
    if waited and isinstance(error, TemporalError) and error.operation in WAITING:
        failure, view = await explain(stub)
        if failure is not None:
            return _failed(
                workflow_task_failed(
                    failure,
                    operation=error.operation,
                    workflow_id=stub.workflow_id,
                    run_id=stub.run_id,
                    name=name,
                ),
                failure,
            )
        now = datetime.now(timezone.utc)
        if not isinstance(error, OperationTimeout) or view is None or view.recent(now):
            return error
        return no_worker_polling(error, view, now)
    if isinstance(error, UpdateFailed) and update_id and not await _was_accepted(stub, update_id):
        return update_rejected(error, name)
    return error


async def explain(stub: WorkflowStub) -> tuple[TaskFailure | None, QueueView | None]:
    """Why a call on ``stub``'s workflow may have got no answer, as far as the server tells
    within :data:`_ASKING` seconds: its current workflow task failure, else its task queue's
    pollers (``None`` for what it did not tell: it is down, say)."""
    try:
        return await asyncio.wait_for(_ask(stub), _ASKING)
    except Exception:
        return None, None


async def _ask(stub: WorkflowStub) -> tuple[TaskFailure | None, QueueView | None]:
    try:
        failure = await current_failure(stub)
    except Exception:  # an older server without reverse history, say: the pollers still tell
        failure = None
    return (failure, None) if failure is not None else (None, await read_queue(stub))


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
