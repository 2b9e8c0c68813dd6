"""``playbook run``: validate every file, connect (or start a bundled server), host the
workers, run the playbooks, write the reports, and return the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playbook import templating
from playbook.errors import UsageError
from playbook.loader import Playbook, load_many
from playbook.records import RunResult
from playbook.report import Reporter
from playbook.report.console import ConsoleReporter
from playbook.report.files import worst_exit_code, write_json_report, write_junit_xml
from playbook.runner import Runner, RunOptions, Shared, is_interactive, new_result, uses_temporal
from playbook.secrets import Masker


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
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    fail_fast: bool = False
    yes: bool = False
    jobs: int = 1
    verbosity: int = 0
    ui_url: str | None = None


def _inputs(request: RunRequest) -> tuple[dict[str, Any], bool]:
    from playbook.inputs import load_inputs_file

    given: dict[str, Any] = {}
    if request.inputs_file:
        given.update(load_inputs_file(request.inputs_file))
    given.update(request.inputs)
    return given, bool(request.inputs)


def _render_connection(playbook: Playbook, inputs: Mapping[str, Any]) -> dict[str, Any]:
    context = {"inputs": inputs, "env": dict(os.environ), "vars": {}, "steps": {},
               "run": {"playbook": playbook.name}}
    rendered = templating.render(dict(playbook.connection), context,
                                 where=f"{playbook.path}: connection")
    return dict(rendered)


def default_ui(address: str) -> str | None:
    """The Web UI for a server address: the local dev server's, Temporal Cloud's, or none."""
    host, _, port = address.rpartition(":")
    if host in ("localhost", "127.0.0.1", "[::1]") and port == "7233":
        return "http://localhost:8233"
    if host.endswith(".tmprl.cloud"):
        return "https://cloud.temporal.io"
    return None


async def run_async(request: RunRequest) -> int:

    given, from_cli = _inputs(request)
    playbooks = load_many(list(request.files))
    resolved = _resolve_all(playbooks, given, from_cli)
    from playbook import devserver

    if request.workers or request.dev_server or request.time_skipping or any(
            uses_temporal(p) for p in playbooks):
        devserver.quiet_runtime()  # (imports temporalio: only when it is needed anyway)
    specs = [s for ref in request.workers for s in devserver.load_worker_specs(ref)]
    results: list[RunResult] = []
    try:
        async with _environment(request) as env:
            runners: list[Runner] = []
            connections = []
            for playbook, inputs in zip(playbooks, resolved):
                runner, connection = _runner(request, env, playbook, inputs)
                runners.append(runner)
                connections.append(connection)
            results = [r.shared.result for r in runners]
            async with _workers(specs, env, connections[0] if connections else {}):
                await _run_all(request, runners)
    finally:
        if results:
            _write_reports(request, results)
    return worst_exit_code(r.exit_code for r in results) if results else 0


def _resolve_all(playbooks: Sequence[Playbook], given: Mapping[str, Any],
                 from_cli: bool) -> list[dict[str, Any]]:
    """Each playbook's inputs. With several files, each takes the inputs it declares, and
    an input is unknown only when no file declares it; every problem names its file."""
    from playbook.errors import InvalidInputs
    from playbook.inputs import resolve_inputs
    from playbook.options import did_you_mean

    several = len(playbooks) > 1
    declared = sorted({name for p in playbooks for name in p.inputs})
    problems: list[str] = []
    if several:
        problems = [f"unknown input '{name}'{did_you_mean(name, declared)}; declared inputs: "
                    f"{', '.join(declared) or 'none'}" for name in given if name not in declared]
    resolved: list[dict[str, Any]] = []
    for playbook in playbooks:
        mine = {k: v for k, v in given.items() if k in playbook.inputs or not several}
        try:
            resolved.append(resolve_inputs(playbook.inputs, mine, from_cli=from_cli))
        except InvalidInputs as e:
            problems.extend(f"{playbook.path}: {p}" if several else p for p in e.problems)
    if problems:
        raise InvalidInputs(list(dict.fromkeys(problems)))
    return resolved


def _write_reports(request: RunRequest, results: list[RunResult]) -> None:
    if request.json_report:
        write_json_report(request.json_report, results)
    if request.junit_xml:
        write_junit_xml(request.junit_xml, results)


@dataclass
class _Env:
    """Where to connect and what to connect with."""

    overrides: dict[str, Any]
    client: Any = None  # a ready client (time-skipping server)
    ui_url: str | None = None
    sleep: Any = None


@contextlib.asynccontextmanager
async def _environment(request: RunRequest) -> AsyncIterator[_Env]:
    from playbook import devserver

    if request.dev_server and request.time_skipping:
        raise UsageError("--dev-server and --time-skipping exclude each other; choose one")
    env = _Env(overrides=dict(request.connection), ui_url=request.ui_url)
    server = None
    testing_env: Any = None
    try:
        if request.dev_server:
            server = await devserver.start_dev_server(ui=True)
            env.overrides.update(address=server.address, namespace=server.namespace)
            env.overrides.pop("api_key", None)
            env.overrides.pop("tls", None)
            env.ui_url = env.ui_url or server.ui_url
        elif request.time_skipping:
            testing_env = await devserver.start_time_skipping()
            env.client = testing_env.client
            env.sleep = testing_env.sleep
            env.overrides.update(address=testing_env.client.service_client.config.target_host,
                                 namespace=testing_env.client.namespace)
        yield env
    finally:
        if testing_env is not None:
            await testing_env.shutdown()
        if server is not None:
            server.stop()


@contextlib.asynccontextmanager
async def _workers(specs: Sequence[Any], env: _Env, connection: Mapping[str, Any]
                   ) -> AsyncIterator[None]:
    """Host the ``--worker`` modules, connected where the first playbook connects."""
    if not specs:
        yield
        return
    from playbook import devserver
    from playbook.core import create_client

    client = env.client or await create_client(
        {**connection, "lazy": False}, timeout=_timeout(connection))
    async with devserver.hosted_workers(client, specs):
        yield


def _timeout(connection: Mapping[str, Any]) -> float:
    from playbook.durations import parse_duration

    value = connection.get("connect_timeout", "5s")
    return parse_duration(value).total_seconds()


def build_runner(playbook: Playbook, inputs: dict[str, Any], *, overrides: Mapping[str, Any],
                 options: RunOptions, reporter: Reporter, ui_url: str | None = None,
                 connect: Callable[[dict[str, Any]], Awaitable[Any]] | None = None,
                 sleep: Callable[[float], Awaitable[Any]] | None = None,
                 ) -> tuple[Runner, dict[str, Any]]:
    """A runner for one playbook: its connection (the playbook's, rendered, under
    ``overrides``), the secrets to mask, UI links. ``connect(connection)`` makes the client
    (default: :func:`playbook.core.create_client`, verified within ``connect_timeout``).
    Returns the runner and the connection it uses. The ``playbook run`` command and the
    pytest plugin both build their runners here."""
    from playbook.inputs import secret_names

    connection = {**_render_connection(playbook, inputs), **overrides}
    masker = Masker([*(inputs.get(n) for n in secret_names(playbook.inputs)),
                     connection.get("api_key")])
    address = namespace = None
    if uses_temporal(playbook):  # a playbook of log/set/assert steps never connects
        from playbook.core import resolve_settings

        settings = resolve_settings(connection)
        masker.add(settings.api_key)
        address, namespace = settings.address, settings.namespace
        options.ui_url = ui_url or default_ui(settings.address)
        options.namespace = settings.namespace

    async def client_factory() -> Any:
        if connect is not None:
            return await connect(connection)
        from playbook.core import create_client

        return await create_client(connection, timeout=_timeout(connection))

    shared = Shared(result=new_result(playbook, address=address, namespace=namespace),
                    options=options, reporter=reporter, masker=masker,
                    client_factory=client_factory, sleep=sleep or asyncio.sleep)
    return Runner(playbook, inputs, shared), connection


def _runner(request: RunRequest, env: _Env, playbook: Playbook, inputs: dict[str, Any]
            ) -> tuple[Runner, dict[str, Any]]:
    async def ready_client(connection: dict[str, Any]) -> Any:
        return env.client

    options = RunOptions(tags=request.tags, skip_tags=request.skip_tags,
                         fail_fast=request.fail_fast, yes=request.yes,
                         interactive=is_interactive())
    return build_runner(playbook, inputs, overrides=env.overrides, options=options,
                        reporter=ConsoleReporter(verbosity=request.verbosity),
                        ui_url=env.ui_url, connect=ready_client if env.client else None,
                        sleep=env.sleep)


async def _run_all(request: RunRequest, runners: list[Runner]) -> None:
    loop = asyncio.get_running_loop()
    presses = 0

    def interrupt() -> None:
        nonlocal presses
        presses += 1
        for runner in runners:
            runner.interrupt(hard=presses > 1)

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, interrupt)
            handled.append(sig)
    try:
        gate = asyncio.Semaphore(max(1, request.jobs))
        stop = False

        async def one(runner: Runner) -> None:
            nonlocal stop
            async with gate:
                if stop or any(r.shared.interrupted for r in runners):
                    runner.shared.result.status = "skipped"
                    return
                await runner.run()
                if request.fail_fast and runner.shared.exit_code != 0:
                    stop = True

        await asyncio.gather(*(one(r) for r in runners))
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
