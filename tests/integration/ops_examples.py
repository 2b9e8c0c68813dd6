"""What the ops example playbooks (playbooks/runbook-batch-terminate.yaml,
playbooks/runbook-schedule-pause.yaml) need on the server before they run: running
workflows for the batch to find, a schedule to pause. Used by test_examples.py's CASES and
by the tests of those runbooks."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

DEMO_QUEUE = "playbook-demo"


async def _long_runners(address: str, prefix: str, count: int) -> None:
    client = await Client.connect(address)
    for index in range(count):
        await client.start_workflow(
            "LongRunningWorkflow",
            args=[f"load-{index}"],
            id=f"{prefix}{index}",
            # a queue no worker polls: the batch meets no worker in the middle of a task
            task_queue=f"{prefix}idle",
            execution_timeout=timedelta(minutes=5),
        )
    # visibility is eventually consistent: wait (bounded) until a query sees them all
    query = running_query(prefix)
    deadline = time.monotonic() + 20
    while (await client.count_workflows(query)).count < count:
        assert time.monotonic() < deadline, f"the dev server did not list {count} in 20s"
        await asyncio.sleep(0.1)


def running_query(prefix: str) -> str:
    return f"WorkflowId STARTS_WITH '{prefix}' AND ExecutionStatus = 'Running'"


def long_runners(address: str, count: int = 3) -> str:
    """``count`` running LongRunningWorkflows (on a queue of their own, which no worker
    polls), listed by visibility by now: their id prefix."""
    prefix = f"load-{uuid.uuid4().hex[:8]}-"
    asyncio.run(_long_runners(address, prefix, count))
    return prefix


def batch_args(address: str) -> list[str]:
    prefix = long_runners(address)
    return ["-i", f"query=WorkflowId STARTS_WITH '{prefix}'", "--yes"]


async def _schedule(address: str, schedule_id: str) -> None:
    client = await Client.connect(address)
    await client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                "EchoWorkflow", args=["nightly"], id=f"{schedule_id}-run", task_queue=DEMO_QUEUE
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        ),
    )


def schedule(address: str) -> str:
    """A schedule of EchoWorkflow on the demo queue, every hour: its id."""
    schedule_id = f"nightly-{uuid.uuid4().hex[:8]}"
    asyncio.run(_schedule(address, schedule_id))
    return schedule_id


def schedule_args(address: str) -> list[str]:
    return ["-i", f"schedule_id={schedule(address)}", "-i", "incident=INC-42", "--yes"]
