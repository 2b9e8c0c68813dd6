"""What the server knows, as steps, against the dev server (SPEC section 10): ``list``,
``count`` (with ``group_by``), ``history``, ``task_queue``, and ``describe``'s pending
activities, pending children and versioning info. Visibility is eventually consistent:
each step that must see a workflow waits with a bounded ``retry: {until: ...}``."""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from playbook.commands.run import RunRequest, run_async

from .visibility_workflows import ACTIVITIES, WORKFLOWS

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
STATUSES = ("running", "completed", "failed", "canceled", "terminated", "continued_as_new")


@pytest.fixture
async def queue(client: Client, task_queue: str) -> AsyncIterator[str]:
    """A worker for the visibility test workflows on this test's own task queue."""
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=ACTIVITIES):
        yield task_queue


async def run(
    tmp_path: Path, steps: str, server: Any, inputs: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "play.yaml"
    header = "version: 1\nname: server-facts\ninputs:\n"
    declared = "".join(f"  {name}: {{type: string}}\n" for name in inputs)
    path.write_text(header + declared + textwrap.dedent(steps))
    report = tmp_path / "report.json"
    request = RunRequest(
        files=[str(path)],
        inputs=inputs,
        connection={"address": server.address},
        json_report=str(report),
    )
    code = await run_async(request)
    return code, json.loads(report.read_text())["runs"][0]


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The top-level steps' records, by id."""
    return {s["id"]: s for s in report["steps"] if s.get("id")}


def failures(report: dict[str, Any]) -> list[Any]:
    return [(s["path"], s["error"]) for s in report["steps"] if s["status"] == "failed"]


LIST_AND_ACT = """
steps:
  - foreach:
      items: [0, 1, 2]
      steps:
        - id: made
          create:
            type: Idle
            task_queue: "{{ inputs.tq }}"
            workflow_id: "{{ inputs.prefix }}{{ item }}"
            execution_timeout: 2m
            memo: {team: ops}
            search_attributes: {PlaybookKeyword: "{{ inputs.prefix }}"}
        - start: {workflow: made}
  - id: found
    list: {query: "WorkflowId STARTS_WITH '{{ inputs.prefix }}'"}
    retry: {until: "result | length == 3", timeout: 20s, interval: 200ms}
  - id: before
    count: {query: "WorkflowId STARTS_WITH '{{ inputs.prefix }}'", group_by: ExecutionStatus}
  - id: acted
    foreach:
      items: "{{ steps.found.result }}"
      steps:
        - id: target
          create: {workflow_id: "{{ item.workflow_id }}", run_id: "{{ item.run_id }}"}
        - terminate: {workflow: target, reason: found by list}
          when: "item.workflow_id.endswith('-0')"
        - signal: {workflow: target, signal: stop}
          when: "not item.workflow_id.endswith('-0')"
        - id: final
          await_result: {workflow: target, timeout: 20s}
          when: "not item.workflow_id.endswith('-0')"
  - id: after
    count: {query: "WorkflowId STARTS_WITH '{{ inputs.prefix }}'", group_by: ExecutionStatus}
    retry: {until: "result.groups.terminated == 1 and result.groups.completed == 2", timeout: 20s}
  - id: completed
    count: {query: "WorkflowId STARTS_WITH '{{ inputs.prefix }}' AND ExecutionStatus = 'Completed'"}
  - id: short
    list: {query: "WorkflowId STARTS_WITH '{{ inputs.prefix }}'", limit: 2}
  - id: exact
    list: {query: "WorkflowId STARTS_WITH '{{ inputs.prefix }}'", limit: 3}
"""


async def test_list_feeds_foreach_and_existing_creates_then_count_groups(
    tmp_path: Path, dev_server: Any, queue: str
) -> None:
    prefix = f"vis-{uuid.uuid4().hex[:8]}-"
    code, report = await run(tmp_path, LIST_AND_ACT, dev_server, {"tq": queue, "prefix": prefix})
    assert failures(report) == []
    assert code == 0
    steps = by_id(report)
    found = steps["found"]["result"]
    # the most recently started first
    assert [item["workflow_id"] for item in found] == [f"{prefix}2", f"{prefix}1", f"{prefix}0"]
    for item in found:
        assert sorted(item) == sorted(
            [
                "workflow_id",
                "run_id",
                "type",
                "status",
                "task_queue",
                "start_time",
                "close_time",
                "memo",
                "search_attributes",
            ]
        )
        assert (item["type"], item["status"], item["task_queue"]) == ("Idle", "running", queue)
        assert ISO_UTC.match(item["start_time"]), item["start_time"]
        assert item["close_time"] is None
        assert item["memo"] == {
            "team": "ops",
            "playbook": "server-facts",
            "playbook_run_id": report["run_id"],
        }
        assert item["search_attributes"]["PlaybookKeyword"] == prefix
        assert isinstance(item["run_id"], str) and len(item["run_id"]) == 36
    assert steps["before"]["result"] == {
        "count": 3,
        "groups": {**dict.fromkeys(STATUSES, 0), "running": 3, "timed_out": 0},
    }
    # each listed execution became a target: terminated, or signalled and awaited
    acted = steps["acted"]["result"]
    assert [row.get("final") for row in acted] == ["stopped", "stopped", None]
    assert [row["target"]["workflow_id"] for row in acted] == [i["workflow_id"] for i in found]
    touched = [
        (s["name"], s["status"], s["workflow_id"])
        for s in report["steps"]
        if s["path"].startswith("steps[3].foreach") and s["status"] == "passed"
    ]
    assert touched == [
        ("create target", "passed", f"{prefix}2"),
        ("signal target", "passed", f"{prefix}2"),
        ("await_result target", "passed", f"{prefix}2"),
        ("create target", "passed", f"{prefix}1"),
        ("signal target", "passed", f"{prefix}1"),
        ("await_result target", "passed", f"{prefix}1"),
        ("create target", "passed", f"{prefix}0"),
        ("terminate target", "passed", f"{prefix}0"),
    ]
    assert steps["after"]["result"] == {
        "count": 3,
        "groups": {**dict.fromkeys(STATUSES, 0), "completed": 2, "terminated": 1, "timed_out": 0},
    }
    assert steps["completed"]["result"] == {"count": 2}
    short = steps["short"]
    # closed ones in the server's order: the most recently closed first
    assert [item["workflow_id"] for item in short["result"]] == [f"{prefix}0", f"{prefix}1"]
    assert (
        short["reason"]
        == "more than 2 workflows match; the first 2 are listed (raise limit for more)"
    )
    exact = steps["exact"]
    assert [(item["workflow_id"], item["status"]) for item in exact["result"]] == [
        (f"{prefix}0", "terminated"),
        (f"{prefix}1", "completed"),
        (f"{prefix}2", "completed"),
    ]
    assert all(ISO_UTC.match(item["close_time"]) for item in exact["result"])
    assert exact["reason"] is None


DESCRIBE_AND_HISTORY = """
steps:
  - id: busy
    create: {type: Busy, task_queue: "{{ inputs.tq }}", execution_timeout: 2m}
  - start: {workflow: busy, args: [hi]}
  - id: info
    describe: {workflow: busy}
    retry:
      until: >-
        result.pending_activities | length == 1 and result.pending_activities[0].attempt >= 3
        and result.pending_children | length == 1
      timeout: 20s
      interval: 200ms
  - id: picked
    history: {workflow: busy, event_types: [ActivityTaskScheduled, ActivityTaskCompleted, ActivityTaskFailed]}
  - id: whole
    history: {workflow: busy}
finally:
  - terminate: {workflow: busy, reason: test over, if_running: true}
"""


async def test_describe_pending_and_history(tmp_path: Path, dev_server: Any, queue: str) -> None:
    code, report = await run(tmp_path, DESCRIBE_AND_HISTORY, dev_server, {"tq": queue})
    assert failures(report) == []
    assert code == 0
    steps = by_id(report)
    info = steps["info"]["result"]
    workflow_id = steps["busy"]["result"]["workflow_id"]
    # every key describe had before is still there
    assert (info["status"], info["workflow_id"], info["type"], info["task_queue"]) == (
        "running",
        workflow_id,
        "Busy",
        queue,
    )
    assert ISO_UTC.match(info["start_time"]) and info["close_time"] is None
    assert isinstance(info["history_length"], int) and info["memo"]["playbook"] == "server-facts"
    assert "search_attributes" in info
    [activity] = info["pending_activities"]
    attempt = activity["attempt"]
    assert (activity["activity_id"], activity["activity_type"], activity["maximum_attempts"]) == (
        "2",
        "stubborn",
        None,
    )
    assert activity["state"] in ("scheduled", "started")
    assert activity["last_failure"] == {
        "type": "Stubborn",
        "message": f"still failing on attempt {attempt - 1}",
        "details": None,
    }
    assert ISO_UTC.match(activity["scheduled_time"])
    [child] = info["pending_children"]
    assert (child["workflow_id"], child["type"], child["parent_close_policy"]) == (
        f"{workflow_id}-child",
        "Idle",
        "terminate",
    )
    assert isinstance(child["run_id"], str)
    versioning = info["versioning"]
    assert {k: v for k, v in versioning.items() if k != "last_worker_build_id"} == {
        "behavior": None,
        "deployment_name": None,
        "build_id": None,
        "override": None,
    }
    assert isinstance(versioning["last_worker_build_id"], str)

    picked = steps["picked"]["result"]
    assert [e["type"] for e in picked["events"]] == [
        "ActivityTaskScheduled",
        "ActivityTaskCompleted",
        "ActivityTaskScheduled",
    ]
    first = picked["events"][0]
    assert first["attributes"]["activity_type"] == {"name": "echo_text"}
    assert first["attributes"]["input"] == ["hi"]
    assert first["attributes"]["task_queue"]["name"] == queue
    assert first["attributes"]["start_to_close_timeout"] == "10s"
    assert picked["events"][1]["attributes"]["result"] == ["hi"]
    assert picked["events"][1]["attributes"]["scheduled_event_id"] == first["id"]
    assert ISO_UTC.match(first["time"])
    counts = picked["counts"]
    assert (counts["ActivityTaskFailed"], counts["ActivityTaskScheduled"]) == (0, 2)
    assert (counts["WorkflowExecutionStarted"], counts["StartChildWorkflowExecutionInitiated"]) == (
        1,
        1,
    )

    whole = steps["whole"]["result"]
    assert whole["length"] == len(whole["events"]) == sum(whole["counts"].values())
    assert [e["id"] for e in whole["events"]] == list(range(1, whole["length"] + 1))
    started = whole["events"][0]
    assert (started["type"], started["attributes"]["input"]) == ("WorkflowExecutionStarted", ["hi"])
    assert started["attributes"]["workflow_type"] == {"name": "Busy"}
    assert "ActivityTaskFailed" not in whole["counts"]
    assert picked["length"] <= whole["length"]


TASK_QUEUES = """
steps:
  - id: polled
    task_queue: {name: "{{ inputs.tq }}"}
    retry: {until: "result.pollers | length > 0", timeout: 20s}
  - id: activities
    task_queue: {name: "{{ inputs.tq }}", kind: activity}
    retry: {until: "result.pollers | length > 0", timeout: 20s}
  - id: waiting
    create: {type: Idle, task_queue: "{{ inputs.tq }}-nobody", execution_timeout: 1m}
  - start: {workflow: waiting}
  - id: backlog
    task_queue: {name: "{{ inputs.tq }}-nobody"}
    retry: {until: "result.backlog == 1", timeout: 20s}
  - id: unknown
    task_queue: {name: "{{ inputs.tq }}-never-used", kind: activity}
finally:
  - terminate: {workflow: waiting, if_running: true}
"""


async def test_task_queue_pollers_and_backlog(tmp_path: Path, dev_server: Any, queue: str) -> None:
    code, report = await run(tmp_path, TASK_QUEUES, dev_server, {"tq": queue})
    assert failures(report) == []
    assert code == 0
    steps = by_id(report)
    for step, kind in (("polled", "workflow"), ("activities", "activity")):
        result = steps[step]["result"]
        assert (result["name"], result["kind"], result["backlog"]) == (queue, kind, 0)
        assert result["pollers"] and all(
            sorted(p) == ["identity", "last_access_time"] for p in result["pollers"]
        )
        assert all(ISO_UTC.match(p["last_access_time"]) for p in result["pollers"])
        assert all(p["identity"] for p in result["pollers"])
    assert steps["backlog"]["result"] == {
        "name": f"{queue}-nobody",
        "kind": "workflow",
        "pollers": [],
        "backlog": 1,
    }
    assert steps["unknown"]["result"] == {
        "name": f"{queue}-never-used",
        "kind": "activity",
        "pollers": [],
        "backlog": 0,
    }


REFUSED = """
steps:
  - id: typo
    list: {query: "WorkflowTyp = 'Order'"}
    continue_on_error: true
  - id: grouped
    count: {query: "WorkflowType = 'Order' GROUP BY WorkflowType"}
    continue_on_error: true
  - id: w
    create: {workflow_id: "{{ inputs.missing }}"}
  - id: gone
    history: {workflow: w}
    continue_on_error: true
  - id: typed
    history: {workflow: w, event_types: [ActivityTaskFialed]}
    continue_on_error: true
  - id: bad_limit
    list: {limit: "{{ 0 }}"}
    continue_on_error: true
"""


async def test_refused_queries_and_bad_fields_fail_their_steps(
    tmp_path: Path, dev_server: Any
) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    code, report = await run(tmp_path, REFUSED, dev_server, {"missing": missing})
    assert code == 0  # each failed step has continue_on_error
    assert [s["id"] for s in report["steps"] if s["status"] == "failed"] == [
        "typo",
        "grouped",
        "gone",
        "typed",
        "bad_limit",
    ]
    steps = by_id(report)
    errors = {
        name: steps[name]["error"] for name in ("typo", "grouped", "gone", "typed", "bad_limit")
    }
    assert {name: (e["type"], e["message"]) for name, e in errors.items()} == {
        "typo": (
            "InvalidArgument",
            "list on the workflows matching \"WorkflowTyp = 'Order'\" was refused by the "
            "server: invalid query: invalid search attribute: WorkflowTyp",
        ),
        "grouped": (
            "InvalidArgument",
            "count on the workflows matching \"WorkflowType = 'Order' GROUP BY WorkflowType\" "
            "was refused by the server: invalid query: operation is not supported: 'GROUP BY' "
            "clause is not supported for search attribute WorkflowType",
        ),
        "gone": (
            "WorkflowNotFound",
            f"history failed: workflow '{missing}' was not found or has already closed; "
            "check the workflow id and the namespace",
        ),
        "typed": (
            "PlaybookError",
            f"step 'typed' (steps[4], {tmp_path / 'play.yaml'}:18), field history.event_types: "
            "'ActivityTaskFialed' is not a Temporal event type (they are spelt as Temporal "
            "spells them: ActivityTaskFailed); did you mean 'ActivityTaskFailed'?",
        ),
        "bad_limit": (
            "PlaybookError",
            f"step 'bad_limit' (steps[5], {tmp_path / 'play.yaml'}:21), field list.limit: "
            "limit must be a whole number of at least 1, not 0",
        ),
    }


CHAIN = """
steps:
  - id: loop
    create: {type: Looper, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - start: {workflow: loop, args: [3]}
  - id: first
    await_result: {workflow: loop, follow_runs: false, timeout: 20s}
    expect: {status: continued_as_new}
  - id: last
    await_result: {workflow: loop, timeout: 20s}
  - id: events
    history: {workflow: loop, event_types: [WorkflowExecutionStarted, WorkflowExecutionCompleted]}
"""


async def test_continued_as_new_is_expected_and_history_reads_the_last_run(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(tmp_path, CHAIN, dev_server, {"tq": worker})
    assert failures(report) == []
    assert code == 0
    steps = by_id(report)
    assert (steps["first"]["status"], steps["first"]["error"]["type"]) == (
        "passed",
        "ContinuedAsNew",
    )
    assert steps["last"]["result"] == 3
    events = steps["events"]["result"]["events"]
    assert [(e["type"], e["attributes"].get("input")) for e in events] == [
        ("WorkflowExecutionStarted", [3, 3]),
        ("WorkflowExecutionCompleted", None),
    ]
    assert events[1]["attributes"]["result"] == [3]
    assert events[0]["attributes"]["continued_execution_run_id"] != steps["loop"]["run_id"]
