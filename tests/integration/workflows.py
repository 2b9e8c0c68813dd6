"""Small workflows that the integration tests drive through the client core."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class Greeter:
    @workflow.run
    async def run(self, name: str) -> str:
        loud = await workflow.execute_activity(
            shout, name, start_to_close_timeout=timedelta(seconds=10)
        )
        return f"Hello, {loud}!"


@workflow.defn
class Counter:
    """Holds a number; signals and updates change it, `finish` ends it with the total."""

    @workflow.init
    def __init__(self, start: int = 0) -> None:
        self.value = start
        self.log: list[str] = []
        self.done = False
        self.fail_with: dict[str, Any] | None = None

    @workflow.run
    async def run(self, start: int = 0) -> dict[str, Any]:
        await workflow.wait_condition(lambda: self.done or self.fail_with is not None)
        if self.fail_with is not None:
            raise ApplicationError(
                self.fail_with["message"],
                self.fail_with.get("details"),
                type=self.fail_with["type"],
                non_retryable=True,
            )
        return {"value": self.value, "log": self.log}

    @workflow.signal
    def add(self, amount: int) -> None:
        self.value += amount
        self.log.append(f"add {amount}")

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.signal
    def explode(self, failure: dict[str, Any]) -> None:
        self.fail_with = failure

    @workflow.query
    def current(self) -> int:
        return self.value

    @workflow.query
    def broken(self) -> int:
        raise ValueError("this query always fails")

    @workflow.update
    def increment(self, amount: int) -> int:
        if amount == 13:
            raise ApplicationError("13 is unlucky", {"amount": amount}, type="Unlucky")
        self.value += amount
        self.log.append(f"increment {amount}")
        return self.value

    @increment.validator
    def check_increment(self, amount: int) -> None:
        if amount < 0:
            raise ValueError(f"amount must be positive, not {amount}")

    @workflow.update
    async def slow_increment(self, amount: int) -> int:
        await workflow.sleep(0.5)
        self.value += amount
        return self.value


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(seconds)
        return "woke up"


@workflow.defn
class Failing:
    @workflow.run
    async def run(self, balance: int) -> None:
        raise ApplicationError(
            f"balance {balance} too low",
            {"balance": balance},
            type="InsufficientFunds",
            non_retryable=True,
        )


@workflow.defn
class Looper:
    """Continues as new until it has run `times` times; returns the number of runs."""

    @workflow.run
    async def run(self, times: int, run: int = 1) -> int:
        if run < times:
            workflow.continue_as_new(args=[times, run + 1])
        return run


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, *args: Any) -> list[Any]:
        await asyncio.sleep(0)
        return list(args)


WORKFLOWS = [Greeter, Counter, Sleeper, Failing, Looper, Echo]
ACTIVITIES = [shout]

# What `--worker tests.integration.workflows` hosts (the convention of docs/workers.md).
task_queue = "playbook-tests"
workflows = WORKFLOWS
activities = ACTIVITIES
