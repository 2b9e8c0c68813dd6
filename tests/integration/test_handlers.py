"""Handler names checked against the workflow type's declared handlers, and handler
coverage in the reports (SPEC section 10), against a real dev server."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RawValue
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from playbook.commands.run import RunRequest, run_async


@workflow.defn
class OrderWorkflow:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.items

    @workflow.signal
    def add_item(self, sku: str) -> None:
        self.items.append(sku)

    @workflow.signal
    def cancel_order(self) -> None:
        self.done = True

    @workflow.query
    def status(self) -> list[str]:
        return self.items

    @workflow.update
    def pay(self, amount: int) -> int:
        return amount


@workflow.defn
class AnySignal:
    """Takes any signal through its dynamic handler; ``stop`` ends it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: "stop" in self.seen)
        return self.seen

    @workflow.signal(dynamic=True)
    def anything(self, name: str, args: Sequence[RawValue]) -> None:
        self.seen.append(name)


@workflow.defn
class Chain:
    """Continues as new on ``next_run``; ``finish`` ends it with its run's number."""

    @workflow.init
    def __init__(self, number: int = 1) -> None:
        self.number = number
        self.next = self.done = False

    @workflow.run
    async def run(self, number: int = 1) -> int:
        await workflow.wait_condition(lambda: self.next or self.done)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not self.done:
            workflow.continue_as_new(args=[number + 1])
        return number

    @workflow.signal
    def next_run(self) -> None:
        self.next = True

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def run_number(self) -> int:
        return self.number

    @workflow.update
    def bump(self) -> int:
        return self.number


@pytest.fixture
async def orders(client: Client, task_queue: str) -> AsyncIterator[str]:
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderWorkflow, AnySignal, Chain],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield task_queue


HEADER = """\
version: 1
name: handlers
inputs:
  tq: {type: string}
steps:
  - id: order
    create: {type: OrderWorkflow, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - start: {workflow: order}
"""
CLEANUP = """\
finally:
  - terminate: {workflow: order, if_running: true}
"""


async def run(tmp_path: Path, steps: str, server: Any, queue: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "play.yaml"
    path.write_text(HEADER + steps + CLEANUP)
    report = tmp_path / "report.json"
    request = RunRequest(
        files=[str(path)],
        inputs={"tq": queue},
        connection={"address": server.address},
        json_report=str(report),
    )
    code = await run_async(request)
    return code, json.loads(report.read_text())["runs"][0]


def failed(report: dict[str, Any]) -> dict[str, Any]:
    """The error of the run's one failed step."""
    [step] = [s for s in report["steps"] if s["status"] == "failed"]
    error: dict[str, Any] = step["error"]
    return error


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "signal: {workflow: order, signal: add_iten, args: [x]}",
            "workflow type 'OrderWorkflow' has no signal 'add_iten' (it has: add_item, "
            "cancel_order); did you mean 'add_item'?",
        ),
        (
            "query: {workflow: order, query: statu}",
            "workflow type 'OrderWorkflow' has no query 'statu' (it has: status); did you "
            "mean 'status'?",
        ),
        (
            "update: {workflow: order, update: pya, args: [1]}",
            "workflow type 'OrderWorkflow' has no update 'pya' (it has: pay); did you mean 'pay'?",
        ),
        (
            "start_update: {workflow: order, update: refund, args: [1]}",
            "workflow type 'OrderWorkflow' has no update 'refund' (it has: pay)",
        ),
    ],
)
async def test_a_misspelt_handler_name_fails_at_once(
    tmp_path: Path, dev_server: Any, orders: str, step: str, message: str
) -> None:
    began = time.monotonic()
    code, report = await run(tmp_path, f"  - {step}\n", dev_server, orders)
    assert time.monotonic() - began < 5
    assert code == 1
    error = failed(report)
    assert (error["type"], error["message"]) == ("UnknownHandler", message)


async def test_a_name_read_after_the_cache_is_checked_again(
    tmp_path: Path, dev_server: Any, orders: str
) -> None:
    """The first call reads the metadata; later ones (the misspelt one included, which reads
    the execution afresh before it is rejected) use the run's cache."""
    code, report = await run(
        tmp_path,
        """\
  - signal: {workflow: order, signal: add_item, args: [a]}
  - query: {workflow: order, query: status}
  - signal: {workflow: order, signal: cancel_ordr}
""",
        dev_server,
        orders,
    )
    assert code == 1
    assert failed(report)["message"] == (
        "workflow type 'OrderWorkflow' has no signal 'cancel_ordr' (it has: add_item, "
        "cancel_order); did you mean 'cancel_order'?"
    )


async def test_a_dynamic_handler_takes_any_name(
    tmp_path: Path, dev_server: Any, orders: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = await run(
        tmp_path,
        """\
  - signal: {workflow: order, signal: add_item, args: [a]}
  - id: items
    query: {workflow: order, query: status}
  - id: any
    create: {type: AnySignal, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - start: {workflow: any}
  - signal: {workflow: any, signal: whatever_you_like}
  - signal: {workflow: any, signal: stop}
  - id: seen
    await_result: {workflow: any, timeout: 10s}
    expect: {result: [whatever_you_like, stop]}
  - signal: {workflow: order, signal: cancel_order}
""",
        dev_server,
        orders,
    )
    assert code == 0, report
    assert report["coverage"] == {
        "AnySignal": {
            "signals": {"declared": [], "dynamic": True, "called": ["stop", "whatever_you_like"]},
            "queries": {"declared": [], "dynamic": False, "called": []},
            "updates": {"declared": [], "dynamic": False, "called": []},
        },
        "OrderWorkflow": {
            "signals": {
                "declared": ["add_item", "cancel_order"],
                "dynamic": False,
                "called": ["add_item", "cancel_order"],
            },
            "queries": {"declared": ["status"], "dynamic": False, "called": ["status"]},
            "updates": {"declared": ["pay"], "dynamic": False, "called": []},
        },
    }
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("coverage")]
    assert lines == [
        "coverage: AnySignal: signals 0/0 + 2 dynamic, queries 0/0, updates 0/0",
        "coverage: OrderWorkflow: signals 2/2, queries 1/1, updates 0/1 (not called: pay)",
    ]


async def test_records_name_the_run_that_answered_after_continue_as_new(
    tmp_path: Path, dev_server: Any, orders: str, client: Client
) -> None:
    """An update's record names the run from the server's response; a describe's and an
    await_result's the latest run of the chain; the calls after them the run so learnt."""
    code, report = await run(
        tmp_path,
        """\
  - id: chain
    create: {type: Chain, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - id: first
    start: {workflow: chain}
  - signal: {workflow: chain, signal: next_run}
  - query: {workflow: chain, query: run_number}
    retry: {until: "result == 2", timeout: 10s, interval: 100ms}
  - id: second
    start_update: {workflow: chain, update: bump, wait_for_stage: completed}
  - id: after_update
    query: {workflow: chain, query: run_number}
  - signal: {workflow: chain, signal: next_run}
  - query: {workflow: chain, query: run_number}
    retry: {until: "result == 3", timeout: 10s, interval: 100ms}
  - id: updated
    update: {workflow: chain, update: bump}
    expect: {result: 3}
  - id: described
    describe: {workflow: chain}
  - id: finish
    signal: {workflow: chain, signal: finish}
  - id: last
    await_result: {workflow: chain, timeout: 10s}
    expect: {result: 3}
""",
        dev_server,
        orders,
    )
    assert code == 0, report
    records = {s["id"]: s for s in report["steps"] if s["id"]}
    handle = client.get_workflow_handle(records["chain"]["workflow_id"])
    latest = (await handle.describe()).run_id
    first = records["first"]["result"]["run_id"]
    second = records["second"]["result"]["run_id"]
    assert len({first, second, latest}) == 3
    assert records["first"]["run_id"] == first
    assert (records["second"]["run_id"], records["after_update"]["run_id"]) == (second, second)
    for name in ("updated", "described", "finish", "last"):
        assert records[name]["run_id"] == latest, name
