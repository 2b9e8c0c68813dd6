"""Fixtures shared by all tests: the real dev server (once per session) and workers on
random task queues; and the `integration` marker on every test under tests/integration/, so
that `-m "not integration"` runs without a server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from playbook.devserver import DevServer, start_dev_server

INTEGRATION = Path(__file__).resolve().parent / "integration"

SEARCH_ATTRIBUTES = [
    "PlaybookKeyword=Keyword",
    "PlaybookText=Text",
    "PlaybookInt=Int",
    "PlaybookDouble=Double",
    "PlaybookBool=Bool",
    "PlaybookDatetime=Datetime",
    "PlaybookKeywordList=KeywordList",
]


# tryfirst: the marker must be on the items before pytest's own hook deselects by `-m`. A
# module-level `pytestmark` in a conftest marks nothing, hence the hook.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(INTEGRATION):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def dev_server() -> Iterator[DevServer]:
    server = asyncio.run(start_dev_server(search_attributes=SEARCH_ATTRIBUTES))
    yield server
    server.stop()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"
