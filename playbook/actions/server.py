"""The actions that read what the server knows (SPEC section 10): ``list`` and ``count``
(visibility), ``history`` (one workflow's events) and ``task_queue`` (pollers, backlog).

Their fields are rendered by now; a value the schema could not check (a template that
rendered to a bad ``limit``, an unknown event type) fails the step, naming the field.
"""

from __future__ import annotations

from typing import Any

from playbook.actions.base import Call, Done
from playbook.core import history as history_core
from playbook.core import task_queues, visibility
from playbook.errors import PlaybookError
from playbook.suggest import did_you_mean

DEFAULT_LIMIT = 100


def _query(call: Call) -> str | None:
    query = call.spec.get("query")
    if query is not None and not isinstance(query, str):
        raise PlaybookError(
            f"{call.env.where(call.action + '.query')}: a visibility query is a string, "
            f"not {type(query).__name__}"
        )
    return query or None


def _limit(call: Call) -> int:
    limit = call.spec.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise PlaybookError(
            f"{call.env.where('list.limit')}: limit must be a whole number of at least 1, "
            f"not {limit!r}"
        )
    return limit


def _choice(call: Call, field: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise PlaybookError(
            f"{call.env.where(call.action + '.' + field)}: {value!r} is not one of "
            f"{', '.join(choices)}{did_you_mean(str(value), choices)}"
        )
    return str(value)


async def list_(call: Call) -> Done:
    """The executions matching ``query``: at most ``limit`` (default 100), in the server's
    order; when more match, the record's note says so."""
    limit = _limit(call)
    query = _query(call)
    client = await call.env.client()
    found, more = await visibility.list_workflows(client, query, limit)
    note = (
        f"more than {limit} workflows match; the first {limit} are listed (raise limit for more)"
        if more
        else None
    )
    return Done(found, note=note)


async def count(call: Call) -> dict[str, Any]:
    query = _query(call)
    group_by = call.spec.get("group_by")
    if group_by is not None:
        group_by = _choice(call, "group_by", group_by, visibility.GROUP_BY)
    client = await call.env.client()
    return await visibility.count_workflows(client, query, group_by)


def _event_types(call: Call) -> list[str]:
    given = call.spec.get("event_types") or []
    where = call.env.where("history.event_types")
    if not isinstance(given, list):
        raise PlaybookError(f"{where}: expected a list of event types, got {given!r}")
    for name in given:
        if name not in history_core.EVENT_TYPES:
            raise PlaybookError(
                f"{where}: {name!r} is not a Temporal event type (they are spelt as Temporal "
                f"spells them: ActivityTaskFailed){did_you_mean(str(name), history_core.EVENT_TYPES)}"
            )
    return given


async def history(call: Call) -> Done:
    event_types = _event_types(call)
    stub = call.env.stub(call.spec["workflow"])
    value = await history_core.history(stub, event_types)
    return Done(value, stub.workflow_id, stub.current_run_id)


async def task_queue(call: Call) -> dict[str, Any]:
    name = call.spec.get("name")
    if not isinstance(name, str) or not name:
        raise PlaybookError(
            f"{call.env.where('task_queue.name')}: a task queue name is a non-empty string, "
            f"not {name!r}"
        )
    kind = _choice(call, "kind", call.spec.get("kind", "workflow"), tuple(task_queues.KINDS))
    client = await call.env.client()
    return await task_queues.describe_task_queue(client, name, kind)
