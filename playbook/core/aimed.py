"""The guarded call of operations aimed at no single workflow (batch jobs, schedules, the
matches of a visibility query): what temporalio raised becomes ours through
:func:`playbook.core.errors.translate_aimed`, and the call ends by the step's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from playbook import deadline
from playbook.core.errors import translatable, translate_aimed

T = TypeVar("T")


async def aimed(make: Callable[[], Awaitable[T]], operation: str, target: str) -> T:
    """Await ``make()``, ``operation`` on ``target`` (words: ``schedule 'nightly'``)."""

    async def guarded() -> T:
        try:
            return await make()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if not translatable(e):
                raise
            # our own bound has no temporalio exception to chain
            raise translate_aimed(e, operation=operation, target=target) from (
                None if isinstance(e, asyncio.TimeoutError) else e
            )

    left = deadline.remaining()
    if left is None:
        return await guarded()
    return await asyncio.wait_for(guarded(), left)
