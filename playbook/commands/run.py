"""``playbook run``: the request (files, inputs, options, report paths: every usage problem
before anything starts) -> the run environment (:mod:`playbook.environment`: servers,
workers, connections) -> one runner per file, ``--jobs`` at a time -> teardown -> the
reports and the exit code.

SIGINT and SIGTERM are handled from start to end (:mod:`.signals`): start-up is cancelled
(the runs are then ``interrupted`` without having started), the runs are interrupted,
teardown is hurried by a second signal; the reports are written in every case, and a run
that the command did not see through never says ``passed``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from playbook.commands import collector
from playbook.commands.signals import Signals
from playbook.environment import RunEnvironment, Server
from playbook.errors import PlaybookError, UsageError
from playbook.report.paths import is_stdout

if TYPE_CHECKING:
    from playbook.environment.worker_log import WorkerLog
    from playbook.model import Playbook
    from playbook.records import RunResult
    from playbook.runner import Runner
    from playbook.secrets import Masker

_STATUS = {1: "failed", 2: "failed", 130: "interrupted"}  # as the runner says; else "error"


@dataclass
class RunRequest:
    files: Sequence[str]
    inputs: Mapping[str, str] = field(default_factory=dict)
    inputs_file: str | None = None
    connection: dict[str, Any] = field(default_factory=dict)
    dev_server: bool = False
    time_skipping: bool = False
    workers: Sequence[str] = ()
    junit_xml: str | None = None
    json_report: str | None = None
    html_report: str | None = None
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    fail_fast: bool = False
    yes: bool = False
    dry_run: bool = False
    jobs: int = 1
    verbosity: int = 0
    ui_url: str | None = None
    include_root: str | None = None
    history_dir: str | None = None
    search_attributes: Sequence[str] = ()
    data_converter: str | None = None
    worker_log: str | None = None
    preflight: bool | None = None
    cleanup: str | None = None
    verify: bool | None = None
    color: str = "auto"

    @property
    def reports(self) -> dict[str, str | None]:
        return {
            "--json-report": self.json_report,
            "--junit-xml": self.junit_xml,
            "--html-report": self.html_report,
        }


def _server(request: RunRequest) -> Server | None:
    if request.dev_server and request.time_skipping:
        raise UsageError("--dev-server and --time-skipping exclude each other; choose one")
    return "dev" if request.dev_server else "time-skipping" if request.time_skipping else None


def _given(request: RunRequest) -> dict[str, Any]:
    from playbook.inputs import load_inputs_file

    given: dict[str, Any] = {}
    if request.inputs_file:
        given.update(load_inputs_file(request.inputs_file))
    given.update(request.inputs)
    return given


async def run_async(request: RunRequest, signals: Signals | None = None) -> int:
    """Run the request; the exit code. ``signals`` are the command's (installed from its
    start, see :meth:`Signals.install`); without them, they are handled from here on."""
    signals = Signals() if signals is None else signals
    command = _Command(request, signals)
    with signals.in_loop(asyncio.get_running_loop()):
        command.prepare()  # a usage error here: nothing started, no report
        error = await command.execute()
        command.said_worker_log()
    try:
        code = command.write_reports()  # (a FIFO's reader is waited for outside the loop)
    finally:
        signals.finish()
        for result in command.results:  # (the on-disk record logs: read for the last time)
            getattr(result.records, "close", lambda: None)()
    if isinstance(error, PlaybookError) and signals.interrupted:
        sys.stderr.write(f"error: {error}\n")  # said, but the exit code is the signal's
    elif error is not None:
        raise error
    return code


class _Command:
    def __init__(self, request: RunRequest, signals: Signals) -> None:
        self.request = request
        self.signals = signals
        self.environment: RunEnvironment
        self.playbooks: list[Playbook] = []
        self.inputs: list[dict[str, Any]] = []
        self.console: TextIO = sys.stdout
        self.results: list[RunResult] = []
        self.maskers: list[Masker] = []
        self.done: set[int] = set()  # ids of the results whose runs ended on their own

    # -- before anything starts ------------------------------------------------------------

    def prepare(self) -> None:
        """Every usage problem (options, report paths, files, inputs), then a result per
        file that says the truth even if nothing more happens."""
        from playbook.inputs import resolve_each
        from playbook.loader import load_many
        from playbook.report.paths import check
        from playbook.runner import new_result, uses_temporal

        request = self.request
        self.environment = RunEnvironment(
            request.connection,
            server=_server(request),
            workers=request.workers,
            ui_url=request.ui_url,
            search_attributes=request.search_attributes,
            data_converter=request.data_converter,
            worker_log=self._worker_log(),
        )
        problems = check(request.reports)
        if problems:
            raise UsageError("\n".join(problems))
        if any(map(is_stdout, request.reports.values())):
            self.console = sys.stderr  # standard output holds the report, and nothing else
        self.playbooks = load_many(list(request.files), include_root=request.include_root)
        self.environment.register_search_attributes(self.playbooks)
        self.inputs = resolve_each(
            [(p.path, p.inputs) for p in self.playbooks],
            _given(request),
            from_cli=bool(request.inputs),
        )
        if request.workers or self.environment.server or any(map(uses_temporal, self.playbooks)):
            from playbook import devserver

            # (imports temporalio: only when it is needed anyway)
            devserver.quiet_runtime(forward=bool(request.workers))
        self.maskers = [self.environment.masker(p, i) for p, i in zip(self.playbooks, self.inputs)]
        self.results = [new_result(p) for p in self.playbooks]
        for result, masker in zip(self.results, self.maskers):
            result.masker = masker  # (the report writers mask with it)

    def _worker_log(self) -> WorkerLog | None:
        from playbook.environment.worker_log import for_run

        request = self.request
        reports = [p for p in request.reports.values() if p and not is_stdout(p)]
        return for_run(bool(request.workers), request.worker_log, reports, self._masked)

    def said_worker_log(self) -> None:
        """The summary's last line: where the workers' output went (if they wrote any)."""
        log = self.environment.worker_log
        if log is not None and log.written:
            self.console.write(log.summary() + "\n")
            self.console.flush()

    # -- start-up, the runs, teardown ------------------------------------------------------

    async def execute(self) -> BaseException | None:
        """Start, run, tear down; what went wrong is recorded in the results and returned
        (to be raised once the reports are written)."""
        error: BaseException | None = None
        try:
            runners = await self._start_up()
            if runners is None:
                self._say(f"interrupted ({self.signals.name}) before the run started; nothing ran")
                self._unfinished(130, f"interrupted ({self.signals.name}) before the run started")
            else:
                await self._run(runners)
        except PlaybookError as e:  # the servers or the workers failed us
            e.args = (self._masked(str(e)),)  # its message may name the connection
            self._unfinished(e.exit_code, str(e))
            error = e
        except (asyncio.CancelledError, KeyboardInterrupt) as e:  # (from outside)
            self._unfinished(130, "interrupted")
            error = e
        except BaseException as e:  # a bug
            self._unfinished(3, f"the command stopped: {type(e).__name__}: {e}")
            error = e
        teardown_error = await self._teardown()
        self._interrupted_late()
        return error or teardown_error

    async def _start_up(self) -> list[Runner] | None:
        """The servers, the runners, the workers; None if a signal stopped it."""
        if self.signals.interrupted:
            return None
        task = asyncio.ensure_future(self._start())
        by_signal = False

        def stop() -> None:
            nonlocal by_signal
            by_signal = True
            task.cancel()

        with self.signals.reacting(stop):
            try:
                runners = await task
            except asyncio.CancelledError:
                if by_signal and task.cancelled():
                    return None
                raise
        return None if self.signals.interrupted else runners  # (one came as it ended)

    async def _start(self) -> list[Runner]:
        environment = self.environment
        await environment.start()
        runners = [self._runner(p, i) for p, i in zip(self.playbooks, self.inputs)]
        self.results = [r.shared.result for r in runners]
        self.maskers = [r.shared.masker for r in runners]
        # the workers connect where the first playbook does
        await environment.host_workers(self.playbooks[0], self.inputs[0])
        collector.settle()
        return runners

    def _runner(self, playbook: Playbook, inputs: dict[str, Any]) -> Runner:
        from playbook.report.console import ConsoleReporter
        from playbook.report.terminal import styling
        from playbook.runner import RunOptions, is_interactive

        request = self.request
        options = RunOptions(
            tags=request.tags,
            skip_tags=request.skip_tags,
            fail_fast=request.fail_fast,
            yes=request.yes,
            dry_run=request.dry_run,
            preflight=request.preflight,
            cleanup=request.cleanup,
            verify=request.verify,
            # a question would land in the report on standard output
            interactive=is_interactive() and self.console is sys.stdout,
        )
        style = styling(request.color, self.console)
        reporter = ConsoleReporter(
            self.console, verbosity=request.verbosity, colour=style.colour, bold=style.bold
        )
        runner = self.environment.runner(playbook, inputs, options=options, reporter=reporter)
        from playbook.record_log import journaled

        return journaled(runner)

    async def _run(self, runners: list[Runner]) -> None:
        """The runs, ``--jobs`` at a time; a signal interrupts them (a second one: hard)."""
        gate = asyncio.Semaphore(max(1, self.request.jobs))
        stop = False

        def interrupt() -> None:
            for runner in runners:
                runner.interrupt(hard=self.signals.count > 1)

        async def one(runner: Runner) -> None:
            nonlocal stop
            async with gate:
                if stop or any(r.shared.interrupted for r in runners):
                    runner.shared.result.status = "skipped"
                else:
                    await runner.run()
                    stop = stop or (self.request.fail_fast and runner.shared.exit_code != 0)
                    await self._evidence(runner)
                self.done.add(id(runner.shared.result))

        with self.signals.reacting(interrupt):
            await asyncio.gather(*(one(r) for r in runners))

    async def _evidence(self, runner: Runner) -> None:
        """``--history-dir``: the histories of the workflows its failed steps targeted, read
        with the run's own client (none if it never connected: nothing to fetch)."""
        client = runner.shared.client
        if self.request.history_dir is None or client is None or runner.shared.interrupted:
            return
        from playbook.core.evidence import FAILED, write_histories

        records = runner.shared.result.records
        failed = {i: r for i, r in enumerate(records) if r.status in FAILED}
        for warning in await write_histories(client, failed.values(), self.request.history_dir):
            self.console.write(f"warning: {runner.shared.masker.text(warning)}\n")
        for index, record in failed.items():
            records[index] = record  # (the log's records are copies: it writes them again)
        self.console.flush()

    async def _teardown(self) -> BaseException | None:
        """Workers, then servers; bounded, and a second signal cuts it short."""
        task = asyncio.ensure_future(self.environment.aclose())

        def hurry() -> None:
            if self.signals.count > 1:
                task.cancel()

        with self.signals.reacting(hurry):
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled() or not self.signals.count > 1:
                    raise
            except Exception as e:  # (a worker's shutdown failed: a bug of ours or the SDK's)
                return e
            finally:
                self.environment.stop_servers()
        return None

    # -- what the results say --------------------------------------------------------------

    def _unfinished(self, code: int, message: str) -> None:
        """Every run that did not end on its own ended with ``code`` because of ``message``."""
        for result, masker in zip(self.results, self.maskers):
            if id(result) not in self.done:
                result.status, result.exit_code = _STATUS.get(code, "error"), code
                result.error = result.error or masker.text(message)
                self.done.add(id(result))

    def _interrupted_late(self) -> None:
        """A signal that came when no run could take it (as the runs ended, or in
        teardown): the command exits 130, so the reports say so, and what the run was."""
        from playbook.report.files import worst_exit_code

        if (
            not self.signals.interrupted
            or worst_exit_code(r.exit_code for r in self.results) == 130
        ):
            return
        when = (
            f"interrupted ({self.signals.name}) after the run had ended, as the command shut down"
        )
        self._say(when)
        for result in self.results:
            before = f"{result.status}, exit {result.exit_code}"
            result.error = f"{when} (it had {before})" + (
                f": {result.error}" if result.error else ""
            )
            result.status, result.exit_code = "interrupted", 130

    def _masked(self, text: str) -> str:
        for masker in self.maskers:
            text = masker.text(text)
        return text

    def _say(self, message: str) -> None:
        self.console.write(f"error: {message}\n")
        self.console.flush()

    # -- the reports -----------------------------------------------------------------------

    def write_reports(self) -> int:
        """Write each report asked for (one failing does not stop the other); the exit
        code: the runs', 3 if a report could not be written, 130 after a signal."""
        from playbook.report.files import worst_exit_code, write_json_report, write_junit_xml

        codes = [r.exit_code for r in self.results] + ([130] if self.signals.interrupted else [])
        before = self.signals.count
        from playbook.report.html import write_html_report

        writers = {
            "--json-report": write_json_report,
            "--junit-xml": write_junit_xml,
            "--html-report": write_html_report,
        }
        for flag, path in self.request.reports.items():
            if path is None:
                continue
            try:
                writers[flag](path, self.results, stop=lambda: self.signals.count > before)
            except OSError as e:
                reason = e.strerror or str(e)
                sys.stderr.write(
                    f"error: {flag} {path}: the report could not be written: {reason}\n"
                )
                codes.append(130 if self.signals.count > before else 3)
        from playbook.report import github

        if github.active():  # annotations and the job summary (SPEC section 14)
            github.publish(self.results, self.console)
        return worst_exit_code(codes)
