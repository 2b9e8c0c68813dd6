"""What a run leaves behind: a record per step and the run's result. The runner writes
them, the templates read them (``steps.<id>``) and the reports print them.

Step statuses: ``passed``, ``failed``, ``skipped`` (not run: ``when`` was false, a tag
filter, an earlier failure, or its workflow was never created) and ``canceled`` (stopped
mid-flight by an interrupt or a failing sibling) and ``error`` (an internal error of ours
stopped it: exit 3); under ``--dry-run`` also ``would_run`` (held: its
request rendered, its action not called; counted only when there is one). Run statuses:
``passed``, ``failed``,
``error`` (could not connect, or the server failed us), ``interrupted``, and ``skipped``
(not started: ``--fail-fast`` after another file failed, or an interrupt).
"""

from __future__ import annotations

from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import Any

from playbook.coverage import HandlerLedger
from playbook.secrets import Masker

STEP_STATUSES = ("passed", "failed", "skipped", "canceled", "error")
RUN_STATUSES = ("passed", "failed", "error", "interrupted", "skipped")


_VIEW = ("result", "status", "error", "started_at", "duration", "workflow_id", "run_id", "ui_link")

_REPORTED = (
    "path",
    "id",
    "name",
    "action",
    "line",
    "status",
    "reason",
    "started_at",
    "duration",
    "attempts",
    "workflow_id",
    "run_id",
    "ui_link",
    "request",
    "result",
    "error",
    "history",
)
"""A step's fields in the JSON report, in its order."""


def error_record(kind: str, message: str, details: Any = None) -> dict[str, Any]:
    """A step record's ``error`` for a failure of the run's own (no Temporal cause chain)."""
    return {
        "type": kind,
        "message": message,
        "details": details,
        "non_retryable": None,
        "causes": [],
    }


@dataclass(slots=True)
class StepRecord:
    """One step's outcome. ``path`` locates it: ``steps[3]``, ``finally[0]``,
    ``steps[2].foreach[7].steps[0]`` (item 7 of a foreach)."""

    path: str
    action: str
    name: str
    id: str | None = None
    line: int | None = None
    status: str = "skipped"
    result: Any = None
    error: dict[str, Any] | None = None
    started_at: str | None = None
    duration: float = 0.0
    workflow_id: str | None = None
    run_id: str | None = None
    ui_link: str | None = None
    request: dict[str, Any] | None = None
    attempts: int = 0
    reason: str | None = None
    history: str | None = None
    """The file ``--history-dir`` wrote the workflow's history to, after a failure."""
    depth: int = 0
    continue_on_error: bool = False
    """Whether a failure of this step lets the run go on (not in the reports)."""
    file: str | None = None
    """The playbook file the step is in (an included one's for its steps; not in the JSON
    report: the console starts a failure's first line with ``file:line``, JUnit's cases
    carry it)."""
    logs: list[str] = field(default_factory=list)
    """The lines the step logged, masked (JUnit's ``system-out``; not in the JSON report)."""

    def view(self) -> dict[str, Any]:
        """What a template sees as ``steps.<id>``."""
        return {key: getattr(self, key) for key in _VIEW}

    def to_dict(self) -> dict[str, Any]:
        """The record as the JSON report has it."""
        out = {key: getattr(self, key) for key in _REPORTED}
        out["duration"] = round(self.duration, 6)
        return out


_RUN_REPORTED = (
    "playbook",
    "path",
    "run_id",
    "started_at",
    "duration",
    "status",
    "exit_code",
    "address",
    "namespace",
    "error",
    "counts",
    "coverage",
    "steps",
)
"""A run's fields in the JSON report, in its order (``counts``, ``coverage`` and ``steps``
computed)."""


@dataclass
class RunResult:
    """One playbook's run."""

    playbook: str
    path: str
    run_id: str
    started_at: str
    status: str = "passed"
    exit_code: int = 0
    duration: float = 0.0
    records: MutableSequence[StepRecord] = field(default_factory=list)
    """In the order the steps began: a list, or for ``playbook run`` the on-disk
    :class:`~playbook.record_log.RecordLog` (iterate it; records read back are copies)."""
    error: str | None = None
    namespace: str | None = None
    address: str | None = None
    masker: Masker = field(default_factory=Masker, repr=False, compare=False)
    """The run's secrets, for the report writers to mask with (not in the reports)."""
    handlers: HandlerLedger = field(default_factory=HandlerLedger, repr=False, compare=False)
    """Declared and called handlers per workflow type (the reports' ``coverage``)."""

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STEP_STATUSES, 0)
        statuses = getattr(self.records, "statuses", None)  # a log tells without reading
        for status in statuses() if statuses else (r.status for r in self.records):
            counts[status] = counts.get(status, 0) + 1
        return counts

    def head(self) -> dict[str, Any]:
        """The run as the JSON report has it, but its steps (the last of its fields)."""
        computed = {
            "duration": round(self.duration, 6),
            "counts": self.counts(),
            "coverage": self.masker.data(self.handlers.coverage(), numbers=False),
        }
        return {
            k: computed[k] if k in computed else getattr(self, k)
            for k in _RUN_REPORTED
            if k != "steps"
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.head(), "steps": [r.to_dict() for r in self.records]}
