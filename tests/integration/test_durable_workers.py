"""The acceptance run of durable runs (issue 17) with real ``playbook worker`` processes:
a detached run that signals a workflow 20 times in a ``foreach``, sleeps, waits on a
``confirm`` approved from the command line, updates it and awaits its result, while the
worker that ran its first half is killed with SIGKILL; the target got exactly 20 signals,
and the JUnit report has the test cases of a local run of the same playbook."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from playbook import core, demo

pytestmark = pytest.mark.integration

PLAYBOOK = Path(__file__).parent / "durable_playbooks" / "signals.yaml"


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playbook", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.fixture
def workers(dev_server: Any, task_queue: str) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    """Starts ``playbook worker`` processes on the interpreter queue; all are stopped after."""
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "playbook",
                "worker",
                "--address",
                dev_server.address,
                "--task-queue",
                f"{task_queue}-playbook",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"playbook worker: polling task queue '{task_queue}-playbook'"), line
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()  # (else a ResourceWarning fails a later test)


async def _cli_async(*args: str) -> subprocess.CompletedProcess[str]:
    """The command, on a thread: this test's event loop hosts the demo worker meanwhile."""
    return await asyncio.to_thread(_cli, *args)


async def _wait_for(
    text: str | Callable[[str], bool], run: str, address: str, timeout: float = 60
) -> str:
    """The status of ``run`` once it shows ``text`` (or passes the check)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = (await _cli_async("status", run, "--address", address)).stdout
        if text(shown) if callable(text) else text in shown:
            return shown
        assert time.monotonic() < deadline, f"{text!r} not in the status in time:\n{shown}"
        await asyncio.sleep(0.3)


def _in_the_loop(status: str) -> bool:
    """Some iterations of the loop have run, most have not."""
    found = re.search(r"^running: (\d+) steps finished$", status, re.M)
    return found is not None and 6 <= int(found.group(1)) <= 30


@pytest.mark.timeout(300)  # a lost worker's call is retried after its heartbeat timeout
async def test_a_durable_run_survives_a_killed_worker(
    dev_server: Any,
    client: Client,
    task_queue: str,
    workers: Callable[[], subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    address = dev_server.address
    async with Worker(
        client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities
    ):
        local_xml = tmp_path / "local.xml"
        local_run = asyncio.ensure_future(  # (side by side: it sleeps as long as the run)
            _cli_async(
                "run",
                str(PLAYBOOK),
                "--address",
                address,
                "--yes",
                "-i",
                f"queue={task_queue}",
                "--junit-xml",
                str(local_xml),
            )
        )
        first = workers()
        submitted = await _cli_async(
            "run",
            str(PLAYBOOK),
            "--durable",
            "--detach",
            "--address",
            address,
            "--task-queue",
            f"{task_queue}-playbook",
            "-i",
            f"queue={task_queue}",
        )
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        found = re.search(r"^durable run: (\S+)$", submitted.stdout, re.M)
        assert found is not None, submitted.stdout
        run = found.group(1)
        await _wait_for(_in_the_loop, run, address)  # the loop is under way on `first`
        workers()
        first.send_signal(signal.SIGKILL)
        first.wait()
        await _wait_for("waiting for approval: step go: pay for 20 items?", run, address, 120)
        approved = await _cli_async("approve", run, "--address", address)
        assert approved.stdout == "approved: step go: pay for 20 items?\n", approved.stderr
        status = await _wait_for("passed: durable signals", run, address)
        assert "FAIL" not in status
        durable_xml = tmp_path / "durable.xml"
        reported = await _cli_async(
            "report", run, "--address", address, "--junit-xml", str(durable_xml)
        )
        assert reported.returncode == 0, reported.stderr
        local = await local_run
        assert local.returncode == 0, local.stdout + local.stderr
    cases = _steps_of(durable_xml)
    assert len(cases) == 49  # 2 + the loop and its 40 steps + 5 + finally
    assert cases[3] == "steps[2].foreach[0].steps[0]: signal order"
    assert cases == _steps_of(local_xml)
    target = re.search(r"workflow (order-workflow-[0-9a-f]+)", status)
    assert target is not None, status
    final = await core.get_result(core.create_workflow(client, target.group(1)), timeout=10)
    assert final["total"] == 200  # 20 signals of one ABC at 10 each: none lost, none twice


def _steps_of(path: Path) -> list[str]:
    """The JUnit test case names, in order."""
    return [case.get("name", "") for case in ET.parse(path).getroot().iter("testcase")]
