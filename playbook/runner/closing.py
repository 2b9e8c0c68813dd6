"""The stages after ``finally`` (SPEC section 10): ``cleanup``, then ``verify``, each
reported as one summary record (path ``cleanup`` / ``verify``), over the workflows of the
run's :class:`~playbook.runner.hygiene.Ledger`, asked about through its
:class:`~playbook.runner.hygiene.ServerChecks`. Without one there is nothing to ask, and
the stage says so.

A workflow counts as this run's when the last run of its chain carries the run's id in
its memo (every ``create`` of a new workflow puts it there): a ``signal_with_start`` that
found the workflow already running did not start it, and is left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from playbook import bugs
from playbook.errors import PlaybookError
from playbook.records import StepRecord, error_record
from playbook.runner.hygiene import AT_ONCE, UNEXPECTED, Ledger, ServerChecks, settings

if TYPE_CHECKING:
    from playbook.runner.interpreter import Runner


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
        record.error = error_record("InternalError", shared.masker.text(message))
        shared.worst(bugs.EXIT_CODE)
        shared.result.error = shared.result.error or message
    finally:
        record.duration = shared.clock.monotonic() - began
        shared.reporter.step_finished(record)


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
        record.error = error_record("CleanupFailed", shared.masker.text("\n".join(errors)))
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
        record.error = error_record("VerifyFailed", shared.masker.text(text))
        shared.worst(1)
