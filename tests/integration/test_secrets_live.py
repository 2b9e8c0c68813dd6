"""The secrets suite's leak attempts that need a server: a workflow's result, its memo, a
query's answer, a validator's message, an activity's return value, and the in-process
worker's own log lines (a failed workflow task's traceback), through
``playbook run --dev-server --worker playbook.demo`` as a subprocess.

The secret, raw and escaped, must be in none of the console, the JSON report and the JUnit
XML; and each place where it would have been shows the mask instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.unit.test_secrets_suite import LONG_ESCAPED, assert_hidden

PLAYBOOK = """\
version: 1
name: live secrets
inputs:
  tok: {type: string, secret: true}
steps:
  - id: echo
    create:
      type: EchoWorkflow
      task_queue: playbook-demo
      workflow_id: "echo-{{ inputs.tok }}-{{ run.id }}"
      memo: {token: "{{ inputs.tok }}"}
  - start: {workflow: echo, args: ["{{ inputs.tok }}", {token: "{{ inputs.tok }}"}]}
  - id: echoed
    await_result: {workflow: echo, timeout: 30s}
    expect: {result: [not the token]}
    continue_on_error: true
  - id: described
    describe: {workflow: echo}
  - log: "memo token {{ steps.described.result.memo.token | pprint }}"
  - id: hello
    create: {type: HelloWorkflow, task_queue: playbook-demo}
  - start: {workflow: hello, args: ["{{ inputs.tok }}"]}
  - id: greeting
    await_result: {workflow: hello, timeout: 30s}
  - log: "{{ steps.greeting.result | tojson }}"
  - id: order
    create: {type: OrderWorkflow, task_queue: playbook-demo}
  - start: {workflow: order, args: [{customer: "{{ inputs.tok }}", items: [{sku: ABC}]}]}
  - id: status
    query: {workflow: order, query: status}
  - assert: "steps.status.result.customer == 'x'"
    continue_on_error: true
  - update: {workflow: order, update: pay, args: [{amount: "{{ inputs.tok }}"}]}
    continue_on_error: true
  - id: broken
    create:
      type: OrderWorkflow
      task_queue: playbook-demo
      workflow_id: "broken-{{ inputs.tok }}-{{ run.id }}"
  - start: {workflow: broken, args: [{customer: alice, items: [{sku: ABC, qty: "{{ inputs.tok }}"}]}]}
  - await_result: {workflow: broken, timeout: 3s}
    continue_on_error: true
finally:
  - terminate: {workflow: order, reason: "cleanup {{ inputs.tok }}", if_running: true}
  - terminate: {workflow: broken, reason: cleanup, if_running: true}
"""

SHOWN = [
    "expectation not met: result",  # (how a mismatch reads is expect's; the result: below)
    "    | memo token '***'\n",
    '    | "Hello, ***!"\n',
    "assertion failed: steps.status.result.customer == 'x'  ('***' == 'x')",
    "InvalidAmount: amount *** does not match total 10",
    # the worker's own lines: a failed workflow task, logged with its traceback
    "Failed activation on workflow OrderWorkflow with ID broken-***-",
    "ValueError: invalid literal for int() with base 10: '***",  # (CPython cuts it at 200)
    "await_result on workflow 'broken-***-",
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "secret", ["ab\\c\"d'e\tf-é-ü-秘密", LONG_ESCAPED], ids=["escapes", "long"]
)
def test_what_a_workflow_and_its_worker_print_is_masked(tmp_path: Path, secret: str) -> None:
    path = tmp_path / "live.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "playbook",
            "run",
            str(path),
            "--dev-server",
            "--worker",
            "playbook.demo",
            "-v",
            "-i",
            f"tok={secret}",
            "--json-report",
            str(report),
            "--junit-xml",
            str(junit),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    console = done.stdout + done.stderr
    assert done.returncode == 0, console  # the failing steps all continue_on_error
    for shown in SHOWN:
        assert shown in console, console
    assert "passed: live secrets: 15 passed, 4 failed in " in console
    outputs = {
        "the console": console,
        "the JSON report": report.read_text(encoding="utf-8"),
        "the JUnit XML": junit.read_text(encoding="utf-8"),
    }
    assert_hidden(secret, outputs)
    steps = json.loads(outputs["the JSON report"])["runs"][0]["steps"]
    assert steps[2]["result"] == ["***", {"token": "***"}]
    assert steps[3]["result"]["memo"]["token"] == "***"
    assert steps[7]["result"] == "Hello, ***!"
    assert steps[11]["result"]["customer"] == "***"
    ET.fromstring(outputs["the JUnit XML"])
