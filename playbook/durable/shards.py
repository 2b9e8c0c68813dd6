"""``foreach`` sharding in a durable run: a loop over more than :data:`SHARD_ITEMS` items
runs its iterations in child workflows (``PlaybookRun`` in shard mode), a shard of
:data:`SHARD_ITEMS` items each, one shard after another, each with the loop's
``concurrency``. So the history of every run stays bounded by the shard size, not by the
loop's length, and a shard's calls spread over every worker of the queue.

A shard is given a snapshot of the loop's scope (vars, records by id, the workflow stubs,
the loop variables of enclosing loops) and gives back its records (masked, with their
paths and depths as a local run has them), each item's result and what the run's ledgers
learnt; the parent adds them to its own, in order. Loops in included files, and loops of
at most :data:`SHARD_ITEMS` items, run in the interpreter itself, as locally.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from playbook.durable.state import StubState, merge_ledger, result_data, unpack
from playbook.errors import PlaybookError
from playbook.records import StepRecord
from playbook.runner import nested
from playbook.runner.env import Scope
from playbook.runner.values import count

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.runner import Runner
    from playbook.runner.env import StepEnv

SHARD_ITEMS = 100
"""Items per shard: a shard of client calls keeps its history around a thousand events."""


def snapshot(scope: Scope) -> dict[str, Any]:
    """What a shard sees of the loop's scope, as plain data."""
    return {
        "records": dict(scope.records),
        "stubs": {name: stub.to_data() for name, stub in scope.stubs.items()},  # type: ignore[attr-defined]
        "vars": dict(scope.vars),
        "locals": dict(scope.locals),
        "tags": sorted(scope.tags),
    }


def restored(data: Mapping[str, Any]) -> Scope:
    return Scope(
        records=dict(data["records"]),
        stubs={name: StubState.from_data(s) for name, s in data["stubs"].items()},  # type: ignore[misc]
        vars=dict(data["vars"]),
        locals=dict(data["locals"]),
        tags=frozenset(data["tags"]),
    )


async def foreach(
    base: dict[str, Any],
    runner: Runner,
    step: Step,
    env: StepEnv,
    scope: Scope,
    path: str,
    depth: int,
) -> Any:
    """The loop's value; sharded when it has more than :data:`SHARD_ITEMS` items
    (``base``: the run's own workflow input, which every shard gets too)."""
    spec = step.fields
    items = env.render(spec["items"], "foreach.items")
    if not isinstance(items, list) or len(items) <= SHARD_ITEMS:
        return await nested.foreach(runner, step, env, scope, path, depth)
    concurrency = max(1, count(env, spec.get("concurrency", 1), "foreach.concurrency"))
    shared = runner.shared
    outer = snapshot(scope.tagged(step.tags))
    results: list[Any] = [None] * len(items)
    for first in range(0, len(items), SHARD_ITEMS):
        shard = {
            "step": list(step.path),
            "path": path,
            "depth": depth,
            "first": first,
            "items": items[first : first + SHARD_ITEMS],
            "as": spec.get("as", "item"),
            "concurrency": concurrency,
            "scope": outer,
            "started_at": shared.result.started_at,
        }
        answer = unpack(
            await workflow.execute_child_workflow(
                workflow.info().workflow_type,
                {**base, "shard": shard},
                id=f"{workflow.info().workflow_id}/{path}/{first}",
                task_queue=workflow.info().task_queue,
            )
        )
        for data in answer["records"]:
            record = StepRecord(**data)
            shared.result.records.append(record)
            shared.reporter.step_finished(record)
        merge_ledger(shared.result.handlers, answer["handlers"])
        for workflow_id, run_id in answer["started"]:
            shared.ledger.started.setdefault((workflow_id, run_id), None)
        shared.ledger.expected.update(answer["expected"])
        shared.worst(int(answer["exit_code"]))
        for index, value in answer["results"].items():
            results[int(index)] = value
        if answer["failed"]:
            raise PlaybookError(
                f"foreach failed at item {answer['failed'][0]} (steps under {path}.foreach)"
            )
    return results


async def shard(runner: Runner, data: Mapping[str, Any]) -> dict[str, Any]:
    """Run one shard's iterations (a child workflow's body); its part of the loop."""
    step = next(s for s in runner.playbook.all_steps() if list(s.path) == data["step"])
    scope = restored(data["scope"])
    results: dict[str, Any] = {}
    failed: list[int] = []
    queue = iter(enumerate(data["items"], start=int(data["first"])))
    depth, path = int(data["depth"]), str(data["path"])

    async def worker() -> None:
        for index, item in queue:
            child = scope.child(**{data["as"]: item, "index": index})
            ok = await runner.sequence(
                step.steps, f"{path}.foreach[{index}].steps", child, depth + 1
            )
            own = child.records.maps[0]  # type: ignore[attr-defined]
            results[str(index)] = {k: v["result"] for k, v in own.items()}
            if not ok:
                failed.append(index)
                raise nested.BranchFailed(None)

    width = min(int(data["concurrency"]), len(data["items"]))
    shared = runner.shared
    try:
        await nested.until_failure([asyncio.ensure_future(worker()) for _ in range(width)])
    except asyncio.CancelledError:  # interrupted: what ran is told all the same
        shared.exit_code = 130
    done = result_data(shared.result, [], True)
    return {
        "records": done["records"],
        "handlers": done["handlers"],
        "results": results,
        "failed": failed,
        "started": [list(key) for key in shared.ledger.started],
        "expected": sorted(shared.ledger.expected),
        "exit_code": shared.exit_code,
    }
