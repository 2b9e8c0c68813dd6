"""Long loops of a durable run on the dev server: shards (and ranges of shards) keep every
interpreter history bounded, their records reach the report in a local run's order, and
``status`` counts them."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from playbook import core, demo
from playbook.durable import assemble, checkpoint, commands, shards
from playbook.durable.state import unpack

from .test_durable import (
    TOKEN,
    _call,
    _detached,
    _durable,
    _followed,
    _in_activity,
    _local,
    _payloads,
    _replayed,
    _report,
    _run_id,
    _steps,
    eventually,
    hosted,
    hosted_with_key,
    normalised,
)

pytestmark = pytest.mark.integration
__all__ = ["hosted", "hosted_with_key"]  # (the fixtures, used by name)


async def _histories(client: Client, workflow_id: str, root: bool = True) -> dict[str, int]:
    """The history length of the run and of every shard under it."""
    handle = client.get_workflow_handle(workflow_id)
    lengths = {workflow_id: (await handle.describe()).history_length}
    if root:  # (the run's result is its document; a shard's is in its history)
        document = unpack(await core.get_result(core.create_workflow(client, workflow_id)))
    else:
        document = await assemble.shard_document(client, workflow_id)
    for ref in document.get("shards") or ():
        lengths.update(await _histories(client, ref["workflow_id"], root=False))
    return lengths


@pytest.mark.timeout(300)
async def test_a_2000_item_loop_keeps_every_history_bounded(
    dev_server: Any,
    client: Client,
    hosted: str,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shards, "MAX_SHARDS", 5)  # 20 leaf shards: 5 ranges of 4 leaves
    code, report, output = await _durable(
        dev_server, hosted, "many_signals.yaml", task_queue, tmp_path
    )
    assert code == 0, output
    run = _run_id(output)
    lengths = await _histories(client, run)
    ranges = sorted(w for w in lengths if w.count("/") == 2 and "-" in w.rsplit("/", 1)[1])
    assert ranges == [f"{run}/steps[2]/{f}-{f + 399}" for f in (0, 1200, 1600, 400, 800)]
    leaves = [w for w in lengths if w != run and w not in ranges]
    assert len(leaves) == 20
    assert max(lengths.values()) < 20_000, lengths
    for workflow_id in (run, ranges[0], leaves[0]):  # (deterministic, each kind of run)
        await _replayed(client, workflow_id)
    assert lengths[run] < 100  # five shards, not 200 calls
    local_code, local = await _local(dev_server, "many_signals.yaml", task_queue, tmp_path)
    assert local_code == 0
    for steps in (report["runs"][0]["steps"], local["runs"][0]["steps"]):
        assert len(steps[-4]["result"]["items"]) == 200
        steps[-4]["result"] = None  # (its items in the order the signals came: any order)
    assert normalised(report) == normalised(local)  # the records of a local run, in order
    steps = report["runs"][0]["steps"]
    assert len(steps) == 3 + 2000 * 2 + 3 + 1  # (the loop's own record, query, 2 asserts, finally)
    assert steps[3]["path"] == "steps[2].foreach[0].steps[0]"
    assert steps[-5]["path"] == "steps[2].foreach[1999].steps[1]"
    statuses = [s["status"] for s in steps]
    assert (statuses.count("passed"), statuses.count("skipped")) == (7 + 2000 + 200, 1800)
    html, junit = tmp_path / "run.html", tmp_path / "run.xml"
    paths = {"json_report": None, "junit_xml": str(junit), "html_report": str(html)}
    assert await commands.report({"address": dev_server.address}, run, paths) == 0
    assert junit.read_text().count("<testcase ") == len(steps)
    page = html.read_text()
    assert "durable many signals" in page and "steps[2].foreach[1999].steps[1]" in page
    out = io.StringIO()
    assert await commands.status({"address": dev_server.address}, run, out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split("  (")[0] for line in lines[1:8]] == [
        "  PASS  create order",
        "  PASS  start order",
        "  PASS  foreach each",
        "  PASS  query order",
        "  PASS  assert",
        "  PASS  assert",
        "  PASS  terminate order",
    ]  # (the console shows the top level; the loop's records are counted below)
    assert lines[-1].startswith("passed: durable many signals: 2207 passed, 1800 skipped in ")


async def _runs(client: Client, workflow_id: str) -> list[str]:
    """The run ids of a workflow's chain of continued runs, first to last."""
    run_id: str | None = None
    chain: list[str] = []
    while True:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        described = await handle.describe()
        chain.insert(0, described.run_id)
        async for event in handle.fetch_history_events():
            attributes = event.workflow_execution_started_event_attributes
            run_id = attributes.continued_execution_run_id or None
            break
        if run_id is None:
            return chain


async def test_a_long_run_continues_as_new_between_steps(
    dev_server: Any,
    client: Client,
    hosted: str,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkpoint, "CONTINUE_AT", 20)  # a few steps a run
    code, report, output = await _durable(
        dev_server, hosted, "continued.yaml", task_queue, tmp_path
    )
    assert code == 0, output
    run = _run_id(output)
    chain = await _runs(client, run)
    assert len(chain) >= 3, chain
    for run_id in chain[:-1]:
        described = await client.get_workflow_handle(run, run_id=run_id).describe()
        assert described.status is not None and described.status.name == "CONTINUED_AS_NEW"
        assert described.history_length < 40
        await _replayed(client, run, run_id)
    local_code, local = await _local(dev_server, "continued.yaml", task_queue, tmp_path)
    assert local_code == 0
    assert normalised(report) == normalised(local)  # the same records, across the runs
    logged = [s["result"] for s in report["runs"][0]["steps"] if s["action"] == "log"]
    assert logged == [f"hello {task_queue}: 6 items, 3 in the loop"]
    header = report["runs"][0]
    first = await client.get_workflow_handle(run, run_id=chain[0]).describe()
    began = datetime.fromisoformat(header["started_at"])  # the first run's, not the last's
    assert abs((began - first.start_time).total_seconds()) < 1
    assert header["duration"] > 0


async def test_a_continued_run_carries_its_secrets_sealed(
    dev_server: Any,
    client: Client,
    hosted_with_key: str,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkpoint, "CONTINUE_AT", 10)  # (the result holding the token, too)
    code, report, output = await _durable(
        dev_server, hosted_with_key, "secret.yaml", task_queue, tmp_path, inputs={"token": TOKEN}
    )
    assert code == 0, output
    assert report["runs"][0]["steps"][3]["result"] == "the token is ***"
    run = _run_id(output)
    chain = await _runs(client, run)
    assert len(chain) >= 2, chain
    for run_id in chain:
        history = await _payloads(client, run, run_id)
        assert TOKEN not in history
        assert '{"sealed":"' in history


async def test_cancel_during_a_shard_keeps_its_records(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    run = await _detached(dev_server, hosted, "sleepy_loop.yaml", task_queue)
    shard = client.get_workflow_handle(f"{run}/steps[1]/0")

    async def sleeping() -> bool:
        try:
            return "item 4" in str(await shard.query("progress"))
        except Exception:  # (not started yet)
            return False

    await eventually(sleeping)
    meanwhile = await _report(dev_server, run, tmp_path)  # while the shard runs: so far
    logged = [s for s in _steps(meanwhile) if s[0].endswith(".steps[0]")]
    assert sorted(logged) == [(f"steps[1].foreach[{i}].steps[0]", "passed", None) for i in range(5)]
    assert await commands.cancel({"address": dev_server.address}, run, io.StringIO()) == 0
    code, output = await _followed(client, run)
    assert code == 130, output
    report = await _report(dev_server, run, tmp_path)
    assert report["runs"][0]["status"] == "interrupted"
    steps = _steps(report)
    assert steps[:2] == [("steps[0]", "passed", None), ("steps[1]", "canceled", "interrupted")]
    assert steps[-1] == ("finally[0]", "passed", None)
    inner = steps[2:-1]  # the shard's: five items began, each logged and then slept
    assert sorted(inner) == sorted(
        [(f"steps[1].foreach[{i}].steps[0]", "passed", None) for i in range(5)]
        + [(f"steps[1].foreach[{i}].steps[1]", "canceled", "interrupted") for i in range(5)]
    )


async def test_an_update_with_start_retried_after_a_worker_loss_starts_once(
    client: Client, task_queue: str
) -> None:
    workflow_id = f"order-uws-{task_queue}"
    options = {"task_queue": task_queue, "workflow_id": workflow_id, "id_conflict_policy": "fail"}
    new = {"workflow_id": workflow_id, "workflow_type": "OrderWorkflow", "options": options}
    spec = {
        "workflow": "o",
        "update": "pay",
        "update_args": [{"amount": 5}],
        "start_args": [{"customer": "a", "items": [{"sku": "A"}]}],
    }
    async with Worker(
        client, task_queue=task_queue, workflows=demo.workflows, activities=demo.activities
    ):
        call = _call("update_with_start", spec, {"o": new}, "k/uws")
        first = await _in_activity(client, call)
        again = await _in_activity(client, call, attempt=2)  # the same start: deduplicated
        assert again["value"] == first["value"], again  # the same run, the same update
        result = await core.get_result(core.create_workflow(client, workflow_id), timeout=20)
        assert (result["state"], result["total"]) == ("shipped", 5)  # paid once, shipped


async def test_a_retried_loop_gives_its_shards_ids_of_their_own(
    dev_server: Any, client: Client, hosted: str, task_queue: str, tmp_path: Path
) -> None:
    code, report, output = await _durable(
        dev_server, hosted, "retried_loop.yaml", task_queue, tmp_path
    )
    assert code == 1, output  # (its until never holds: two attempts, then it gives up)
    run = _run_id(output)
    document = unpack(await core.get_result(core.create_workflow(client, run)))
    ids = [ref["workflow_id"] for ref in document["shards"]]
    assert ids == [f"{run}/steps[0]/{first}" for first in ("0", "100", "0~2", "100~2")]
    steps = report["runs"][0]["steps"]
    assert len(steps) == 1 + 2 * 120 + 1  # each attempt's records, from its own shards
