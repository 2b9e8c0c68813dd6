"""The schedule actions (SPEC section 12) on the dev server: a schedule is created,
described, triggered (the triggered run's result awaited), paused, listed and deleted; a
dropped trigger fails at its timeout saying so."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from .test_ops import run


async def test_create_describe_trigger_await_pause_delete(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    schedule_id = f"sched-{uuid.uuid4().hex[:8]}"
    code, report = await run(
        tmp_path,
        f"""
        steps:
          - id: made
            create_schedule:
              schedule_id: {schedule_id}
              spec: {{intervals: [{{every: 1h, offset: 5m}}], timezone: UTC}}
              action:
                start_workflow:
                  type: Echo
                  task_queue: "{{{{ inputs.tq }}}}"
                  args: [hello, 2]
                  execution_timeout: 1m
              note: made by a test
          - id: seen
            describe_schedule: {{schedule_id: {schedule_id}}}
          - id: fired
            trigger_schedule: {{schedule_id: {schedule_id}, timeout: 20s}}
          - id: triggered
            create: {{workflow_id: "{{{{ steps.fired.result.workflow_id }}}}",
                      run_id: "{{{{ steps.fired.result.run_id }}}}"}}
          - id: echoed
            await_result: {{workflow: triggered, timeout: 20s}}
          - pause_schedule: {{schedule_id: {schedule_id}, note: incident INC-42}}
          - id: paused
            describe_schedule: {{schedule_id: {schedule_id}}}
          - id: listed
            list_schedules: {{limit: 1000}}
            retry: {{until: "result | selectattr('schedule_id', 'eq', '{schedule_id}') | list",
                     timeout: 15s, interval: 200ms}}
          - unpause_schedule: {{schedule_id: {schedule_id}}}
          - update_schedule: {{schedule_id: {schedule_id}, note: updated, overlap: allow_all}}
          - id: updated
            describe_schedule: {{schedule_id: {schedule_id}}}
          - delete_schedule: {{schedule_id: {schedule_id}}}
          - delete_schedule: {{schedule_id: {schedule_id}, if_exists: true}}
          - id: gone
            describe_schedule: {{schedule_id: {schedule_id}}}
            expect: {{error: {{type: NotFound, message: "schedule '{schedule_id}' was not found"}}}}
        """,
        dev_server,
        worker,
    )
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    by_id = {s["id"]: s for s in report["steps"] if s["id"]}
    assert by_id["made"]["result"] == {"schedule_id": schedule_id}
    seen = by_id["seen"]["result"]
    assert (seen["schedule_id"], seen["paused"], seen["note"]) == (
        schedule_id,
        False,
        "made by a test",
    )
    assert seen["spec"]["intervals"] == [{"every": "1h", "offset": "5m"}]
    assert seen["spec"]["timezone"] == "UTC"
    assert len(seen["next_action_times"]) >= 1
    assert seen["recent_actions"] == []
    fired = by_id["fired"]["result"]
    assert fired["workflow_id"].startswith(f"{schedule_id}-")
    assert by_id["echoed"]["result"] == ["hello", 2]
    assert by_id["echoed"]["run_id"] == fired["run_id"]
    paused = by_id["paused"]["result"]
    assert (paused["paused"], paused["note"]) == (True, "incident INC-42")
    assert paused["recent_actions"][0]["workflow_id"] == fired["workflow_id"]
    listed = [s for s in by_id["listed"]["result"] if s["schedule_id"] == schedule_id]
    assert [s["paused"] for s in listed] == [True]
    assert (by_id["updated"]["result"]["paused"], by_id["updated"]["result"]["note"]) == (
        False,
        "updated",
    )
    with pytest.raises(RPCError):
        await client.get_schedule_handle(schedule_id).describe()


async def test_a_dropped_trigger_fails_at_its_timeout_saying_so(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    schedule_id = f"sched-{uuid.uuid4().hex[:8]}"
    code, report = await run(
        tmp_path,
        f"""
        steps:
          - create_schedule:
              schedule_id: {schedule_id}
              spec: {{intervals: [{{every: 1h}}]}}
              action: {{start_workflow: {{type: Counter, task_queue: "{{{{ inputs.tq }}}}"}}}}
          - id: first
            trigger_schedule: {{schedule_id: {schedule_id}}}
          - id: second
            trigger_schedule: {{schedule_id: {schedule_id}, timeout: 2s}}
        finally:
          - delete_schedule: {{schedule_id: {schedule_id}, if_exists: true}}
        """,
        dev_server,
        worker,
    )
    assert code == 1
    second = next(s for s in report["steps"] if s["id"] == "second")
    assert second["error"]["type"] == "TriggerDropped"
    assert second["error"]["message"] == (
        f"trigger_schedule: schedule '{schedule_id}' started no run within 2s: it skipped "
        "the trigger: a run was in progress and overlap is 'skip'; give overlap: allow_all "
        "(or buffer_one) to start one anyway"
    )
    first = next(s for s in report["steps"] if s["id"] == "first")["result"]
    await client.get_workflow_handle(first["workflow_id"]).terminate(reason="test over")


async def test_backfill_update_and_a_schedule_made_of_cron_and_calendars(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    schedule_id = f"sched-{uuid.uuid4().hex[:8]}"
    code, report = await run(
        tmp_path,
        f"""
        steps:
          - create_schedule:
              schedule_id: {schedule_id}
              spec:
                cron: ["0 2 * * *"]
                calendars: [{{hour: 14, minute: 30, day_of_week: {{start: 1, end: 5}}}}]
                start_at: "2026-01-01T00:00:00Z"
              action: {{start_workflow: {{type: Echo, task_queue: "{{{{ inputs.tq }}}}"}}}}
              overlap: allow_all
              paused: true
          - id: made
            describe_schedule: {{schedule_id: {schedule_id}}}
          - backfill_schedule:
              schedule_id: {schedule_id}
              start_at: "2026-03-01T00:00:00Z"
              end_at: "2026-03-03T23:00:00Z"
              overlap: allow_all
          - id: filled
            describe_schedule: {{schedule_id: {schedule_id}}}
            retry: {{until: "result.recent_actions | length == 5", timeout: 15s, interval: 200ms}}
          - update_schedule:
              schedule_id: {schedule_id}
              spec: {{intervals: [{{every: 2h}}]}}
              paused: false
          - id: changed
            describe_schedule: {{schedule_id: {schedule_id}}}
          - id: missing
            pause_schedule: {{schedule_id: {schedule_id}-nope}}
            expect: {{error: {{type: NotFound}}}}
        finally:
          - delete_schedule: {{schedule_id: {schedule_id}}}
        """,
        dev_server,
        worker,
    )
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    by_id = {s["id"]: s for s in report["steps"] if s["id"]}
    made = by_id["made"]["result"]
    assert made["paused"] is True
    assert (made["spec"]["start_at"], made["spec"]["jitter"]) == ("2026-01-01T00:00:00+00:00", None)
    # the server keeps cron as a calendar: 02:00 every day, besides 14:30 on weekdays
    assert {(c["hour"][0], c["minute"][0]) for c in made["spec"]["calendars"]} == {(2, 0), (14, 30)}
    # 2 March 02:00, 2 March 14:30 (Monday), 3 March 02:00, 3 March 14:30, 1 March 02:00
    filled = by_id["filled"]["result"]["recent_actions"]
    assert sorted(a["scheduled_at"] for a in filled) == [
        "2026-03-01T02:00:00+00:00",
        "2026-03-02T02:00:00+00:00",
        "2026-03-02T14:30:00+00:00",
        "2026-03-03T02:00:00+00:00",
        "2026-03-03T14:30:00+00:00",
    ]
    changed = by_id["changed"]["result"]
    assert (changed["paused"], changed["spec"]["intervals"]) == (
        False,
        [{"every": "2h", "offset": None}],
    )
