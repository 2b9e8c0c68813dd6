"""Workflow options in playbook spelling: checked and normalised in one place.

Both the loader (at load time, before anything connects) and the client core (when a
stub is created) call :func:`check_workflow_options`; so a playbook and a Python user
get the same messages. This module does not import temporalio, so that
``playbook validate`` stays fast.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from playbook.durations import parse_duration
from playbook.templating import is_template as is_template

ID_REUSE_POLICIES = (
    "allow_duplicate",
    "allow_duplicate_failed_only",
    "reject_duplicate",
    "terminate_if_running",
)
ID_CONFLICT_POLICIES = ("fail", "use_existing", "terminate_existing")
SEARCH_ATTRIBUTE_TYPES = ("keyword", "text", "int", "double", "bool", "datetime", "keyword_list")
WAIT_STAGES = ("accepted", "completed")
RETRY_KEYS = (
    "initial_interval",
    "backoff_coefficient",
    "maximum_interval",
    "maximum_attempts",
    "non_retryable_error_types",
)
PRIORITY_KEYS = ("priority_key", "fairness_key", "fairness_weight")
DURATION_KEYS = ("execution_timeout", "run_timeout", "task_timeout", "start_delay")
WORKFLOW_OPTION_KEYS = (
    "task_queue",
    "workflow_id",
    "id_reuse_policy",
    "id_conflict_policy",
    *DURATION_KEYS,
    "retry",
    "cron_schedule",
    "memo",
    "search_attributes",
    "priority",
)

ADMITTED_REASON = (
    "wait_for_stage 'admitted' is not supported by Temporal (the client cannot wait for it); "
    "use 'accepted' or 'completed'"
)


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _one_of(value: str, choices: tuple[str, ...]) -> str:
    return f"'{value}' is not one of {', '.join(choices)}{did_you_mean(value, choices)}"


@dataclass(frozen=True)
class SearchAttribute:
    name: str
    type: str
    value: Any


@dataclass(frozen=True)
class RetryPolicy:
    initial_interval: timedelta | None = None
    backoff_coefficient: float | None = None
    maximum_interval: timedelta | None = None
    maximum_attempts: int | None = None
    non_retryable_error_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Priority:
    priority_key: int | None = None
    fairness_key: str | None = None
    fairness_weight: float | None = None


@dataclass(frozen=True)
class WorkflowOptions:
    """Checked workflow options; ``None`` means "the server's default"."""

    task_queue: str
    workflow_id: str | None = None
    id_reuse_policy: str | None = None
    id_conflict_policy: str | None = None
    execution_timeout: timedelta | None = None
    run_timeout: timedelta | None = None
    task_timeout: timedelta | None = None
    start_delay: timedelta | None = None
    retry: RetryPolicy | None = None
    cron_schedule: str | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    search_attributes: tuple[SearchAttribute, ...] = ()
    priority: Priority | None = None


Problems = list[tuple[str, str]]
"""(field path, message) pairs; the loader turns the path into a line and column."""


def infer_search_attribute(name: str, raw: Any) -> tuple[SearchAttribute | None, str | None]:
    """A search attribute from a bare value (type inferred) or ``{type, value}``."""
    if isinstance(raw, Mapping) and set(raw) == {"type", "value"}:
        kind, value = raw["type"], raw["value"]
        if kind not in SEARCH_ATTRIBUTE_TYPES:
            return None, _one_of(str(kind), SEARCH_ATTRIBUTE_TYPES)
        error = _check_attribute_value(kind, value)
        if error:
            return None, error
        if kind == "datetime" and isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "double":
            value = float(value)
        if kind == "keyword_list":
            value = list(value)
        return SearchAttribute(name, kind, value), None
    if isinstance(raw, bool):
        return SearchAttribute(name, "bool", raw), None
    if isinstance(raw, int):
        return SearchAttribute(name, "int", raw), None
    if isinstance(raw, float):
        return SearchAttribute(name, "double", raw), None
    if isinstance(raw, str):
        return SearchAttribute(name, "keyword", raw), None
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return SearchAttribute(name, "keyword_list", list(raw)), None
    return None, (
        f"cannot infer the type of {raw!r}; give a string, integer, float, boolean or list "
        f"of strings, or {{type: {'|'.join(SEARCH_ATTRIBUTE_TYPES)}, value: ...}}"
    )


def _check_attribute_value(kind: str, value: Any) -> str | None:
    ok = {
        "keyword": isinstance(value, str),
        "text": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "double": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "keyword_list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "datetime": isinstance(value, (str, datetime)),
    }[kind]
    if not ok:
        return f"value {value!r} is not a valid {kind}"
    if kind == "datetime" and isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"value {value!r} is not an ISO-8601 date-time such as 2024-01-02T03:04:05Z"
    return None


def check_workflow_options(
    options: Mapping[str, Any], *, prefix: str = ""
) -> tuple[WorkflowOptions | None, Problems]:
    """Check a ``create`` step's options; return them normalised, or every problem.

    Values that are still templates are skipped (they are checked once rendered).
    """
    problems: Problems = []
    out: dict[str, Any] = {}

    def bad(key: str, message: str) -> None:
        problems.append((f"{prefix}{key}", message))

    for key in options:
        if key not in WORKFLOW_OPTION_KEYS and key != "type":
            bad(key, f"unknown workflow option{did_you_mean(key, WORKFLOW_OPTION_KEYS)}")

    task_queue = options.get("task_queue")
    if task_queue is None:
        bad("task_queue", "task_queue is required for a new workflow")
    elif not isinstance(task_queue, str) or not task_queue:
        bad("task_queue", f"task_queue must be a non-empty string, not {task_queue!r}")
    else:
        out["task_queue"] = task_queue

    workflow_id = options.get("workflow_id")
    if workflow_id is not None:
        if not isinstance(workflow_id, str) or not workflow_id:
            bad("workflow_id", f"workflow_id must be a non-empty string, not {workflow_id!r}")
        else:
            out["workflow_id"] = workflow_id

    for key, choices in (
        ("id_reuse_policy", ID_REUSE_POLICIES),
        ("id_conflict_policy", ID_CONFLICT_POLICIES),
    ):
        value = options.get(key)
        if value is None or is_template(value):
            continue
        if value not in choices:
            bad(key, _one_of(str(value), choices))
        else:
            out[key] = value

    for key in DURATION_KEYS:
        value = options.get(key)
        if value is None or is_template(value):
            continue
        try:
            out[key] = parse_duration(value)
        except ValueError as e:
            bad(key, str(e))

    retry = options.get("retry")
    if retry is not None and not is_template(retry):
        policy, retry_problems = _check_retry(retry)
        problems.extend((f"{prefix}retry.{k}" if k else f"{prefix}retry", m) for k, m in retry_problems)
        out["retry"] = policy

    cron = options.get("cron_schedule")
    if cron is not None and not is_template(cron):
        if not isinstance(cron, str) or (len(cron.split()) not in (5, 6, 7) and not cron.startswith("@")):
            bad("cron_schedule", f"{cron!r} is not a cron schedule such as '*/5 * * * *' or '@hourly'")
        else:
            out["cron_schedule"] = cron

    memo = options.get("memo")
    if memo is not None and not is_template(memo):
        if not isinstance(memo, Mapping):
            bad("memo", f"memo must be a mapping of names to values, not {memo!r}")
        else:
            out["memo"] = dict(memo)

    attributes = options.get("search_attributes")
    if attributes is not None and not is_template(attributes):
        if not isinstance(attributes, Mapping):
            bad("search_attributes", "search_attributes must be a mapping of names to values")
        else:
            parsed = []
            for name, raw in attributes.items():
                if is_template(raw):
                    continue
                attribute, error = infer_search_attribute(str(name), raw)
                if error:
                    bad(f"search_attributes.{name}", error)
                elif attribute:
                    parsed.append(attribute)
            out["search_attributes"] = tuple(parsed)

    priority = options.get("priority")
    if priority is not None and not is_template(priority):
        value, priority_problems = _check_priority(priority)
        problems.extend((f"{prefix}priority{'.' + k if k else ''}", m) for k, m in priority_problems)
        out["priority"] = value

    problems.extend((f"{prefix}{k}", m) for k, m in _check_combinations(options))
    if problems or "task_queue" not in out:
        return None, problems
    return WorkflowOptions(**out), []


def _check_retry(retry: Any) -> tuple[RetryPolicy | None, Problems]:
    if not isinstance(retry, Mapping):
        return None, [("", f"retry must be a mapping with {', '.join(RETRY_KEYS)}")]
    problems: Problems = []
    values: dict[str, Any] = {}
    for key in retry:
        if key not in RETRY_KEYS:
            problems.append((key, f"unknown retry option{did_you_mean(key, RETRY_KEYS)}"))
    for key in ("initial_interval", "maximum_interval"):
        if key in retry and not is_template(retry[key]):
            try:
                values[key] = parse_duration(retry[key])
            except ValueError as e:
                problems.append((key, str(e)))
    coefficient = retry.get("backoff_coefficient")
    if coefficient is not None and not is_template(coefficient):
        if isinstance(coefficient, bool) or not isinstance(coefficient, (int, float)) or coefficient < 1:
            problems.append(("backoff_coefficient", f"must be a number >= 1, not {coefficient!r}"))
        else:
            values["backoff_coefficient"] = float(coefficient)
    attempts = retry.get("maximum_attempts")
    if attempts is not None and not is_template(attempts):
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            problems.append(("maximum_attempts", f"must be a whole number >= 0 (0: unlimited), not {attempts!r}"))
        else:
            values["maximum_attempts"] = attempts
    types = retry.get("non_retryable_error_types")
    if types is not None and not is_template(types):
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            problems.append(("non_retryable_error_types", "must be a list of error type names"))
        else:
            values["non_retryable_error_types"] = tuple(types)
    return (None if problems else RetryPolicy(**values)), problems


def _check_priority(priority: Any) -> tuple[Priority | None, Problems]:
    if not isinstance(priority, Mapping):
        return None, [("", f"priority must be a mapping with {', '.join(PRIORITY_KEYS)}")]
    problems: Problems = []
    for key in priority:
        if key not in PRIORITY_KEYS:
            problems.append((key, f"unknown priority option{did_you_mean(key, PRIORITY_KEYS)}"))
    key_value = priority.get("priority_key")
    if key_value is not None and not is_template(key_value):
        if isinstance(key_value, bool) or not isinstance(key_value, int) or key_value < 1:
            problems.append(("priority_key", f"must be a whole number >= 1 (1 runs first), not {key_value!r}"))
    fairness_key = priority.get("fairness_key")
    if fairness_key is not None and not is_template(fairness_key):
        if not isinstance(fairness_key, str) or len(fairness_key.encode()) > 64:
            problems.append(("fairness_key", "must be a string of at most 64 bytes"))
    weight = priority.get("fairness_weight")
    if weight is not None and not is_template(weight):
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not (
            math.isfinite(weight) and weight > 0
        ):
            problems.append(("fairness_weight", f"must be a positive number, not {weight!r}"))
    if problems:
        return None, problems
    return Priority(
        priority_key=key_value if isinstance(key_value, int) else None,
        fairness_key=fairness_key if isinstance(fairness_key, str) else None,
        fairness_weight=float(weight) if isinstance(weight, (int, float)) else None,
    ), []


def _check_combinations(options: Mapping[str, Any]) -> Problems:
    """Policies and schedules that cannot go together (SPEC section 7)."""
    problems: Problems = []
    reuse = options.get("id_reuse_policy")
    conflict = options.get("id_conflict_policy")
    if reuse == "terminate_if_running" and conflict is not None:
        problems.append((
            "id_reuse_policy",
            "id_reuse_policy 'terminate_if_running' cannot be combined with an id_conflict_policy; "
            "use id_conflict_policy 'terminate_existing' alone instead",
        ))
    if reuse == "reject_duplicate" and conflict == "terminate_existing":
        problems.append((
            "id_conflict_policy",
            "id_conflict_policy 'terminate_existing' cannot be combined with id_reuse_policy "
            "'reject_duplicate'; choose one",
        ))
    if options.get("cron_schedule") is not None and options.get("start_delay") is not None:
        problems.append((
            "start_delay",
            "start_delay cannot be combined with cron_schedule; remove one of them",
        ))
    return problems


def check_for_action(options: Mapping[str, Any], action: str) -> Problems:
    """Problems of a stub's options that only show with the action it is used for."""
    problems: Problems = []
    if action == "update_with_start":
        if options.get("id_conflict_policy") is None:
            problems.append((
                "id_conflict_policy",
                "update_with_start needs an id_conflict_policy on its workflow "
                "(use_existing to join a running workflow, fail to refuse, terminate_existing)",
            ))
        for key in ("cron_schedule", "start_delay"):
            if options.get(key) is not None:
                problems.append((key, f"update_with_start cannot start a workflow that has {key}"))
    if action == "signal_with_start" and options.get("id_conflict_policy") == "fail":
        problems.append((
            "id_conflict_policy",
            "signal_with_start cannot use id_conflict_policy 'fail' (the server rejects it: "
            "signal-with-start signals a running workflow); use use_existing or terminate_existing",
        ))
    return problems


def check_wait_stage(stage: Any) -> str | None:
    """The message for a bad ``wait_for_stage``, or None."""
    if stage == "admitted":
        return ADMITTED_REASON
    if stage not in WAIT_STAGES:
        return _one_of(str(stage), WAIT_STAGES)
    return None


WORKFLOW_ID_RE = re.compile(r"[^\s]+")
