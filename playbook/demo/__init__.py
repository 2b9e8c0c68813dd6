"""Demo workflows for the example playbooks, and the model of a ``--worker`` module.

``playbook run --worker playbook.demo`` hosts everything below in-process, because this
module exports the three names that ``--worker`` looks for::

    task_queue = "playbook-demo"
    workflows = [OrderWorkflow, BatchWorkflow, LongRunningWorkflow, HelloWorkflow, EchoWorkflow]
    activities = [ship_order, greet, process_batch]

The workflows run in temporalio's sandbox, which re-imports this module for every run; so
the module imports nothing but the standard library and temporalio, and the workflows
read time, randomness and ids only through ``temporalio.workflow``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

task_queue = "playbook-demo"

PRICES = {"ABC": 10, "XYZ": 25}
DEFAULT_PRICE = 5  # any other sku
ACTIVITY_TIMEOUT = timedelta(seconds=10)


# -- activities ---------------------------------------------------------------------------


@activity.defn
async def ship_order(order_id: str) -> str:
    """Hand the order to the carrier; returns the tracking id."""
    return f"TRACK-{order_id}"


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn
async def process_batch(first: int, count: int) -> int:
    """Process items ``first`` .. ``first + count - 1``; returns how many were processed."""
    activity.logger.info("processing items %d to %d", first, first + count - 1)
    return count


# -- workflows ----------------------------------------------------------------------------


@workflow.defn
class OrderWorkflow:
    """An order: items are added by signal, paid by update, then shipped.

    ``run({"customer": "alice", "items": [{"sku": "ABC", "qty": 2}]})``; states: open,
    paid, shipped, cancelled. Customer ``mallory`` is blocked: the workflow fails at once.
    """

    @workflow.init
    def __init__(self, order: dict[str, Any]) -> None:
        # @workflow.init: handlers that arrive with the start (signal-with-start,
        # update-with-start) already see the customer and the first items.
        self.customer = str(order.get("customer", ""))
        self.items = [self._item(item) for item in order.get("items", [])]
        self.state = "open"

    @staticmethod
    def _item(item: dict[str, Any]) -> dict[str, Any]:
        return {"sku": str(item["sku"]), "qty": int(item.get("qty", 1))}

    @property
    def total(self) -> int:
        return sum(PRICES.get(item["sku"], DEFAULT_PRICE) * item["qty"] for item in self.items)

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        if self.customer == "mallory":
            raise ApplicationError(
                f"customer {self.customer} is blocked",
                {"customer": self.customer},
                type="CustomerBlocked",
                non_retryable=True,
            )
        await workflow.wait_condition(lambda: self.state != "open")
        if self.state == "cancelled":
            raise ApplicationError(
                "order cancelled by customer", type="OrderCancelled", non_retryable=True
            )
        tracking = await workflow.execute_activity(
            ship_order, workflow.info().workflow_id, start_to_close_timeout=ACTIVITY_TIMEOUT
        )
        self.state = "shipped"
        return {"state": self.state, "total": self.total, "tracking": tracking}

    @workflow.signal
    def add_item(self, item: dict[str, Any]) -> None:
        if self.state != "open":  # a signal cannot be refused; an update could
            workflow.logger.warning("order is %s: item %s ignored", self.state, item)
            return
        self.items.append(self._item(item))

    @workflow.signal
    def cancel_order(self) -> None:
        if self.state == "open":
            self.state = "cancelled"

    @workflow.query
    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "customer": self.customer,
            "items": self.items,
            "total": self.total,
        }

    # The handler is not async: validator and handler run back to back, so two payments
    # sent at once cannot both pass the validator.
    @workflow.update
    def pay(self, payment: dict[str, Any]) -> dict[str, Any]:
        self.state = "paid"
        return {"state": self.state, "total": self.total}

    @pay.validator
    def validate_pay(self, payment: dict[str, Any]) -> None:
        # A validator must not change state, and raising is its only way to reject.
        if self.state == "cancelled":
            raise ApplicationError("order is cancelled", type="OrderCancelled")
        if self.state != "open":
            raise ApplicationError(f"order is already {self.state}", type="AlreadyPaid")
        if not self.items:
            raise ApplicationError("order has no items to pay for", type="EmptyOrder")
        amount = payment.get("amount")
        if amount != self.total:
            raise ApplicationError(
                f"amount {amount} does not match total {self.total}", type="InvalidAmount"
            )


@workflow.defn
class BatchWorkflow:
    """Processes ``items`` items, ``batch`` per run, continuing as new between runs.

    ``run({"items": 10, "batch": 3})`` returns ``{"processed": 10, "runs": 4}``.
    """

    @workflow.run
    async def run(self, args: dict[str, Any]) -> dict[str, int]:
        items, batch = int(args["items"]), int(args["batch"])
        done, runs = int(args.get("done", 0)), int(args.get("runs", 1))
        if batch < 1:
            raise ApplicationError(
                f"batch must be at least 1, not {batch}", type="InvalidBatch", non_retryable=True
            )
        count = min(batch, items - done)
        if count > 0:
            done += await workflow.execute_activity(
                process_batch, args=[done, count], start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        if done < items:
            # A fresh run keeps the history short; the counters travel in the arguments.
            workflow.continue_as_new({**args, "done": done, "runs": runs + 1})
        return {"processed": done, "runs": runs}


@workflow.defn
class LongRunningWorkflow:
    """Runs until signal ``stop``, counting a tick every ``tick_seconds`` (default 1h).

    Query ``progress`` gives the ticks so far. For cancel and terminate demos: a cancel
    request ends it as canceled.
    """

    def __init__(self) -> None:
        self.ticks = 0
        self.stopped = False

    @workflow.run
    async def run(self, name: str, tick_seconds: float = 3600.0) -> dict[str, Any]:
        try:
            while not self.stopped:
                try:
                    await workflow.wait_condition(
                        lambda: self.stopped, timeout=timedelta(seconds=tick_seconds)
                    )
                except asyncio.TimeoutError:
                    self.ticks += 1
        except asyncio.CancelledError:
            # Clean-up would go here; re-raising makes the workflow's status canceled.
            workflow.logger.info("%s canceled after %d ticks", name, self.ticks)
            raise
        return {"name": name, "ticks": self.ticks}

    @workflow.signal
    def stop(self) -> None:
        self.stopped = True

    @workflow.query
    def progress(self) -> int:
        return self.ticks


@workflow.defn
class HelloWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(greet, name, start_to_close_timeout=ACTIVITY_TIMEOUT)


@workflow.defn
class EchoWorkflow:
    """Returns its arguments as a list: no activity, no timer, one workflow task."""

    @workflow.run
    async def run(self, *args: Any) -> list[Any]:
        return list(args)


workflows: list[type] = [
    OrderWorkflow,
    BatchWorkflow,
    LongRunningWorkflow,
    HelloWorkflow,
    EchoWorkflow,
]
activities: list[Callable[..., Any]] = [ship_order, greet, process_batch]

__all__ = [
    "BatchWorkflow",
    "EchoWorkflow",
    "HelloWorkflow",
    "LongRunningWorkflow",
    "OrderWorkflow",
    "activities",
    "greet",
    "process_batch",
    "ship_order",
    "task_queue",
    "workflows",
]
