"""Run-level hygiene (SPEC section 10), the runner's side: which of ``preflight``,
``cleanup`` and ``verify`` a run does (the playbook's keys, overridden by run options), the
:class:`Ledger` of the workflows the run started (from its actions' results, never from
visibility) and of those a step expected to end, and :class:`ServerChecks`, what is asked
of the server: the client core's (:class:`CoreChecks`) in a real run, a fake in unit tests.
The stages themselves: :mod:`.preflight`, and :mod:`.closing` (cleanup, verify).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from playbook.actions.base import Done

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.model import Playbook
    from playbook.runner.state import RunOptions

STARTING = {"start", "signal_with_start", "update_with_start"}
"""Actions whose :class:`~playbook.actions.Done` names a workflow chain they started."""
ENDING = {"cancel", "terminate"}
"""Actions whose target, should it end canceled or terminated, was expected to."""
UNEXPECTED = ("failed", "timed_out", "terminated")
"""The ends ``verify`` objects to, when no step expected them."""
CLEANUP_MODES = ("none", "cancel", "terminate")
AT_ONCE = 16
"""Workflows asked about (or ended) at the same time."""


@dataclass(frozen=True)
class Settings:
    preflight: bool
    cleanup: str
    verify: bool


def settings(playbook: Playbook, options: RunOptions) -> Settings:
    """The run's choice: a run option given wins over the playbook's key."""
    return Settings(
        preflight=playbook.preflight if options.preflight is None else options.preflight,
        cleanup=options.cleanup or playbook.cleanup,
        verify=(
            bool(playbook.verify.get("no_failed_workflows"))
            if options.verify is None
            else options.verify
        ),
    )


class ServerChecks(Protocol):
    """What hygiene asks the server."""

    async def preflight(
        self, task_queues: Sequence[str], search_attributes: Sequence[str], own: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """The problems found and the notes on the checks skipped."""

    async def facts(self, workflow_id: str, run_id: str | None) -> Mapping[str, Any] | None:
        """``describe``'s facts of the last run of the chain ``run_id`` started; None when
        the server knows none."""

    async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
        """Cancel or terminate that chain; False if it had closed meanwhile."""


class CoreChecks:
    """The client core's :class:`ServerChecks` (temporalio is imported at the first call:
    an offline run never needs it)."""

    def __init__(self, client_factory: Callable[[], Awaitable[Client]]) -> None:
        self.client_factory = client_factory

    async def preflight(
        self, task_queues: Sequence[str], search_attributes: Sequence[str], own: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        from playbook.core import hygiene

        client = await self.client_factory()
        return await hygiene.preflight(client, task_queues, search_attributes, own)

    async def facts(self, workflow_id: str, run_id: str | None) -> Mapping[str, Any] | None:
        from playbook.core import hygiene

        return await hygiene.facts(await self.client_factory(), workflow_id, run_id)

    async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
        from playbook.core import hygiene

        return await hygiene.end(await self.client_factory(), workflow_id, run_id, mode, reason)


@dataclass
class Ledger:
    """The workflow chains this run started (workflow id, first run id), in order, and the
    workflow ids that a step expected to end (an ``expect``, a ``cancel``/``terminate``,
    ``cleanup``)."""

    started: dict[tuple[str, str | None], None] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)

    def noted(self, action: str, workflow_id: str | None, run_id: str | None) -> None:
        """An action's result: ``action`` reached ``workflow_id`` (run ``run_id``)."""
        if workflow_id is None:
            return
        if action in STARTING:
            self.started.setdefault((workflow_id, run_id), None)
        elif action in ENDING:
            self.expected.add(workflow_id)

    def expect(self, workflow_id: str | None) -> None:
        if workflow_id is not None:
            self.expected.add(workflow_id)

    async def watch(self, action: str, workflow_id: str | None, call: Awaitable[Any]) -> Any:
        """The action's value, noted. A starting action that did not return (cancelled by
        an interrupt mid-request, a timeout, the server failing) may still have started its
        workflow: its id is noted without a run, and the memo decides later."""
        try:
            value = await call
        except BaseException:
            if action in STARTING and workflow_id is not None:
                self.started.setdefault((workflow_id, None), None)
            raise
        if isinstance(value, Done):
            self.noted(action, value.workflow_id, value.run_id)
        return value

    def chains(self) -> list[tuple[str, str | None]]:
        """The chains to ask about: an id noted without a run only when no run of it is
        known (the same workflow, asked about once)."""
        known = {workflow_id for workflow_id, run_id in self.started if run_id is not None}
        return [(w, r) for w, r in self.started if r is not None or w not in known]
