"""Contender (b) of the fan-out: what one would write by hand on temporalio.

``python bench/raw_fanout.py ADDRESS COUNT CONCURRENCY`` starts and awaits COUNT
``EchoWorkflow`` executions, at most CONCURRENCY at once, and prints one JSON line:
``{"duration": seconds from before connecting to the last result, "count": COUNT}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

from temporalio.client import Client


async def main(address: str, count: int, concurrency: int) -> None:
    began = time.monotonic()
    client = await Client.connect(address)
    gate = asyncio.Semaphore(concurrency)
    prefix = f"bench-raw-{uuid.uuid4().hex[:8]}"

    async def one(index: int) -> None:
        async with gate:
            result = await client.execute_workflow(
                "EchoWorkflow", 1, id=f"{prefix}-{index}", task_queue="playbook-demo"
            )
            assert result == [1], result

    await asyncio.gather(*(one(i) for i in range(count)))
    print(json.dumps({"duration": time.monotonic() - began, "count": count}))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python bench/raw_fanout.py ADDRESS COUNT CONCURRENCY")
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    sys.stdout.flush()
    os._exit(0)  # temporalio's native threads can crash a normal interpreter exit
