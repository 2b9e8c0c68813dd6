"""How a durable run's records are put together from the run and its shards (offline: the
shards' results are given by a stand-in for the client)."""

from __future__ import annotations

from typing import Any

import pytest

from playbook.durable import assemble


def _record(path: str) -> dict[str, Any]:
    return {"path": path, "action": "log", "name": "log", "status": "passed"}


DOCUMENTS: dict[str, dict[str, Any]] = {
    "run/steps[1]/0-199": {  # a range: no records of its own, two shards
        "records": [],
        "finished": [],
        "shards": [
            {"workflow_id": "run/steps[1]/0", "at": 0, "finished_at": 0},
            {"workflow_id": "run/steps[1]/100", "at": 0, "finished_at": 0},
        ],
    },
    "run/steps[1]/0": {
        "records": [_record("a0"), _record("a1")],
        "finished": [1, 0],
        "shards": [],
    },
    "run/steps[1]/100": {"records": [_record("b0")], "finished": [0], "shards": []},
}

RUN: dict[str, Any] = {  # steps[0], the loop steps[1] (its shards after it), steps[2]
    "records": [_record("steps[0]"), _record("steps[1]"), _record("steps[2]")],
    "finished": [0, 1, 2],
    "shards": [{"workflow_id": "run/steps[1]/0-199", "at": 2, "finished_at": 1}],
}


@pytest.fixture(autouse=True)
def shards(monkeypatch: pytest.MonkeyPatch) -> None:
    async def shard_document(client: Any, workflow_id: str) -> dict[str, Any]:
        return DOCUMENTS[workflow_id]

    monkeypatch.setattr(assemble, "shard_document", shard_document)


async def test_records_come_in_the_order_they_were_made() -> None:
    paths = [r["path"] async for r in assemble.in_order(None, RUN)]  # type: ignore[arg-type]
    assert paths == ["steps[0]", "steps[1]", "a0", "a1", "b0", "steps[2]"]


def test_what_ended_lists_shards_where_they_ended() -> None:
    assert assemble.entries(RUN) == [0, RUN["shards"][0], 1, 2]


def test_a_running_shard_is_not_listed_yet() -> None:
    running = {**RUN, "shards": [{**RUN["shards"][0], "finished_at": None}]}
    assert assemble.entries(running) == [0, 1, 2]


async def test_a_shards_records_come_in_the_order_they_ended() -> None:
    ended = [r.path async for r in assemble.ended(None, RUN)]  # type: ignore[arg-type]
    assert ended == ["steps[0]", "a1", "a0", "b0", "steps[1]", "steps[2]"]
