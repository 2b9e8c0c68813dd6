"""What the runs of one pytest session share: a :class:`~playbook.environment.RunEnvironment`
(the bundled dev server, the ``--playbook-worker`` workers, the connections and their
clients) living on one background thread that runs an asyncio event loop. It starts when
the first playbook runs (a ``--collect-only`` starts nothing) and stops when pytest
unconfigures; if it cannot start, every later run fails with the same error.

SIGTERM ends pytest without unconfiguring it, so while the session runs, a SIGTERM handler
stops the dev server (its whole process group) first, then hands the signal on to the
handler from before (the default one ends the process, as it would have).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Future
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from playbook.environment import RunEnvironment

if TYPE_CHECKING:
    from playbook.errors import PlaybookError
    from playbook.model import Playbook
    from playbook.pytest_plugin.hooks import Settings
    from playbook.records import RunResult

T = TypeVar("T")
SESSION = pytest.StashKey["PlaybookSession"]()


class PlaybookSession:
    """Runs playbooks for the whole pytest session, on one background event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.environment = RunEnvironment(
            settings.connection,
            server="dev" if settings.dev_server else None,
            workers=settings.workers,
            ui_url=settings.ui_url,
            flag_prefix="--playbook-",
            search_attributes=settings.search_attributes,
            data_converter=settings.data_converter or None,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._failure: PlaybookError | None = None
        self._sigterm: tuple[Callable[..., None], Any] | None = None

    # the loop

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._serve, args=(loop,), name="playbook-session", daemon=True
            )
            self._loop = loop
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    # start and stop

    def start(self) -> None:
        """Start the dev server and the workers, once; a failure fails every later run."""
        from playbook.errors import PlaybookError

        if self._failure is not None:
            raise self._failure
        if self._started:
            return
        self._started = True
        self._stop_on_sigterm()  # (before the start: a server may be up before it fails)
        try:
            self._submit(self._start()).result()
        except PlaybookError as e:
            self._failure = e
            raise

    def _stop_on_sigterm(self) -> None:
        """Stop the servers on SIGTERM, then let it do what it did before."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_IGN, None):
            return

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            from playbook import devserver

            devserver.stop_all()  # (also one that is still starting on the loop's thread)
            signal.signal(signal.SIGTERM, previous)
            if callable(previous):
                previous(signum, frame)
            else:  # the default: end this process of the signal, as without us
                os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._sigterm = (on_sigterm, previous)

    def _restore_sigterm(self) -> None:
        if self._sigterm is not None:
            ours, previous = self._sigterm
            self._sigterm = None
            if signal.getsignal(signal.SIGTERM) is ours:
                signal.signal(signal.SIGTERM, previous)

    async def _start(self) -> None:
        await self.environment.start()
        # where the session connects: a playbook's own connection does not move the workers
        await self.environment.host_workers()

    def close(self) -> None:
        """Stop the workers, the loop and the dev server."""
        try:
            if self._loop is not None and self._thread is not None:
                try:
                    with contextlib.suppress(Exception):
                        self._submit(self.environment.aclose()).result(timeout=60)
                finally:
                    self._loop.call_soon_threadsafe(self._loop.stop)
                    self._thread.join(timeout=30)
        finally:
            self.environment.stop_servers()
            self._restore_sigterm()
            self._loop = self._thread = None

    # one run

    def run(
        self,
        playbook: Playbook,
        inputs: Mapping[str, Any] | None = None,
        *,
        connection: Mapping[str, Any] | None = None,
        tags: frozenset[str] = frozenset(),
        skip_tags: frozenset[str] = frozenset(),
        yes: bool | None = None,
        fail_fast: bool = False,
        hygiene: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run one playbook; its console report goes to stdout (pytest captures it).
        ``inputs`` (values, not strings) go over the session's ``--playbook-input``s."""
        from playbook.inputs import resolve_each
        from playbook.report.console import ConsoleReporter
        from playbook.runner import RunOptions

        [resolved] = resolve_each(
            [(playbook.path, playbook.inputs)],
            inputs or {},
            from_cli=False,
            shared=self.settings.inputs,
        )
        self.start()
        options = RunOptions(
            tags=tags,
            skip_tags=skip_tags,
            fail_fast=fail_fast,
            yes=self.settings.yes if yes is None else yes,
            interactive=False,
            # preflight, cleanup, verify given to run_playbook win over --playbook-no-preflight
            **{"preflight": self.settings.preflight, **(hygiene or {})},
        )
        # The loop thread writes to this test's stdout: the main thread waits meanwhile, so
        # pytest captures the report with the test (and -s shows it as it happens).
        reporter = ConsoleReporter(sys.stdout, colour=False, live=False)
        runner = self.environment.runner(
            playbook, resolved, options=options, reporter=reporter, overrides=connection
        )
        future = self._submit(runner.run())
        try:
            return future.result()
        except BaseException:  # Ctrl-C or a pytest-timeout: let finally clean up, briefly
            if self._loop is not None:
                self._loop.call_soon_threadsafe(runner.interrupt)
            with contextlib.suppress(BaseException):
                future.result(timeout=30)
            raise
