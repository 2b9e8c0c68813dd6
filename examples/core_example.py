"""The client core without YAML: an order placed, paid and shipped.

Starts the bundled dev server, runs a worker for playbook.demo in this process, and drives
an OrderWorkflow with playbook.core. Run it with: python examples/core_example.py
"""

import asyncio
import json
import os
import sys

from temporalio.worker import Worker

from playbook import core, demo
from playbook.devserver import start_dev_server
from playbook.errors import PlaybookError, UpdateRejected


def show(label: str, value: object) -> None:
    print(f"{label}: {json.dumps(value)}")


async def main() -> None:
    server = await start_dev_server()  # in memory, on a free port
    try:
        client = await core.create_client({"address": server.address}, timeout=10)
        async with Worker(
            client, task_queue=demo.task_queue, workflows=demo.workflows, activities=demo.activities
        ):
            order = core.create_workflow(
                client,
                "OrderWorkflow",
                {
                    "task_queue": demo.task_queue,
                    "workflow_id": "order-1001",
                    "execution_timeout": "5m",
                    "memo": {"placed_by": "core_example"},
                },
            )
            await core.start(order, [{"customer": "alice", "items": [{"sku": "ABC", "qty": 2}]}])
            show("started", {"workflow_id": order.workflow_id, "run_id": order.run_id})

            await core.signal(order, "add_item", [{"sku": "XYZ", "qty": 1}])
            show("status", await core.query(order, "status"))

            try:  # the validator refuses a wrong amount; the order stays open
                await core.update(order, "pay", [{"amount": 40}])
            except UpdateRejected as e:
                print(f"rejected ({e.error_type}): {e}")

            show("paid", await core.update(order, "pay", [{"amount": 45}]))
            show("result", await core.get_result(order, timeout=30))

            info = await core.describe(order)
            print(f"status after close: {info['status']}")
            show("memo", info["memo"])
    finally:
        server.stop()


if __name__ == "__main__":
    code = 0
    try:
        asyncio.run(main())
    except PlaybookError as e:
        print(f"error: {e}", file=sys.stderr)
        code = e.exit_code
    # temporalio's Rust runtime keeps threads of its own that can crash while Python shuts
    # down; flush what we printed and leave without running the interpreter's teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
