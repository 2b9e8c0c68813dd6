"""The pytest plugin's session takes the run's converter options: ``--playbook-data-converter``
and ``--playbook-codec-endpoint`` (with ``--playbook-codec-auth``), as ``playbook run`` does."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest
from temporalio.client import Client

from tests.codec_server import CODEC_SOURCE, ENCODING, codec_server
from tests.integration.test_codec_server import WORKFLOWS

pytest_plugins = ["pytester"]

PLAYBOOK = """\
version: 1
name: Sealed
steps:
  - id: sealed
    create: {{type: Sealed, task_queue: sealed-{suffix}, workflow_id: sealed-{suffix}, execution_timeout: 1m}}
  - start: {{workflow: sealed, args: [{{card: "4111"}}]}}
  - await_result: {{workflow: sealed, timeout: 30s}}
    expect: {{result: {{opened: {{card: "4111"}}}}}}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in list(os.environ):
        if name.startswith("TEMPORAL_"):
            monkeypatch.delenv(name)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))  # the worker modules
    return pytester


def encoding_of(address: str, workflow_id: str) -> bytes:
    async def read() -> bytes:
        history = (
            await (await Client.connect(address)).get_workflow_handle(workflow_id).fetch_history()
        )
        return (
            history.events[0]
            .workflow_execution_started_event_attributes.input.payloads[0]
            .metadata["encoding"]
        )

    return asyncio.run(read())


def test_the_data_converter_option(project: pytest.Pytester, dev_server: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    (project.path / f"sealed_{suffix}.py").write_text(WORKFLOWS.format(suffix=suffix))
    (project.path / f"xor_{suffix}.py").write_text(CODEC_SOURCE)
    (project.path / "sealed.playbook.yaml").write_text(PLAYBOOK.format(suffix=suffix))
    result = project.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--playbook-address",
        dev_server.address,
        "--playbook-worker",
        f"sealed_{suffix}",
        "--playbook-data-converter",
        f"xor_{suffix}:data_converter",
        timeout=90,
    )
    result.assert_outcomes(passed=1)
    assert encoding_of(dev_server.address, f"sealed-{suffix}") == ENCODING


def test_the_codec_endpoint_options(project: pytest.Pytester, dev_server: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    (project.path / f"sealed_{suffix}.py").write_text(WORKFLOWS.format(suffix=suffix))
    (project.path / "sealed.playbook.yaml").write_text(PLAYBOOK.format(suffix=suffix))
    token = f"Bearer tok-{suffix}"
    with codec_server(auth=token) as server:
        result = project.runpytest_subprocess(
            "-p",
            "no:cacheprovider",
            "--playbook-address",
            dev_server.address,
            "--playbook-worker",
            f"sealed_{suffix}",
            "--playbook-codec-endpoint",
            server.url,
            "--playbook-codec-auth",
            token,
            timeout=90,
        )
    result.assert_outcomes(passed=1)
    assert {path for path, _, _ in server.seen} == {"/encode", "/decode"}
    assert encoding_of(dev_server.address, f"sealed-{suffix}") == ENCODING
    assert f"tok-{suffix}" not in result.stdout.str() + result.stderr.str()
