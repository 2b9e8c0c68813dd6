"""Durable runs (SPEC section 15) on the dev server: the interpreter hosted in this
process (``interpreter_worker``, what ``playbook worker`` runs), the same playbooks run
locally and durably with the same JSON reports, approvals, cancel, detach + status +
report, and no secret in the run's history."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from playbook import demo
from playbook.commands.run import RunRequest, run_async
from playbook.durable import commands
from playbook.durable.worker import interpreter_worker

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent / "durable_playbooks"
_GENERATED = re.compile(r"[a-z]+(?:-[a-z]+)*-[0-9a-f]{12}\b")
_VOLATILE = {"started_at", "duration", "run_id", "workflow_id", "ui_link", "update_id", "tool"}


@pytest.fixture
async def hosted(client: Client, task_queue: str) -> AsyncIterator[str]:
    """The interpreter's queue; playbook.demo is served on ``task_queue``."""
    queue = f"{task_queue}-playbook"
    async with (
        Worker(client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities),
        interpreter_worker(client, queue),
    ):
        yield queue


def _request(dev_server: Any, name: str, task_queue: str, **more: Any) -> RunRequest:
    inputs = {"queue": task_queue} if "queue" in (HERE / name).read_text() else {}
    return RunRequest(
        files=[str(HERE / name)],
        inputs={**inputs, **more.pop("inputs", {})},
        connection={"address": dev_server.address},
        **more,
    )


def normalised(value: Any) -> Any:
    """A report without what differs from run to run: timings, ids, links."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):  # a generated workflow id quoted in a message or a result
        return _GENERATED.sub("<id>", value)
    return value


async def _durable(
    dev_server: Any, queue: str, name: str, task_queue: str, tmp_path: Path, **more: Any
) -> tuple[int, dict[str, Any], str]:
    request = _request(dev_server, name, task_queue, **more)
    out = io.StringIO()
    code = await _submitted(request, queue, out)
    run = _run_id(out.getvalue())
    report = tmp_path / f"durable-{name}.json"
    connection = {"address": dev_server.address}
    assert await commands.report(connection, run, {"json_report": str(report)}) == 0
    return code, json.loads(report.read_text()), out.getvalue()


async def _submitted(
    request: RunRequest, queue: str, out: io.StringIO, detach: bool = False
) -> int:
    import sys

    real, sys.stdout = sys.stdout, out  # (submit prints where a user would see it)
    try:
        return await commands.submit(request, queue, detach)
    finally:
        sys.stdout = real


def _run_id(output: str) -> str:
    found = re.search(r"^durable run: (playbook-[a-z0-9-]+)$", output, re.M)
    assert found is not None, output
    return found.group(1)


async def _local(
    dev_server: Any, name: str, task_queue: str, tmp_path: Path
) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"local-{name}.json"
    request = _request(dev_server, name, task_queue, json_report=str(report))
    code = await run_async(request)
    return code, json.loads(report.read_text())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("name", ["control.yaml", "order.yaml", "failing.yaml"])
async def test_same_report_locally_and_durably(
    dev_server: Any, hosted: str, task_queue: str, tmp_path: Path, name: str
) -> None:
    local_code, local = await _local(dev_server, name, task_queue, tmp_path)
    durable_code, durable, output = await _durable(dev_server, hosted, name, task_queue, tmp_path)
    assert durable_code == local_code == (1 if name == "failing.yaml" else 0)
    assert normalised(durable) == normalised(local)
    assert "durable run: playbook-durable-" in output
