"""The one place where temporalio's exceptions become the project's errors.

Each message names the operation, the workflow and what to do; the temporalio exception
stays chained as ``__cause__`` for anyone who wants it.
"""

from __future__ import annotations

from typing import Any

import temporalio.client
import temporalio.exceptions
import temporalio.service
from temporalio.service import RPCStatusCode

from playbook.errors import (
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

_SERVER_TROUBLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.DATA_LOSS,
    RPCStatusCode.UNAUTHENTICATED,
    RPCStatusCode.PERMISSION_DENIED,
}


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


def workflow_ended(error: temporalio.client.WorkflowFailureError, operation: str,
                   workflow_id: str, run_id: str | None) -> WorkflowFailed:
    cause = error.cause
    status = "failed"
    if isinstance(cause, temporalio.exceptions.CancelledError):
        status = "canceled"
    elif isinstance(cause, temporalio.exceptions.TerminatedError):
        status = "terminated"
    elif isinstance(cause, temporalio.exceptions.TimeoutError):
        status = "timed_out"
    error_type, message, details = failure_facts(cause)
    if status == "failed":
        text = f"workflow '{workflow_id}' failed: {error_type}: {message}"
    elif status == "terminated":
        text = f"workflow '{workflow_id}' was terminated" + (f": {message}" if message else "")
        error_type = "Terminated"
    elif status == "canceled":
        text = f"workflow '{workflow_id}' was canceled"
        error_type = "Canceled"
    else:
        text = f"workflow '{workflow_id}' timed out ({message or 'execution timeout'})"
        error_type = "TimedOut"
    return WorkflowFailed(text, status=status, operation=operation, workflow_id=workflow_id,
                          run_id=run_id, error_type=error_type, details=details)


def translate(error: BaseException, *, operation: str, workflow_id: str,
              run_id: str | None = None, name: str | None = None) -> TemporalError:
    """Turn a temporalio exception raised by ``operation`` on ``workflow_id`` into ours."""
    target = f"workflow '{workflow_id}'"
    what = f"{operation} '{name}'" if name else operation
    facts: dict[str, Any] = {"operation": operation, "workflow_id": workflow_id, "run_id": run_id}

    if isinstance(error, TemporalError):
        return error
    if isinstance(error, temporalio.client.WorkflowFailureError):
        return workflow_ended(error, operation, workflow_id, run_id)
    if isinstance(error, temporalio.exceptions.WorkflowAlreadyStartedError):
        return WorkflowAlreadyStarted(
            f"{what} failed: {target} is already running; give the create step an "
            "id_conflict_policy (use_existing or terminate_existing) or another workflow_id",
            **facts,
        )
    if isinstance(error, temporalio.client.WorkflowQueryRejectedError):
        status = error.status.name.lower() if error.status is not None else "closed"
        return QueryFailed(f"query '{name}' on {target} was rejected: the workflow is {status}",
                           error_type="QueryRejected", **facts)
    if isinstance(error, temporalio.client.WorkflowQueryFailedError):
        return QueryFailed(f"query '{name}' on {target} failed: {error.message}", **facts)
    if isinstance(error, temporalio.client.WorkflowUpdateFailedError):
        error_type, message, details = failure_facts(error.cause)
        return UpdateFailed(f"update '{name}' on {target} failed: {error_type}: {message}",
                            error_type=error_type, details=details, **facts)
    if isinstance(error, temporalio.client.RPCTimeoutOrCancelledError):
        return OperationTimeout(
            f"{what} on {target} timed out waiting for the server; is a worker polling the "
            "workflow's task queue? (at most 10 updates may be in flight per workflow)",
            **facts,
        )
    if isinstance(error, temporalio.service.RPCError):
        if error.status == RPCStatusCode.DEADLINE_EXCEEDED or (
                error.status == RPCStatusCode.CANCELLED and "timeout" in error.message.lower()):
            # e.g. a query that no worker answers: the server gives up after 30s
            said = "" if error.message.lower() == "timeout expired" else f": {error.message}"
            return OperationTimeout(f"{what} on {target} timed out{said}", **facts)
        if error.status == RPCStatusCode.NOT_FOUND:
            return WorkflowNotFound(
                f"{what} failed: {target} was not found or has already closed; "
                "check the workflow id and the namespace",
                **facts,
            )
        if error.status == RPCStatusCode.ALREADY_EXISTS:
            return WorkflowAlreadyStarted(f"{what} failed: {target} already exists ({error.message})",
                                          **facts)
        if error.status in _SERVER_TROUBLE:
            return ServerError(
                f"{what} on {target} failed: the server answered {error.status.name}: "
                f"{error.message}; check that the server is up and reachable",
                **facts,
            )
        return TemporalError(f"{what} on {target} was refused by the server: {error.message}",
                             error_type=error.status.name.title().replace("_", ""), **facts)
    if isinstance(error, RuntimeError) and "connect" in str(error).lower():
        from playbook.core.connection import _short_reason

        return ServerError(f"{what} on {target} failed: cannot reach the server "
                           f"({_short_reason(str(error))}); check that it is up", **facts)
    if isinstance(error, temporalio.exceptions.FailureError):
        error_type, message, details = failure_facts(error)
        return TemporalError(f"{what} on {target} failed: {error_type}: {message}",
                             error_type=error_type, details=details, **facts)
    return TemporalError(f"{what} on {target} failed: {type(error).__name__}: {error}", **facts)


__all__ = ["UpdateRejected", "failure_facts", "translate", "workflow_ended"]
