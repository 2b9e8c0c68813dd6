"""Run-level hygiene on the dev server (SPEC section 10): ``preflight`` against a queue
nobody polls (exit 3 in seconds, naming it) and with the run's own ``--worker``;
``cleanup: terminate`` ending the workflows a failed loop (or a SIGTERM mid-loop) left
running, checked through the SDK; ``verify`` catching an unexpected failure while
accepting an expected one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from playbook.commands.run import RunRequest, run_async
from playbook.devserver import env_without_temporal

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
WORKER = "tests.integration.workflows"  # hosts the test workflows on `playbook-tests`

OWN_WORKER = """\
from tests.integration.workflows import ACTIVITIES, Greeter

task_queue = "own-{suffix}"
workflows = [Greeter]
activities = ACTIVITIES
"""


def cli(*args: str, cwd: Path = ROOT, extra_path: Path | None = None) -> subprocess.Popen[str]:
    env = env_without_temporal()
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), str(ROOT)])
    return subprocess.Popen(
        [sys.executable, "-m", "playbook", *args],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


async def status(client: Client, workflow_id: str) -> WorkflowExecutionStatus | None:
    try:
        return (await client.get_workflow_handle(workflow_id).describe()).status
    except RPCError:
        return None


async def terminated_reason(client: Client, workflow_id: str) -> str | None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    last = history.events[-1]
    if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        return None
    return last.workflow_execution_terminated_event_attributes.reason


@pytest.mark.timeout(60)
def test_preflight_names_an_unpolled_queue_in_seconds(tmp_path: Path, dev_server: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    path = write(
        tmp_path / "p.yaml",
        f"""\
        version: 1
        name: nobody polls
        steps:
          - id: order
            create:
              type: Greeter
              task_queue: nobody-{suffix}
              workflow_id: never-{suffix}
              search_attributes: {{NotRegistered{suffix}: x}}
          - start: {{workflow: order, args: [x]}}
          - await_result: {{workflow: order, timeout: 30s}}
        finally:
          - log: finally ran
        """,
    )
    began = time.monotonic()
    process = cli("run", str(path), "--address", dev_server.address)
    out, _ = process.communicate(timeout=60)
    elapsed = time.monotonic() - began
    assert process.returncode == 3, out
    assert elapsed < 10, out  # the command's start included: not a 30 s timeout
    assert out.splitlines() == [
        f"error: no worker is polling task queue 'nobody-{suffix}' in namespace 'default'",
        f"search attribute 'NotRegistered{suffix}' is not registered in namespace 'default' "
        f"(register it with: temporal operator search-attribute create --name "
        f"NotRegistered{suffix} --type TYPE)",
    ]

    async def started() -> WorkflowExecutionStatus | None:
        client = await Client.connect(dev_server.address)
        return await status(client, f"never-{suffix}")

    assert asyncio.run(started()) is None  # nothing ran
    # --no-preflight: the run goes on to meet the problem where it is
    quick = path.read_text().replace("timeout: 30s", "timeout: 1s")
    quick = quick.replace(f"search_attributes: {{NotRegistered{suffix}: x}}", "")
    path.write_text(quick)
    process = cli("run", str(path), "--address", dev_server.address, "--no-preflight")
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 1, out
    assert f"no worker is polling task queue 'nobody-{suffix}': start a worker" in out


@pytest.mark.timeout(90)
def test_preflight_counts_the_runs_own_worker_as_polling(tmp_path: Path, dev_server: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / f"own_{suffix}.py").write_text(OWN_WORKER.format(suffix=suffix))
    path = write(
        tmp_path / "p.yaml",
        f"""\
        version: 1
        name: own worker
        steps:
          - id: hello
            create: {{type: Greeter, task_queue: own-{suffix}, execution_timeout: 1m}}
          - start: {{workflow: hello, args: [own]}}
          - await_result: {{workflow: hello, timeout: 30s}}
            expect: {{result: "Hello, OWN!"}}
        """,
    )
    args = ("run", str(path), "--address", dev_server.address, "--worker", f"own_{suffix}")
    process = cli(*args, extra_path=tmp_path)
    out, _ = process.communicate(timeout=90)
    assert process.returncode == 0, out
    assert "| preflight:" not in out and "error:" not in out  # no note, no problem


CLEANUP = """\
version: 1
name: leaky loop
inputs:
  tq: {type: string}
cleanup: terminate
steps:
  - foreach:
      items: [0, 1, 2]
      steps:
        - id: sleeper
          create:
            type: Sleeper
            task_queue: "{{ inputs.tq }}"
            workflow_id: "leak-{{ run.id }}-{{ index }}"
            execution_timeout: 5m
        - start: {workflow: sleeper, args: [600]}
        - assert: index < 1
"""


async def test_cleanup_terminates_what_a_failed_loop_left_running(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(CLEANUP)
    report = tmp_path / "r.json"
    request = RunRequest(
        files=[str(path)],
        inputs={"tq": worker},
        connection={"address": dev_server.address},
        json_report=str(report),
    )
    assert await run_async(request) == 1  # the loop failed; cleanup itself passed
    run = json.loads(report.read_text())["runs"][0]
    ids = [f"leak-{run['run_id']}-{i}" for i in range(3)]
    assert [await status(client, i) for i in ids] == [
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TERMINATED,
        None,  # the loop stopped before it
    ]
    reason = f"cleanup of playbook run {run['run_id']} (leaky loop)"
    assert [await terminated_reason(client, i) for i in ids[:2]] == [reason, reason]
    summary = run["steps"][-1]
    assert (summary["path"], summary["name"], summary["status"]) == (
        "cleanup",
        "cleanup: terminate",
        "passed",
    )
    assert [e["workflow_id"] for e in summary["result"]["ended"]] == ids[:2]
    assert summary["reason"] == "terminated 2 of the 2 workflows this run started; 0 had closed"


@pytest.mark.timeout(120)
def test_cleanup_runs_after_sigterm_mid_loop(tmp_path: Path, dev_server: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    path = write(
        tmp_path / "p.yaml",
        f"""\
        version: 1
        name: interrupted loop
        cleanup: terminate
        steps:
          - foreach:
              items: "{{{{ range(30) | list }}}}"
              steps:
                - id: sleeper
                  create:
                    type: Sleeper
                    task_queue: playbook-tests
                    workflow_id: "sig-{suffix}-{{{{ index }}}}"
                    execution_timeout: 5m
                - start: {{workflow: sleeper, args: [600]}}
                - sleep: 300ms
        """,
    )
    process = cli("run", str(path), "--address", dev_server.address, "--worker", WORKER, "-v")
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if sum("PASS  start sleeper" in s for s in seen) == 4:
            break
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    out = "".join(seen) + rest
    assert process.returncode == 130, out
    assert "PASS  cleanup: terminate" in out, out

    async def statuses() -> list[WorkflowExecutionStatus | None]:
        client = await Client.connect(dev_server.address)
        return [await status(client, f"sig-{suffix}-{i}") for i in range(30)]

    found = [s for s in asyncio.run(statuses()) if s is not None]
    assert len(found) >= 4, out
    assert set(found) == {WorkflowExecutionStatus.TERMINATED}, out


VERIFY = """\
version: 1
name: verified
inputs:
  tq: {type: string}
  surprise: {type: boolean}
verify: {no_failed_workflows: true}
steps:
  - id: expected
    create: {type: Failing, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - start: {workflow: expected, args: [3]}
  - await_result: {workflow: expected, timeout: 30s}
    expect: {status: failed, error: {type: InsufficientFunds}}
  - id: stopped
    create: {type: Sleeper, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - start: {workflow: stopped, args: [600]}
  - terminate: {workflow: stopped, reason: the test is done with it}
  - id: fine
    create: {type: Looper, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - start: {workflow: fine, args: [3]}
  - await_result: {workflow: fine, timeout: 30s}
    expect: {result: 3}
  - id: surprise
    when: inputs.surprise
    create: {type: Failing, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
  - id: started
    when: inputs.surprise
    start: {workflow: surprise, args: [5]}
  - describe: {workflow: surprise}
    when: inputs.surprise
    retry: {until: "result.status == 'failed'", timeout: 30s, interval: 200ms}
"""


async def test_verify_catches_an_unexpected_failure_and_accepts_expected_ones(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(VERIFY)

    async def run(surprise: bool) -> tuple[int, dict[str, Any]]:
        report = tmp_path / f"r-{surprise}.json"
        request = RunRequest(
            files=[str(path)],
            inputs={"tq": worker, "surprise": str(surprise).lower()},
            connection={"address": dev_server.address},
            json_report=str(report),
            ui_url="http://ui",
        )
        code = await run_async(request)
        return code, json.loads(report.read_text())["runs"][0]

    code, clean = await run(surprise=False)
    assert code == 0, clean["steps"]
    assert clean["steps"][-1]["path"] == "verify"
    assert clean["steps"][-1]["status"] == "passed"
    assert clean["steps"][-1]["result"] == {"checked": 3, "problems": []}

    code, caught = await run(surprise=True)
    assert code == 1
    assert [s["status"] for s in caught["steps"] if s["path"] != "verify"] == ["passed"] * 12
    started = next(s for s in caught["steps"] if s["id"] == "started")
    verify = caught["steps"][-1]
    workflow_id, run_id, link = started["workflow_id"], started["run_id"], started["ui_link"]
    assert verify["status"] == "failed"
    assert verify["result"] == {
        "checked": 4,
        "problems": [
            {
                "workflow_id": workflow_id,
                "run_id": run_id,
                "type": "Failing",
                "status": "failed",
                "ui_link": link,
            }
        ],
    }
    assert link == f"http://ui/namespaces/default/workflows/{workflow_id}/{run_id}/history"
    assert verify["error"]["type"] == "VerifyFailed"
    assert verify["error"]["message"] == (
        "1 workflow this run started ended badly and no step expected it:\n"
        f"  workflow '{workflow_id}' (Failing) failed: {link}"
    )


PLUGIN_TEST = """\
from playbook.pytest_plugin import RunPlaybook


def test_hygiene_options(run_playbook: RunPlaybook) -> None:
    blocked = run_playbook("nobody.yaml")
    assert (blocked.exit_code, blocked.error) == (
        3, "no worker is polling task queue 'nobody-{suffix}' in namespace 'default'"
    )
    result = run_playbook("nobody.yaml", preflight=False, cleanup="terminate", verify=True)
    assert result.exit_code == 0, [r.error for r in result.records]
    assert [(r.path, r.status) for r in result.records] == [
        ("steps[0]", "passed"), ("steps[1]", "passed"), ("cleanup", "passed"), ("verify", "passed")
    ]
    assert result.records[2].reason == (
        "terminated 1 of the 1 workflow this run started; 0 had closed"
    )
"""


def test_the_pytest_plugins_run_playbook_takes_the_hygiene_options(
    pytester: pytest.Pytester, dev_server: Any
) -> None:
    suffix = uuid.uuid4().hex[:8]
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(
        ".yaml",
        nobody=textwrap.dedent(
            f"""\
            version: 1
            name: nobody
            steps:
              - id: idle
                create: {{type: NobodyRunsThis, task_queue: nobody-{suffix}, execution_timeout: 1m}}
              - start: {{workflow: idle}}
            """
        ),
    )
    pytester.makepyfile(test_hygiene_options=PLUGIN_TEST.replace("{suffix}", suffix))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--playbook-address", dev_server.address, timeout=120
    )
    result.assert_outcomes(passed=1)
