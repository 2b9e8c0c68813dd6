"""The pytest plugin: playbook files as tests, and the ``run_playbook`` fixture.

Registered as the ``pytest11`` entry point ``playbook`` (``-p no:playbook`` turns it off).
Files whose name matches the ini option ``playbook_files`` (default ``*.playbook.yaml``)
are collected, one test item per file. What the runs share — the bundled dev server, the
``--playbook-worker`` workers and the Temporal clients — lives once per session on one
background thread that runs an asyncio loop: started when the first playbook runs (a
``--collect-only`` starts nothing) and stopped when pytest unconfigures.

A failed item is reported by :func:`explain` (the failed steps, their errors, workflow
ids and UI links, the run's summary), an invalid playbook by its validation message;
neither shows a traceback of this plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import os
import re
import sys
import threading
from collections.abc import Coroutine, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr
    from temporalio.client import Client

    from playbook.devserver import DevServer
    from playbook.errors import PlaybookError
    from playbook.loader import Playbook
    from playbook.records import RunResult

T = TypeVar("T")
DEFAULT_PATTERNS = ["*.playbook.yaml"]
FIXTURE_OPTIONS = ("address", "namespace", "api_key", "connection", "tags", "skip_tags", "yes",
                   "fail_fast")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- options ------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("playbook", "temporal-playbook")
    group.addoption("--playbook-address", metavar="HOST:PORT",
                    help="Temporal address for the playbooks and workers (ini: playbook_address)")
    group.addoption("--playbook-namespace", metavar="NAME",
                    help="Temporal namespace (ini: playbook_namespace)")
    group.addoption("--playbook-api-key", metavar="KEY",
                    help="API key (or set TEMPORAL_API_KEY); never printed")
    group.addoption("--playbook-dev-server", action="store_true", default=None,
                    help="start the bundled dev server once for the session and use it "
                         "(ini: playbook_dev_server)")
    group.addoption("--playbook-worker", action="append", metavar="MODULE[:ATTR]",
                    help="host this module's workflows and activities in-process for the "
                         "session; repeatable (ini: playbook_workers)")
    group.addoption("--playbook-input", action="append", metavar="NAME=VALUE",
                    help="input for the playbooks that declare it; repeatable "
                         "(ini: playbook_inputs)")
    group.addoption("--playbook-ui-url", metavar="URL",
                    help="Temporal UI base URL for the links in reports (ini: playbook_ui_url)")
    group.addoption("--playbook-yes", action="store_true", default=None,
                    help="answer yes to every confirm step")
    parser.addini("playbook_files", type="args", default=list(DEFAULT_PATTERNS),
                  help="glob patterns of the file names collected as playbooks "
                       "(default: *.playbook.yaml)")
    parser.addini("playbook_address", help="Temporal address (HOST:PORT)")
    parser.addini("playbook_namespace", help="Temporal namespace")
    parser.addini("playbook_dev_server", type="bool", default=False,
                  help="start the bundled dev server once for the session")
    parser.addini("playbook_workers", type="linelist", default=[],
                  help="worker modules (MODULE[:ATTR]), one a line")
    parser.addini("playbook_inputs", type="linelist", default=[],
                  help="playbook inputs (NAME=VALUE), one a line")
    parser.addini("playbook_ui_url", help="Temporal UI base URL for the links in reports")


@dataclass
class Settings:
    """The session's options: command line over ini."""

    connection: dict[str, Any] = field(default_factory=dict)
    dev_server: bool = False
    workers: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    ui_url: str | None = None
    yes: bool = False

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def option(name: str) -> Any:
            return config.getoption(f"playbook_{name}")

        address = option("address") or config.getini("playbook_address") or None
        dev_server = bool(option("dev_server")) or (
            bool(config.getini("playbook_dev_server")) and not option("address"))
        if dev_server and address:
            raise pytest.UsageError("--playbook-dev-server and --playbook-address exclude each "
                                    "other: the dev server has an address of its own")
        connection = {"address": address,
                      "namespace": option("namespace") or config.getini("playbook_namespace"),
                      "api_key": option("api_key")}
        inputs: dict[str, str] = {}
        for pair in [*config.getini("playbook_inputs"), *(option("input") or [])]:
            name, sep, value = pair.partition("=")
            if not sep or not _NAME.fullmatch(name.strip()):
                raise pytest.UsageError(f"--playbook-input takes NAME=VALUE, got {pair!r}")
            inputs[name.strip()] = value
        return cls(connection={k: v for k, v in connection.items() if v},
                   dev_server=dev_server,
                   workers=list(option("worker") or config.getini("playbook_workers")),
                   inputs=inputs, ui_url=option("ui_url") or config.getini("playbook_ui_url"),
                   yes=bool(option("yes")))


_SESSION = pytest.StashKey["PlaybookSession"]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "playbook: a playbook file collected as a test")
    config.stash[_SESSION] = PlaybookSession(Settings.from_config(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash[_SESSION].settings
    parts = [f"{k}={v}" for k, v in settings.connection.items() if k != "api_key"]
    parts += ["dev server"] * settings.dev_server
    parts += [f"worker={w}" for w in settings.workers]
    parts += [f"input {name}" for name in settings.inputs]
    return f"playbook: {', '.join(parts)}" if parts else None


# -- collection ---------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PlaybookFile | None:
    patterns: list[str] = parent.config.getini("playbook_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        file: PlaybookFile = PlaybookFile.from_parent(parent, path=file_path)
        return file
    return None


class PlaybookFile(pytest.File):
    """A playbook file; its one item is named after the playbook."""

    def collect(self) -> Iterator[PlaybookItem]:
        from playbook.errors import PlaybookError
        from playbook.loader import load

        playbook: Playbook | None = None
        error: PlaybookError | None = None
        try:
            playbook = load(self.path)
        except PlaybookError as e:
            error = e
        yield PlaybookItem.from_parent(self, name=self._name(playbook), playbook=playbook,
                                       error=error)

    def _name(self, playbook: Playbook | None) -> str:
        """The playbook's ``name``, read from the YAML when the playbook is invalid (so that
        the node id stays when it is fixed); the file's stem without one."""
        from playbook.errors import PlaybookError
        from playbook.yamlsource import load_file

        stem = self.path.name.split(".")[0] or self.path.name
        name: object = playbook.name if playbook is not None else None
        if name is None:
            with contextlib.suppress(PlaybookError):
                data = load_file(self.path).data
                name = data.get("name") if isinstance(data, dict) else None
        text = name.replace("::", ":").strip() if isinstance(name, str) else ""
        return text or stem


class PlaybookFailed(Exception):
    """A playbook ran and did not pass."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        super().__init__(explain(result))


class PlaybookItem(pytest.Item):
    def __init__(self, *, playbook: Playbook | None, error: PlaybookError | None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.playbook = playbook
        self.error = error
        self.add_marker("playbook")
        if playbook is not None:
            self.extra_keyword_matches.update(playbook.tags)  # -k smoke
            given = self.config.stash[_SESSION].settings.inputs
            missing = [name for name, spec in playbook.inputs.items()
                       if isinstance(spec, dict) and spec.get("required") is True
                       and spec.get("default") is None and name not in given]
            if missing:  # a runbook for a given order, say: it cannot run without its inputs
                self.add_marker(pytest.mark.skip(
                    reason=f"needs input {', '.join(missing)}: give --playbook-input "
                           f"{missing[0]}=VALUE"))

    def runtest(self) -> None:
        if self.error is not None:
            raise self.error
        assert self.playbook is not None
        session = self.config.stash[_SESSION]
        result = session.run(self.playbook)
        if result.exit_code != 0:
            raise PlaybookFailed(result)

    def repr_failure(self, excinfo: ExceptionInfo[BaseException],
                     style: Any = None) -> str | TerminalRepr:
        from playbook.errors import InvalidInputs, PlaybookError

        error = excinfo.value
        if isinstance(error, InvalidInputs):  # its advice names the CLI's flags
            return f"{self.path}: " + str(error).replace(
                "give it with -i ", "give it with --playbook-input ").replace(
                " or in --inputs-file", "")
        if isinstance(error, (PlaybookFailed, PlaybookError)):
            return str(error)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"playbook: {self.name}"  # a skip report needs a line


# -- the failure report -------------------------------------------------------------------


def explain(result: RunResult) -> str:
    """What went wrong in a run, for a test report: each failed step with its error,
    workflow and UI link, the run's error if any, and the summary line."""
    from playbook.durations import format_duration

    outcome = {"error": "failed with an error", "interrupted": "was interrupted"}
    lines = [f"playbook '{result.playbook}' {outcome.get(result.status, result.status)} "
             f"({result.path})"]
    for record in result.records:
        if record.status != "failed":
            continue
        where = ", ".join(p for p in (f"id {record.id}" if record.id else "",
                                      f"line {record.line}" if record.line else "") if p)
        lines.append(f"step {record.path} '{record.name}'" + (f" ({where})" if where else "")
                     + " failed")
        error = record.error or {}
        message = str(error.get("message") or "no error message")
        kind = error.get("type")
        if kind and kind not in message:
            message = f"{kind}: {message}"
        first, *rest = message.splitlines() or [""]
        lines.append(f"  error: {first}")
        lines += [f"    {line}" for line in rest]
        if record.workflow_id:
            run = f" (run {record.run_id})" if record.run_id else ""
            lines.append(f"  workflow: {record.workflow_id}{run}")
        if record.ui_link:
            lines.append(f"  ui: {record.ui_link}")
    if result.error:
        first, *rest = result.error.splitlines()
        lines += [f"error: {first}", *(f"  {line}" for line in rest)]
    counts = result.counts()
    parts = [f"{counts[k]} {k}" for k in ("passed", "failed", "skipped", "canceled") if counts[k]]
    lines.append(f"{result.status}: {result.playbook}: {', '.join(parts) or 'no steps'} in "
                 f"{format_duration(result.duration)} (exit {result.exit_code})")
    return "\n".join(lines)


# -- the session: one event loop thread, the dev server, workers, clients -----------------


class PlaybookSession:
    """Runs playbooks for the whole pytest session, on one background event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.overrides = dict(settings.connection)
        self.ui_url = settings.ui_url
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = False
        self._failure: PlaybookError | None = None
        self._stack = contextlib.AsyncExitStack()
        self._server: DevServer | None = None
        self._clients: dict[str, Client] = {}

    # the loop

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._serve, args=(loop,),
                                            name="playbook-session", daemon=True)
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
        try:
            self._submit(self._start()).result()
        except PlaybookError as e:
            self._failure = e
            raise

    async def _start(self) -> None:
        from playbook import devserver
        from playbook.errors import PlaybookError, UsageError

        if self.settings.dev_server:
            self._server = await devserver.start_dev_server(ui=True)
            self.overrides.update(address=self._server.address,
                                  namespace=self._server.namespace)
            self.overrides.pop("api_key", None)
            self.ui_url = self.ui_url or self._server.ui_url
        try:
            specs = [s for ref in self.settings.workers
                     for s in devserver.load_worker_specs(ref)]
        except PlaybookError as e:  # its messages name the CLI's flag
            raise UsageError(str(e).replace("--worker ", "--playbook-worker ", 1)) from None
        if specs:
            client = await self.client(self.overrides)
            try:
                await self._stack.enter_async_context(devserver.hosted_workers(client, specs))
            except Exception as e:  # temporalio rejects bad workflow classes with plain errors
                names = ", ".join(self.settings.workers)
                raise PlaybookError(f"--playbook-worker {names}: cannot host the workers: "
                                    f"{type(e).__name__}: {e}") from e

    def close(self) -> None:
        """Stop the workers, the loop and the dev server."""
        try:
            if self._loop is not None and self._thread is not None:
                try:
                    with contextlib.suppress(Exception):
                        self._submit(self._stack.aclose()).result(timeout=60)
                finally:
                    self._loop.call_soon_threadsafe(self._loop.stop)
                    self._thread.join(timeout=30)
        finally:
            if self._server is not None:
                self._server.stop()
            self._loop = self._thread = self._server = None

    async def client(self, connection: Mapping[str, Any]) -> Client:
        """One client per distinct connection, for the whole session."""
        from playbook.core import create_client
        from playbook.durations import parse_duration

        key = json.dumps(dict(connection), sort_keys=True, default=str)
        if key not in self._clients:
            timeout = parse_duration(connection.get("connect_timeout", "5s")).total_seconds()
            self._clients[key] = await create_client(connection, timeout=timeout)
        return self._clients[key]

    # one run

    def run(self, playbook: Playbook, inputs: Mapping[str, Any] | None = None, *,
            connection: Mapping[str, Any] | None = None, tags: frozenset[str] = frozenset(),
            skip_tags: frozenset[str] = frozenset(), yes: bool | None = None,
            fail_fast: bool = False) -> RunResult:
        """Run one playbook; its console report goes to stdout (pytest captures it)."""
        from playbook.report.console import ConsoleReporter
        from playbook.runner import RunOptions

        resolved = self.resolve_inputs(playbook, inputs or {})
        self.start()
        options = RunOptions(tags=tags, skip_tags=skip_tags, fail_fast=fail_fast,
                             yes=self.settings.yes if yes is None else yes, interactive=False)
        # The loop thread writes to this test's stdout: the main thread waits meanwhile, so
        # pytest captures the report with the test (and -s shows it as it happens).
        reporter = ConsoleReporter(sys.stdout, colour=False, live=False)
        from playbook.commands.run import build_runner

        runner, _ = build_runner(playbook, resolved,
                                 overrides={**self.overrides, **(connection or {})},
                                 options=options, reporter=reporter, ui_url=self.ui_url,
                                 connect=self.client)
        future = self._submit(runner.run())
        try:
            return future.result()
        except BaseException:  # Ctrl-C or a pytest-timeout: let finally clean up, briefly
            if self._loop is not None:
                self._loop.call_soon_threadsafe(runner.interrupt)
            with contextlib.suppress(BaseException):
                future.result(timeout=30)
            raise

    def resolve_inputs(self, playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
        """Session inputs (strings, for the playbooks that declare them) under ``given``."""
        from playbook.inputs import resolve_inputs

        specs = playbook.inputs
        cli = {k: v for k, v in self.settings.inputs.items() if k in specs and k not in given}
        typed = resolve_inputs({k: specs[k] for k in cli}, cli, from_cli=True)
        return resolve_inputs(specs, {**typed, **given}, from_cli=False)


# -- the fixture --------------------------------------------------------------------------


class RunPlaybook(Protocol):
    """The ``run_playbook`` fixture's type, for annotations in users' tests."""

    def __call__(self, path: str | os.PathLike[str], inputs: Mapping[str, Any] | None = None,
                 **options: Any) -> RunResult: ...


@pytest.fixture
def run_playbook(request: pytest.FixtureRequest) -> RunPlaybook:
    """Run one playbook with the session's connection, dev server and workers; returns its
    :class:`~playbook.records.RunResult` (a failed playbook does not raise; an invalid one
    raises ``InvalidPlaybook``). A relative path is looked up next to the test file first,
    then in the current directory. Options: address, namespace, api_key, connection (a
    mapping of connection keys), tags, skip_tags, yes, fail_fast."""
    session = request.config.stash[_SESSION]
    here = request.path.parent

    def run(path: str | os.PathLike[str], inputs: Mapping[str, Any] | None = None,
            **options: Any) -> RunResult:
        from playbook.loader import load

        unknown = sorted(set(options) - set(FIXTURE_OPTIONS))
        if unknown:
            raise TypeError(f"run_playbook() got unknown option(s) {', '.join(unknown)}; "
                            f"it takes: {', '.join(FIXTURE_OPTIONS)}")
        target = Path(path)
        if not target.is_absolute() and (here / target).exists():
            target = here / target
        connection = dict(options.get("connection") or {})
        connection.update({k: options[k] for k in ("address", "namespace", "api_key")
                           if options.get(k)})
        return session.run(load(target), inputs, connection=connection,
                           tags=frozenset(options.get("tags") or ()),
                           skip_tags=frozenset(options.get("skip_tags") or ()),
                           yes=options.get("yes"), fail_fast=bool(options.get("fail_fast")))

    return run


__all__ = ["PlaybookFailed", "PlaybookSession", "RunPlaybook", "explain", "run_playbook"]

