"""Workflow stubs and the seed's operations on them: start, signal, query, update, result,
cancel, terminate, describe.

A stub is either *new* (a workflow type and checked options, not yet started) or
*existing* (a workflow id, and maybe a run id). Only a new stub can be started.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import temporalio.api.enums.v1 as enums
import temporalio.api.history.v1
import temporalio.api.taskqueue.v1
import temporalio.api.workflowservice.v1
import temporalio.client
import temporalio.common
from temporalio.client import Client, WorkflowUpdateStage

from playbook.core.translate import translate
from playbook.errors import (
    InvalidOptions,
    OperationTimeout,
    TemporalError,
    UpdateRejected,
    WorkflowFailed,
)
from playbook.options import (
    WorkflowOptions,
    check_for_action,
    check_wait_stage,
    check_workflow_options,
)

T = TypeVar("T")

_STAGES = {"accepted": WorkflowUpdateStage.ACCEPTED, "completed": WorkflowUpdateStage.COMPLETED}
_STATUS_NAMES = {
    temporalio.client.WorkflowExecutionStatus.RUNNING: "running",
    temporalio.client.WorkflowExecutionStatus.COMPLETED: "completed",
    temporalio.client.WorkflowExecutionStatus.FAILED: "failed",
    temporalio.client.WorkflowExecutionStatus.CANCELED: "canceled",
    temporalio.client.WorkflowExecutionStatus.TERMINATED: "terminated",
    temporalio.client.WorkflowExecutionStatus.CONTINUED_AS_NEW: "continued_as_new",
    temporalio.client.WorkflowExecutionStatus.TIMED_OUT: "timed_out",
}


@dataclass
class WorkflowStub:
    """A workflow to act on: new (``workflow_type`` + ``options``) or existing (an id)."""

    client: Client
    workflow_id: str
    run_id: str | None = None
    workflow_type: str | None = None
    options: WorkflowOptions | None = None
    started: bool = field(default=False)

    @property
    def is_new(self) -> bool:
        return self.options is not None

    @property
    def task_queue(self) -> str | None:
        return self.options.task_queue if self.options else None

    def handle(self) -> temporalio.client.WorkflowHandle[Any, Any]:
        """A started stub follows its run chain (continue-as-new included), as temporalio's
        own handle from a start does; a stub of an existing execution targets the run it
        names, or the latest run."""
        if self.started:
            return self.client.get_workflow_handle(self.workflow_id,
                                                   first_execution_run_id=self.run_id)
        return self.client.get_workflow_handle(self.workflow_id, run_id=self.run_id)


@dataclass
class UpdateHandle:
    """An update that was sent: its id, its workflow, and its awaitable result."""

    id: str
    workflow_id: str
    run_id: str | None
    name: str | None
    _handle: temporalio.client.WorkflowUpdateHandle[Any] = field(repr=False)
    _stub: WorkflowStub = field(repr=False)

    async def result(self, timeout: float | None = None) -> Any:
        return await _call(
            lambda: _bounded(self._handle.result(), timeout),
            self._stub, "await_update", self.name or self.id, timeout=timeout,
            update_id=self.id,
        )


def _readable_id(workflow_type: str) -> str:
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", workflow_type).lower()
    slug = re.sub(r"[^a-z0-9-]+", "-", slug).strip("-") or "workflow"
    return f"{slug}-{uuid.uuid4().hex[:12]}"


def create_workflow(client: Client, workflow: str, options: Mapping[str, Any] | str | None = None,
                    *, run_id: str | None = None) -> WorkflowStub:
    """Two forms, as the seed's ``create-workflow``:

    - ``create_workflow(client, workflow_id, run_id=None)``: a stub of an existing execution;
    - ``create_workflow(client, workflow_type, options)``: a new, unstarted stub, whose
      options (playbook spelling) are all checked now; every problem is reported at once.
    """
    if options is None or isinstance(options, str):
        run_id = options if isinstance(options, str) else run_id
        return WorkflowStub(client=client, workflow_id=workflow, run_id=run_id)
    checked, problems = check_workflow_options(options)
    if problems or checked is None:
        raise InvalidOptions([f"{path}: {message}" for path, message in problems],
                             what=f"options for workflow type '{workflow}'")
    workflow_id = checked.workflow_id or _readable_id(workflow)
    return WorkflowStub(client=client, workflow_id=workflow_id, workflow_type=workflow,
                        options=checked)


def _start_kwargs(stub: WorkflowStub, *, for_operation: bool = False) -> dict[str, Any]:
    o = stub.options
    assert o is not None
    kwargs: dict[str, Any] = {
        "id": stub.workflow_id,
        "task_queue": o.task_queue,
        "execution_timeout": o.execution_timeout,
        "run_timeout": o.run_timeout,
        "task_timeout": o.task_timeout,
        "memo": o.memo or None,
        "cron_schedule": o.cron_schedule or "",
    }
    if o.id_reuse_policy:
        kwargs["id_reuse_policy"] = temporalio.common.WorkflowIDReusePolicy[o.id_reuse_policy.upper()]
    if o.id_conflict_policy:
        kwargs["id_conflict_policy"] = temporalio.common.WorkflowIDConflictPolicy[
            o.id_conflict_policy.upper()
        ]
    if o.start_delay is not None and not for_operation:
        kwargs["start_delay"] = o.start_delay
    if o.retry:
        kwargs["retry_policy"] = temporalio.common.RetryPolicy(
            initial_interval=o.retry.initial_interval or timedelta(seconds=1),
            backoff_coefficient=o.retry.backoff_coefficient or 2.0,
            maximum_interval=o.retry.maximum_interval,
            maximum_attempts=o.retry.maximum_attempts or 0,
            non_retryable_error_types=list(o.retry.non_retryable_error_types) or None,
        )
    if o.search_attributes:
        kwargs["search_attributes"] = temporalio.common.TypedSearchAttributes(
            [_search_pair(a.name, a.type, a.value) for a in o.search_attributes]
        )
    if o.priority:
        kwargs["priority"] = temporalio.common.Priority(
            priority_key=o.priority.priority_key,
            fairness_key=o.priority.fairness_key,
            fairness_weight=o.priority.fairness_weight,
        )
    return kwargs


_KEY_FACTORY: dict[str, Callable[[str], Any]] = {
    "keyword": temporalio.common.SearchAttributeKey.for_keyword,
    "text": temporalio.common.SearchAttributeKey.for_text,
    "int": temporalio.common.SearchAttributeKey.for_int,
    "double": temporalio.common.SearchAttributeKey.for_float,
    "bool": temporalio.common.SearchAttributeKey.for_bool,
    "datetime": temporalio.common.SearchAttributeKey.for_datetime,
    "keyword_list": temporalio.common.SearchAttributeKey.for_keyword_list,
}


def _search_pair(name: str, kind: str, value: Any) -> temporalio.common.SearchAttributePair[Any]:
    return temporalio.common.SearchAttributePair(_KEY_FACTORY[kind](name), value)


def _require_new(stub: WorkflowStub, operation: str) -> None:
    if not stub.is_new:
        raise TemporalError(
            f"{operation} needs a new workflow stub, but workflow '{stub.workflow_id}' was made "
            "from an id alone (an existing execution); create it with a workflow type and a "
            "task_queue to start it",
            operation=operation, workflow_id=stub.workflow_id, error_type="NotStartable",
        )


async def _bounded(awaitable: Awaitable[T], timeout: float | None) -> T:
    if timeout is None:
        return await awaitable
    return await asyncio.wait_for(awaitable, timeout)


async def _call(make: Callable[[], Awaitable[T]], stub: WorkflowStub, operation: str,
                name: str | None = None, *, timeout: float | None = None,
                update_id: str | None = None) -> T:
    try:
        return await make()
    except asyncio.TimeoutError:
        raise await _with_worker_hint(OperationTimeout(
            f"{operation} on workflow '{stub.workflow_id}' did not finish within {timeout:g}s"
            + (f" (task queue '{stub.task_queue}')" if stub.task_queue else ""),
            operation=operation, workflow_id=stub.workflow_id, run_id=stub.run_id,
        ), stub) from None
    except temporalio.client.WorkflowUpdateFailedError as e:
        error = translate(e, operation=operation, workflow_id=stub.workflow_id,
                          run_id=stub.run_id, name=name)
        if update_id and not await _was_accepted(stub, update_id):
            raise UpdateRejected(
                f"update '{name}' on workflow '{stub.workflow_id}' was rejected: "
                f"{error.error_type}: {_after_colon(str(error))}",
                operation=operation, workflow_id=stub.workflow_id, run_id=stub.run_id,
                error_type=error.error_type, details=error.details,
            ) from e
        raise error from e
    except (temporalio.exceptions.TemporalError, RuntimeError) as e:
        error = translate(e, operation=operation, workflow_id=stub.workflow_id,
                          run_id=stub.run_id, name=name)
        if isinstance(error, OperationTimeout):
            error = await _with_worker_hint(error, stub)
        raise error from e


# Operations that wait for a worker to act: when one times out, ask whether anyone polls.
_NEEDS_WORKER = frozenset({"await_result", "await_update", "query", "update", "start_update",
                           "update_with_start"})


async def _with_worker_hint(error: OperationTimeout, stub: WorkflowStub) -> OperationTimeout:
    """``error``, told that no worker polls the workflow's task queue when the server says so.

    A workflow whose task queue nobody polls never makes progress, so its result, queries
    and updates time out: the most common cause of a timeout, and the server knows it.
    """
    if error.operation not in _NEEDS_WORKER:
        return error
    try:
        task_queue, pollers = await asyncio.wait_for(_pollers(stub), 5.0)
    except Exception:  # cannot tell (the server is down, say): the message stays as it is
        return error
    if pollers:
        return error
    return OperationTimeout(
        f"{error}; no worker is polling task queue '{task_queue}': start a worker for it "
        "(or use --worker)",
        operation=error.operation, workflow_id=error.workflow_id, run_id=error.run_id,
        error_type=error.error_type, details=error.details,
    )


async def _pollers(stub: WorkflowStub) -> tuple[str, int]:
    """The workflow's task queue and how many workers poll it for workflow tasks."""
    task_queue = stub.task_queue
    if not task_queue:
        task_queue = (await stub.client.get_workflow_handle(
            stub.workflow_id, run_id=stub.run_id).describe(rpc_timeout=timedelta(seconds=2))
        ).task_queue
    response = await stub.client.workflow_service.describe_task_queue(
        temporalio.api.workflowservice.v1.DescribeTaskQueueRequest(
            namespace=stub.client.namespace,
            task_queue=temporalio.api.taskqueue.v1.TaskQueue(
                name=task_queue, kind=enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=timedelta(seconds=2),
    )
    return task_queue, len(response.pollers)


def _after_colon(text: str) -> str:
    return text.split(": ", 2)[-1]


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


async def start(stub: WorkflowStub, args: Sequence[Any] = ()) -> WorkflowStub:
    """Start a new stub; afterwards ``stub.run_id`` is the run that was started."""
    _require_new(stub, "start")
    handle = await _call(
        lambda: stub.client.start_workflow(stub.workflow_type or "", args=list(args),
                                           **_start_kwargs(stub)),
        stub, "start", stub.workflow_type)
    stub.run_id = handle.result_run_id or handle.run_id
    stub.started = True
    return stub


async def signal(stub: WorkflowStub, name: str, args: Sequence[Any] = ()) -> None:
    """Send a signal (the seed's ``>!``)."""
    await _call(lambda: stub.handle().signal(name, args=list(args)), stub, "signal", name)


async def signal_with_start(stub: WorkflowStub, signal: str, signal_args: Sequence[Any] = (),
                            start_args: Sequence[Any] = ()) -> WorkflowStub:
    """Start the workflow with a signal, or signal it if it is already running."""
    _require_new(stub, "signal_with_start")
    assert stub.options is not None
    if stub.options.id_conflict_policy == "fail":
        raise InvalidOptions([message for _, message in check_for_action(
            {"id_conflict_policy": "fail"}, "signal_with_start")],
            what=f"options for workflow '{stub.workflow_id}'")
    handle = await _call(
        lambda: stub.client.start_workflow(
            stub.workflow_type or "", args=list(start_args), start_signal=signal,
            start_signal_args=list(signal_args), **_start_kwargs(stub)),
        stub, "signal_with_start", signal)
    stub.run_id = handle.result_run_id or handle.run_id
    stub.started = True
    return stub


async def query(stub: WorkflowStub, name: str, args: Sequence[Any] = (),
                timeout: float | None = None) -> Any:
    """Query the workflow. Without ``timeout`` a query that no worker answers fails when the
    server gives up (30s)."""
    return await _call(lambda: _bounded(stub.handle().query(name, args=list(args)), timeout),
                       stub, "query", name, timeout=timeout)


async def update(stub: WorkflowStub, name: str, args: Sequence[Any] = (),
                 update_id: str | None = None) -> Any:
    """Send an update and wait for its result."""
    update_id = update_id or str(uuid.uuid4())
    return await _call(
        lambda: stub.handle().execute_update(name, args=list(args), id=update_id),
        stub, "update", name, update_id=update_id)


def _stage(stage: str) -> WorkflowUpdateStage:
    problem = check_wait_stage(stage)
    if problem:
        raise InvalidOptions([problem], what="wait_for_stage")
    return _STAGES[stage]


async def start_update(stub: WorkflowStub, name: str, args: Sequence[Any] = (),
                       wait_for_stage: str = "accepted",
                       update_id: str | None = None) -> UpdateHandle:
    """Send an update and return once it reaches ``wait_for_stage`` (accepted or completed)."""
    stage = _stage(wait_for_stage)
    update_id = update_id or str(uuid.uuid4())
    handle = await _call(
        lambda: stub.handle().start_update(name, args=list(args), id=update_id,
                                           wait_for_stage=stage),
        stub, "start_update", name, update_id=update_id)
    return UpdateHandle(id=handle.id, workflow_id=stub.workflow_id,
                        run_id=handle.workflow_run_id or stub.run_id, name=name,
                        _handle=handle, _stub=stub)


def get_update_handle(stub: WorkflowStub, update_id: str) -> UpdateHandle:
    """A handle on an update sent earlier, by its id."""
    handle = stub.handle().get_update_handle(update_id)
    return UpdateHandle(id=update_id, workflow_id=stub.workflow_id, run_id=stub.run_id,
                        name=None, _handle=handle, _stub=stub)


async def update_with_start(stub: WorkflowStub, name: str, update_args: Sequence[Any] = (),
                            start_args: Sequence[Any] = (), wait_for_stage: str = "accepted",
                            update_id: str | None = None) -> UpdateHandle:
    """Send an update, starting the workflow first if it is not running."""
    _require_new(stub, "update_with_start")
    assert stub.options is not None
    problems = [message for _, message in check_for_action({
        "id_conflict_policy": stub.options.id_conflict_policy,
        "cron_schedule": stub.options.cron_schedule, "start_delay": stub.options.start_delay,
    }, "update_with_start")]
    if problems:
        raise InvalidOptions(problems, what=f"options for workflow '{stub.workflow_id}'")
    stage = _stage(wait_for_stage)
    update_id = update_id or str(uuid.uuid4())
    operation: temporalio.client.WithStartWorkflowOperation[Any, Any] = (
        temporalio.client.WithStartWorkflowOperation(
        stub.workflow_type or "", args=list(start_args), **_start_kwargs(stub, for_operation=True)))
    try:
        handle = await _call(
            lambda: stub.client.start_update_with_start_workflow(
                name, args=list(update_args), start_workflow_operation=operation,
                wait_for_stage=stage, id=update_id),
            stub, "update_with_start", name, update_id=update_id)
    except BaseException:
        # read the operation's outcome too, or asyncio complains it was never retrieved
        with contextlib.suppress(BaseException):
            await operation.workflow_handle()
        raise
    workflow_handle = await operation.workflow_handle()
    stub.run_id = workflow_handle.result_run_id or workflow_handle.run_id
    stub.started = True
    return UpdateHandle(id=handle.id, workflow_id=stub.workflow_id, run_id=stub.run_id,
                        name=name, _handle=handle, _stub=stub)


async def get_result(stub: WorkflowStub, timeout: float | None = None,
                     follow_runs: bool = True) -> Any:
    """Wait for the workflow's result; raise :class:`WorkflowFailed` if it ended badly."""
    try:
        # from the run this stub started or names: follow_runs decides whether to go on
        handle = stub.client.get_workflow_handle(stub.workflow_id, run_id=stub.run_id)
        return await _call(lambda: _bounded(handle.result(follow_runs=follow_runs), timeout),
                           stub, "await_result", timeout=timeout)
    except TemporalError as e:
        cause = e.__cause__
        if isinstance(cause, temporalio.client.WorkflowContinuedAsNewError):
            raise WorkflowFailed(
                f"workflow '{stub.workflow_id}' continued as new (run "
                f"{cause.new_execution_run_id}); set follow_runs: true to wait for the last run",
                status="continued_as_new", operation="await_result", workflow_id=stub.workflow_id,
                run_id=stub.run_id, error_type="ContinuedAsNew",
            ) from cause
        raise


async def cancel(stub: WorkflowStub, reason: str | None = None) -> None:
    """Request cancellation. Temporal accepts this quietly for a closed workflow."""
    await _call(lambda: stub.handle().cancel(reason=reason or ""), stub, "cancel")


async def terminate(stub: WorkflowStub, reason: str | None = None,
                    details: Sequence[Any] = ()) -> None:
    await _call(lambda: stub.handle().terminate(*details, reason=reason), stub, "terminate")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


async def describe(stub: WorkflowStub) -> dict[str, Any]:
    """The execution's facts, with lower-case statuses and JSON-typed values."""
    async def fetch() -> dict[str, Any]:
        d = await stub.handle().describe()
        memo = await d.memo()
        attributes = {pair.key.name: _jsonable(pair.value) for pair in d.typed_search_attributes}
        return {
            "status": _STATUS_NAMES.get(d.status, "unknown") if d.status else "unknown",
            "workflow_id": d.id,
            "run_id": d.run_id,
            "type": d.workflow_type,
            "task_queue": d.task_queue,
            "start_time": _jsonable(d.start_time),
            "close_time": _jsonable(d.close_time),
            "history_length": d.history_length,
            "memo": _jsonable(dict(memo)),
            "search_attributes": attributes,
        }

    return await _call(fetch, stub, "describe")

