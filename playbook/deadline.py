"""A step's deadline, seen by every server call made inside it: the runner opens it with
:func:`within` (a step's ``timeout``), the client core reads it (:func:`remaining`) and
ends its calls by it, also one whose cancellation some code on the way swallowed. No
temporalio here: an offline run imports this module too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

# When every call of the core must have ended (the event loop's time).
_DEADLINE: ContextVar[float | None] = ContextVar("playbook_core_deadline", default=None)


@contextlib.contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Every call of the core made in this block, and in the tasks it starts, ends within
    ``seconds`` from now. Running out raises a bare :class:`asyncio.TimeoutError`, which
    the caller words, as its own bound's."""
    if seconds is None:
        yield
        return
    end = asyncio.get_running_loop().time() + seconds
    current = _DEADLINE.get()
    token = _DEADLINE.set(end if current is None else min(current, end))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (at least 0), or None outside any."""
    end = _DEADLINE.get()
    return None if end is None else max(end - asyncio.get_running_loop().time(), 0)
