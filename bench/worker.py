"""The one worker process of a bench run: ``python bench/worker.py ADDRESS``.

Hosts ``playbook.demo`` (task queue ``playbook-demo``, for ``EchoWorkflow``) and
``bench/workflows.py`` (task queue ``playbook-bench``, for ``CounterWorkflow``), prints
``ready`` once both workers poll, and runs until SIGTERM or SIGINT. It runs in a process
of its own so that the client under test never shares an event loop or a CPU slice
budget with it; every contender is served by this same worker.

Workflows run without temporalio's sandbox: the worker is not under test, and on two
cores every millisecond it spends re-importing modules per workflow is taken from the
clients being measured (equally from each).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workflows as bench_workflows

import playbook.demo as demo


async def main(address: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = UnsandboxedWorkflowRunner()
    demo_worker = Worker(
        client,
        task_queue=demo.task_queue,
        workflows=demo.workflows,
        activities=demo.activities,
        workflow_runner=runner,
    )
    bench_worker = Worker(
        client,
        task_queue=bench_workflows.task_queue,
        workflows=bench_workflows.workflows,
        workflow_runner=runner,
    )
    async with demo_worker, bench_worker:
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/worker.py ADDRESS")
    asyncio.run(main(sys.argv[1]))
    sys.stdout.flush()
    os._exit(0)  # temporalio's native threads can crash a normal interpreter exit
