"""The workflow options that are mappings of their own, ``retry`` and ``priority``: each
key checked, the problems keyed by the key within the group ("" for the group itself)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from playbook.durations import parse_duration
from playbook.options.model import Priority, Problems, RetryPolicy
from playbook.options.vocabulary import PRIORITY_KEYS, RETRY_KEYS
from playbook.suggest import did_you_mean
from playbook.templating import is_template


def _given(group: Mapping[str, Any], key: str) -> bool:
    """Whether a key of a group is there to check now (a template is checked once rendered)."""
    return group.get(key) is not None and not is_template(group[key])


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole_number(value: Any, minimum: int) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _unknown(group: Mapping[str, Any], known: tuple[str, ...], what: str) -> Problems:
    return [
        (key, f"unknown {what} option{did_you_mean(key, known)}")
        for key in group
        if key not in known
    ]


def check_retry(retry: Any) -> tuple[RetryPolicy | None, Problems]:
    if not isinstance(retry, Mapping):
        return None, [("", f"retry must be a mapping with {', '.join(RETRY_KEYS)}")]
    problems = _unknown(retry, RETRY_KEYS, "retry")
    values: dict[str, Any] = {}
    for key in ("initial_interval", "maximum_interval"):
        if key in retry and not is_template(retry[key]):
            try:
                values[key] = parse_duration(retry[key])
            except ValueError as e:
                problems.append((key, str(e)))
    coefficient = retry.get("backoff_coefficient")
    if _given(retry, "backoff_coefficient"):
        if not _number(coefficient) or coefficient < 1:
            problems.append(("backoff_coefficient", f"must be a number >= 1, not {coefficient!r}"))
        else:
            values["backoff_coefficient"] = float(coefficient)
    attempts = retry.get("maximum_attempts")
    if _given(retry, "maximum_attempts"):
        if not _whole_number(attempts, 0):
            message = f"must be a whole number >= 0 (0: unlimited), not {attempts!r}"
            problems.append(("maximum_attempts", message))
        else:
            values["maximum_attempts"] = attempts
    types = retry.get("non_retryable_error_types")
    if _given(retry, "non_retryable_error_types"):
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            problems.append(("non_retryable_error_types", "must be a list of error type names"))
        else:
            values["non_retryable_error_types"] = tuple(types)
    return (None if problems else RetryPolicy(**values)), problems


def check_priority(priority: Any) -> tuple[Priority | None, Problems]:
    if not isinstance(priority, Mapping):
        return None, [("", f"priority must be a mapping with {', '.join(PRIORITY_KEYS)}")]
    problems = _unknown(priority, PRIORITY_KEYS, "priority")
    key_value = priority.get("priority_key")
    if _given(priority, "priority_key"):
        if not _whole_number(key_value, 1):
            message = f"must be a whole number >= 1 (1 runs first), not {key_value!r}"
            problems.append(("priority_key", message))
    fairness_key = priority.get("fairness_key")
    if _given(priority, "fairness_key"):
        if not isinstance(fairness_key, str) or len(fairness_key.encode()) > 64:
            problems.append(("fairness_key", "must be a string of at most 64 bytes"))
    weight = priority.get("fairness_weight")
    if _given(priority, "fairness_weight"):
        if not _number(weight) or not (math.isfinite(weight) and weight > 0):
            problems.append(("fairness_weight", f"must be a positive number, not {weight!r}"))
    if problems:
        return None, problems
    return Priority(
        priority_key=key_value if isinstance(key_value, int) else None,
        fairness_key=fairness_key if isinstance(fairness_key, str) else None,
        fairness_weight=float(weight) if isinstance(weight, (int, float)) else None,
    ), []
