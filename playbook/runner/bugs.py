"""An internal error met while running a step: recorded once (status ``error``), then it
stops the run's steps like an interrupt does; ``finally`` still runs."""

from __future__ import annotations

from playbook.records import StepRecord


class BugFound(Exception):
    """Raised through the interpreter after the step that met a bug was recorded."""

    def __init__(self, record: StepRecord, message: str) -> None:
        self.record = record
        self.message = message
        super().__init__(message)
