"""Batch operations on the server's batch-operation API (SPEC section 12): signal, cancel,
terminate, delete or reset every execution that a visibility query matches, never a loop
of calls from here.

The guard comes first: the query's matches are counted and listed (at most
``max_affected`` + 1); more than ``max_affected`` fails and changes nothing. The job is
then started on exactly the executions listed (the request's ``executions``, not its
query), so a workflow that starts matching in between is not touched. The server runs one
batch job per namespace at a time: a start refused for that reason is retried until the
step's deadline. With ``wait`` the job is followed to its end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import temporalio.api.batch.v1 as batch
import temporalio.api.common.v1 as common
import temporalio.api.enums.v1 as enums
import temporalio.api.workflowservice.v1 as service
from google.protobuf import empty_pb2
from temporalio.client import Client

from playbook import deadline
from playbook.core.aimed import aimed
from playbook.errors import TemporalError

OPERATIONS = ("signal", "cancel", "terminate", "delete", "reset")
RESET_TO = ("first_workflow_task", "last_workflow_task", "build_id")
DEFAULT_MAX_AFFECTED = 100
_POLL = 0.5  # seconds between looks at a running job
_IDENTITY = "temporal-playbook"

Progress = Callable[[str], None]


class BatchFailed(TemporalError):
    """A batch job that failed on some executions, or was refused by its guard."""


@dataclass(frozen=True)
class BatchRequest:
    """A ``batch`` step's fields, checked."""

    query: str
    operation: str
    reason: str
    signal: str | None = None
    args: Sequence[Any] = ()
    reset: Mapping[str, Any] = field(default_factory=dict)
    rps: float | None = None
    max_affected: int = DEFAULT_MAX_AFFECTED
    wait: bool = True


def too_many(matched: int, max_affected: int) -> str:
    """The refusal of a batch whose query matches more than ``max_affected`` workflows."""
    return f"query matches {matched:,} workflows, more than max_affected {max_affected:,}"


def check(spec: Mapping[str, Any]) -> tuple[BatchRequest | None, list[str]]:
    """A ``batch`` step's rendered fields as a request, or every problem with them."""
    problems: list[str] = []
    operation = spec.get("operation")
    if operation not in OPERATIONS:
        problems.append(f"operation: must be one of {', '.join(OPERATIONS)}, not {operation!r}")
    for name in ("query", "reason"):
        if not isinstance(spec.get(name), str) or not spec[name].strip():
            problems.append(f"{name}: required, a non-empty string")
    if operation == "signal" and not spec.get("signal"):
        problems.append("signal: required with operation: signal (the signal's name)")
    if operation != "signal" and ("signal" in spec or "args" in spec):
        problems.append("signal, args: only with operation: signal")
    reset = spec.get("reset") or {}
    if operation == "reset":
        to = reset.get("to") if isinstance(reset, Mapping) else None
        if to not in RESET_TO:
            problems.append(
                f"reset.to: required with operation: reset, one of {', '.join(RESET_TO)}"
            )
        elif to == "build_id" and not reset.get("build_id"):
            problems.append("reset.build_id: required with reset.to: build_id")
    elif "reset" in spec:
        problems.append("reset: only with operation: reset")
    max_affected = spec.get("max_affected", DEFAULT_MAX_AFFECTED)
    if isinstance(max_affected, bool) or not isinstance(max_affected, int) or max_affected < 1:
        problems.append(f"max_affected: must be a whole number of at least 1, not {max_affected!r}")
    rps = spec.get("rps")
    if rps is not None and (isinstance(rps, bool) or not isinstance(rps, (int, float)) or rps <= 0):
        problems.append(f"rps: must be a positive number, not {rps!r}")
    args = spec.get("args", [])
    if not isinstance(args, list):
        problems.append("args: must be a list, one element per argument")
    if problems:
        return None, problems
    return BatchRequest(
        query=spec["query"],
        operation=str(operation),
        reason=spec["reason"],
        signal=spec.get("signal"),
        args=tuple(args),
        reset=dict(reset),
        rps=None if rps is None else float(rps),
        max_affected=max_affected,
        wait=bool(spec.get("wait", True)),
    ), []


def start_request(
    namespace: str,
    job_id: str,
    request: BatchRequest,
    executions: Sequence[tuple[str, str]],
    payloads: Sequence[common.Payload] = (),
) -> service.StartBatchOperationRequest:
    """The server's request for a job on exactly ``executions`` ((workflow id, run id)s);
    ``payloads`` are the signal's arguments, encoded."""
    out = service.StartBatchOperationRequest(
        namespace=namespace,
        job_id=job_id,
        reason=request.reason,
        executions=[common.WorkflowExecution(workflow_id=w, run_id=r) for w, r in executions],
        max_operations_per_second=request.rps or 0.0,
    )
    if request.operation == "signal":
        out.signal_operation.CopyFrom(
            batch.BatchOperationSignal(
                signal=request.signal or "",
                input=common.Payloads(payloads=list(payloads)) if payloads else None,
                identity=_IDENTITY,
            )
        )
    elif request.operation == "cancel":
        out.cancellation_operation.CopyFrom(batch.BatchOperationCancellation(identity=_IDENTITY))
    elif request.operation == "terminate":
        out.termination_operation.CopyFrom(batch.BatchOperationTermination(identity=_IDENTITY))
    elif request.operation == "delete":
        out.deletion_operation.CopyFrom(batch.BatchOperationDeletion(identity=_IDENTITY))
    else:
        out.reset_operation.CopyFrom(
            batch.BatchOperationReset(identity=_IDENTITY, options=_reset_options(request.reset))
        )
    return out


def _reset_options(reset: Mapping[str, Any]) -> common.ResetOptions:
    """Where each workflow is reset to; the signals after that point are sent again to the
    new run, as a ``reset`` step does by default."""
    signals = enums.ResetReapplyType.RESET_REAPPLY_TYPE_SIGNAL
    to = reset.get("to")
    if to == "build_id":
        return common.ResetOptions(build_id=str(reset["build_id"]), reset_reapply_type=signals)
    if to == "first_workflow_task":
        return common.ResetOptions(
            first_workflow_task=empty_pb2.Empty(), reset_reapply_type=signals
        )
    return common.ResetOptions(last_workflow_task=empty_pb2.Empty(), reset_reapply_type=signals)


async def matches(client: Client, query: str, max_affected: int) -> list[tuple[str, str]]:
    """The executions that ``query`` matches, as (workflow id, run id); more than
    ``max_affected`` raises :class:`BatchFailed` before anything changes."""
    target = f"the workflows matching {query!r}"
    counted = await aimed(lambda: client.count_workflows(query), "batch", target)
    if counted.count > max_affected:
        raise BatchFailed(too_many(counted.count, max_affected), operation="batch")

    async def listed() -> list[tuple[str, str]]:
        found = []
        async for execution in client.list_workflows(query, limit=max_affected + 1):
            found.append((execution.id, execution.run_id))
        return found

    found = await aimed(listed, "batch", target)
    if len(found) > max_affected:
        raise BatchFailed(too_many(max(len(found), counted.count), max_affected), operation="batch")
    return found


def _busy(error: TemporalError) -> bool:
    """The server's refusal of another batch job in the namespace ("Max concurrent batch
    operations is reached", RESOURCE_EXHAUSTED)."""
    return error.error_type == "ResourceExhausted"


BUSY_LIMIT = 60.0
"""Seconds a start refused for the namespace's one job slot is retried, in a step without
a ``timeout`` (with one, until the step's deadline)."""


async def _start(client: Client, started: service.StartBatchOperationRequest) -> None:
    """Start the job; while the namespace's one job slot is taken, try again until the
    step's deadline (the runner words its running out), or for :data:`BUSY_LIMIT`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + BUSY_LIMIT
    while True:
        try:
            await aimed(
                lambda: client.workflow_service.start_batch_operation(started),
                "batch",
                f"batch job '{started.job_id}'",
            )
            return
        except TemporalError as e:
            if not _busy(e) or deadline.remaining() == 0:
                raise
            if deadline.remaining() is None and loop.time() >= end:
                raise BatchFailed(
                    f"batch: the server kept refusing to start the job for {BUSY_LIMIT:g}s: "
                    f"{e}; another batch job holds the namespace's slot (see Batch Operations "
                    "in the Temporal UI): give the step a timeout to wait longer",
                    operation="batch",
                ) from e
        await asyncio.sleep(_POLL)


_STATES = {
    enums.BatchOperationState.BATCH_OPERATION_STATE_RUNNING: "running",
    enums.BatchOperationState.BATCH_OPERATION_STATE_COMPLETED: "completed",
    enums.BatchOperationState.BATCH_OPERATION_STATE_FAILED: "failed",
}


def job_facts(job_id: str, matched: int, described: Any) -> dict[str, Any]:
    """A job's result as a step reports it."""
    return {
        "job_id": job_id,
        "matched": matched,
        "succeeded": described.complete_operation_count,
        "failed": described.failure_operation_count,
        "state": _STATES.get(described.state, "unknown"),
    }


async def describe_job(client: Client, job_id: str, matched: int) -> dict[str, Any]:
    request = service.DescribeBatchOperationRequest(namespace=client.namespace, job_id=job_id)
    described = await aimed(
        lambda: client.workflow_service.describe_batch_operation(request),
        "batch",
        f"batch job '{job_id}'",
    )
    return job_facts(job_id, matched, described)


def _finished(facts: Mapping[str, Any]) -> bool:
    if facts["state"] != "running":
        return True
    # the server may close a job a moment after its last operation: it is done for us
    done: int = facts["succeeded"] + facts["failed"]
    return bool(done >= facts["matched"] > 0)


async def run(
    client: Client,
    request: BatchRequest,
    *,
    progress: Progress | None = None,
    listed: Callable[[list[tuple[str, str]]], None] | None = None,
) -> dict[str, Any]:
    """Run the batch: ``{job_id, matched, succeeded, failed, state}``. With ``wait``, a job
    that failed on any execution raises :class:`BatchFailed` (its facts as details).
    ``listed`` is told the executions the job is started on, before it starts."""
    found = await matches(client, request.query, request.max_affected)
    if listed is not None:
        listed(found)
    if not found:  # the server takes no job without executions: there is nothing to do
        return {"job_id": None, "matched": 0, "succeeded": 0, "failed": 0, "state": "completed"}
    job_id = f"playbook-{request.operation}-{uuid.uuid4().hex[:12]}"
    payloads = await client.data_converter.encode(list(request.args)) if request.args else []
    await _start(client, start_request(client.namespace, job_id, request, found, payloads))
    facts = await describe_job(client, job_id, len(found))
    while request.wait and not _finished(facts):
        if progress is not None:
            progress(
                f"batch {request.operation}: {facts['succeeded'] + facts['failed']}/{len(found)}"
            )
        await asyncio.sleep(_POLL)
        facts = await describe_job(client, job_id, len(found))
    if request.wait and facts["state"] == "running":
        facts["state"] = "completed" if not facts["failed"] else "failed"
    if request.wait and (facts["failed"] or facts["state"] == "failed"):
        raise BatchFailed(
            f"batch {request.operation} job '{job_id}' failed on {facts['failed']} of "
            f"{len(found)} workflows ({facts['succeeded']} succeeded); see the job in the "
            "Temporal UI (Batch Operations) for each one's error",
            operation="batch",
            details=facts,
        )
    return facts
