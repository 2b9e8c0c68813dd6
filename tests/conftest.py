"""Fixtures shared by all tests: the real dev server (once per session) and workers on
random task queues."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

SEARCH_ATTRIBUTES = [
    "PlaybookKeyword=Keyword",
    "PlaybookText=Text",
    "PlaybookInt=Int",
    "PlaybookDouble=Double",
    "PlaybookBool=Bool",
    "PlaybookDatetime=Datetime",
    "PlaybookKeywordList=KeywordList",
]


@pytest.fixture(scope="session")
def dev_server() -> Iterator[object]:
    from playbook.devserver import start_dev_server

    server = asyncio.run(start_dev_server(search_attributes=SEARCH_ATTRIBUTES))
    yield server
    server.stop()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"
