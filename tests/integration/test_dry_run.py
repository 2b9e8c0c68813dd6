"""``playbook run --dry-run`` (SPEC section 12) on the dev server: the read-only steps run,
every mutating step is reported ``would_run`` with its rendered request, and the server is
left as it was (checked through the SDK)."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from playbook.commands.run import RunRequest, run_async

from .test_ops import until_count

PLAYBOOK = """\
version: 1
name: dry
inputs:
  tq: {type: string}
  target: {type: string}
  schedule: {type: string}
steps:
  - id: existing
    create: {workflow_id: "{{ inputs.target }}"}
  - id: before
    describe: {workflow: existing}
  - id: value
    query: {workflow: existing, query: current}
  - signal: {workflow: existing, signal: add, args: ["{{ steps.value.result + 5 }}"]}
  - id: fresh
    create: {type: Counter, task_queue: "{{ inputs.tq }}"}
  - start: {workflow: fresh, args: [1]}
  - id: unstarted
    query: {workflow: fresh, query: current}
  - id: ended
    batch:
      query: "TaskQueue = '{{ inputs.tq }}'"
      operation: terminate
      reason: dry run
  - reset: {workflow: existing, to: first_workflow_task, reason: dry run}
  - create_schedule:
      schedule_id: "{{ inputs.schedule }}"
      spec: {intervals: [{every: 1m}]}
      action: {start_workflow: {type: Counter, task_queue: "{{ inputs.tq }}"}}
  - id: schedules
    list_schedules: {limit: 5}
  - assert: steps.before.result.status == 'running' and steps.ended.result is none
finally:
  - terminate: {workflow: existing, reason: dry run cleanup}
"""


async def test_a_dry_run_changes_nothing_while_its_read_only_steps_run(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    target = await client.start_workflow("Counter", args=[2], id=f"{worker}-t", task_queue=worker)
    await until_count(client, f"TaskQueue = '{worker}'", 1)
    schedule = f"dry-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "dry.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK))
    report_path = tmp_path / "report.json"
    code = await run_async(
        RunRequest(
            files=[str(path)],
            inputs={"tq": worker, "target": target.id, "schedule": schedule},
            connection={"address": dev_server.address},
            json_report=str(report_path),
            dry_run=True,
        )
    )
    report = json.loads(report_path.read_text())["runs"][0]
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    assert [(s["action"], s["status"]) for s in report["steps"]] == [
        ("create", "passed"),
        ("describe", "passed"),
        ("query", "passed"),
        ("signal", "would_run"),
        ("create", "passed"),
        ("start", "would_run"),
        ("query", "would_run"),
        ("batch", "would_run"),
        ("reset", "would_run"),
        ("create_schedule", "would_run"),
        ("list_schedules", "passed"),
        ("assert", "passed"),
        ("terminate", "would_run"),
    ]
    by_action = {s["action"]: s for s in report["steps"]}
    assert by_action["signal"]["request"] == {
        "signal": {"workflow": "existing", "signal": "add", "args": [7]}
    }
    assert by_action["batch"]["request"]["batch"]["query"] == f"TaskQueue = '{worker}'"
    assert by_action["signal"]["reason"] == "would run"
    unstarted = next(s for s in report["steps"] if s["id"] == "unstarted")
    assert unstarted["reason"] == "would run: its workflow is not started in a dry run"
    assert report["counts"]["would_run"] == 7
    assert report["status"] == "passed"

    described = await target.describe()
    assert described.status == WorkflowExecutionStatus.RUNNING
    assert described.run_id == target.result_run_id  # not reset
    assert await target.query("current") == 2  # not signalled
    await until_count(client, f"TaskQueue = '{worker}'", 1)  # nothing started
    with pytest.raises(RPCError):
        await client.get_schedule_handle(schedule).describe()
    await target.terminate(reason="test over")


def test_plan_marks_the_destructive_steps(tmp_path: Path) -> None:
    from playbook.commands.plan import plan_text
    from playbook.loader import load

    path = tmp_path / "dry.yaml"
    path.write_text(PLAYBOOK)
    text = plan_text(load(str(path)), {"tq": "q", "target": "t", "schedule": "s"})
    marked = [line.strip() for line in text.splitlines() if "[destructive]" in line]
    assert marked == [
        "8. batch (id: ended)  [destructive]",
        "9. reset existing  [destructive]",
        "1. terminate existing  [destructive]",
    ]
