"""``playbook worker``: hosts the interpreter (:class:`~playbook.durable.interpreter.
PlaybookRun` and its call activities) on a task queue, and the ``--worker`` modules beside
it, until SIGINT or SIGTERM.

The workflow runs without temporalio's sandbox (``UnsandboxedWorkflowRunner``): the
interpreter is the runner of a local run, which imports Jinja and the whole of
``playbook``; the sandbox would import all of it afresh for every run and refuses some of
what it does at import. Determinism does not rest on the sandbox here but on what the
interpreter is given (docs/durable.md): no clock, random or I/O of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TextIO

from temporalio.client import Client


@contextlib.asynccontextmanager
async def interpreter_worker(client: Client, task_queue: str) -> AsyncIterator[None]:
    """The interpreter's worker on ``task_queue`` for as long as the block lasts."""
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    from playbook.durable import sealing
    from playbook.durable.calls import Calls
    from playbook.durable.interpreter import PlaybookRun

    calls = Calls(client, sealing.worker_key())
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[PlaybookRun],
        activities=[calls.call, calls.check, calls.records],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield


async def serve(
    connection: Mapping[str, Any],
    task_queue: str,
    modules: Sequence[str] = (),
    out: TextIO = sys.stdout,
    stop: asyncio.Event | None = None,
) -> int:
    """Host the interpreter (and ``modules``) until ``stop`` is set or a signal comes."""
    from playbook import devserver
    from playbook.durable import sealing
    from playbook.environment import RunEnvironment

    sealing.worker_key()  # a bad key is said before anything starts
    devserver.quiet_runtime(forward=bool(modules))
    environment = RunEnvironment(connection, workers=modules)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, stop.set)
    async with environment:
        found = environment.connection()
        client = await environment.client(replace(found, lazy=False))
        await environment.host_workers()
        async with interpreter_worker(client, task_queue):
            out.write(
                f"playbook worker: polling task queue '{task_queue}' in namespace "
                f"'{client.namespace}' at {found.address}; Ctrl-C stops it\n"
            )
            out.flush()
            await stop.wait()
    out.write("playbook worker: stopped\n")
    out.flush()
    return 0
