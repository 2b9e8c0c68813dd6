"""The client core against a real dev server: every seed function and Temporal's semantics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from temporalio.client import Client

from playbook import core
from playbook.errors import (
    InvalidOptions,
    OperationTimeout,
    QueryFailed,
    TemporalError,
    UpdateFailed,
    UpdateRejected,
    WorkflowAlreadyStarted,
    WorkflowFailed,
    WorkflowNotFound,
)


def new(client: Client, queue: str, kind: str = "Counter", **options: Any) -> core.WorkflowStub:
    return core.create_workflow(client, kind, {"task_queue": queue, **options})


async def test_start_and_result(client: Client, worker: str) -> None:
    stub = new(client, worker, "Greeter", execution_timeout="1m")
    assert stub.workflow_id.startswith("greeter-")
    await core.start(stub, ["ada"])
    assert stub.run_id
    assert await core.get_result(stub, timeout=30) == "Hello, ADA!"


async def test_args_are_one_per_argument(client: Client, worker: str) -> None:
    stub = new(client, worker, "Echo")
    await core.start(stub, [1, "two", {"three": [3]}, None])
    assert await core.get_result(stub, timeout=30) == [1, "two", {"three": [3]}, None]


async def test_signals_queries_and_result(client: Client, worker: str) -> None:
    stub = new(client, worker)
    await core.start(stub, [5])
    for amount in (1, 2, 3):
        await core.signal(stub, "add", [amount])
    assert await core.query(stub, "current") == 11
    await core.signal(stub, "finish")
    assert await core.get_result(stub, timeout=30) == {
        "value": 11,
        "log": ["add 1", "add 2", "add 3"],
    }
    # a query after completion still answers from the final state
    assert await core.query(stub, "current") == 11


async def test_signal_with_start_new_then_running(client: Client, worker: str) -> None:
    stub = new(client, worker, workflow_id=f"sws-{worker}")
    await core.signal_with_start(stub, "add", [4], [10])
    first_run = stub.run_id
    again = new(client, worker, workflow_id=f"sws-{worker}")
    await core.signal_with_start(again, "add", [6], [1000])
    assert again.run_id == first_run  # the running workflow was signalled, not restarted
    await core.signal(stub, "finish")
    assert await core.get_result(stub, timeout=30) == {"value": 20, "log": ["add 4", "add 6"]}


async def test_update_and_validator_rejection(client: Client, worker: str) -> None:
    stub = new(client, worker)
    await core.start(stub, [1])
    assert await core.update(stub, "increment", [2]) == 3
    with pytest.raises(UpdateRejected) as rejected:
        await core.update(stub, "increment", [-5])
    assert str(rejected.value) == (
        f"update 'increment' on workflow '{stub.workflow_id}' was rejected: "
        "ValueError: amount must be positive, not -5"
    )
    assert await core.query(stub, "current") == 3  # state unchanged
    with pytest.raises(UpdateFailed) as failed:
        await core.update(stub, "increment", [13])
    assert not isinstance(failed.value, UpdateRejected)
    assert failed.value.error_type == "Unlucky"
    assert failed.value.details == {"amount": 13}
    assert str(failed.value) == (
        f"update 'increment' on workflow '{stub.workflow_id}' failed: Unlucky: 13 is unlucky"
    )


async def test_update_without_handler_is_rejected(client: Client, worker: str) -> None:
    stub = new(client, worker)
    await core.start(stub)
    with pytest.raises(UpdateRejected) as rejected:
        await core.update(stub, "no_such_update", [])
    assert "no_such_update" in str(rejected.value)


async def test_start_update_stages_and_handles(client: Client, worker: str) -> None:
    stub = new(client, worker)
    await core.start(stub)
    accepted = await core.start_update(stub, "slow_increment", [5], update_id="my-update-1")
    assert (accepted.id, accepted.workflow_id) == ("my-update-1", stub.workflow_id)
    assert await accepted.result(timeout=30) == 5
    completed = await core.start_update(stub, "increment", [1], wait_for_stage="completed")
    assert await completed.result() == 6
    by_id = core.get_update_handle(stub, "my-update-1")
    assert await by_id.result(timeout=10) == 5


async def test_update_id_is_an_idempotency_key(client: Client, worker: str) -> None:
    stub = new(client, worker)
    await core.start(stub)
    assert await core.update(stub, "increment", [7], update_id="once") == 7
    assert await core.update(stub, "increment", [7], update_id="once") == 7
    assert await core.query(stub, "current") == 7


async def test_admitted_is_refused(client: Client, worker: str) -> None:
    stub = new(client, worker)
    with pytest.raises(InvalidOptions) as e:
        await core.start_update(stub, "increment", [1], wait_for_stage="admitted")
    assert str(e.value) == (
        "invalid wait_for_stage: wait_for_stage 'admitted' is not supported by Temporal "
        "(the client cannot wait for it); use 'accepted' or 'completed'"
    )


async def test_update_with_start_new_and_joining(client: Client, worker: str) -> None:
    workflow_id = f"uws-{worker}"
    stub = new(client, worker, workflow_id=workflow_id, id_conflict_policy="use_existing")
    handle = await core.update_with_start(
        stub, "increment", [3], [100], wait_for_stage="completed", update_id="u1"
    )
    assert await handle.result() == 103
    first_run = stub.run_id
    joining = new(client, worker, workflow_id=workflow_id, id_conflict_policy="use_existing")
    handle = await core.update_with_start(joining, "increment", [4], [0])
    assert await handle.result(timeout=10) == 107
    assert joining.run_id == first_run


async def test_update_with_start_needs_conflict_policy(client: Client, worker: str) -> None:
    with pytest.raises(InvalidOptions) as e:
        await core.update_with_start(new(client, worker), "increment", [1])
    assert "needs an id_conflict_policy" in str(e.value)


async def test_conflict_policies(client: Client, worker: str) -> None:
    workflow_id = f"conflict-{worker}"
    first = new(client, worker, workflow_id=workflow_id)
    await core.start(first)
    with pytest.raises(WorkflowAlreadyStarted) as e:
        await core.start(new(client, worker, workflow_id=workflow_id, id_conflict_policy="fail"))
    assert str(e.value) == (
        f"start 'Counter' failed: workflow '{workflow_id}' is already running; give the create "
        "step an id_conflict_policy (use_existing or terminate_existing) or another workflow_id"
    )
    same = new(client, worker, workflow_id=workflow_id, id_conflict_policy="use_existing")
    await core.start(same)
    assert same.run_id == first.run_id
    replacing = new(
        client, worker, workflow_id=workflow_id, id_conflict_policy="terminate_existing"
    )
    await core.start(replacing)
    assert replacing.run_id != first.run_id
    with pytest.raises(WorkflowFailed) as ended:
        await core.get_result(core.create_workflow(client, workflow_id, first.run_id), timeout=10)
    assert ended.value.status == "terminated"


async def test_reuse_policies(client: Client, worker: str) -> None:
    base = f"reuse-{worker}"

    async def completed_once(suffix: str) -> str:
        stub = new(client, worker, "Greeter", workflow_id=f"{base}-{suffix}")
        await core.start(stub, ["x"])
        await core.get_result(stub, timeout=30)
        return stub.workflow_id

    async def failed_once(suffix: str) -> str:
        stub = new(client, worker, "Failing", workflow_id=f"{base}-{suffix}")
        await core.start(stub, [1])
        with pytest.raises(WorkflowFailed):
            await core.get_result(stub, timeout=30)
        return stub.workflow_id

    wid = await completed_once("a")
    await core.start(
        new(client, worker, "Greeter", workflow_id=wid, id_reuse_policy="allow_duplicate"), ["y"]
    )

    wid = await completed_once("b")
    with pytest.raises(WorkflowAlreadyStarted):
        await core.start(
            new(
                client,
                worker,
                "Greeter",
                workflow_id=wid,
                id_reuse_policy="allow_duplicate_failed_only",
            ),
            ["y"],
        )
    wid = await failed_once("c")
    await core.start(
        new(
            client,
            worker,
            "Greeter",
            workflow_id=wid,
            id_reuse_policy="allow_duplicate_failed_only",
        ),
        ["y"],
    )

    wid = await failed_once("d")
    with pytest.raises(WorkflowAlreadyStarted):
        await core.start(
            new(client, worker, "Greeter", workflow_id=wid, id_reuse_policy="reject_duplicate"),
            ["y"],
        )

    running = new(client, worker, workflow_id=f"{base}-e")
    await core.start(running)
    replacing = new(
        client, worker, workflow_id=running.workflow_id, id_reuse_policy="terminate_if_running"
    )
    await core.start(replacing)
    assert replacing.run_id != running.run_id
    assert (await core.describe(core.create_workflow(client, running.workflow_id, running.run_id)))[
        "status"
    ] == "terminated"


async def test_terminate_cancel_fail_timeout(client: Client, worker: str) -> None:
    terminated = new(client, worker, "Sleeper")
    await core.start(terminated, [600])
    await core.terminate(terminated, reason="smoke test cleanup", details=["bye"])
    with pytest.raises(WorkflowFailed) as e:
        await core.get_result(terminated)
    assert (e.value.status, e.value.error_type) == ("terminated", "Terminated")
    assert str(e.value) == f"workflow '{terminated.workflow_id}' was terminated: smoke test cleanup"

    canceled = new(client, worker, "Sleeper")
    await core.start(canceled, [600])
    await core.cancel(canceled, reason="not needed")
    with pytest.raises(WorkflowFailed) as e:
        await core.get_result(canceled, timeout=30)
    assert (e.value.status, str(e.value)) == (
        "canceled",
        f"workflow '{canceled.workflow_id}' was canceled",
    )

    failing = new(client, worker, "Failing")
    await core.start(failing, [5])
    with pytest.raises(WorkflowFailed) as e:
        await core.get_result(failing, timeout=30)
    assert (e.value.status, e.value.error_type, e.value.details) == (
        "failed",
        "InsufficientFunds",
        {"balance": 5},
    )
    assert str(e.value) == (
        f"workflow '{failing.workflow_id}' failed: InsufficientFunds: balance 5 too low"
    )

    timing_out = new(client, worker, "Sleeper", execution_timeout="1s")
    await core.start(timing_out, [600])
    with pytest.raises(WorkflowFailed) as e:
        await core.get_result(timing_out, timeout=30)
    assert e.value.status == "timed_out"
    assert (await core.describe(timing_out))["status"] == "timed_out"


async def test_closed_workflow_semantics(client: Client, worker: str) -> None:
    stub = new(client, worker, "Greeter")
    await core.start(stub, ["x"])
    await core.get_result(stub, timeout=30)
    await core.cancel(stub)  # Temporal accepts a cancel of a closed workflow quietly
    for operation in (core.terminate(stub), core.signal(stub, "add", [1])):
        with pytest.raises(WorkflowNotFound) as e:
            await operation
        assert f"workflow '{stub.workflow_id}' was not found or has already closed" in str(e.value)


async def test_unknown_workflow_and_failed_query(client: Client, worker: str) -> None:
    ghost = core.create_workflow(client, "no-such-workflow-id")
    with pytest.raises(WorkflowNotFound) as e:
        await core.describe(ghost)
    assert str(e.value).startswith(
        "describe failed: workflow 'no-such-workflow-id' was not found or has already closed"
    )
    stub = new(client, worker)
    await core.start(stub)
    with pytest.raises(QueryFailed) as q:
        await core.query(stub, "broken")
    assert str(q.value) == (
        f"query 'broken' on workflow '{stub.workflow_id}' failed: this query always fails"
    )


async def test_existing_stub_cannot_start(client: Client) -> None:
    stub = core.create_workflow(client, "some-id")
    with pytest.raises(TemporalError) as e:
        await core.start(stub)
    assert str(e.value) == (
        "start needs a new workflow stub, but workflow 'some-id' was made from an id alone "
        "(an existing execution); create it with a workflow type and a task_queue to start it"
    )


async def test_continue_as_new(client: Client, worker: str) -> None:
    stub = new(client, worker, "Looper")
    await core.start(stub, [3])
    assert await core.get_result(stub, timeout=30) == 3
    with pytest.raises(WorkflowFailed) as e:
        await core.get_result(stub, timeout=30, follow_runs=False)
    assert e.value.status == "continued_as_new"


async def test_result_timeout(client: Client, worker: str) -> None:
    stub = new(client, worker, "Sleeper")
    await core.start(stub, [600])
    with pytest.raises(OperationTimeout) as e:
        await core.get_result(stub, timeout=0.5)
    assert str(e.value) == (
        f"await_result on workflow '{stub.workflow_id}' did not finish within 0.5s "
        f"(task queue '{worker}')"
    )


async def test_start_delay(client: Client, worker: str) -> None:
    stub = new(client, worker, "Greeter", start_delay="3s")
    await core.start(stub, ["later"])
    description = await stub.handle().describe()
    assert description.execution_time is not None
    delay = (description.execution_time - description.start_time).total_seconds()
    assert 2.5 <= delay <= 3.5
    assert await core.get_result(stub, timeout=30) == "Hello, LATER!"


async def test_memo_and_search_attributes_through_describe(client: Client, worker: str) -> None:
    stub = new(
        client,
        worker,
        memo={"team": "payments", "ticket": 42},
        search_attributes={
            "PlaybookKeyword": "gold",
            "PlaybookInt": 7,
            "PlaybookDouble": 2.5,
            "PlaybookBool": True,
            "PlaybookKeywordList": ["a", "b"],
            "PlaybookText": {"type": "text", "value": "free text"},
            "PlaybookDatetime": {"type": "datetime", "value": "2024-01-02T03:04:05Z"},
        },
    )
    await core.start(stub)
    info = await core.describe(stub)
    assert info["memo"] == {"team": "payments", "ticket": 42}
    assert info["search_attributes"] == {
        "PlaybookKeyword": "gold",
        "PlaybookInt": 7,
        "PlaybookDouble": 2.5,
        "PlaybookBool": True,
        "PlaybookKeywordList": ["a", "b"],
        "PlaybookText": "free text",
        "PlaybookDatetime": "2024-01-02T03:04:05+00:00",
    }
    assert (info["status"], info["type"], info["task_queue"], info["workflow_id"]) == (
        "running",
        "Counter",
        worker,
        stub.workflow_id,
    )
    assert info["run_id"] == stub.run_id and info["close_time"] is None
    await core.terminate(stub)


async def test_priority_is_accepted(client: Client, worker: str) -> None:
    stub = new(
        client,
        worker,
        "Greeter",
        priority={"priority_key": 1, "fairness_key": "tenant-a", "fairness_weight": 2.0},
    )
    await core.start(stub, ["p"])
    assert await core.get_result(stub, timeout=30) == "Hello, P!"
    description = await stub.handle().describe()
    assert description.raw_description.workflow_execution_info.priority.priority_key == 1


async def test_connection_refused_within_timeout() -> None:
    from playbook.devserver import free_port
    from playbook.errors import ConnectionFailed

    address = f"127.0.0.1:{free_port()}"
    began = time.monotonic()
    with pytest.raises(ConnectionFailed) as e:
        await core.create_client({"address": address}, timeout=2.0)
    assert time.monotonic() - began < 3.0
    assert str(e.value).startswith(
        f"could not connect to Temporal at {address} (namespace 'default')"
    )


async def test_server_that_never_answers() -> None:
    from playbook.errors import ConnectionFailed

    release = asyncio.Event()

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # accept the connection, never answer
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    began = time.monotonic()
    try:
        with pytest.raises(ConnectionFailed) as e:
            await core.create_client({"address": f"127.0.0.1:{port}"}, timeout=1.5)
    finally:
        release.set()
        await asyncio.sleep(0.05)
        server.close()
        await server.wait_closed()
    assert time.monotonic() - began < 2.5
    assert str(e.value) == (
        f"could not connect to Temporal at 127.0.0.1:{port} (namespace 'default'): no answer "
        "within 1.5s; check the address and that the server is up (or use --dev-server)"
    )


async def test_unknown_namespace(dev_server: Any) -> None:
    from playbook.errors import ConnectionFailed

    with pytest.raises(ConnectionFailed) as e:
        await core.create_client({"address": dev_server.address, "namespace": "nope"}, timeout=5)
    assert str(e.value) == (
        f"namespace 'nope' does not exist on Temporal at {dev_server.address}; create it "
        "(temporal operator namespace create --namespace nope) or choose another with --namespace"
    )


async def test_lazy_client_does_not_connect() -> None:
    from playbook.devserver import free_port

    client = await core.create_client_async({"address": f"127.0.0.1:{free_port()}"})
    assert client.namespace == "default"
