"""``retry``: attempts of one step until ``until`` holds (or ``expect`` is met, or the
action succeeds), within ``timeout`` and ``attempts``; waits go through the run's sleep
and deadlines through its clock, so time-skipping and fakes apply to them. ``timeout``
bounds the attempts together: one still running when it runs out is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from playbook import templating
from playbook.durations import format_duration
from playbook.errors import PlaybookError, TemplateError
from playbook.expect import Outcome, judge
from playbook.runner.values import count, expectation, number, seconds

if TYPE_CHECKING:
    from playbook.model import Step
    from playbook.runner.env import StepEnv

RETRY_DEFAULTS = {"timeout": 30.0, "interval": 0.5, "backoff": 1.0}


async def attempts(step: Step, env: StepEnv, attempt: Callable[[], Awaitable[Outcome]]) -> Outcome:
    """Run ``attempt`` once, or as ``retry`` says; the last outcome."""
    record = env.record
    if not step.retry:
        record.attempts = 1
        return await attempt()
    retry: Mapping[str, Any] = step.retry  # the schema allows only a mapping here
    timeout = seconds(env, retry.get("timeout", RETRY_DEFAULTS["timeout"]), "retry.timeout")
    wait = seconds(env, retry.get("interval", RETRY_DEFAULTS["interval"]), "retry.interval")
    backoff = number(env, retry.get("backoff", RETRY_DEFAULTS["backoff"]), "retry.backoff")
    limit = count(env, retry["attempts"], "retry.attempts") if "attempts" in retry else None
    until = retry.get("until")
    clock = env.runner.shared.clock
    deadline = clock.monotonic() + timeout
    tries = 0
    while True:
        tries += 1
        record.attempts = tries
        outcome = await _within(attempt, deadline - clock.monotonic())
        if outcome is None:
            stub = env.scope.stubs.get(step.target or "")
            return Outcome(
                step.kind,
                error=PlaybookError(
                    f"{env.where('retry.timeout')}: retry gave up after {tries} "
                    f"attempt{'s' if tries != 1 else ''}: its timeout of "
                    f"{format_duration(timeout)} ran out during the last one"
                    + await _stall_hint(stub, record.workflow_id)
                ),
            )
        done, last_problem = _done(step, outcome, until, env)
        if done:
            return outcome
        if (limit is not None and tries >= limit) or clock.monotonic() + wait > deadline:
            if until is not None and outcome.ok:
                shown = repr(outcome.result)
                shown = shown if len(shown) <= 300 else shown[:297] + "..."
                operands = _operands(until, outcome.result, env)
                return Outcome(
                    outcome.action,
                    result=outcome.result,
                    error=PlaybookError(
                        f"retry gave up after {tries} attempt{'s' if tries != 1 else ''}: "
                        f"until '{until}' never held{operands}{last_problem}; "
                        f"last result: {shown}"
                    ),
                )
            return outcome
        await env.runner.shared.sleep(wait)
        wait *= backoff


async def _within(attempt: Callable[[], Awaitable[Outcome]], seconds: float) -> Outcome | None:
    """``attempt()``'s outcome, or ``None`` if it did not finish within ``seconds`` (then it is
    cancelled). Not ``wait_for``: a timeout from inside the attempt (the step's own) must not
    pass for the retry's."""
    task = asyncio.ensure_future(attempt())
    ran_out = True
    try:
        finished, _ = await asyncio.wait({task}, timeout=max(seconds, 0))
        ran_out = not finished
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait({task})  # gone before we go on, whatever it raised
    if ran_out:
        if not task.cancelled():
            task.exception()  # what it raised on its way out is not news
        return None
    return task.result()


def _operands(until: str, result: Any, env: StepEnv) -> str:
    """`` (3 == 9)``: the values of ``until``'s comparison, as a failing ``assert`` shows
    them; empty when it is no comparison or they cannot be evaluated."""
    from playbook.actions.control import show, split_comparison

    parts = split_comparison(until)
    if parts is None:
        return ""
    left, op, right = parts
    env.extra = {"result": result}
    try:
        return f"  ({show(env.evaluate(left))} {op} {show(env.evaluate(right))})"
    except PlaybookError:
        return ""
    finally:
        env.extra = {}


def _done(step: Step, outcome: Outcome, until: str | None, env: StepEnv) -> tuple[bool, str]:
    """Whether to stop retrying, and why ``until`` could not be evaluated (if so)."""
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
    if step.expect is not None:
        try:
            return not judge(expectation(env, step.expect), outcome), ""
        except PlaybookError as e:
            return False, f" ({e})"
    return outcome.ok, ""


async def _stall_hint(*args: Any) -> str:
    """What the server knows of a stalled workflow (imports the client core: only when a
    step timed out on one)."""
    from playbook.core import stall_hint

    return await stall_hint(*args)
