"""``--dev-server`` as users set it up: ``--search-attribute NAME=TYPE``, search attributes
that a ``create`` step names registered automatically, and ``--namespace X`` creating X on
the embedded server."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from playbook.cli import _run_cli

pytest_plugins = ["pytester"]

PLAYBOOK = """\
    version: 1
    name: attributes
    steps:
      - id: order
        create:
          type: NobodyRunsThis
          task_queue: nobody-polls
          execution_timeout: 1m
          search_attributes:
            CustomerId: alice
            OrderCount: {type: int, value: 3}
            Placed: {type: datetime, value: "2026-01-02T03:04:05Z"}
      - start: {workflow: order}
      - id: info
        describe: {workflow: order}
      - assert:
          - steps.info.result.search_attributes.CustomerId == 'alice'
          - steps.info.result.search_attributes.OrderCount == 3
    finally:
      - terminate: {workflow: order, if_running: true}
    """


def run(tmp_path: Path, *args: str) -> dict[str, object]:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK))
    report = tmp_path / "report.json"
    # (--no-preflight: nobody polls the queue; the test is about the search attributes)
    argv = ["run", str(path), "--dev-server", "--no-preflight", "--json-report", str(report)]
    code = _run_cli([*argv, *args])
    run: dict[str, object] = json.loads(report.read_text())["runs"][0]
    assert code == 0, run
    return run


def test_search_attributes_that_create_steps_name_are_registered(tmp_path: Path) -> None:
    run(tmp_path)


def test_search_attribute_flag_and_a_namespace_of_its_own(tmp_path: Path) -> None:
    result = run(tmp_path, "--search-attribute", "Region=keyword", "--namespace", "prod")
    assert result["namespace"] == "prod"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--search-attribute", "Region"],
            "error: --search-attribute takes NAME=TYPE with TYPE one of keyword, text, int, double, "
            "bool, datetime, keyword_list, got 'Region'\n",
        ),
        (
            ["--search-attribute", "Region=integer", "--dev-server"],
            "error: --search-attribute takes NAME=TYPE with TYPE one of keyword, text, int, double, "
            "bool, datetime, keyword_list, got 'Region=integer'; did you mean 'int'?\n",
        ),
        (
            ["--search-attribute", "Region=keyword"],
            "error: --search-attribute registers attributes on the embedded dev server: give "
            "--dev-server too (on another server, register them with: temporal operator "
            "search-attribute create --name NAME --type TYPE)\n",
        ),
    ],
)
def test_bad_search_attribute_options_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nname: p\nsteps:\n  - log: hi\n")
    assert _run_cli(["run", str(path), *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.endswith(message) or captured.out.endswith(message), captured


def test_the_pytest_plugin_session_server_takes_search_attributes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(
        ".playbook.yaml",
        attrs=textwrap.dedent(PLAYBOOK).replace(
            "OrderCount: {type: int, value: 3}",
            "OrderCount: {type: int, value: 3}\n        Region: eu",
        ),
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--playbook-dev-server",
        "--playbook-no-preflight",  # (nobody polls the queue: the test is about the attributes)
        "--playbook-search-attribute",
        "CustomerId=keyword",
        "--playbook-search-attribute",
        "OrderCount=int",
        "--playbook-search-attribute",
        "Placed=datetime",
        "--playbook-search-attribute",
        "Region=Keyword",
        timeout=120,
    )
    result.assert_outcomes(passed=1)


def test_a_bad_plugin_search_attribute_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--playbook-dev-server", "--playbook-search-attribute", "Region"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "ERROR: --playbook-search-attribute takes NAME=TYPE with TYPE one of keyword, text, "
        "int, double, bool, datetime, keyword_list, got 'Region'"
    ) in result.stderr.lines
