"""Handler names checked against what the workflow type declares (SPEC section 10).

Before a signal, query or update, :func:`check` looks the name up in the type's declared
handlers, which the built-in ``__temporal_workflow_metadata`` query reads once per type per
run into the run's :class:`~playbook.coverage.HandlerLedger`. A name that the type does not
declare, and that no dynamic handler catches, fails the step at once, with "did you mean".
Where the metadata cannot be read (no worker yet, an SDK without the query, a timeout) the
call goes on unchecked, and the read is tried again at the next call.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import temporalio.api.sdk.v1

from playbook import deadline
from playbook.core.stub import WorkflowStub
from playbook.coverage import PLURALS, Declared, HandlerLedger
from playbook.errors import TemporalError
from playbook.suggest import did_you_mean

METADATA_QUERY = "__temporal_workflow_metadata"


class UnknownHandler(TemporalError):
    """A signal, query or update name that the workflow's type does not declare."""


READ_TIMEOUT = 2.0
"""Seconds a metadata read may take. It needs a worker, which a signal does not: without
one, a signal waits this long, unchecked, rather than the server's 30 s."""


async def read(stub: WorkflowStub) -> Declared | None:
    """The declared handlers of ``stub``'s execution (its latest run), or ``None`` when its
    worker does not tell within :data:`READ_TIMEOUT`."""
    left = deadline.remaining()  # a step's timeout bounds this read too
    bound = READ_TIMEOUT if left is None else min(READ_TIMEOUT, left)
    query = stub.handle().query(
        METADATA_QUERY,
        result_type=temporalio.api.sdk.v1.WorkflowMetadata,
        rpc_timeout=timedelta(seconds=max(bound, 0.001)),
    )
    try:
        metadata = await asyncio.wait_for(query, bound)
    # Every way of not telling (an RPC error, a query failed or rejected, a payload that
    # does not decode, a timeout) means the same here: the call goes on unchecked.
    except Exception:
        return None
    definition = metadata.definition
    names = {
        "signal": [d.name for d in definition.signal_definitions],
        "query": [d.name for d in definition.query_definitions],
        "update": [d.name for d in definition.update_definitions],
    }
    return Declared.of(definition.type or stub.workflow_type or "", names)


async def check(ledger: HandlerLedger, stub: WorkflowStub, kind: str, name: str) -> None:
    """Fail at once if ``stub``'s workflow type does not declare handler ``name`` of ``kind``
    (``signal``, ``query``, ``update``); count the call in ``ledger`` otherwise."""
    workflow_type = stub.workflow_type or ledger.types.get(stub.workflow_id)
    declared = ledger.declared.get(workflow_type) if workflow_type else None
    fresh = declared is None
    if declared is None:  # unread so far, or unreadable last time: SPEC says read again
        declared = await _learn(ledger, stub)
    if declared is not None and not declared.accepts(kind, name) and not fresh:
        # handlers can be registered while a workflow runs: ask this execution first
        declared = await _learn(ledger, stub)
    if declared is not None and not declared.accepts(kind, name):
        raise UnknownHandler(
            unknown_message(declared, kind, name),
            operation=kind,
            workflow_id=stub.workflow_id,
            run_id=stub.run_id,
        )
    if declared is not None:
        workflow_type = workflow_type or declared.workflow_type
    ledger.call(workflow_type, kind, name)


async def _learn(ledger: HandlerLedger, stub: WorkflowStub) -> Declared | None:
    declared = await read(stub)
    return None if declared is None else ledger.learn(stub.workflow_id, declared)


def unknown_message(declared: Declared, kind: str, name: str) -> str:
    """``workflow type 'Order' has no signal 'add_iten' (it has: add_item, cancel); did you
    mean 'add_item'?``"""
    names = declared.shown(kind)
    has = f"it has: {', '.join(names)}" if names else f"it has no {PLURALS[kind]}"
    return (
        f"workflow type '{declared.workflow_type}' has no {kind} '{name}' ({has})"
        f"{did_you_mean(name, names)}"
    )
