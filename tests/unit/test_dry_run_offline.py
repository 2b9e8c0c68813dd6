"""``run --dry-run`` offline (SPEC section 12), against fake actions: read-only actions and
control steps run, every other step is held as ``would_run`` with its rendered request and
its action never called; the console says ``DRY``; a batch job's progress reaches the live
line on a terminal only."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from playbook.actions import DESTRUCTIVE, READ_ONLY, REGISTRY, TEMPORAL_ACTIONS
from playbook.core import batch
from playbook.records import StepRecord
from playbook.report.console import ConsoleReporter
from tests.unit.test_interpreter import FakeServer, playbook_file, run, statuses
from tests.unit.test_ops_offline import FakeClient, _client, _request

PLAYBOOK = """\
version: 1
name: dry
vars: {amount: 5}
steps:
  - id: order
    create: {type: Order, task_queue: q}
  - start: {workflow: order, args: [1]}
  - id: sent
    signal: {workflow: order, signal: add, args: ["{{ vars.amount * 2 }}"]}
    retry: {until: "result == 'never'", timeout: 1h}
    expect: {result: {no: such}}
  - id: seen
    query: {workflow: order, query: current}
  - set: {after: "{{ steps.sent.status }}"}
  - log: "sent: {{ vars.after }}, result {{ steps.sent.result }}"
  - terminate: {workflow: order, reason: cleanup}
"""


def test_a_dry_run_holds_every_step_that_is_not_read_only(tmp_path: Path) -> None:
    server = FakeServer(answers={"query": [3]})
    out = io.StringIO()
    result = run(
        playbook_file(tmp_path, PLAYBOOK),
        server=server,
        dry_run=True,
        reporter=ConsoleReporter(out),
    )
    assert [name for name, _ in server.calls] == ["create", "query"]
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "would_run"),
        ("steps[2]", "would_run"),
        ("steps[3]", "passed"),
        ("steps[4]", "passed"),
        ("steps[5]", "passed"),
        ("steps[6]", "would_run"),
    ]
    sent = result.records[2]
    assert sent.request == {"signal": {"workflow": "order", "signal": "add", "args": [10]}}
    assert (sent.reason, sent.result, sent.error, sent.workflow_id) == (
        "would run",
        None,
        None,
        "Order-1",
    )
    assert result.exit_code == 0 and result.status == "passed"
    assert result.counts()["would_run"] == 3
    lines = out.getvalue().splitlines()
    assert "  DRY   signal order  (workflow Order-1, would run)" in lines
    assert "    | sent: would_run, result None" in lines
    assert lines[-1].startswith("passed: dry: 4 passed, 3 would_run in ")


def test_without_dry_run_the_same_steps_run(tmp_path: Path) -> None:
    server = FakeServer(answers={"query": [3], "signal": ["never"]})
    text = PLAYBOOK.replace("    expect: {result: {no: such}}\n", "")
    result = run(playbook_file(tmp_path, text), server=server)
    assert [name for name, _ in server.calls] == [
        "create",
        "start",
        "signal",
        "query",
        "terminate",
    ]
    assert {status for _, status in statuses(result)} == {"passed"}


def test_a_held_step_whose_fields_do_not_render_fails_as_it_would_have(tmp_path: Path) -> None:
    text = """\
    version: 1
    name: dry
    steps:
      - id: order
        create: {workflow_id: w}
      - signal: {workflow: order, signal: add, args: ["{{ 1 // 0 }}"]}
    """
    result = run(playbook_file(tmp_path, text), dry_run=True)
    assert statuses(result) == [("steps[0]", "passed"), ("steps[1]", "failed")]
    assert result.exit_code == 1


def test_read_only_and_destructive_name_registered_actions() -> None:
    control = {"assert", "sleep", "log", "set", "confirm", "parallel", "foreach", "include"}
    assert READ_ONLY - control <= TEMPORAL_ACTIONS
    assert DESTRUCTIVE <= TEMPORAL_ACTIONS and not DESTRUCTIVE & READ_ONLY
    assert {"reset", "batch", "terminate", "delete_schedule"} <= DESTRUCTIVE
    assert READ_ONLY - {"parallel", "foreach", "include"} <= set(REGISTRY)


def test_a_batch_jobs_progress_reaches_the_live_line_only() -> None:
    record = StepRecord(path="steps[0]", action="batch", name="batch", depth=0)
    live, plain = io.StringIO(), io.StringIO()
    ConsoleReporter(live, live=True).progress(record, "batch terminate: 3/10")
    ConsoleReporter(plain, live=False).progress(record, "batch terminate: 3/10")
    assert live.getvalue().endswith("....  batch: batch terminate: 3/10")
    assert plain.getvalue() == ""


async def test_a_job_slot_taken_for_too_long_fails_saying_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "BUSY_LIMIT", 0.2)
    monkeypatch.setattr(batch, "_POLL", 0.05)
    fake = FakeClient(n=1, busy=1000)
    with pytest.raises(batch.BatchFailed) as caught:
        await asyncio.wait_for(batch.run(_client(fake), _request(operation="delete")), 5)
    assert str(caught.value).startswith(
        "batch: the server kept refusing to start the job for 0.2s: batch on batch job "
    )
    assert str(caught.value).endswith(
        "another batch job holds the namespace's slot (see Batch Operations in the Temporal "
        "UI): give the step a timeout to wait longer"
    )


def test_a_held_step_is_a_skipped_junit_case(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from playbook.report.files import write_junit_xml

    result = run(playbook_file(tmp_path, PLAYBOOK), server=FakeServer(), dry_run=True)
    junit = tmp_path / "junit.xml"
    write_junit_xml(str(junit), [result])
    skipped = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        mark = case.find("skipped")
        if mark is not None:
            skipped.append((case.get("name"), mark.get("message")))
    assert skipped == [
        ("steps[1]: start order", "would run"),
        ("steps[2]: signal order", "would run"),
        ("steps[6]: terminate order", "would run"),
    ]
