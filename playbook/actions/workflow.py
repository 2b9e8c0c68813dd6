"""The workflow actions: one small function each, over the client core."""

from __future__ import annotations

from typing import Any

from playbook import core
from playbook.durations import parse_duration
from playbook.errors import WorkflowNotFound
from playbook.steps.base import Call

STATUS_OK = "completed"


def _seconds(value: Any) -> float | None:
    return None if value is None else parse_duration(value).total_seconds()


def _note(call: Call, stub: core.WorkflowStub, run_id: str | None = None) -> None:
    """Record the execution a step acted on; the UI link needs a run (a stub that was not
    started yet has none)."""
    record = call.record
    record.workflow_id = stub.workflow_id
    record.run_id = run_id or stub.run_id
    record.ui_link = call.env.ui_link(stub.workflow_id, record.run_id) if record.run_id else None


def _target(call: Call) -> core.WorkflowStub:
    stub = call.env.stub(call.spec["workflow"])
    _note(call, stub)
    return stub


def _ids(stub: core.WorkflowStub) -> dict[str, Any]:
    return {"workflow_id": stub.workflow_id, "run_id": stub.run_id}


async def create(call: Call) -> Any:
    spec = dict(call.spec)
    client = await call.env.client()
    if "type" not in spec:
        stub = core.create_workflow(client, spec["workflow_id"], spec.get("run_id"))
    else:
        workflow_type = spec.pop("type")
        spec["memo"] = {**(spec.get("memo") or {}), "playbook": call.env.playbook_name,
                        "playbook_run_id": call.env.run_id}
        stub = core.create_workflow(client, workflow_type, spec)
    if call.record.id:
        call.env.add_stub(call.record.id, stub)
    _note(call, stub)
    return {"workflow_id": stub.workflow_id, "run_id": stub.run_id,
            "type": stub.workflow_type, "task_queue": stub.task_queue}


async def start(call: Call) -> Any:
    stub = _target(call)
    await core.start(stub, call.spec.get("args", []))
    _note(call, stub)
    return _ids(stub)


async def signal(call: Call) -> Any:
    await core.signal(_target(call), call.spec["signal"], call.spec.get("args", []))
    return None


async def signal_with_start(call: Call) -> Any:
    stub = _target(call)
    await core.signal_with_start(stub, call.spec["signal"], call.spec.get("signal_args", []),
                                 call.spec.get("start_args", []))
    _note(call, stub)
    return _ids(stub)


async def query(call: Call) -> Any:
    return await core.query(_target(call), call.spec["query"], call.spec.get("args", []))


async def update(call: Call) -> Any:
    return await core.update(_target(call), call.spec["update"], call.spec.get("args", []),
                             update_id=call.spec.get("update_id"))


async def _update_result(handle: core.UpdateHandle, stage: str) -> dict[str, Any]:
    out: dict[str, Any] = {"update_id": handle.id, "workflow_id": handle.workflow_id,
                           "run_id": handle.run_id}
    if stage == "completed":
        out["result"] = await handle.result()
    return out


async def start_update(call: Call) -> Any:
    stage = call.spec.get("wait_for_stage", "accepted")
    handle = await core.start_update(_target(call), call.spec["update"], call.spec.get("args", []),
                                     wait_for_stage=stage, update_id=call.spec.get("update_id"))
    return await _update_result(handle, stage)


async def await_update(call: Call) -> Any:
    handle = core.get_update_handle(_target(call), call.spec["update_id"])
    return await handle.result(timeout=_seconds(call.spec.get("timeout")))


async def update_with_start(call: Call) -> Any:
    stub = _target(call)
    stage = call.spec.get("wait_for_stage", "accepted")
    handle = await core.update_with_start(
        stub, call.spec["update"], call.spec.get("update_args", []),
        call.spec.get("start_args", []), wait_for_stage=stage,
        update_id=call.spec.get("update_id"))
    _note(call, stub)
    return await _update_result(handle, stage)


async def await_result(call: Call) -> Any:
    return await core.get_result(_target(call), timeout=_seconds(call.spec.get("timeout")),
                                 follow_runs=call.spec.get("follow_runs", True))


async def _closing(call: Call, operation: Any) -> None:
    try:
        await operation
    except WorkflowNotFound:
        if not call.spec.get("if_running"):
            raise
        call.record.reason = "the workflow had already closed"


async def cancel(call: Call) -> Any:
    """Temporal accepts a cancel of a closed workflow quietly; a playbook says so: without
    ``if_running`` it is a failure, with it a quiet success (SPEC section 3)."""
    stub = _target(call)
    status = (await core.describe(stub))["status"]
    if status != "running":
        if not call.spec.get("if_running"):
            raise WorkflowNotFound(
                f"cancel failed: workflow '{stub.workflow_id}' has already closed ({status}); "
                "use if_running: true to accept that", operation="cancel",
                workflow_id=stub.workflow_id, run_id=stub.run_id)
        call.record.reason = f"the workflow had already closed ({status})"
        return None
    await _closing(call, core.cancel(stub, call.spec.get("reason")))
    return None


async def terminate(call: Call) -> Any:
    await _closing(call, core.terminate(_target(call), call.spec.get("reason"),
                                        call.spec.get("details", [])))
    return None


async def describe(call: Call) -> Any:
    stub = _target(call)
    facts = await core.describe(stub)
    _note(call, stub, facts["run_id"])
    return facts
