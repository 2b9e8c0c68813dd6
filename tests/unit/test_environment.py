"""The run environment offline: an embedded server replaces the connection wholesale (no
TLS, API key, profile or header from TEMPORAL_*, the TOML file, the command line or the
playbook), an explicit connection is resolved once with connect_timeout parsed once,
clients are shared per connection, inputs are merged in one place, and the usage errors
of ``playbook run`` (``--connect-timeout bogus``, ``--worker ''``) exit 2."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest

from playbook import devserver
from playbook.core import ConnectSettings
from playbook.environment import RunEnvironment
from playbook.environment.settings import Connection
from playbook.environment.workers import load_worker_specs
from playbook.errors import InvalidInputs, UsageError
from playbook.inputs import resolve_each
from playbook.loader import load
from playbook.model import Playbook
from playbook.report.console import ConsoleReporter
from playbook.runner import RunOptions

DURATION_HELP = "a duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number of seconds"

PROFILE = """\
[profile.cloud]
address = "cloud.example.tmprl.cloud:7233"
namespace = "prod.acct"
api_key = "profile-key"
"""


@pytest.fixture
def temporal_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every TEMPORAL_* setting that could leak onto an embedded server."""
    config = tmp_path / "temporal.toml"
    config.write_text(PROFILE)
    for name, value in {
        "TEMPORAL_API_KEY": "secret-key",
        "TEMPORAL_TLS": "true",
        "TEMPORAL_ADDRESS": "env.example:7233",
        "TEMPORAL_NAMESPACE": "env-ns",
        "TEMPORAL_GRPC_META_X_TEAM": "payments",
        "TEMPORAL_CONFIG_FILE": str(config),
        "TEMPORAL_PROFILE": "cloud",
    }.items():
        monkeypatch.setenv(name, value)
    return config


def playbook_file(tmp_path: Path, connection: str, name: str = "p.yaml") -> Playbook:
    path = tmp_path / name
    path.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: connected
        inputs:
          t: {{type: string, default: 2s}}
        connection: {connection}
        steps:
          - id: w
            create: {{workflow_id: x}}
          - describe: {{workflow: w}}
        """)
    )
    return load(path)


class FakeDevServer:
    address = "127.0.0.1:7999"
    namespace = "default"
    ui_url = "http://127.0.0.1:8999"

    def __init__(self) -> None:
        self.stopped = 0

    def stop(self) -> None:
        self.stopped += 1


async def test_the_dev_server_replaces_the_connection_wholesale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temporal_environment: Path
) -> None:
    server = FakeDevServer()

    async def start_dev_server(**options: Any) -> FakeDevServer:
        assert options == {"ui": True, "namespace": "default", "search_attributes": []}
        return server

    monkeypatch.setattr(devserver, "start_dev_server", start_dev_server)
    playbook = playbook_file(
        tmp_path,
        "{address: pb.example:7233, namespace: pb-ns, "
        "api_key: pb-key, tls: true, profile: cloud, "
        "config_file: /nowhere.toml, headers: {x-pb: 'yes'}}",
    )
    environment = RunEnvironment(
        {"address": "cli.example:7233", "api_key": "cli-key", "tls": True, "profile": "cloud"},
        server="dev",
    )
    async with environment:
        expected = Connection(ConnectSettings(address="127.0.0.1:7999", namespace="default"))
        assert environment.connection(playbook, {}) == expected
        assert environment.connection() == expected
        settings = environment.connection(playbook, {}).settings
        assert (settings.api_key, settings.tls, dict(settings.headers)) == (None, None, {})
        # a run_playbook call may still move the namespace, and nothing else comes with it
        assert environment.connection(
            playbook, {}, {"namespace": "other", "api_key": "k"}
        ) == Connection(ConnectSettings(address="127.0.0.1:7999", namespace="other"))

        options = RunOptions()
        runner = environment.runner(
            playbook, {"t": "2s"}, options=options, reporter=ConsoleReporter(io.StringIO())
        )
        result = runner.shared.result
        assert (result.address, result.namespace) == ("127.0.0.1:7999", "default")
        assert (options.ui_url, options.namespace) == ("http://127.0.0.1:8999", "default")
        assert server.stopped == 0
    assert server.stopped == 1


async def test_the_dev_servers_readiness_check_reads_no_environment(
    monkeypatch: pytest.MonkeyPatch, temporal_environment: Path
) -> None:
    import playbook.core

    seen: list[tuple[object, float]] = []

    async def create_client(settings: object, timeout: float) -> None:
        seen.append((settings, timeout))

    monkeypatch.setattr(playbook.core, "create_client", create_client)
    await devserver.wait_until_ready("127.0.0.1:7999", "default", timeout=5)
    assert seen == [(ConnectSettings(address="127.0.0.1:7999", namespace="default"), 2.0)]
    assert devserver.env_without_temporal().keys() & {"TEMPORAL_API_KEY", "TEMPORAL_TLS"} == set()


def test_an_explicit_connection_is_resolved_once_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "secret-key")
    playbook = playbook_file(tmp_path, "{namespace: pb-ns, connect_timeout: '{{ inputs.t }}'}")
    connection = RunEnvironment({"address": "cli.example:7233"}).connection(playbook, {"t": "2s"})
    assert connection == Connection(
        ConnectSettings(
            address="cli.example:7233", namespace="pb-ns", api_key="secret-key", tls=True
        ),
        timeout=2.0,
    )
    # the command line's connect_timeout and namespace win over the playbook's
    environment = RunEnvironment({"namespace": "cli-ns", "connect_timeout": "750ms"})
    connection = environment.connection(playbook, {"t": "2s"})
    assert (connection.namespace, connection.timeout) == ("cli-ns", 0.75)


def test_a_bad_connect_timeout_is_a_usage_error_naming_its_source(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as error:
        RunEnvironment({"connect_timeout": "bogus"})
    assert str(error.value) == f"--connect-timeout: 'bogus' is not a duration; {DURATION_HELP}"
    with pytest.raises(UsageError) as error:
        RunEnvironment({"connect_timeout": "soon"}, flag_prefix="--playbook-")
    assert (
        str(error.value) == f"--playbook-connect-timeout: 'soon' is not a duration; {DURATION_HELP}"
    )

    playbook = playbook_file(tmp_path, "{connect_timeout: '{{ inputs.t }}'}")
    with pytest.raises(UsageError) as error:
        RunEnvironment().connection(playbook, {"t": "later"})
    assert str(error.value) == (
        f"{playbook.path}: connection.connect_timeout: 'later' is not a duration; {DURATION_HELP}"
    )


async def test_one_client_per_connection_and_a_failure_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import playbook.environment as environment_module
    from playbook.errors import ConnectionFailed

    attempts: list[str] = []

    async def connect(connection: Connection) -> Any:
        attempts.append(connection.namespace)
        if len(attempts) == 1:
            raise ConnectionFailed(
                "down", address=connection.address, namespace=connection.namespace
            )
        return f"client of {connection.namespace}"

    monkeypatch.setattr(environment_module, "_connect", connect)
    environment = RunEnvironment()
    first = Connection(ConnectSettings(address="a:1", namespace="one"))
    with pytest.raises(ConnectionFailed):
        await environment.client(first)
    clients: list[object] = [
        await environment.client(first),
        await environment.client(Connection(first.settings)),
        await environment.client(Connection(ConnectSettings(address="a:1", namespace="two"))),
    ]
    assert clients == ["client of one", "client of one", "client of two"]
    assert attempts == ["one", "one", "two"]


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from playbook.cli import _run_cli

    code = _run_cli(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--connect-timeout", "bogus"],
            f"error: --connect-timeout: 'bogus' is not a duration; {DURATION_HELP}",
        ),
        (
            ["--worker", ""],
            "error: --worker '': give a module to import, as MODULE or MODULE:ATTR "
            "(e.g. --worker playbook.demo)",
        ),
    ],
)
def test_run_usage_errors_exit_2_before_anything_connects(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    async def no_server(**options: Any) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(devserver, "start_dev_server", no_server)
    (tmp_path / "x.yaml").write_text("version: 1\nname: x\nsteps:\n  - log: hi\n")
    code, output = run_cli("run", *args, "--dev-server", str(tmp_path / "x.yaml"), capsys=capsys)
    assert (code, output) == (2, message + "\n")


def test_worker_references_that_name_no_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_worker.py").write_text("raise RuntimeError('no database')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError) as error:
        load_worker_specs("broken_worker", "--playbook-worker")
    assert str(error.value) == (
        "--playbook-worker broken_worker: importing module "
        "'broken_worker' failed: RuntimeError: no database"
    )
    with pytest.raises(UsageError) as error:
        load_worker_specs(".relative")
    assert str(error.value) == (
        "--worker .relative: give a module to import, as MODULE or "
        "MODULE:ATTR (e.g. --worker playbook.demo)"
    )
    (tmp_path / "odd_worker.py").write_text("task_queue = 'q'\nworkflows = 'Greeter'\n")
    with pytest.raises(UsageError) as error:
        load_worker_specs("odd_worker")
    assert str(error.value).startswith(
        "--worker odd_worker: workflows is str, not a list; export task_queue (a string)"
    )


def test_inputs_of_one_and_of_several_playbooks() -> None:
    order = (
        "order.yaml",
        {"count": {"type": "integer"}, "who": {"type": "string", "default": "alice"}},
    )
    other = ("other.yaml", {"flag": {"type": "boolean", "default": False}})
    assert resolve_each([order], {"count": "3"}, from_cli=True) == [{"count": 3, "who": "alice"}]
    assert resolve_each([order, other], {"count": "3", "flag": "yes"}, from_cli=True) == [
        {"count": 3, "who": "alice"},
        {"flag": True},
    ]
    with pytest.raises(InvalidInputs) as error:
        resolve_each([order, other], {"count": "x", "nope": "1"}, from_cli=True)
    assert error.value.problems == [
        "unknown input 'nope'; declared inputs: count, flag, who",
        "order.yaml: input 'count': 'x' is not an integer; give a whole number such as 5",
    ]
    # a session's shared strings go to the playbooks that declare them, under given values
    assert resolve_each(
        [order], {"who": "bob"}, from_cli=False, shared={"count": "7", "who": "carol", "flag": "no"}
    ) == [{"count": 7, "who": "bob"}]
    with pytest.raises(InvalidInputs) as error:
        resolve_each([order], {"flag": True}, from_cli=False)
    assert error.value.problems == ["unknown input 'flag'; declared inputs: count, who"]
