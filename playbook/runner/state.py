"""What one run shares: how to run (:class:`RunOptions`), the services the runner is given
(reporter, masker, client factory, actions, sleep, clock) and the run's mutable state."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from playbook.actions import REGISTRY, Action
from playbook.records import RunResult
from playbook.runner.hygiene import Ledger, ServerChecks
from playbook.secrets import Masker

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.model import Playbook
    from playbook.report import Reporter


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Clock:
    """Time as the runner reads it: ``monotonic`` for durations and deadlines, ``now`` for
    timestamps. A durable run gives the workflow's deterministic time instead."""

    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = wall_clock

    def iso(self) -> str:
        if self.now is wall_clock:  # (every step stamps its start)
            return wall_iso()
        return self.now().isoformat()


_SECOND: list[Any] = [None, ""]
"""The last whole second :func:`wall_iso` wrote, and its text up to the seconds."""


def wall_iso() -> str:
    """``wall_clock().isoformat()``, the date and time formatted once per second: a fan-out
    stamps thousands of steps a second, and ``isoformat`` with a time zone was a few per
    cent of its client CPU (docs/performance.md)."""
    seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    if seconds != _SECOND[0]:  # (datetime.now floors to the microsecond, as below)
        whole = datetime.fromtimestamp(seconds, timezone.utc).isoformat()
        _SECOND[0], _SECOND[1] = seconds, whole[: -len("+00:00")]
    micro = nanoseconds // 1000
    return f"{_SECOND[1]}.{micro:06d}+00:00" if micro else f"{_SECOND[1]}+00:00"


SYSTEM_CLOCK = Clock()


@dataclass
class RunOptions:
    """How to run, from the command line."""

    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    fail_fast: bool = False
    yes: bool = False
    interactive: bool = False
    ui_url: str | None = None
    namespace: str = "default"
    # run-level hygiene (SPEC section 10); None: as the playbook says
    preflight: bool | None = None
    cleanup: str | None = None
    verify: bool | None = None
    worker_queues: frozenset[str] = frozenset()
    """The task queues of the run's own ``--worker``s (the preflight counts them as polled)."""
    dry_run: bool = False
    """``--dry-run``: only read-only actions and control steps run (:mod:`.dry_run`)."""


@dataclass
class Shared:
    """What every (included) playbook of one run shares: the services the runner is given
    and the run's state. ``actions`` is the registry of leaf actions (fakes in unit tests),
    ``sleep`` and ``clock`` the run's time (time-skipping, fakes, a workflow's timers)."""

    result: RunResult
    options: RunOptions
    reporter: Reporter
    masker: Masker
    client_factory: Callable[[], Awaitable[Client]]
    client: Client | None = None
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    actions: Mapping[str, Action] = field(default_factory=lambda: REGISTRY)
    clock: Clock = SYSTEM_CLOCK
    exit_code: int = 0
    interrupted: bool = False
    include_depth: int = 0
    worker_quote: Callable[[str], str] | None = None
    """What a failing step of a workflow appends to its message: the in-process worker's
    last lines from that workflow (``--worker``; None without in-process workers)."""
    checks: ServerChecks | None = None
    """What preflight, cleanup and verify ask the server (None: nothing to ask)."""
    ledger: Ledger = field(default_factory=Ledger)
    """The workflows this run started, and those a step expected to end."""

    def worst(self, code: int) -> None:
        """Raise the run's exit code to ``code`` if that is worse (130 > 3 > 2 > 1 > 0)."""
        order = {0: 0, 1: 1, 2: 2, 3: 3, 130: 4}
        if order.get(code, 3) > order.get(self.exit_code, 0):
            self.exit_code = code


def ui_link(base: str | None, namespace: str, workflow_id: str, run_id: str | None) -> str | None:
    """The execution's page in the Temporal Web UI (which addresses a run)."""
    if not base or not run_id:
        return None
    return f"{base.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}/{run_id}/history"


def now_iso() -> str:
    return wall_clock().isoformat()


def new_result(
    playbook: Playbook,
    *,
    address: str | None = None,
    namespace: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> RunResult:
    return RunResult(
        playbook=playbook.name,
        path=playbook.path,
        run_id=uuid.uuid4().hex[:12],
        started_at=clock.iso(),
        address=address,
        namespace=namespace,
    )


def uses_temporal(playbook: Playbook) -> bool:
    """Whether running this playbook talks to Temporal at all."""
    return playbook.uses_temporal


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
