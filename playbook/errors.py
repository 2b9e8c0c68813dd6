"""Every error the project expects, and the exit code each one ends a run with.

The tree::

    PlaybookError (1)                 an expected failure, shown without a traceback
    ├── UsageError (2)                bad command-line use
    ├── InvalidPlaybook (2)           every load-time problem of one or more files, at once
    ├── InvalidInputs (2)             missing, unknown or ill-typed inputs
    ├── InvalidOptions (2)            bad workflow or connection options given to the core
    ├── TemplateError (1)             a template failed to render at run time
    │   └── TemplateSecurityError     a template reached for Python internals or for too much
    ├── ConnectionFailed (3)          a bad address, a server out of reach or a missing namespace
    ├── Interrupted (130)             Ctrl-C or SIGTERM
    └── TemporalError (1)             an operation of the client core failed; carries the facts
        ├── WorkflowFailed            the workflow ended badly: status, error type, message, details
        ├── WorkflowAlreadyStarted    an id conflict on start
        ├── WorkflowNotFound          no such execution (or it has closed, for signal/update)
        ├── QueryFailed               the query was rejected or raised in the workflow
        ├── UpdateFailed              the update's handler raised or the update could not complete
        │   └── UpdateRejected        the update's validator rejected it
        ├── WorkflowTaskFailed        the worker fails the workflow's task: the call would wait forever
        ├── OperationTimeout          the operation did not finish within its timeout
        └── ServerError (3)           the server failed us (unavailable, internal error)

temporalio's exceptions are turned into these in exactly one place,
:mod:`playbook.core.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


class PlaybookError(Exception):
    """Every error we expect, reported without a traceback."""

    exit_code: ClassVar[int] = 1


class UsageError(PlaybookError):
    """The command line was used wrongly."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One load-time problem, located in a file."""

    file: str
    line: int
    column: int
    path: str
    message: str
    excerpt: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        head = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return head + (f"\n{self.excerpt}" if self.excerpt else "")


class InvalidPlaybook(PlaybookError):
    """All load-time problems at once (schema, semantics, templates, inputs)."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        summary = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__("\n".join([*(str(p) for p in self.problems), summary]))


class InvalidInputs(PlaybookError):
    """Inputs that are missing, unknown or of the wrong type, all listed at once."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid inputs:\n" + "\n".join(f"  - {p}" for p in problems))


class InvalidOptions(PlaybookError):
    """Workflow or connection options that cannot work, all listed at once."""

    exit_code = 2

    def __init__(self, problems: list[str], what: str = "workflow options") -> None:
        self.problems = problems
        if len(problems) == 1:
            message = f"invalid {what}: {problems[0]}"
        else:
            message = f"invalid {what}:\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(message)


class TemplateError(PlaybookError):
    """A template failed to render; says which step and field, and why."""

    def __init__(self, message: str, *, where: str = "") -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class TemplateSecurityError(TemplateError):
    """A template tried to reach Python internals or to use too much time or memory."""


class ConnectionFailed(PlaybookError):
    """The address is not valid, the server could not be reached, or the namespace does not
    exist."""

    exit_code = 3

    def __init__(self, message: str, *, address: str, namespace: str) -> None:
        self.address = address
        self.namespace = namespace
        super().__init__(message)


class Interrupted(PlaybookError):
    """The run was interrupted by Ctrl-C or SIGTERM."""

    exit_code = 130


class TemporalError(PlaybookError):
    """An operation of the client core failed.

    ``operation`` is the seed function's name (``start``, ``signal``...), ``workflow_id``
    the execution it was aimed at. The temporalio exception, if any, is chained as
    ``__cause__``.
    """

    kind: ClassVar[str] = "TemporalError"
    """The ``type`` of the error in records: the class's name unless it says otherwise."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:
            cls.kind = cls.__name__

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        workflow_id: str | None = None,
        run_id: str | None = None,
        error_type: str | None = None,
        details: Any = None,
    ) -> None:
        self.operation = operation
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.error_type = error_type or self.kind
        self.details = details
        super().__init__(message)

    def facts(self) -> dict[str, Any]:
        """What makes another error about the same call: the keyword arguments of this one."""
        names = ("operation", "workflow_id", "run_id", "error_type", "details")
        return {name: getattr(self, name) for name in names}

    def to_record(self) -> dict[str, Any]:
        """The ``{type, message, details}`` shape that step records carry."""
        return {"type": self.error_type, "message": str(self), "details": self.details}


class WorkflowFailed(TemporalError):
    """The workflow closed as failed, canceled, terminated or timed out."""

    def __init__(self, message: str, *, status: str, **kwargs: Any) -> None:
        self.status = status
        super().__init__(message, **kwargs)


class WorkflowAlreadyStarted(TemporalError):
    """An id conflict on start: the workflow id is taken by a running execution."""


class WorkflowNotFound(TemporalError):
    """No such execution, or (for signal, update and terminate) it has closed."""


class QueryFailed(TemporalError):
    """The query was rejected, or its handler raised in the workflow."""


class UpdateFailed(TemporalError):
    """The update's handler raised, or the update could not complete."""


class UpdateRejected(UpdateFailed):
    """The update's validator rejected it: the workflow never ran the handler."""


class WorkflowTaskFailed(TemporalError):
    """A call waited on a workflow whose workflow task fails on the worker (a type it does not
    register, wrong arguments, a non-determinism error, an exception in workflow code): the
    workflow stays running, so the call would only time out. The worker's failure is chained
    as ``__cause__`` when it can be decoded."""


class OperationTimeout(TemporalError):
    """The operation did not finish within its timeout."""

    kind = "Timeout"


class ServerError(TemporalError):
    """The server failed us (unavailable, internal error, refused credentials): exit 3."""

    exit_code = 3
