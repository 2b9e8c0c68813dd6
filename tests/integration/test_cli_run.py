"""`playbook run` as a user runs it: a subprocess, real signals, real exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

from playbook import core
from playbook.devserver import env_without_temporal, free_port

ROOT = Path(__file__).resolve().parents[2]


def playbook_cli(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "playbook", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env_without_temporal(),
        **kwargs,
    )


def test_connection_refused_exits_3_quickly(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: unreachable
        connection: {connect_timeout: 1s}
        steps:
          - id: w
            create: {workflow_id: x}
          - describe: {workflow: w}
        """)
    )
    address = f"127.0.0.1:{free_port()}"
    began = time.monotonic()
    process = playbook_cli("run", str(path), "--address", address)
    out, _ = process.communicate(timeout=30)
    elapsed = time.monotonic() - began
    assert process.returncode == 3, out
    assert elapsed < 1.0 + 1.0  # connect_timeout + 1s, the interpreter's own start included
    assert out.splitlines() == [
        f"error: could not connect to Temporal at {address} (namespace 'default'): connection "
        "refused; check the address and that the server is up (or use --dev-server)"
    ]


def test_silent_server_exits_3_within_connect_timeout(tmp_path: Path) -> None:
    """Something accepts the connection and never answers: the whole verification is
    bounded by connect_timeout, not only the TCP dial."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nname: silent\nconnection: {connect_timeout: 2s}\nsteps:\n"
        "  - id: w\n    create: {workflow_id: x}\n  - describe: {workflow: w}\n"
    )
    # what starting the command costs here (more under coverage's tracer, as in CI)
    began = time.monotonic()
    playbook_cli("--version").communicate(timeout=30)
    start_up = time.monotonic() - began
    try:
        began = time.monotonic()
        process = playbook_cli("run", str(path), "--address", address)
        out, _ = process.communicate(timeout=30)
        elapsed = time.monotonic() - began
    finally:
        listener.close()
    assert process.returncode == 3, out
    assert elapsed < 2.0 + 1.5 + start_up  # far below the 10 s+ of an unbounded wait
    assert out.splitlines() == [
        f"error: could not connect to Temporal at {address} (namespace 'default'): no answer "
        "within 2s; check the address and that the server is up (or use --dev-server)"
    ]


def test_sigint_runs_finally_writes_reports_exits_130(tmp_path: Path, dev_server: Any) -> None:
    workflow_id = f"interrupted-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: interrupted
        steps:
          - id: sleeper
            create: {{type: Sleeper, task_queue: playbook-tests, workflow_id: {workflow_id}}}
          - start: {{workflow: sleeper, args: [600]}}
          - id: waiting
            await_result: {{workflow: sleeper}}
          - log: never
        finally:
          - terminate: {{workflow: sleeper, reason: interrupted run cleanup}}
        """)
    )
    json_report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    process = playbook_cli(
        "run",
        str(path),
        "--address",
        dev_server.address,
        "--worker",
        "tests.integration.workflows",
        "--json-report",
        str(json_report),
        "--junit-xml",
        str(junit),
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "PASS  start sleeper" in line:
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert "CANC  await_result sleeper" in output
    assert "PASS  terminate sleeper" in output
    report = json.loads(json_report.read_text())
    run = report["runs"][0]
    assert (report["exit_code"], run["status"]) == (130, "interrupted")
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("create sleeper", "passed"),
        ("start sleeper", "passed"),
        ("await_result sleeper", "canceled"),
        ("log", "skipped"),
        ("terminate sleeper", "passed"),
    ]
    assert junit.read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')
    # the reports of an interrupted run are complete documents, valid against their schemas
    import jsonschema
    import xmlschema

    schema = json.loads((ROOT / "schemas" / "json-report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    xmlschema.XMLSchema(str(ROOT / "tests" / "unit" / "data" / "junit-10.xsd")).validate(str(junit))

    import asyncio

    async def status() -> str:
        client = await core.create_client({"address": dev_server.address})
        return str((await core.describe(core.create_workflow(client, workflow_id)))["status"])

    assert asyncio.run(status()) == "terminated"


def test_dev_server_and_worker_flags(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: embedded
        steps:
          - id: hello
            create: {type: Greeter, task_queue: playbook-tests}
          - start: {workflow: hello, args: [dev]}
          - id: said
            await_result: {workflow: hello, timeout: 30s}
            expect: {result: "Hello, DEV!"}
        """)
    )
    report = tmp_path / "r.json"
    process = playbook_cli(
        "run",
        str(path),
        "--dev-server",
        "--worker",
        "tests.integration.workflows",
        "--json-report",
        str(report),
    )
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    assert "PASS  await_result hello" in out
    # a link to the embedded UI, in the report (a CI log has links for failures only)
    link = json.loads(report.read_text())["runs"][0]["steps"][1]["ui_link"]
    assert "/namespaces/default/workflows/greeter-" in link
    assert "/namespaces/" not in out


def test_time_skipping_server(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: time skipping
        steps:
          - id: s
            create: {type: Sleeper, task_queue: playbook-tests}
          - start: {workflow: s, args: [3600]}
          - sleep: 2h
          - id: r
            await_result: {workflow: s, timeout: 30s}
          - assert: steps.r.result == 'woke up'
        """)
    )
    process = playbook_cli(
        "run", str(path), "--time-skipping", "--worker", "tests.integration.workflows"
    )
    out, _ = process.communicate(timeout=120)  # an hour-long workflow and a 2h sleep
    assert process.returncode == 0, out
    assert "PASS  sleep" in out and "PASS  assert" in out
    assert "WARN" not in out


def test_second_sigint_stops_finally_and_still_writes_reports(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: twice
        steps:
          - log: working
          - sleep: 60s
        finally:
          - log: cleaning up
          - sleep: 60s
          - log: never
        """)
    )
    report = tmp_path / "r.json"
    process = playbook_cli("run", str(path), "--json-report", str(report))
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "PASS  log" in line:
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)  # stops the 60s sleep; finally starts
    for line in process.stdout:
        seen.append(line)
        if "cleaning up" in line:
            break
    time.sleep(0.5)
    began = time.monotonic()
    process.send_signal(signal.SIGINT)  # stops finally's own 60s sleep
    rest, _ = process.communicate(timeout=30)
    assert time.monotonic() - began < 10
    assert process.returncode == 130, "".join(seen) + rest
    run = json.loads(report.read_text())["runs"][0]
    assert [(s["path"], s["status"]) for s in run["steps"]] == [
        ("steps[0]", "passed"),
        ("steps[1]", "canceled"),
        ("finally[0]", "passed"),
        ("finally[1]", "canceled"),
        ("finally[2]", "skipped"),
    ]


def test_dev_server_command_runs_in_the_foreground(tmp_path: Path) -> None:
    port = free_port()
    process = playbook_cli(
        "dev-server", "--port", str(port), "--no-ui", "--db-filename", str(tmp_path / "state.db")
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first == f"Temporal dev server: address 127.0.0.1:{port}, namespace 'default'\n"
        assert process.stdout.readline() == "Press Ctrl-C to stop.\n"

        import asyncio

        async def answers() -> str:
            for _ in range(100):
                try:
                    client = await core.create_client({"address": f"127.0.0.1:{port}"}, timeout=2)
                    return client.namespace
                except Exception:
                    await asyncio.sleep(0.2)
            return "never answered"

        assert asyncio.run(answers()) == "default"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
    assert (tmp_path / "state.db").exists()
