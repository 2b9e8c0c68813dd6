"""Deliberately broken workflows for tests/integration/test_explain_failures.py: a module of
their own, with nothing but temporalio imported, so that the worker's sandbox can load it."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class Strict:
    """Takes one or two arguments: a start with four fails its first workflow task."""

    @workflow.run
    async def run(self, a: int, b: int = 0) -> int:
        return a + b


@workflow.defn
class Crashing:
    @workflow.run
    async def run(self) -> None:
        # not an ApplicationError: Python's SDK fails the workflow *task*, and retries it
        raise RuntimeError("the workflow code crashed")


@workflow.defn(name="Strikt")
class Fixed:
    """What a fixed deployment registers under the type that was missing (misspelt)."""

    @workflow.run
    async def run(self) -> str:
        return "fixed"
