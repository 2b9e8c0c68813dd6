"""The interpreter as a Temporal workflow: :class:`PlaybookRun` runs the very runner of a
local run (:class:`playbook.runner.Runner`) with what a workflow may use instead of the
process's services: client calls as activities (:mod:`.remote`, :mod:`.calls`), ``sleep``
and ``timeout`` as durable timers, the clock, ``uuid()`` and ``now()`` from the workflow's
deterministic sources, the template time budget counted in checks rather than seconds,
``confirm`` answered by the ``approve``/``deny`` updates, and a reporter whose record the
``progress`` query returns. Control steps (``log``, ``set``, ``assert``) run in the
workflow itself.

Cancelling the workflow is an interrupt, as Ctrl-C is for a local run: the steps in flight
are cancelled, ``finally`` runs, the run ends with exit code 130.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from temporalio import workflow

from playbook.actions import LOCAL, REGISTRY, TEMPORAL_ACTIONS, Action, Call, control
from playbook.durable import checkpoint, sealing
from playbook.durable.remote import Checks, Remote
from playbook.durable.shards import LEDGER, Ledger
from playbook.durable.state import pack, result_data, unpack
from playbook.durable.texts import opened, playbook_from_tree
from playbook.records import RunResult, StepRecord
from playbook.runner import Clock, Runner, RunOptions, Shared
from playbook.secrets import Masker, environment_secrets
from playbook.templating import functions, timing

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.runner.env import Scope

WORKFLOW = "PlaybookRun"
"""The interpreter's workflow type."""

_ENVIRON: ContextVar[dict[str, str]] = ContextVar("playbook_durable_environ")


class DurableRunner(Runner):
    """The runner, with the environment captured when the run was submitted (also in the
    playbooks it includes, which are made as ``type(runner)(...)``); its long loops are
    sharded into child workflows (:mod:`.shards`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ = dict(_ENVIRON.get())

    async def _body(self) -> None:
        state = checkpoint.RESUME.get()
        if state is None or self.depth != 0:
            return await super()._body()
        checkpoint.restore(self, state)  # (vars rendered, preflight done: by the first run)
        await self.sequence(self.playbook.steps, f"{self.prefix}steps", self.root, self.depth)

    async def sequence(
        self,
        steps: Sequence[Step],
        path: str,
        scope: Scope,
        depth: int,
        *,
        first: int = 0,
        stop: int | None = None,
    ) -> bool:
        """The top-level steps one at a time, continuing as new between two of them when
        the history is long (:mod:`.checkpoint`); other sequences as a local run's."""
        if self.depth != 0 or steps is not self.playbook.steps or stop is not None:
            return await super().sequence(steps, path, scope, depth, first=first, stop=stop)
        start = checkpoint.first_step()
        for index in range(start, len(steps)):
            if index > start and checkpoint.full():
                raise checkpoint.Continued(checkpoint.state_of(self, index))
            if not await super().sequence(steps, path, scope, depth, first=index, stop=index + 1):
                return False
        return True

    def _close(self, began: float) -> RunResult:
        if checkpoint.RESUME.get() is not None and self.depth == 0:
            began = checkpoint.began(self)  # the duration of the whole run
        return super()._close(began)

    async def foreach(self, step: Any, env: Any, scope: Any, path: str, depth: int) -> Any:
        if self.depth != 0:  # a loop of an included file runs here (its step is not found
            return await super().foreach(step, env, scope, path, depth)  # by a shard)
        from playbook.durable import shards

        return await shards.foreach(self, step, env, scope, path, depth)


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


@workflow.defn(name=WORKFLOW)
class PlaybookRun:
    """One durable run of a playbook (its input: :func:`playbook.durable.texts.run_input`)."""

    def __init__(self) -> None:
        self.progress = Progress()
        self.waiting: list[dict[str, Any]] = []
        self.key = sealing.worker_key()
        self.remote = Remote(self.key)
        self.shards = Ledger(root="", base={})

    @workflow.run
    async def run(self, data: dict[str, Any]) -> dict[str, Any]:
        data = unpack(data)  # (a shard's input travels packed)
        root = str(data.get("root") or workflow.info().workflow_id)
        base = {k: v for k, v in data.items() if k not in ("shard", "resume")}
        self.shards = Ledger(root=root, base={**base, "root": root}, key=self.key)
        playbook = playbook_from_tree(data["tree"])
        inputs, environ = opened(data, self.key)
        from playbook.inputs import secret_names

        remote = self.remote
        remote.secrets = [inputs.get(n) for n in secret_names(playbook.inputs)]
        remote.secrets += environment_secrets(environ)
        remote.masker = Masker(remote.secrets)
        remote.run_id = str(data["run_id"])
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
            run_id=remote.run_id,
            # (a shard's templates see the run's own run.started_at)
            started_at=data["shard"]["started_at"] if "shard" in data else clock.iso(),
            # (a local run of log/set/assert steps connects nowhere, and says so)
            address=data.get("address") if playbook.uses_temporal else None,
            namespace=options.namespace if playbook.uses_temporal else None,
        )
        shared = Shared(
            result=result,
            options=options,
            reporter=self.progress,
            masker=remote.masker,
            client_factory=_no_client,
            sleep=asyncio.sleep,  # a durable timer in a workflow
            actions=self._actions(),
            clock=clock,
            checks=Checks(),
        )
        ticks = itertools.count()
        _ENVIRON.set(environ)
        functions.SOURCES.set((lambda: str(workflow.uuid4()), lambda: workflow.now().isoformat()))
        timing.CLOCK.set(lambda: next(ticks) * 1e-6)  # two million checks: the "2 s" budget
        LEDGER.set(self.shards)
        resume = data.get("resume")
        checkpoint.RESUME.set(None if resume is None else checkpoint.opened(resume, self.key))
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
            except checkpoint.Continued as going_on:
                workflow.continue_as_new(pack({**base, "resume": going_on.state}))
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
            return {"done": False, "records": [], "finished": [], "shards": [], "waiting": []}
        data = result_data(progress.result, progress.finished, progress.done)
        data["shards"] = self.shards.shards
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
            actions[kind] = self.remote.action(kind)

        async def confirm(call: Call) -> Any:
            return await control.confirm(
                Call(call.action, call.spec, cast(Any, _Asking(call.env, self)))
            )

        actions["confirm"] = confirm
        return actions


async def _no_client() -> Any:
    """The interpreter has no client: its calls are activities (a workflow makes none)."""
    return None
