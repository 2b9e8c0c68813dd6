"""Contender (b) of the per-step benchmark: signals, queries and updates in a plain loop.

``python bench/raw_steps.py ADDRESS COUNT`` starts a ``CounterWorkflow``, sends it COUNT
signals, then COUNT queries, then COUNT updates, one after another, terminates it, and
prints one JSON line with the seconds each loop took:
``{"signal": s, "query": s, "update": s, "count": COUNT}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

from temporalio.client import Client


async def main(address: str, count: int) -> None:
    client = await Client.connect(address)
    handle = await client.start_workflow(
        "CounterWorkflow", id=f"bench-raw-steps-{uuid.uuid4().hex[:8]}", task_queue="playbook-bench"
    )
    out: dict[str, float] = {}
    try:
        began = time.monotonic()
        for i in range(count):
            await handle.signal("poke", i)
        out["signal"] = time.monotonic() - began

        began = time.monotonic()
        for _ in range(count):
            await handle.query("count")
        out["query"] = time.monotonic() - began

        began = time.monotonic()
        for _ in range(count):
            await handle.execute_update("bump", 1)
        out["update"] = time.monotonic() - began
    finally:
        await handle.terminate(reason="bench done")
    print(json.dumps({**out, "count": count}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/raw_steps.py ADDRESS COUNT")
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    sys.stdout.flush()
    os._exit(0)  # temporalio's native threads can crash a normal interpreter exit
