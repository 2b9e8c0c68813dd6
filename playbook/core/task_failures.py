"""Workflow task failures: what fails a workflow's *task* rather than the call that waits on it.

A workflow type that no worker registers, a start with the wrong number of arguments, a
non-determinism error or an exception in workflow code: the worker fails the workflow task,
the server records ``WorkflowTaskFailed`` with the worker's message and retries the task,
and the workflow waits. A result, query or update on it gets no answer until a timeout.

- :func:`current_failure` reads whether a workflow's failure is still *current*: its last
  workflow task failed and no later one completed (one that a new worker has since run
  without error does not count);
- :class:`Watch` looks for one while a call waits (from :data:`GRACE` on, so a call that
  answers sooner costs one timer) and, when it finds one, cancels the waiting task;
- :func:`workflow_task_failed` words it: the worker's message, the failure's cause, advice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import temporalio.api.common.v1
import temporalio.api.enums.v1 as enums
import temporalio.api.history.v1
import temporalio.api.workflowservice.v1

from playbook.errors import WorkflowTaskFailed

if TYPE_CHECKING:
    from playbook.core.stub import WorkflowStub

GRACE = 3.0
"""Seconds a call may take before its workflow is watched: the happy path is not. In a
fan-out on a busy server many results take 2 to 4 s, and each look is a server call that
costs the client as much CPU as a third of an execution (docs/performance.md); a failure
that was there from the start still surfaces within 3 s and a look."""
INTERVALS = (2.5,)
"""Seconds between looks, the last repeated: a failure surfaces within 2.5 s and a look
(well within SPEC's 5 s), and a call that waits long costs a read every 2.5 s. (The
second look came after 2 s before: on a busy server, where results of a fan-out gather
at 4 to 5.5 s, a quarter of its looks.)"""
_RPC_TIMEOUT = timedelta(seconds=2)
_PAGE, _PAGES = 50, 4
_MISSES = 3  # consecutive looks the server refuses before the watch gives up

_Cause = enums.WorkflowTaskFailedCause
# Failures that are part of normal work (new events arrived, a sticky cache was reset, a
# reset or a pause): the worker was not at fault, so none of them is "current".
_ROUTINE = frozenset(
    {
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_FAILOVER_CLOSE_COMMAND,
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE,
        _Cause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_PAUSE_REQUESTED_BEFORE_TASK_STARTED,
    }
)
_Event = enums.EventType
_FAILED = _Event.EVENT_TYPE_WORKFLOW_TASK_FAILED
_COMPLETED = _Event.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


@dataclass(frozen=True)
class TaskFailure:
    """A current workflow task failure, as the server recorded it."""

    cause: str
    """Temporal's name of the cause: ``WorkflowWorkerUnhandledFailure``..."""
    failure_type: str
    """The failure's type as the worker gave it (``NotFoundError``, ``TypeError``), or ''."""
    message: str
    worker: str = ""
    exception: BaseException | None = None
    """The failure as temporalio's exception, to chain as the error's cause."""


def cause_name(cause: enums.WorkflowTaskFailedCause.ValueType) -> str:
    """``WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR`` -> ``NonDeterministicError``."""
    name = _Cause.Name(cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
    return "".join(part.title() for part in name.split("_"))


def last_failure(
    events: list[temporalio.api.history.v1.HistoryEvent],
) -> tuple[bool, temporalio.api.history.v1.HistoryEvent | None]:
    """In ``events`` (newest first): whether they tell, and the current failure's event
    (``None``: a later task completed, or the last failure was routine)."""
    for event in events:
        if event.event_type == _COMPLETED:
            return True, None
        if event.event_type == _FAILED:
            routine = event.workflow_task_failed_event_attributes.cause in _ROUTINE
            return True, None if routine else event
    return False, None


async def current_failure(stub: WorkflowStub) -> TaskFailure | None:
    """The current workflow task failure of the workflow's latest run (of the run a stub of
    an existing execution names), if it has one."""
    client = stub.client
    request = temporalio.api.workflowservice.v1.GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace,
        execution=temporalio.api.common.v1.WorkflowExecution(
            workflow_id=stub.workflow_id, run_id="" if stub.started else stub.run_id or ""
        ),
        maximum_page_size=_PAGE,
    )
    for _ in range(_PAGES):
        response = await client.workflow_service.get_workflow_execution_history_reverse(
            request, timeout=_RPC_TIMEOUT
        )
        told, event = last_failure(list(response.history.events))
        if told:
            return None if event is None else await _facts(stub, event)
        if not response.next_page_token:
            return None
        request.next_page_token = response.next_page_token
    return None


async def _facts(stub: WorkflowStub, event: temporalio.api.history.v1.HistoryEvent) -> TaskFailure:
    attributes = event.workflow_task_failed_event_attributes
    failure = attributes.failure
    exception: BaseException | None = None
    with contextlib.suppress(Exception):  # a codec that cannot decode it: the words suffice
        exception = await stub.client.data_converter.decode_failure(failure)
    return TaskFailure(
        cause=cause_name(attributes.cause),
        failure_type=failure.application_failure_info.type,
        message=failure.message,
        worker=attributes.identity,
        exception=exception,
    )


def workflow_task_failed(
    failure: TaskFailure,
    *,
    operation: str,
    workflow_id: str,
    run_id: str | None,
    name: str | None = None,
) -> WorkflowTaskFailed:
    """The error of a call that waited on a workflow whose task fails on the worker."""
    what = f"{operation} '{name}'" if name else operation
    return WorkflowTaskFailed(
        f"{what} on workflow '{workflow_id}' cannot finish: {failure_words(failure)}",
        operation=operation,
        workflow_id=workflow_id,
        run_id=run_id,
        details={
            "cause": failure.cause,
            "failure_type": failure.failure_type or None,
            "message": failure.message,
            "worker": failure.worker or None,
        },
    )


def failure_words(failure: TaskFailure) -> str:
    """The worker's words, the cause, and what to do."""
    said = f"{failure.failure_type}: {failure.message}" if failure.failure_type else failure.message
    return f"its workflow task fails on the worker ({failure.cause}): {said}; {_advice(failure)}"


def _advice(failure: TaskFailure) -> str:
    if failure.failure_type == "NotFoundError" and "not registered" in failure.message:
        return "register the workflow on the worker, or fix the create step's type"
    if failure.failure_type == "TypeError" and "argument" in failure.message:
        return "check the args the start, signal or update gave against the method named"
    if failure.cause == "NonDeterministicError":
        return (
            "the worker's code does not replay this workflow's history: run the code that "
            "started it, or reset the workflow"
        )
    return "fix the workflow code or the worker"


class Watch:
    """Looks for a current workflow task failure of ``stub``'s workflow while the task that
    made the watch awaits a call; on finding one it keeps it (:attr:`found`) and cancels
    that task, whose call then raises :func:`workflow_task_failed`'s error instead."""

    def __init__(self, stub: WorkflowStub) -> None:
        self.stub = stub
        self.found: TaskFailure | None = None
        self._alone: bool | None = None
        self._caller = asyncio.current_task()
        self._calling = True
        self._cancelled = False
        self._looking: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(GRACE, self._begin)

    def _begin(self) -> None:
        self._looking = asyncio.ensure_future(self._look())

    async def _look(self) -> None:
        misses = 0
        for interval in itertools.chain(INTERVALS, itertools.repeat(INTERVALS[-1])):
            try:
                failure = await current_failure(self.stub)
            except Exception:  # the server cannot tell now (down, or refuses): try again
                misses += 1
                if misses >= _MISSES:
                    return
            else:
                misses = 0
                if failure is not None and self._caller is not None:
                    self.found = failure
                    if self._calling:  # (past the call, the caller is explaining its error)
                        self._cancelled = True
                        self._caller.cancel()
                    return
            await asyncio.sleep(interval)

    def claimed(self) -> bool:
        """Whether the caller's cancellation is the watch's alone (not also a timeout's or an
        interrupt's, which must go on): then the call is to raise the failure."""
        if self.found is None or not self._cancelled:
            return False
        if self._alone is None:  # asked once: the cancellation is taken back once
            self._alone = True  # no count of cancellations before 3.11: the watch's, likely
            if sys.version_info >= (3, 11) and self._caller is not None:
                self._alone = self._caller.uncancel() == 0
        return self._alone

    def done(self) -> None:
        """The call has ended (the caller handles its error now): the watch may still find
        a failure, but no longer cancels the caller for it."""
        self._calling = False

    def stop(self) -> None:
        """The call is over: stop looking."""
        self._timer.cancel()
        if self._looking is not None:
            self._looking.cancel()

    def cause(self) -> BaseException | None:
        """The worker's failure as temporalio's exception, to chain."""
        return self.found.exception if self.found is not None else None

    def error(self, operation: str, name: str | None) -> WorkflowTaskFailed:
        assert self.found is not None
        stub = self.stub
        return workflow_task_failed(
            self.found,
            operation=operation,
            workflow_id=stub.workflow_id,
            run_id=stub.run_id,
            name=name,
        )


__all__ = [
    "GRACE",
    "INTERVALS",
    "TaskFailure",
    "Watch",
    "cause_name",
    "current_failure",
    "failure_words",
    "last_failure",
    "workflow_task_failed",
]
