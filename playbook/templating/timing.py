"""The time budget of one render: its deadline, the cooperative check and the alarm.

Each render (nested renders share the outer one) runs under a ``Budget`` held in a
context variable: its deadline, and a memo of value sizes that ``limits`` fills in.
``tick()`` refuses once the deadline has passed; binary operators, calls, filters, loop
iterations and output chunks all call it. A ``SIGALRM`` backstop catches computation
that never reaches a cooperative check, when rendering on the main thread and nobody
else owns that signal.

Other modules call ``timing.tick()`` and read ``TIME_BUDGET`` through this module, so
that a test which lowers the budget or switches the cooperative checks off does so for
every caller at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType

from playbook.templating.refusals import Refused

TIME_BUDGET = 2.0
"""Seconds one template may run."""


@dataclass
class Budget:
    """The state of one render: its deadline and a memo of value sizes."""

    deadline: float
    active: bool = True
    # id -> (the object, kept alive so the id stays valid; its weight)
    weights: dict[int, tuple[object, int]] = field(default_factory=dict)


CURRENT: ContextVar[Budget | None] = ContextVar("playbook_template_budget", default=None)

CLOCK: ContextVar[Callable[[], float]] = ContextVar(
    "playbook_template_clock", default=time.monotonic
)
"""What the budget is measured with: the system's monotonic clock, or (in a durable run,
which must decide the same way on replay) a deterministic count of the checks made."""


def too_slow() -> Refused:
    return Refused(f"template took longer than {TIME_BUDGET:g}s; simplify it")


def tick() -> None:
    """Refuse if the current render has spent its time."""
    budget = CURRENT.get()
    if budget is not None and CLOCK.get()() > budget.deadline:
        raise too_slow()


@contextmanager
def budgeted() -> Iterator[Budget]:
    """Run a render under a time budget (reusing the outer one when nested)."""
    outer = CURRENT.get()
    if outer is not None:
        yield outer
        return
    budget = Budget(deadline=CLOCK.get()() + TIME_BUDGET)
    token = CURRENT.set(budget)
    restore = _arm_alarm(budget)
    try:
        yield budget
    finally:
        budget.active = False
        if restore is not None:
            restore()
        CURRENT.reset(token)


def _arm_alarm(budget: Budget) -> Callable[[], None] | None:
    """Backstop for computation that never reaches a cooperative check.

    Only on the main thread (signals are delivered there), and only when SIGALRM is
    ours to take: default handler and no timer running. Returns the undo, or None.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    if signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL:
        return None
    if signal.getitimer(signal.ITIMER_REAL)[0] != 0:
        return None

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if budget.active:
            raise too_slow()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # A little later than the cooperative deadline, so that the clean check usually wins.
    signal.setitimer(signal.ITIMER_REAL, TIME_BUDGET + 0.1)

    def restore() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return restore
