"""Every translation of playbook.core.errors, offline: temporalio's exceptions are built by
hand and each one's translation is checked whole (class, message, exit code, facts)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import temporalio.client
import temporalio.exceptions
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

import playbook.core.translate
from playbook.core.connection import ConnectSettings
from playbook.core.errors import (
    connection_failed,
    failure_facts,
    no_worker_polling,
    short_reason,
    translatable,
    translate,
    update_rejected,
)
from playbook.errors import (
    ConnectionFailed,
    OperationTimeout,
    PlaybookError,
    QueryFailed,
    ServerError,
    TemporalError,
    UpdateFailed,
    UpdateRejected,
    WorkflowAlreadyStarted,
    WorkflowFailed,
    WorkflowNotFound,
)

SETTINGS = ConnectSettings(address="temporal.example:7233", namespace="orders")
REFUSED = "Failed client connect: Server connection error: tonic::transport::Error(Transport, "
REFUSED += 'ConnectError(ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111, '
REFUSED += 'kind: ConnectionRefused, message: "Connection refused" })))'


def facts(error: PlaybookError) -> dict[str, Any]:
    """What a caller of the core can read off an error."""
    seen: dict[str, Any] = {"class": type(error), "message": str(error), "exit": error.exit_code}
    if isinstance(error, TemporalError):
        seen.update(
            operation=error.operation,
            workflow_id=error.workflow_id,
            run_id=error.run_id,
            error_type=error.error_type,
            details=error.details,
        )
    if isinstance(error, WorkflowFailed):
        seen["status"] = error.status
    if isinstance(error, ConnectionFailed):
        seen.update(address=error.address, namespace=error.namespace)
    return seen


def of(
    message: str,
    cls: type[TemporalError],
    error_type: str,
    *,
    exit: int = 1,
    operation: str = "signal",
    details: Any = None,
    **more: Any,
) -> dict[str, Any]:
    return {
        "class": cls,
        "message": message,
        "exit": exit,
        "operation": operation,
        "workflow_id": "w",
        "run_id": "r1",
        "error_type": error_type,
        "details": details,
        **more,
    }


def signal_error(error: BaseException) -> PlaybookError:
    return translate(error, operation="signal", workflow_id="w", run_id="r1", name="go")


SERVER_TROUBLE = "signal 'go' on workflow 'w' failed: the server answered {}: boom; check that "
SERVER_TROUBLE += "the server is up and reachable"
REFUSED_BY = "signal 'go' on workflow 'w' was refused by the server: boom"
RPC_CASES: dict[RPCStatusCode, tuple[type[TemporalError], str, str]] = {
    RPCStatusCode.OK: (TemporalError, "Ok", REFUSED_BY),
    RPCStatusCode.CANCELLED: (TemporalError, "Cancelled", REFUSED_BY),
    RPCStatusCode.UNKNOWN: (ServerError, "ServerError", SERVER_TROUBLE.format("UNKNOWN")),
    RPCStatusCode.INVALID_ARGUMENT: (TemporalError, "InvalidArgument", REFUSED_BY),
    RPCStatusCode.DEADLINE_EXCEEDED: (
        OperationTimeout,
        "Timeout",
        "signal 'go' on workflow 'w' timed out: boom",
    ),
    RPCStatusCode.NOT_FOUND: (
        WorkflowNotFound,
        "WorkflowNotFound",
        "signal 'go' failed: workflow 'w' was not found or has already closed; check the "
        "workflow id and the namespace",
    ),
    RPCStatusCode.ALREADY_EXISTS: (
        WorkflowAlreadyStarted,
        "WorkflowAlreadyStarted",
        "signal 'go' failed: workflow 'w' already exists (boom)",
    ),
    RPCStatusCode.PERMISSION_DENIED: (
        ServerError,
        "ServerError",
        SERVER_TROUBLE.format("PERMISSION_DENIED"),
    ),
    RPCStatusCode.RESOURCE_EXHAUSTED: (TemporalError, "ResourceExhausted", REFUSED_BY),
    RPCStatusCode.FAILED_PRECONDITION: (TemporalError, "FailedPrecondition", REFUSED_BY),
    RPCStatusCode.ABORTED: (TemporalError, "Aborted", REFUSED_BY),
    RPCStatusCode.OUT_OF_RANGE: (TemporalError, "OutOfRange", REFUSED_BY),
    RPCStatusCode.UNIMPLEMENTED: (TemporalError, "Unimplemented", REFUSED_BY),
    RPCStatusCode.INTERNAL: (ServerError, "ServerError", SERVER_TROUBLE.format("INTERNAL")),
    RPCStatusCode.UNAVAILABLE: (ServerError, "ServerError", SERVER_TROUBLE.format("UNAVAILABLE")),
    RPCStatusCode.DATA_LOSS: (ServerError, "ServerError", SERVER_TROUBLE.format("DATA_LOSS")),
    RPCStatusCode.UNAUTHENTICATED: (
        ServerError,
        "ServerError",
        SERVER_TROUBLE.format("UNAUTHENTICATED"),
    ),
}


def test_every_rpc_status_has_a_case() -> None:
    assert set(RPC_CASES) == set(RPCStatusCode)


@pytest.mark.parametrize("status", list(RPC_CASES), ids=lambda s: s.name)
def test_rpc_error_of_each_status(status: RPCStatusCode) -> None:
    cls, error_type, message = RPC_CASES[status]
    exit = 3 if cls is ServerError else 1
    error = signal_error(RPCError("boom", status, b""))
    assert facts(error) == of(message, cls, error_type, exit=exit)


@pytest.mark.parametrize(
    ("status", "message", "said"),
    [
        (
            RPCStatusCode.DEADLINE_EXCEEDED,
            "query timed out before a worker could process it",
            ": query timed out before a worker could process it",
        ),
        (RPCStatusCode.DEADLINE_EXCEEDED, "Timeout expired", ""),
        # the client's own deadline: CANCELLED, saying timeout
        (RPCStatusCode.CANCELLED, "Timeout expired", ""),
        (RPCStatusCode.CANCELLED, "deadline: timeout after 30s", ": deadline: timeout after 30s"),
    ],
)
def test_rpc_timeouts(status: RPCStatusCode, message: str, said: str) -> None:
    error = signal_error(RPCError(message, status, b""))
    assert facts(error) == of(
        f"signal 'go' on workflow 'w' timed out{said}", OperationTimeout, "Timeout"
    )


def test_an_operation_without_a_name() -> None:
    error = translate(
        RPCError("boom", RPCStatusCode.INTERNAL, b""), operation="cancel", workflow_id="w"
    )
    assert str(error) == (
        "cancel on workflow 'w' failed: the server answered INTERNAL: boom; "
        "check that the server is up and reachable"
    )
    assert isinstance(error, ServerError)
    assert (error.operation, error.run_id) == ("cancel", None)


def ended(cause: BaseException) -> PlaybookError:
    return translate(
        temporalio.client.WorkflowFailureError(cause=cause),
        operation="await_result",
        workflow_id="w",
        run_id="r1",
    )


def test_workflow_failed_with_an_application_error() -> None:
    cause = temporalio.exceptions.ApplicationError(
        "card declined", {"code": 51}, type="PaymentFailed"
    )
    assert facts(ended(cause)) == of(
        "workflow 'w' failed: PaymentFailed: card declined",
        WorkflowFailed,
        "PaymentFailed",
        operation="await_result",
        details={"code": 51},
        status="failed",
    )


def test_workflow_failed_with_several_details_and_no_type() -> None:
    cause = temporalio.exceptions.ApplicationError("bad", 1, 2)
    assert facts(ended(cause)) == of(
        "workflow 'w' failed: ApplicationError: bad",
        WorkflowFailed,
        "ApplicationError",
        operation="await_result",
        details=[1, 2],
        status="failed",
    )


def test_workflow_failed_with_another_failure() -> None:
    cause = temporalio.exceptions.ServerError("no history", non_retryable=True)
    assert facts(ended(cause)) == of(
        "workflow 'w' failed: ServerError: no history",
        WorkflowFailed,
        "ServerError",
        operation="await_result",
        status="failed",
    )


@pytest.mark.parametrize(
    ("cause", "message", "status", "error_type"),
    [
        (
            temporalio.exceptions.CancelledError(),
            "workflow 'w' was canceled",
            "canceled",
            "Canceled",
        ),
        (
            temporalio.exceptions.TerminatedError("by ops"),
            "workflow 'w' was terminated: by ops",
            "terminated",
            "Terminated",
        ),
        (
            temporalio.exceptions.TerminatedError(""),
            "workflow 'w' was terminated",
            "terminated",
            "Terminated",
        ),
        (
            temporalio.exceptions.TimeoutError("run timeout", type=None, last_heartbeat_details=[]),
            "workflow 'w' timed out (run timeout)",
            "timed_out",
            "TimedOut",
        ),
        (
            temporalio.exceptions.TimeoutError("", type=None, last_heartbeat_details=[]),
            "workflow 'w' timed out (execution timeout)",
            "timed_out",
            "TimedOut",
        ),
    ],
)
def test_workflow_closed_otherwise(
    cause: BaseException, message: str, status: str, error_type: str
) -> None:
    assert facts(ended(cause)) == of(
        message, WorkflowFailed, error_type, operation="await_result", status=status
    )


def test_continued_as_new() -> None:
    error = translate(
        temporalio.client.WorkflowContinuedAsNewError("r2"),
        operation="await_result",
        workflow_id="w",
        run_id="r1",
    )
    assert facts(error) == of(
        "workflow 'w' continued as new (run r2); set follow_runs: true to wait for the last run",
        WorkflowFailed,
        "ContinuedAsNew",
        operation="await_result",
        status="continued_as_new",
    )


def test_already_started() -> None:
    error = translate(
        temporalio.exceptions.WorkflowAlreadyStartedError("w", "Order"),
        operation="start",
        workflow_id="w",
        run_id="r1",
        name="Order",
    )
    assert facts(error) == of(
        "start 'Order' failed: workflow 'w' is already running; give the create step an "
        "id_conflict_policy (use_existing or terminate_existing) or another workflow_id",
        WorkflowAlreadyStarted,
        "WorkflowAlreadyStarted",
        operation="start",
    )


@pytest.mark.parametrize(
    ("status", "said"), [(WorkflowExecutionStatus.COMPLETED, "completed"), (None, "closed")]
)
def test_query_rejected(status: WorkflowExecutionStatus | None, said: str) -> None:
    error = translate(
        temporalio.client.WorkflowQueryRejectedError(status),
        operation="query",
        workflow_id="w",
        run_id="r1",
        name="status",
    )
    assert facts(error) == of(
        f"query 'status' on workflow 'w' was rejected: the workflow is {said}",
        QueryFailed,
        "QueryRejected",
        operation="query",
    )


def test_query_failed() -> None:
    error = translate(
        temporalio.client.WorkflowQueryFailedError("no handler for 'statu'"),
        operation="query",
        workflow_id="w",
        run_id="r1",
        name="statu",
    )
    assert facts(error) == of(
        "query 'statu' on workflow 'w' failed: no handler for 'statu'",
        QueryFailed,
        "QueryFailed",
        operation="query",
    )


def update_failed() -> PlaybookError:
    cause = temporalio.exceptions.ApplicationError("amount 3 is too low", 3, type="InvalidAmount")
    return translate(
        temporalio.client.WorkflowUpdateFailedError(cause),
        operation="update",
        workflow_id="w",
        run_id="r1",
        name="pay",
    )


def test_update_failed() -> None:
    assert facts(update_failed()) == of(
        "update 'pay' on workflow 'w' failed: InvalidAmount: amount 3 is too low",
        UpdateFailed,
        "InvalidAmount",
        operation="update",
        details=3,
    )


def test_update_rejected() -> None:
    failed = update_failed()
    assert isinstance(failed, UpdateFailed)
    assert facts(update_rejected(failed, "pay")) == of(
        "update 'pay' on workflow 'w' was rejected: InvalidAmount: amount 3 is too low",
        UpdateRejected,
        "InvalidAmount",
        operation="update",
        details=3,
    )


@pytest.mark.parametrize(
    "error",
    [
        temporalio.client.RPCTimeoutOrCancelledError(),
        temporalio.client.WorkflowUpdateRPCTimeoutOrCancelledError(),
    ],
)
def test_rpc_timeout_or_cancelled(error: BaseException) -> None:
    translated = translate(error, operation="update", workflow_id="w", run_id="r1", name="pay")
    assert facts(translated) == of(
        "update 'pay' on workflow 'w' timed out waiting for the server; is a worker polling the "
        "workflow's task queue? (at most 10 updates may be in flight per workflow)",
        OperationTimeout,
        "Timeout",
        operation="update",
    )


def test_a_bound_of_the_core_that_ran_out() -> None:
    error = translate(
        asyncio.TimeoutError(),
        operation="query",
        workflow_id="w",
        run_id="r1",
        name="status",
        timeout=1.5,
        task_queue="orders",
    )
    assert facts(error) == of(
        "query on workflow 'w' did not finish within 1.5s (task queue 'orders')",
        OperationTimeout,
        "Timeout",
        operation="query",
    )
    unbounded = translate(asyncio.TimeoutError(), operation="await_result", workflow_id="w")
    assert str(unbounded) == "await_result on workflow 'w' did not finish in time"


def test_no_worker_polling() -> None:
    error = translate(
        asyncio.TimeoutError(), operation="await_result", workflow_id="w", run_id="r1", timeout=0.5
    )
    assert isinstance(error, OperationTimeout)
    assert facts(no_worker_polling(error, "orders")) == of(
        "await_result on workflow 'w' did not finish within 0.5s; no worker is polling task "
        "queue 'orders': start a worker for it (or use --worker)",
        OperationTimeout,
        "Timeout",
        operation="await_result",
    )


def test_the_bridge_cannot_connect() -> None:
    assert facts(signal_error(RuntimeError(REFUSED))) == of(
        "signal 'go' on workflow 'w' failed: cannot reach the server (connection refused); "
        "check that it is up",
        ServerError,
        "ServerError",
        exit=3,
    )


def test_a_bad_address_met_by_a_lazy_client() -> None:
    error = translate(
        ValueError("invalid target URL: invalid port number"),
        operation="start",
        workflow_id="w",
        settings=SETTINGS,
    )
    assert facts(error) == {
        "class": ConnectionFailed,
        "exit": 3,
        "address": "temporal.example:7233",
        "namespace": "orders",
        "message": "could not connect to Temporal: the address 'temporal.example:7233' is not "
        "valid (invalid port number); give host:port, for example localhost:7233",
    }


def test_other_errors() -> None:
    assert facts(signal_error(RuntimeError("a bridge panic"))) == of(
        "signal 'go' on workflow 'w' failed: RuntimeError: a bridge panic",
        TemporalError,
        "TemporalError",
    )
    direct = temporalio.exceptions.ApplicationError("raised", "x", type="Oops")
    assert facts(signal_error(direct)) == of(
        "signal 'go' on workflow 'w' failed: Oops: raised", TemporalError, "Oops", details="x"
    )
    ours = WorkflowNotFound("already ours", operation="signal", workflow_id="w")
    assert signal_error(ours) is ours


def test_failure_facts_of_nothing_and_of_a_plain_exception() -> None:
    assert failure_facts(None) == ("Unknown", "no failure was given", None)
    assert failure_facts(KeyError("k")) == ("KeyError", "'k'", None)


def test_what_is_translated() -> None:
    assert translatable(RPCError("x", RPCStatusCode.INTERNAL, b""))
    assert translatable(temporalio.client.WorkflowQueryFailedError("x"))
    assert translatable(RuntimeError("Failed client connect"))
    assert translatable(asyncio.TimeoutError())
    assert translatable(ValueError("invalid target URL: empty host"))
    # our own bugs are not temporalio's: they stay what they are
    assert not translatable(ValueError("too many values to unpack"))
    assert not translatable(KeyError("status"))
    assert not translatable(TypeError("not JSON serializable"))


def test_the_old_module_still_translates() -> None:
    assert playbook.core.translate.translate is translate


def connecting(error: BaseException, **kwargs: Any) -> dict[str, Any]:
    failed = connection_failed(error, SETTINGS, **kwargs)
    assert (failed.exit_code, failed.address, failed.namespace) == (
        3,
        "temporal.example:7233",
        "orders",
    )
    assert failed is error or isinstance(failed, ConnectionFailed)
    return {"class": type(failed), "message": str(failed)}


WHERE = "Temporal at temporal.example:7233 (namespace 'orders')"
CHECK = "check the address and that the server is up (or use --dev-server)"


@pytest.mark.parametrize(
    ("error", "kwargs", "message"),
    [
        (
            ValueError("invalid target URL: invalid international domain name"),
            {},
            "could not connect to Temporal: the address 'temporal.example:7233' is not valid (invalid "
            "international domain name); give host:port, for example localhost:7233",
        ),
        (
            ValueError("invalid target URL"),
            {},
            "could not connect to Temporal: the address 'temporal.example:7233' is not valid (not a "
            "host:port); give host:port, for example localhost:7233",
        ),
        (
            asyncio.TimeoutError(),
            {"timeout": 2.5},
            f"could not connect to {WHERE}: no answer within 2.5s; {CHECK}",
        ),
        (asyncio.TimeoutError(), {}, f"could not connect to {WHERE}: no answer; {CHECK}"),
        (
            RPCError("namespace not found", RPCStatusCode.NOT_FOUND, b""),
            {},
            "namespace 'orders' does not exist on Temporal at temporal.example:7233; create it "
            "(temporal operator namespace create --namespace orders) or choose another with "
            "--namespace",
        ),
        (
            RPCError("bad key", RPCStatusCode.UNAUTHENTICATED, b""),
            {},
            f"{WHERE} refused our credentials (bad key); check the API key or TLS settings",
        ),
        (
            RPCError("no", RPCStatusCode.PERMISSION_DENIED, b""),
            {},
            f"{WHERE} refused our credentials (no); check the API key or TLS settings",
        ),
        (
            RPCError("overloaded", RPCStatusCode.UNAVAILABLE, b""),
            {},
            f"could not connect to {WHERE}: overloaded",
        ),
        (
            RuntimeError(REFUSED),
            {"timeout": 5.0},
            f"could not connect to {WHERE}: connection refused; {CHECK}",
        ),
        (
            RuntimeError(REFUSED),
            {"lazy": True},
            "could not set up a client for Temporal at temporal.example:7233: connection refused",
        ),
        (
            ValueError("header value is not ASCII"),
            {},
            f"could not connect to {WHERE}: ValueError: header value is not ASCII; {CHECK}",
        ),
    ],
)
def test_connection_failed(error: BaseException, kwargs: dict[str, Any], message: str) -> None:
    assert connecting(error, **kwargs) == {"class": ConnectionFailed, "message": message}


def test_connection_failed_keeps_ours() -> None:
    ours = ConnectionFailed("already said", address="temporal.example:7233", namespace="orders")
    assert connection_failed(ours, SETTINGS) is ours


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (REFUSED, "connection refused"),
        ("Failed client connect: ... dns error ...", "dns error"),
        ("Failed client connect: No route to host", "no route to host"),
        ("Failed client connect: invalid peer certificate: UnknownIssuer", "certificate"),
        (
            "Failed client connect: received corrupt message of type InvalidContentType",
            "the server does not speak TLS (TLS is on: --tls, a tls setting or an API key turns it "
            "on); use --no-tls for a server without TLS",
        ),
        ("Failed client connect: something else\nand more", "something else"),
        ("", "unknown error"),
    ],
)
def test_short_reason(text: str, reason: str) -> None:
    assert short_reason(text) == reason
