"""The ops runbooks of docs/runbooks.md as their users run them (``python -m playbook run``
with the demo worker): the batch-terminate runbook refused by max_affected changes nothing
and its dry run only counts; the schedule-pause runbook pauses, then resumes and awaits the
run it triggers. What the server holds is checked through the SDK."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from .ops_examples import long_runners, schedule
from .test_examples import ROOT, Case, run_example

BATCH = ROOT / "playbooks" / "runbook-batch-terminate.yaml"
PAUSE = ROOT / "playbooks" / "runbook-schedule-pause.yaml"


async def _statuses(address: str, prefix: str, n: int) -> list[WorkflowExecutionStatus | None]:
    client = await Client.connect(address)
    return [(await client.get_workflow_handle(f"{prefix}{i}").describe()).status for i in range(n)]


def test_batch_runbook_over_max_affected_changes_nothing(dev_server: Any, tmp_path: Path) -> None:
    prefix = long_runners(dev_server.address, 3)
    args = ["-i", f"query=WorkflowId STARTS_WITH '{prefix}'", "-i", "max_affected=2", "--yes"]
    process, report = run_example(
        BATCH, dev_server.address, tmp_path, case=Case(args=lambda _: args)
    )
    assert process.returncode == 1, process.stdout
    failed = [s for s in report["runs"][0]["steps"] if s["status"] == "failed"]
    assert [(s["id"], s["error"]["message"]) for s in failed] == [
        ("terminated", "query matches 3 workflows, more than max_affected 2")
    ]
    running = WorkflowExecutionStatus.RUNNING
    assert asyncio.run(_statuses(dev_server.address, prefix, 3)) == [running] * 3


def test_batch_runbook_dry_run_counts_and_holds_the_batch(dev_server: Any, tmp_path: Path) -> None:
    prefix = long_runners(dev_server.address, 2)
    args = ["-i", f"query=WorkflowId STARTS_WITH '{prefix}'", "--dry-run", "--yes"]
    process, report = run_example(
        BATCH, dev_server.address, tmp_path, case=Case(args=lambda _: args)
    )
    assert process.returncode == 0, process.stdout
    steps = {s["id"]: s for s in report["runs"][0]["steps"] if s["id"]}
    assert steps["matching"]["result"] == {"count": 2}
    assert steps["terminated"]["status"] == "would_run"
    assert steps["terminated"]["request"]["batch"]["query"] == (
        f"(WorkflowId STARTS_WITH '{prefix}') AND ExecutionStatus = 'Running'"
    )
    assert "  DRY   Terminate them in one batch job  (would run)" in process.stdout.splitlines()
    running = WorkflowExecutionStatus.RUNNING
    assert asyncio.run(_statuses(dev_server.address, prefix, 2)) == [running] * 2


def test_schedule_runbook_pauses_then_resumes_and_awaits_the_run(
    dev_server: Any, tmp_path: Path
) -> None:
    schedule_id = schedule(dev_server.address)
    base = ["-i", f"schedule_id={schedule_id}", "-i", "incident=INC-42", "--yes"]
    process, report = run_example(
        PAUSE, dev_server.address, tmp_path, case=Case(args=lambda _: base)
    )
    assert process.returncode == 0, process.stdout
    after = next(s for s in report["runs"][0]["steps"] if s["id"] == "after")["result"]
    run_id = report["runs"][0]["run_id"]
    assert (after["paused"], after["note"]) == (True, f"paused for incident INC-42 by run {run_id}")

    resume = [*base, "-i", "resume=true"]
    process, report = run_example(
        PAUSE, dev_server.address, tmp_path, case=Case(args=lambda _: resume)
    )
    assert process.returncode == 0, process.stdout
    steps = {s["id"]: s for s in report["runs"][0]["steps"] if s["id"]}
    assert steps["after"]["result"]["paused"] is False
    assert steps["outcome"]["result"] == ["nightly"]
    assert steps["outcome"]["workflow_id"] == steps["fired"]["result"]["workflow_id"]
    assert steps["fired"]["result"]["workflow_id"].startswith(f"{schedule_id}-run-")
