"""The runner against a real dev server: every action, control step, expect form, retry,
finally, include, confirm, loops and reports."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from playbook.commands.run import RunRequest, run_async


async def run(
    tmp_path: Path, text: str, server: Any, queue: str, **options: Any
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / options.pop("filename", "play.yaml")
    path.write_text(textwrap.dedent(text))
    report = tmp_path / "report.json"
    request = RunRequest(
        files=[str(path)],
        inputs={"tq": queue, **options.pop("inputs", {})},
        connection={"address": server.address},
        json_report=str(report),
        **options,
    )
    code = await run_async(request)
    return code, json.loads(report.read_text())["runs"][0]


def steps(run_report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["name"], s["status"]) for s in run_report["steps"]]


HEADER = """\
version: 1
name: test
inputs:
  tq: {type: string}
"""


async def test_workflow_actions_end_to_end(tmp_path: Path, dev_server: Any, worker: str) -> None:
    code, report = await run(
        tmp_path,
        HEADER
        + """
steps:
  - id: counter
    create: {type: Counter, task_queue: "{{ inputs.tq }}", execution_timeout: 1m,
             memo: {team: payments}}
  - start: {workflow: counter, args: [10]}
  - signal: {workflow: counter, signal: add, args: [5]}
  - id: value
    query: {workflow: counter, query: current}
    retry: {until: "result == 15", timeout: 10s, interval: 100ms}
  - assert: steps.value.result == 15
  - id: inc
    update: {workflow: counter, update: increment, args: [1], update_id: inc-1}
  - id: started
    start_update: {workflow: counter, update: slow_increment, args: [2], update_id: slow-1}
  - id: awaited
    await_update: {workflow: counter, update_id: slow-1, timeout: 10s}
  - id: completed_update
    start_update: {workflow: counter, update: increment, args: [3], wait_for_stage: completed}
  - id: info
    describe: {workflow: counter}
  - assert:
      - steps.info.result.status == 'running'
      - steps.info.result.memo.team == 'payments'
      - steps.info.result.memo.playbook == 'test'
      - steps.info.result.memo.playbook_run_id == run.id
      - steps.inc.result == 16
      - steps.awaited.result == 18
      - steps.started.result.update_id == 'slow-1'
      - steps.completed_update.result.result == 21
  - signal: {workflow: counter, signal: finish}
  - id: final
    await_result: {workflow: counter, timeout: 30s}
    expect: {result: {value: 21}}
  - id: sws
    create: {type: Counter, task_queue: "{{ inputs.tq }}", workflow_id: "sws-{{ run.id }}"}
  - signal_with_start: {workflow: sws, signal: add, signal_args: [1], start_args: [1]}
  - id: uws
    create: {type: Counter, task_queue: "{{ inputs.tq }}", id_conflict_policy: use_existing}
  - id: uws_result
    update_with_start: {workflow: uws, update: increment, update_args: [2], start_args: [40],
                        wait_for_stage: completed}
  - assert: steps.uws_result.result.result == 42
  - cancel: {workflow: uws, reason: done}
  - id: canceled
    await_result: {workflow: uws, timeout: 30s}
    expect: {status: canceled}
finally:
  - terminate: {workflow: sws, reason: cleanup, if_running: true}
  - terminate: {workflow: counter, reason: cleanup, if_running: true}
""",
        dev_server,
        worker,
    )
    assert code == 0, report
    assert report["status"] == "passed"
    assert all(status == "passed" for _, status in steps(report)), steps(report)
    final = next(s for s in report["steps"] if s["id"] == "final")
    assert final["result"] == {"value": 21, "log": ["add 5", "increment 1", "increment 3"]}
    assert final["workflow_id"].startswith("counter-")


async def test_failures_expectations_and_finally(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        HEADER
        + """
steps:
  - id: broke
    create: {type: Failing, task_queue: "{{ inputs.tq }}"}
  - start: {workflow: broke, args: [5]}
  - await_result: {workflow: broke, timeout: 30s}
    expect: {error: {type: InsufficientFunds, message: "balance .* too low"}}
  - id: counter
    create: {type: Counter, task_queue: "{{ inputs.tq }}"}
  - start: {workflow: counter}
  - update: {workflow: counter, update: increment, args: [-1]}
    expect: {error: {type: ValueError, message: "must be positive"}}
  - id: conflict
    create: {type: Counter, task_queue: "{{ inputs.tq }}", workflow_id: "{{ steps.counter.workflow_id }}"}
  - start: {workflow: conflict}
    expect: {error: {type: WorkflowAlreadyStarted}}
  - assert: 1 + 1 == 3
    continue_on_error: true
  - id: total
    query: {workflow: counter, query: current}
  - assert:
      that: [steps.total.result == 20]
      message: "the total was {{ steps.total.result }}"
  - log: never reached
finally:
  - terminate: {workflow: counter, reason: cleanup}
  - id: after
    describe: {workflow: counter}
""",
        dev_server,
        worker,
    )
    assert code == 1
    names = steps(report)
    assert names[-4:] == [
        ("assert", "failed"),
        ("log", "skipped"),
        ("terminate counter", "passed"),
        ("describe counter", "passed"),
    ]
    failed = [s for s in report["steps"] if s["status"] == "failed"]
    assert [s["error"]["message"] for s in failed] == [
        "assertion failed: 1 + 1 == 3  (2 == 3)",
        "the total was 0\n  assertion failed: steps.total.result == 20  (0 == 20)",
    ]
    assert report["steps"][-1]["result"]["status"] == "terminated"


async def test_retry_gives_up_with_last_result(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        HEADER
        + """
steps:
  - id: counter
    create: {type: Counter, task_queue: "{{ inputs.tq }}"}
  - start: {workflow: counter, args: [1]}
  - id: wait
    query: {workflow: counter, query: current}
    retry: {until: "result > 5", timeout: 1s, interval: 200ms}
finally:
  - terminate: {workflow: counter, if_running: true}
""",
        dev_server,
        worker,
    )
    assert code == 1
    wait = next(s for s in report["steps"] if s["id"] == "wait")
    assert wait["attempts"] >= 3
    assert wait["error"]["message"] == (
        f"retry gave up after {wait['attempts']} attempts: until 'result > 5' never held  "
        "(1 > 5); last result: 1"
    )


async def test_foreach_parallel_include_when_set(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    (tmp_path / "child.yaml").write_text(
        textwrap.dedent("""\
        version: 1
        name: child
        inputs:
          tq: {type: string}
          who: {type: string}
        steps:
          - id: greet
            create: {type: Greeter, task_queue: "{{ inputs.tq }}"}
          - start: {workflow: greet, args: ["{{ inputs.who }}"]}
          - id: said
            await_result: {workflow: greet, timeout: 30s}
        finally:
          - log: "child finally ran"
        """)
    )
    code, report = await run(
        tmp_path,
        HEADER
        + """
vars:
  names: [ann, bob, cy]
steps:
  - id: loop
    foreach:
      items: "{{ vars.names }}"
      as: person
      concurrency: 3
      steps:
        - id: greeter
          create: {type: Greeter, task_queue: "{{ inputs.tq }}"}
        - start: {workflow: greeter, args: ["{{ person }}-{{ index }}"]}
        - id: greeting
          await_result: {workflow: greeter, timeout: 30s}
  - assert: steps.loop.result | map(attribute='greeting') | list == ['Hello, ANN-0!', 'Hello, BOB-1!', 'Hello, CY-2!']
  - id: both
    parallel:
      max_concurrency: 2
      steps:
        - id: left
          sleep: 100ms
        - id: right
          set: {side: right}
  - assert: vars.side == 'right'
  - id: inc
    include: {playbook: child.yaml, inputs: {tq: "{{ inputs.tq }}", who: dee}}
  - assert: steps.inc.result.said.result == 'Hello, DEE!'
  - log: skipped
    when: vars.side == 'left'
""",
        dev_server,
        worker,
    )
    assert code == 0, steps(report)
    assert steps(report)[-1] == ("log", "skipped")
    assert ("log", "passed") in steps(report)  # the included playbook's finally


async def test_confirm_without_terminal(tmp_path: Path, dev_server: Any, worker: str) -> None:
    text = (
        HEADER
        + """
steps:
  - confirm: "Terminate everything?"
  - log: went ahead
"""
    )
    code, report = await run(tmp_path, text, dev_server, worker)
    assert code == 2
    assert steps(report) == [("confirm", "failed"), ("log", "skipped")]
    code, report = await run(tmp_path, text, dev_server, worker, yes=True)
    assert code == 0
    assert steps(report) == [("confirm", "passed"), ("log", "passed")]


async def test_big_foreach_bounded(tmp_path: Path, dev_server: Any, worker: str) -> None:
    code, report = await run(
        tmp_path,
        HEADER
        + """
steps:
  - id: many
    foreach:
      items: "{{ range(400) | list }}"
      concurrency: 50
      steps:
        - id: echo
          create: {type: Echo, task_queue: "{{ inputs.tq }}"}
        - start: {workflow: echo, args: ["{{ item }}"]}
        - id: out
          await_result: {workflow: echo, timeout: 60s}
  - assert: steps.many.result | map(attribute='out') | map('first') | list == range(400) | list
""",
        dev_server,
        worker,
    )
    assert code == 0, [s for s in report["steps"] if s["status"] != "passed"][:3]
    assert len(report["steps"]) == 1202


async def test_unknown_workflow_and_closed_workflow(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        HEADER
        + """
steps:
  - id: ghost
    create: {workflow_id: no-such-workflow}
  - signal: {workflow: ghost, signal: add, args: [1]}
""",
        dev_server,
        worker,
    )
    assert code == 1
    assert report["steps"][1]["error"]["message"] == (
        "signal 'add' failed: workflow 'no-such-workflow' was not found or has already closed; "
        "check the workflow id and the namespace"
    )


async def test_connection_refused_exit_3(tmp_path: Path) -> None:
    from playbook.devserver import free_port

    path = tmp_path / "p.yaml"
    path.write_text(
        HEADER.replace("inputs:\n  tq: {type: string}\n", "")
        + """
connection: {connect_timeout: 1s}
steps:
  - id: w
    create: {workflow_id: x}
  - describe: {workflow: w}
"""
    )
    report = tmp_path / "r.json"
    port = free_port()
    code = await run_async(
        RunRequest(
            files=[str(path)], connection={"address": f"127.0.0.1:{port}"}, json_report=str(report)
        )
    )
    assert code == 3
    run_report = json.loads(report.read_text())["runs"][0]
    assert run_report["error"].startswith(
        f"could not connect to Temporal at 127.0.0.1:{port} (namespace 'default')"
    )


async def test_cancel_of_a_closed_workflow(tmp_path: Path, dev_server: Any, worker: str) -> None:
    code, report = await run(
        tmp_path,
        HEADER
        + """
steps:
  - id: greet
    create: {type: Greeter, task_queue: "{{ inputs.tq }}"}
  - start: {workflow: greet, args: [x]}
  - await_result: {workflow: greet, timeout: 30s}
  - cancel: {workflow: greet, if_running: true}
  - cancel: {workflow: greet}
""",
        dev_server,
        worker,
    )
    assert code == 1
    quiet, failed = report["steps"][3], report["steps"][4]
    assert (quiet["status"], quiet["reason"]) == (
        "passed",
        "the workflow had already closed (completed)",
    )
    assert failed["error"]["message"] == (
        f"cancel failed: workflow '{failed['workflow_id']}' has already closed (completed); "
        "use if_running: true to accept that"
    )


async def test_inputs_of_several_files(tmp_path: Path, dev_server: Any) -> None:
    from playbook.errors import InvalidInputs

    for name, inputs in (
        ("a.yaml", "  who: {type: string}\n"),
        ("b.yaml", "  n: {type: integer}\n"),
    ):
        (tmp_path / name).write_text(
            f"version: 1\nname: {name}\ninputs:\n{inputs}steps:\n  - log: hi\n"
        )
    request = RunRequest(
        files=[str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")],
        inputs={"who": "ann", "n": "x", "zzz": "1"},
        connection={"address": dev_server.address},
    )
    with pytest.raises(InvalidInputs) as e:
        await run_async(request)
    assert e.value.problems == [
        "unknown input 'zzz'; declared inputs: n, who",
        f"{tmp_path / 'b.yaml'}: input 'n': 'x' is not an integer; give a whole number such as 5",
    ]
