"""The interpreter as a Temporal workflow: :class:`PlaybookRun` runs the very runner of a
local run (:class:`playbook.runner.Runner`) with what a workflow may use instead of the
process's services: client calls as activities (:mod:`.calls`), ``sleep`` and ``timeout``
as durable timers, the clock, ``uuid()`` and ``now()`` from the workflow's deterministic
sources, the template time budget counted in checks rather than seconds, ``confirm``
answered by the ``approve``/``deny`` updates, and a reporter whose record the ``progress``
query returns. Control steps (``log``, ``set``, ``assert``) run in the workflow itself.

Cancelling the workflow is an interrupt, as Ctrl-C is for a local run: the steps in flight
are cancelled, ``finally`` runs, the run ends with exit code 130.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, cast

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from playbook.actions import LOCAL, REGISTRY, TEMPORAL_ACTIONS, Action, Call, control
from playbook.durable import sealing
from playbook.durable.calls import CALL, CHECK
from playbook.durable.state import StubState, merge_ledger, pack, result_data
from playbook.durable.texts import opened, playbook_from_tree
from playbook.errors import PlaybookError
from playbook.records import RunResult, StepRecord
from playbook.runner import Clock, Runner, RunOptions, Shared
from playbook.secrets import Masker, environment_secrets
from playbook.templating import functions, timing

WORKFLOW = "PlaybookRun"
"""The interpreter's workflow type."""

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

_ENVIRON: ContextVar[dict[str, str]] = ContextVar("playbook_durable_environ")


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


_INPUT: ContextVar[dict[str, Any]] = ContextVar("playbook_durable_input")


class DurableRunner(Runner):
    """The runner, with the environment captured when the run was submitted (also in the
    playbooks it includes, which are made as ``type(runner)(...)``); its long loops are
    sharded into child workflows (:mod:`.shards`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ = dict(_ENVIRON.get())

    async def foreach(self, step: Any, env: Any, scope: Any, path: str, depth: int) -> Any:
        if self.depth != 0:  # a loop of an included file runs here (its step is not found
            return await super().foreach(step, env, scope, path, depth)  # by a shard)
        from playbook.durable import shards

        base = {k: v for k, v in _INPUT.get().items() if k != "shard"}
        return await shards.foreach(base, self, step, env, scope, path, depth)


class Progress:
    """The reporter: records which steps ended, in order (the ``progress`` query)."""

    def __init__(self) -> None:
        self.result: RunResult | None = None
        self.finished: list[int] = []
        self._index: dict[int, int] = {}
        self.done = False

    def _position(self, record: StepRecord) -> int:
        assert self.result is not None
        records = self.result.records
        for index in range(len(self._index), len(records)):
            self._index[id(records[index])] = index
        return self._index[id(record)]

    def run_started(self, playbook: Any, result: RunResult) -> None:
        self.result = result

    def step_started(self, record: StepRecord) -> None:
        pass

    def step_finished(self, record: StepRecord) -> None:
        self.finished.append(self._position(record))

    def log(self, record: StepRecord, text: str) -> None:
        pass

    def run_finished(self, result: RunResult) -> None:
        self.done = True


class _Asking:
    """A step's services with ``confirm`` answered by ``approve``/``deny``."""

    def __init__(self, env: Any, run: PlaybookRun) -> None:
        self._env = env
        self._run = run

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    async def confirm(self, text: str) -> bool:
        if self._env.runner.shared.options.yes:
            return bool(await self._env.confirm(text))
        record = self._env.record
        entry: dict[str, Any] = {"step": record.id, "path": record.path, "text": text}
        entry["answer"] = None
        self._run.waiting.append(entry)
        try:
            await workflow.wait_condition(lambda: entry["answer"] is not None)
        finally:
            if entry in self._run.waiting:
                self._run.waiting.remove(entry)
        self._env.log(f"{'approved' if entry['answer'] else 'denied'} from the command line")
        return bool(entry["answer"])


class _Checks:
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


@workflow.defn(name=WORKFLOW)
class PlaybookRun:
    """One durable run of a playbook (its input: :func:`playbook.durable.texts.run_input`)."""

    def __init__(self) -> None:
        self.progress = Progress()
        self.waiting: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}
        self.key = sealing.worker_key()
        self.secrets: list[Any] = []
        self.masker = Masker()
        self.run_id = ""

    @workflow.run
    async def run(self, data: dict[str, Any]) -> dict[str, Any]:
        playbook = playbook_from_tree(data["tree"])
        inputs, environ = opened(data, self.key)
        from playbook.inputs import secret_names

        self.secrets = [inputs.get(n) for n in secret_names(playbook.inputs)]
        self.secrets += environment_secrets(environ)
        self.masker = Masker(self.secrets)
        self.run_id = str(data["run_id"])
        given = data["options"]
        options = RunOptions(
            tags=frozenset(given.get("tags") or ()),
            skip_tags=frozenset(given.get("skip_tags") or ()),
            fail_fast=bool(given.get("fail_fast")),
            yes=bool(given.get("yes")),
            preflight=given.get("preflight"),
            cleanup=given.get("cleanup"),
            verify=given.get("verify"),
            ui_url=data.get("ui_url"),
            namespace=str(data["namespace"]),
        )
        clock = Clock(monotonic=workflow.time, now=workflow.now)
        result = RunResult(
            playbook=playbook.name,
            path=playbook.path,
            run_id=self.run_id,
            started_at=clock.iso(),
            # (a local run of log/set/assert steps connects nowhere, and says so)
            address=data.get("address") if playbook.uses_temporal else None,
            namespace=options.namespace if playbook.uses_temporal else None,
        )
        shared = Shared(
            result=result,
            options=options,
            reporter=self.progress,
            masker=self.masker,
            client_factory=_no_client,
            sleep=asyncio.sleep,  # a durable timer in a workflow
            actions=self._actions(),
            clock=clock,
            checks=_Checks(),
        )
        ticks = itertools.count()
        _ENVIRON.set(environ)
        functions.SOURCES.set((lambda: str(workflow.uuid4()), lambda: workflow.now().isoformat()))
        timing.CLOCK.set(lambda: next(ticks) * 1e-6)  # two million checks: the "2 s" budget
        _INPUT.set(data)
        runner = DurableRunner(playbook, inputs, shared)
        if "shard" in data:  # a part of a long foreach of the parent run (.shards)
            return await self._shard(runner, data["shard"])
        task = asyncio.ensure_future(runner.run())
        while True:
            try:
                await asyncio.shield(task)
                break
            except asyncio.CancelledError:  # playbook cancel RUN: an interrupt, as Ctrl-C
                runner.interrupt(hard=runner.shared.interrupted)
        return pack(self.document())

    async def _shard(self, runner: Runner, data: dict[str, Any]) -> dict[str, Any]:
        from playbook.durable import shards

        answer: dict[str, Any] = {}

        async def body() -> None:
            answer.update(pack(await shards.shard(runner, data)))

        self.progress.run_started(None, runner.shared.result)
        task = asyncio.ensure_future(body())
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:  # the parent was interrupted: so is the shard
                runner.shared.interrupted = True
                task.cancel()
        return answer

    def document(self) -> dict[str, Any]:
        progress = self.progress
        if progress.result is None:
            return {"done": False, "records": [], "finished": [], "waiting": []}
        data = result_data(progress.result, progress.finished, progress.done)
        data["waiting"] = [{k: e[k] for k in ("step", "path", "text")} for e in self.waiting]
        return data

    @workflow.query(name="progress")
    def query_progress(self) -> dict[str, Any]:
        return pack(self.document())

    @workflow.update(name="approve")
    def approve(self, step: str | None = None) -> dict[str, Any]:
        return self._answer(step, True)

    @approve.validator
    def _check_approve(self, step: str | None = None) -> None:
        self._waiting_for(step)

    @workflow.update(name="deny")
    def deny(self, step: str | None = None) -> dict[str, Any]:
        return self._answer(step, False)

    @deny.validator
    def _check_deny(self, step: str | None = None) -> None:
        self._waiting_for(step)

    def _waiting_for(self, step: str | None) -> dict[str, Any]:
        open_ = [e for e in self.waiting if e["answer"] is None]
        if not open_:
            raise ValueError("no confirm step is waiting for an answer")
        if step is None:
            return open_[0]
        for entry in open_:
            if step in (entry["step"], entry["path"]):
                return entry
        names = ", ".join(str(e["step"] or e["path"]) for e in open_)
        raise ValueError(f"step '{step}' is not waiting for an answer (waiting: {names})")

    def _answer(self, step: str | None, answer: bool) -> dict[str, Any]:
        entry = self._waiting_for(step)
        entry["answer"] = answer
        return {"step": entry["step"], "path": entry["path"], "text": entry["text"]}

    # -- the actions -----------------------------------------------------------------------

    def _actions(self) -> dict[str, Action]:
        actions: dict[str, Action] = {**REGISTRY, **LOCAL}
        for kind in TEMPORAL_ACTIONS:
            actions[kind] = self._remote(kind)

        async def confirm(call: Call) -> Any:
            return await control.confirm(
                Call(call.action, call.spec, cast(Any, _Asking(call.env, self)))
            )

        actions["confirm"] = confirm
        return actions

    def _remote(self, kind: str) -> Action:
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


def _ledger(env: Any) -> dict[str, Any]:
    from playbook.durable.state import ledger_data

    return ledger_data(env.handlers)


async def _no_client() -> Any:
    """The interpreter has no client: its calls are activities (a workflow makes none)."""
    return None
