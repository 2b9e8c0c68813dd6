"""Workflows for the tests of the actions that read what the server knows
(tests/integration/test_server_actions.py): one that idles, and one with a child and an
activity that keeps failing, for describe's pending activities and children."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError


@activity.defn
async def echo_text(text: str) -> str:
    return text


@activity.defn
async def stubborn(text: str) -> str:
    raise ApplicationError(f"still failing on attempt {activity.info().attempt}", type="Stubborn")


@workflow.defn
class Idle:
    """Waits until it is ended from outside (terminate, cancel), or signalled ``stop``."""

    def __init__(self) -> None:
        self.stopped = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.stopped)
        return "stopped"

    @workflow.signal
    def stop(self) -> None:
        self.stopped = True


@workflow.defn
class Busy:
    """Echoes ``text`` by an activity, starts an ``Idle`` child, then runs an activity that
    fails on every attempt (retried every 200ms, without end)."""

    @workflow.run
    async def run(self, text: str) -> str:
        await workflow.execute_activity(
            echo_text, text, start_to_close_timeout=timedelta(seconds=10)
        )
        await workflow.start_child_workflow(Idle.run, id=f"{workflow.info().workflow_id}-child")
        return await workflow.execute_activity(
            stubborn,
            text,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200), backoff_coefficient=1.0
            ),
        )


WORKFLOWS = [Idle, Busy]
ACTIVITIES = [echo_text, stubborn]
