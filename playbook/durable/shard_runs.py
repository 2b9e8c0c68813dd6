"""The shard activity of a durable run: it starts one shard (a ``PlaybookRun`` workflow in
shard mode, :mod:`.shards`) and waits for it, heartbeating, then gives the interpreter the
shard's summary; the shard's records stay in the shard's own result, out of the run's
history.

Exactly once: the shard's workflow id is derived from the run, the loop and the first
item, and it is started with ``REJECT_DUPLICATE`` and ``USE_EXISTING``: an activity
retried after a worker loss finds the shard it started (running or closed) instead of
starting another. Cancelled (the run was interrupted, or a sibling shard failed), the
activity cancels its shard, whose interrupted records then end its result, and waits a
moment for it to close.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from playbook.durable.state import pack, unpack

SHARD = "playbook_shard"
CANCEL_WAIT_SECONDS = 30.0
"""How long a cancelled shard activity waits for its shard to close."""


async def run_shard(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    """Start (or find) the shard ``request`` names and wait for it: its summary."""
    from playbook.durable.calls import heartbeating
    from playbook.durable.interpreter import WORKFLOW

    workflow_id = str(request["workflow_id"])
    try:
        await client.start_workflow(
            WORKFLOW,
            request["input"],
            id=workflow_id,
            task_queue=str(request["task_queue"]),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            memo={"playbook_shard_of": workflow_id.partition("/")[0]},
        )
    except WorkflowAlreadyStartedError:
        pass  # started by an earlier attempt of this activity, and closed since
    handle = client.get_workflow_handle(workflow_id)
    try:
        async with heartbeating():
            document = unpack(await handle.result())
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await handle.cancel()
            await asyncio.wait_for(handle.result(), CANCEL_WAIT_SECONDS)
        raise
    except WorkflowFailureError as e:
        return {"error": f"shard {workflow_id} did not complete: {e.cause or e}"}
    return pack(document["summary"])
