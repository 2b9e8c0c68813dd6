"""The call activities of a durable run: each client call of a step is one activity on the
interpreter's task queue, made with the worker's client by the very action a local run
uses (:data:`playbook.actions.REGISTRY`).

Exactly once. Every raw request the action sends that has a ``request_id`` (start,
signal, signal-with-start, cancel, reset, the schedule calls, and the start inside an
update-with-start's multi-operation request) gets one derived from the
call's key (run id, step path, the step's call count) instead of a random one, so that a
retry after a worker loss is deduplicated by the server; updates get an update id derived
the same way unless the step gives one. A call that cannot be made idempotent
(:data:`NOT_IDEMPOTENT`) is not repeated: its retry fails with ``interrupted by worker
loss``. The activity heartbeats while the call runs, so a killed worker's call is retried
on another worker within the heartbeat timeout.

What comes back is plain data (:func:`call`'s docstring); errors are values, not
exceptions: an activity fails only when its worker is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from typing import Any

from temporalio import activity
from temporalio.client import Client

from playbook import bugs, core, deadline
from playbook.actions import REGISTRY, Call, Done
from playbook.coverage import HandlerLedger
from playbook.durable import sealing
from playbook.durable.shards import RECORDS
from playbook.durable.state import StubState, ledger_data, load_ledger
from playbook.errors import PlaybookError
from playbook.expect import error_record
from playbook.runner.hygiene import CoreChecks
from playbook.secrets import Masker

CALL = "playbook_call"
CHECK = "playbook_check"
HEARTBEAT_SECONDS = 2.0

NOT_IDEMPOTENT = frozenset({"terminate", "delete_schedule", "batch"})
"""Calls that carry no idempotency key Temporal honours: repeated, they could act twice."""

_UPDATES = frozenset({"update", "start_update", "update_with_start"})
_KEYS = uuid.UUID("6f1d4c1e-3a52-4c0e-9d55-8f6c0c1c7a11")

_CALL_KEY: ContextVar[tuple[str, dict[str, int]] | None] = ContextVar(
    "playbook_call_key", default=None
)


def key_id(*parts: str) -> str:
    """A stable UUID for an idempotency key (Temporal takes any string; a UUID is short)."""
    return str(uuid.uuid5(_KEYS, "/".join(parts)))


def keyed(client: Client) -> Client:
    """``client``, its raw requests given request ids derived from the current call's key
    (inside :func:`call`; elsewhere they keep temporalio's random ones)."""
    service: Any = client.service_client
    if getattr(service, "_playbook_keyed", False):
        return client
    original = service._rpc_call

    async def rpc_call(*args: Any, **kwargs: Any) -> Any:
        key = _CALL_KEY.get()
        request: Any = kwargs.get("req")
        names = _field_names(request) if key is not None and request is not None else ()
        if key is not None and ("request_id" in names or "operations" in names):
            base, counts = key
            rpc = str(kwargs.get("rpc"))
            count = counts.get(rpc, 0)
            counts[rpc] = count + 1
            if "request_id" in names:
                request.request_id = key_id(base, rpc, str(count))
            for operation in request.operations if "operations" in names else ():
                if operation.HasField("start_workflow"):  # update-with-start's own start
                    operation.start_workflow.request_id = key_id(base, rpc, str(count), "start")
        return await original(*args, **kwargs)

    service._rpc_call = rpc_call
    service._playbook_keyed = True
    return client


def _field_names(request: Any) -> frozenset[str]:
    descriptor = getattr(request, "DESCRIPTOR", None)
    return frozenset(descriptor.fields_by_name) if descriptor is not None else frozenset()


class _Env:
    """The :class:`playbook.actions.base.Env` of one call made in an activity."""

    def __init__(self, client: Client, request: Mapping[str, Any]) -> None:
        self._client = client
        self._where = str(request["where"])
        self.playbook_name = str(request["playbook_name"])
        self.run_id = str(request["run_id"])
        self.step_id: str | None = request.get("step_id")
        self.handlers = load_ledger(HandlerLedger(), request["ledger"])
        self.stubs: dict[str, core.WorkflowStub] = {
            name: rebuilt(client, StubState.from_data(data), self.run_id, self.playbook_name)
            for name, data in request["stubs"].items()
        }
        self.logs: list[str] = []

    def where(self, field: str) -> str:
        return self._where.replace("\x00", field)

    async def client(self) -> Client:
        return self._client

    def stub(self, name: str) -> core.WorkflowStub:
        return self.stubs[name]

    def add_stub(self, name: str, stub: core.WorkflowStub) -> None:
        self.stubs[name] = stub

    def evaluate(self, expression: str) -> Any:
        raise AssertionError("a client call evaluates no expression")

    def render(self, value: Any, field: str) -> Any:
        raise AssertionError("a client call renders no template")

    def log(self, text: str) -> None:
        self.logs.append(text)

    def set_vars(self, values: Mapping[str, Any]) -> None:
        raise AssertionError("a client call sets no variable")

    async def confirm(self, text: str) -> bool:
        raise AssertionError("confirm runs in the interpreter")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def rebuilt(client: Client, state: StubState, run_id: str, playbook: str) -> core.WorkflowStub:
    """The client-bound stub of ``state``."""
    if state.options is not None and state.workflow_type is not None:
        stub = core.create_workflow(client, state.workflow_type, state.options)
    else:
        stub = core.WorkflowStub(client=client, workflow_id=state.workflow_id)
    stub.run_id, stub.started = state.run_id, state.started
    stub.latest_run_id, stub.reset_run_id = state.latest_run_id, state.reset_run_id
    return stub


def state_of(stub: core.WorkflowStub, options: dict[str, Any] | None) -> StubState:
    return StubState(
        workflow_id=stub.workflow_id,
        run_id=stub.run_id,
        workflow_type=stub.workflow_type,
        options=options,
        started=stub.started,
        latest_run_id=stub.latest_run_id,
        reset_run_id=stub.reset_run_id,
    )


def _create_options(spec: Mapping[str, Any], env: _Env, stub: core.WorkflowStub) -> dict[str, Any]:
    """What rebuilds the stub a ``create`` made: its options, id fixed, memo as it made it."""
    options = {k: v for k, v in spec.items() if k != "type"}
    options["workflow_id"] = stub.workflow_id
    options["memo"] = {
        **(spec.get("memo") or {}),
        "playbook": env.playbook_name,
        "playbook_run_id": env.run_id,
    }
    return options


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat while the block runs, the first beat after :data:`HEARTBEAT_SECONDS`:
    most calls end sooner and send none (a beat at once made a loop of signals three
    times slower; the heartbeat timeout counts from the start all the same)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            activity.heartbeat()

    task = asyncio.ensure_future(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Calls:
    """The activities, bound to the worker's client and key."""

    def __init__(self, client: Client, key: bytes | None) -> None:
        self.client = keyed(client)
        self.key = key

    @activity.defn(name=CALL)
    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """One action. ``request``: ``action``, ``spec`` (maybe sealed), ``stubs`` (name ->
        state), ``where``, ``playbook_name``, ``run_id``, ``step_id``, ``key``, ``ledger``,
        ``remaining`` (the step's time left), ``secrets`` (sealed, or None). The answer
        (sealed when it holds a secret): ``value``, ``done`` (``{workflow_id, run_id,
        note}`` or None), ``stubs``, ``ledger``, ``logs``, ``error``, ``bug``."""
        secrets = self._open(request.get("secrets")) or []
        answer = await self._answer(request, self._open(request["spec"]))
        masker = Masker(secrets)
        if secrets and masker.data(answer) != answer and self.key is not None:
            return {"sealed_answer": sealing.seal(self.key, answer)}
        return answer

    def _open(self, value: Any) -> Any:
        return sealing.unseal(self.key, value) if sealing.is_sealed(value) else value

    async def _answer(self, request: Mapping[str, Any], spec: Any) -> dict[str, Any]:
        action = str(request["action"])
        try:
            env = _Env(self.client, request)
        except PlaybookError as e:
            return _failed(e)
        if activity.info().attempt > 1 and action in NOT_IDEMPOTENT:
            return _failed(
                PlaybookError(
                    f"{env.where(action)}: interrupted by worker loss: the worker running "
                    f"this {action} was lost, and a {action} cannot be made idempotent, so it "
                    "was not sent again (it may or may not have reached the server)"
                ),
                error_type="WorkerLost",
            )
        if action in _UPDATES and isinstance(spec, dict) and not spec.get("update_id"):
            spec = {**spec, "update_id": key_id(str(request["key"]), "update")}
        token = _CALL_KEY.set((str(request["key"]), {}))
        try:
            async with heartbeating():
                with deadline.within(request.get("remaining")):
                    value = await REGISTRY[action](Call(action, spec, env))
        except PlaybookError as e:
            return _failed(e, env)
        except Exception as e:  # a bug of ours: the step says so (exit 3), it is not retried
            return {"bug": bugs.describe(e, f"the {action} call of a durable run")}
        finally:
            _CALL_KEY.reset(token)
        done = None
        if isinstance(value, Done):
            done = {"workflow_id": value.workflow_id, "run_id": value.run_id, "note": value.note}
            value = value.value
        options = spec if action == "create" and "type" in spec else None
        stubs = {
            name: state_of(
                stub, _create_options(options, env, stub) if options is not None else None
            ).to_data()
            if options is not None
            else _kept(request, name, stub)
            for name, stub in env.stubs.items()
        }
        return {
            "value": value,
            "done": done,
            "stubs": stubs,
            "ledger": ledger_data(env.handlers),
            "logs": env.logs,
        }

    @activity.defn(name=RECORDS)
    async def records(self, document: dict[str, Any]) -> None:
        """A shard's records, kept in its history as this activity's input (:mod:`.shards`)."""

    @activity.defn(name=CHECK)
    async def check(self, request: dict[str, Any]) -> Any:
        """Preflight, cleanup and verify's questions (``method``, ``args``)."""
        checks = CoreChecks(lambda: _ready(self.client))
        async with heartbeating():
            found = await getattr(checks, str(request["method"]))(*request["args"])
        return list(found) if isinstance(found, tuple) else found


async def _ready(client: Client) -> Client:
    return client


def _kept(request: Mapping[str, Any], name: str, stub: core.WorkflowStub) -> dict[str, Any]:
    """The state of a stub the call was given, as the call left it (its options kept)."""
    given = request["stubs"].get(name) or {}
    return state_of(stub, given.get("options")).to_data()


def _failed(
    error: PlaybookError, env: _Env | None = None, *, error_type: str | None = None
) -> dict[str, Any]:
    record = error_record(error)
    if error_type is not None:
        record["type"] = error_type
    return {
        "error": {"record": record, "message": str(error), "exit_code": error.exit_code},
        "logs": env.logs if env is not None else [],
    }
