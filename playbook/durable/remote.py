"""A durable run's client calls, seen from the interpreter: each is the call activity
(:mod:`.calls`) scheduled with :data:`CALL_OPTIONS`, its request and answer sealed when they
hold a secret, its stubs and handler ledger carried both ways; and the questions of
preflight, cleanup and verify (:class:`Checks`), asked the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any, cast

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from playbook.actions import Action, Call
from playbook.durable import sealing
from playbook.durable.calls import CALL, CHECK
from playbook.durable.state import StubState, ledger_data, merge_ledger
from playbook.errors import PlaybookError
from playbook.secrets import Masker

CALL_OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(days=30),  # a step's own timeout ends it sooner
    "heartbeat_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=10),
        maximum_attempts=20,
    ),
}
"""How a call activity is scheduled: a lost worker is noticed within the heartbeat
timeout and the call retried on another (errors of the call itself come back as values)."""


class _RemoteError(PlaybookError):
    """A step's call failed in its activity: the error as the activity recorded it."""

    def __init__(self, message: str, record: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.record = dict(record)

    def to_record(self) -> dict[str, Any]:
        return dict(self.record)


class _RemoteUsageError(_RemoteError):
    exit_code = 2


class _RemoteServerError(_RemoteError):
    exit_code = 3


_BY_CODE: dict[int, type[_RemoteError]] = {2: _RemoteUsageError, 3: _RemoteServerError}


class Checks:
    """Preflight, cleanup and verify's questions, asked by an activity."""

    async def _ask(self, method: str, *args: Any) -> Any:
        return await workflow.execute_activity(
            CHECK, {"method": method, "args": list(args)}, **CALL_OPTIONS
        )

    async def preflight(self, task_queues: Any, search_attributes: Any, own: Any) -> Any:
        problems, notes = await self._ask(
            "preflight", list(task_queues), list(search_attributes), list(own)
        )
        return list(problems), list(notes)

    async def facts(self, workflow_id: str, run_id: str | None) -> Any:
        return await self._ask("facts", workflow_id, run_id)

    async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
        return bool(await self._ask("end", workflow_id, run_id, mode, reason))


class Remote:
    """The client calls of one run (its key, secrets and call counts per step path)."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.secrets: list[Any] = []
        self.masker = Masker()
        self.run_id = ""
        self.calls: dict[str, int] = {}
        self._learning: dict[str, asyncio.Event] = {}

    def action(self, kind: str) -> Action:
        """The workflow-side action ``kind``: its call made by an activity."""

        async def action(call: Call) -> Any:
            return await self._call(kind, call)

        action.__name__ = action.__qualname__ = kind
        return action

    async def _call(self, kind: str, call: Call) -> Any:
        from playbook import deadline
        from playbook.actions import Done

        env: Any = call.env
        spec = call.spec
        target = spec.get("workflow") if isinstance(spec, Mapping) else None
        given: dict[str, StubState] = {}
        if isinstance(target, str):
            given[target] = cast(StubState, env.stub(target))
        path = env.record.path
        count = self.calls[path] = self.calls.get(path, 0) + 1
        sealed = self.key is not None and self.masker.data(spec) != spec
        request = {
            "action": kind,
            "spec": sealing.seal(self.key, spec) if sealed and self.key else spec,
            "stubs": {name: state.to_data() for name, state in given.items()},
            "where": env.where("\x00"),
            "playbook_name": env.playbook_name,
            "run_id": self.run_id,
            "step_id": env.step_id,
            "key": f"{self.run_id}/{path}/{count}",
            "ledger": _ledger(env),
            "remaining": deadline.remaining(),
            "secrets": sealing.seal(self.key, self.secrets)
            if self.key is not None and any(s is not None for s in self.secrets)
            else None,
        }
        try:
            async with self._learnt(
                kind, env, given.get(target) if isinstance(target, str) else None
            ):
                answer = await workflow.execute_activity(CALL, request, **CALL_OPTIONS)
        except ActivityError as e:
            raise _RemoteServerError(
                f"{env.where(kind)}: the call could not be made: {e.cause or e}",
                {"type": "ActivityError", "message": str(e.cause or e), "details": None},
            ) from None
        if "sealed_answer" in answer:
            answer = sealing.unseal(self.key, answer["sealed_answer"])
        for line in answer.get("logs") or ():
            env.log(line)
        if "bug" in answer:
            raise RuntimeError(answer["bug"])
        if "error" in answer:
            error = answer["error"]
            kind_of = _BY_CODE.get(int(error["exit_code"]), _RemoteError)
            raise kind_of(error["message"], error["record"])
        merge_ledger(env.handlers, answer["ledger"])
        for name, data in answer["stubs"].items():
            if name in given:
                given[name].__dict__.update(StubState.from_data(data).__dict__)
            else:
                env.add_stub(name, StubState.from_data(data))
        done = answer.get("done")
        if done is None:
            return answer["value"]
        return Done(answer["value"], done["workflow_id"], done["run_id"], done["note"])

    @contextlib.asynccontextmanager
    async def _learnt(self, kind: str, env: Any, stub: StubState | None) -> AsyncIterator[None]:
        """A handler call on a workflow type that the run has not learnt yet: the first
        call learns it (its activity reads the type's metadata) while the others wait for
        its answer, instead of every call of a loop's first wave reading it again."""
        handlers = env.handlers
        name = None if stub is None else stub.workflow_type or handlers.types.get(stub.workflow_id)
        if kind not in _CHECKED or stub is None or (name and name in handlers.declared):
            yield
            return
        key = name or stub.workflow_id
        learning = self._learning.get(key)
        if learning is not None:
            await learning.wait()
            yield
            return
        learning = self._learning[key] = asyncio.Event()
        try:
            yield
        finally:
            learning.set()
            del self._learning[key]


_CHECKED = frozenset({"signal", "signal_with_start", "query", "update", "start_update"})
"""The actions that check the handler they call against the workflow type's metadata."""


def _ledger(env: Any) -> dict[str, Any]:
    return ledger_data(env.handlers)
