"""The bench's own workflow: a counter that takes any number of signals, queries and
updates, for the per-step overhead benchmark (the demo's ``OrderWorkflow.pay`` can be
called only once). Hosted by ``bench/worker.py`` on task queue ``playbook-bench``.
"""

from __future__ import annotations

from temporalio import workflow

task_queue = "playbook-bench"


@workflow.defn
class CounterWorkflow:
    """Runs until signal ``stop``; returns the count.

    Signal ``poke(n)`` and update ``bump(n)`` add ``n``; query ``count`` reads it.
    """

    def __init__(self) -> None:
        self.total = 0
        self.stopped = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.stopped)
        return self.total

    @workflow.signal
    def poke(self, n: int = 1) -> None:
        self.total += int(n)

    @workflow.signal
    def stop(self) -> None:
        self.stopped = True

    @workflow.query
    def count(self) -> int:
        return self.total

    @workflow.update
    def bump(self, n: int = 1) -> int:
        self.total += int(n)
        return self.total


workflows = [CounterWorkflow]
