"""The interpreter: the run's two stages (steps, then ``finally``), sequences, and one
step's life: selection, ``timeout``, attempts, ``expect``, its record. The runner alone
writes records; actions come from the registry it is given (``Shared.actions``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from playbook import bugs, deadline, templating
from playbook.actions import UNRENDERED, Call, Done
from playbook.actions.base import ConfirmationRequired
from playbook.durations import format_duration
from playbook.errors import ConnectionFailed, PlaybookError
from playbook.expect import Outcome, judge
from playbook.records import RunResult, StepRecord, error_record
from playbook.runner import closing, dry_run, literal, nested, preflight, retry, select, values
from playbook.runner.bugs import BugFound
from playbook.runner.env import Scope, StepEnv, template_context
from playbook.runner.state import Shared, ui_link
from playbook.secrets import environment_secrets, masked_logs

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.model import Playbook, Step

_STATUS = {0: "passed", 1: "failed", 2: "failed", 130: "interrupted"}


class Runner:
    """Runs one playbook (and, through ``include``, the playbooks it includes)."""

    def __init__(
        self,
        playbook: Playbook,
        inputs: Mapping[str, Any],
        shared: Shared,
        *,
        prefix: str = "",
        depth: int = 0,
    ) -> None:
        self.playbook = playbook
        self.inputs = dict(inputs)
        self.shared = shared
        self.prefix = prefix
        self.depth = depth
        self.environ = dict(os.environ)
        # the environment's own secrets, also for a playbook that reads them as env.NAME
        for secret in environment_secrets(self.environ):
            shared.masker.add(secret)
        shared.result.masker = shared.masker  # the report writers mask with it too
        self.run_info = {
            "id": shared.result.run_id,
            "playbook": playbook.name,
            "started_at": shared.result.started_at,
        }
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
        """Run steps, then ``finally``; never raises for a step's failure. What the process
        logs meanwhile (the in-process worker's lines) is masked with the run's secrets."""
        with masked_logs(self.shared.masker):
            return await self._run()

    async def _run(self) -> RunResult:
        shared = self.shared
        began = shared.clock.monotonic()
        shared.reporter.run_started(self.playbook, shared.result)
        try:
            await self._stage(self._body())
        except ConnectionFailed as e:
            # nothing ran, so there is nothing to clean up: finally is not attempted either
            self._failed(str(e), e.exit_code)
            return self._close(began)
        except PlaybookError as e:
            self._failed(str(e), e.exit_code)
        except BugFound as e:
            self._failed(e.message, bugs.EXIT_CODE)
        except Exception as e:  # a bug outside any step (rendering vars, connecting...)
            self._failed(
                bugs.describe(e, f"playbook {self.playbook.path}", self.shared.masker),
                bugs.EXIT_CODE,
            )
        self._in_finally = True
        finished = await self._stage(nested.cleanup(self, self.playbook.finally_steps, "finally"))
        await self._stage(closing.after_run(self, finished=finished))  # cleanup, verify
        return self._close(began)

    def _failed(self, message: str, code: int) -> None:
        result = self.shared.result
        result.error = result.error or self.shared.masker.text(message)
        self.shared.worst(code)

    async def _stage(self, coroutine: Awaitable[None]) -> bool:
        """Run one stage (the steps, then ``finally``) as a task that :meth:`interrupt` can
        cancel; an interrupt ends the stage (False), any other cancellation goes on up."""
        self._current = asyncio.ensure_future(coroutine)
        try:
            await self._current
        except asyncio.CancelledError:
            if not self.shared.interrupted:
                raise
            self.shared.interrupted = True
            self.shared.exit_code = 130
            self.shared.result.error = self.shared.result.error or "interrupted"
            return False
        return True

    def _close(self, began: float) -> RunResult:
        shared = self.shared
        result = shared.result
        result.duration = shared.clock.monotonic() - began
        result.exit_code = shared.exit_code
        result.status = _STATUS.get(shared.exit_code, "error")
        shared.reporter.run_finished(result)
        return result

    async def _body(self) -> None:
        self.render_vars()
        if (
            not self.playbook.connection.get("lazy")
            and self.depth == 0
            and (self.playbook.uses_temporal)
        ):
            await self.client()
            await preflight.check(self)
        await self.sequence(self.playbook.steps, f"{self.prefix}steps", self.root, self.depth)

    def render_vars(self) -> None:
        for name, value in self.playbook.vars.items():
            context = template_context(
                self.inputs, self.root.vars, self.environ, self.root.records, self.run_info
            )
            line = self.playbook.line_of(("vars", name))
            self.root.vars[name] = templating.render(
                value, context, where=f"{self.playbook.path}:{line}: vars.{name}"
            )

    # -- sequences ------------------------------------------------------------------------

    async def sequence(self, steps: Sequence[Step], path: str, scope: Scope, depth: int, *,
                       first: int = 0, stop: int | None = None) -> bool:  # fmt: skip
        """Run steps in order (from ``first``, before ``stop``); on a failure, report the
        rest as skipped. True if all passed."""
        for index in range(first, len(steps) if stop is None else stop):
            step = steps[index]
            try:
                record = await self.step(step, f"{path}[{index}]", scope, depth)
            except asyncio.CancelledError:
                if self.shared.interrupted:
                    self.skip_rest(steps, index, path, depth, "interrupted")
                raise
            except BugFound:
                self.skip_rest(steps, index, path, depth, "an internal error stopped the run")
                raise
            except ConnectionFailed:
                self.skip_rest(steps, index, path, depth, "the server could not be reached")
                raise
            if record.status == "failed" and (
                not record.continue_on_error or self.shared.options.fail_fast
            ):
                self.skip_rest(steps, index, path, depth, "an earlier step failed")
                return False
        return True

    def skip_rest(
        self, steps: Sequence[Step], index: int, path: str, depth: int, reason: str
    ) -> None:
        """Record the steps after ``index`` as skipped."""
        for later in range(index + 1, len(steps)):
            record = self._new_record(steps[later], f"{path}[{later}]", depth)
            record.status, record.reason = "skipped", reason
            self.shared.reporter.step_finished(record)

    def _new_record(self, step: Step, path: str, depth: int) -> StepRecord:
        record = StepRecord(
            path=path,
            action=step.kind,
            name=step.name,
            id=step.id,
            line=step.line,
            depth=depth,
            file=self.playbook.path,
        )
        self.shared.result.records.append(record)
        return record

    # -- one step -------------------------------------------------------------------------

    async def step(
        self, step: Step, path: str, scope: Scope, depth: int, *, in_finally: bool = False
    ) -> StepRecord:
        record = self._new_record(step, path, depth)
        env = StepEnv(self, scope, record, step)
        shared = self.shared
        try:
            reason = select.skip_reason(step, env, scope, in_finally=in_finally)
            if reason is None:
                record.continue_on_error = values.flag(
                    env, step.continue_on_error, "continue_on_error"
                )
        except PlaybookError as e:
            return self._finish(record, env, step, Outcome(step.kind, error=e))
        except Exception as e:
            raise self._bug(record, e) from e
        if reason is not None:
            record.status, record.reason = "skipped", reason
            shared.reporter.step_finished(record)
            return record
        if shared.options.dry_run and (why := dry_run.held(step, scope)) is not None:
            self._aim(record, scope, step)
            failed = dry_run.hold(record, env, step, why)  # (reported, unless it failed)
            return record if failed is None else self._finish(record, env, step, failed)
        self._aim(record, scope, step)
        record.started_at = shared.clock.iso()
        shared.reporter.step_started(record)
        began = shared.clock.monotonic()
        try:
            outcome = await self._timed(step, env, scope, path, depth)
        except asyncio.CancelledError:
            record.duration = shared.clock.monotonic() - began
            record.status = "canceled"
            record.reason = "interrupted" if shared.interrupted else "canceled: a sibling failed"
            self._mask_ids(record)
            shared.reporter.step_finished(record)
            raise
        except ConfirmationRequired as e:
            outcome = Outcome(step.kind, error=e)
            record.reason = "needs --yes"
        except BugFound as e:
            record.duration = shared.clock.monotonic() - began
            raise self._bug(record, e) from e
        except ConnectionFailed as e:  # a lazy client met a server it cannot reach
            record.duration = shared.clock.monotonic() - began
            self._finish(record, env, step, Outcome(step.kind, error=e))
            raise
        except Exception as e:
            record.duration = shared.clock.monotonic() - began
            raise self._bug(record, e) from e
        record.duration = shared.clock.monotonic() - began
        return self._finish(record, env, step, outcome)

    async def _timed(
        self, step: Step, env: StepEnv, scope: Scope, path: str, depth: int
    ) -> Outcome:
        """The step's attempts, within its ``timeout``."""
        try:
            seconds = None if step.timeout is None else values.seconds(env, step.timeout, "timeout")
            attempts = retry.attempts(
                step, env, lambda: self._attempt(step, env, scope, path, depth)
            )
            if seconds is None:
                return await attempts
            try:
                with deadline.within(seconds):  # every server call in it too, however deep
                    return await asyncio.wait_for(attempts, seconds)
            except asyncio.TimeoutError:
                return Outcome(
                    step.kind,
                    error=PlaybookError(
                        f"{env.where('timeout')}: the step did not finish within "
                        f"{format_duration(seconds)}"
                        + await _stall_hint(
                            env.scope.stubs.get(step.target or ""), env.record.workflow_id
                        )
                    ),
                )
        except (ConfirmationRequired, ConnectionFailed):
            raise
        except PlaybookError as e:
            return Outcome(step.kind, error=e)

    def _bug(self, record: StepRecord, error: BaseException) -> BugFound:
        """Record a bug of ours on the step that met it (once: an enclosing step that sees
        it come up from a nested one is marked too, with a pointer to it)."""
        if isinstance(error, BugFound):
            message = f"internal error in a nested step ({error.record.path})"
        else:
            message = self.shared.masker.text(
                bugs.describe(error, f"step {record.path}", self.shared.masker)
            )
        record.status = "error"
        record.error = error_record("InternalError", message)
        self._failed(error.message if isinstance(error, BugFound) else message, bugs.EXIT_CODE)
        self._mask_ids(record)
        self.shared.reporter.step_finished(record)
        return error if isinstance(error, BugFound) else BugFound(record, message)

    def _aim(self, record: StepRecord, scope: Scope, step: Step) -> None:
        """A step that targets a created workflow names it, also when it then fails."""
        stub = scope.stubs.get(step.target) if step.target is not None else None
        if stub is not None:  # the latest run known of its chain (continue-as-new, reset)
            self._touched(record, stub.workflow_id, getattr(stub, "current_run_id", stub.run_id))

    def _touched(self, record: StepRecord, workflow_id: str | None, run_id: str | None) -> None:
        if workflow_id is None:
            return
        options = self.shared.options
        record.workflow_id, record.run_id = workflow_id, run_id
        record.ui_link = ui_link(options.ui_url, options.namespace, workflow_id, run_id)

    def _mask_ids(self, record: StepRecord) -> None:
        """A workflow id rendered from a secret input must not show it either."""
        masker = self.shared.masker
        if masker and record.workflow_id:
            record.workflow_id = masker.text(record.workflow_id)
            record.ui_link = masker.text(record.ui_link) if record.ui_link else None

    def _finish(self, record: StepRecord, env: StepEnv, step: Step, outcome: Outcome) -> StepRecord:
        shared = self.shared
        masker = shared.masker
        scope = env.scope
        workflow_id = record.workflow_id  # (before masking: the worker log knows it so)
        if step.expect is not None:  # (verify: what it expected of its workflow is no surprise)
            shared.ledger.expect(record.workflow_id)
        self._mask_ids(record)
        record.result = masker.data(outcome.result)
        record.error = masker.data(outcome.error_record())
        if step.expect is not None:
            try:
                problems = judge(values.expectation(env, step.expect), outcome)
            except PlaybookError as e:
                problems = [str(e)]
            record.status = "failed" if problems else "passed"
            if problems:
                said = masker.text("expectation not met: " + "; ".join(problems))
                record.error = error_record("ExpectationFailed", said, record.error)
        else:
            record.status = "passed" if outcome.ok else "failed"
        if record.status == "failed" and workflow_id and shared.worker_quote and record.error:
            record.error["message"] += shared.worker_quote(workflow_id)
        if record.status == "failed" and not (
            record.continue_on_error and not shared.options.fail_fast
        ):
            code = getattr(outcome.error, "exit_code", 1) if outcome.error else 1
            shared.worst(code if code in (1, 2, 3) else 1)
        if record.id:
            scope.records[record.id] = record.view()
        shared.reporter.step_finished(record)
        return record

    async def foreach(self, step: Step, env: StepEnv, scope: Scope, path: str, depth: int) -> Any:
        """A ``foreach`` step's value (a durable run shards a long one: playbook.durable)."""
        return await nested.foreach(self, step, env, scope, path, depth)

    async def _attempt(
        self, step: Step, env: StepEnv, scope: Scope, path: str, depth: int
    ) -> Outcome:
        kind = step.kind
        try:
            if kind == "parallel":
                return Outcome(
                    kind, result=await nested.parallel(self, step, env, scope, path, depth)
                )
            if kind == "foreach":
                return Outcome(kind, result=await self.foreach(step, env, scope, path, depth))
            if kind == "include":
                return Outcome(kind, result=await nested.include(self, step, env, path, depth))
            spec = step.fields if kind in UNRENDERED else literal.rendered(env, step.fields, kind)
            env.record.request = self.shared.masker.data({kind: spec})
            call = self.shared.actions[kind](Call(kind, spec, env))
            value = await self.shared.ledger.watch(kind, env.record.workflow_id, call)
            if isinstance(value, Done):
                self._touched(env.record, value.workflow_id, value.run_id)
                env.record.reason = value.note or env.record.reason
                value = value.value
            return Outcome(kind, result=value)
        except (ConfirmationRequired, ConnectionFailed):
            raise
        except PlaybookError as e:
            return Outcome(kind, error=e)


async def _stall_hint(*args: Any) -> str:
    """What the server knows of a stalled workflow (imports the client core: only when a
    step timed out on one)."""
    from playbook.core import stall_hint

    return await stall_hint(*args)
