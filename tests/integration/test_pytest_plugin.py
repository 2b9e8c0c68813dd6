"""The pytest plugin as a user runs it: ``python -m pytest`` in a fresh directory holding
playbooks (and a test module using the ``run_playbook`` fixture), against the session's
dev server, with the demo workers hosted by the plugin."""

from __future__ import annotations

import os
import re
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from playbook.devserver import free_port

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 90  # per inner pytest run; one of them starts a dev server

HELLO = """\
version: 1
name: Hello
tags: [smoke]
inputs:
  name: {type: string, default: World}
steps:
  - id: hello
    create: {type: HelloWorkflow, task_queue: playbook-demo}
  - start: {workflow: hello, args: ["{{ inputs.name }}"]}
  - id: greeting
    await_result: {workflow: hello, timeout: 30s}
  - assert: "steps.greeting.result == 'Hello, ' ~ inputs.name ~ '!'"
"""

ORDER = """\
version: 1
name: Order underpaid
inputs:
  suffix: {type: string, required: true}
steps:
  - id: order
    create: {type: OrderWorkflow, task_queue: playbook-demo, workflow_id: "order-{{ inputs.suffix }}"}
  - start: {workflow: order, args: [{customer: alice, items: [{sku: ABC, qty: 2}]}]}
  - id: paid
    update: {workflow: order, update: pay, args: [{amount: 3}]}
  - await_result: {workflow: order, timeout: 30s}
finally:
  - terminate: {workflow: order, reason: cleanup, if_running: true}
"""

BROKEN = """\
version: 1
name: Broken
steps:
  - id: hello
    creat: {type: HelloWorkflow, task_queue: playbook-demo}
"""


def lines(*patterns: str) -> list[str]:
    """Whole-line regular expressions: ``*`` matches anything, the rest literally."""
    return [".*".join(re.escape(part) for part in p.split("*")) + "$" for p in patterns]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in list(os.environ):
        if name.startswith("TEMPORAL_"):
            monkeypatch.delenv(name)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=TIMEOUT)


def run_inprocess(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    """In this process: only for runs that stop before loading any playbook (an in-process
    run drops the modules it imported, and PyYAML's classes must not come in two copies)."""
    return project.runpytest_inprocess("-p", "no:cacheprovider", *args)


def assert_no_traceback(result: pytest.RunResult) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "pytest_plugin/" not in output and "pytest_plugin.py" not in output


def test_dev_server_and_worker_run_a_directory_of_playbooks(project: pytest.Pytester) -> None:
    """The acceptance command: pytest --playbook-dev-server --playbook-worker playbook.demo
    -o playbook_files='*.yaml' playbooks/ (the only test here that starts a server)."""
    playbooks = project.mkdir("playbooks")
    (playbooks / "hello.yaml").write_text(HELLO)
    (playbooks / "order.yaml").write_text(ORDER.replace("required: true", "default: x1"))
    (playbooks / "broken.yaml").write_text(BROKEN)
    (playbooks / "notes.txt").write_text("not a playbook")

    result = run(
        project,
        "--playbook-dev-server",
        "--playbook-worker",
        "playbook.demo",
        "-o",
        "playbook_files=*.yaml",
        "playbooks/",
        "-v",
    )

    result.assert_outcomes(passed=1, failed=2)
    result.stdout.re_match_lines(
        lines(
            "playbook: dev server, worker=playbook.demo",
            "playbooks/broken.yaml::Broken FAILED*",
            "playbooks/hello.yaml::Hello PASSED*",
            "playbooks/order.yaml::Order underpaid FAILED*",
        )
    )
    result.stdout.re_match_lines(
        lines(
            f"{playbooks}/broken.yaml:5:5: steps[0].creat: unknown key 'creat'; did you mean "
            "'create'?",
            "   5 |     creat: {type: HelloWorkflow, task_queue: playbook-demo}",
            "     |     ^",
            "1 problem found",
        ),
        consecutive=True,
    )
    result.stdout.re_match_lines(
        lines(
            f"playbook 'Order underpaid' failed ({playbooks}/order.yaml)",
            "step steps[2] 'update order' (id paid, line 9) failed",
            "  error: update 'pay' on workflow 'order-x1' was rejected: InvalidAmount: amount 3 "
            "does not match total 20",
            "  workflow: order-x1 (run *)",
            "  ui: http://127.0.0.1:*/namespaces/default/workflows/order-x1/*/history",
            "failed: Order underpaid: 3 passed, 1 failed, 1 skipped in * (exit 1)",
        ),
        consecutive=True,
    )
    assert_no_traceback(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_failure_report_names_the_step_error_workflow_and_link(
    project: pytest.Pytester, dev_server: Any
) -> None:
    suffix = uuid.uuid4().hex[:10]
    project.makefile(".playbook.yaml", hello=HELLO, order=ORDER)
    result = run(
        project,
        "--playbook-address",
        dev_server.address,
        "--playbook-worker",
        "playbook.demo",
        "--playbook-ui-url",
        "http://ui.test",
        "--playbook-input",
        "name=Ada",
        "--playbook-input",
        f"suffix={suffix}",
        "-v",
    )

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines(
        lines(
            "_* playbook: Order underpaid _*",
            f"playbook 'Order underpaid' failed ({project.path}/order.playbook.yaml)",
            "step steps[2] 'update order' (id paid, line 9) failed",
            f"  error: update 'pay' on workflow 'order-{suffix}' was rejected: InvalidAmount: "
            "amount 3 does not match total 20",
            f"  workflow: order-{suffix} (run *)",
            f"  ui: http://ui.test/namespaces/default/workflows/order-{suffix}/*/history",
            "failed: Order underpaid: 3 passed, 1 failed, 1 skipped in * (exit 1)",
            "-* Captured stdout call -*",
            f"playbook: Order underpaid ({project.path}/order.playbook.yaml) run *",
        ),
        consecutive=True,
    )
    assert_no_traceback(result)


def test_fixture_runs_one_playbook_and_returns_its_result(
    project: pytest.Pytester, dev_server: Any
) -> None:
    suffix = uuid.uuid4().hex[:10]
    project.makefile(".yaml", hello=HELLO, order=ORDER, broken=BROKEN)
    project.makepyfile(
        test_mine=f"""
        import pytest

        from playbook.errors import InvalidPlaybook
        from playbook.pytest_plugin import RunPlaybook, explain


        def test_passes(run_playbook: RunPlaybook) -> None:
            result = run_playbook("hello.yaml", {{"name": "Ada"}})
            assert (result.status, result.exit_code) == ("passed", 0), explain(result)
            assert result.records[2].result == "Hello, Ada!"


        def test_failure_is_a_result(run_playbook: RunPlaybook) -> None:
            result = run_playbook("order.yaml", {{"suffix": "{suffix}"}})
            assert (result.status, result.exit_code) == ("failed", 1)
            assert [(r.id, r.status) for r in result.records] == [
                ("order", "passed"), (None, "passed"), ("paid", "failed"), (None, "skipped"),
                (None, "passed")]
            assert result.records[2].error["type"] == "InvalidAmount"
            assert explain(result).splitlines()[1] == (
                "step steps[2] 'update order' (id paid, line 9) failed")


        def test_invalid_raises(run_playbook: RunPlaybook) -> None:
            with pytest.raises(InvalidPlaybook, match="unknown key 'creat'"):
                run_playbook("broken.yaml")


        def test_unknown_option(run_playbook: RunPlaybook) -> None:
            with pytest.raises(TypeError, match="unknown option.s. colour; it takes: address"):
                run_playbook("hello.yaml", colour=True)
        """
    )
    result = run(
        project, "--playbook-address", dev_server.address, "--playbook-worker", "playbook.demo"
    )
    result.assert_outcomes(passed=4)


def test_only_playbook_yaml_files_are_collected_by_default(project: pytest.Pytester) -> None:
    project.makefile(".playbook.yaml", hello=HELLO)
    project.makefile(".yaml", plain=HELLO)
    project.makefile(".yml", other=HELLO)
    result = run(project, "--collect-only", "-q")
    result.stdout.re_match_lines(
        lines("hello.playbook.yaml::Hello", "", "1 test collected*"), consecutive=True
    )
    assert "plain" not in result.stdout.str() and "other" not in result.stdout.str()


def test_the_projects_own_yaml_is_not_collected(project: pytest.Pytester) -> None:
    corpus = ROOT / "tests" / "unit" / "invalid"
    assert list(corpus.glob("*.yaml"))
    result = run(project, "--collect-only", "-q", str(corpus))
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.re_match_lines(lines("no tests collected*"))


def test_a_missing_input_skips_with_the_option_to_give(project: pytest.Pytester) -> None:
    """A runbook that needs an input (an order id, say) cannot run without it: skipped, and
    the reason names the option."""
    project.makefile(".playbook.yaml", order=ORDER)
    result = run(project, "--playbook-input", "name=Ada", "-rs")  # Hello's, not Order's
    result.assert_outcomes(skipped=1)
    result.stdout.re_match_lines(
        lines(
            "SKIPPED [1] order.playbook.yaml: needs input suffix: give --playbook-input "
            "suffix=VALUE",
        )
    )


def test_an_ill_typed_input_names_the_option(project: pytest.Pytester) -> None:
    project.makefile(
        ".playbook.yaml",
        order=ORDER.replace(
            "suffix: {type: string, required: true}", "suffix: {type: integer, required: true}"
        ),
    )
    result = run(project, "--playbook-input", "suffix=abc")
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines(
        lines(
            "_* playbook: Order underpaid _*",
            f"{project.path}/order.playbook.yaml: invalid inputs:",
            "  - input 'suffix': 'abc' is not an integer; give a whole number such as 5",
        ),
        consecutive=True,
    )


def test_unreachable_server_fails_each_playbook_with_the_reason(project: pytest.Pytester) -> None:
    project.makefile(".playbook.yaml", hello=HELLO)
    address = f"127.0.0.1:{free_port()}"
    result = run(project, "--playbook-address", address)
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines(
        lines(
            f"playbook 'Hello' failed with an error ({project.path}/hello.playbook.yaml)",
            f"error: could not connect to Temporal at {address} (namespace 'default'): connection "
            "refused; check the address and that the server is up (or use --dev-server)",
            "error: Hello: no steps in * (exit 3)",
        ),
        consecutive=True,
    )
    assert_no_traceback(result)


def test_a_worker_module_that_cannot_be_imported_fails_the_playbooks(
    project: pytest.Pytester, dev_server: Any
) -> None:
    project.makefile(".playbook.yaml", hello=HELLO, again=HELLO.replace("Hello", "Again", 1))
    result = run(
        project,
        "--playbook-address",
        dev_server.address,
        "--playbook-worker",
        "no_such_module_here",
    )
    result.assert_outcomes(failed=2)
    message = (
        "--playbook-worker no_such_module_here: cannot import module "
        "'no_such_module_here' (No module named 'no_such_module_here'); check the name "
        "and that it is on PYTHONPATH"
    )
    assert result.stdout.lines.count(message) == 2
    assert_no_traceback(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--playbook-dev-server", "--playbook-address", "127.0.0.1:7233"],
            "ERROR: --playbook-dev-server and --playbook-address exclude each other: the dev server "
            "has an address of its own",
        ),
        (
            ["--playbook-input", "no-equals"],
            "ERROR: --playbook-input takes NAME=VALUE, got 'no-equals'; write it as --playbook-input "
            "name=value (the name is letters, digits and _)",
        ),
    ],
)
def test_usage_errors(project: pytest.Pytester, args: list[str], message: str) -> None:
    result = run_inprocess(project, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.lines


def test_ini_options(project: pytest.Pytester, dev_server: Any) -> None:
    suffix = uuid.uuid4().hex[:10]
    project.makeini(
        textwrap.dedent(f"""\
        [pytest]
        asyncio_default_fixture_loop_scope = function
        playbook_files = *.pb.yaml
        playbook_address = {dev_server.address}
        playbook_workers = playbook.demo
        playbook_inputs =
            name=Ini
            suffix={suffix}
        """)
    )
    project.makefile(".pb.yaml", hello=HELLO, order=ORDER.replace("amount: 3", "amount: 20"))
    result = run(project, "-v", "-k", "smoke")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.re_match_lines(
        lines(
            f"playbook: address={dev_server.address}, worker=playbook.demo, input name, input suffix",
            "hello.pb.yaml::Hello PASSED*",
        )
    )
