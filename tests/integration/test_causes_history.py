"""Cause chains and evidence (SPEC section 11) against the real dev server: an activity's
RuntimeError under the workflow's ActivityError is matched by ``expect.error`` by type and
message, recorded as the chain outermost first, shown a line per cause; ``--history-dir``
writes the failed workflow's history, which Temporal's Replayer replays, and both reports
name the file."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from playbook.commands.run import RunRequest, run_async

from .greeting import FailingGreeting, compose_greeting

GREETING = "Greeting exception: could not greet Temporal"
CHAIN = [
    {"type": "ActivityError", "message": "Activity task failed", "details": None},
    {"type": "RuntimeError", "message": GREETING, "details": None},
]
PLAYBOOK = """\
    version: 1
    name: greeting
    inputs:
      tq: {type: string}
    steps:
      - id: greet
        create: {type: FailingGreeting, task_queue: "{{ inputs.tq }}"}
      - start: {workflow: greet, args: [Temporal]}
      - id: matched
        await_result: {workflow: greet}
        expect: {error: {type: RuntimeError, message: "^Greeting exception: could not greet"}}
      - id: failed
        await_result: {workflow: greet}
    """


@pytest.fixture
async def greeting(client: Client, task_queue: str) -> AsyncIterator[str]:
    async with Worker(
        client, task_queue=task_queue, workflows=[FailingGreeting], activities=[compose_greeting]
    ):
        yield task_queue


@pytest.mark.timeout(90)
async def test_an_activity_error_is_matched_chained_and_kept_as_evidence(
    tmp_path: Path, dev_server: Any, greeting: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "greeting.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK))
    report, junit, histories = tmp_path / "report.json", tmp_path / "junit.xml", tmp_path / "h"
    request = RunRequest(
        files=[str(path)],
        inputs={"tq": greeting},
        connection={"address": dev_server.address},
        json_report=str(report),
        junit_xml=str(junit),
        history_dir=str(histories),
    )
    assert await run_async(request) == 1

    steps = json.loads(report.read_text())["runs"][0]["steps"]
    assert [(s["id"], s["status"]) for s in steps] == [
        ("greet", "passed"),
        (None, "passed"),
        ("matched", "passed"),
        ("failed", "failed"),
    ]
    workflow_id, run_id = steps[3]["workflow_id"], steps[3]["run_id"]
    message = (
        f"workflow '{workflow_id}' failed: ActivityError: Activity task failed "
        f"(caused by RuntimeError: {GREETING})"
    )
    assert steps[2]["error"]["causes"] == CHAIN
    assert steps[3]["error"] == {
        "type": "ActivityError",
        "message": message,
        "details": None,
        "non_retryable": False,
        "causes": CHAIN,
    }

    # the evidence: only the failed step's workflow, named in both reports, replayable
    saved = histories / f"{quote(workflow_id, safe='')}.{run_id}.json"
    assert [p.name for p in histories.iterdir()] == [saved.name]
    assert [s["history"] for s in steps] == [None, None, None, str(saved)]
    history = WorkflowHistory.from_json(workflow_id, saved.read_text())
    assert history.run_id == run_id
    replayed = await Replayer(workflows=[FailingGreeting]).replay_workflow(history)
    assert replayed.replay_failure is None

    cases = ET.parse(junit).getroot().findall("testsuite/testcase")
    failed = cases[3]
    holder = failed.find("properties")
    assert holder is not None
    assert {p.get("name"): p.get("value") for p in holder}["history"] == str(saved)
    failure = failed.find("failure")
    assert failure is not None and failure.text is not None
    assert failure.text.startswith(
        f"{message}\ncaused by ActivityError: Activity task failed\n"
        f"caused by RuntimeError: {GREETING}\n"
    )

    out = capsys.readouterr().out
    assert (
        f"        {path}:12: step 'failed': {message}\n"  # a failure line starts with file:line
        "        caused by ActivityError: Activity task failed\n"
        f"        caused by RuntimeError: {GREETING}\n"
    ) in out, out
