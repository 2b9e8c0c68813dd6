"""A remote codec server, as teams who encrypt payloads have one: ``--codec-endpoint``
(and ``--codec-auth``) encode the start arguments and decode the results through it, the
history holds only encoded payloads, a worker module's own matching codec serves its
workers, and a module without one gets the run's codec server."""

from __future__ import annotations

import asyncio
import textwrap
import uuid
from pathlib import Path

from temporalio.client import Client

from playbook.devserver import DevServer
from tests.codec_server import CODEC_SOURCE, ENCODING, codec_server
from tests.integration.test_data_converter import run  # (a run in tmp_path, its report)

WORKFLOWS = """\
from typing import Any

from temporalio import workflow


@workflow.defn
class Sealed:
    @workflow.run
    async def run(self, value: dict[str, Any]) -> dict[str, Any]:
        return {{"opened": value}}


task_queue = "sealed-{suffix}"
workflows = [Sealed]
activities: list[Any] = []
"""

PLAYBOOK = """\
    version: 1
    name: codec
    steps:
      - id: sealed
        create: {{type: Sealed, task_queue: sealed-{suffix}, workflow_id: sealed-{suffix}, execution_timeout: 1m}}
      - start: {{workflow: sealed, args: [{{card: "4111", amount: 12}}]}}
      - await_result: {{workflow: sealed, timeout: 30s}}
        expect: {{result: {{opened: {{card: "4111", amount: 12}}}}}}
    """


def started_input_encoding(address: str, workflow_id: str) -> bytes:
    async def read() -> bytes:
        plain = await Client.connect(address)  # temporalio's default converter, no codec
        history = await plain.get_workflow_handle(workflow_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        return started.input.payloads[0].metadata["encoding"]

    return asyncio.run(read())


def module(tmp_path: Path, suffix: str, *, with_codec: bool) -> str:
    source = WORKFLOWS.format(suffix=suffix) + (CODEC_SOURCE if with_codec else "")
    (tmp_path / f"sealed_{suffix}.py").write_text(source)
    (tmp_path / "p.yaml").write_text(textwrap.dedent(PLAYBOOK.format(suffix=suffix)))
    return f"sealed_{suffix}"


def test_a_codec_server_and_a_matching_worker_codec_round_trip(
    tmp_path: Path, dev_server: DevServer
) -> None:
    suffix = uuid.uuid4().hex[:8]
    name = module(tmp_path, suffix, with_codec=True)
    token = f"Bearer tok-{suffix}"
    with codec_server(auth=token) as server:
        done, report = run(
            tmp_path,
            "--address",
            dev_server.address,
            "--worker",
            name,
            "--codec-endpoint",
            server.url + "/{namespace}",
            "--codec-auth",
            token,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    steps = report["steps"]
    assert isinstance(steps, list)
    assert steps[2]["result"] == {"opened": {"card": "4111", "amount": 12}}
    assert ("/default/encode", "default", token) in server.seen  # the start argument
    assert ("/default/decode", "default", token) in server.seen  # the result
    assert started_input_encoding(dev_server.address, f"sealed-{suffix}") == ENCODING
    output = done.stdout + done.stderr + (tmp_path / "r.json").read_text()
    assert f"tok-{suffix}" not in output


def test_a_worker_without_a_converter_uses_the_runs_codec_server(
    tmp_path: Path, dev_server: DevServer
) -> None:
    suffix = uuid.uuid4().hex[:8]
    name = module(tmp_path, suffix, with_codec=False)
    with codec_server() as server:
        done, report = run(
            tmp_path,
            "--address",
            dev_server.address,
            "--worker",
            name,
            "--codec-endpoint",
            server.url,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    steps = report["steps"]
    assert isinstance(steps, list)
    assert steps[2]["result"] == {"opened": {"card": "4111", "amount": 12}}
    assert started_input_encoding(dev_server.address, f"sealed-{suffix}") == ENCODING
    paths = {path for path, _, _ in server.seen}
    assert paths == {"/encode", "/decode"}


def test_a_refused_codec_request_fails_the_step_and_names_the_fix(
    tmp_path: Path, dev_server: DevServer
) -> None:
    suffix = uuid.uuid4().hex[:8]
    name = module(tmp_path, suffix, with_codec=True)
    with codec_server(auth="Bearer right") as server:
        done, report = run(
            tmp_path,
            "--address",
            dev_server.address,
            "--worker",
            name,
            "--codec-endpoint",
            server.url,
            "--codec-auth",
            f"Bearer wrong-{suffix}",
        )
    assert done.returncode == 1, done.stdout + done.stderr
    steps = report["steps"]
    assert isinstance(steps, list)
    assert steps[1]["status"] == "failed"
    assert steps[1]["error"]["message"] == (
        f"start 'Sealed' on workflow 'sealed-{suffix}' failed: codec server {server.url}: "
        "cannot encode payloads: it answered HTTP 401 Unauthorized (check --codec-auth)"
    )
    output = done.stdout + done.stderr + (tmp_path / "r.json").read_text()
    assert f"wrong-{suffix}" not in output
