"""Control steps that run nested steps: ``parallel``, ``foreach``, ``include``, and the
``finally`` stage. Each returns the step's value; the interpreter writes the records."""

from __future__ import annotations

import asyncio
from collections import ChainMap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playbook.errors import PlaybookError
from playbook.runner.values import count

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.records import StepRecord
    from playbook.runner.env import Scope, StepEnv
    from playbook.runner.interpreter import Runner

MAX_INCLUDE_DEPTH = 10


class BranchFailed(Exception):
    """A parallel branch or a foreach iteration failed: its siblings are cancelled."""

    def __init__(self, record: StepRecord | None) -> None:
        self.record = record
        super().__init__()


async def until_failure(tasks: Sequence[asyncio.Future[Any]]) -> BranchFailed | None:
    """Wait for every task; on the first failure cancel the others and return it. Any
    other exception (an internal error) cancels the others too, and goes on up."""
    failure: BranchFailed | None = None
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # in the tasks' order, not the sets': a durable run must decide (and cancel)
            # the same way when it is replayed in another process
            for task in [t for t in tasks if t in done]:
                error = task.exception()
                if isinstance(error, BranchFailed):
                    failure = failure or error
                elif error is not None:
                    raise error
            if failure is not None and pending:
                await _cancel([t for t in tasks if t in pending])
                pending = set()
    except BaseException:
        await _cancel(tasks)
        raise
    return failure


async def _cancel(tasks: Sequence[asyncio.Future[Any]] | set[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def parallel(
    runner: Runner, step: Step, env: StepEnv, scope: Scope, path: str, depth: int
) -> Any:
    branches = step.steps
    limit = step.fields.get("max_concurrency") or len(branches)
    gate = asyncio.Semaphore(max(1, count(env, limit, "parallel.max_concurrency")))
    inner = scope.tagged(step.tags)

    async def branch(index: int, branch_step: Step) -> StepRecord:
        async with gate:
            record = await runner.step(
                branch_step, f"{path}.parallel.steps[{index}]", inner, depth + 1
            )
        if record.status == "failed" and not record.continue_on_error:
            raise BranchFailed(record)
        return record

    tasks = [asyncio.ensure_future(branch(i, s)) for i, s in enumerate(branches)]
    failed = await until_failure(tasks)
    if failed is not None and failed.record is not None:
        record = failed.record
        raise PlaybookError(f"parallel branch '{record.id or record.name}' ({record.path}) failed")
    return {r.id: r.result for r in (t.result() for t in tasks) if r.id}


async def foreach(
    runner: Runner,
    step: Step,
    env: StepEnv,
    scope: Scope,
    path: str,
    depth: int,
    rendered: Any = None,
) -> Any:
    """The loop's value (``rendered``: its ``items`` already rendered, by a caller that
    looked at them first)."""
    spec = step.fields
    items = env.render(spec["items"], "foreach.items") if rendered is None else rendered
    if isinstance(items, Mapping):
        items = [{"key": k, "value": v} for k, v in items.items()]
    if not isinstance(items, list):
        raise PlaybookError(
            f"{env.where('foreach.items')}: items must be a list, not "
            f"{type(items).__name__} ({items!r:.80})"
        )
    name = spec.get("as", "item")
    concurrency = max(1, count(env, spec.get("concurrency", 1), "foreach.concurrency"))
    results: list[Any] = [None] * len(items)
    failures: list[str] = []
    queue = iter(enumerate(items))
    outer = scope.tagged(step.tags)

    async def worker() -> None:
        for index, item in queue:
            child = outer.child(**{name: item, "index": index})
            ok = await runner.sequence(
                step.steps, f"{path}.foreach[{index}].steps", child, depth + 1
            )
            own = child.records.maps[0] if isinstance(child.records, ChainMap) else {}
            results[index] = {k: v["result"] for k, v in own.items()}
            if not ok:
                failures.append(f"item {index}")
                raise BranchFailed(None)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(items)))]
    await until_failure(workers)
    if failures:
        raise PlaybookError(f"foreach failed at {failures[0]} (steps under {path}.foreach)")
    return results


async def include(runner: Runner, step: Step, env: StepEnv, path: str, depth: int) -> Any:
    """Run an included playbook (validated when this one was loaded) with its own
    inputs, vars and records; its ``finally`` runs when it ends, interrupted or not."""
    from playbook.inputs import resolve_inputs, secret_names

    shared = runner.shared
    if shared.include_depth >= MAX_INCLUDE_DEPTH:
        raise PlaybookError(
            f"{env.where('include')}: includes nest more than {MAX_INCLUDE_DEPTH} deep"
        )
    relative = str(step.fields["playbook"])
    target = Path(runner.playbook.path).parent / relative
    inputs = env.render(step.fields.get("inputs") or {}, "include.inputs")
    playbook = step.included
    if playbook is None:  # the loader loads every include, and refuses templated paths
        raise PlaybookError(f"{env.where('include')}: {relative!r} was not loaded")
    resolved = resolve_inputs(playbook.inputs, inputs, from_cli=False)
    for secret in secret_names(playbook.inputs):
        shared.masker.add(resolved.get(secret))
    child = type(runner)(playbook, resolved, shared, prefix=f"{path}.include.", depth=depth + 1)
    child.root = child.root.tagged(env.scope.tags | frozenset(step.tags))
    shared.include_depth += 1
    try:
        child.render_vars()
        try:
            ok = await child.sequence(playbook.steps, f"{child.prefix}steps", child.root, depth + 1)
        finally:
            await cleanup(child, playbook.finally_steps, "finally")
    finally:
        shared.include_depth -= 1
    if not ok:
        raise PlaybookError(f"included playbook {target} failed")
    return dict(child.root.records)


async def cleanup(runner: Runner, steps: Sequence[Step], path: str) -> None:
    """``finally``: each cleanup step regardless of the others (an internal error in one
    included); a second interrupt stops them, and the rest are recorded as skipped."""
    from playbook.runner.bugs import BugFound

    for index, step in enumerate(steps):
        try:
            await runner.step(
                step, f"{runner.prefix}{path}[{index}]", runner.root, runner.depth, in_finally=True
            )
        except BugFound:
            continue
        except asyncio.CancelledError:
            runner.skip_rest(steps, index, f"{runner.prefix}{path}", runner.depth, "interrupted")
            raise
