"""SIGINT and SIGTERM over the whole of ``playbook run``, as a user (or CI) sends them: during
the dev server's start-up, during teardown, during a ``--worker`` connect to a server that
never answers. Each time: exit 130, a report that tells the truth, and no process of the
command's left behind.

Every process the command starts inherits a marker in its environment, so the leftovers
are found by PID in ``/proc`` whatever moment the signal came at."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from playbook.devserver import env_without_temporal

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")

PLAYBOOK = """\
    version: 1
    name: {name}
    steps:
      - id: w
        create: {{workflow_id: signals-{name}}}
      - {last}
    """
LONG = PLAYBOOK.format(name="long", last="sleep: 60s")  # a signal then lands before its end
SHORT = PLAYBOOK.format(name="short", last="log: done")
# A worker module whose import takes a while and says when it begins (a signal then comes
# while the command loads its workers, before the dev server starts).
SLOW_WORKER = """\
    import os, pathlib, time
    pathlib.Path(os.environ["SLOW_WORKER_STARTED"]).write_text("importing")
    time.sleep(2)
    from playbook.demo import activities, task_queue, workflows
    """


class Command:
    """A subprocess with a marker in its environment, which its children inherit."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.marker = uuid.uuid4().hex
        self.report: Path | None = None
        self.process = subprocess.Popen(
            [sys.executable, *argv], cwd=cwd, text=True,
            env={**env_without_temporal(), **env, "PLAYBOOK_SIGNALS_TEST": self.marker},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.lines: list[str] = []

    @classmethod
    def run(cls, tmp_path: Path, playbook: str, *args: str) -> Command:
        """``playbook run`` of ``playbook`` with a JSON report; ``tmp_path`` is importable."""
        path, report = tmp_path / "p.yaml", tmp_path / "report.json"
        path.write_text(textwrap.dedent(playbook))
        env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "SLOW_WORKER_STARTED": str(tmp_path / "started")}
        argv = ["-m", "playbook", "run", str(path), *args, "--json-report", str(report)]
        command = cls(argv, ROOT, env)
        command.report = report
        return command

    def processes(self) -> dict[int, str]:
        """PID -> command line of every live process with this command's marker."""
        found = {}
        needle = f"PLAYBOOK_SIGNALS_TEST={self.marker}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found[int(entry.name)] = (
                        (entry / "cmdline").read_bytes().decode(errors="replace")
                    )
            except OSError:  # gone meanwhile, or a zombie
                continue
        return found

    def servers(self) -> dict[int, str]:
        return {pid: line for pid, line in self.processes().items() if "start-dev" in line}

    def wait_for(self, what: Callable[[], object], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            assert self.process.poll() is None, self.finish()
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.01)

    def read_until(self, text: str) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} never came:\n{''.join(self.lines)}")

    def send(self, sig: int) -> None:
        self.sent = time.monotonic()
        self.process.send_signal(sig)

    def finish(self) -> str:
        rest, _ = self.process.communicate(timeout=60)
        self.took = time.monotonic() - getattr(self, "sent", time.monotonic())
        return "".join(self.lines) + rest

    def run_report(self) -> dict[str, Any]:
        assert self.report is not None
        report: dict[str, Any] = json.loads(self.report.read_text())
        assert report["exit_code"] == 130
        [run] = report["runs"]
        return dict(run)


@pytest.fixture
def command(tmp_path: Path) -> Iterator[Callable[..., Command]]:
    made: list[Command] = []

    def make(playbook: str, *args: str) -> Command:
        made.append(Command.run(tmp_path, playbook, *args))
        return made[-1]

    yield make
    for each in made:  # a failed test leaves nothing behind either
        if each.process.poll() is None:
            each.process.kill()
            each.process.wait()
        for pid in each.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- start-up -------------------------------------------------------------------------------


def started(tmp_path: Path) -> Callable[[], bool]:
    return lambda: (tmp_path / "started").exists()


@pytest.mark.parametrize("moment", ["loading the workers", "spawning the server", "its readiness"])
def test_sigterm_during_dev_server_start_up(
    moment: str, tmp_path: Path, command: Callable[..., Command]
) -> None:
    (tmp_path / "slow_worker.py").write_text(textwrap.dedent(SLOW_WORKER))
    worker = "slow_worker" if moment == "loading the workers" else "playbook.demo"
    run = command(LONG, "--dev-server", "--worker", worker)
    if moment == "loading the workers":
        run.wait_for(started(tmp_path))
    else:
        run.wait_for(run.servers)
        if moment == "its readiness":
            time.sleep(0.3)
    run.send(signal.SIGTERM)
    output = run.finish()

    assert run.process.returncode == 130, output
    assert run.took < 15
    assert run.processes() == {}
    report = run.run_report()
    assert (report["status"], report["exit_code"], report["steps"]) == ("interrupted", 130, [])
    assert report["error"] == "interrupted (SIGTERM) before the run started"
    assert output.splitlines() == [
        "error: interrupted (SIGTERM) before the run started; nothing ran"
    ]


def catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (playbook's main installs one first)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def test_sigterm_as_the_command_begins(command: Callable[..., Command]) -> None:
    """Before the playbook is even loaded: the report still names it, interrupted. (Only
    the first tens of milliseconds, while Python itself starts, are not ours.)"""
    run = command(LONG, "--dev-server")
    run.wait_for(lambda: catches_sigterm(run.process.pid))
    time.sleep(0.15)
    run.send(signal.SIGTERM)
    output = run.finish()
    assert run.process.returncode == 130, output
    assert run.processes() == {}
    assert output == "error: interrupted (SIGTERM) before the run started; nothing ran\n"
    report = run.run_report()
    assert (report["playbook"], report["status"], report["exit_code"]) == (
        "long",
        "interrupted",
        130,
    )


# -- teardown -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2])
def test_sigterm_during_teardown_keeps_the_report(
    count: int, command: Callable[..., Command]
) -> None:
    run = command(SHORT, "--dev-server", "--worker", "playbook.demo")
    run.read_until("passed: short:")
    assert run.servers()  # still up: the signal comes in teardown
    for _ in range(count):
        run.send(signal.SIGTERM)
    output = run.finish()

    assert run.process.returncode == 130, output
    assert run.took < 15
    assert run.processes() == {}
    assert output.splitlines()[-1] == (
        "error: interrupted (SIGTERM) after the run had ended, as the command shut down"
    )
    report = run.run_report()
    assert (report["status"], report["exit_code"]) == ("interrupted", 130)
    assert report["error"] == (
        "interrupted (SIGTERM) after the run had ended, as the command shut down "
        "(it had passed, exit 0)"
    )
    assert [(s["name"], s["status"]) for s in report["steps"]] == [
        ("create w", "passed"),
        ("log", "passed"),
    ]


# -- a --worker connect to a server that never answers --------------------------------------


@pytest.fixture
def silent() -> Iterator[socket.socket]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(60)
    yield listener
    listener.close()


def worker_connect(
    silent: socket.socket, command: Callable[..., Command], timeout: str
) -> tuple[str, Command]:
    """A run whose ``--worker`` connects to the silent server: its address, the run."""
    address = f"127.0.0.1:{silent.getsockname()[1]}"
    worker = ("--worker", "playbook.demo", "--connect-timeout", timeout)
    return address, command(SHORT, "--address", address, *worker)


def test_sigint_during_a_worker_connect(
    silent: socket.socket, command: Callable[..., Command]
) -> None:
    _, run = worker_connect(silent, command, "60s")
    connection, _ = silent.accept()  # the worker's client is connecting now
    time.sleep(0.2)
    run.send(signal.SIGINT)
    output = run.finish()
    connection.close()

    assert run.process.returncode == 130, output
    assert run.took < 5  # not the connect timeout
    assert output == "error: interrupted (Ctrl-C) before the run started; nothing ran\n"
    report = run.run_report()
    assert (report["status"], report["exit_code"], report["steps"]) == ("interrupted", 130, [])
    assert report["error"] == "interrupted (Ctrl-C) before the run started"
    assert run.processes() == {}


def test_a_failed_worker_connect_is_reported_as_an_error(
    silent: socket.socket, command: Callable[..., Command]
) -> None:
    address, run = worker_connect(silent, command, "1s")
    output = run.finish()
    message = (
        f"could not connect to Temporal at {address} (namespace 'default'): no answer within "
        "1s; check the address and that the server is up (or use --dev-server)"
    )
    assert run.process.returncode == 3, output
    assert output == f"error: {message}\n"
    assert run.report is not None
    report = json.loads(run.report.read_text())
    assert report["exit_code"] == 3
    [result] = report["runs"]
    assert (result["status"], result["exit_code"], result["error"]) == ("error", 3, message)


# -- the pytest plugin's session server ---------------------------------------------------


def test_sigterm_to_pytest_stops_the_session_dev_server(tmp_path: Path) -> None:
    """SIGTERM ends pytest without unconfiguring the plugin: its handler stops the dev
    server first, then the signal ends pytest as it would have."""
    (tmp_path / "long.playbook.yaml").write_text(textwrap.dedent(LONG))
    argv = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--playbook-dev-server", str(tmp_path)]
    run = Command(argv, tmp_path, {"PYTHONPATH": str(ROOT)})
    try:
        run.wait_for(run.servers)
        time.sleep(1.0)  # the server up, the playbook sleeping
        run.send(signal.SIGTERM)
        output = run.finish()
        assert run.process.returncode == -signal.SIGTERM, output
        assert run.processes() == {}
    finally:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
