"""The workflow actions: one small function each, over the client core. Each returns a
:class:`~playbook.actions.base.Done` naming the execution it acted on."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from playbook import core
from playbook.actions.base import Call, Done
from playbook.core import handlers
from playbook.durations import parse_duration
from playbook.errors import PlaybookError, WorkflowNotFound


def _seconds(call: Call, value: Any) -> float | None:
    """An action's own duration field (``timeout``), rendered by now; a bad one fails the
    step, naming the field."""
    if value is None:
        return None
    try:
        return _parsed(value) if type(value) is str else parse_duration(value).total_seconds()
    except ValueError as e:
        raise PlaybookError(f"{call.env.where(call.action + '.timeout')}: {e}") from None


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> float:
    """A duration's seconds, parsed once per text: every ``await_result`` of a fan-out gives
    the same ``timeout``."""
    return parse_duration(text).total_seconds()


def _done(
    stub: core.WorkflowStub,
    value: Any = None,
    *,
    run_id: str | None = None,
    note: str | None = None,
) -> Done:
    return Done(value, stub.workflow_id, run_id or stub.current_run_id, note)


def _target(call: Call) -> core.WorkflowStub:
    return call.env.stub(call.spec["workflow"])


async def _checked(call: Call, kind: str, name: str) -> core.WorkflowStub:
    """The step's workflow, once the handler ``name`` of ``kind`` is known to be one that
    its type declares (SPEC section 10). A stub not started yet has nothing to ask."""
    stub = _target(call)
    if stub.started or not stub.is_new:
        await handlers.check(call.env.handlers, stub, kind, name)
    else:
        call.env.handlers.call(stub.workflow_type, kind, name)
    return stub


def _ids(stub: core.WorkflowStub) -> dict[str, Any]:
    return {"workflow_id": stub.workflow_id, "run_id": stub.run_id}


async def create(call: Call) -> Done:
    spec = dict(call.spec)
    client = await call.env.client()
    if "type" not in spec:
        stub = core.create_workflow(client, spec["workflow_id"], spec.get("run_id"))
    else:
        workflow_type = spec.pop("type")
        spec["memo"] = {
            **(spec.get("memo") or {}),
            "playbook": call.env.playbook_name,
            "playbook_run_id": call.env.run_id,
        }
        stub = core.create_workflow(client, workflow_type, spec)
    if call.env.step_id:
        call.env.add_stub(call.env.step_id, stub)
    return _done(
        stub,
        {
            "workflow_id": stub.workflow_id,
            "run_id": stub.run_id,
            "type": stub.workflow_type,
            "task_queue": stub.task_queue,
        },
    )


async def start(call: Call) -> Done:
    stub = _target(call)
    await core.start(stub, call.spec.get("args", []))
    return _done(stub, _ids(stub))


async def signal(call: Call) -> Done:
    stub = await _checked(call, "signal", call.spec["signal"])
    await core.signal(stub, call.spec["signal"], call.spec.get("args", []))
    return _done(stub)


async def signal_with_start(call: Call) -> Done:
    stub = await _checked(call, "signal", call.spec["signal"])
    await core.signal_with_start(
        stub, call.spec["signal"], call.spec.get("signal_args", []), call.spec.get("start_args", [])
    )
    return _done(stub, _ids(stub))


async def query(call: Call) -> Done:
    stub = await _checked(call, "query", call.spec["query"])
    return _done(stub, await core.query(stub, call.spec["query"], call.spec.get("args", [])))


async def update(call: Call) -> Done:
    stub, spec = await _checked(call, "update", call.spec["update"]), call.spec
    args = spec.get("args", [])
    value = await core.update(stub, spec["update"], args, update_id=spec.get("update_id"))
    return _done(stub, value)


async def _update_result(handle: core.UpdateHandle, stage: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "update_id": handle.id,
        "workflow_id": handle.workflow_id,
        "run_id": handle.run_id,
    }
    if stage == "completed":
        out["result"] = await handle.result()
    return out


async def _staged(call: Call, begin: Callable[..., Awaitable[Any]], *args: Any) -> Done:
    """An update started up to ``wait_for_stage``, its result awaited when that is
    ``completed``."""
    stub = await _checked(call, "update", call.spec["update"])
    spec = call.spec
    stage = spec.get("wait_for_stage", "accepted")
    handle = await begin(
        stub, spec["update"], *args, wait_for_stage=stage, update_id=spec.get("update_id")
    )
    stub.latest_run_id = handle.run_id or stub.latest_run_id  # the run that took it
    return _done(stub, await _update_result(handle, stage))


async def start_update(call: Call) -> Done:
    return await _staged(call, core.start_update, call.spec.get("args", []))


async def await_update(call: Call) -> Done:
    stub = _target(call)
    handle = core.get_update_handle(stub, call.spec["update_id"])
    return _done(stub, await handle.result(timeout=_seconds(call, call.spec.get("timeout"))))


async def update_with_start(call: Call) -> Done:
    spec = call.spec
    return await _staged(
        call, core.update_with_start, spec.get("update_args", []), spec.get("start_args", [])
    )


async def await_result(call: Call) -> Done:
    stub, spec = _target(call), call.spec
    timeout = _seconds(call, spec.get("timeout"))
    follow_runs = spec.get("follow_runs", True)
    # core notes the last run of the chain that the result was read from (latest_run_id)
    value = await core.get_result(stub, timeout=timeout, follow_runs=follow_runs)
    return _done(stub, value)


async def _closing(call: Call, stub: core.WorkflowStub, operation: Any) -> Done:
    try:
        await operation
    except WorkflowNotFound:
        if not call.spec.get("if_running"):
            raise
        return _done(stub, note="the workflow had already closed")
    return _done(stub)


async def cancel(call: Call) -> Done:
    """Temporal accepts a cancel of a closed workflow quietly; a playbook says so: without
    ``if_running`` it is a failure, with it a quiet success (SPEC section 3)."""
    stub = _target(call)
    status = (await core.describe(stub))["status"]
    if status != "running":
        if not call.spec.get("if_running"):
            raise WorkflowNotFound(
                f"cancel failed: workflow '{stub.workflow_id}' has already closed ({status}); "
                "use if_running: true to accept that",
                operation="cancel",
                workflow_id=stub.workflow_id,
                run_id=stub.run_id,
            )
        return _done(stub, note=f"the workflow had already closed ({status})")
    return await _closing(call, stub, core.cancel(stub, call.spec.get("reason")))


async def terminate(call: Call) -> Done:
    stub = _target(call)
    return await _closing(
        call, stub, core.terminate(stub, call.spec.get("reason"), call.spec.get("details", []))
    )


async def describe(call: Call) -> Done:
    stub = _target(call)
    facts = await core.describe(stub)
    stub.latest_run_id = facts["run_id"]
    return _done(stub, facts)
