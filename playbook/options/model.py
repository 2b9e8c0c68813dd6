"""Checked, normalised workflow options: what :func:`~playbook.options.check_workflow_options`
returns and the client core turns into temporalio's arguments. ``None`` everywhere means
"the server's default"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any


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
