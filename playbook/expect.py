"""Outcomes of one attempt of an action, and how ``expect`` judges them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playbook.errors import PlaybookError, TemporalError, WorkflowFailed

RESULT_STATUSES = ("completed", "failed", "canceled", "terminated", "timed_out", "continued_as_new")
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
    """``{type, message, details, non_retryable, causes}`` for any error a step can meet:
    ``causes`` is the Temporal failure chained to it, outermost first (SPEC section 11)."""
    to_record = getattr(error, "to_record", None)
    if callable(to_record):
        record: dict[str, Any] = dict(to_record())
    elif isinstance(error, PlaybookError):
        record = {"type": type(error).__name__, "message": str(error), "details": None}
    else:
        record = {
            "type": type(error).__name__,
            "message": str(error) or type(error).__name__,
            "details": None,
        }
    record.setdefault("non_retryable", _non_retryable(error))
    record.setdefault("causes", _chain(error))
    return record


def _chain(error: BaseException) -> list[dict[str, Any]]:
    """The failures under ``error``, outermost first (:mod:`playbook.core.causes`, which
    imports temporalio: only when there is a cause to read)."""
    if error.__cause__ is None:
        return []
    from playbook.core import causes

    return causes.chain(error.__cause__)


def _non_retryable(error: BaseException) -> bool | None:
    if error.__cause__ is None:
        return None
    from playbook.core import causes

    return causes.non_retryable(error.__cause__)


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
        problems += _error_problems(error, outcome.error)
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


def _error_problems(wanted: Mapping[str, Any], error: BaseException) -> list[str]:
    """How ``error`` differs from ``expect.error``: its ``type`` and ``message`` may match
    the error itself or any cause in its chain (an activity's ``RuntimeError`` under
    ``WorkflowFailed`` and ``ActivityError``)."""
    problems: list[str] = []
    chain = _chain(error)
    kind = wanted.get("type")
    kinds = [error_type(error), *(str(cause["type"]) for cause in chain)]
    if kind is not None and kind not in kinds:
        got = kinds[0] + (f" (caused by {', '.join(kinds[1:])})" if chain else "")
        problems.append(f"error.type: expected {kind}, got {got}")
    pattern = wanted.get("message")
    if pattern is not None:
        messages = [str(error), *(str(cause["message"]) for cause in chain)]
        if not any(re.search(pattern, message) for message in messages):
            shown = " / ".join(repr(message) for message in messages)
            problems.append(f"error.message: /{pattern}/ does not match {shown}")
    return problems
