"""A durable run's records, put together: the run's progress document holds its own
records and, where a long loop's shards went (``shards``: workflow id, ``at`` the record
position when the shard began, ``finished_at`` the finished position when it ended), the
shards whose histories hold theirs (a range of shards holds more shards). Read a shard at a
time, so that a report of a 100,000-item loop is streamed, not held.

* :func:`in_order`: every record in the order they were made (the reports' order; a
  shard still running gives its records so far);
* :func:`entries`: what ended, in the order it ended: a record index of the document, or a
  shard that has ended (``follow`` prints these as they come);
* :func:`full_result`: the :class:`RunResult` of the whole run, its records in an on-disk
  :class:`~playbook.record_log.RecordLog`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from playbook.errors import PlaybookError
from playbook.records import RunResult, StepRecord

if TYPE_CHECKING:
    from temporalio.client import Client


async def shard_document(client: Client, workflow_id: str) -> dict[str, Any]:
    """A shard's records, its own shards and the order its steps ended, from its history
    (the input of its :data:`~playbook.durable.shards.RECORDS` activity); waiting for it
    to close first (an interrupted shard closes soon)."""
    from playbook import core
    from playbook.durable.shards import RECORDS
    from playbook.durable.state import unpack

    await core.get_result(core.create_workflow(client, workflow_id))
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == RECORDS:
                [document] = await client.data_converter.decode(scheduled.input.payloads)
                return unpack(document)
    raise PlaybookError(
        f"shard {workflow_id} of the durable run ended without its records: see its history "
        "in the Temporal UI"
    )


async def running_shard(client: Client, workflow_id: str) -> dict[str, Any]:
    """A running shard's records so far (its ``progress`` query); none when no worker
    answers for it just now."""
    from playbook import core
    from playbook.durable.state import unpack

    try:
        return unpack(await core.query(core.create_workflow(client, workflow_id), "progress"))
    except PlaybookError:
        return {"records": [], "finished": [], "shards": []}


def _by_position(document: Mapping[str, Any], key: str) -> dict[int, list[dict[str, Any]]]:
    placed: dict[int, list[dict[str, Any]]] = {}
    for ref in document.get("shards") or ():
        if ref.get(key) is not None:
            placed.setdefault(int(ref[key]), []).append(ref)
    return placed


async def in_order(client: Client, document: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """Every record of the run (of a shard) as plain data, in the order they were made."""
    placed = _by_position(document, "at")
    records = document["records"]
    for index in range(len(records) + 1):
        for ref in placed.get(index, ()):
            if ref.get("finished_at") is None:  # (a report while the run goes on)
                shard = await running_shard(client, ref["workflow_id"])
            else:
                shard = await shard_document(client, ref["workflow_id"])
            async for record in in_order(client, shard):
                yield record
        if index < len(records):
            yield records[index]


def entries(document: Mapping[str, Any]) -> list[int | dict[str, Any]]:
    """What has ended, in order: record indexes of ``document`` and shard references (a
    list that only grows at its end while the run goes on)."""
    placed = _by_position(document, "finished_at")
    finished = document["finished"]
    out: list[int | dict[str, Any]] = []
    for position in range(len(finished) + 1):
        out.extend(placed.get(position, ()))
        if position < len(finished):
            out.append(int(finished[position]))
    return out


async def ended(client: Client, document: Mapping[str, Any]) -> AsyncIterator[StepRecord]:
    """The records of a closed shard (or a run) in the order its steps ended."""
    for entry in entries(document):
        if isinstance(entry, int):
            yield StepRecord(**document["records"][entry])
        else:
            async for record in ended(client, await shard_document(client, entry["workflow_id"])):
                yield record


async def full_result(client: Client, document: Mapping[str, Any]) -> RunResult:
    """The run's result with every record, its shards' included (a record log's)."""
    from playbook.durable.state import result_from
    from playbook.record_log import RecordLog

    result = result_from({**document, "records": []})
    log = RecordLog()
    async for data in in_order(client, document):
        record = StepRecord(**data)
        log.append(record)
        log.finish(record)
    result.records = log
    return result
