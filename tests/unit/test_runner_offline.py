"""The runner without a server: control steps, scoping, retries, expectations, failures."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from playbook.actions import NESTED, REGISTRY
from playbook.records import RunResult
from playbook.report import NullReporter
from playbook.runner import Runner, RunOptions, Shared, new_result
from playbook.schema import schema
from playbook.secrets import Masker


def test_registry_matches_schema_actions() -> None:
    actions = {k.removeprefix("action_") for k in schema()["$defs"] if k.startswith("action_")}
    assert actions == set(REGISTRY) | set(NESTED)


def run_text(
    tmp_path: Path, text: str, inputs: dict[str, Any] | None = None, **options: Any
) -> RunResult:
    from playbook.inputs import resolve_inputs
    from playbook.loader import load

    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(text))
    playbook = load(path)

    async def no_client() -> Any:
        raise AssertionError("no client is needed")

    shared = Shared(
        result=new_result(playbook),
        options=RunOptions(**options),
        reporter=NullReporter(),
        masker=Masker(),
        client_factory=no_client,
    )
    resolved = resolve_inputs(playbook.inputs, inputs or {}, from_cli=False)
    return asyncio.run(Runner(playbook, resolved, shared).run())


def statuses(result: RunResult) -> list[tuple[str, str]]:
    return [(r.path, r.status) for r in result.records]


def test_control_steps_and_vars(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: control
        inputs:
          n: {type: integer, default: 3}
        vars:
          start: "{{ inputs.n * 2 }}"
          label: "n={{ vars.start }}"
        steps:
          - id: first
            set: {total: "{{ vars.start + 1 }}"}
          - assert: vars.total == 7
          - id: said
            log: "{{ vars.label }}"
          - assert:
              - steps.said.result == 'n=6'
              - steps.first.status == 'passed'
          - sleep: 10ms
            when: vars.total > 100
        """,
    )
    assert result.exit_code == 0
    assert statuses(result)[-1] == ("steps[4]", "skipped")
    assert result.records[-1].reason == "when was false (vars.total > 100)"


def test_assert_failure_shows_operands_and_stops(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: failing
        vars: {order: {total: 18, items: [1, 2]}}
        steps:
          - assert:
              that: ["vars.order.total == 20", "vars.order['items'] | length > 1"]
              message: "order total is {{ vars.order.total }}"
          - log: not reached
        finally:
          - log: cleanup
        """,
    )
    assert result.exit_code == 1
    assert statuses(result) == [
        ("steps[0]", "failed"),
        ("steps[1]", "skipped"),
        ("finally[0]", "passed"),
    ]
    assert result.records[0].error == {
        "type": "AssertionFailed",
        "message": "order total is 18\n  assertion failed: vars.order.total == 20  (18 == 20)",
        "details": None,
        "non_retryable": None,
        "causes": [],
    }


def test_retry_until_and_attempts(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: retry
        vars: {count: 0}
        steps:
          - id: flaky
            assert: "false"
            retry: {attempts: 3, interval: 10ms, timeout: 5s}
        """,
    )
    assert result.exit_code == 1
    assert result.records[0].attempts == 3


def test_expect_on_control_steps_and_continue_on_error(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: expectations
        steps:
          - assert: 1 == 2
            expect: {status: failed, error: {type: AssertionFailed, message: "1 == 2"}}
          - assert: 1 == 1
            expect: {status: failed}
            continue_on_error: true
          - id: v
            set: {a: 1}
            expect: {result: {a: 1}}
        """,
    )
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "failed"),
        ("steps[2]", "passed"),
    ]
    assert result.records[1].error is not None
    assert result.records[1].error["message"] == (
        "expectation not met: status: expected failed, got succeeded"
    )
    assert result.exit_code == 0  # continue_on_error: recorded, does not fail the run


def test_foreach_scoping_and_results(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: loops
        steps:
          - id: loop
            foreach:
              items: [1, 2, 3]
              as: n
              concurrency: 2
              steps:
                - id: sq
                  set: {x: "{{ n * n }}"}
                - id: again
                  log: "{{ steps.sq.result.x }} at {{ index }}"
          - assert: "steps.loop.result == [{'sq': {'x': 1}, 'again': '1 at 0'}, {'sq': {'x': 4}, 'again': '4 at 1'}, {'sq': {'x': 9}, 'again': '9 at 2'}]"
        """,
    )
    assert result.exit_code == 0, [r.error for r in result.records if r.error]


def test_parallel_failure_cancels_siblings(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: parallel
        steps:
          - parallel:
              steps:
                - sleep: 30s
                - assert: "false"
          - log: not reached
        """,
    )
    assert result.exit_code == 1
    assert statuses(result) == [
        ("steps[0]", "failed"),
        ("steps[0].parallel.steps[0]", "canceled"),
        ("steps[0].parallel.steps[1]", "failed"),
        ("steps[1]", "skipped"),
    ]


def test_step_timeout(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: timeout
        steps:
          - id: slow
            sleep: 10s
            timeout: 100ms
        """,
    )
    assert result.records[0].error is not None
    assert result.records[0].error["message"] == (
        f"step 'slow' (steps[0], {tmp_path / 'p.yaml'}:4), field timeout: the step did not "
        "finish within 100ms"
    )


def test_tags(tmp_path: Path) -> None:
    text = """\
        version: 1
        name: tags
        steps:
          - log: always
          - log: smoke
            tags: [smoke]
          - log: slow
            tags: [slow]
        """
    only_smoke = run_text(tmp_path, text, tags=frozenset({"smoke"}))
    assert statuses(only_smoke) == [
        ("steps[0]", "passed"),
        ("steps[1]", "passed"),
        ("steps[2]", "skipped"),
    ]
    no_slow = run_text(tmp_path, text, skip_tags=frozenset({"slow"}))
    assert no_slow.records[2].reason == "skipped by --skip-tags (slow)"


def test_tags_are_inherited(tmp_path: Path) -> None:
    text = """\
        version: 1
        name: inherited
        tags: [nightly]
        steps:
          - log: playbook-tagged
          - parallel:
              steps:
                - log: in a slow block
            tags: [slow]
        """
    text = text.replace(
        "          - log: playbook-tagged\n",
        "          - log: playbook-tagged\n          - log: fast\n            tags: [fast]\n",
    )
    selected = run_text(tmp_path, text, tags=frozenset({"slow"}))
    assert statuses(selected) == [
        ("steps[0]", "passed"),
        ("steps[1]", "skipped"),
        ("steps[2]", "passed"),
        ("steps[2].parallel.steps[0]", "passed"),
    ]
    assert selected.records[1].reason == "not selected by --tags"
    whole = run_text(tmp_path, text, tags=frozenset({"nightly"}))  # the playbook's own tag
    assert {r.status for r in whole.records} == {"passed"}
    skipped = run_text(tmp_path, text, skip_tags=frozenset({"nightly"}))
    assert [r.reason for r in skipped.records] == ["skipped by --skip-tags (nightly)"] * 3


def test_finally_ignores_tags(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        """\
        version: 1
        name: cleanup
        steps:
          - log: work
            tags: [work]
        finally:
          - log: cleanup
            tags: [other]
        """,
        tags=frozenset({"work"}),
    )
    assert statuses(result) == [("steps[0]", "passed"), ("finally[0]", "passed")]


def test_every_workflow_action_is_a_function_of_the_workflow_module() -> None:
    from playbook.actions import WORKFLOW_ACTIONS, workflow

    assert all(callable(getattr(workflow, name)) for name in WORKFLOW_ACTIONS)
