"""Every example playbook in playbooks/ validates and runs green against the dev server.

Each playbook runs as a user runs it: ``python -m playbook run FILE`` in a subprocess,
with the demo workers hosted in-process (``--worker playbook.demo``), and its JSON report
is read back. A playbook added to playbooks/ is picked up by the glob below and fails
until CASES says how to run it and how many of its steps it skips.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from playbook import core
from playbook.devserver import env_without_temporal

from . import ops_examples

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yaml"))
RUNBOOK = "playbooks/runbook-terminate-order.yaml"
CANCEL_RUNBOOK = "playbooks/runbook-cancel-open-orders.yaml"


def playbook_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playbook", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env_without_temporal() if env is None else env,
        timeout=timeout,
    )


async def _start_order(address: str, workflow_id: str) -> None:
    client = await core.create_client({"address": address})
    order = core.create_workflow(
        client,
        "OrderWorkflow",
        {"task_queue": "playbook-demo", "workflow_id": workflow_id, "execution_timeout": "5m"},
    )
    await core.start(order, [{"customer": "bob", "items": [{"sku": "ABC", "qty": 1}]}])


async def _status(address: str, workflow_id: str) -> str:
    client = await core.create_client({"address": address})
    info = await core.describe(core.create_workflow(client, workflow_id))
    return str(info["status"])


def start_order(address: str) -> str:
    """An order for the runbook to find: a running OrderWorkflow with a fresh id."""
    workflow_id = f"order-{uuid.uuid4().hex[:8]}"
    asyncio.run(_start_order(address, workflow_id))
    return workflow_id


async def _start_orders(address: str, prefix: str, count: int) -> None:
    for index in range(count):
        await _start_order(address, f"{prefix}{index}")
    # visibility is eventually consistent: wait (bounded) until a query sees them all
    client = await core.create_client({"address": address})
    query = f"WorkflowId STARTS_WITH '{prefix}' AND ExecutionStatus = 'Running'"
    deadline = time.monotonic() + 20
    while (await client.count_workflows(query)).count < count:
        assert time.monotonic() < deadline, f"the dev server did not list {count} orders in 20s"
        await asyncio.sleep(0.1)


def open_orders(address: str, count: int = 3) -> str:
    """Running OrderWorkflows with a fresh id prefix, listed by visibility by now: the
    prefix (their ids are the prefix and 0, 1, ...)."""
    prefix = f"order-{uuid.uuid4().hex[:8]}-"
    asyncio.run(_start_orders(address, prefix, count))
    return prefix


@dataclass
class Case:
    """How to run one example and how many of its steps it skips when green."""

    skipped: int = 0
    args: Callable[[str], list[str]] = field(default=lambda address: [])
    by_environment: bool = False  # connect through TEMPORAL_ADDRESS instead of --address


CASES: dict[str, Case] = {
    "quickstart.yaml": Case(),
    "smoke-test.yaml": Case(by_environment=True),
    "fan-out.yaml": Case(),
    "expected-failures.yaml": Case(),
    "runbook-terminate-order.yaml": Case(
        args=lambda address: ["-i", f"order_id={start_order(address)}", "--yes"]
    ),
    "runbook-cancel-open-orders.yaml": Case(
        args=lambda address: ["-i", f"prefix={open_orders(address)}", "--yes"]
    ),
    "runbook-batch-terminate.yaml": Case(args=ops_examples.batch_args),
    # resume=false: the four resume steps are skipped
    "runbook-schedule-pause.yaml": Case(skipped=4, args=ops_examples.schedule_args),
}


def run_example(
    path: Path, address: str, tmp_path: Path, *extra: str, case: Case | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    case = case or CASES[path.name]
    report = tmp_path / "report.json"
    env = env_without_temporal()
    connect = ["--address", address]
    if case.by_environment:
        env.update(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default")
        connect = []
    process = playbook_cli(
        "run",
        str(path.relative_to(ROOT)),
        *connect,
        "--worker",
        "playbook.demo",
        "--json-report",
        str(report),
        *case.args(address),
        *extra,
        env=env,
    )
    assert report.exists(), process.stdout
    return process, json.loads(report.read_text())


def statuses(report: dict[str, Any]) -> dict[str, int]:
    [run] = report["runs"]
    counts: dict[str, int] = {}
    for step in run["steps"]:
        counts[step["status"]] = counts.get(step["status"], 0) + 1
    return counts


def test_every_example_has_a_case() -> None:
    assert PLAYBOOKS, "no example playbooks found"
    assert sorted(CASES) == sorted(p.name for p in PLAYBOOKS)


def test_examples_validate() -> None:
    files = [str(p.relative_to(ROOT)) for p in PLAYBOOKS]
    process = playbook_cli("validate", *files)
    assert process.returncode == 0, process.stdout
    assert process.stdout.splitlines() == [
        *(f"ok: {f}" for f in files),
        f"{len(files)} files valid",
    ]


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_example_runs_green(path: Path, dev_server: Any, tmp_path: Path) -> None:
    assert path.name in CASES, (
        f"playbooks/{path.name} is not run by any test: add it to CASES in {__file__}"
    )
    case = CASES[path.name]
    process, report = run_example(path, dev_server.address, tmp_path)
    assert process.returncode == 0, process.stdout
    assert report["exit_code"] == 0
    [run] = report["runs"]
    assert (run["status"], run["error"], run["address"]) == ("passed", None, dev_server.address)
    not_green = [
        (s["path"], s["name"], s["status"], s["error"])
        for s in run["steps"]
        if s["status"] not in ("passed", "skipped")
    ]
    assert not_green == []
    assert run["counts"]["skipped"] == case.skipped, process.stdout
    assert statuses(report).get("skipped", 0) == case.skipped
    lines = process.stdout.splitlines()
    if lines[-1].startswith("worker log: "):  # (the demo worker's own output went there)
        lines.pop()
    assert lines[-1].startswith(f"passed: {run['playbook']}: ")


def test_smoke_test_junit(dev_server: Any, tmp_path: Path) -> None:
    path = ROOT / "playbooks" / "smoke-test.yaml"
    junit = tmp_path / "reports" / "smoke.xml"
    process, report = run_example(path, dev_server.address, tmp_path, "--junit-xml", str(junit))
    assert process.returncode == 0, process.stdout
    steps = report["runs"][0]["steps"]
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites"
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == (
        str(len(steps)),
        "0",
        "0",
    )
    [suite] = suites.findall("testsuite")
    assert (suite.get("name"), suite.get("failures"), suite.get("errors")) == (
        "Smoke test",
        "0",
        "0",
    )
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [f"{s['path']}: {s['name']}" for s in steps]
    assert cases[0].get("name") == "steps[0]: Create the greeting workflow"
    assert [c for c in cases if c.find("failure") is not None or c.find("error") is not None] == []


@pytest.mark.parametrize("select", [["--tags", "hello"], ["--skip-tags", "order"]])
def test_smoke_test_selects_by_tag(select: list[str], dev_server: Any, tmp_path: Path) -> None:
    """Either way only the greeting half runs, and its cleanup in finally too."""
    path = ROOT / "playbooks" / "smoke-test.yaml"
    process, report = run_example(path, dev_server.address, tmp_path, *select)
    assert process.returncode == 0, process.stdout
    steps = report["runs"][0]["steps"]
    assert [s["name"] for s in steps if s["status"] == "passed"] == [
        "Create the greeting workflow",
        "start hello",
        "Greeting comes back",
        "terminate hello",
    ]
    assert statuses(report) == {"passed": 4, "skipped": 7}


def test_runbook_dry_run_then_confirm(dev_server: Any, tmp_path: Path) -> None:
    order_id = start_order(dev_server.address)
    case = Case(skipped=3, args=lambda _: ["-i", f"order_id={order_id}", "-i", "dry_run=true"])
    process, report = run_example(ROOT / RUNBOOK, dev_server.address, tmp_path, case=case)
    assert process.returncode == 0, process.stdout
    skipped = [s["name"] for s in report["runs"][0]["steps"] if s["status"] == "skipped"]
    assert skipped == ["Ask before terminating", "Terminate the order", "The order is terminated"]
    assert f"    | order {order_id} is now running" in process.stdout.splitlines()
    assert asyncio.run(_status(dev_server.address, order_id)) == "running"
    # Without a terminal and without --yes, the confirm step stops the run before terminating.
    case = Case(args=lambda _: ["-i", f"order_id={order_id}"])
    process, report = run_example(ROOT / RUNBOOK, dev_server.address, tmp_path, case=case)
    assert process.returncode == 2, process.stdout
    assert asyncio.run(_status(dev_server.address, order_id)) == "running"
    # With --yes it terminates.
    case = Case(args=lambda _: ["-i", f"order_id={order_id}", "--yes"])
    process, report = run_example(ROOT / RUNBOOK, dev_server.address, tmp_path, case=case)
    assert process.returncode == 0, process.stdout
    assert asyncio.run(_status(dev_server.address, order_id)) == "terminated"


def test_runbook_plan_is_its_help_page() -> None:
    process = playbook_cli("plan", RUNBOOK, "-i", "order_id=order-42")
    assert process.returncode == 0, process.stdout
    lines = process.stdout.splitlines()
    assert lines[0] == f"Playbook: Terminate a stuck order ({RUNBOOK})"
    expected = [
        "Inputs:",
        "  order_id: order-42",
        "      string, required; Workflow id of the order to terminate",
        "  reason: stuck order, terminated by ops",
        '      string, default "stuck order, terminated by ops"; Reason recorded in the '
        "workflow history",
        "  dry_run: false",
        "      boolean, default false; Only look up the order; terminate nothing",
        "",
        "Steps:",
        "  1. create order: existing execution -- Find the order",
        "     workflow_id: order-42",
        "  2. describe order (id: before) -- Describe the order",
        "  3. assert -- The order is running",
        "     that: steps.before.result.status == 'running'",
    ]
    start = lines.index("Inputs:")
    assert lines[start : start + len(expected)] == expected
    start = lines.index(
        "  7. confirm: Terminate order order-42 (reason: stuck order, terminated by ops)? "
        "-- Ask before terminating"
    )
    assert lines[start:] == [
        "  7. confirm: Terminate order order-42 (reason: stuck order, terminated by ops)? "
        "-- Ask before terminating",
        "     when: not inputs.dry_run",
        "  8. terminate order -- Terminate the order  [destructive]",
        "     when: not inputs.dry_run",
        "     reason: stuck order, terminated by ops",
        '     details: [{runbook: "{{ run.playbook }}", run: "{{ run.id }}"}]',
        "  9. describe order (id: after) -- Describe the order again",
        "  10. log: order {{ inputs.order_id }} is now {{ steps.after.result.status }}",
        "  11. assert -- The order is terminated",
        "      when: not inputs.dry_run",
        "      that: steps.after.result.status == 'terminated'",
    ]


def test_runbook_requires_order_id() -> None:
    process = playbook_cli("run", RUNBOOK, "--address", "127.0.0.1:1")
    assert process.returncode == 2, process.stdout
    assert process.stdout.splitlines() == [
        "error: invalid inputs:",
        "  - input 'order_id' (Workflow id of the order to terminate): missing required input; "
        "give it with -i order_id=VALUE or in --inputs-file",
    ]


def test_cancel_runbook_counts_asks_then_cancels_each(dev_server: Any, tmp_path: Path) -> None:
    prefix = open_orders(dev_server.address)
    ids = [f"{prefix}{index}" for index in range(3)]
    # Without a terminal and without --yes, the confirm step stops the run before any signal.
    case = Case(args=lambda _: ["-i", f"prefix={prefix}"])
    process, report = run_example(ROOT / CANCEL_RUNBOOK, dev_server.address, tmp_path, case=case)
    assert process.returncode == 2, process.stdout
    [ask] = [s for s in report["runs"][0]["steps"] if s["name"] == "Ask before cancelling"]
    assert ask["request"] == {
        "confirm": f"Cancel 3 of the 3 open orders whose id starts with {prefix}?"
    }
    assert [asyncio.run(_status(dev_server.address, i)) for i in ids] == ["running"] * 3
    # With --yes it cancels each one it found, the most recently started first.
    case = Case(args=lambda _: ["-i", f"prefix={prefix}", "--yes"])
    process, report = run_example(ROOT / CANCEL_RUNBOOK, dev_server.address, tmp_path, case=case)
    assert process.returncode == 0, process.stdout
    steps = report["runs"][0]["steps"]
    signalled = [s["workflow_id"] for s in steps if s["name"] == "signal order"]
    assert signalled == list(reversed(ids))
    [left] = [s for s in steps if s.get("id") == "left"]
    assert left["result"] == {"count": 0}
    assert [asyncio.run(_status(dev_server.address, i)) for i in ids] == ["failed"] * 3
    assert "    | cancelled 3 orders; 0 still open" in process.stdout.splitlines()
