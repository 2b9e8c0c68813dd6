"""A workflow whose activity fails, for tests/integration/test_causes_history.py: a module of
its own, with nothing but temporalio imported, so that the worker's sandbox can load it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy


@activity.defn
async def compose_greeting(name: str) -> str:
    raise RuntimeError(f"Greeting exception: could not greet {name}")


@workflow.defn
class FailingGreeting:
    """Calls an activity that always raises, tried once: the workflow fails with an
    ActivityError whose cause is the activity's RuntimeError."""

    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            compose_greeting,
            name,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
