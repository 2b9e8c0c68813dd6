"""Failures that explain themselves (SPEC section 11), against the real dev server, with
deliberately broken workflows of these tests' own: a workflow type no worker registers, a
start with the wrong number of arguments and an exception in workflow code each fail the
call that waits on them within seconds, with the worker's own words; a failure that a new
worker has since fixed does not count; a query with a step timeout and no worker fails at
that timeout and says that no worker polls."""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import temporalio.exceptions
from temporalio.client import Client
from temporalio.worker import Worker

from playbook import core
from playbook.commands.run import RunRequest, run_async
from playbook.core.task_failures import current_failure
from playbook.errors import WorkflowTaskFailed

from .broken import Crashing, Fixed, Strict

ARGS = "Strict.run() takes from 2 to 3 positional arguments but 5 were given"
ARGS_ADVICE = "check the args the start, signal or update gave against the method named"
UNREGISTERED = (
    "NotFoundError: Workflow class Strikt is not registered on this worker, available "
    "workflows: Crashing, Strict; register the workflow on the worker, or fix the create "
    "step's type"
)


@pytest.fixture
async def strict(client: Client, task_queue: str) -> AsyncIterator[str]:
    async with Worker(client, task_queue=task_queue, workflows=[Strict, Crashing]):
        yield task_queue


def failed_task(operation: str, name: str | None, workflow_id: str, said: str) -> str:
    what = f"{operation} '{name}'" if name else operation
    return (
        f"{what} on workflow '{workflow_id}' cannot finish: its workflow task fails on the "
        f"worker (WorkflowWorkerUnhandledFailure): {said}"
    )


async def started(client: Client, queue: str, kind: str, *args: Any) -> core.WorkflowStub:
    stub = core.create_workflow(client, kind, {"task_queue": queue, "task_timeout": "2s"})
    await core.start(stub, list(args))
    return stub


@pytest.mark.timeout(60)
async def test_an_unregistered_type_fails_the_wait_within_seconds(
    client: Client, strict: str
) -> None:
    stub = await started(client, strict, "Strikt")
    waits: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("await_result", lambda: core.get_result(stub)),
        ("query", lambda: core.query(stub, "status")),
    ]
    try:
        for operation, wait in waits:
            began = time.monotonic()
            with pytest.raises(WorkflowTaskFailed) as caught:
                await wait()
            assert time.monotonic() - began < 10, operation
            name = "status" if operation == "query" else None
            assert str(caught.value) == failed_task(operation, name, stub.workflow_id, UNREGISTERED)
            cause = caught.value.__cause__
            assert isinstance(cause, temporalio.exceptions.ApplicationError)
            assert cause.type == "NotFoundError"
            details = dict(caught.value.details)
            assert re.fullmatch(r"\d+@.+", details.pop("worker")), details
            assert details == {
                "cause": "WorkflowWorkerUnhandledFailure",
                "failure_type": "NotFoundError",
                "message": "Workflow class Strikt is not registered on this worker, available "
                "workflows: Crashing, Strict",
            }
    finally:
        await core.terminate(stub)


@pytest.mark.timeout(60)
async def test_a_wrong_argument_count_fails_the_wait_within_seconds(
    client: Client, strict: str
) -> None:
    stub = await started(client, strict, "Strict", 1, 2, 3, 4)
    said = f"TypeError: {ARGS}; {ARGS_ADVICE}"
    waits: list[tuple[str, str | None, Callable[[], Awaitable[Any]]]] = [
        ("await_result", None, lambda: core.get_result(stub, timeout=60)),
        ("update", "anything", lambda: core.update(stub, "anything", [1])),
    ]
    try:
        for operation, name, wait in waits:
            began = time.monotonic()
            with pytest.raises(WorkflowTaskFailed) as caught:
                await wait()
            assert time.monotonic() - began < 10, operation
            assert str(caught.value) == failed_task(operation, name, stub.workflow_id, said)
    finally:
        await core.terminate(stub)


@pytest.mark.timeout(90)
async def test_a_failure_a_new_worker_fixed_does_not_count(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=[Strict, Crashing]):
        stub = await started(client, task_queue, "Strikt")
        deadline = time.monotonic() + 20
        while await current_failure(stub) is None:
            assert time.monotonic() < deadline, "the failure never showed"
            await asyncio.sleep(0.2)
    # the deploy that registers the type: the server retries the task, which now completes
    async with Worker(client, task_queue=task_queue, workflows=[Fixed]):
        deadline = time.monotonic() + 40
        while await current_failure(stub) is not None:
            assert time.monotonic() < deadline, "the fixed worker never ran the task"
            await asyncio.sleep(0.2)
        assert await core.get_result(stub, timeout=30) == "fixed"


async def run(tmp_path: Path, text: str, address: str, queue: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "play.yaml"
    path.write_text(textwrap.dedent(text))
    report = tmp_path / "report.json"
    request = RunRequest(
        files=[str(path)],
        inputs={"tq": queue},
        connection={"address": address},
        json_report=str(report),
    )
    code = await run_async(request)
    return code, json.loads(report.read_text())["runs"][0]


@pytest.mark.timeout(60)
async def test_an_exception_in_workflow_code_fails_the_step(
    tmp_path: Path, dev_server: Any, strict: str
) -> None:
    began = time.monotonic()
    code, report = await run(
        tmp_path,
        """\
        version: 1
        name: crash
        inputs:
          tq: {type: string}
        steps:
          - id: crash
            create: {type: Crashing, task_queue: "{{ inputs.tq }}"}
          - start: {workflow: crash}
          - id: result
            await_result: {workflow: crash}
            expect: {error: {type: WorkflowTaskFailed}}
          - await_result: {workflow: crash}
        finally:
          - terminate: {workflow: crash, if_running: true}
        """,
        dev_server.address,
        strict,
    )
    assert time.monotonic() - began < 15
    assert code == 1
    steps = report["steps"]
    assert [s["status"] for s in steps] == ["passed", "passed", "passed", "failed", "passed"]
    workflow_id = steps[0]["workflow_id"]
    assert steps[3]["error"]["type"] == "WorkflowTaskFailed"
    assert steps[3]["error"]["message"] == failed_task(
        "await_result",
        None,
        workflow_id,
        "RuntimeError: the workflow code crashed; fix the workflow code or the worker",
    )


@pytest.mark.timeout(60)
async def test_a_query_with_a_step_timeout_and_no_worker(
    tmp_path: Path, dev_server: Any, task_queue: str
) -> None:
    began = time.monotonic()
    code, report = await run(
        tmp_path,
        """\
        version: 1
        name: nobody home
        inputs:
          tq: {type: string}
        steps:
          - id: counter
            create: {type: Counter, task_queue: "{{ inputs.tq }}"}
          - start: {workflow: counter}
          - id: value
            query: {workflow: counter, query: current}
            timeout: 2s
        finally:
          - terminate: {workflow: counter, if_running: true}
        """,
        dev_server.address,
        task_queue,
    )
    assert time.monotonic() - began < 8
    assert code == 1
    step = report["steps"][2]
    assert 2.0 <= step["duration"] < 5.0
    assert step["error"]["message"] == (
        f"step 'value' (steps[2], {tmp_path / 'play.yaml'}:9), field timeout: the step did "
        f"not finish within 2.0s (workflow '{step['workflow_id']}'; no worker is polling task "
        f"queue '{task_queue}': start a worker for it (or use --worker))"
    )
