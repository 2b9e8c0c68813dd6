"""Run-level hygiene (SPEC section 10), the runner's side: which of ``preflight``,
``cleanup`` and ``verify`` a run does (the playbook's keys, overridden by run options), the
:class:`Ledger` of the workflows the run started (from its actions' results, never from
visibility) and of those a step expected to end, and the two stages after ``finally``:
``cleanup``, then ``verify``, each reported as one summary record (path ``cleanup`` /
``verify``). The server is asked through :class:`ServerChecks`: the client core's
(:class:`CoreChecks`) in a real run, a fake in unit tests; without one there is nothing
to ask, and the stages say so.

A workflow counts as this run's when the last run of its chain carries the run's id in
its memo (every ``create`` of a new workflow puts it there): a ``signal_with_start`` that
found the workflow already running did not start it, and is left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from playbook import bugs
from playbook.actions.base import Done
from playbook.errors import PlaybookError
from playbook.records import StepRecord

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.model import Playbook
    from playbook.runner.interpreter import Runner
    from playbook.runner.state import RunOptions

STARTING = {"start", "signal_with_start", "update_with_start"}
"""Actions whose :class:`~playbook.actions.Done` names a workflow chain they started."""
ENDING = {"cancel", "terminate"}
"""Actions whose target, should it end canceled or terminated, was expected to."""
UNEXPECTED = ("failed", "timed_out", "terminated")
"""The ends ``verify`` objects to, when no step expected them."""
CLEANUP_MODES = ("none", "cancel", "terminate")
AT_ONCE = 16
"""Workflows asked about (or ended) at the same time."""


@dataclass(frozen=True)
class Settings:
    preflight: bool
    cleanup: str
    verify: bool


def settings(playbook: Playbook, options: RunOptions) -> Settings:
    """The run's choice: a run option given wins over the playbook's key."""
    return Settings(
        preflight=playbook.preflight if options.preflight is None else options.preflight,
        cleanup=options.cleanup or playbook.cleanup,
        verify=(
            bool(playbook.verify.get("no_failed_workflows"))
            if options.verify is None
            else options.verify
        ),
    )


class ServerChecks(Protocol):
    """What hygiene asks the server."""

    async def preflight(
        self, task_queues: Sequence[str], search_attributes: Sequence[str], own: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """The problems found and the notes on the checks skipped."""

    async def facts(self, workflow_id: str, run_id: str | None) -> Mapping[str, Any] | None:
        """``describe``'s facts of the last run of the chain ``run_id`` started; None when
        the server knows none."""

    async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
        """Cancel or terminate that chain; False if it had closed meanwhile."""


class CoreChecks:
    """The client core's :class:`ServerChecks` (temporalio is imported at the first call:
    an offline run never needs it)."""

    def __init__(self, client_factory: Callable[[], Awaitable[Client]]) -> None:
        self.client_factory = client_factory

    async def preflight(
        self, task_queues: Sequence[str], search_attributes: Sequence[str], own: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        from playbook.core import hygiene

        client = await self.client_factory()
        return await hygiene.preflight(client, task_queues, search_attributes, own)

    async def facts(self, workflow_id: str, run_id: str | None) -> Mapping[str, Any] | None:
        from playbook.core import hygiene

        return await hygiene.facts(await self.client_factory(), workflow_id, run_id)

    async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
        from playbook.core import hygiene

        return await hygiene.end(await self.client_factory(), workflow_id, run_id, mode, reason)


@dataclass
class Ledger:
    """The workflow chains this run started (workflow id, first run id), in order, and the
    workflow ids that a step expected to end (an ``expect``, a ``cancel``/``terminate``,
    ``cleanup``)."""

    started: dict[tuple[str, str | None], None] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)

    def noted(self, action: str, workflow_id: str | None, run_id: str | None) -> None:
        """An action's result: ``action`` reached ``workflow_id`` (run ``run_id``)."""
        if workflow_id is None:
            return
        if action in STARTING:
            self.started.setdefault((workflow_id, run_id), None)
        elif action in ENDING:
            self.expected.add(workflow_id)

    def expect(self, workflow_id: str | None) -> None:
        if workflow_id is not None:
            self.expected.add(workflow_id)

    async def watch(self, action: str, workflow_id: str | None, call: Awaitable[Any]) -> Any:
        """The action's value, noted. A starting action that did not return (cancelled by
        an interrupt mid-request, a timeout, the server failing) may still have started its
        workflow: its id is noted without a run, and the memo decides later."""
        try:
            value = await call
        except BaseException:
            if action in STARTING and workflow_id is not None:
                self.started.setdefault((workflow_id, None), None)
            raise
        if isinstance(value, Done):
            self.noted(action, value.workflow_id, value.run_id)
        return value

    def chains(self) -> list[tuple[str, str | None]]:
        """The chains to ask about: an id noted without a run only when no run of it is
        known (the same workflow, asked about once)."""
        known = {workflow_id for workflow_id, run_id in self.started if run_id is not None}
        return [(w, r) for w, r in self.started if r is not None or w not in known]


# -- the stages after finally ----------------------------------------------------------


async def after_run(runner: Runner, *, finished: bool) -> None:
    """``cleanup``, then ``verify``, as the run asks. ``finished``: whether ``finally``
    ran to its end (a second interrupt stops it, and these with it)."""
    shared = runner.shared
    chosen = settings(runner.playbook, shared.options)
    if chosen.cleanup != "none":
        why = None if finished else "interrupted"
        await _stage(runner, "cleanup", f"cleanup: {chosen.cleanup}", why, _cleanup)
    if chosen.verify:
        why = "interrupted" if shared.interrupted else None
        await _stage(runner, "verify", "verify: no failed workflows", why, _verify)


Body = Callable[["Runner", StepRecord, "ServerChecks | None"], Awaitable[None]]


async def _stage(runner: Runner, action: str, name: str, skip: str | None, body: Body) -> None:
    """One summary record: skipped (``skip`` says why), or run by ``body``; an internal
    error in it is recorded on it (exit 3), as on any step."""
    shared = runner.shared
    record = StepRecord(path=action, action=action, name=name, file=runner.playbook.path)
    shared.result.records.append(record)
    checks = shared.checks
    if skip is None and checks is None and shared.ledger.started:
        skip = "no server to ask in this run"  # (a runner given no checks: nothing to ask)
    if skip is not None:
        record.status, record.reason = "skipped", skip
        shared.reporter.step_finished(record)
        return
    record.started_at = shared.clock.iso()
    shared.reporter.step_started(record)
    began = shared.clock.monotonic()
    try:
        record.status = "passed"
        await body(runner, record, checks)
    except asyncio.CancelledError:
        record.status, record.reason = "canceled", "interrupted"
        raise
    except Exception as e:
        message = bugs.describe(e, f"{action} of playbook {runner.playbook.path}", shared.masker)
        record.status = "error"
        record.error = _error("InternalError", shared.masker.text(message))
        shared.worst(bugs.EXIT_CODE)
        shared.result.error = shared.result.error or message
    finally:
        record.duration = shared.clock.monotonic() - began
        shared.reporter.step_finished(record)


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": None, "non_retryable": None, "causes": []}


def _ours(runner: Runner, facts: Mapping[str, Any] | None) -> bool:
    memo = (facts or {}).get("memo") or {}
    return isinstance(memo, Mapping) and memo.get("playbook_run_id") == runner.shared.result.run_id


def _link(runner: Runner, workflow_id: str, run_id: str | None) -> str | None:
    from playbook.runner.state import ui_link

    options = runner.shared.options
    return ui_link(options.ui_url, options.namespace, workflow_id, run_id)


async def _each(
    chains: Iterable[tuple[str, str | None]],
    one: Callable[[str, str | None], Awaitable[None]],
) -> None:
    gate = asyncio.Semaphore(AT_ONCE)

    async def gated(workflow_id: str, run_id: str | None) -> None:
        async with gate:
            await one(workflow_id, run_id)

    await asyncio.gather(*(gated(w, r) for w, r in chains))


def _in_order(found: list[dict[str, Any]], ledger: Ledger) -> None:
    """Sort what was found about each workflow (asked at once) in the order of the starts."""
    order: dict[str, int] = {}
    for index, (workflow_id, _) in enumerate(ledger.started):
        order.setdefault(workflow_id, index)
    found.sort(key=lambda entry: order[entry["workflow_id"]])


async def _cleanup(runner: Runner, record: StepRecord, checks: ServerChecks | None) -> None:
    shared = runner.shared
    mode = settings(runner.playbook, shared.options).cleanup
    reason = f"cleanup of playbook run {shared.result.run_id} ({runner.playbook.name})"
    ended: list[dict[str, Any]] = []
    closed: list[str] = []
    errors: list[str] = []
    codes: list[int] = []
    not_ours = 0

    async def one(workflow_id: str, run_id: str | None) -> None:
        nonlocal not_ours
        assert checks is not None  # (there is one whenever the run started a workflow)
        try:
            facts = await checks.facts(workflow_id, run_id)
            if not _ours(runner, facts):
                not_ours += 1
                return  # (not started by this run after all: left alone)
            assert facts is not None
            if facts.get("status") == "running" and await checks.end(
                workflow_id, run_id, mode, reason
            ):
                shared.ledger.expect(workflow_id)
                last = facts.get("run_id") or run_id
                link = _link(runner, workflow_id, last)
                ended.append({"workflow_id": workflow_id, "run_id": last, "ui_link": link})
            else:
                closed.append(workflow_id)
        except PlaybookError as e:
            errors.append(f"workflow '{workflow_id}' could not be {_done(mode)}: {e}")
            codes.append(e.exit_code)

    await _each(shared.ledger.chains(), one)
    _in_order(ended, shared.ledger)
    count = len(shared.ledger.chains()) - not_ours
    record.result = shared.masker.data(
        {"mode": mode, "started": count, "ended": ended, "closed": len(closed)}
    )
    record.reason = (
        f"{_done(mode)} {len(ended)} of the {count} workflow{'s' if count != 1 else ''} "
        f"this run started; {len(closed)} had closed"
        if count
        else "this run started no workflow"
    )
    if errors:
        record.status = "failed"
        record.error = _error("CleanupFailed", shared.masker.text("\n".join(errors)))
        for code in codes:
            shared.worst(code if code in (1, 3) else 1)


def _done(mode: str) -> str:
    return "canceled" if mode == "cancel" else "terminated"


async def _verify(runner: Runner, record: StepRecord, checks: ServerChecks | None) -> None:
    shared = runner.shared
    problems: list[dict[str, Any]] = []
    unread: list[str] = []
    checked = 0

    async def one(workflow_id: str, run_id: str | None) -> None:
        nonlocal checked
        assert checks is not None  # (there is one whenever the run started a workflow)
        try:
            facts = await checks.facts(workflow_id, run_id)
        except PlaybookError as e:
            unread.append(f"  workflow '{workflow_id}' could not be checked: {e}")
            return
        if not _ours(runner, facts):
            return
        assert facts is not None
        checked += 1
        status = str(facts.get("status"))
        if status in UNEXPECTED and workflow_id not in shared.ledger.expected:
            last = facts.get("run_id") or run_id
            problems.append(
                {
                    "workflow_id": workflow_id,
                    "run_id": last,
                    "type": facts.get("type"),
                    "status": status,
                    "ui_link": _link(runner, workflow_id, last),
                }
            )

    await _each(shared.ledger.chains(), one)
    _in_order(problems, shared.ledger)
    record.result = shared.masker.data({"checked": checked, "problems": problems})
    record.reason = f"{checked} workflow{'s' if checked != 1 else ''} checked"
    if problems or unread:
        lines = [
            f"  workflow '{p['workflow_id']}' ({p['type']}) {p['status']}: "
            + (p["ui_link"] or f"run {p['run_id']}")
            for p in problems
        ]
        count = len(problems)
        head = (
            f"{count} workflow{'s' if count != 1 else ''} this run started ended badly and no "
            "step expected it"
        )
        record.status = "failed"
        text = "\n".join([head + (":" if lines else ""), *lines, *unread])
        record.error = _error("VerifyFailed", shared.masker.text(text))
        shared.worst(1)
