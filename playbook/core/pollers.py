"""Whether a worker polls a workflow's task queue *now*, from the server's task-queue view.

The server keeps listing a poller for minutes after its worker went away (the dev server
showed the previous run's poller), so presence says little. A queue has a worker when the
server reports a poll within :data:`RECENT_POLL`: the SPEC's minute, plus 10 seconds,
because an idle worker's long poll is renewed only about once a minute (55 s on the dev
server) and the server's clock may run a little ahead of ours. :func:`no_worker_words` says
what a message should: nothing (a worker polls), "no worker is polling" (none ever listed)
or "no worker has polled ... since <time>" (only stale pollers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import temporalio.api.enums.v1 as enums
import temporalio.api.taskqueue.v1
import temporalio.api.workflowservice.v1

from playbook.durations import format_duration
from playbook.errors import OperationTimeout

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.core.stub import WorkflowStub

RECENT_POLL = timedelta(seconds=70)
_RPC_TIMEOUT = timedelta(seconds=2)


@dataclass(frozen=True)
class QueueView:
    """A task queue and the last poll time of each poller the server lists for it."""

    task_queue: str
    last_polls: tuple[datetime, ...] = ()

    def recent(self, now: datetime) -> bool:
        """Whether a worker polled within :data:`RECENT_POLL` of ``now``."""
        return any(now - polled <= RECENT_POLL for polled in self.last_polls)


def no_worker_words(view: QueueView, now: datetime, namespace: str | None = None) -> str | None:
    """What a timeout's message should add about the queue's workers (``None``: one polls);
    the preflight's line names the ``namespace`` too."""
    if view.recent(now):
        return None
    where = f"task queue '{view.task_queue}'" + (
        f" in namespace '{namespace}'" if namespace else ""
    )
    if not view.last_polls:
        return f"no worker is polling {where}"
    last = max(view.last_polls)
    when = last.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"no worker has polled {where} since {when} ({format_duration(now - last)} ago)"


def no_worker_polling(
    error: OperationTimeout, view: QueueView | str, now: datetime | None = None
) -> OperationTimeout:
    """``error``, told that no worker polls the workflow's task queue (``view``, or the
    queue's name when it has no poller at all): the most common cause of a result, query or
    update that times out."""
    if isinstance(view, str):
        view = QueueView(view)
    said = no_worker_words(view, now or datetime.now(timezone.utc)) or ""
    return OperationTimeout(
        f"{error}; {said}: start a worker for it (or use --worker)", **error.facts()
    )


async def read_queue(stub: WorkflowStub) -> QueueView:
    """The workflow's task queue (asked of the server for a stub of an existing execution)
    and its workflow pollers."""
    task_queue = stub.task_queue
    if not task_queue:
        handle = stub.client.get_workflow_handle(stub.workflow_id, run_id=stub.run_id)
        task_queue = (await handle.describe(rpc_timeout=_RPC_TIMEOUT)).task_queue
    return await queue_view(stub.client, task_queue)


async def queue_view(
    client: Client, task_queue: str, timeout: timedelta = _RPC_TIMEOUT
) -> QueueView:
    """``task_queue`` and its workflow pollers, as the server lists them."""
    response = await client.workflow_service.describe_task_queue(
        temporalio.api.workflowservice.v1.DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=temporalio.api.taskqueue.v1.TaskQueue(
                name=task_queue, kind=enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            task_queue_type=enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=timeout,
    )
    return QueueView(task_queue, _polled(response.pollers))


def _polled(pollers: Sequence[temporalio.api.taskqueue.v1.PollerInfo]) -> tuple[datetime, ...]:
    return tuple(
        p.last_access_time.ToDatetime(timezone.utc)
        for p in pollers
        if p.HasField("last_access_time")
    )
