"""When things go wrong around a run: the server dies or restarts, no worker polls, a
workflow is wedged by wrong arguments, secrets are about, many playbooks run at once.

Each test runs ``playbook run`` as a subprocess, as a user or a CI job does, and checks the
exit code, the exact message and the reports. docs/robustness.md describes the behaviour.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import textwrap
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import temporalio.service
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from playbook import core
from playbook.core.translate import translate
from playbook.devserver import DevServer, env_without_temporal, start_dev_server
from playbook.errors import OperationTimeout

from .workflows import Echo

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKER = "tests.integration.workflows"  # hosts the test workflows on `playbook-tests`


def playbook_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "playbook", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env_without_temporal(),
    )


def run_cli(*args: str, timeout: float = 60) -> tuple[int, str]:
    process = playbook_cli(*args)
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def read_until(process: subprocess.Popen[str], marker: str) -> list[str]:
    """The output lines up to and including the first that holds ``marker``."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never came:\n{''.join(lines)}")


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def dedicated_server() -> Iterator[Any]:
    """A dev server of the test's own, which it may kill; stopped however the test ends."""
    servers: list[DevServer] = []

    def start(**options: Any) -> DevServer:
        server = asyncio.run(start_dev_server(**options))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.timeout(90)
def test_server_killed_mid_run_fails_the_step_runs_finally_exits_3(
    tmp_path: Path, dedicated_server: Any
) -> None:
    server = dedicated_server()
    workflow_id = f"doomed-{uuid.uuid4().hex[:8]}"
    path = write(
        tmp_path / "p.yaml",
        f"""\
        version: 1
        name: server dies
        steps:
          - id: sleeper
            create: {{type: Sleeper, task_queue: playbook-tests, workflow_id: {workflow_id}}}
          - start: {{workflow: sleeper, args: [600]}}
          - id: waiting
            await_result: {{workflow: sleeper, timeout: 60s}}
          - log: never
        finally:
          - terminate: {{workflow: sleeper, reason: cleanup}}
        """,
    )
    json_report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    process = playbook_cli(
        "run",
        str(path),
        "--address",
        server.address,
        "--worker",
        WORKER,
        "--json-report",
        str(json_report),
        "--junit-xml",
        str(junit),
    )
    try:
        lines = read_until(process, "PASS  start sleeper")
        time.sleep(0.5)  # the await_result step is waiting now
        server.process.kill()
        server.process.wait(10)
        killed = time.monotonic()
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + rest
    assert process.returncode == 3, output
    assert time.monotonic() - killed < 45  # the client retries ~10s per call, not forever
    unavailable = (
        r"the server answered UNAVAILABLE: [^;]+; check that the server is up and "
        "reachable"
    )
    assert re.search(
        rf"\n  FAIL  await_result sleeper  \([^)]*workflow {workflow_id}\)\n"
        rf"        [^\n]+:\d+: step '[^']+': await_result on workflow '{workflow_id}' failed: "
        rf"{unavailable}\n",
        output,
    ), output
    assert "  SKIP  log  (an earlier step failed)" in output
    assert re.search(
        rf"\n  FAIL  terminate sleeper  \([^)]*\)\n        [^\n]+:\d+: step '[^']+': terminate on "
        rf"workflow '{workflow_id}' failed: {unavailable}\n",
        output,
    ), output
    assert re.search(
        r"\nerror: server dies: 2 passed, 2 failed, 1 skipped in \S+ \(exit 3\)\n", output
    ), output
    assert "Traceback" not in output

    report = json.loads(json_report.read_text())
    run = report["runs"][0]
    assert (report["exit_code"], run["exit_code"], run["status"]) == (3, 3, "error")
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("create sleeper", "passed"),
        ("start sleeper", "passed"),
        ("await_result sleeper", "failed"),
        ("log", "skipped"),
        ("terminate sleeper", "failed"),
    ]
    waiting = run["steps"][2]
    assert waiting["error"]["type"] == "ServerError"
    assert re.fullmatch(
        f"await_result on workflow '{workflow_id}' failed: {unavailable}",
        waiting["error"]["message"],
    )
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "0")


@pytest.mark.timeout(90)
def test_server_restart_during_a_retry_loop_recovers(tmp_path: Path, dedicated_server: Any) -> None:
    db = str(tmp_path / "temporal.db")
    server = dedicated_server(db_filename=db)
    workflow_id = f"survivor-{uuid.uuid4().hex[:8]}"
    path = write(
        tmp_path / "p.yaml",
        f"""\
        version: 1
        name: server restarts
        steps:
          - id: counter
            create: {{type: Counter, task_queue: playbook-tests, workflow_id: {workflow_id}}}
          - start: {{workflow: counter, args: [0]}}
          - id: status
            query: {{workflow: counter, query: current}}
            retry: {{until: "result == 7", timeout: 60s, interval: 500ms}}
          - id: state
            describe: {{workflow: counter}}
            retry: {{timeout: 60s, interval: 500ms}}
          - signal: {{workflow: counter, signal: finish}}
          - id: total
            await_result: {{workflow: counter, timeout: 30s}}
            expect: {{result: {{value: 7, log: [add 7]}}}}
        finally:
          - terminate: {{workflow: counter, if_running: true}}
        """,
    )
    json_report = tmp_path / "r.json"
    process = playbook_cli(
        "run",
        str(path),
        "--address",
        server.address,
        "--worker",
        WORKER,
        "--json-report",
        str(json_report),
    )
    try:
        lines = read_until(process, "PASS  start counter")
        time.sleep(1.0)  # a few attempts of the query see 0
        down = time.monotonic()
        server.stop()
        time.sleep(3.0)
        restarted = dedicated_server(port=server.port, db_filename=db)
        outage = time.monotonic() - down

        async def add_seven() -> None:
            client = await core.create_client({"address": restarted.address})
            await core.signal(core.create_workflow(client, workflow_id), "add", [7])

        asyncio.run(add_seven())  # the workflow outlived the restart: the db file kept it
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert re.search(r"\n  PASS  query counter  \(\S+, \d+ attempts, workflow ", output), output
    assert re.search(r"\npassed: server restarts: 7 passed in \S+ \(exit 0\)\n", output), output
    run = json.loads(json_report.read_text())["runs"][0]
    status = run["steps"][2]
    assert (status["result"], status["status"]) == (7, "passed")
    assert status["attempts"] >= 2
    assert status["duration"] >= outage - 1.0  # it kept trying while the server was away
    assert run["steps"][3]["result"]["status"] == "running"
    assert run["steps"][5]["result"] == {"value": 7, "log": ["add 7"]}


@pytest.mark.timeout(60)
def test_no_worker_polling_is_named_in_the_timeout(
    tmp_path: Path, dev_server: Any, task_queue: str
) -> None:
    path = write(
        tmp_path / "p.yaml",
        f"""\
        version: 1
        name: nobody home
        steps:
          - id: hello
            create: {{type: Greeter, task_queue: {task_queue}}}
          - start: {{workflow: hello, args: [anyone]}}
          - await_result: {{workflow: hello, timeout: 1s}}
        finally:
          - terminate: {{workflow: hello, if_running: true}}
        """,
    )
    # (--no-preflight: this run means to meet the queue nobody polls, as a step)
    code, output = run_cli("run", str(path), "--address", dev_server.address, "--no-preflight")
    assert code == 1, output
    workflow_id = re.search(r"workflow (greeter-[0-9a-f]{12})\)", output)
    assert workflow_id is not None, output
    lines = output.splitlines()
    at = lines.index(next(line for line in lines if "FAIL  await_result hello" in line))
    assert re.fullmatch(
        rf"  FAIL  await_result hello  \(1\.\ds, workflow {workflow_id[1]}\)", lines[at]
    ), output
    assert lines[at + 1] == (
        f"        {path}:7: step 'await_result hello': await_result on workflow "
        f"'{workflow_id[1]}' did not finish within 1s "
        f"(task queue '{task_queue}'); no worker is polling task queue '{task_queue}': start a "
        "worker for it (or use --worker)"
    )
    assert lines[at + 2].startswith("  PASS  terminate hello  (")


async def test_query_without_a_worker_names_the_task_queue(client: Client, task_queue: str) -> None:
    stub = core.create_workflow(client, "Counter", {"task_queue": task_queue})
    await core.start(stub)
    try:
        began = time.monotonic()
        with pytest.raises(OperationTimeout) as e:
            await core.query(stub, "current", timeout=1.5)
        assert time.monotonic() - began < 10
        assert str(e.value) == (
            f"query on workflow '{stub.workflow_id}' did not finish within 1.5s (task queue "
            f"'{task_queue}'); no worker is polling task queue '{task_queue}': start a worker "
            "for it (or use --worker)"
        )
        # an existing execution's stub: its task queue is asked of the server
        existing = core.create_workflow(client, stub.workflow_id)
        with pytest.raises(OperationTimeout) as e:
            await core.get_result(existing, timeout=0.5)
        assert str(e.value) == (
            f"await_result on workflow '{stub.workflow_id}' did not finish within 0.5s; no worker "
            f"is polling task queue '{task_queue}': start a worker for it (or use --worker)"
        )
    finally:
        await core.terminate(stub)


def test_a_query_the_server_gave_up_on_is_a_timeout() -> None:
    """Without a timeout of its own, a query nobody answers ends after the server's 30s:
    the server says DEADLINE_EXCEEDED, or the client's own deadline says CANCELLED."""
    for status, message, said in [
        (
            temporalio.service.RPCStatusCode.DEADLINE_EXCEEDED,
            "query timed out before a worker could process it",
            ": query timed out before a worker could process it",
        ),
        (temporalio.service.RPCStatusCode.CANCELLED, "Timeout expired", ""),
    ]:
        error = translate(
            temporalio.service.RPCError(message, status, b""),
            operation="query",
            workflow_id="w",
            name="status",
        )
        assert isinstance(error, OperationTimeout)
        assert str(error) == f"query 'status' on workflow 'w' timed out{said}"


@pytest.mark.timeout(60)
def test_wrong_arguments_wedge_the_workflow_and_the_step_timeout_says_so(
    tmp_path: Path, dev_server: Any
) -> None:
    path = write(
        tmp_path / "p.yaml",
        """\
        version: 1
        name: wedged
        steps:
          - id: greeter
            create: {type: Greeter, task_queue: playbook-tests}
          - start: {workflow: greeter, args: [one, two]}   # Greeter takes one
          - id: greeting
            await_result: {workflow: greeter}
            timeout: 1s
            continue_on_error: true
          - id: counter
            create: {type: Counter, task_queue: playbook-tests}
          - start: {workflow: counter}
          - signal: {workflow: counter, signal: add}         # add takes an amount
          - signal: {workflow: counter, signal: finish}
          - id: total
            await_result: {workflow: counter}
            timeout: 1s
        finally:
          - terminate: {workflow: greeter, if_running: true}
          - terminate: {workflow: counter, if_running: true}
        """,
    )
    code, output = run_cli("run", str(path), "--address", dev_server.address, "--worker", WORKER)
    assert code == 1, output
    ids = dict(re.findall(r"PASS  create (greeter|counter)  \(\S+, workflow (\S+)\)", output))
    assert set(ids) == {"greeter", "counter"}, output
    # the step's timeout names the worker's own words (SPEC section 11)
    said = {
        "greeter": "TypeError: Greeter.run() takes 2 positional arguments but 3 were given",
        "counter": "TypeError: Counter.add() missing 1 required positional argument: 'amount'",
    }
    for step_id, index, line, workflow in (
        ("greeting", 2, 7, "greeter"),
        ("total", 7, 16, "counter"),
    ):
        assert re.search(
            rf"\n  FAIL  await_result {workflow}  \(1\.\ds, workflow {ids[workflow]}\)\n"
            + re.escape(
                f"        {path}:{line}: step '{step_id}' (steps[{index}]), field timeout: the step "
                f"did not finish within 1.0s (workflow '{ids[workflow]}'; its workflow task fails "
                f"on the worker (WorkflowWorkerUnhandledFailure): {said[workflow]}; check the "
                "args the start, signal or update gave against the method named)\n"
            ),
            output,
        ), output
    assert "  PASS  terminate greeter" in output and "  PASS  terminate counter" in output
    assert re.search(r"\nfailed: wedged: 8 passed, 2 failed in \S+ \(exit 1\)\n", output), output


SECRET = "s3cr3t-value"
API_KEY = "sk-live-0123456789abcdef"

SECRET_PLAYBOOK = """\
    version: 1
    name: secrets stay secret
    inputs:
      token: {type: string, secret: true}
    steps:
      - log: "the token is {{ inputs.token }}"
      - id: ghost
        create: {workflow_id: "ghost-{{ run.id }}"}
      - signal: {workflow: ghost, signal: add, args: ["{{ inputs.token }}", {t: ["{{ inputs.token }}"]}]}
        continue_on_error: true
      - assert:
          that: ["inputs.token == 'something else'"]
          message: "wrong token {{ inputs.token }}"
        continue_on_error: true
      - id: echo
        create: {type: Echo, task_queue: playbook-tests, workflow_id: "echo-{{ inputs.token }}-{{ run.id }}"}
      - start: {workflow: echo, args: ["{{ inputs.token }}", {token: "{{ inputs.token }}"}]}
      - id: echoed
        await_result: {workflow: echo, timeout: 30s}
        expect: {result: [not the token]}
        continue_on_error: true
      - log: "{{ inputs.token | duration }}"
    """


@pytest.mark.timeout(60)
def test_a_secret_input_never_shows(tmp_path: Path, dev_server: Any) -> None:
    path = write(tmp_path / "p.yaml", SECRET_PLAYBOOK)
    json_report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code, output = run_cli(
        "run",
        str(path),
        "-v",
        "-i",
        f"token={SECRET}",
        "--address",
        dev_server.address,
        "--worker",
        WORKER,
        "--json-report",
        str(json_report),
        "--junit-xml",
        str(junit),
    )
    assert code == 1, output
    for text in (output, json_report.read_text(), junit.read_text()):
        assert SECRET not in text
        assert "s3cr3t" not in text
    # each place where the value would have shown did run, and shows the mask instead
    for expected in [
        "    | the token is ***\n",
        "not found or has already closed",
        ": step 'assert': wrong token ***\n"
        "          assertion failed: inputs.token == 'something else'  ('***' == 'something else')\n",
        ": step 'echoed': expectation not met: result: expected 1 item, got 2: "
        "['***', {'token': '***'}]\n",
        "field log: duration filter: '***' is not a duration",
        ", workflow echo-***-",
    ]:
        assert expected in output, output
    run = json.loads(json_report.read_text())["runs"][0]
    signal = run["steps"][2]
    assert signal["request"] == {
        "signal": {"workflow": "ghost", "signal": "add", "args": ["***", {"t": ["***"]}]}
    }
    assert run["steps"][6]["result"] == ["***", {"token": "***"}]
    assert run["steps"][4]["workflow_id"].startswith("echo-***-")


@pytest.mark.timeout(60)
def test_an_api_key_never_shows(tmp_path: Path, dev_server: Any) -> None:
    path = write(tmp_path / "p.yaml", SECRET_PLAYBOOK)
    json_report, junit = tmp_path / "r.json", tmp_path / "r.xml"
    code, output = run_cli(
        "run",
        str(path),
        "-i",
        f"token={SECRET}",
        "--api-key",
        API_KEY,
        "--address",
        dev_server.address,
        "--json-report",
        str(json_report),
        "--junit-xml",
        str(junit),
    )
    assert code == 3, output  # an API key turns TLS on, which the dev server does not speak
    assert output.splitlines() == [
        f"error: could not connect to Temporal at {dev_server.address} (namespace 'default'): "
        "the server does not speak TLS (TLS is on: --tls, a tls setting or an API key turns it "
        "on); use --no-tls for a server without TLS; check the address and that the server is "
        "up (or use --dev-server)"
    ]
    for text in (output, json_report.read_text(), junit.read_text()):
        assert API_KEY not in text and SECRET not in text


@pytest.mark.timeout(90)
async def test_five_playbooks_at_once_each_with_a_200_item_foreach(
    tmp_path: Path, dev_server: Any, client: Client, task_queue: str
) -> None:
    items = 200
    files = []
    for n in range(5):
        files.append(
            str(
                write(
                    tmp_path / f"load{n}.yaml",
                    f"""\
            version: 1
            name: load {n}
            steps:
              - id: fan
                foreach:
                  items: "{{{{ range({items}) | list }}}}"
                  as: i
                  concurrency: 10
                  steps:
                    - id: echo
                      create: {{type: Echo, task_queue: {task_queue},
                               workflow_id: "load{n}-{{{{ run.id }}}}-{{{{ i }}}}"}}
                    - start: {{workflow: echo, args: ["p{n}", "{{{{ i }}}}"]}}
                    - id: got
                      await_result: {{workflow: echo, timeout: 60s}}
              - assert: steps.fan.result | length == {items}
            """,
                )
            )
        )
    json_report = tmp_path / "r.json"
    # The worker runs here, unsandboxed: a sandbox re-imports the workflow module for every
    # run, which for 1,000 runs would measure the sandbox rather than the runner.
    async with Worker(
        client, task_queue=task_queue, workflows=[Echo], workflow_runner=UnsandboxedWorkflowRunner()
    ):
        code, output = await asyncio.to_thread(
            run_cli,
            "run",
            *files,
            "--jobs",
            "5",
            "--address",
            dev_server.address,
            "--json-report",
            str(json_report),
            timeout=80,
        )
    assert code == 0, output
    report = json.loads(json_report.read_text())
    assert report["exit_code"] == 0
    assert [run["playbook"] for run in report["runs"]] == [f"load {n}" for n in range(5)]
    run_ids = set()
    for n, run in enumerate(report["runs"]):
        assert (run["exit_code"], run["status"]) == (0, "passed")
        run_ids.add(run["run_id"])
        steps = run["steps"]
        assert len(steps) == 2 + 3 * items  # foreach, assert, and three steps per item
        assert {s["status"] for s in steps} == {"passed"}
        inner = [s for s in steps if ".foreach[" in s["path"]]
        assert sorted({int(s["path"].split(".foreach[")[1].split("]")[0]) for s in inner}) == list(
            range(items)
        )
        fan = next(s for s in steps if s["path"] == "steps[0]")
        assert [entry["got"] for entry in fan["result"]] == [[f"p{n}", i] for i in range(items)]
        assert all(
            entry["echo"]["workflow_id"] == f"load{n}-{run['run_id']}-{i}"
            for i, entry in enumerate(fan["result"])
        )
    assert len(run_ids) == 5
    summaries = re.findall(
        rf"(?m)^passed: load (\d): {2 + 3 * items} passed in \S+ \(exit 0\)$", output
    )
    assert sorted(summaries) == ["0", "1", "2", "3", "4"], output
