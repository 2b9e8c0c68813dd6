"""What the server's visibility store knows: the executions matching a query
(:func:`list_workflows`) and how many match (:func:`count_workflows`), as plain values.

Visibility is eventually consistent: a workflow started a moment ago may not be listed or
counted yet (a step's ``retry: {until: ...}`` waits for it).
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowExecution

from playbook.core.aimed import aimed
from playbook.core.plain import jsonable, snake

STATUSES = (
    "running",
    "completed",
    "failed",
    "canceled",
    "terminated",
    "continued_as_new",
    "timed_out",
)
"""The workflow statuses, as a ``count`` grouped by ``ExecutionStatus`` names them."""

GROUP_BY = ("ExecutionStatus",)
"""The fields Temporal groups a count by."""


def matching(query: str | None) -> str:
    """The words for what a query selects, for messages."""
    return f'the workflows matching "{query}"' if query else "all workflows"


async def execution(item: WorkflowExecution) -> dict[str, Any]:
    """One listed execution, as a ``list`` result names it (SPEC section 10)."""
    attributes = {pair.key.name: jsonable(pair.value) for pair in item.typed_search_attributes}
    return {
        "workflow_id": item.id,
        "run_id": item.run_id,
        "type": item.workflow_type,
        # temporalio's status names, lower-cased, as describe spells them
        "status": item.status.name.lower() if item.status else "unknown",
        "task_queue": item.task_queue,
        "start_time": jsonable(item.start_time),
        "close_time": jsonable(item.close_time),
        "memo": jsonable(dict(await item.memo())),
        "search_attributes": attributes,
    }


async def list_workflows(
    client: Client, query: str | None, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """The first ``limit`` executions matching ``query``, and whether more match. The
    server's order: running ones first, the most recently started first, then closed ones,
    the most recently closed first."""

    async def fetch() -> tuple[list[dict[str, Any]], bool]:
        found: list[dict[str, Any]] = []
        # one more than asked: tells whether the list was cut short
        async for item in client.list_workflows(
            query or None, limit=limit + 1, page_size=min(limit + 1, 1000)
        ):
            if len(found) == limit:
                return found, True
            found.append(await execution(item))
        return found, False

    return await aimed(fetch, "list", matching(query))


def grouped_query(query: str | None, group_by: str | None) -> str | None:
    """``query`` with its ``GROUP BY`` clause, when ``group_by`` names a field."""
    if not group_by:
        return query or None
    return f"{query} GROUP BY {group_by}" if query else f"GROUP BY {group_by}"


def status_word(value: Any) -> str:
    """A group's ``ExecutionStatus`` value (``ContinuedAsNew``) as a status
    (``continued_as_new``)."""
    return snake(str(value))


async def count_workflows(
    client: Client, query: str | None, group_by: str | None = None
) -> dict[str, Any]:
    """``{count}``, and with ``group_by`` ``{count, groups: {<status>: n}}`` (every status
    present, 0 for those no execution has)."""
    full = grouped_query(query, group_by)
    counted = await aimed(lambda: client.count_workflows(full), "count", matching(query))
    out: dict[str, Any] = {"count": counted.count}
    if group_by or counted.groups:
        groups = dict.fromkeys(STATUSES, 0) if group_by == "ExecutionStatus" else {}
        for group in counted.groups:
            key = ",".join(status_word(v) for v in group.group_values)
            groups[key] = groups.get(key, 0) + group.count
        out["groups"] = groups
    return out
