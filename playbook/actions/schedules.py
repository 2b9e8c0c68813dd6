"""The schedule actions of SPEC section 12, over :mod:`playbook.core.schedules`."""

from __future__ import annotations

from typing import Any

from temporalio.client import ScheduleBackfill, ScheduleUpdate, ScheduleUpdateInput

from playbook.actions.base import Call
from playbook.core import schedules as core
from playbook.core.aimed import aimed
from playbook.durations import parse_duration
from playbook.errors import InvalidOptions, PlaybookError, TemporalError

_UPDATABLE = ("spec", "action", "overlap", "paused", "note")


async def _handle(call: Call) -> Any:
    client = await call.env.client()
    return client.get_schedule_handle(call.spec["schedule_id"])


async def create_schedule(call: Call) -> dict[str, Any]:
    spec = call.spec
    client = await call.env.client()
    schedule = core.schedule_of(client, spec["schedule_id"], spec)
    await aimed(
        lambda: client.create_schedule(spec["schedule_id"], schedule),
        "create_schedule",
        core.target(spec["schedule_id"]),
    )
    return {"schedule_id": spec["schedule_id"]}


async def describe_schedule(call: Call) -> dict[str, Any]:
    return core.description(await core.describe(await _handle(call)))


async def update_schedule(call: Call) -> dict[str, Any]:
    spec, handle = call.spec, await _handle(call)
    given = {k: spec[k] for k in _UPDATABLE if k in spec}
    client = await call.env.client()
    problems = [] if given else [f"give any of {', '.join(_UPDATABLE)}"]
    # every field is checked before the server is asked: a bad one changes nothing
    new_spec = core.spec_of(given["spec"] or {}, problems) if "spec" in given else None
    new_action = (
        core.action_of(client, handle.id, given["action"] or {}, problems)
        if "action" in given
        else None
    )
    core.check_overlap(given.get("overlap"), problems)
    if problems:
        raise InvalidOptions(problems, what=f"update of schedule '{handle.id}'")

    def updater(current: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule = current.description.schedule
        schedule.spec = new_spec or schedule.spec
        schedule.action = new_action or schedule.action
        if "overlap" in given:
            schedule.policy.overlap = core.overlap_policy(given["overlap"])
        if "paused" in given:
            schedule.state.paused = bool(given["paused"])
        if "note" in given:
            schedule.state.note = given["note"]
        return ScheduleUpdate(schedule=schedule)

    await aimed(lambda: handle.update(updater), "update_schedule", core.target(handle.id))
    return {"schedule_id": handle.id}


async def pause_schedule(call: Call) -> None:
    handle = await _handle(call)
    note = call.spec.get("note")
    await aimed(lambda: handle.pause(note=note), "pause_schedule", core.target(handle.id))


async def unpause_schedule(call: Call) -> None:
    handle = await _handle(call)
    note = call.spec.get("note")
    await aimed(lambda: handle.unpause(note=note), "unpause_schedule", core.target(handle.id))


def _seconds(call: Call, name: str, default: str) -> float:
    try:
        return parse_duration(call.spec.get(name, default)).total_seconds()
    except ValueError as e:
        raise PlaybookError(f"{call.env.where(call.action + '.' + name)}: {e}") from None


async def trigger_schedule(call: Call) -> dict[str, Any] | None:
    spec, handle = call.spec, await _handle(call)
    overlap = spec.get("overlap")
    problems: list[str] = []
    core.check_overlap(overlap, problems)
    if problems:
        raise InvalidOptions(problems, what="trigger_schedule")
    return await core.trigger(
        handle,
        overlap,
        wait_started=bool(spec.get("wait_started", True)),
        timeout=_seconds(call, "timeout", "30s"),
    )


async def backfill_schedule(call: Call) -> None:
    spec, handle = call.spec, await _handle(call)
    problems: list[str] = []
    start, end = (core.parse_time(spec.get(k), k, problems) for k in ("start_at", "end_at"))
    overlap = spec.get("overlap")
    core.check_overlap(overlap, problems)
    if start is None or end is None:
        problems.append("start_at, end_at: both required, ISO-8601 times")
    if problems or start is None or end is None:
        raise InvalidOptions(problems, what="backfill_schedule")
    backfill = ScheduleBackfill(start, end, core.overlap_policy(overlap) if overlap else None)
    await aimed(lambda: handle.backfill(backfill), "backfill_schedule", core.target(handle.id))


async def delete_schedule(call: Call) -> None:
    handle = await _handle(call)
    try:
        await aimed(handle.delete, "delete_schedule", core.target(handle.id))
    except TemporalError as e:
        if not (call.spec.get("if_exists") and e.error_type == "NotFound"):
            raise


async def list_schedules(call: Call) -> list[dict[str, Any]]:
    client = await call.env.client()
    return await core.listed(client, call.spec.get("query"), int(call.spec.get("limit", 100)))
