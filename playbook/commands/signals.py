"""SIGINT and SIGTERM for the whole of one ``playbook run``, from the moment the command
line is read until the process exits.

A signal never ends the process half-way (SIGTERM's default would: no report, and a dev
server left running in its own session). It is recorded, and the phase the command is in
reacts (:meth:`Signals.reacting`): start-up (servers, workers) is cancelled, the runs are
interrupted (a second signal: hard), teardown goes on (a second signal cancels what is
left of it), a report waiting for a FIFO's reader gives up. The command then exits 130.

The handlers are plain Python ones, so a signal is recorded the moment the main thread
sees it, even while a blocking call (stopping a server) holds the event loop; the phase's
reaction is then called from the loop. While a loop runs, a wake-up socket makes the loop
(and so the handler) run at once whichever thread the kernel gave the signal to.
Once the command's work is done (:meth:`Signals.finish`), a signal raises
``KeyboardInterrupt`` again, so that nothing left in the way of the exit can hang it.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class Signals:
    """The SIGINT and SIGTERM that one command received, and who reacts to the next."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._react: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._raising = False

    @property
    def count(self) -> int:
        return len(self.received)

    @property
    def interrupted(self) -> bool:
        return bool(self.received)

    @property
    def name(self) -> str:
        """How the first signal is named in messages: ``Ctrl-C`` or ``SIGTERM``."""
        return _NAMES.get(signal.Signals(self.received[0]), "a signal") if self.received else ""

    def install(self) -> None:
        """Record SIGINT and SIGTERM from now on (in the main thread)."""
        for sig in SIGNALS:
            signal.signal(sig, self._handler)

    @contextlib.contextmanager
    def installed(self) -> Iterator[Signals]:
        """:meth:`install` for the block; the handlers from before are back after it."""
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
        self.install()
        try:
            yield self
        finally:
            _restore(previous)

    def finish(self) -> None:
        """The work is done: a signal from now on raises ``KeyboardInterrupt`` (exit 130)."""
        self._raising = True

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # (the loop has closed)
                self._loop.call_soon_threadsafe(self._call_reaction)
        if self._raising:
            raise KeyboardInterrupt

    def _call_reaction(self) -> None:
        if self._react is not None:
            self._react()

    @contextlib.contextmanager
    def in_loop(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """While ``loop`` runs: the reactions are called from it, and a signal wakes it;
        afterwards the handlers from before are back. (Outside the main thread, where
        Python takes no signals, it does nothing.)"""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
        self.install()
        reader, writer = socket.socketpair()
        for end in (reader, writer):
            end.setblocking(False)
        loop.add_reader(reader.fileno(), _drain, reader)
        wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._loop = loop
        try:
            yield
        finally:
            self._loop = None
            signal.set_wakeup_fd(wakeup)
            loop.remove_reader(reader.fileno())
            reader.close()
            writer.close()
            _restore(previous)

    @contextlib.contextmanager
    def reacting(self, react: Callable[[], None]) -> Iterator[None]:
        """Call ``react`` on each signal while the block runs (its phase's reaction)."""
        previous, self._react = self._react, react
        try:
            yield
        finally:
            self._react = previous


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    for sig, handler in handlers.items():
        if handler is not None:  # (None: set outside Python, cannot be put back)
            signal.signal(sig, handler)


def _drain(reader: socket.socket) -> None:
    """Empty the wake-up socket (the handler itself has recorded the signal)."""
    with contextlib.suppress(OSError):
        while reader.recv(512):
            pass
