"""The seed's operations on a workflow stub: start, signal, query, update, result, cancel,
terminate, describe; and :func:`stall_hint`, for a caller whose own bound ran out.

Each is one temporalio call made through :func:`playbook.core.guard.call`, so every failure
is one of the errors in :mod:`playbook.errors`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import temporalio.client
from temporalio.client import WorkflowUpdateStage

from playbook.core.guard import bounded, call, explain
from playbook.core.pending import extras
from playbook.core.pollers import no_worker_words
from playbook.core.stub import (
    UpdateHandle,
    WorkflowStub,
    memo_payloads,
    require_new,
    start_kwargs,
)
from playbook.core.task_failures import failure_words
from playbook.core.visibility import execution
from playbook.durations import format_duration
from playbook.errors import InvalidOptions
from playbook.options import check_for_action, check_wait_stage

_STAGES = {"accepted": WorkflowUpdateStage.ACCEPTED, "completed": WorkflowUpdateStage.COMPLETED}


async def start(stub: WorkflowStub, args: Sequence[Any] = ()) -> WorkflowStub:
    """Start a new stub; afterwards ``stub.run_id`` is the run that was started."""
    require_new(stub, "start")
    kwargs = start_kwargs(stub)
    kwargs["memo"] = await memo_payloads(stub.client, kwargs["memo"])
    handle = await call(
        lambda: stub.client.start_workflow(stub.workflow_type or "", args=list(args), **kwargs),
        stub,
        "start",
        stub.workflow_type,
    )
    stub.run_id = handle.result_run_id or handle.run_id
    stub.started = True
    return stub


async def signal(stub: WorkflowStub, name: str, args: Sequence[Any] = ()) -> None:
    """Send a signal (the seed's ``>!``)."""
    await call(lambda: stub.handle().signal(name, args=list(args)), stub, "signal", name)


async def signal_with_start(
    stub: WorkflowStub,
    signal: str,
    signal_args: Sequence[Any] = (),
    start_args: Sequence[Any] = (),
) -> WorkflowStub:
    """Start the workflow with a signal, or signal it if it is already running."""
    options = require_new(stub, "signal_with_start")
    if options.id_conflict_policy == "fail":
        _check_with_start(stub, {"id_conflict_policy": "fail"}, "signal_with_start")
    handle = await call(
        lambda: stub.client.start_workflow(
            stub.workflow_type or "",
            args=list(start_args),
            start_signal=signal,
            start_signal_args=list(signal_args),
            **start_kwargs(stub),
        ),
        stub,
        "signal_with_start",
        signal,
    )
    stub.run_id = handle.result_run_id or handle.run_id
    stub.started = True
    return stub


def _check_with_start(stub: WorkflowStub, options: dict[str, Any], action: str) -> None:
    """The options that a with-start operation cannot take, all reported at once."""
    problems = check_for_action(options, action)
    if problems:
        what = f"options for workflow '{stub.workflow_id}'"
        raise InvalidOptions([message for _, message in problems], what=what)


async def query(
    stub: WorkflowStub, name: str, args: Sequence[Any] = (), timeout: float | None = None
) -> Any:
    """Query the workflow. Without ``timeout`` a query that no worker answers fails when the
    server gives up (30s)."""
    return await call(
        lambda: bounded(stub.handle().query(name, args=list(args)), timeout),
        stub,
        "query",
        name,
        timeout=timeout,
    )


async def update(
    stub: WorkflowStub, name: str, args: Sequence[Any] = (), update_id: str | None = None
) -> Any:
    """Send an update and wait for its result; ``stub.latest_run_id`` names the run that
    took it (after continue-as-new, not the first run), from the server's response."""
    update_id = update_id or str(uuid.uuid4())

    async def send() -> Any:  # execute_update, with the response's run kept
        handle = await stub.handle().start_update(
            name, args=list(args), id=update_id, wait_for_stage=WorkflowUpdateStage.COMPLETED
        )
        if handle.workflow_run_id and handle.workflow_run_id != stub.run_id:
            stub.latest_run_id = handle.workflow_run_id
        return await handle.result()

    return await call(
        send,
        stub,
        "update",
        name,
        update_id=update_id,
    )


def _stage(stage: str) -> WorkflowUpdateStage:
    problem = check_wait_stage(stage)
    if problem:
        raise InvalidOptions([problem], what="wait_for_stage")
    return _STAGES[stage]


async def start_update(
    stub: WorkflowStub,
    name: str,
    args: Sequence[Any] = (),
    wait_for_stage: str = "accepted",
    update_id: str | None = None,
) -> UpdateHandle:
    """Send an update and return once it reaches ``wait_for_stage`` (accepted or completed)."""
    stage = _stage(wait_for_stage)
    update_id = update_id or str(uuid.uuid4())
    handle = await call(
        lambda: stub.handle().start_update(
            name, args=list(args), id=update_id, wait_for_stage=stage
        ),
        stub,
        "start_update",
        name,
        update_id=update_id,
    )
    return UpdateHandle.sent(stub, handle, name, handle.workflow_run_id or stub.run_id)


def get_update_handle(stub: WorkflowStub, update_id: str) -> UpdateHandle:
    """A handle on an update sent earlier, by its id."""
    return UpdateHandle.sent(stub, stub.handle().get_update_handle(update_id), None, stub.run_id)


async def update_with_start(
    stub: WorkflowStub,
    name: str,
    update_args: Sequence[Any] = (),
    start_args: Sequence[Any] = (),
    wait_for_stage: str = "accepted",
    update_id: str | None = None,
) -> UpdateHandle:
    """Send an update, starting the workflow first if it is not running."""
    options = require_new(stub, "update_with_start")
    with_start = ("id_conflict_policy", "cron_schedule", "start_delay")
    _check_with_start(stub, {k: getattr(options, k) for k in with_start}, "update_with_start")
    stage = _stage(wait_for_stage)
    update_id = update_id or str(uuid.uuid4())
    operation: temporalio.client.WithStartWorkflowOperation[Any, Any] = (
        temporalio.client.WithStartWorkflowOperation(
            stub.workflow_type or "",
            args=list(start_args),
            **start_kwargs(stub, for_operation=True),
        )
    )
    try:
        handle = await call(
            lambda: stub.client.start_update_with_start_workflow(
                name,
                args=list(update_args),
                start_workflow_operation=operation,
                wait_for_stage=stage,
                id=update_id,
            ),
            stub,
            "update_with_start",
            name,
            update_id=update_id,
        )
    except BaseException:
        # read the operation's outcome too, or asyncio complains it was never retrieved
        with contextlib.suppress(BaseException):
            await operation.workflow_handle()
        raise
    workflow_handle = await operation.workflow_handle()
    stub.run_id = workflow_handle.result_run_id or workflow_handle.run_id
    stub.started = True
    return UpdateHandle.sent(stub, handle, name, stub.run_id)


async def get_result(
    stub: WorkflowStub, timeout: float | None = None, follow_runs: bool = True
) -> Any:
    """Wait for the workflow's result; raise :class:`WorkflowFailed` if it ended badly
    (continued as new, too, when ``follow_runs`` is false)."""
    # from the run this stub started or names: follow_runs decides whether to go on
    run_id = stub.reset_run_id or stub.run_id
    handle = stub.client.get_workflow_handle(stub.workflow_id, run_id=run_id)
    _note_runs(handle, stub)
    return await call(
        lambda: bounded(handle.result(follow_runs=follow_runs), timeout),
        stub,
        "await_result",
        timeout=timeout,
    )


def _note_runs(handle: Any, stub: WorkflowStub) -> None:
    """Record on ``stub`` each run that ``handle.result`` reads while it follows the chain
    (continue-as-new, retries, cron), so that the last one is known without asking the
    server again. temporalio does not expose it: this wraps the handle's (private) history
    reader, and does nothing where that is not there."""
    read = getattr(handle, "_fetch_history_events_for_run", None)
    if read is None:
        return

    def reading(run_id: str | None, *args: Any, **kwargs: Any) -> Any:
        if run_id and run_id != stub.run_id:
            stub.latest_run_id = run_id
        return read(run_id, *args, **kwargs)

    handle._fetch_history_events_for_run = reading


async def cancel(stub: WorkflowStub, reason: str | None = None) -> None:
    """Request cancellation. Temporal accepts this quietly for a closed workflow."""
    await call(lambda: stub.handle().cancel(reason=reason or ""), stub, "cancel")


async def terminate(
    stub: WorkflowStub, reason: str | None = None, details: Sequence[Any] = ()
) -> None:
    await call(lambda: stub.handle().terminate(*details, reason=reason), stub, "terminate")


async def describe(stub: WorkflowStub) -> dict[str, Any]:
    """The execution's facts, with lower-case statuses and JSON-typed values: what a ``list``
    names of it, its history length, its pending activities and children, and its
    versioning info."""

    async def fetch() -> dict[str, Any]:
        d = await stub.handle().describe()
        facts = await execution(d)
        return {
            **facts,
            "history_length": d.history_length,
            **await extras(stub.client.data_converter, d.raw_description),
        }

    return await call(fetch, stub, "describe")


async def stall_hint(stub: object, workflow_id: str | None) -> str:
    """`` (workflow '<id>'; <why>)``, for a message saying that a wait on ``stub``'s workflow
    (a step's ``timeout``, say) ran out of time; '' without a workflow."""
    if not workflow_id:
        return ""
    said = await explain_stall(stub)
    fallback = "is a worker polling its task queue, and were its arguments right?"
    return f" (workflow '{workflow_id}'; {said or fallback})"


async def explain_stall(stub: object) -> str | None:
    """Why a wait on ``stub``'s workflow ran out of time (a step's ``timeout``, say), in a few
    words, as far as the server tells within seconds: the workflow's task fails on the
    worker, no worker polled its task queue recently, or neither. ``None``: the server did
    not tell (or ``stub`` is not a stub of the core)."""
    if not isinstance(stub, WorkflowStub):
        return None
    failure, view = await explain(stub)
    if failure is not None:
        return failure_words(failure)
    if view is None:
        return None
    now = datetime.now(timezone.utc)
    said = no_worker_words(view, now)
    if said is not None:
        return f"{said}: start a worker for it (or use --worker)"
    last = format_duration(now - max(view.last_polls))
    return f"task queue '{view.task_queue}' was polled {last} ago and no workflow task failed"
