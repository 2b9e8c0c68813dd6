"""A task queue as the server describes it: the workers polling it and its backlog
(:func:`describe_task_queue`).

The server keeps listing a poller for a few minutes after its worker went away (see
:mod:`playbook.core.pollers`): whether a worker polls *now* is told by the pollers'
``last_access_time``.
"""

from __future__ import annotations

from typing import Any

import temporalio.api.enums.v1 as enums
import temporalio.api.taskqueue.v1
import temporalio.api.workflowservice.v1
from temporalio.client import Client

from playbook.core.aimed import aimed
from playbook.core.plain import time_of

KINDS = {
    "workflow": enums.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": enums.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}
"""The ``kind`` of a ``task_queue`` step: which of the queue's task types to describe."""


def shaped(
    name: str, kind: str, response: temporalio.api.workflowservice.v1.DescribeTaskQueueResponse
) -> dict[str, Any]:
    """``{name, kind, pollers: [{identity, last_access_time}], backlog}``; ``backlog`` is
    None when the server reports no statistics."""
    pollers = [
        {"identity": p.identity, "last_access_time": time_of(p, "last_access_time")}
        for p in response.pollers
    ]
    backlog = response.stats.approximate_backlog_count if response.HasField("stats") else None
    return {"name": name, "kind": kind, "pollers": pollers, "backlog": backlog}


async def describe_task_queue(client: Client, name: str, kind: str = "workflow") -> dict[str, Any]:
    """The pollers and backlog of task queue ``name`` (its ``kind`` tasks) in the client's
    namespace. A queue nobody ever used is described too: no pollers, backlog 0."""
    request = temporalio.api.workflowservice.v1.DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=temporalio.api.taskqueue.v1.TaskQueue(
            name=name, kind=enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL
        ),
        task_queue_type=KINDS[kind],
        report_stats=True,
    )
    response = await aimed(
        lambda: client.workflow_service.describe_task_queue(request, retry=True),
        "task_queue",
        f"task queue '{name}'",
    )
    return shaped(name, kind, response)
