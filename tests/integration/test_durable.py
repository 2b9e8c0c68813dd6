"""Durable runs (SPEC section 15) on the dev server: the interpreter hosted in this
process (``interpreter_worker``, what ``playbook worker`` runs), the same playbooks run
locally and durably with the same JSON reports, approvals, cancel, detach + status +
report, and no secret in the run's history."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from playbook import core, demo
from playbook.commands.run import RunRequest, run_async
from playbook.durable import commands
from playbook.durable.worker import interpreter_worker

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent / "durable_playbooks"
_GENERATED = re.compile(
    r"[a-z]+(?:-[a-z]+)*-[0-9a-f]{12}\b|\b[0-9a-f]{12}\b|\d{4}-\d\d-\d\dT[\d:.]+\+00:00"
)
_VOLATILE = {"started_at", "duration", "run_id", "workflow_id", "ui_link", "update_id", "tool"}


@pytest.fixture
async def hosted(client: Client, task_queue: str) -> AsyncIterator[str]:
    """The interpreter's queue; playbook.demo is served on ``task_queue``."""
    queue = f"{task_queue}-playbook"
    async with (
        Worker(client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities),
        interpreter_worker(client, queue),
    ):
        yield queue


def _request(dev_server: Any, name: str, task_queue: str, **more: Any) -> RunRequest:
    inputs = {"queue": task_queue} if "inputs.queue" in (HERE / name).read_text() else {}
    return RunRequest(
        files=[str(HERE / name)],
        inputs={**inputs, **more.pop("inputs", {})},
        connection={"address": dev_server.address},
        **more,
    )


def normalised(value: Any) -> Any:
    """A report without what differs from run to run: timings, ids, links."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):  # a generated workflow id quoted in a message or a result
        return _GENERATED.sub("<id>", value)
    return value


async def _durable(
    dev_server: Any, queue: str, name: str, task_queue: str, tmp_path: Path, **more: Any
) -> tuple[int, dict[str, Any], str]:
    request = _request(dev_server, name, task_queue, **more)
    out = io.StringIO()
    code = await _submitted(request, queue, out)
    run = _run_id(out.getvalue())
    report = tmp_path / f"durable-{name}.json"
    connection = {"address": dev_server.address}
    assert await commands.report(connection, run, {"json_report": str(report)}) == 0
    return code, json.loads(report.read_text()), out.getvalue()


async def _submitted(
    request: RunRequest, queue: str, out: io.StringIO, detach: bool = False
) -> int:
    import sys

    real, sys.stdout = sys.stdout, out  # (submit prints where a user would see it)
    try:
        return await commands.submit(request, queue, detach)
    finally:
        sys.stdout = real


def _run_id(output: str) -> str:
    found = re.search(r"^durable run: (playbook-[a-z0-9-]+)$", output, re.M)
    assert found is not None, output
    return found.group(1)


async def _local(
    dev_server: Any, name: str, task_queue: str, tmp_path: Path
) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"local-{name}.json"
    request = _request(dev_server, name, task_queue, json_report=str(report))
    code = await run_async(request)
    return code, json.loads(report.read_text())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize(
    "name", ["control.yaml", "order.yaml", "failing.yaml", "mixed.yaml", "retried_loop.yaml"]
)  # (long_loop.yaml: compared in test_a_long_foreach_is_sharded_into_workflows_of_its_own)
async def test_same_report_locally_and_durably(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path, name: str
) -> None:
    local_code, local = await _local(dev_server, name, task_queue, tmp_path)
    durable_code, durable, output = await _durable(dev_server, hosted, name, task_queue, tmp_path)
    failing = name in ("failing.yaml", "retried_loop.yaml")
    assert durable_code == local_code == (1 if failing else 0), durable
    assert normalised(durable) == normalised(local)
    assert "durable run: playbook-durable-" in output
    await _replayed(client, _run_id(output))


async def _replayed(client: Client, run: str, run_id: str | None = None) -> None:
    """The run's history (its latest run's, or ``run_id``'s) replays on a fresh worker as
    it ran: the interpreter is deterministic (a worker that takes a run over replays it so)."""
    from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

    from playbook.durable.interpreter import PlaybookRun

    history = await client.get_workflow_handle(run, run_id=run_id).fetch_history()
    replayer = Replayer(workflows=[PlaybookRun], workflow_runner=UnsandboxedWorkflowRunner())
    replayed = await replayer.replay_workflow(history)
    assert replayed.replay_failure is None


# -- approve, deny, cancel, detach ----------------------------------------------------------


async def _detached(dev_server: Any, queue: str, name: str, task_queue: str) -> str:
    out = io.StringIO()
    request = _request(dev_server, name, task_queue)
    assert await _submitted(request, queue, out, detach=True) == 0
    run = _run_id(out.getvalue())
    assert out.getvalue().endswith(f"detached; follow it with: playbook status {run}\n")
    return run


async def _status(dev_server: Any, run: str) -> str:
    out = io.StringIO()
    assert await commands.status({"address": dev_server.address}, run, out) == 0
    return out.getvalue()


async def _followed(client: Client, run: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await commands.follow(core.create_workflow(client, run), 0, out)
    return code, out.getvalue()


async def _report(dev_server: Any, run: str, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / f"{run}.json"
    connection = {"address": dev_server.address}
    assert await commands.report(connection, run, {"json_report": str(path)}) == 0
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def _steps(report: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(s["path"], s["status"], s["reason"]) for s in report["runs"][0]["steps"]]


async def test_approve_answers_the_waiting_confirm(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    from playbook.errors import UsageError

    run = await _detached(dev_server, hosted, "approval.yaml", task_queue)
    connection = {"address": dev_server.address}

    async def waiting() -> bool:
        return "waiting for approval: step ask: drain the queue?" in await _status(dev_server, run)

    await eventually(waiting)
    with pytest.raises(UsageError) as wrong:
        await commands.answer(connection, run, True, "other", io.StringIO())
    assert str(wrong.value) == (
        f"playbook approve {run}: step 'other' is not waiting for an answer (waiting: ask)"
    )
    said = io.StringIO()
    assert await commands.answer(connection, run, True, "ask", said) == 0
    assert said.getvalue() == "approved: step ask: drain the queue?\n"
    code, output = await _followed(client, run)
    assert code == 0
    assert "PASS  confirm ask" in output
    await _replayed(client, run)
    report = await _report(dev_server, run, tmp_path)
    assert _steps(report) == [
        ("steps[0]", "passed", None),
        ("steps[1]", "passed", None),
        ("finally[0]", "passed", None),
    ]
    with pytest.raises(UsageError) as late:
        await commands.answer(connection, run, True, None, io.StringIO())
    assert str(late.value) == (
        f"playbook approve {run}: no such run is going on in namespace 'default' (it has "
        "ended, or the id is wrong): nothing waits for an answer"
    )


async def test_deny_fails_the_confirm_and_the_run(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    run = await _detached(dev_server, hosted, "approval.yaml", task_queue)
    connection = {"address": dev_server.address}

    async def waiting() -> bool:
        return "waiting for approval" in await _status(dev_server, run)

    await eventually(waiting)
    said = io.StringIO()
    assert await commands.answer(connection, run, False, None, said) == 0
    assert said.getvalue() == "denied: step ask: drain the queue?\n"
    code, _ = await _followed(client, run)
    assert code == 1
    report = await _report(dev_server, run, tmp_path)
    first = report["runs"][0]["steps"][0]
    assert first["error"]["type"] == "NotConfirmed"
    assert first["error"]["message"] == "not confirmed: drain the queue?"
    assert _steps(report)[1:] == [
        ("steps[1]", "skipped", "an earlier step failed"),
        ("finally[0]", "passed", None),
    ]


async def test_cancel_interrupts_a_sleeping_run_and_finally_runs(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    run = await _detached(dev_server, hosted, "sleeper.yaml", task_queue)

    async def sleeping() -> bool:
        return "PASS  log" in await _status(dev_server, run)

    await eventually(sleeping)
    from playbook.errors import UsageError

    with pytest.raises(UsageError) as nothing:
        await commands.answer({"address": dev_server.address}, run, True, None, io.StringIO())
    assert str(nothing.value) == f"playbook approve {run}: no confirm step is waiting for an answer"
    said = io.StringIO()
    assert await commands.cancel({"address": dev_server.address}, run, said) == 0
    assert said.getvalue().startswith(f"cancel requested: {run}")
    code, output = await _followed(client, run)
    assert code == 130
    assert "interrupted: durable sleeper" in output
    await _replayed(client, run)
    report = await _report(dev_server, run, tmp_path)
    assert report["exit_code"] == 130
    assert report["runs"][0]["status"] == "interrupted"
    assert _steps(report) == [
        ("steps[0]", "passed", None),
        ("steps[1]", "canceled", "interrupted"),
        ("steps[2]", "skipped", "interrupted"),
        ("finally[0]", "passed", None),
    ]


async def test_detached_run_has_status_and_reports_after_it_ends(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    run = await _detached(dev_server, hosted, "order.yaml", task_queue)

    async def ended() -> bool:
        return "passed: durable order" in await _status(dev_server, run)

    await eventually(ended)
    status = await _status(dev_server, run)
    assert "  PASS  await_result order" in status
    junit = tmp_path / "junit.xml"
    paths = {"junit_xml": str(junit), "json_report": None, "html_report": None}
    assert await commands.report({"address": dev_server.address}, run, paths) == 0
    assert junit.read_text().count("<testcase ") == 9


async def test_an_unknown_run_is_a_usage_error(dev_server: Any) -> None:
    from playbook.errors import UsageError

    with pytest.raises(UsageError) as unknown:
        await commands.status({"address": dev_server.address}, "playbook-x-000", io.StringIO())
    assert str(unknown.value) == (
        "there is no durable run 'playbook-x-000' in namespace 'default'; give the id that "
        "run --durable printed (playbook-<name>-<run id>)"
    )


# -- secrets ---------------------------------------------------------------------------------

TOKEN = "s3cr3t-token-0123456789"


@pytest.fixture
async def hosted_with_key(
    client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """As ``hosted``, with PLAYBOOK_SECRET_KEY set for the submitter and the worker."""
    monkeypatch.setenv("PLAYBOOK_SECRET_KEY", "the-key-of-this-test-0123")
    queue = f"{task_queue}-playbook"
    async with (
        Worker(client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities),
        interpreter_worker(client, queue),
    ):
        yield queue


async def test_secrets_never_reach_the_history_in_the_clear(
    dev_server: Any, client: Client, hosted_with_key: str, task_queue: str, tmp_path: Path
) -> None:
    code, report, output = await _durable(
        dev_server, hosted_with_key, "secret.yaml", task_queue, tmp_path, inputs={"token": TOKEN}
    )
    assert code == 0, output
    steps = report["runs"][0]["steps"]
    assert [s["status"] for s in steps] == ["passed"] * 5
    assert steps[3]["result"] == "the token is ***"
    history = await _payloads(client, _run_id(output))
    assert TOKEN not in history
    assert '{"sealed":"' in history  # the secret inputs, and the calls that carry the token
    assert "the token is ***" in history  # the records stored with the result: masked
    # the echo workflow itself was given the token: the call really carried it, and a
    # history read this way would show it
    assert TOKEN in await _payloads(client, steps[0]["result"]["workflow_id"])


async def _payloads(client: Client, workflow_id: str, run_id: str | None = None) -> str:
    """Every payload of a workflow's history (its latest run's, or ``run_id``'s), decoded,
    one a line (the JSON history holds them base64-encoded: a secret would not show in it
    as it is)."""
    import base64

    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    history = json.loads((await handle.fetch_history()).to_json())
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "data" in value and "metadata" in value:
                found.append(base64.b64decode(value["data"]).decode("utf-8", "replace"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(history)
    return "\n".join(found)


async def test_a_secret_input_needs_the_key(
    dev_server: Any, hosted: str, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playbook.errors import UsageError

    monkeypatch.delenv("PLAYBOOK_SECRET_KEY", raising=False)
    request = _request(dev_server, "secret.yaml", task_queue, inputs={"token": TOKEN})
    with pytest.raises(UsageError) as refused:
        await _submitted(request, hosted, io.StringIO())
    assert str(refused.value) == (
        "the secret input token of a durable run must travel sealed: set "
        "PLAYBOOK_SECRET_KEY (the same key on this machine and on the workers)"
    )


# -- exactly once ----------------------------------------------------------------------------


def _call(action: str, spec: dict[str, Any], stubs: dict[str, Any], key: str) -> dict[str, Any]:
    from playbook.coverage import HandlerLedger
    from playbook.durable.state import ledger_data

    return {
        "action": action,
        "spec": spec,
        "stubs": stubs,
        "where": "step 'x' (steps[0], test.yaml:1), field \x00",
        "playbook_name": "test",
        "run_id": "run1",
        "step_id": "x",
        "key": key,
        "ledger": ledger_data(HandlerLedger()),
        "remaining": None,
        "secrets": None,
    }


async def _in_activity(client: Client, request: dict[str, Any], attempt: int = 1) -> dict[str, Any]:
    """One call activity, as a worker runs it (``attempt`` > 1: a retry after a loss)."""
    from dataclasses import replace

    from temporalio.testing import ActivityEnvironment

    from playbook.durable.calls import Calls

    environment = ActivityEnvironment()
    environment.info = replace(environment.default_info(), attempt=attempt)
    answer: dict[str, Any] = await environment.run(Calls(client, None).call, request)
    return answer


async def test_a_call_retried_after_a_worker_loss_acts_once(
    client: Client, task_queue: str
) -> None:
    workflow_id = f"order-{task_queue}"
    new = {
        "workflow_id": workflow_id,
        "workflow_type": "OrderWorkflow",
        "options": {"task_queue": task_queue, "workflow_id": workflow_id},
    }
    async with Worker(
        client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities
    ):
        start = _call(
            "start", {"workflow": "o", "args": [{"customer": "a"}]}, {"o": new}, "k/start"
        )
        first = await _in_activity(client, start)
        again = await _in_activity(client, start, attempt=2)  # the server deduplicates it
        assert "error" not in again, again
        assert again["stubs"]["o"]["run_id"] == first["stubs"]["o"]["run_id"]
        started = first["stubs"]["o"]
        signal = _call(
            "signal",
            {"workflow": "o", "signal": "add_item", "args": [{"sku": "ABC"}]},
            {"o": started},
            "k/signal/1",
        )
        await _in_activity(client, signal)
        await _in_activity(client, signal, attempt=2)
        status = await core.query(core.create_workflow(client, workflow_id), "status")
        assert status["items"] == [{"sku": "ABC", "qty": 1}]  # one signal, not two
        await _in_activity(client, {**signal, "key": "k/signal/2"})  # the step's next call
        status = await core.query(core.create_workflow(client, workflow_id), "status")
        assert status["items"] == [{"sku": "ABC", "qty": 1}] * 2
        pay = _call(
            "update",
            {"workflow": "o", "update": "pay", "args": [{"amount": 20}]},
            {"o": started},
            "k/pay",
        )
        paid = await _in_activity(client, pay)
        repeated = await _in_activity(client, pay, attempt=2)  # not "already paid"
        assert paid["value"] == repeated["value"] == {"state": "paid", "total": 20}
        end = _call("terminate", {"workflow": "o", "reason": "r"}, {"o": started}, "k/end")
        lost = await _in_activity(client, end, attempt=2)
        assert lost["error"]["record"]["type"] == "WorkerLost"
        assert lost["error"]["message"] == (
            "step 'x' (steps[0], test.yaml:1), field terminate: interrupted by worker loss: "
            "the worker running this terminate was lost, and a terminate cannot be made "
            "idempotent, so it was not sent again (it may or may not have reached the server)"
        )
        result = await core.get_result(core.create_workflow(client, workflow_id), timeout=20)
        assert result["state"] == "shipped"


async def test_a_long_foreach_is_sharded_into_workflows_of_its_own(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    code, report, output = await _durable(
        dev_server, hosted, "long_loop.yaml", task_queue, tmp_path
    )
    assert code == 0, output
    run = _run_id(output)
    local_code, local = await _local(dev_server, "long_loop.yaml", task_queue, tmp_path)
    assert local_code == 0
    assert normalised(report) == normalised(local)  # sharded, the same records
    await _replayed(client, run)
    steps = report["runs"][0]["steps"]
    assert len(steps) == 3 + 150 * 3 + 2 + 1  # (the loop's own record, 2 asserts, finally)
    assert steps[3]["path"] == "steps[2].foreach[0].steps[0]"
    assert steps[-4]["path"] == "steps[2].foreach[149].steps[2]"
    lengths = {}
    for first in (0, 100):
        shard = client.get_workflow_handle(f"{run}/steps[2]/{first}")
        lengths[first] = (await shard.describe()).history_length
    header = report["runs"][0]
    said = f"ticks, run {header['run_id']} {header['started_at']}"
    logged = [s["result"] for s in steps if s["action"] == "log" and s["status"] == "passed"]
    assert logged == [f"{i}: 0 {said}" for i in (0, 100)]  # shards see the run's run
    parent = (await client.get_workflow_handle(run).describe()).history_length
    assert parent < 100  # two shards, not 150 calls
    assert 100 < lengths[0] < 1_000 and 50 < lengths[100] < 600, lengths
