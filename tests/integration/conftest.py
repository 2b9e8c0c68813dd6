from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from playbook.core import create_client

from .workflows import ACTIVITIES, WORKFLOWS


@pytest.fixture
async def client(dev_server: Any) -> Client:
    return await create_client({"address": dev_server.address})


@pytest.fixture
async def worker(client: Client, task_queue: str) -> AsyncIterator[str]:
    """A worker for the test workflows on this test's own task queue."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ACTIVITIES,
        workflow_runner=SandboxedWorkflowRunner(),
    ):
        yield task_queue
