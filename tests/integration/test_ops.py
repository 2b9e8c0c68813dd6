"""batch and reset (SPEC section 12) on the dev server: the max_affected guard changes
nothing, a batch within it ends or signals every match, a reset gives a new run that later
steps target. What the server holds is checked through the SDK."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from playbook.commands.run import RunRequest, run_async

HEADER = """\
version: 1
name: ops
inputs:
  tq: {type: string}
"""


async def run(tmp_path: Path, text: str, server: Any, queue: str) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "play.yaml"
    path.write_text(HEADER + textwrap.dedent(text))
    report = tmp_path / "report.json"
    request = RunRequest(
        files=[str(path)],
        inputs={"tq": queue},
        connection={"address": server.address},
        json_report=str(report),
    )
    code = await run_async(request)
    return code, json.loads(report.read_text())["runs"][0]


async def counters(client: Client, queue: str, n: int) -> list[WorkflowHandle[Any, Any]]:
    """``n`` Counter workflows on ``queue``, once visibility lists them all (bounded wait)."""
    handles = [
        await client.start_workflow("Counter", args=[0], id=f"{queue}-{i}", task_queue=queue)
        for i in range(n)
    ]
    await until_count(client, f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'", n)
    return handles


async def until_count(client: Client, query: str, n: int, within: float = 10.0) -> None:
    end = asyncio.get_running_loop().time() + within
    while (count := (await client.count_workflows(query)).count) != n:
        assert asyncio.get_running_loop().time() < end, f"{query}: {count} after {within}s, not {n}"
        await asyncio.sleep(0.1)


async def statuses(handles: list[WorkflowHandle[Any, Any]]) -> list[WorkflowExecutionStatus]:
    return [(await h.describe()).status for h in handles]  # type: ignore[misc]


TERMINATE = """
steps:
  - id: ended
    batch:
      query: "TaskQueue = '{{{{ inputs.tq }}}}' AND ExecutionStatus = 'Running'"
      operation: terminate
      reason: cleaning up after a load test
      max_affected: {max_affected}
"""


async def test_batch_terminate_refused_by_max_affected_changes_nothing_then_ends_all(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    handles = await counters(client, worker, 3)

    code, report = await run(tmp_path, TERMINATE.format(max_affected=2), dev_server, worker)
    assert code == 1
    step = report["steps"][0]
    assert step["status"] == "failed"
    assert step["error"]["message"] == "query matches 3 workflows, more than max_affected 2"
    assert await statuses(handles) == [WorkflowExecutionStatus.RUNNING] * 3

    code, report = await run(tmp_path, TERMINATE.format(max_affected=3), dev_server, worker)
    assert code == 0, report
    result = report["steps"][0]["result"]
    assert result["job_id"].startswith("playbook-terminate-")
    assert {k: result[k] for k in ("matched", "succeeded", "failed", "state")} == {
        "matched": 3,
        "succeeded": 3,
        "failed": 0,
        "state": "completed",
    }
    assert await statuses(handles) == [WorkflowExecutionStatus.TERMINATED] * 3


async def test_batch_signal_reaches_every_match(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    handles = await counters(client, worker, 4)
    code, report = await run(
        tmp_path,
        """
        steps:
          - id: signalled
            batch:
              query: "TaskQueue = '{{ inputs.tq }}'"
              operation: signal
              signal: add
              args: [5]
              reason: top up every counter
              rps: 50
        """,
        dev_server,
        worker,
    )
    assert code == 0, report
    assert report["steps"][0]["result"]["succeeded"] == 4
    assert [await h.query("current") for h in handles] == [5, 5, 5, 5]


async def test_batch_on_no_match_is_a_quiet_success(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        """
        steps:
          - batch:
              query: "TaskQueue = '{{ inputs.tq }}-nothing'"
              operation: cancel
              reason: nothing to do
        """,
        dev_server,
        worker,
    )
    assert code == 0, report
    assert report["steps"][0]["result"] == {
        "job_id": None,
        "matched": 0,
        "succeeded": 0,
        "failed": 0,
        "state": "completed",
    }


async def test_reset_gives_a_new_run_that_later_steps_target(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        """
        steps:
          - id: counter
            create: {type: Counter, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
          - id: started
            start: {workflow: counter, args: [0]}
          - signal: {workflow: counter, signal: add, args: [5]}
          - signal: {workflow: counter, signal: add, args: [7]}
          - query: {workflow: counter, query: current}
            retry: {until: "result == 12", timeout: 10s, interval: 100ms}
          - id: again
            reset: {workflow: counter, to: first_workflow_task, reason: bug fixed}
          - id: value
            query: {workflow: counter, query: current}
            retry: {until: "result == 12", timeout: 10s, interval: 100ms}
          - signal: {workflow: counter, signal: finish}
          - id: final
            await_result: {workflow: counter, timeout: 10s}
          - assert:
              - steps.again.result.run_id != steps.started.result.run_id
              - steps.final.run_id == steps.again.result.run_id
              - steps.final.result.value == 12
        """,
        dev_server,
        worker,
    )
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    by_id = {s["id"]: s for s in report["steps"] if s["id"]}
    new_run = by_id["again"]["result"]["run_id"]
    assert by_id["again"]["run_id"] == new_run
    assert by_id["value"]["run_id"] == new_run
    old = client.get_workflow_handle(
        by_id["counter"]["result"]["workflow_id"], run_id=by_id["started"]["result"]["run_id"]
    )
    assert (await old.describe()).status == WorkflowExecutionStatus.TERMINATED


async def test_reset_without_reapplied_signals_drops_them(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        """
        steps:
          - id: counter
            create: {type: Counter, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
          - start: {workflow: counter, args: [1]}
          - signal: {workflow: counter, signal: add, args: [5]}
          - query: {workflow: counter, query: current}
            retry: {until: "result == 6", timeout: 10s, interval: 100ms}
          - reset: {workflow: counter, to: first_workflow_task, reason: drop the signals,
                    reapply_signals: false}
          - id: value
            query: {workflow: counter, query: current}
          - terminate: {workflow: counter, reason: done}
        """,
        dev_server,
        worker,
    )
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    # the signal came after the first workflow task: the new run never saw it
    value = next(s for s in report["steps"] if s["id"] == "value")
    assert value["result"] == 1


async def test_batch_reset_gives_each_match_a_new_run_with_its_signals(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    handles = await counters(client, worker, 2)
    for handle in handles:
        await handle.signal("add", 4)
    for handle in handles:  # each has taken its signal in a workflow task
        end = asyncio.get_running_loop().time() + 10
        while await handle.query("current") != 4:
            assert asyncio.get_running_loop().time() < end
            await asyncio.sleep(0.1)
    code, report = await run(
        tmp_path,
        """
        steps:
          - batch:
              query: "TaskQueue = '{{ inputs.tq }}' AND ExecutionStatus = 'Running'"
              operation: reset
              reset: {to: first_workflow_task}
              reason: replay on the fixed worker
        """,
        dev_server,
        worker,
    )
    assert code == 0, report
    assert report["steps"][0]["result"]["succeeded"] == 2
    for handle in handles:
        latest = client.get_workflow_handle(handle.id)
        described = await latest.describe()
        assert described.run_id != handle.result_run_id  # a new run
        assert await latest.query("current") == 4  # its signal reapplied


async def test_batch_without_wait_returns_once_the_job_started(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    handles = await counters(client, worker, 2)
    code, report = await run(
        tmp_path,
        """
        steps:
          - id: started
            batch:
              query: "TaskQueue = '{{ inputs.tq }}'"
              operation: cancel
              reason: drain
              wait: false
        """,
        dev_server,
        worker,
    )
    assert code == 0, report
    result = report["steps"][0]["result"]
    assert (result["matched"], result["state"] in ("running", "completed")) == (2, True)
    for handle in handles:  # the job goes on without us: wait (bounded) for it
        end = asyncio.get_running_loop().time() + 15
        while (await handle.describe()).status != WorkflowExecutionStatus.CANCELED:
            assert asyncio.get_running_loop().time() < end
            await asyncio.sleep(0.1)


async def test_reset_to_an_event_id(
    tmp_path: Path, dev_server: Any, client: Client, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        """
        steps:
          - id: counter
            create: {type: Counter, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
          - start: {workflow: counter, args: [3]}
          - query: {workflow: counter, query: current}
            retry: {until: "result == 3", timeout: 10s, interval: 100ms}
          # 1 started, 2 task scheduled, 3 task started, 4 task completed
          - id: again
            reset: {workflow: counter, to: {event_id: 4}, reason: from the top}
          - id: wrong
            reset: {workflow: counter, to: {event_id: 2}, reason: not a task's end}
            expect:
              error: {type: InvalidArgument, message: "^reset on workflow '.*' was refused by the server: "}
          - terminate: {workflow: counter, reason: done}
        """,
        dev_server,
        worker,
    )
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    by_id = {s["id"]: s for s in report["steps"] if s["id"]}
    new_run = by_id["again"]["result"]["run_id"]
    latest = await client.get_workflow_handle(by_id["counter"]["result"]["workflow_id"]).describe()
    assert (latest.run_id, latest.status) == (new_run, WorkflowExecutionStatus.TERMINATED)
    assert by_id["wrong"]["status"] == "passed"


async def test_workflows_a_batch_terminated_on_purpose_pass_verify(
    tmp_path: Path, dev_server: Any, worker: str
) -> None:
    code, report = await run(
        tmp_path,
        """
        verify: {no_failed_workflows: true}
        steps:
          - foreach:
              items: [1, 2]
              steps:
                - id: counter
                  create: {type: Counter, task_queue: "{{ inputs.tq }}", execution_timeout: 1m}
                - start: {workflow: counter, args: ["{{ item }}"]}
          - count: {query: "TaskQueue = '{{ inputs.tq }}' AND ExecutionStatus = 'Running'"}
            retry: {until: "result.count == 2", timeout: 10s, interval: 100ms}
          - batch:
              query: "TaskQueue = '{{ inputs.tq }}' AND ExecutionStatus = 'Running'"
              operation: terminate
              reason: the run's own load, ended on purpose
        """,
        dev_server,
        worker,
    )
    assert code == 0, [(s["name"], s["status"], s["error"]) for s in report["steps"]]
    assert report["status"] == "passed"
