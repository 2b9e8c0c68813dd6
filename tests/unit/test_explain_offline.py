"""What the core says about a call that gets no answer, offline: the recency rule for a task
queue's pollers, a broken connection's words, the reading of a workflow task failure from
history events, and the watch that fails a waiting call with it (a fake workflow service)."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import temporalio.api.enums.v1 as enums
import temporalio.api.failure.v1
import temporalio.api.history.v1
import temporalio.api.taskqueue.v1
import temporalio.api.workflowservice.v1 as wsv
import temporalio.client
import temporalio.converter
import temporalio.exceptions
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

import playbook.core.task_failures
from playbook import core
from playbook.actions import Call
from playbook.core.errors import translate
from playbook.core.guard import bounded, call
from playbook.core.pollers import RECENT_POLL, QueueView, no_worker_polling, no_worker_words
from playbook.core.task_failures import (
    TaskFailure,
    cause_name,
    last_failure,
    workflow_task_failed,
)
from playbook.errors import OperationTimeout, ServerError, TemporalError, WorkflowTaskFailed

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
Cause = enums.WorkflowTaskFailedCause
Event = enums.EventType

# -- the recency rule ------------------------------------------------------------------------


def test_a_poll_within_seventy_seconds_is_a_worker() -> None:
    assert RECENT_POLL.total_seconds() == 70
    for age in (0, 30, 58, 70):
        view = QueueView("orders", (NOW - timedelta(seconds=age),))
        assert view.recent(NOW), age
        assert no_worker_words(view, NOW) is None
    # the newest of several pollers counts
    view = QueueView("orders", (NOW - timedelta(minutes=9), NOW - timedelta(seconds=5)))
    assert no_worker_words(view, NOW) is None


def test_a_queue_nobody_polls() -> None:
    assert no_worker_words(QueueView("orders"), NOW) == "no worker is polling task queue 'orders'"


def test_a_queue_whose_pollers_are_stale_says_since_when() -> None:
    view = QueueView("orders", (NOW - timedelta(seconds=71), NOW - timedelta(minutes=4)))
    assert not view.recent(NOW)
    assert no_worker_words(view, NOW) == (
        "no worker has polled task queue 'orders' since 2026-01-01 11:58:49 UTC (1m11s ago)"
    )
    timeout = translate(
        asyncio.TimeoutError(), operation="query", workflow_id="w", name="status", timeout=2
    )
    assert isinstance(timeout, OperationTimeout)
    said = no_worker_polling(timeout, view, NOW)
    assert (type(said), str(said), said.operation, said.workflow_id) == (
        OperationTimeout,
        "query on workflow 'w' did not finish within 2s; no worker has polled task queue "
        "'orders' since 2026-01-01 11:58:49 UTC (1m11s ago): start a worker for it (or use "
        "--worker)",
        "query",
        "w",
    )


# -- a broken connection is not a message --------------------------------------------------


@pytest.mark.parametrize(
    ("error", "operation", "cls", "message"),
    [
        (
            RPCError("h2 protocol error: http2 error", RPCStatusCode.CANCELLED, b""),
            "query",
            OperationTimeout,
            "query 'status' on workflow 'w' timed out: the connection gave up waiting for an "
            "answer",
        ),
        (
            RPCError(
                "error reading a body from connection: http2 error", RPCStatusCode.UNKNOWN, b""
            ),
            "update",
            OperationTimeout,
            "update 'status' on workflow 'w' timed out: the connection gave up waiting for an "
            "answer",
        ),
        (
            RuntimeError("transport error"),
            "await_result",
            OperationTimeout,
            "await_result 'status' on workflow 'w' timed out: the connection gave up waiting "
            "for an answer",
        ),
        (
            RPCError("h2 protocol error: http2 error", RPCStatusCode.CANCELLED, b""),
            "signal",
            ServerError,
            "signal 'status' on workflow 'w' failed: the connection to the server broke; check "
            "that the server is up and reachable",
        ),
        (
            RPCError("transport error", RPCStatusCode.UNAVAILABLE, b""),
            "query",
            ServerError,
            "query 'status' on workflow 'w' failed: the connection to the server broke; check "
            "that the server is up and reachable",
        ),
    ],
)
def test_transport_text_becomes_plain_words(
    error: BaseException, operation: str, cls: type[TemporalError], message: str
) -> None:
    translated = translate(error, operation=operation, workflow_id="w", run_id="r1", name="status")
    assert (type(translated), str(translated)) == (cls, message)
    assert isinstance(translated, TemporalError) and translated.operation == operation
    for marker in ("h2 protocol", "http2", "transport"):
        assert marker not in str(translated)


def test_a_failure_to_connect_keeps_its_own_words() -> None:
    error = RuntimeError("Failed client connect: transport error: tcp connect error")
    translated = translate(error, operation="query", workflow_id="w", name="status")
    assert type(translated) is ServerError
    assert str(translated).startswith("query 'status' on workflow 'w' failed: cannot reach")


# -- reading a workflow task failure -------------------------------------------------------


def event(
    kind: enums.EventType.ValueType,
    cause: enums.WorkflowTaskFailedCause.ValueType = Cause.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED,
    message: str = "",
    failure_type: str = "",
) -> Any:
    history_event = temporalio.api.history.v1.HistoryEvent(event_type=kind)
    if kind == Event.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        attributes = history_event.workflow_task_failed_event_attributes
        attributes.cause = cause
        attributes.identity = "1234@worker-host"
        attributes.failure.message = message
        if failure_type:
            attributes.failure.application_failure_info.type = failure_type
    return history_event


FAILED = Event.EVENT_TYPE_WORKFLOW_TASK_FAILED
UNHANDLED = Cause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE
ARGS = "Strict.run() takes from 2 to 3 positional arguments but 5 were given"


def test_the_last_task_outcome_decides() -> None:
    failed = event(FAILED, UNHANDLED, ARGS, "TypeError")
    scheduled, started = (
        Event.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        Event.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    )
    signaled = Event.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    completed = Event.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    # newest first: a failure, then a retry in flight after a signal: still current
    assert last_failure([event(started), event(scheduled), event(signaled), failed]) == (
        True,
        failed,
    )
    # a later task completed: the failure was fixed
    assert last_failure([event(completed), event(started), failed]) == (True, None)
    # a routine failure (new events arrived while the task ran) is not the worker's fault
    routine = event(FAILED, Cause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, "new events")
    assert last_failure([routine, failed]) == (True, None)
    # these events do not tell: read on
    assert last_failure([event(signaled), event(scheduled)]) == (False, None)


def test_cause_names_are_temporals() -> None:
    assert cause_name(UNHANDLED) == "WorkflowWorkerUnhandledFailure"
    assert cause_name(Cause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR) == (
        "NonDeterministicError"
    )


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (
            TaskFailure(
                "WorkflowWorkerUnhandledFailure",
                "NotFoundError",
                "Workflow class Strikt is not registered on this worker, available workflows: "
                "Strict",
            ),
            "NotFoundError: Workflow class Strikt is not registered on this worker, available "
            "workflows: Strict; register the workflow on the worker, or fix the create step's "
            "type",
        ),
        (
            TaskFailure("WorkflowWorkerUnhandledFailure", "TypeError", ARGS),
            f"TypeError: {ARGS}; check the args the start, signal or update gave against the method named",
        ),
        (
            TaskFailure("NonDeterministicError", "", "[TMPRL1100] Nondeterminism error"),
            "[TMPRL1100] Nondeterminism error; the worker's code does not replay this "
            "workflow's history: run the code that started it, or reset the workflow",
        ),
        (
            TaskFailure("WorkflowWorkerUnhandledFailure", "RuntimeError", "boom"),
            "RuntimeError: boom; fix the workflow code or the worker",
        ),
    ],
)
def test_the_error_quotes_the_worker(failure: TaskFailure, said: str) -> None:
    error = workflow_task_failed(
        failure, operation="query", workflow_id="w", run_id="r1", name="status"
    )
    cause = failure.cause
    assert str(error) == (
        f"query 'status' on workflow 'w' cannot finish: its workflow task fails on the worker "
        f"({cause}): {said}"
    )
    assert error.to_record() == {
        "type": "WorkflowTaskFailed",
        "message": str(error),
        "details": {
            "cause": cause,
            "failure_type": failure.failure_type or None,
            "message": failure.message,
            "worker": None,
        },
    }


# -- the watch, against a fake workflow service --------------------------------------------


class FakeService:
    """The two calls the watch and the explanations make, with canned answers."""

    def __init__(self, events: list[Any], polled: datetime | None = None) -> None:
        self.events = events
        self.polled = polled
        self.looks = 0
        self.queue_reads = 0

    async def get_workflow_execution_history_reverse(
        self, request: wsv.GetWorkflowExecutionHistoryReverseRequest, timeout: Any = None
    ) -> wsv.GetWorkflowExecutionHistoryReverseResponse:
        self.looks += 1
        response = wsv.GetWorkflowExecutionHistoryReverseResponse()
        response.history.events.extend(self.events)
        return response

    async def describe_task_queue(
        self, request: wsv.DescribeTaskQueueRequest, timeout: Any = None
    ) -> wsv.DescribeTaskQueueResponse:
        self.queue_reads += 1
        response = wsv.DescribeTaskQueueResponse()
        if self.polled is not None:
            stamp = Timestamp()
            stamp.FromDatetime(self.polled)
            response.pollers.append(
                temporalio.api.taskqueue.v1.PollerInfo(identity="w1", last_access_time=stamp)
            )
        return response


def stub_on(service: FakeService) -> core.WorkflowStub:
    client = SimpleNamespace(
        namespace="default",
        workflow_service=service,
        data_converter=temporalio.converter.DataConverter.default,
        service_client=SimpleNamespace(config=SimpleNamespace(target_host="127.0.0.1:7233")),
    )
    stub = core.create_workflow(cast(Client, client), "Strict", {"task_queue": "strict-q"})
    stub.workflow_id, stub.run_id, stub.started = "w", "r1", True
    return stub


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(playbook.core.task_failures, "GRACE", 0.05)
    monkeypatch.setattr(playbook.core.task_failures, "INTERVALS", (0.05,))


async def forever() -> None:
    await asyncio.sleep(3600)


async def test_a_waiting_call_fails_with_the_workflow_task_failure(quick: None) -> None:
    service = FakeService([event(FAILED, UNHANDLED, ARGS, "TypeError")])
    stub = stub_on(service)
    began = asyncio.get_running_loop().time()
    with pytest.raises(WorkflowTaskFailed) as caught:
        await call(forever, stub, "await_result")
    assert asyncio.get_running_loop().time() - began < 1.0
    assert str(caught.value) == (
        "await_result on workflow 'w' cannot finish: its workflow task fails on the worker "
        f"(WorkflowWorkerUnhandledFailure): TypeError: {ARGS}; check the args the start, signal "
        "or update gave against the method named"
    )
    cause = caught.value.__cause__
    assert isinstance(cause, temporalio.exceptions.ApplicationError)
    assert (cause.type, cause.message) == ("TypeError", ARGS)
    assert service.looks == 1
    if sys.version_info >= (3, 11):
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0  # the watch took its cancel back


async def test_a_healthy_wait_is_watched_but_not_failed(quick: None) -> None:
    completed = event(Event.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    service = FakeService([completed, event(FAILED, UNHANDLED, ARGS, "TypeError")])

    async def slow() -> str:
        await asyncio.sleep(0.3)
        return "done"

    assert await call(slow, stub_on(service), "query", "status") == "done"
    assert service.looks >= 2


async def test_a_quick_call_costs_no_look() -> None:
    service = FakeService([event(FAILED, UNHANDLED, ARGS, "TypeError")])

    async def quick_answer() -> int:
        return 7

    assert await call(quick_answer, stub_on(service), "update", "inc") == 7
    await asyncio.sleep(playbook.core.task_failures.GRACE + 0.1)
    assert service.looks == 0


async def test_a_call_that_does_not_wait_is_not_watched(quick: None) -> None:
    service = FakeService([event(FAILED, UNHANDLED, ARGS, "TypeError")])

    async def signal() -> None:
        await asyncio.sleep(0.3)

    await call(signal, stub_on(service), "signal", "add")
    assert service.looks == 0


async def test_a_timeout_of_the_caller_stays_a_timeout(quick: None) -> None:
    """The step's own bound runs out first: the cancellation goes on (no explaining)."""
    service = FakeService([], polled=None)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call(forever, stub_on(service), "query", "status"), 0.02)
    assert service.queue_reads == 0


async def test_an_update_cancelled_by_the_caller_is_not_translated() -> None:
    """temporalio turns the cancellation of an update's wait into an error of its own."""
    if sys.version_info < (3, 11):
        pytest.skip("tells a cancellation of ours only with Python 3.11's cancel counts")
    service = FakeService([])

    async def update() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise temporalio.client.WorkflowUpdateRPCTimeoutOrCancelledError() from None

    began = asyncio.get_running_loop().time()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call(update, stub_on(service), "update", "inc"), 0.05)
    assert asyncio.get_running_loop().time() - began < 0.5
    assert service.queue_reads == 0


async def test_a_timeout_of_the_core_names_a_stale_queue() -> None:
    service = FakeService([], polled=datetime.now(timezone.utc) - timedelta(minutes=5))
    stub = stub_on(service)
    with pytest.raises(OperationTimeout) as caught:
        await call(lambda: bounded(forever(), 0.05), stub, "query", timeout=0.05)
    message = str(caught.value)
    assert message.startswith(
        "query on workflow 'w' did not finish within 0.05s (task queue 'strict-q'); no worker "
        "has polled task queue 'strict-q' since "
    )
    assert message.endswith(" (5m00s ago): start a worker for it (or use --worker)")


async def test_the_stall_hint() -> None:
    failing = stub_on(FakeService([event(FAILED, UNHANDLED, ARGS, "TypeError")]))
    assert await core.stall_hint(failing, "w") == (
        " (workflow 'w'; its workflow task fails on the worker (WorkflowWorkerUnhandledFailure): "
        f"TypeError: {ARGS}; check the args the start, signal or update gave against the method named)"
    )
    nobody = stub_on(FakeService([]))
    assert await core.stall_hint(nobody, "w") == (
        " (workflow 'w'; no worker is polling task queue 'strict-q': start a worker for it (or "
        "use --worker))"
    )
    busy = stub_on(FakeService([], polled=datetime.now(timezone.utc) - timedelta(seconds=3)))
    assert await core.stall_hint(busy, "w") == (
        " (workflow 'w'; task queue 'strict-q' was polled 3.0s ago and no workflow task failed)"
    )
    fallback = " (workflow 'w'; is a worker polling its task queue, and were its arguments right?)"
    assert await core.stall_hint(object(), "w") == fallback
    assert await core.stall_hint(None, None) == ""


async def test_a_deadline_bounds_a_call_after_a_swallowed_cancellation() -> None:
    """A step's timeout reaches every call of the core in it, also when some code on the
    way ate the cancellation that should have ended the step (Python 3.11's wait_for can)."""
    service = FakeService([])

    async def step() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # what a racing wait_for may do
        await call(forever, stub_on(service), "signal", "add")

    began = asyncio.get_running_loop().time()
    with pytest.raises(asyncio.TimeoutError), core.within(0.05):
        await asyncio.wait_for(step(), 0.05)
    assert asyncio.get_running_loop().time() - began < 0.5


# -- retry.timeout bounds the attempts together (the runner, with fake actions) ----------


def test_retry_timeout_cancels_an_attempt_still_running(tmp_path: Path) -> None:
    from tests.unit.test_interpreter import FakeServer, playbook_file, run

    async def hang(call: Call) -> Any:
        await asyncio.sleep(3600)

    actions = {**FakeServer().registry(), "query": hang}
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: t
        steps:
          - id: order
            create: {type: T, task_queue: q}
          - id: q
            query: {workflow: order, query: status}
            retry: {until: "result == 1", timeout: 100ms}
        """,
    )
    began = time.monotonic()
    result = run(path, actions=actions)
    assert time.monotonic() - began < 2
    assert result.records[1].attempts == 1
    assert result.records[1].error is not None
    assert result.records[1].error["message"] == (
        f"step 'q' (steps[1], {path}:6), field retry.timeout: retry gave up after 1 attempt: "
        "its timeout of 100ms ran out during the last one (workflow 'T-1'; is a worker polling "
        "its task queue, and were its arguments right?)"
    )
