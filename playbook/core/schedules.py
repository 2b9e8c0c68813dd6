"""Schedules (SPEC section 12): a playbook's ``spec``/``action``/``overlap`` fields as
temporalio's :class:`~temporalio.client.Schedule` (:func:`schedule_of`, checked, every
problem at once), a description as a step reports it (:func:`description`), and a trigger
that finds the run it started (:func:`trigger`). Calls go through
:func:`playbook.core.aimed.aimed`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from playbook import deadline
from playbook.core.aimed import aimed
from playbook.core.stub import create_workflow, start_kwargs
from playbook.durations import parse_duration
from playbook.errors import InvalidOptions, TemporalError

OVERLAP = ("skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all")
_CALENDAR = ("second", "minute", "hour", "day_of_month", "month", "year", "day_of_week")
_NOT_SCHEDULED = ("id_reuse_policy", "id_conflict_policy", "cron_schedule", "start_delay")
_POLL = 0.25  # seconds between looks for a triggered run


def target(schedule_id: str) -> str:
    return f"schedule '{schedule_id}'"


def overlap_policy(name: str) -> ScheduleOverlapPolicy:
    return ScheduleOverlapPolicy[name.upper()]


def check_overlap(overlap: Any, problems: list[str]) -> None:
    """An ``overlap`` field (None: not given)."""
    if overlap is not None and overlap not in OVERLAP:
        problems.append(f"overlap: one of {', '.join(OVERLAP)}, not {overlap!r}")


def _duration(value: Any, where: str, problems: list[str]) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as e:
        problems.append(f"{where}: {e}")
        return None


def parse_time(value: Any, where: str, problems: list[str]) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{where}: not an ISO-8601 time ({value!r}), e.g. 2026-01-31T02:00:00Z")
        return None


def _ranges(value: Any, where: str, problems: list[str]) -> list[ScheduleRange] | None:
    """A calendar field: a number, a list of numbers, or ``{start, end, step}``."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            out.append(ScheduleRange(item))
        elif isinstance(item, Mapping) and isinstance(item.get("start"), int):
            out.append(ScheduleRange(item["start"], item.get("end", 0), item.get("step", 0)))
        else:
            problems.append(f"{where}: a number, a list of numbers or {{start, end, step}}")
            return None
    return out


def _calendar(value: Any, where: str, problems: list[str]) -> ScheduleCalendarSpec:
    fields: dict[str, Any] = {}
    for name, given in (value or {}).items():
        if name == "comment":
            fields["comment"] = str(given)
        elif name not in _CALENDAR:
            problems.append(f"{where}.{name}: unknown; the fields are {', '.join(_CALENDAR)}")
        else:
            fields[name] = _ranges(given, f"{where}.{name}", problems) or ()
    return ScheduleCalendarSpec(**fields)


def spec_of(spec: Mapping[str, Any], problems: list[str]) -> ScheduleSpec:
    """A schedule's ``spec`` field as temporalio's."""
    intervals = []
    for i, interval in enumerate(spec.get("intervals") or []):
        where = f"spec.intervals[{i}]"
        every = _duration(interval.get("every"), f"{where}.every", problems)
        if every is None and "every" not in interval:
            problems.append(f"{where}.every: required")
        offset = _duration(interval.get("offset"), f"{where}.offset", problems)
        intervals.append(ScheduleIntervalSpec(every or timedelta(seconds=1), offset))
    calendars = [
        _calendar(c, f"spec.calendars[{i}]", problems)
        for i, c in enumerate(spec.get("calendars") or [])
    ]
    return ScheduleSpec(
        cron_expressions=list(spec.get("cron") or []),
        intervals=intervals,
        calendars=calendars,
        start_at=parse_time(spec.get("start_at"), "spec.start_at", problems),
        end_at=parse_time(spec.get("end_at"), "spec.end_at", problems),
        jitter=_duration(spec.get("jitter"), "spec.jitter", problems),
        time_zone_name=spec.get("timezone"),
    )


def action_of(
    client: Client, schedule_id: str, action: Mapping[str, Any], problems: list[str]
) -> ScheduleActionStartWorkflow | None:
    """``{start_workflow: {type, task_queue, args, workflow_id, <workflow options>}}``."""
    start = dict(action.get("start_workflow") or {})
    if not start.get("type"):
        problems.append("action.start_workflow.type: required (the workflow type to start)")
        return None
    workflow_type, args = start.pop("type"), start.pop("args", [])
    for name in _NOT_SCHEDULED:
        if name in start:
            problems.append(f"action.start_workflow.{name}: a schedule's workflow cannot take it")
            start.pop(name)
    start.setdefault("workflow_id", schedule_id)  # the server appends the scheduled time
    try:
        stub = create_workflow(client, workflow_type, start)
    except InvalidOptions as e:
        problems.extend(f"action.start_workflow: {p}" for p in e.problems)
        return None
    kwargs = start_kwargs(stub)
    for name in ("cron_schedule", "id_reuse_policy", "id_conflict_policy", "start_delay"):
        kwargs.pop(name, None)
    if "search_attributes" in kwargs:
        kwargs["typed_search_attributes"] = kwargs.pop("search_attributes")
    return ScheduleActionStartWorkflow(workflow_type, args=list(args), **kwargs)


def schedule_of(client: Client, schedule_id: str, fields: Mapping[str, Any]) -> Schedule:
    """A whole schedule from a step's fields; every problem at once (bad input: exit 2)."""
    problems: list[str] = []
    spec = spec_of(fields.get("spec") or {}, problems)
    action = action_of(client, schedule_id, fields.get("action") or {}, problems)
    overlap = fields.get("overlap", "skip")
    check_overlap(overlap, problems)
    if problems or action is None:
        raise InvalidOptions(problems, what=f"schedule '{schedule_id}'")
    return Schedule(
        action=action,
        spec=spec,
        policy=SchedulePolicy(overlap=overlap_policy(overlap)),
        state=ScheduleState(note=fields.get("note"), paused=bool(fields.get("paused", False))),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _range_text(ranges: Sequence[ScheduleRange]) -> list[Any]:
    return [
        r.start
        if (r.end <= r.start and r.step <= 1)
        else {"start": r.start, "end": r.end, "step": r.step or 1}
        for r in ranges
    ]


def spelt(delta: timedelta | None) -> str | None:
    """A duration as a playbook writes it (``1h30m``, ``5m``, ``1500ms``): read back, it is
    the same."""
    if delta is None:
        return None
    ms = round(delta.total_seconds() * 1000)
    if ms % 1000:
        return f"{ms}ms"
    seconds, parts = ms // 1000, []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def spec_facts(spec: ScheduleSpec) -> dict[str, Any]:
    """A schedule's spec in the playbook's spelling (the server keeps cron as calendars)."""
    return {
        "cron": list(spec.cron_expressions),
        "intervals": [
            {"every": spelt(i.every), "offset": spelt(i.offset) if i.offset else None}
            for i in spec.intervals
        ],
        "calendars": [
            {name: _range_text(getattr(c, name)) for name in _CALENDAR if getattr(c, name)}
            for c in spec.calendars
        ],
        "start_at": _iso(spec.start_at),
        "end_at": _iso(spec.end_at),
        "jitter": spelt(spec.jitter) if spec.jitter else None,
        "timezone": spec.time_zone_name,
    }


def _run(action: Any) -> dict[str, Any]:
    return {
        "workflow_id": getattr(action, "workflow_id", None),
        "run_id": getattr(action, "first_execution_run_id", None),
    }


def description(d: ScheduleDescription) -> dict[str, Any]:
    """``describe_schedule``'s result."""
    return {
        "schedule_id": d.id,
        "paused": d.schedule.state.paused,
        "note": d.schedule.state.note,
        "spec": spec_facts(d.schedule.spec),
        "next_action_times": [_iso(t) for t in d.info.next_action_times],
        "recent_actions": [
            {**_run(a.action), "scheduled_at": _iso(a.scheduled_at)} for a in d.info.recent_actions
        ],
        "running": [_run(a) for a in d.info.running_actions],
    }


async def describe(handle: ScheduleHandle) -> ScheduleDescription:
    return await aimed(handle.describe, "describe_schedule", target(handle.id))


async def trigger(
    handle: ScheduleHandle, overlap: str | None, *, wait_started: bool, timeout: float
) -> dict[str, Any] | None:
    """Trigger the schedule; with ``wait_started`` the run it started, found among its
    recent actions (Temporal's trigger returns no id). A trigger the schedule drops (its
    overlap policy with a run in progress) fails at ``timeout``, saying so."""
    where = target(handle.id)
    before = await describe(handle) if wait_started else None
    policy = overlap_policy(overlap) if overlap else None
    await aimed(lambda: handle.trigger(overlap=policy), "trigger_schedule", where)
    if before is None:
        return None
    seen = [_run(a.action) for a in before.info.recent_actions]
    end = asyncio.get_running_loop().time() + timeout
    while True:
        now = await describe(handle)
        for action in reversed(now.info.recent_actions):
            if (run := _run(action.action)) not in seen:  # the newest action we had not seen
                return run
        left = end - asyncio.get_running_loop().time()
        bound = deadline.remaining()
        if left <= 0 or bound == 0:
            skipped = now.info.num_actions_skipped_overlap - before.info.num_actions_skipped_overlap
            why = (
                f"it skipped the trigger: a run was in progress and overlap is "
                f"'{overlap or _overlap_name(now)}'"
                if skipped > 0 or now.info.running_actions
                else "the schedule dropped the trigger"
            )
            within = spelt(timedelta(seconds=timeout))
            raise TemporalError(
                f"trigger_schedule: {where} started no run within {within}: {why}; give "
                "overlap: allow_all (or buffer_one) to start one anyway",
                operation="trigger_schedule",
                error_type="TriggerDropped",
            )
        await asyncio.sleep(min(_POLL, max(left, 0.01)))


def _overlap_name(d: ScheduleDescription) -> str:
    return d.schedule.policy.overlap.name.lower()


async def listed(client: Client, query: str | None, limit: int) -> list[dict[str, Any]]:
    """``list_schedules``'s result: at most ``limit`` of them."""

    async def read() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async for entry in await client.list_schedules(query):
            if len(out) >= limit:
                break
            out.append(
                {
                    "schedule_id": entry.id,
                    "paused": entry.schedule.state.paused if entry.schedule else None,
                    "next_action_times": [
                        _iso(t) for t in (entry.info.next_action_times if entry.info else [])
                    ],
                }
            )
        return out

    return await aimed(read, "list_schedules", "the namespace's schedules")
