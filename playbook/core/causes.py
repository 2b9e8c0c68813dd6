"""Cause chains: the Temporal failure behind one of our errors, outermost first, down to
the root.

A workflow whose activity raised ``RuntimeError("Greeting exception")`` fails with an
``ActivityError`` wrapping an ``ApplicationError`` of type ``RuntimeError``; temporalio
chains them through ``cause``. :func:`chain` lists them as error records list them
(``{type, message, details}`` each), :func:`non_retryable` reads the flag of the first
application error, :func:`root_note` words the root for a message.

Only the failure chain is listed: the client's own wrappers (``WorkflowFailureError``,
``WorkflowUpdateFailedError``) add nothing and are stepped over, and an RPC error's text
(a transport error, say) is not a cause a user can act on, so a chain ends there.
"""

from __future__ import annotations

from typing import Any

import temporalio.client
import temporalio.exceptions

_DEPTH = 32  # a chain deeper than this is a loop or a bug: cut it there
_WRAPPERS = (temporalio.client.WorkflowFailureError, temporalio.client.WorkflowUpdateFailedError)


def failures(error: BaseException | None) -> list[temporalio.exceptions.FailureError]:
    """The Temporal failures chained from ``error`` (itself included), outermost first."""
    found: list[temporalio.exceptions.FailureError] = []
    seen: set[int] = set()
    current = error
    while current is not None and id(current) not in seen and len(found) < _DEPTH:
        seen.add(id(current))
        if isinstance(current, temporalio.exceptions.FailureError):
            found.append(current)
        elif not isinstance(current, _WRAPPERS) or found:
            break
        current = current.__cause__
    return found


def facts(failure: temporalio.exceptions.FailureError) -> dict[str, Any]:
    """One failure as a cause record: ``{type, message, details}``. An application error's
    type is the one it was raised with (a Python activity's exception class, say)."""
    if isinstance(failure, temporalio.exceptions.ApplicationError):
        details = list(failure.details)
        return {
            "type": failure.type or "ApplicationError",
            "message": failure.message,
            "details": None if not details else details[0] if len(details) == 1 else details,
        }
    return {"type": type(failure).__name__, "message": failure.message, "details": None}


def chain(error: BaseException | None) -> list[dict[str, Any]]:
    """The cause records of the failure chained from ``error``: empty when none is."""
    return [facts(failure) for failure in failures(error)]


def non_retryable(error: BaseException | None) -> bool | None:
    """Whether the first application error of the chain was marked non-retryable; ``None``
    when the chain holds none (a timeout, a cancellation, a client-side error)."""
    for failure in failures(error):
        if isinstance(failure, temporalio.exceptions.ApplicationError):
            return failure.non_retryable
    return None


def root_note(error: BaseException | None) -> str:
    """`` (caused by TYPE: MESSAGE)`` naming the root of a chain of more than one failure
    (an activity's own exception under its ``ActivityError``); empty otherwise."""
    found = failures(error)
    if len(found) < 2:
        return ""
    root = facts(found[-1])
    return f" (caused by {root['type']}: {root['message']})"


__all__ = ["chain", "facts", "failures", "non_retryable", "root_note"]
