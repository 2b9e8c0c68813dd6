"""The demo workflows of ``playbook.demo`` driven through the client core against the real
dev server, plus the runnable example of docs/python-api.md."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from playbook import core, demo
from playbook.devserver import env_without_temporal, load_worker_specs
from playbook.errors import UpdateRejected, WorkflowFailed

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def demo_queue(client: Client, task_queue: str) -> AsyncIterator[str]:
    """A worker for playbook.demo on this test's own task queue."""
    async with Worker(
        client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities
    ):
        yield task_queue


def new(client: Client, queue: str, kind: str, **options: Any) -> core.WorkflowStub:
    return core.create_workflow(client, kind, {"task_queue": queue, **options})


async def wait_for(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


def test_worker_module_convention() -> None:
    [spec] = load_worker_specs("playbook.demo")
    assert spec.task_queue == "playbook-demo"
    assert spec.workflows == [
        demo.OrderWorkflow,
        demo.BatchWorkflow,
        demo.LongRunningWorkflow,
        demo.HelloWorkflow,
        demo.EchoWorkflow,
    ]
    assert spec.activities == [demo.ship_order, demo.greet, demo.process_batch]
    assert spec.source == "playbook.demo"


async def test_order_happy_path(client: Client, demo_queue: str) -> None:
    order = new(client, demo_queue, "OrderWorkflow", workflow_id=f"order-{demo_queue}")
    await core.start(order, [{"customer": "alice", "items": [{"sku": "ABC", "qty": 2}]}])
    await core.signal(order, "add_item", [{"sku": "XYZ", "qty": 1}])
    await core.signal(order, "add_item", [{"sku": "NEW-1", "qty": 3}])
    assert await core.query(order, "status") == {
        "state": "open",
        "customer": "alice",
        "items": [{"sku": "ABC", "qty": 2}, {"sku": "XYZ", "qty": 1}, {"sku": "NEW-1", "qty": 3}],
        "total": 60,
    }

    with pytest.raises(UpdateRejected) as rejected:
        await core.update(order, "pay", [{"amount": 50}])
    assert str(rejected.value) == (
        f"update 'pay' on workflow 'order-{demo_queue}' was rejected: "
        "InvalidAmount: amount 50 does not match total 60"
    )
    assert rejected.value.error_type == "InvalidAmount"

    assert await core.update(order, "pay", [{"amount": 60}]) == {"state": "paid", "total": 60}
    assert await core.get_result(order, timeout=30) == {
        "state": "shipped",
        "total": 60,
        "tracking": f"TRACK-order-{demo_queue}",
    }
    assert (await core.query(order, "status"))["state"] == "shipped"
    info = await core.describe(order)
    assert (info["status"], info["type"], info["task_queue"]) == (
        "completed",
        "OrderWorkflow",
        demo_queue,
    )


async def test_order_cannot_be_paid_twice(client: Client, task_queue: str) -> None:
    # The carrier is held up, so the order stays "paid" while the second payment arrives.
    carrier_free = asyncio.Event()

    @activity.defn(name="ship_order")
    async def slow_ship(order_id: str) -> str:
        await carrier_free.wait()
        return f"SLOW-{order_id}"

    async with Worker(
        client,
        task_queue=task_queue,
        workflows=demo.workflows,
        activities=[slow_ship, demo.greet, demo.process_batch],
    ):
        order = new(client, task_queue, "OrderWorkflow")
        await core.start(order, [{"customer": "bob", "items": [{"sku": "XYZ"}]}])
        assert await core.update(order, "pay", [{"amount": 25}]) == {"state": "paid", "total": 25}
        with pytest.raises(UpdateRejected) as rejected:
            await core.update(order, "pay", [{"amount": 25}])
        assert str(rejected.value) == (
            f"update 'pay' on workflow '{order.workflow_id}' was rejected: "
            "AlreadyPaid: order is already paid"
        )
        await core.signal(order, "add_item", [{"sku": "ABC"}])  # ignored: no longer open
        await core.signal(order, "cancel_order")  # ignored too
        assert await core.query(order, "status") == {
            "state": "paid",
            "customer": "bob",
            "items": [{"sku": "XYZ", "qty": 1}],
            "total": 25,
        }
        carrier_free.set()
        assert await core.get_result(order, timeout=30) == {
            "state": "shipped",
            "total": 25,
            "tracking": f"SLOW-{order.workflow_id}",
        }


async def test_empty_order_cannot_be_paid(client: Client, demo_queue: str) -> None:
    order = new(client, demo_queue, "OrderWorkflow")
    await core.start(order, [{"customer": "carol"}])
    with pytest.raises(UpdateRejected) as rejected:
        await core.update(order, "pay", [{"amount": 0}])
    assert (rejected.value.error_type, str(rejected.value)) == (
        "EmptyOrder",
        f"update 'pay' on workflow '{order.workflow_id}' was rejected: "
        "EmptyOrder: order has no items to pay for",
    )
    await core.terminate(order, reason="test cleanup")


async def test_blocked_customer_fails(client: Client, demo_queue: str) -> None:
    order = new(client, demo_queue, "OrderWorkflow")
    await core.start(order, [{"customer": "mallory", "items": [{"sku": "ABC"}]}])
    with pytest.raises(WorkflowFailed) as failed:
        await core.get_result(order, timeout=30)
    assert str(failed.value) == (
        f"workflow '{order.workflow_id}' failed: CustomerBlocked: customer mallory is blocked"
    )
    assert (failed.value.status, failed.value.error_type, failed.value.details) == (
        "failed",
        "CustomerBlocked",
        {"customer": "mallory"},
    )
    assert (await core.describe(order))["status"] == "failed"


async def test_cancel_order_signal(client: Client, demo_queue: str) -> None:
    order = new(client, demo_queue, "OrderWorkflow")
    await core.start(order, [{"customer": "dave", "items": [{"sku": "ABC"}]}])
    await core.signal(order, "cancel_order")
    with pytest.raises(WorkflowFailed) as failed:
        await core.get_result(order, timeout=30)
    assert str(failed.value) == (
        f"workflow '{order.workflow_id}' failed: OrderCancelled: order cancelled by customer"
    )
    assert (failed.value.status, failed.value.error_type, failed.value.details) == (
        "failed",
        "OrderCancelled",
        None,
    )
    assert (await core.query(order, "status"))["state"] == "cancelled"


async def test_signal_with_start_sees_the_start_input(client: Client, demo_queue: str) -> None:
    # @workflow.init: the signal handler runs on an order that already has its items.
    order = new(client, demo_queue, "OrderWorkflow")
    await core.signal_with_start(
        order,
        "add_item",
        [{"sku": "XYZ", "qty": 2}],
        [{"customer": "erin", "items": [{"sku": "ABC"}]}],
    )
    assert (await core.query(order, "status"))["total"] == 60
    await core.terminate(order, reason="test cleanup")


async def test_batch_continues_as_new(client: Client, demo_queue: str) -> None:
    batch = new(client, demo_queue, "BatchWorkflow")
    await core.start(batch, [{"items": 10, "batch": 3}])
    assert await core.get_result(batch, timeout=30) == {"processed": 10, "runs": 4}
    # a started stub follows its chain: describe shows the latest run
    assert (await core.describe(batch))["status"] == "completed"
    first_run = core.create_workflow(client, batch.workflow_id, batch.run_id)
    assert (await core.describe(first_run))["status"] == "continued_as_new"
    latest = core.create_workflow(client, batch.workflow_id)
    assert (await core.describe(latest))["status"] == "completed"


async def test_batch_rejects_an_empty_batch(client: Client, demo_queue: str) -> None:
    batch = new(client, demo_queue, "BatchWorkflow")
    await core.start(batch, [{"items": 5, "batch": 0}])
    with pytest.raises(WorkflowFailed) as failed:
        await core.get_result(batch, timeout=30)
    assert str(failed.value) == (
        f"workflow '{batch.workflow_id}' failed: InvalidBatch: batch must be at least 1, not 0"
    )


async def test_long_running_ticks_and_stops(client: Client, demo_queue: str) -> None:
    job = new(client, demo_queue, "LongRunningWorkflow")
    await core.start(job, ["nightly-sync", 0.2])

    async def ticked_twice() -> bool:
        return int(await core.query(job, "progress")) >= 2

    await wait_for(ticked_twice)
    await core.signal(job, "stop")
    result = await core.get_result(job, timeout=30)
    assert result["name"] == "nightly-sync" and result["ticks"] >= 2
    assert await core.query(job, "progress") == result["ticks"]


async def test_long_running_cancel_and_terminate(client: Client, demo_queue: str) -> None:
    canceled = new(client, demo_queue, "LongRunningWorkflow")
    await core.start(canceled, ["to-cancel"])
    assert await core.query(canceled, "progress") == 0
    await core.cancel(canceled, reason="demo")
    with pytest.raises(WorkflowFailed) as failed:
        await core.get_result(canceled, timeout=30)
    assert (failed.value.status, str(failed.value)) == (
        "canceled",
        f"workflow '{canceled.workflow_id}' was canceled",
    )
    assert (await core.describe(canceled))["status"] == "canceled"

    terminated = new(client, demo_queue, "LongRunningWorkflow")
    await core.start(terminated, ["to-terminate"])
    await core.terminate(terminated, reason="demo over")
    info = await core.describe(terminated)
    assert (info["status"], info["type"]) == ("terminated", "LongRunningWorkflow")
    assert info["close_time"] is not None


async def test_hello(client: Client, demo_queue: str) -> None:
    hello = new(client, demo_queue, "HelloWorkflow")
    await core.start(hello, ["Ada"])
    assert await core.get_result(hello, timeout=30) == "Hello, Ada!"


async def test_echo(client: Client, demo_queue: str) -> None:
    echo = new(client, demo_queue, "EchoWorkflow")
    await core.start(echo, [1, "two", {"three": [3]}, None])
    assert await core.get_result(echo, timeout=30) == [1, "two", {"three": [3]}, None]
    nothing = new(client, demo_queue, "EchoWorkflow")
    await core.start(nothing)
    assert await core.get_result(nothing, timeout=30) == []
    info = await core.describe(echo)
    assert info["history_length"] == 5  # started, one workflow task (3 events), completed


# -- the runnable example of docs/python-api.md -------------------------------------------


def test_core_example_runs() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "core_example.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_without_temporal(),
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert 'result: {"state": "shipped", "total": 45, "tracking": "TRACK-order-1001"}' in lines
    assert (
        "rejected (InvalidAmount): update 'pay' on workflow 'order-1001' was rejected: "
        "InvalidAmount: amount 40 does not match total 45"
    ) in lines
    assert "status after close: completed" in lines


def test_docs_embed_the_example() -> None:
    code = (ROOT / "examples" / "core_example.py").read_text()
    docs = (ROOT / "docs" / "python-api.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", docs, flags=re.S | re.M)
    assert code in blocks, "docs/python-api.md must embed examples/core_example.py verbatim"


def test_worker_module_conventions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from playbook.devserver import load_worker_specs
    from playbook.errors import UsageError

    (tmp_path / "shouting_worker.py").write_text(
        "from playbook.demo import HelloWorkflow, greet\n"
        "TASK_QUEUE = 'caps'\nWORKFLOWS = [HelloWorkflow]\nACTIVITIES = [greet]\n"
        "def make():\n    return {'task_queue': 'made', 'workflows': WORKFLOWS}\n"
        "both = [{'task_queue': 'a'}, {'task_queue': 'b'}]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [
        (s.task_queue, len(s.workflows), len(s.activities))
        for s in load_worker_specs("shouting_worker")
    ] == [("caps", 1, 1)]
    assert [s.task_queue for s in load_worker_specs("shouting_worker:make")] == ["made"]
    assert [s.task_queue for s in load_worker_specs("shouting_worker:both")] == ["a", "b"]
    with pytest.raises(UsageError) as e:
        load_worker_specs("shouting_worker:nothing")
    assert str(e.value) == (
        "--worker shouting_worker:nothing: module 'shouting_worker' has no attribute 'nothing'"
    )
