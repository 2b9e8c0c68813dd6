"""The server side of run-level hygiene (SPEC section 10): the preflight's questions (does
the namespace exist, does a worker poll each queue, is each search attribute registered)
and, for ``cleanup`` and ``verify``, the facts of a workflow chain this run started and
ending it. The runner's side (what to ask, what the answers mean for the run) is
:mod:`playbook.runner.hygiene` and :mod:`playbook.runner.preflight`.

A preflight question the server refuses to answer (no permission, not implemented: a
namespace-scoped API key, the time-skipping test server) or does not answer in time
becomes a *note*: the check is skipped, the run goes on. Only a definite answer is a
*problem*.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import temporalio.api.operatorservice.v1 as osv1
import temporalio.api.workflowservice.v1 as wsv1
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from playbook.core.errors import short_reason
from playbook.core.operations import cancel, describe, terminate
from playbook.core.pollers import no_worker_words, queue_view
from playbook.core.stub import WorkflowStub
from playbook.errors import WorkflowNotFound

T = TypeVar("T")

RPC_TIMEOUT = timedelta(seconds=2)
"""Each preflight question's bound: the whole preflight answers in about a second."""
OWN_WORKERS_WAIT = 5.0
"""How long the preflight waits for the run's own ``--worker``s to show as pollers."""
_REFUSED = (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED)


class _Skipped(Exception):
    """A question the server would not (or could not) answer: a note, not a problem."""


async def _ask(what: str, make: Callable[[], Awaitable[T]]) -> T:
    try:
        return await make()
    except RPCError as e:
        if e.status in _REFUSED:
            raise _Skipped(f"{what}: the server refused ({short_reason(e.message)})") from e
        if e.status == RPCStatusCode.NOT_FOUND:
            raise
        raise _Skipped(f"{what}: the server did not answer ({short_reason(e.message)})") from e
    except (asyncio.TimeoutError, RuntimeError) as e:
        raise _Skipped(f"{what}: the server did not answer ({short_reason(str(e))})") from e


async def preflight(
    client: Client,
    task_queues: Sequence[str],
    search_attributes: Sequence[str],
    own_queues: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """The problems found and the notes on checks skipped, one line each."""
    namespace = client.namespace
    problems: list[str] = []
    notes: list[str] = []
    try:
        await _ask(
            f"namespace '{namespace}' not checked",
            lambda: client.workflow_service.describe_namespace(
                wsv1.DescribeNamespaceRequest(namespace=namespace), timeout=RPC_TIMEOUT
            ),
        )
    except _Skipped as e:
        notes.append(str(e))
    except RPCError:
        return [f"namespace '{namespace}' does not exist"], notes
    own = set(own_queues)
    checks = [_queue(client, q, q in own) for q in task_queues]
    if search_attributes:
        checks.append(_attributes(client, search_attributes))
    for said in await asyncio.gather(*checks, return_exceptions=True):
        if isinstance(said, _Skipped):
            notes.append(str(said))
        elif isinstance(said, BaseException):
            raise said
        else:
            problems.extend(said)
    return problems, notes


async def _queue(client: Client, task_queue: str, own: bool) -> list[str]:
    """A problem if no worker polled ``task_queue`` recently; for a queue of the run's own
    workers, their first poll is waited for (briefly), and never a problem."""
    what = f"task queue '{task_queue}' not checked"
    loop = asyncio.get_running_loop()
    give_up = loop.time() + (OWN_WORKERS_WAIT if own else 0.0)
    while True:
        try:
            view = await _ask(what, lambda: queue_view(client, task_queue, RPC_TIMEOUT))
        except _Skipped:
            if own:
                return []  # (counted as polled anyway: a note would say nothing)
            raise
        said = no_worker_words(view, datetime.now(timezone.utc), client.namespace)
        if said is None:
            return []
        if loop.time() >= give_up:
            return [] if own else [said]
        await asyncio.sleep(0.2)


async def _attributes(client: Client, names: Sequence[str]) -> list[str]:
    namespace = client.namespace
    response = await _ask(
        "search attributes not checked",
        lambda: client.operator_service.list_search_attributes(
            osv1.ListSearchAttributesRequest(namespace=namespace), timeout=RPC_TIMEOUT
        ),
    )
    known = {*response.custom_attributes, *response.system_attributes}
    return [
        f"search attribute '{name}' is not registered in namespace '{namespace}' "
        f"(register it with: temporal operator search-attribute create --name {name} "
        "--type TYPE)"
        for name in names
        if name not in known
    ]


# -- cleanup and verify ----------------------------------------------------------------


def _chain(client: Client, workflow_id: str, run_id: str | None) -> WorkflowStub:
    """The chain of runs that ``run_id`` started (continue-as-new followed)."""
    return WorkflowStub(client=client, workflow_id=workflow_id, run_id=run_id, started=True)


async def facts(client: Client, workflow_id: str, run_id: str | None) -> dict[str, Any] | None:
    """``describe``'s facts of the chain's last run; None when the server has none."""
    try:
        return await describe(_chain(client, workflow_id, run_id))
    except WorkflowNotFound:
        return None


async def end(client: Client, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
    """Cancel or terminate the chain's running run; False if it had closed meanwhile (or
    the workflow id now names a chain that ``run_id`` did not start)."""
    stub = _chain(client, workflow_id, run_id)
    try:
        if mode == "cancel":
            await cancel(stub, reason)
        else:
            await terminate(stub, reason)
    except WorkflowNotFound:
        return False
    return True
