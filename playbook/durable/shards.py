"""``foreach`` sharding in a durable run: a long loop runs its iterations in shards, child
workflows of the run (``PlaybookRun`` in shard mode, id ``<run>/<loop path>/<first item>``).
A shard's result is its summary (each item's result, what the run's ledgers learnt, its
worst exit code); its records go to its own history, as the input of the
:data:`RECORDS` activity, so that the run's history never holds them.

* A loop is sharded when it has more than :data:`SHARD_ITEMS` items, or when its calls
  (estimated: items times the client calls of one iteration) would take the workflow's
  history past :data:`HISTORY_BUDGET` events, counting what its other loops have already
  planned. A loop in an included file runs in the interpreter (its step is not found by a
  shard).
* A leaf shard holds at most :data:`SHARD_ITEMS` items, fewer when an iteration makes many
  calls (about :data:`LEAF_EVENTS` events a shard). A workflow starts at most
  :data:`MAX_SHARDS` shards for one loop: a longer loop gives each shard a range of leaf
  shards, which it starts itself (a tree, so that no history grows with the loop).
* Shards run side by side when the loop's ``concurrency`` is wider than a shard (one shard
  per :data:`SHARD_ITEMS` of concurrency), their ``concurrency`` shared out.

A shard is given a snapshot of the loop's scope (vars, records by id, the workflow stubs,
the loop variables of enclosing loops; sealed when the workers hold a key) and what the
run has learnt of the workflow types' handlers. The run's progress document lists the
shards where their records belong (``shards``); ``status`` and ``report`` read them from
the shards' histories (:mod:`.assemble`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from playbook.durable import sealing
from playbook.durable.state import StubState, ledger_data, merge_ledger, pack, result_data, unpack
from playbook.errors import PlaybookError
from playbook.runner import nested
from playbook.runner.env import Scope
from playbook.runner.values import count

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.runner import Runner
    from playbook.runner.env import StepEnv

RECORDS = "playbook_records"
"""The activity whose input, in a shard's history, holds the shard's records (it does
nothing: its input is the point; :func:`playbook.durable.assemble.shard_document`)."""
SHARD_ITEMS = 100
"""Items of a leaf shard at most (and the loop length above which a loop is sharded)."""
MAX_SHARDS = 100
"""Shards one workflow starts for one loop at most; a longer loop's shards shard again."""
HISTORY_BUDGET = 10_000
"""Events a workflow plans for its loops' calls (Temporal warns at 10,240)."""
LEAF_EVENTS = 6_000
"""Events a leaf shard's calls are planned to take at most."""
EVENTS_PER_CALL = 6
"""A client call's events: its activity's three, and a workflow task's three."""


@dataclass
class Ledger:
    """What one interpreter workflow knows of its shards: where their records go, and the
    events its own loops have planned."""

    root: str
    """The workflow id of the run (of the run a shard belongs to)."""
    base: dict[str, Any]
    """The run's workflow input without its ``shard``: every shard gets it."""
    key: bytes | None = None
    shards: list[dict[str, Any]] = field(default_factory=list)
    planned: int = 0
    uses: dict[str, int] = field(default_factory=dict)
    """How often each shard id was given in this workflow: a loop run again (a ``retry``
    of it) gives its shards ids of their own (``<id>~2``)."""


LEDGER: ContextVar[Ledger] = ContextVar("playbook_durable_shards")


def calls_per_item(step: Step) -> int:
    """Client calls (and timers) in one iteration of ``step``'s body, nested bodies once."""
    from playbook.actions import TEMPORAL_ACTIONS

    waits = {"sleep", "confirm", *TEMPORAL_ACTIONS}
    return sum(1 for s in tuple(step.walk())[1:] if s.kind in waits)


def snapshot(scope: Scope) -> dict[str, Any]:
    """What a shard sees of the loop's scope, as plain data."""
    return {
        "records": dict(scope.records),
        "stubs": {name: stub.to_data() for name, stub in scope.stubs.items()},  # type: ignore[attr-defined]
        "vars": dict(scope.vars),
        "locals": dict(scope.locals),
        "tags": sorted(scope.tags),
    }


def restored(data: Mapping[str, Any], key: bytes | None) -> Scope:
    if sealing.is_sealed(data):
        data = sealing.unseal(key, data)
    return Scope(
        records=dict(data["records"]),
        stubs={name: StubState.from_data(s) for name, s in data["stubs"].items()},  # type: ignore[misc]
        vars=dict(data["vars"]),
        locals=dict(data["locals"]),
        tags=frozenset(data["tags"]),
    )


def _sharded(items: int, calls: int) -> bool:
    ledger = LEDGER.get()
    planned = items * calls * EVENTS_PER_CALL
    length = workflow.info().get_current_history_length()
    if items > SHARD_ITEMS or length + ledger.planned + planned > HISTORY_BUDGET:
        return True
    ledger.planned += planned
    return False


def leaf_size(calls: int) -> int:
    return max(1, min(SHARD_ITEMS, LEAF_EVENTS // max(1, calls * EVENTS_PER_CALL)))


async def foreach(
    runner: Runner,
    step: Step,
    env: StepEnv,
    scope: Scope,
    path: str,
    depth: int,
) -> Any:
    """The loop's value; run in shards when long."""
    spec = step.fields
    items = env.render(spec["items"], "foreach.items")
    if isinstance(items, Mapping):  # (as a local loop goes over a mapping's entries)
        items = [{"key": k, "value": v} for k, v in items.items()]
    calls = calls_per_item(step)
    if not isinstance(items, list) or not _sharded(len(items), calls):
        return await nested.foreach(runner, step, env, scope, path, depth, items)
    key = LEDGER.get().key
    outer = snapshot(scope.tagged(step.tags))
    shard = {
        "step": list(step.path),
        "path": path,
        "depth": depth,
        "as": spec.get("as", "item"),
        "concurrency": max(1, count(env, spec.get("concurrency", 1), "foreach.concurrency")),
        "leaf": leaf_size(calls),
        "scope": sealing.seal(key, outer) if key is not None else outer,
        "ledger": ledger_data(runner.shared.result.handlers),  # (what the run has learnt)
        "started_at": runner.shared.result.started_at,
    }
    results: list[Any] = [None] * len(items)
    failed = await run_shards(runner, shard, items, 0, results)
    if failed:
        raise PlaybookError(f"foreach failed at item {failed[0]} (steps under {path}.foreach)")
    return results


async def run_shards(
    runner: Runner,
    shard: dict[str, Any],
    items: list[Any],
    first: int,
    results: list[Any],
) -> list[int]:
    """Run ``items`` (the loop's from ``first`` on) in shards; each item's result goes to
    ``results`` (at its index less ``first``). The items that failed."""
    leaf = int(shard["leaf"])
    leaves = -(-len(items) // leaf)
    size = leaf * -(-leaves // MAX_SHARDS)  # (more than MAX_SHARDS leaves: ranges of them)
    parts = [(first + at, items[at : at + size]) for at in range(0, len(items), size)]
    concurrency = int(shard["concurrency"])
    width = max(1, min(len(parts), concurrency // leaf))  # shards side by side
    each = max(1, -(-concurrency // width))
    queue = iter(parts)
    failed: list[int] = []
    shared = runner.shared
    ledger = LEDGER.get()
    info = workflow.info()

    async def one(start: int, part: list[Any]) -> None:
        workflow_id = f"{ledger.root}/{shard['path']}/{start}"
        if len(part) > leaf:  # (a range of leaf shards: its own leaves start at `start` too)
            workflow_id += f"-{start + len(part) - 1}"
        uses = ledger.uses[workflow_id] = ledger.uses.get(workflow_id, 0) + 1
        if uses > 1:
            workflow_id += f"~{uses}"
        ref: dict[str, Any] = {"workflow_id": workflow_id, "at": len(shared.result.records)}
        ref["finished_at"] = None
        ledger.shards.append(ref)
        given = {**shard, "first": start, "items": part, "concurrency": each}
        try:
            answer = unpack(
                await workflow.execute_child_workflow(
                    info.workflow_type,
                    pack({**ledger.base, "shard": given}),
                    id=workflow_id,
                    task_queue=info.task_queue,
                )
            )
        finally:
            ref["finished_at"] = len(getattr(shared.reporter, "finished", ()))
        merge_ledger(shared.result.handlers, answer["handlers"])
        for workflow_id_, run_id in answer["started"]:
            shared.ledger.started.setdefault((workflow_id_, run_id), None)
        shared.ledger.expected.update(answer["expected"])
        shared.worst(int(answer["exit_code"]))
        for index, value in answer["results"].items():
            results[int(index) - first] = value
        if shared.interrupted:  # (cancelled, the shard ended all the same, and said so)
            raise asyncio.CancelledError()
        if answer["failed"]:
            failed.extend(answer["failed"])
            raise nested.BranchFailed(None)

    async def worker() -> None:
        for start, part in queue:
            await one(start, part)

    await nested.until_failure([asyncio.ensure_future(worker()) for _ in range(width)])
    return sorted(failed)


async def shard(runner: Runner, data: Mapping[str, Any]) -> dict[str, Any]:
    """Run one shard's iterations (a shard workflow's body), or, for a range of leaf
    shards, start them: its part of the loop. Its records (and its own shards) go to its
    history as the input of the :data:`RECORDS` activity; the summary is its result."""
    step = next(s for s in runner.playbook.all_steps() if list(s.path) == data["step"])
    first = int(data["first"])
    items = list(data["items"])
    results: dict[str, Any] = {}
    failed: list[int] = []
    shared = runner.shared
    merge_ledger(shared.result.handlers, data["ledger"])
    try:
        if len(items) > int(data["leaf"]):
            values: list[Any] = [None] * len(items)
            failed = await run_shards(runner, dict(data), items, first, values)
            results = {str(first + i): v for i, v in enumerate(values) if v is not None}
        else:
            await _iterations(runner, step, data, results, failed)
    except asyncio.CancelledError:  # interrupted: what ran is told all the same
        shared.exit_code = 130
    done = result_data(shared.result, list(getattr(shared.reporter, "finished", ())), True)
    kept = {"records": done["records"], "finished": done["finished"], "shards": LEDGER.get().shards}
    await workflow.execute_activity(
        RECORDS, pack(kept), start_to_close_timeout=timedelta(minutes=1)
    )
    return {
        "handlers": done["handlers"],
        "results": results,
        "failed": sorted(failed),
        "started": [list(key) for key in shared.ledger.started],
        "expected": sorted(shared.ledger.expected),
        "exit_code": shared.exit_code,
    }


async def _iterations(
    runner: Runner, step: Step, data: Mapping[str, Any], results: dict[str, Any], failed: list[int]
) -> None:
    scope = restored(data["scope"], LEDGER.get().key)
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
    await nested.until_failure([asyncio.ensure_future(worker()) for _ in range(width)])
