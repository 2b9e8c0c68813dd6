"""What a leaf action receives (its rendered fields and the run's services) and what it
may return besides a plain value."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from playbook.errors import PlaybookError

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.core import WorkflowStub
    from playbook.coverage import HandlerLedger


class StepFailed(PlaybookError):
    """A control step's own failure (an assertion, a declined confirmation)."""

    def __init__(
        self, message: str, *, error_type: str = "StepFailed", details: Any = None
    ) -> None:
        self.error_type = error_type
        self.details = details
        super().__init__(message)

    def to_record(self) -> dict[str, Any]:
        return {"type": self.error_type, "message": str(self), "details": self.details}


class ConfirmationRequired(PlaybookError):
    """A ``confirm`` step without a terminal and without ``--yes``: stop, exit code 2."""

    exit_code = 2


class Env(Protocol):
    """The run's services, as the runner offers them to actions."""

    playbook_name: str
    run_id: str
    step_id: str | None
    handlers: HandlerLedger
    """The run's declared and called handlers (checked names, coverage)."""

    def where(self, field: str) -> str: ...
    async def client(self) -> Client: ...
    def stub(self, name: str) -> WorkflowStub: ...
    def add_stub(self, name: str, stub: WorkflowStub) -> None: ...
    def evaluate(self, expression: str) -> Any: ...
    def render(self, value: Any, field: str) -> Any: ...
    def log(self, text: str) -> None: ...
    def set_vars(self, values: Mapping[str, Any]) -> None: ...
    async def confirm(self, text: str) -> bool: ...
    async def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Call:
    """One execution of one action."""

    action: str
    spec: Any
    env: Env


@dataclass(frozen=True, slots=True)
class Done:
    """An action's value, with the execution it touched and a note for its record."""

    value: Any = None
    workflow_id: str | None = None
    run_id: str | None = None
    note: str | None = None


Action = Callable[[Call], Awaitable[Any]]
"""An action: returns its value, or a :class:`Done`."""
