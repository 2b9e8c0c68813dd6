"""Continue-as-new of the interpreter: between two top-level steps, when the run's history
has grown past :data:`CONTINUE_AT` events (or Temporal suggests it), the run continues as
new with its state, and the new run goes on with the next step. So a run's histories stay
bounded however many steps it has; a long loop's own calls are in its shards (.shards).

The state is what the steps after it can see or the reports will show: the records made
so far and the order they ended, the shards, the root scope (vars, records by id, workflow
stubs), the handler ledger, the workflows started and expected to end, the exit code and
the error so far. It travels in the new run's input, sealed when the workers hold a key
(it may hold what the templates derived from secrets), compressed when large. What a
resumed run does not do again: render ``vars``, connect, preflight.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from playbook.durable import sealing
from playbook.durable.shards import LEDGER, restored, snapshot
from playbook.durable.state import ledger_data, load_ledger
from playbook.records import StepRecord

if TYPE_CHECKING:
    from playbook.runner import Runner

CONTINUE_AT = 10_000
"""History events after which the interpreter continues as new (Temporal warns at 10,240)."""

RESUME: ContextVar[dict[str, Any] | None] = ContextVar("playbook_durable_resume", default=None)
"""The state a continued run resumes from (opened), or None for a run's first execution."""


class Continued(BaseException):
    """The run continues as new before top-level step :attr:`state` ``["index"]``. (Not an
    ``Exception``: it goes through the runner's handlers like an interrupt's cancellation,
    up to the workflow, which continues as new.)"""

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__("continue as new")
        self.state = state


def full() -> bool:
    info = workflow.info()
    return info.is_continue_as_new_suggested() or info.get_current_history_length() > CONTINUE_AT


def first_step() -> int:
    state = RESUME.get()
    return 0 if state is None else int(state["index"])


def state_of(runner: Runner, index: int) -> dict[str, Any]:
    """The run's state before top-level step ``index`` (sealed when there is a key)."""
    shared = runner.shared
    result = shared.result
    ledger = LEDGER.get()
    state = {
        "index": index,
        "started_at": result.started_at,
        "error": result.error,
        "exit_code": shared.exit_code,
        "records": [asdict(r) for r in result.records],
        "finished": list(getattr(shared.reporter, "finished", ())),
        "shards": ledger.shards,
        "handlers": ledger_data(result.handlers),
        "started": [list(key) for key in shared.ledger.started],
        "expected": sorted(shared.ledger.expected),
        "scope": snapshot(runner.root),
    }
    return {"sealed_state": sealing.seal(ledger.key, state)} if ledger.key else state


def opened(state: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    if "sealed_state" in state:
        opened_: dict[str, Any] = sealing.unseal(key, state["sealed_state"])
        return opened_
    return state


def restore(runner: Runner, state: dict[str, Any]) -> None:
    """Give a resumed run's runner (before its first step) the state it continues from."""
    shared = runner.shared
    result = shared.result
    result.started_at = state["started_at"]
    result.error = state["error"]
    shared.exit_code = int(state["exit_code"])
    result.records.extend(StepRecord(**r) for r in state["records"])
    finished = getattr(shared.reporter, "finished", None)
    if finished is not None:
        finished.extend(state["finished"])
    LEDGER.get().shards.extend(state["shards"])
    load_ledger(result.handlers, state["handlers"])
    for workflow_id, run_id in state["started"]:
        shared.ledger.started.setdefault((workflow_id, run_id), None)
    shared.ledger.expected.update(state["expected"])
    runner.root = restored(state["scope"], None)


def began(runner: Runner) -> float:
    """When the run's first execution began, on the workflow clock (for its duration)."""
    return datetime.fromisoformat(runner.shared.result.started_at).timestamp()
