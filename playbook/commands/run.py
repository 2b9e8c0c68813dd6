"""``playbook run``: the request (files, inputs, options) -> the run environment
(:mod:`playbook.environment`: servers, workers, connections) -> one runner per file, run
``--jobs`` at a time under Ctrl-C handling -> the reports and the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playbook.environment import RunEnvironment, Server
from playbook.errors import PlaybookError, UsageError

if TYPE_CHECKING:
    from playbook.model import Playbook
    from playbook.records import RunResult
    from playbook.runner import Runner


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
    include_root: str | None = None


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


async def run_async(request: RunRequest) -> int:
    from playbook.inputs import resolve_each
    from playbook.loader import load_many
    from playbook.runner import uses_temporal

    # every usage problem (options, files, inputs) is reported before anything starts
    environment = RunEnvironment(
        request.connection, server=_server(request), workers=request.workers, ui_url=request.ui_url
    )
    playbooks = load_many(list(request.files), include_root=request.include_root)
    resolved = resolve_each(
        [(p.path, p.inputs) for p in playbooks], _given(request), from_cli=bool(request.inputs)
    )
    if request.workers or environment.server or any(uses_temporal(p) for p in playbooks):
        from playbook import devserver

        devserver.quiet_runtime()  # (imports temporalio: only when it is needed anyway)
    results: list[RunResult] = []
    try:
        async with environment:
            runners = [_runner(request, environment, p, i) for p, i in zip(playbooks, resolved)]
            results = [r.shared.result for r in runners]
            try:  # where the first playbook connects
                await environment.host_workers(playbooks[0], resolved[0])
            except PlaybookError as e:  # its message names the connection: mask it too
                e.args = (_mask(runners, str(e)),)
                raise
            await _run_all(request, runners)
    finally:
        if results:
            _write_reports(request, results)
    from playbook.report.files import worst_exit_code

    return worst_exit_code(r.exit_code for r in results) if results else 0


def _mask(runners: Sequence[Runner], text: str) -> str:
    for runner in runners:
        text = runner.shared.masker.text(text)
    return text


def _runner(
    request: RunRequest, environment: RunEnvironment, playbook: Playbook, inputs: dict[str, Any]
) -> Runner:
    from playbook.report.console import ConsoleReporter
    from playbook.runner import RunOptions, is_interactive

    options = RunOptions(
        tags=request.tags,
        skip_tags=request.skip_tags,
        fail_fast=request.fail_fast,
        yes=request.yes,
        interactive=is_interactive(),
    )
    return environment.runner(
        playbook, inputs, options=options, reporter=ConsoleReporter(verbosity=request.verbosity)
    )


def _write_reports(request: RunRequest, results: list[RunResult]) -> None:
    from playbook.report.files import write_json_report, write_junit_xml

    if request.json_report:
        write_json_report(request.json_report, results)
    if request.junit_xml:
        write_junit_xml(request.junit_xml, results)


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
