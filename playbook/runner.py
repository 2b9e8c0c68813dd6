"""The interpreter: order, scopes, concurrency, retries, expectations, ``finally``.

Leaf actions live in :mod:`playbook.steps`; everything that runs nested steps
(``parallel``, ``foreach``, ``include``, ``finally``) lives here.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections import ChainMap
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playbook import templating
from playbook.durations import format_duration, parse_duration
from playbook.errors import ConnectionFailed, PlaybookError, TemplateError
from playbook.expect import Outcome, judge
from playbook.records import RunResult, StepRecord
from playbook.secrets import Masker
from playbook.steps import REGISTRY, UNRENDERED, WORKFLOW_ACTIONS
from playbook.steps.base import Call, ConfirmationRequired

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.core import WorkflowStub
    from playbook.loader import Playbook
    from playbook.report import Reporter

COMMON_KEYS = ("id", "name", "when", "timeout", "retry", "expect", "continue_on_error", "tags")
RETRY_DEFAULTS = {"timeout": 30.0, "interval": 0.5, "backoff": 1.0}


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def action_of(step: Mapping[str, Any]) -> str:
    for key in step:
        if key not in COMMON_KEYS:
            return str(key)
    raise PlaybookError(f"step has no action: {dict(step)!r}")


def ui_link(base: str | None, namespace: str, workflow_id: str, run_id: str | None) -> str | None:
    """The execution's page in the Temporal Web UI (which addresses a run)."""
    if not base or not run_id:
        return None
    return f"{base.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}/{run_id}/history"


@dataclass
class RunOptions:
    """How to run, from the command line."""

    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    fail_fast: bool = False
    yes: bool = False
    interactive: bool = False
    ui_url: str | None = None
    namespace: str = "default"


@dataclass
class Shared:
    """What every (included) playbook of one run shares."""

    result: RunResult
    options: RunOptions
    reporter: Reporter
    masker: Masker
    client_factory: Callable[[], Awaitable[Client]]
    client: Client | None = None
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    exit_code: int = 0
    interrupted: bool = False
    include_depth: int = 0


@dataclass
class Scope:
    """Names visible to a step: records, stubs, vars and loop variables."""

    records: MutableMapping[str, Any]
    stubs: MutableMapping[str, WorkflowStub]
    vars: MutableMapping[str, Any]
    locals: dict[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    """Tags inherited from the playbook and the enclosing control steps."""

    def child(self, **local: Any) -> Scope:
        return Scope(ChainMap({}, self.records), ChainMap({}, self.stubs),
                     ChainMap({}, self.vars), {**self.locals, **local}, self.tags)

    def tagged(self, tags: Any) -> Scope:
        """The same names, with more inherited tags (for a control step's nested steps)."""
        if not tags:
            return self
        return Scope(self.records, self.stubs, self.vars, self.locals,
                     self.tags | frozenset(tags))


class StepEnv:
    """The run's services for one step (the :class:`playbook.steps.base.Env` protocol)."""

    def __init__(self, runner: Runner, scope: Scope, record: StepRecord, step: Mapping[str, Any]):
        self.runner = runner
        self.scope = scope
        self.record = record
        self.step = step
        self.playbook_name = runner.playbook.name
        self.run_id = runner.shared.result.run_id
        self.extra: dict[str, Any] = {}

    def where(self, field_name: str) -> str:
        label = self.record.id or self.record.name
        return (f"step '{label}' ({self.record.path}, {self.runner.playbook.path}:"
                f"{self.record.line}), field {field_name}")

    def context(self) -> dict[str, Any]:
        return {"inputs": self.runner.inputs, "vars": self.scope.vars, "env": self.runner.environ,
                "steps": self.scope.records, "run": self.runner.run_info,
                **self.scope.locals, **self.extra}

    async def client(self) -> Client:
        return await self.runner.client()

    def stub(self, name: str) -> WorkflowStub:
        try:
            return self.scope.stubs[name]
        except KeyError:
            raise PlaybookError(
                f"{self.where('workflow')}: workflow '{name}' was not created in this run "
                "(its create step was skipped or failed)") from None

    def add_stub(self, name: str, stub: WorkflowStub) -> None:
        self.scope.stubs[name] = stub

    def evaluate(self, expression: str) -> Any:
        return templating.evaluate(expression, self.context(), where=self.where("expression"))

    def render(self, value: Any, field_name: str) -> Any:
        return templating.render(value, self.context(), where=self.where(field_name))

    def log(self, text: str) -> None:
        self.runner.shared.reporter.log(self.record, self.runner.shared.masker.text(text))

    def set_vars(self, values: Mapping[str, Any]) -> None:
        self.scope.vars.update(values)

    async def confirm(self, text: str) -> bool:
        options = self.runner.shared.options
        if options.yes:
            self.log(f"confirmed by --yes: {text}")
            return True
        if not options.interactive:
            raise ConfirmationRequired(
                f"{self.where('confirm')}: '{text}' needs an answer, but there is no terminal; "
                "run with --yes to answer yes")
        import click

        clear = getattr(self.runner.shared.reporter, "before_prompt", None)
        if callable(clear):
            clear()  # a live progress line would run into the question
        return await asyncio.to_thread(click.confirm, text, default=False)

    async def sleep(self, seconds: float) -> None:
        await self.runner.shared.sleep(seconds)

    def ui_link(self, workflow_id: str, run_id: str | None) -> str | None:
        options = self.runner.shared.options
        return ui_link(options.ui_url, options.namespace, workflow_id, run_id)


class Runner:
    """Runs one playbook (and, through ``include``, the playbooks it includes)."""

    def __init__(self, playbook: Playbook, inputs: Mapping[str, Any], shared: Shared,
                 *, prefix: str = "", depth: int = 0) -> None:
        self.playbook = playbook
        self.inputs = dict(inputs)
        self.shared = shared
        self.prefix = prefix
        self.depth = depth
        self.environ = dict(os.environ)
        self.run_info = {"id": shared.result.run_id, "playbook": playbook.name,
                         "started_at": shared.result.started_at}
        self.root = Scope(records={}, stubs={}, vars={})
        self._current: asyncio.Future[Any] | None = None
        self._in_finally = False

    def interrupt(self, *, hard: bool = False) -> None:
        """Ctrl-C: cancel the steps in flight (then ``finally`` runs); a second one (hard)
        also cancels ``finally``."""
        self.shared.interrupted = True
        if self._current is not None and not self._current.done():
            if not self._in_finally or hard:
                self._current.cancel()

    async def client(self) -> Client:
        if self.shared.client is None:
            self.shared.client = await self.shared.client_factory()
        return self.shared.client

    # -- the whole run ---------------------------------------------------------------------

    async def run(self) -> RunResult:
        """Run steps, then ``finally``; never raises for a step's failure."""
        result = self.shared.result
        began = time.monotonic()
        self.shared.reporter.run_started(self.playbook, result)
        try:
            await self._stage(self._body())
        except ConnectionFailed as e:
            # nothing ran, so there is nothing to clean up: finally is not attempted either
            result.error = self.shared.masker.text(str(e))
            self._worst(e.exit_code)
            return self._close(began)
        except PlaybookError as e:
            result.error = self.shared.masker.text(str(e))
            self._worst(e.exit_code)
        self._in_finally = True
        await self._stage(self._finally(self.playbook.finally_steps, "finally"))
        return self._close(began)

    async def _stage(self, coroutine: Awaitable[None]) -> None:
        """Run one stage (the steps, then ``finally``) as a task that :meth:`interrupt` can
        cancel; an interrupt ends the stage, any other cancellation goes on up."""
        self._current = asyncio.ensure_future(coroutine)
        try:
            await self._current
        except asyncio.CancelledError:
            if not self.shared.interrupted:
                raise
            self._interrupted()

    def _close(self, began: float) -> RunResult:
        result = self.shared.result
        result.duration = time.monotonic() - began
        code = self.shared.exit_code
        result.exit_code = code
        result.status = {0: "passed", 1: "failed", 2: "failed", 130: "interrupted"}.get(code, "error")
        self.shared.reporter.run_finished(result)
        return result

    def _interrupted(self) -> None:
        self.shared.interrupted = True
        self.shared.exit_code = 130
        self.shared.result.error = self.shared.result.error or "interrupted"

    def _worst(self, code: int) -> None:
        order = {0: 0, 1: 1, 2: 2, 3: 3, 130: 4}
        if order.get(code, 3) > order.get(self.shared.exit_code, 0):
            self.shared.exit_code = code

    async def _body(self) -> None:
        self._render_vars()
        if not self.playbook.connection.get("lazy") and self.depth == 0 and self._needs_client():
            await self.client()
        await self.sequence(self.playbook.steps, f"{self.prefix}steps", self.root, self.depth)

    def _needs_client(self) -> bool:
        return uses_temporal(self.playbook)

    def _render_vars(self) -> None:
        for name, value in self.playbook.vars.items():
            context = {"inputs": self.inputs, "vars": self.root.vars, "env": self.environ,
                       "steps": self.root.records, "run": self.run_info}
            self.root.vars[name] = templating.render(
                value, context, where=f"{self.playbook.path}:{self.playbook.line_of(('vars', name))}"
                f": vars.{name}")

    # -- sequences ------------------------------------------------------------------------

    async def sequence(self, steps: list[dict[str, Any]], path: str, scope: Scope,
                       depth: int) -> bool:
        """Run steps in order; on a failure, report the rest as skipped. True if all passed."""
        for index, step in enumerate(steps):
            try:
                record = await self.step(step, f"{path}[{index}]", scope, depth)
            except asyncio.CancelledError:
                if self.shared.interrupted:
                    for later, rest in enumerate(steps[index + 1:], start=index + 1):
                        self._skipped(rest, f"{path}[{later}]", depth, "interrupted")
                raise
            if record.status == "failed" and (
                not step.get("continue_on_error") or self.shared.options.fail_fast
            ):
                for later, rest in enumerate(steps[index + 1:], start=index + 1):
                    self._skipped(rest, f"{path}[{later}]", depth, "an earlier step failed")
                return False
        return True

    async def _finally(self, steps: list[dict[str, Any]], path: str) -> None:
        """Each cleanup step regardless of the others; a second interrupt stops them."""
        for index, step in enumerate(steps):
            try:
                await self.step(step, f"{self.prefix}{path}[{index}]", self.root, self.depth,
                                in_finally=True)
            except asyncio.CancelledError:
                for later, rest in enumerate(steps[index + 1:], start=index + 1):
                    self._skipped(rest, f"{self.prefix}{path}[{later}]", self.depth,
                                  "interrupted")
                raise

    def _new_record(self, step: Mapping[str, Any], path: str, depth: int) -> StepRecord:
        action = action_of(step)
        spec = step[action]
        target = spec.get("workflow") if isinstance(spec, Mapping) else None
        name = step.get("name") or (f"{action} {target}" if target else
                                    f"{action} {step['id']}" if step.get("id") else action)
        line = self.playbook.line_of(self._source_path(path))
        record = StepRecord(path=path, action=action, name=str(name), id=step.get("id"),
                            line=line, depth=depth)
        self.shared.result.records.append(record)
        return record

    def _source_path(self, path: str) -> tuple[str | int, ...]:
        """``steps[2].foreach[7].steps[0]`` -> ("steps", 2, "foreach", "steps", 0)."""
        out: list[str | int] = []
        for part in path[len(self.prefix):].split("."):
            name, _, rest = part.partition("[")
            if name in ("foreach", "parallel"):
                out.append(name)
                continue
            if name == "include":
                break
            out.append(name)
            if rest and name != "foreach":
                out.append(int(rest.rstrip("]")))
        return tuple(out)

    def _skipped(self, step: Mapping[str, Any], path: str, depth: int, reason: str) -> StepRecord:
        record = self._new_record(step, path, depth)
        record.status, record.reason = "skipped", reason
        self.shared.reporter.step_finished(record)
        return record

    # -- one step -------------------------------------------------------------------------

    def _selected(self, step: Mapping[str, Any], scope: Scope, *, in_finally: bool) -> str | None:
        """Why ``--tags``/``--skip-tags`` leave this step out, or None.

        A step's tags are its own and its enclosing control steps'. ``--skip-tags`` skips a
        step whose tags, or whose playbook's tags, match. ``--tags`` runs a playbook whose
        own tags match whole; otherwise it runs the steps whose tags match and every
        untagged step (the setup the tagged ones need). ``finally`` steps are cleanup:
        ``--tags`` never leaves them out (they are skipped anyway when their workflow was
        never created)."""
        own = set(step.get("tags") or ()) | scope.tags
        playbook_tags = set(self.playbook.tags)
        options = self.shared.options
        skipped = options.skip_tags & (own | playbook_tags)
        if skipped:
            return f"skipped by --skip-tags ({', '.join(sorted(skipped))})"
        if (options.tags and own and not in_finally and not options.tags & own
                and not options.tags & playbook_tags):
            return "not selected by --tags"
        return None

    async def step(self, step: Mapping[str, Any], path: str, scope: Scope, depth: int, *,
                   in_finally: bool = False) -> StepRecord:
        record = self._new_record(step, path, depth)
        action = record.action
        env = StepEnv(self, scope, record, step)
        reason = self._selected(step, scope, in_finally=in_finally)
        try:
            if reason is None and "when" in step and not templating.truthy(env.evaluate(step["when"])):
                reason = f"when was false ({step['when']})"
        except PlaybookError as e:
            return self._finish(record, scope, step, Outcome(action, error=e))
        spec = step[action]
        target = spec.get("workflow") if isinstance(spec, Mapping) else None
        if reason is None and in_finally and isinstance(target, str) and target not in scope.stubs:
            reason = f"workflow '{target}' was never created in this run"
        if reason is not None:
            record.status, record.reason = "skipped", reason
            self.shared.reporter.step_finished(record)
            return record
        record.started_at = now_iso()
        self.shared.reporter.step_started(record)
        began = time.monotonic()
        try:
            timeout = step.get("timeout")
            attempts = self._attempts(step, action, env, scope, path, depth)
            if timeout is not None:
                seconds = parse_duration(env.render(timeout, "timeout")).total_seconds()
                try:
                    outcome = await asyncio.wait_for(attempts, seconds)
                except asyncio.TimeoutError:
                    outcome = Outcome(action, error=PlaybookError(
                        f"{env.where('timeout')}: the step did not finish within "
                        f"{format_duration(seconds)}" + self._hint(record)))
            else:
                outcome = await attempts
        except asyncio.CancelledError:
            record.duration = time.monotonic() - began
            record.status, record.reason = "canceled", "interrupted" if self.shared.interrupted \
                else "canceled: a sibling failed"
            self._mask_ids(record)
            self.shared.reporter.step_finished(record)
            raise
        except ConfirmationRequired as e:
            outcome = Outcome(action, error=e)
            record.reason = "needs --yes"
        record.duration = time.monotonic() - began
        return self._finish(record, scope, step, outcome)

    def _hint(self, record: StepRecord) -> str:
        if record.workflow_id:
            return (f" (workflow '{record.workflow_id}'; is a worker polling its task queue, and "
                    "were its arguments right?)")
        return ""

    def _mask_ids(self, record: StepRecord) -> None:
        """A workflow id rendered from a secret input must not show it either."""
        masker = self.shared.masker
        if masker and record.workflow_id:
            record.workflow_id = masker.text(record.workflow_id)
            record.ui_link = masker.text(record.ui_link) if record.ui_link else None

    def _finish(self, record: StepRecord, scope: Scope, step: Mapping[str, Any],
                outcome: Outcome) -> StepRecord:
        expect = step.get("expect")
        masker = self.shared.masker
        self._mask_ids(record)
        record.result = masker.data(outcome.result)
        record.error = masker.data(outcome.error_record())
        if expect is not None:
            problems = judge(expect, outcome)
            record.status = "failed" if problems else "passed"
            if problems:
                record.error = {"type": "ExpectationFailed",
                                "message": masker.text("expectation not met: " + "; ".join(problems)),
                                "details": record.error}
        else:
            record.status = "passed" if outcome.ok else "failed"
        if record.status == "failed" and not (step.get("continue_on_error")
                                              and not self.shared.options.fail_fast):
            code = getattr(outcome.error, "exit_code", 1) if outcome.error else 1
            self._worst(code if code in (1, 2, 3) else 1)
        if record.id:
            scope.records[record.id] = record.view()
        self.shared.reporter.step_finished(record)
        return record

    async def _attempts(self, step: Mapping[str, Any], action: str, env: StepEnv, scope: Scope,
                        path: str, depth: int) -> Outcome:
        retry = step.get("retry")
        if not retry:
            env.record.attempts = 1
            return await self._attempt(step, action, env, scope, path, depth)
        retry = env.render(retry, "retry") if not isinstance(retry, Mapping) else retry
        settings = {k: parse_duration(env.render(retry.get(k, v), f"retry.{k}")).total_seconds()
                    for k, v in RETRY_DEFAULTS.items() if k != "backoff"}
        backoff = float(env.render(retry.get("backoff", 1.0), "retry.backoff"))
        limit = retry.get("attempts")
        until = retry.get("until")
        deadline = time.monotonic() + settings["timeout"]
        wait = settings["interval"]
        count = 0
        while True:
            count += 1
            env.record.attempts = count
            outcome = await self._attempt(step, action, env, scope, path, depth)
            done, last_problem = self._attempt_done(step, outcome, until, env)
            if done:
                return outcome
            if (limit is not None and count >= int(limit)) or time.monotonic() + wait > deadline:
                if until is not None and outcome.ok:
                    shown = repr(outcome.result)
                    shown = shown if len(shown) <= 300 else shown[:297] + "..."
                    return Outcome(action, result=outcome.result, error=PlaybookError(
                        f"retry gave up after {count} attempt{'s' if count != 1 else ''}: "
                        f"until '{until}' never held{last_problem}; last result: {shown}"))
                return outcome
            await asyncio.sleep(wait)
            wait *= backoff

    def _attempt_done(self, step: Mapping[str, Any], outcome: Outcome, until: str | None,
                      env: StepEnv) -> tuple[bool, str]:
        if until is not None:
            if not outcome.ok:
                return False, ""
            env.extra = {"result": outcome.result}
            try:
                return templating.truthy(env.evaluate(until)), ""
            except TemplateError as e:
                return False, f" ({e})"
            finally:
                env.extra = {}
        if step.get("expect") is not None:
            return not judge(step["expect"], outcome), ""
        return outcome.ok, ""

    async def _attempt(self, step: Mapping[str, Any], action: str, env: StepEnv, scope: Scope,
                       path: str, depth: int) -> Outcome:
        try:
            if action == "parallel":
                return Outcome(action, result=await self._parallel(step, env, scope, path, depth))
            if action == "foreach":
                return Outcome(action, result=await self._foreach(step, env, scope, path, depth))
            if action == "include":
                return Outcome(action, result=await self._include(step, env, path, depth))
            raw = step[action]
            spec = raw if action in UNRENDERED else env.render(raw, action)
            env.record.request = self.shared.masker.data({action: spec})
            return Outcome(action, result=await REGISTRY[action](Call(action, spec, env.record, env)))
        except (ConfirmationRequired, ConnectionFailed):
            raise
        except PlaybookError as e:
            return Outcome(action, error=e)
        except (ValueError, TypeError, KeyError, LookupError, OSError) as e:
            return Outcome(action, error=PlaybookError(f"{env.where(action)}: {type(e).__name__}: {e}"))

    # -- nested steps ---------------------------------------------------------------------

    async def _parallel(self, step: Mapping[str, Any], env: StepEnv, scope: Scope, path: str,
                        depth: int) -> Any:
        spec = step["parallel"]
        branches: list[dict[str, Any]] = spec["steps"]
        limit = int(env.render(spec.get("max_concurrency", len(branches)) or len(branches),
                               "parallel.max_concurrency"))
        gate = asyncio.Semaphore(max(1, limit))

        async def branch(index: int, branch_step: dict[str, Any]) -> StepRecord:
            async with gate:
                record = await self.step(branch_step, f"{path}.parallel.steps[{index}]",
                                         scope.tagged(step.get("tags")), depth + 1)
            if record.status == "failed" and not branch_step.get("continue_on_error"):
                raise _BranchFailed(record)
            return record

        tasks = [asyncio.ensure_future(branch(i, s)) for i, s in enumerate(branches)]
        failed = await _until_failure(tasks)
        if failed is not None and failed.record is not None:
            record = failed.record
            raise PlaybookError(f"parallel branch '{record.id or record.name}' ({record.path}) failed")
        return {r.id: r.result for r in (t.result() for t in tasks) if r.id}

    async def _foreach(self, step: Mapping[str, Any], env: StepEnv, scope: Scope, path: str,
                       depth: int) -> Any:
        spec = step["foreach"]
        items = env.render(spec["items"], "foreach.items")
        if isinstance(items, Mapping):
            items = [{"key": k, "value": v} for k, v in items.items()]
        if not isinstance(items, list):
            raise PlaybookError(f"{env.where('foreach.items')}: items must be a list, not "
                                f"{type(items).__name__} ({items!r:.80})")
        name = spec.get("as", "item")
        concurrency = max(1, int(env.render(spec.get("concurrency", 1), "foreach.concurrency")))
        inner: list[dict[str, Any]] = spec["steps"]
        results: list[Any] = [None] * len(items)
        failures: list[str] = []
        queue = iter(enumerate(items))

        async def worker() -> None:
            for index, item in queue:
                child = scope.tagged(step.get("tags")).child(**{name: item, "index": index})
                ok = await self.sequence(inner, f"{path}.foreach[{index}].steps", child, depth + 1)
                own = child.records.maps[0] if isinstance(child.records, ChainMap) else {}
                results[index] = {k: v["result"] for k, v in own.items()}
                if not ok:
                    failures.append(f"item {index}")
                    raise _BranchFailed(None)

        workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(items)))]
        await _until_failure(workers)
        if failures:
            raise PlaybookError(f"foreach failed at {failures[0]} (steps under {path}.foreach)")
        return results

    async def _include(self, step: Mapping[str, Any], env: StepEnv, path: str, depth: int) -> Any:
        """Run an included playbook (validated when this one was loaded) with its own
        inputs, vars and records; its ``finally`` runs when it ends, interrupted or not."""
        from playbook.inputs import resolve_inputs, secret_names
        from playbook.loader import load

        spec = step["include"]
        if self.shared.include_depth >= 10:
            raise PlaybookError(f"{env.where('include')}: includes nest more than 10 deep")
        relative = str(spec["playbook"])
        target = Path(self.playbook.path).parent / relative
        inputs = env.render(spec.get("inputs") or {}, "include.inputs")
        included = getattr(self.playbook, "includes", {})
        playbook = included[relative] if relative in included else load(target)
        resolved = resolve_inputs(playbook.inputs, inputs, from_cli=False)
        for secret in secret_names(playbook.inputs):
            self.shared.masker.add(resolved.get(secret))
        child = Runner(playbook, resolved, self.shared, prefix=f"{path}.include.", depth=depth + 1)
        child.root = child.root.tagged(env.scope.tags | frozenset(step.get("tags") or ()))
        self.shared.include_depth += 1
        try:
            child._render_vars()
            try:
                ok = await child.sequence(playbook.steps, f"{child.prefix}steps", child.root,
                                          depth + 1)
            except asyncio.CancelledError:
                await child._finally(playbook.finally_steps, "finally")
                raise
            await child._finally(playbook.finally_steps, "finally")
        finally:
            self.shared.include_depth -= 1
        records = {k: v for k, v in child.root.records.items()}
        if not ok:
            raise PlaybookError(f"included playbook {target} failed")
        return records


class _BranchFailed(Exception):
    """A parallel branch or a foreach iteration failed: its siblings are cancelled."""

    def __init__(self, record: StepRecord | None) -> None:
        self.record = record
        super().__init__()


async def _until_failure(tasks: Sequence[asyncio.Future[Any]]) -> _BranchFailed | None:
    """Wait for every task; on the first failure cancel the others and return it."""
    failure: _BranchFailed | None = None
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if isinstance(error, _BranchFailed):
                    failure = failure or error
                elif error is not None:
                    raise error
            if failure is not None and pending:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                pending = set()
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return failure


def uses_temporal(playbook: Playbook) -> bool:
    """Whether running this playbook talks to Temporal at all."""
    return _uses_temporal([*playbook.steps, *playbook.finally_steps])


def _uses_temporal(steps: list[dict[str, Any]]) -> bool:
    """Whether any step (nested ones too) talks to Temporal; includes are assumed to."""
    for step in steps:
        action = action_of(step)
        if action in WORKFLOW_ACTIONS or action == "include":
            return True
        spec = step[action]
        if action in ("parallel", "foreach") and _uses_temporal(spec["steps"]):
            return True
    return False


def new_result(playbook: Playbook, *, address: str | None = None,
               namespace: str | None = None) -> RunResult:
    return RunResult(playbook=playbook.name, path=playbook.path, run_id=uuid.uuid4().hex[:12],
                     started_at=now_iso(), address=address, namespace=namespace)


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
