"""The plugin's hooks: its options (command line over ini, read once into
:class:`Settings`), the session's start and end, the report header, and which files are
collected as playbooks (the ini option ``playbook_files``, default ``*.playbook.yaml``)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from playbook.pytest_plugin.items import PlaybookFile
from playbook.pytest_plugin.session import SESSION, PlaybookSession

DEFAULT_PATTERNS = ["*.playbook.yaml"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("playbook", "temporal-playbook")
    group.addoption(
        "--playbook-address",
        metavar="HOST:PORT",
        help="Temporal address for the playbooks and workers (ini: playbook_address)",
    )
    group.addoption(
        "--playbook-namespace", metavar="NAME", help="Temporal namespace (ini: playbook_namespace)"
    )
    group.addoption(
        "--playbook-api-key", metavar="KEY", help="API key (or set TEMPORAL_API_KEY); never printed"
    )
    group.addoption(
        "--playbook-dev-server",
        action="store_true",
        default=None,
        help="start the bundled dev server once for the session and use it "
        "(ini: playbook_dev_server)",
    )
    group.addoption(
        "--playbook-worker",
        action="append",
        metavar="MODULE[:ATTR]",
        help="host this module's workflows and activities in-process for the "
        "session; repeatable (ini: playbook_workers)",
    )
    group.addoption(
        "--playbook-input",
        action="append",
        metavar="NAME=VALUE",
        help="input for the playbooks that declare it; repeatable (ini: playbook_inputs)",
    )
    group.addoption(
        "--playbook-search-attribute",
        action="append",
        metavar="NAME=TYPE",
        help="with --playbook-dev-server: register a custom search attribute; repeatable "
        "(ini: playbook_search_attributes)",
    )
    group.addoption(
        "--playbook-data-converter",
        metavar="MODULE:ATTR",
        help="the temporalio DataConverter of the session's clients and workers "
        "(ini: playbook_data_converter)",
    )
    group.addoption(
        "--playbook-codec-endpoint",
        metavar="URL",
        help="a codec server for the payloads (ini: playbook_codec_endpoint)",
    )
    group.addoption(
        "--playbook-codec-auth",
        metavar="VALUE",
        help="Authorization header for the codec server (or set TEMPORAL_CODEC_AUTH); "
        "never printed",
    )
    group.addoption(
        "--playbook-ui-url",
        metavar="URL",
        help="Temporal UI base URL for the links in reports (ini: playbook_ui_url)",
    )
    group.addoption(
        "--playbook-yes", action="store_true", default=None, help="answer yes to every confirm step"
    )
    group.addoption(
        "--playbook-no-preflight",
        action="store_true",
        default=None,
        help="skip the preflight checks before each playbook's first step",
    )
    parser.addini(
        "playbook_files",
        type="args",
        default=list(DEFAULT_PATTERNS),
        help="glob patterns of the file names collected as playbooks (default: *.playbook.yaml)",
    )
    parser.addini("playbook_address", help="Temporal address (HOST:PORT)")
    parser.addini("playbook_namespace", help="Temporal namespace")
    parser.addini(
        "playbook_dev_server",
        type="bool",
        default=False,
        help="start the bundled dev server once for the session",
    )
    parser.addini(
        "playbook_workers",
        type="linelist",
        default=[],
        help="worker modules (MODULE[:ATTR]), one a line",
    )
    parser.addini(
        "playbook_inputs",
        type="linelist",
        default=[],
        help="playbook inputs (NAME=VALUE), one a line",
    )
    parser.addini("playbook_ui_url", help="Temporal UI base URL for the links in reports")
    parser.addini("playbook_data_converter", help="the session's DataConverter (MODULE:ATTR)")
    parser.addini("playbook_codec_endpoint", help="a codec server for the payloads (URL)")
    parser.addini(
        "playbook_search_attributes",
        type="linelist",
        default=[],
        help="search attributes (NAME=TYPE) for the session dev server, one a line",
    )


@dataclass
class Settings:
    """The session's options: command line over ini."""

    connection: dict[str, Any] = field(default_factory=dict)
    dev_server: bool = False
    workers: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    ui_url: str | None = None
    yes: bool = False
    search_attributes: list[str] = field(default_factory=list)
    preflight: bool | None = None
    """False with --playbook-no-preflight; None: as each playbook says."""
    data_converter: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def option(name: str) -> Any:
            return config.getoption(f"playbook_{name}")

        address = option("address") or config.getini("playbook_address") or None
        dev_server = bool(option("dev_server")) or (
            bool(config.getini("playbook_dev_server")) and not option("address")
        )
        if dev_server and address:
            raise pytest.UsageError(
                "--playbook-dev-server and --playbook-address exclude each "
                "other: the dev server has an address of its own"
            )
        connection = {
            "address": address,
            "namespace": option("namespace") or config.getini("playbook_namespace"),
            "api_key": option("api_key"),
            "codec_endpoint": option("codec_endpoint") or config.getini("playbook_codec_endpoint"),
            "codec_auth": option("codec_auth"),
        }
        from playbook.errors import UsageError
        from playbook.inputs import parse_cli_inputs

        try:  # one parser for -i and --playbook-input: a malformed pair's value is not echoed
            inputs = parse_cli_inputs([*config.getini("playbook_inputs"), *(option("input") or [])])
        except UsageError as e:
            said = str(e).replace("-i/--input", "--playbook-input", 1)
            raise pytest.UsageError(said.replace("-i name=", "--playbook-input name=")) from None
        return cls(
            connection={k: v for k, v in connection.items() if v},
            dev_server=dev_server,
            workers=list(option("worker") or config.getini("playbook_workers")),
            inputs=inputs,
            ui_url=option("ui_url") or config.getini("playbook_ui_url"),
            search_attributes=list(
                option("search_attribute") or config.getini("playbook_search_attributes")
            ),
            yes=bool(option("yes")),
            preflight=False if option("no_preflight") else None,
            data_converter=option("data_converter") or config.getini("playbook_data_converter"),
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "playbook: a playbook file collected as a test")
    from playbook.errors import UsageError

    try:
        config.stash[SESSION] = PlaybookSession(Settings.from_config(config))
    except UsageError as e:  # (a bad --playbook-search-attribute, say)
        raise pytest.UsageError(str(e)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION, None)
    if session is not None:
        session.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash[SESSION].settings
    secret = ("api_key", "codec_auth")
    parts = [f"{k}={v}" for k, v in settings.connection.items() if k not in secret]
    parts += ["dev server"] * settings.dev_server
    parts += [f"worker={w}" for w in settings.workers]
    parts += [f"input {name}" for name in settings.inputs]
    return f"playbook: {', '.join(parts)}" if parts else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PlaybookFile | None:
    patterns: list[str] = parent.config.getini("playbook_files")
    if any(fnmatch.fnmatch(file_path.name, pattern) for pattern in patterns):
        file: PlaybookFile = PlaybookFile.from_parent(parent, path=file_path)
        return file
    return None
