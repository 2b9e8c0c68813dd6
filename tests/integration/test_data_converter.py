"""Data converters as users have them: a ``--worker`` module's ``data_converter`` serves
its workers and the run's client alike, ``--data-converter MODULE:ATTR`` gives one to a run
without ``--worker``, and ``worker_options`` reach temporalio's ``Worker``. The converter is
the tests' own: JSON written backwards, under an encoding of its own."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from temporalio.client import Client

from playbook.devserver import DevServer

MODULE = """\
import dataclasses
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    EncodingPayloadConverter,
    JSONPlainPayloadConverter,
)

_PLAIN = JSONPlainPayloadConverter()


class BackwardsJSON(EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return "json/backwards"

    def to_payload(self, value: Any) -> Payload | None:
        plain = _PLAIN.to_payload(value)
        if plain is None:
            return None
        return Payload(metadata={{"encoding": b"json/backwards"}}, data=plain.data[::-1])

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        plain = Payload(metadata={{"encoding": b"json/plain"}}, data=payload.data[::-1])
        return _PLAIN.from_payload(plain, type_hint)


class Backwards(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(BackwardsJSON())


data_converter = dataclasses.replace(DataConverter.default, payload_converter_class=Backwards)
task_queue = "backwards-{suffix}"
worker_options = {{"max_concurrent_workflow_tasks": 5}}


@workflow.defn
class EchoBack:
    @workflow.run
    async def run(self, value: dict[str, Any]) -> dict[str, Any]:
        return {{"got": value}}


workflows = [EchoBack]
activities: list[Any] = []
"""

PLAYBOOK = """\
    version: 1
    name: converter
    steps:
      - id: echo
        create: {{type: EchoBack, task_queue: backwards-{suffix}, workflow_id: echo-{suffix}, execution_timeout: 1m}}
      - start: {{workflow: echo, args: [{{order: 7, items: [a, b]}}]}}
      - id: result
        await_result: {{workflow: echo, timeout: 30s}}
        expect: {{result: {{got: {{order: 7, items: [a, b]}}}}}}
    """


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    command = Path(sys.executable).with_name("playbook")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(command), "run", "p.yaml", "--json-report", "r.json", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads((tmp_path / "r.json").read_text())["runs"][0]
    return done, report


def test_a_worker_modules_data_converter_serves_client_and_worker(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / f"backwards_{suffix}.py").write_text(MODULE.format(suffix=suffix))
    (tmp_path / "p.yaml").write_text(textwrap.dedent(PLAYBOOK.format(suffix=suffix)))
    done, report = run(tmp_path, "--dev-server", "--worker", f"backwards_{suffix}")
    assert done.returncode == 0, done.stdout + done.stderr
    steps = report["steps"]
    assert isinstance(steps, list)
    assert steps[2]["result"] == {"got": {"order": 7, "items": ["a", "b"]}}


def test_data_converter_flag_for_a_run_without_worker(
    tmp_path: Path, dev_server: DevServer
) -> None:
    from playbook.devserver import hosted_workers
    from playbook.environment.workers import load_worker_specs

    suffix = uuid.uuid4().hex[:8]
    (tmp_path / f"backwards_{suffix}.py").write_text(MODULE.format(suffix=suffix))
    (tmp_path / "p.yaml").write_text(textwrap.dedent(PLAYBOOK.format(suffix=suffix)))
    address = dev_server.address
    sys.path.insert(0, str(tmp_path))  # (the worker's sandbox imports the module again)
    (spec,) = load_worker_specs(f"backwards_{suffix}")

    async def scenario() -> tuple[subprocess.CompletedProcess[str], dict[str, object], bytes]:
        client = await Client.connect(address, data_converter=spec.data_converter)
        async with hosted_workers(client, [spec]):
            done, report = await asyncio.to_thread(
                run,
                tmp_path,
                "--address",
                address,
                "--data-converter",
                f"backwards_{suffix}:data_converter",
            )
        plain = await Client.connect(address)  # temporalio's default converter
        history = await plain.get_workflow_handle(f"echo-{suffix}").fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        return done, report, started.input.payloads[0].metadata["encoding"]

    try:
        done, report, encoding = asyncio.run(scenario())
    finally:
        sys.path.remove(str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert encoding == b"json/backwards"  # the run's client encoded the start argument
    steps = report["steps"]
    assert isinstance(steps, list)
    assert steps[2]["result"] == {"got": {"order": 7, "items": ["a", "b"]}}
