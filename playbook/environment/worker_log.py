"""The in-process worker's own output, in a log file instead of among the step lines.

While the run hosts workers, :meth:`WorkerLog.capture` routes to the log file:

- what workflow and activity code prints (``sys.stdout``/``sys.stderr`` writes made in a
  workflow or an activity: temporalio tells, even in the sandbox and on the threads of
  non-async activities);
- log records of temporalio's loggers (``workflow.logger``, ``activity.logger``, the
  worker's warnings with their tracebacks, the SDK core's own logs forwarded to
  ``temporalio.core``) and any record emitted inside a workflow or an activity.

Everything else goes where it went before (a warning of other code still reaches standard
error, as logging's last-resort handler would print it). Each line is masked before it is
written, and tagged with the workflow id it came from, so that a failing step can quote the
last lines of its own workflow (:meth:`WorkerLog.lines_for`; a few lines per workflow are
kept, for a bounded number of workflows).
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import logging
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from playbook.errors import UsageError

QUOTED = 5
"""Entries (a print, a log record) of its workflow's worker output that a failing step's
message quotes: the last ones, each on one line."""
_KEPT_WORKFLOWS = 1000
_USER_LOGGERS = ("temporalio.workflow", "temporalio.activity")
# What temporalio's loggers append to a message ("({'activity_id': '1', ...})"): the log
# file keeps it, a quote in a step's message (which names the workflow) leaves it out.
_CONTEXT = re.compile(r" \(\{'[^\n]*?\}\)(?= \.\.\. |$)")


class WorkerLog:
    """One run's worker log file; ``mask`` hides the run's secrets in every line. Without a
    ``path``, the file is made in a new temporary folder at the first line."""

    def __init__(self, path: Path | None, mask: Callable[[str], str]) -> None:
        self.path = path
        self._mask = mask
        self._file: TextIO | None = None
        self._lock = threading.Lock()
        self._recent: collections.OrderedDict[str, collections.deque[str]] = (
            collections.OrderedDict()
        )
        self._partial: dict[tuple[int, str], str] = {}
        self.written = 0

    def write(self, text: str, source: str, workflow_id: str | None) -> None:
        """Lines of ``source`` (``stdout``, ``stderr`` or a logger's name), masked."""
        lines = [self._mask(line) for line in text.rstrip("\n").split("\n")]
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        tag = f" [{workflow_id}]" if workflow_id else ""
        with self._lock:
            if self._file is None:
                if self.path is None:
                    self.path = Path(tempfile.mkdtemp(prefix="playbook-")) / "worker.log"
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            for line in lines:
                self._file.write(f"{stamp} {source}{tag} {line}\n")
            self._file.flush()
            self.written += len(lines)
            if workflow_id:
                kept = self._recent.pop(workflow_id, None) or collections.deque(maxlen=QUOTED)
                # an entry of many lines (a traceback) is quoted as its first and last
                kept.append(lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}")
                self._recent[workflow_id] = kept
                while len(self._recent) > _KEPT_WORKFLOWS:
                    self._recent.popitem(last=False)

    def lines_for(self, workflow_id: str) -> list[str]:
        """The last worker entries (masked, one line each) of ``workflow_id``'s code."""
        with self._lock:
            return list(self._recent.get(workflow_id, ()))

    def quote(self, workflow_id: str) -> str:
        """What a failing step of ``workflow_id`` appends to its message ("" if nothing)."""
        lines = self.lines_for(workflow_id)
        if not lines:
            return ""
        body = "\n".join(f"  | {_CONTEXT.sub('', line)}" for line in lines)
        return self._mask(
            f"\nworker log {self.path}, the last lines of workflow '{workflow_id}':\n{body}"
        )

    def summary(self) -> str:
        """The line that names the log at the end of a run."""
        return f"worker log: {self.path} ({self.written} line{'s' * (self.written != 1)})"

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        """Route the worker's output here while the block runs."""
        out, err = sys.stdout, sys.stderr
        sys.stdout = _Router(out, self, "stdout")  # type: ignore[assignment]
        sys.stderr = _Router(err, self, "stderr")  # type: ignore[assignment]
        root = logging.getLogger()
        # workflow.logger.info() and activity.logger.info() are what samples use; the
        # worker's own INFO lines (shutting down...) stay out
        levels = {name: logging.getLogger(name).level for name in _USER_LOGGERS}
        for name, level in levels.items():
            if level == logging.NOTSET:
                logging.getLogger(name).setLevel(logging.INFO)
        # handlers that a module set up (logging.basicConfig, say) print no worker records
        others = list(root.handlers)
        for other in others:
            other.addFilter(_outside_workers)
        handler = _Handler(self, err if not others else None)
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)
            for other in others:
                other.removeFilter(_outside_workers)
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            if isinstance(sys.stdout, _Router):
                sys.stdout = out
            if isinstance(sys.stderr, _Router):
                sys.stderr = err
            self.close()


def for_run(
    workers: bool, given: str | None, reports: Sequence[str], mask: Callable[[str], str]
) -> WorkerLog | None:
    """A run's worker log: ``--worker-log`` (``given``), or ``playbook-worker.log`` beside
    the first report file, or (made at its first line) in a temporary folder; None without
    in-process workers, where ``--worker-log`` is a usage error."""
    if not workers:
        if given:
            raise UsageError("--worker-log is the log of the in-process workers: give --worker too")
        return None
    if given is None and reports:
        given = str(Path(reports[0]).parent / "playbook-worker.log")
    return WorkerLog(Path(given) if given else None, mask)


def worker_origin() -> tuple[bool, str | None]:
    """Whether the calling code is a workflow's or an activity's, and its workflow id."""
    from temporalio import activity, workflow

    try:
        if activity.in_activity():
            return True, activity.info().workflow_id
        if workflow.in_workflow():
            return True, workflow.info().workflow_id
    except Exception:  # (a context that is being torn down)
        return False, None
    return False, None


class _Router:
    """A stand-in for ``sys.stdout``/``sys.stderr``: worker code's lines go to the log."""

    def __init__(self, stream: TextIO, log: WorkerLog, name: str) -> None:
        self._stream = stream
        self._log = log
        self._name = name

    def write(self, text: str) -> int:
        inside, workflow_id = worker_origin()
        if not inside:
            return self._stream.write(text)
        key = (threading.get_ident(), self._name)
        pending = self._log._partial.pop(key, "") + text
        done, _, rest = pending.rpartition("\n")
        if rest:
            self._log._partial[key] = rest
        if done:
            self._log.write(done, self._name, workflow_id)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ...
        return getattr(self._stream, name)


def _from_workers(record: logging.LogRecord) -> tuple[bool, str | None]:
    """Whether ``record`` is the worker's, and the workflow id it came from."""
    inside, workflow_id = worker_origin()
    details = getattr(record, "temporal_workflow", None) or getattr(
        record, "temporal_activity", None
    )
    if isinstance(details, dict):
        workflow_id = details.get("workflow_id") or workflow_id
    return inside or record.name.split(".")[0] == "temporalio", workflow_id


def _outside_workers(record: logging.LogRecord) -> bool:
    return not _from_workers(record)[0]


class _Handler(logging.Handler):
    """temporalio's records, and any record made in worker code, into the log; with no
    other handler, the rest as logging's last resort would print them (warnings and worse,
    on standard error)."""

    def __init__(self, log: WorkerLog, stderr: TextIO | None) -> None:
        super().__init__(logging.DEBUG)
        self._log = log
        self._stderr = stderr
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            inside, workflow_id = _from_workers(record)
            if inside:
                self._log.write(self.format(record), record.name, workflow_id)
            elif self._stderr is not None and record.levelno >= logging.WARNING:
                self._stderr.write(record.getMessage() + "\n")
        except Exception:
            self.handleError(record)
