"""Reports of a run: the console as it happens, JSON and JUnit files at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from playbook.records import RunResult, StepRecord


class Reporter(Protocol):
    """What the runner tells as it goes."""

    def run_started(self, playbook: Any, result: RunResult) -> None: ...
    def step_started(self, record: StepRecord) -> None: ...
    def step_finished(self, record: StepRecord) -> None: ...
    def log(self, record: StepRecord, text: str) -> None: ...
    def run_finished(self, result: RunResult) -> None: ...


class NullReporter:
    """Tells nothing (library use, tests)."""

    def run_started(self, playbook: Any, result: RunResult) -> None:
        pass

    def step_started(self, record: StepRecord) -> None:
        pass

    def step_finished(self, record: StepRecord) -> None:
        pass

    def log(self, record: StepRecord, text: str) -> None:
        pass

    def run_finished(self, result: RunResult) -> None:
        pass
