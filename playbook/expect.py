"""Outcomes of one attempt of an action, and how ``expect`` judges them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playbook.errors import PlaybookError, TemporalError, WorkflowFailed

RESULT_STATUSES = ("completed", "failed", "canceled", "terminated", "timed_out")
ACTION_STATUSES = ("succeeded", "failed")


@dataclass
class Outcome:
    """What one attempt did: a result, or an error."""

    action: str
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        """``await_result``: the workflow's status; any other action: succeeded or failed."""
        if self.action == "await_result":
            if self.error is None:
                return "completed"
            if isinstance(self.error, WorkflowFailed) and self.error.status in RESULT_STATUSES:
                return self.error.status
            return "failed"
        return "succeeded" if self.error is None else "failed"

    def error_record(self) -> dict[str, Any] | None:
        return error_record(self.error) if self.error is not None else None


def error_record(error: BaseException) -> dict[str, Any]:
    """``{type, message, details}`` for any error a step can meet."""
    to_record = getattr(error, "to_record", None)
    if callable(to_record):
        record: dict[str, Any] = to_record()
        return record
    if isinstance(error, PlaybookError):
        return {"type": type(error).__name__, "message": str(error), "details": None}
    return {
        "type": type(error).__name__,
        "message": str(error) or type(error).__name__,
        "details": None,
    }


def error_type(error: BaseException) -> str:
    if isinstance(error, TemporalError):
        return error.error_type
    return str(error_record(error)["type"])


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _key_path(path: str, key: Any) -> str:
    text = str(key)
    return f"{path}.{text}" if text.isidentifier() else f"{path}[{text!r}]"


def difference(expected: Any, actual: Any, path: str = "result") -> str | None:
    """The first place where ``actual`` does not match ``expected``, as ``PATH: expected X,
    got Y``; None when it matches. Maps: every key given must match, recursively (other
    keys are ignored); lists: the same length and items; scalars: equal and of one type
    (an integer matches an equal float)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{path}: expected a mapping, got {_shown(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"{_key_path(path, key)}: missing (expected {_shown(value)})"
            found = difference(value, actual[key], _key_path(path, key))
            if found is not None:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {_shown(actual)}"
        if len(expected) != len(actual):
            count = f"{len(expected)} item{'' if len(expected) == 1 else 's'}"
            return f"{path}: expected {count}, got {len(actual)}: {_shown(actual)}"
        for index, (e, a) in enumerate(zip(expected, actual)):
            found = difference(e, a, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if isinstance(expected, float) or isinstance(actual, float):
        same = (
            isinstance(actual, (int, float)) and not isinstance(actual, bool) and expected == actual
        )
    else:
        same = type(expected) is type(actual) and expected == actual
    return None if same else f"{path}: expected {_shown(expected)}, got {_shown(actual)}"


def matches(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` matches ``expected`` (see :func:`difference`)."""
    return difference(expected, actual) is None


def judge(expect: Mapping[str, Any], outcome: Outcome) -> list[str]:
    """Every way ``outcome`` differs from ``expect``; empty when it matches."""
    problems: list[str] = []
    error = expect.get("error")
    wanted = expect.get("status")
    if wanted is None and error is not None:
        wanted = "failed"
    if wanted is not None:
        actual = outcome.status
        if wanted == "failed" and outcome.action == "await_result":
            ok = actual != "completed" if error is None else actual == "failed"
        else:
            ok = actual == wanted
        if not ok:
            detail = f" ({error_type(outcome.error)}: {outcome.error})" if outcome.error else ""
            problems.append(f"status: expected {wanted}, got {actual}{detail}")
    if error is not None and outcome.error is not None:
        kind = error.get("type")
        if kind is not None and kind != error_type(outcome.error):
            problems.append(f"error.type: expected {kind}, got {error_type(outcome.error)}")
        pattern = error.get("message")
        if pattern is not None:
            message = _failure_message(outcome.error)
            if re.search(pattern, message) is None:
                problems.append(f"error.message: /{pattern}/ does not match {message!r}")
    if wanted is None and outcome.error is not None:
        # an expect that asks for no failure implies success (SPEC section 11)
        success = "completed" if outcome.action == "await_result" else "succeeded"
        problems.append(
            f"status: expected {success}, got {outcome.status} "
            f"({error_type(outcome.error)}: {outcome.error})"
        )
    if "result" in expect and outcome.ok:
        found = difference(expect["result"], outcome.result)
        if found is not None:
            problems.append(found)
    return problems


def _failure_message(error: BaseException) -> str:
    """The failure's own message, as the workflow or handler raised it, and our full text.

    Both are searched, so ``message: "balance .* too low"`` matches whichever form."""
    cause = error.__cause__
    inner = getattr(getattr(cause, "cause", None), "message", None) or getattr(
        cause, "message", None
    )
    text = str(error)
    return f"{inner}\n{text}" if isinstance(inner, str) and inner not in text else text
