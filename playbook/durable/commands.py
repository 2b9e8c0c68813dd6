"""The commands of durable runs: ``run --durable`` (submit, then follow by query),
``status``, ``report``, ``approve``, ``deny`` and ``cancel`` of a run, by its run id (the
interpreter's workflow id). Every call goes through the client core, so its failures are
worded by its one translation seam (:mod:`playbook.core.errors`).
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from playbook.errors import PlaybookError, UsageError, WorkflowNotFound

if TYPE_CHECKING:
    from playbook.commands.run import RunRequest
    from playbook.core import WorkflowStub
    from playbook.records import StepRecord

DEFAULT_QUEUE = "playbook"
POLL_SECONDS = 0.5
_UNSUPPORTED = ("dev_server", "time_skipping", "workers", "dry_run", "history_dir", "worker_log")


def workflow_id_for(name: str, run_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "run"
    return f"playbook-{slug}-{run_id}"


async def _stub(
    connection: Mapping[str, Any], run: str, playbook: Any = None, inputs: Any = None
) -> WorkflowStub:
    from playbook import core
    from playbook.environment import RunEnvironment

    environment = RunEnvironment(connection)
    found = environment.connection(playbook, inputs or {})
    client = await environment.client(replace(found, lazy=False))
    return core.create_workflow(client, run)


# -- run --durable ---------------------------------------------------------------------------


async def submit(request: RunRequest, task_queue: str, detach: bool) -> int:
    """Validate locally, start the run as a workflow, print its id and link; then follow
    it (unless ``detach``) and return its exit code."""
    import os

    from playbook import core
    from playbook.commands.run import _given
    from playbook.durable.interpreter import WORKFLOW
    from playbook.durable.texts import run_input
    from playbook.environment import default_ui
    from playbook.inputs import resolve_each
    from playbook.loader import load_many
    from playbook.runner import ui_link

    given = [flag for flag in _UNSUPPORTED if getattr(request, flag)]
    if given:
        flags = ", ".join("--" + f.replace("_", "-") for f in given)
        raise UsageError(
            f"--durable runs on the workers of its task queue: {flags} cannot go with it"
        )
    if len(request.files) != 1:
        raise UsageError("--durable runs one playbook: give one file")
    playbook = load_many(list(request.files), include_root=request.include_root)[0]
    inputs = resolve_each(
        [(playbook.path, playbook.inputs)], _given(request), from_cli=bool(request.inputs)
    )[0]
    run_id = uuid.uuid4().hex[:12]
    workflow_id = workflow_id_for(playbook.name, run_id)
    stub = await _stub(request.connection, workflow_id, playbook, inputs)
    client = stub.client
    ui = request.ui_url or default_ui(client.service_client.config.target_host)
    options = {
        "tags": request.tags,
        "skip_tags": request.skip_tags,
        "fail_fast": request.fail_fast,
        "yes": request.yes,
        "preflight": request.preflight,
        "cleanup": request.cleanup,
        "verify": request.verify,
    }
    data = run_input(
        playbook,
        inputs,
        os.environ,
        run_id=run_id,
        options=options,
        namespace=client.namespace,
        address=client.service_client.config.target_host,
        ui_url=ui,
    )
    new = core.create_workflow(
        client,
        WORKFLOW,
        {
            "task_queue": task_queue,
            "workflow_id": workflow_id,
            "memo": {"playbook": playbook.name, "playbook_run_id": run_id},
        },
    )
    await core.start(new, [data])
    out = sys.stdout
    out.write(f"durable run: {workflow_id}\n")
    link = ui_link(ui, client.namespace, workflow_id, new.run_id)
    if link:
        out.write(f"  {link}\n")
    out.flush()
    if detach:
        out.write(f"detached; follow it with: playbook status {workflow_id}\n")
        return 0
    return await follow(core.create_workflow(client, workflow_id), request.verbosity, out)


async def follow(stub: WorkflowStub, verbosity: int = 0, out: TextIO = sys.stdout) -> int:
    """Print the run's step lines as its steps end (from the ``progress`` query) until it
    ends; its exit code. Ctrl-C detaches: the run goes on."""
    from playbook.durable.assemble import ended, entries, full_result, shard_document
    from playbook.durable.state import result_from
    from playbook.report.console import ConsoleReporter

    console = ConsoleReporter(out, verbosity=verbosity)
    shown = 0
    started = said_waiting = False
    try:
        while True:
            document = await progress(stub, wait=True)
            if document.get("result") is None:
                if not said_waiting:
                    out.write("waiting for a playbook worker to answer for the run\n")
                    out.flush()
                    said_waiting = True
                await asyncio.sleep(POLL_SECONDS)
                continue
            result = result_from(document)
            if not started:
                console.run_started(_Named(result.playbook, result.path), result)
                started = True
            done = entries(document)
            for entry in done[shown:]:
                if isinstance(entry, int):
                    _show(console, result.records[entry])
                else:  # a shard that ended: its records, as they ended
                    async for record in ended(
                        stub.client, await shard_document(stub.client, entry["workflow_id"])
                    ):
                        _show(console, record)
            shown = len(done)
            if document["done"]:
                whole = await full_result(stub.client, document)
                console.run_finished(whole)
                return whole.exit_code
            await asyncio.sleep(POLL_SECONDS)
    except asyncio.CancelledError:
        out.write(
            f"\ndetached: the run goes on; follow it with: playbook status {stub.workflow_id}\n"
        )
        out.flush()
        return 130


def _show(console: Any, record: StepRecord) -> None:
    for line in record.logs:
        console.log(record, line)
    console.step_finished(record)


class _Named:
    """What the console needs of a playbook to announce a run."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path


async def progress(stub: WorkflowStub, *, wait: bool = False) -> dict[str, Any]:
    """The run's progress document: from the query, or, once the run has closed, from its
    result (which needs no worker). ``wait``: a run that no worker has picked up yet, or
    that no worker answers for just now, gives ``{"result": None}``: the caller waits."""
    from playbook import core
    from playbook.durable.state import unpack

    try:
        facts = await core.describe(stub)
    except WorkflowNotFound:
        raise _no_such_run(stub) from None
    status = facts["status"]
    if status == "completed":
        return unpack(await core.get_result(stub))
    if status != "running":
        raise PlaybookError(
            f"durable run '{stub.workflow_id}' ended {status} without a report: "
            "see its history in the Temporal UI"
        )
    if wait and facts.get("history_length", 0) <= 3:  # no workflow task completed yet
        return {"result": None}
    try:
        return unpack(await core.query(stub, "progress", timeout=10))
    except PlaybookError:
        if not wait:
            raise
        return {"result": None}  # no worker answers just now (one was killed, say)


# -- status, report, approve, deny, cancel ---------------------------------------------------


async def status(connection: Mapping[str, Any], run: str, out: TextIO = sys.stdout) -> int:
    from playbook.durable.assemble import ended, full_result
    from playbook.durable.state import result_from
    from playbook.report.console import ConsoleReporter

    stub = await _stub(connection, run)
    document = await progress(stub)
    if document.get("result") is None:
        out.write(f"durable run {run}: waiting for a worker to pick it up\n")
        return 0
    result = result_from(document)
    console = ConsoleReporter(out, verbosity=0)
    console.run_started(_Named(result.playbook, result.path), result)
    steps = 0
    async for record in ended(stub.client, document):
        console.step_finished(record)
        steps += 1
    if document["done"]:
        console.run_finished(await full_result(stub.client, document))
    else:
        running = sum(1 for ref in document.get("shards") or () if ref["finished_at"] is None)
        shards = f" ({running} shards of a long loop running)" if running else ""
        out.write(f"running: {steps} steps finished{shards}\n")
        for entry in document.get("waiting", []):
            out.write(
                f"waiting for approval: step {entry['step'] or entry['path']}: {entry['text']} "
                f"(playbook approve {run} / playbook deny {run})\n"
            )
    out.flush()
    return 0


async def report(connection: Mapping[str, Any], run: str, paths: Mapping[str, str | None]) -> int:
    from playbook.durable.assemble import full_result
    from playbook.report.files import write_json_report, write_junit_xml
    from playbook.report.html import write_html_report

    if not any(paths.values()):
        raise UsageError("playbook report: give --json-report, --junit-xml or --html-report")
    stub = await _stub(connection, run)
    document = await progress(stub)
    if document.get("result") is None:
        raise UsageError(f"durable run {run} has not started yet: no report to write")
    result = await full_result(stub.client, document)
    writers = {
        "json_report": write_json_report,
        "junit_xml": write_junit_xml,
        "html_report": write_html_report,
    }
    for name, path in paths.items():
        if path:
            writers[name](path, [result])
    return 0


async def answer(
    connection: Mapping[str, Any],
    run: str,
    approve: bool,
    step: str | None,
    out: TextIO = sys.stdout,
) -> int:
    from playbook import core

    stub = await _stub(connection, run)
    name = "approve" if approve else "deny"
    try:
        said = await core.update(stub, name, [step])
    except WorkflowNotFound:
        raise UsageError(
            f"playbook {name} {run}: no such run is going on in namespace "
            f"'{stub.client.namespace}' (it has ended, or the id is wrong): nothing waits "
            "for an answer"
        ) from None
    except PlaybookError as e:
        raise UsageError(f"playbook {name} {run}: {_reason(e)}") from None
    verb = "approved" if approve else "denied"
    out.write(f"{verb}: step {said['step'] or said['path']}: {said['text']}\n")
    return 0


def _reason(error: PlaybookError) -> str:
    """What the interpreter said when it refused the answer (its validator's words)."""
    text = str(error)
    _, rejected, reason = text.partition(" was rejected: ")
    return reason.removeprefix("ValueError: ") if rejected else text


async def cancel(connection: Mapping[str, Any], run: str, out: TextIO = sys.stdout) -> int:
    from playbook import core

    stub = await _stub(connection, run)
    try:
        await core.cancel(stub, "playbook cancel")
    except WorkflowNotFound:
        raise _no_such_run(stub) from None
    out.write(
        f"cancel requested: {run} (its steps in flight are cancelled, finally runs, exit 130)\n"
    )
    return 0


def _no_such_run(stub: WorkflowStub) -> UsageError:
    return UsageError(
        f"there is no durable run '{stub.workflow_id}' in namespace '{stub.client.namespace}'; "
        "give the id that run --durable printed (playbook-<name>-<run id>)"
    )
