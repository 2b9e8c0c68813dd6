"""The one place where temporalio's exceptions become the project's errors.

- :func:`translate`: what an operation of the client core raised (RPC errors of every
  status, workflow, query and update failures, continue-as-new, the bridge's
  ``RuntimeError``, a timeout of a call the core bounds, a codec server's refusal) -> a :class:`TemporalError`, or a
  :class:`ConnectionFailed` when a lazy client meets a bad address;
- :func:`connection_failed`: what connecting raised -> a :class:`ConnectionFailed` naming
  the address (exit 3);
- :func:`update_rejected` (and :func:`~playbook.core.pollers.no_worker_polling`, kept
  importable from here): the words for what :mod:`playbook.core.guard` learns from the
  server after a failure.

A broken connection's own text (``h2 protocol error``, ``transport error``) never reaches a
message: on a call that waits (:data:`WAITING`) it is a timeout, on any other a server
that could not be reached.

Everything here is pure, so each translation is tested offline. Each message names the
operation, the workflow and what to do; callers chain the temporalio exception as
``__cause__`` for anyone who wants it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import temporalio.client
import temporalio.exceptions
import temporalio.service
from temporalio.service import RPCStatusCode

from playbook.core.causes import root_note
from playbook.core.codec import CodecFailed
from playbook.core.pollers import no_worker_polling
from playbook.errors import (
    ConnectionFailed,
    OperationTimeout,
    QueryFailed,
    ServerError,
    TemporalError,
    UpdateFailed,
    UpdateRejected,
    WorkflowAlreadyStarted,
    WorkflowFailed,
    WorkflowNotFound,
)

if TYPE_CHECKING:
    from playbook.core.connection import ConnectSettings

_SERVER_TROUBLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.DATA_LOSS,
    RPCStatusCode.UNAUTHENTICATED,
    RPCStatusCode.PERMISSION_DENIED,
}
# The bridge's words for a target it cannot parse (a ValueError, raised on connecting).
_BAD_TARGET = "invalid target URL"
# What the bridge says when an HTTP/2 connection or stream breaks: a proxy or the server
# dropped a call it held open, or the server went away.
_TRANSPORT = ("h2 protocol error", "http2 error", "transport error", "connection reset")
# ... and when it cannot connect at all, which has words of its own.
_CONNECTING = ("client connect", "connect error", "trying to connect")

WAITING = frozenset(
    {"await_result", "await_update", "query", "update", "start_update", "update_with_start"}
)
"""The operations that wait for a worker to act on the workflow."""


def translatable(error: BaseException) -> bool:
    """Whether ``error`` came from temporalio, its bridge or a bound the core put on a call.

    Anything else (a ``KeyError`` in our own code, say) is a bug and is not translated."""
    if isinstance(error, ValueError):
        return _bad_target(error)
    return isinstance(
        error,
        (temporalio.exceptions.TemporalError, RuntimeError, asyncio.TimeoutError, CodecFailed),
    )


def _bad_target(error: BaseException) -> bool:
    return isinstance(error, ValueError) and str(error).startswith(_BAD_TARGET)


def failure_facts(error: BaseException | None) -> tuple[str, str, Any]:
    """(type, message, details) of a Temporal failure, as a workflow or update raised it."""
    if isinstance(error, temporalio.exceptions.ApplicationError):
        return error.type or "ApplicationError", error.message, _plain(list(error.details))
    if isinstance(error, temporalio.exceptions.FailureError):
        return type(error).__name__, error.message, None
    if error is None:
        return "Unknown", "no failure was given", None
    return type(error).__name__, str(error), None


def _plain(details: list[Any]) -> Any:
    if not details:
        return None
    return details[0] if len(details) == 1 else details


def workflow_ended(
    error: temporalio.client.WorkflowFailureError,
    operation: str,
    workflow_id: str,
    run_id: str | None,
) -> WorkflowFailed:
    """A workflow that closed as failed, canceled, terminated or timed out."""
    cause = error.cause
    error_type, message, details = failure_facts(cause)
    who = f"workflow '{workflow_id}'"
    if isinstance(cause, temporalio.exceptions.CancelledError):
        status, error_type, text = "canceled", "Canceled", f"{who} was canceled"
    elif isinstance(cause, temporalio.exceptions.TerminatedError):
        said = f": {message}" if message else ""
        status, error_type, text = "terminated", "Terminated", f"{who} was terminated{said}"
    elif isinstance(cause, temporalio.exceptions.TimeoutError):
        said = message or "execution timeout"
        status, error_type, text = "timed_out", "TimedOut", f"{who} timed out ({said})"
    else:
        status, text = "failed", f"{who} failed: {error_type}: {message}{root_note(cause)}"
    facts = {"operation": operation, "workflow_id": workflow_id, "run_id": run_id}
    return WorkflowFailed(text, status=status, error_type=error_type, details=details, **facts)


def translate(
    error: BaseException,
    *,
    operation: str,
    workflow_id: str,
    run_id: str | None = None,
    name: str | None = None,
    timeout: float | None = None,
    task_queue: str | None = None,
    settings: ConnectSettings | None = None,
) -> TemporalError | ConnectionFailed:
    """Turn what ``operation`` on ``workflow_id`` raised into ours.

    ``timeout`` and ``task_queue`` word a timeout of a call the core bounded; ``settings``
    say where the client connects (a lazy client meets a bad address only now)."""
    target = f"workflow '{workflow_id}'"
    what = f"{operation} '{name}'" if name else operation
    facts: dict[str, Any] = {"operation": operation, "workflow_id": workflow_id, "run_id": run_id}

    if isinstance(error, CodecFailed):  # raised while the call's payloads were converted
        return CodecFailed(f"{what} on {target} failed: {error}", **facts)
    if isinstance(error, TemporalError):
        return error
    if isinstance(error, asyncio.TimeoutError):
        within = f"within {timeout:g}s" if timeout is not None else "in time"
        queue = f" (task queue '{task_queue}')" if task_queue else ""
        return OperationTimeout(f"{operation} on {target} did not finish {within}{queue}", **facts)
    if settings is not None and _bad_target(error):
        return connection_failed(error, settings)
    if isinstance(error, temporalio.client.WorkflowFailureError):
        return workflow_ended(error, operation, workflow_id, run_id)
    if isinstance(error, temporalio.client.WorkflowContinuedAsNewError):
        return WorkflowFailed(
            f"{target} continued as new (run {error.new_execution_run_id}); "
            "set follow_runs: true to wait for the last run",
            status="continued_as_new",
            error_type="ContinuedAsNew",
            **facts,
        )
    if isinstance(error, temporalio.exceptions.WorkflowAlreadyStartedError):
        return WorkflowAlreadyStarted(
            f"{what} failed: {target} is already running; give the create step an "
            "id_conflict_policy (use_existing or terminate_existing) or another workflow_id",
            **facts,
        )
    if isinstance(error, temporalio.client.WorkflowQueryRejectedError):
        status = error.status.name.lower() if error.status is not None else "closed"
        return QueryFailed(
            f"query '{name}' on {target} was rejected: the workflow is {status}",
            error_type="QueryRejected",
            **facts,
        )
    if isinstance(error, temporalio.client.WorkflowQueryFailedError):
        return QueryFailed(f"query '{name}' on {target} failed: {error.message}", **facts)
    if isinstance(error, temporalio.client.WorkflowUpdateFailedError):
        error_type, message, details = failure_facts(error.cause)
        return UpdateFailed(
            f"update '{name}' on {target} failed: {error_type}: {message}{root_note(error.cause)}",
            error_type=error_type,
            details=details,
            **facts,
        )
    if isinstance(error, temporalio.client.RPCTimeoutOrCancelledError):
        return OperationTimeout(
            f"{what} on {target} timed out waiting for the server; is a worker polling the "
            "workflow's task queue? (at most 10 updates may be in flight per workflow)",
            **facts,
        )
    if _transport(error):
        return _broken(error, what, target, facts)
    if isinstance(error, temporalio.service.RPCError):
        return _refused(error, what, target, facts)
    if isinstance(error, RuntimeError) and "connect" in str(error).lower():
        return ServerError(
            f"{what} on {target} failed: cannot reach the server "
            f"({short_reason(str(error))}); check that it is up",
            **facts,
        )
    if isinstance(error, temporalio.exceptions.FailureError):
        error_type, message, details = failure_facts(error)
        return TemporalError(
            f"{what} on {target} failed: {error_type}: {message}",
            error_type=error_type,
            details=details,
            **facts,
        )
    return TemporalError(f"{what} on {target} failed: {type(error).__name__}: {error}", **facts)


def translate_aimed(
    error: BaseException, *, operation: str, target: str
) -> TemporalError | ConnectionFailed:
    """Turn what ``operation`` raised into ours, for an operation aimed at something other
    than one workflow: ``target`` names it (``schedule 'nightly'``, ``batch job 'j-1'``,
    ``the workflows matching <query>``). A missing one is a ``NotFound``, an id taken an
    ``AlreadyExists``, the server's limit on batch jobs a ``ResourceExhausted`` (retried by
    :mod:`playbook.core.batch`)."""
    facts: dict[str, Any] = {"operation": operation}
    if isinstance(error, CodecFailed):  # raised while the call's payloads were converted
        return CodecFailed(f"{operation} on {target} failed: {error}", **facts)
    if isinstance(error, TemporalError):
        return error
    if isinstance(error, asyncio.TimeoutError):
        return OperationTimeout(f"{operation} on {target} did not finish in time", **facts)
    status = error.status if isinstance(error, temporalio.service.RPCError) else None
    if status == RPCStatusCode.ALREADY_EXISTS or isinstance(
        error, temporalio.client.ScheduleAlreadyRunningError
    ):
        return TemporalError(
            f"{operation} failed: {target} already exists; delete it first or choose another id",
            error_type="AlreadyExists",
            **facts,
        )
    if status == RPCStatusCode.NOT_FOUND:
        return TemporalError(
            f"{operation} failed: {target} was not found; check the id and the namespace",
            error_type="NotFound",
            **facts,
        )
    if _transport(error):
        return _broken(error, operation, target, {**facts, "workflow_id": None})
    if isinstance(error, temporalio.service.RPCError):
        return _refused(error, operation, target, {**facts, "workflow_id": None})
    if isinstance(error, RuntimeError) and "connect" in str(error).lower():
        return ServerError(
            f"{operation} on {target} failed: cannot reach the server "
            f"({short_reason(str(error))}); check that it is up",
            **facts,
        )
    return TemporalError(
        f"{operation} on {target} failed: {type(error).__name__}: {error}", **facts
    )


def _transport(error: BaseException) -> bool:
    """A broken connection's text (not a failure to connect: that has words of its own)."""
    if not isinstance(error, (temporalio.service.RPCError, RuntimeError)):
        return False
    text = str(error).lower()
    return any(m in text for m in _TRANSPORT) and not any(m in text for m in _CONNECTING)


def _broken(error: BaseException, what: str, target: str, facts: dict[str, Any]) -> TemporalError:
    """A call whose connection broke: a timeout if it was waiting (the server held it open
    for a worker), else a server out of reach."""
    unavailable = getattr(error, "status", None) == RPCStatusCode.UNAVAILABLE
    if facts["operation"] in WAITING and not unavailable:
        return OperationTimeout(
            f"{what} on {target} timed out: the connection gave up waiting for an answer",
            **facts,
        )
    return ServerError(
        f"{what} on {target} failed: the connection to the server broke; check that the "
        "server is up and reachable",
        **facts,
    )


def _refused(
    error: temporalio.service.RPCError, what: str, target: str, facts: dict[str, Any]
) -> TemporalError:
    """An RPC error of an operation, by its status."""
    status = error.status
    if status == RPCStatusCode.DEADLINE_EXCEEDED or (
        status == RPCStatusCode.CANCELLED and "timeout" in error.message.lower()
    ):
        # e.g. a query that no worker answers: the server gives up after 30s
        said = "" if error.message.lower() == "timeout expired" else f": {error.message}"
        return OperationTimeout(f"{what} on {target} timed out{said}", **facts)
    if status == RPCStatusCode.NOT_FOUND:
        return WorkflowNotFound(
            f"{what} failed: {target} was not found or has already closed; "
            "check the workflow id and the namespace",
            **facts,
        )
    if status == RPCStatusCode.ALREADY_EXISTS:
        return WorkflowAlreadyStarted(
            f"{what} failed: {target} already exists ({error.message})", **facts
        )
    if status in _SERVER_TROUBLE:
        return ServerError(
            f"{what} on {target} failed: the server answered {status.name}: "
            f"{error.message}; check that the server is up and reachable",
            **facts,
        )
    return TemporalError(
        f"{what} on {target} was refused by the server: {error.message}",
        error_type=status.name.title().replace("_", ""),
        **facts,
    )


def update_rejected(error: TemporalError, name: str | None) -> UpdateRejected:
    """``error`` (a failed update), told that the workflow never accepted the update: its
    validator rejected it (or the workflow has no handler for it)."""
    reason = str(error).split(": ", 2)[-1]
    return UpdateRejected(
        f"update '{name}' on workflow '{error.workflow_id}' was rejected: "
        f"{error.error_type}: {reason}",
        **error.facts(),
    )


def connection_failed(
    error: BaseException,
    settings: ConnectSettings,
    *,
    timeout: float | None = None,
    lazy: bool = False,
) -> ConnectionFailed:
    """Turn what connecting as ``settings`` say raised into a :class:`ConnectionFailed`.

    ``timeout`` is the bound the connection was given; ``lazy`` says that only a client was
    set up, nothing was asked of the server."""
    address, namespace = settings.address, settings.namespace
    where = f"Temporal at {address} (namespace '{namespace}')"
    check = "check the address and that the server is up (or use --dev-server)"
    if isinstance(error, ConnectionFailed):
        return error
    if _bad_target(error):
        reason = str(error).removeprefix(_BAD_TARGET).lstrip(": ") or "not a host:port"
        message = (
            f"could not connect to Temporal: the address '{address}' is not valid ({reason}); "
            "give host:port, for example localhost:7233"
        )
    elif isinstance(error, asyncio.TimeoutError):
        within = f" within {timeout:g}s" if timeout is not None else ""
        message = f"could not connect to {where}: no answer{within}; {check}"
    elif isinstance(error, temporalio.service.RPCError):
        if error.status == RPCStatusCode.NOT_FOUND:
            message = (
                f"namespace '{namespace}' does not exist on Temporal at {address}; "
                f"create it (temporal operator namespace create --namespace {namespace}) "
                "or choose another with --namespace"
            )
        elif error.status in (RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED):
            message = (
                f"{where} refused our credentials ({error.message}); "
                "check the API key or TLS settings"
            )
        else:
            message = f"could not connect to {where}: {error.message}"
    elif lazy:
        message = f"could not set up a client for Temporal at {address}: {short_reason(str(error))}"
    elif isinstance(error, RuntimeError):
        message = f"could not connect to {where}: {short_reason(str(error))}; {check}"
    else:
        message = f"could not connect to {where}: {type(error).__name__}: {error}; {check}"
    return ConnectionFailed(message, address=address, namespace=namespace)


def short_reason(text: str) -> str:
    """The bridge's connection errors are long chains; keep the innermost useful part."""
    text = text.replace("Failed client connect: ", "").strip()
    if "InvalidContentType" in text:  # rustls met a plain-text answer to its TLS hello
        return (
            "the server does not speak TLS (TLS is on: --tls, a tls setting or an API key "
            "turns it on); use --no-tls for a server without TLS"
        )
    for marker in ("Connection refused", "dns error", "No route to host", "certificate"):
        if marker.lower() in text.lower():
            return marker.lower() if marker != "Connection refused" else "connection refused"
    return text.splitlines()[0][:200] if text else "unknown error"


__all__ = [
    "WAITING",
    "connection_failed",
    "failure_facts",
    "no_worker_polling",
    "short_reason",
    "translatable",
    "translate",
    "translate_aimed",
    "update_rejected",
    "workflow_ended",
]
