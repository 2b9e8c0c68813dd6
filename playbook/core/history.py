"""A workflow's history as plain values: its events (``{id, type, time, attributes}``, the
types spelt as Temporal spells them, ``ActivityTaskFailed``), their count per type, and the
history's length (:func:`history`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import temporalio.api.enums.v1 as enums
import temporalio.api.history.v1
import temporalio.converter

from playbook.core.guard import call
from playbook.core.plain import plain, time_of
from playbook.core.stub import WorkflowStub


def _camel(enum_name: str) -> str:
    """``EVENT_TYPE_ACTIVITY_TASK_FAILED`` -> ``ActivityTaskFailed``."""
    words = enum_name.removeprefix("EVENT_TYPE_").split("_")
    return "".join(word.capitalize() for word in words)


EVENT_TYPES: tuple[str, ...] = tuple(
    _camel(value.name)
    for value in enums.EventType.DESCRIPTOR.values
    if value.name != "EVENT_TYPE_UNSPECIFIED"
)
"""Every event type this SDK knows, as a playbook spells it."""


_NUMBERS = frozenset(value.number for value in enums.EventType.DESCRIPTOR.values)


def event_type(event: temporalio.api.history.v1.HistoryEvent) -> str:
    """The event's type as Temporal spells it (``ActivityTaskFailed``); the number of one
    this SDK does not know."""
    name = enums.EventType.Name(event.event_type) if event.event_type in _NUMBERS else None
    return _camel(name) if name else str(event.event_type)


async def event(
    converter: temporalio.converter.DataConverter, raw: temporalio.api.history.v1.HistoryEvent
) -> dict[str, Any]:
    """One event: its id, type, time and attributes (payloads decoded)."""
    which = raw.WhichOneof("attributes")
    return {
        "id": raw.event_id,
        "type": event_type(raw),
        "time": time_of(raw, "event_time"),
        "attributes": await plain(converter, getattr(raw, which)) if which else {},
    }


async def history(stub: WorkflowStub, event_types: Sequence[str] = ()) -> dict[str, Any]:
    """``{length, events, counts}`` of the run the stub reaches (for a started one, the
    latest run of its chain). ``event_types`` keeps only those events; ``length`` and
    ``counts`` are the whole history's (a type asked for that never occurred counts 0)."""

    async def fetch() -> list[temporalio.api.history.v1.HistoryEvent]:
        return [e async for e in stub.handle().fetch_history_events()]

    events = await call(fetch, stub, "history")
    counts: Counter[str] = Counter(event_type(e) for e in events)
    wanted = set(event_types)
    converter = stub.client.data_converter
    kept = [await event(converter, e) for e in events if not wanted or event_type(e) in wanted]
    return {
        "length": len(events),
        "events": kept,
        "counts": {**dict.fromkeys(event_types, 0), **counts},
    }
