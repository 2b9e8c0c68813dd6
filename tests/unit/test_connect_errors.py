"""A bad address, offline: connecting, a lazy client's first call and `playbook run` all say
which address is wrong and exit 3; none is an internal error. No server is needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client

from playbook import core
from playbook.core.guard import call
from playbook.devserver import env_without_temporal
from playbook.errors import ConnectionFailed, ServerError

ROOT = Path(__file__).resolve().parents[2]
BAD = {
    "not a valid address": "invalid international domain name",
    "127.0.0.1:99999": "invalid port number",
}


def bad_address(address: str) -> str:
    return (
        f"could not connect to Temporal: the address '{address}' is not valid "
        f"({BAD[address]}); give host:port, for example localhost:7233"
    )


@pytest.mark.parametrize("address", list(BAD))
async def test_create_client_names_a_bad_address(address: str) -> None:
    with pytest.raises(ConnectionFailed) as caught:
        await core.create_client({"address": address, "namespace": "orders"})
    error = caught.value
    assert (str(error), error.exit_code, error.address, error.namespace) == (
        bad_address(address),
        3,
        address,
        "orders",
    )
    assert isinstance(error.__cause__, ValueError)


async def test_create_client_takes_resolved_settings() -> None:
    settings = core.ConnectSettings(address="127.0.0.1:99999", namespace="default")
    with pytest.raises(ConnectionFailed) as caught:
        await core.create_client(settings)
    assert str(caught.value) == bad_address("127.0.0.1:99999")


@pytest.mark.parametrize("address", list(BAD))
async def test_a_lazy_client_meets_a_bad_address_on_its_first_call(address: str) -> None:
    client = await core.create_client_async({"address": address})
    stub = core.create_workflow(client, "OrderWorkflow", {"task_queue": "orders"})
    with pytest.raises(ConnectionFailed) as caught:
        await core.start(stub)
    error = caught.value
    assert (str(error), error.exit_code, error.address, error.namespace) == (
        bad_address(address),
        3,
        address,
        "default",
    )


async def test_a_lazy_client_that_cannot_reach_the_server() -> None:
    client = await core.create_client_async({"address": "127.0.0.1:1"})
    stub = core.create_workflow(client, "order-1")
    with pytest.raises(ServerError) as caught:
        await core.signal(stub, "add_item")
    error = caught.value
    assert (str(error), error.exit_code, error.operation, error.workflow_id) == (
        "signal 'add_item' on workflow 'order-1' failed: cannot reach the server (connection "
        "refused); check that it is up",
        3,
        "signal",
        "order-1",
    )


async def test_our_own_bugs_are_not_translated() -> None:
    client = await Client.connect("127.0.0.1:1", lazy=True)
    stub = core.create_workflow(client, "order-1")

    async def buggy() -> None:
        raise KeyError("status")

    with pytest.raises(KeyError):
        await call(buggy, stub, "describe")


@pytest.mark.parametrize("address", list(BAD))
def test_playbook_run_with_a_bad_address(address: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "playbook",
            "run",
            "--address",
            address,
            "playbooks/quickstart.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env_without_temporal(),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 3, output
    assert f"error: {bad_address(address)}\n" in output
    assert "internal error" not in output
