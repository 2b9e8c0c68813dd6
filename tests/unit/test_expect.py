"""``expect``: the first differing path of a result, success implied when no failure is
asked for, values rendered as templates just before judging; and ``if_running`` cleanup
of a workflow that was never started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from playbook.errors import PlaybookError, WorkflowFailed
from playbook.expect import Outcome, difference, judge
from tests.unit.test_interpreter import FakeServer, playbook_file, run, statuses


@pytest.mark.parametrize(
    ("expected", "actual", "said"),
    [
        (
            {"items": [{"qty": 2}]},
            {"items": [{"qty": 3}]},
            "result.items[0].qty: expected 2, got 3",
        ),
        (
            {"items": [1, 2]},
            {"items": [1, 2, 3]},
            "result.items: expected 2 items, got 3: [1, 2, 3]",
        ),
        ({"a": {"b": 1}}, {"a": {}}, "result.a.b: missing (expected 1)"),
        ({"my key": 1}, {"my key": 2}, "result['my key']: expected 1, got 2"),
        ({"a": 1}, [1], "result: expected a mapping, got [1]"),
        ([1], {"a": 1}, "result: expected a list, got {'a': 1}"),
        ({"n": 1}, {"n": "1"}, "result.n: expected 1, got '1'"),
        ({"n": 1}, {"n": True}, "result.n: expected 1, got True"),
    ],
)
def test_the_first_difference_is_named_by_its_path(expected: Any, actual: Any, said: str) -> None:
    assert difference(expected, actual) == said


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"n": 1.0}, {"n": 1}),
        ([{"x": []}], [{"x": [], "y": 0}]),
    ],
)
def test_matching_values_have_no_difference(expected: Any, actual: Any) -> None:
    assert difference(expected, actual) is None


def test_an_error_never_passes_an_expect_that_asks_for_no_failure() -> None:
    failed = Outcome("query", error=PlaybookError("KeyError: 'Unknown payload encoding'"))
    assert judge({"result": 1}, failed) == [
        "status: expected succeeded, got failed (PlaybookError: KeyError: 'Unknown payload "
        "encoding')"
    ]
    ended = Outcome(
        "await_result",
        error=WorkflowFailed("workflow 'w' failed: Boom: no", status="failed", error_type="Boom"),
    )
    assert judge({"result": 1}, ended) == [
        "status: expected completed, got failed (Boom: workflow 'w' failed: Boom: no)"
    ]
    assert judge({"status": "failed"}, ended) == []
    assert judge({"error": {"type": "Boom"}}, ended) == []


def test_expect_values_are_rendered_before_judging(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: rendered
        vars: {cart_id: c-42}
        steps:
          - id: cart
            set: {id: c-42}
            expect: {result: {id: "{{ vars.cart_id }}"}}
          - set: {id: c-43}
            expect: {result: {id: "{{ vars.cart_id }}"}}
        """,
    )
    result = run(path)
    assert statuses(result) == [("steps[0]", "passed"), ("steps[1]", "failed")]
    assert result.records[1].error is not None
    assert result.records[1].error["message"] == (
        "expectation not met: result.id: expected 'c-42', got 'c-43'"
    )


def test_cleanup_of_a_never_started_workflow_is_skipped(tmp_path: Path) -> None:
    from playbook.actions import Call, Done

    server = FakeServer(answers={"start": [PlaybookError("start refused")]})
    registry = server.registry()

    async def create(call: Call) -> Any:
        stub = type(
            "Stub", (), {"workflow_id": "w-1", "run_id": None, "is_new": True, "started": False}
        )()
        call.env.add_stub("order", stub)
        return Done(None, "w-1", None)

    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: cleanup
        steps:
          - id: order
            create: {type: T, task_queue: q}
          - start: {workflow: order}
        finally:
          - terminate: {workflow: order, if_running: true}
          - cancel: {workflow: order, if_running: true}
          - cancel: {workflow: order}
        """,
    )
    result = run(path, actions={**registry, "create": create})
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "failed"),
        ("finally[0]", "skipped"),
        ("finally[1]", "skipped"),
        ("finally[2]", "passed"),
    ]
    assert [r.reason for r in result.records[2:4]] == ["never started", "never started"]


def test_templates_in_expect_are_checked_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from playbook.cli import _run_cli

    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: e
        vars: {cart: c}
        steps:
          - set: {id: c}
            expect: {result: {id: "{{ vars.crt }}"}}
        """,
    )
    assert _run_cli(["validate", str(path)]) == 2
    assert capsys.readouterr().out.startswith(
        f"{path}:6:27: steps[0].expect.result.id: vars.crt is not defined; define it under vars "
        "or with a set step; did you mean 'cart'?\n"
    )


def test_expect_status_continued_as_new() -> None:
    moved = Outcome(
        "await_result",
        error=WorkflowFailed(
            "workflow 'w' continued as new (run r2); set follow_runs: true to follow it",
            status="continued_as_new",
            error_type="ContinuedAsNew",
        ),
    )
    assert moved.status == "continued_as_new"
    assert judge({"status": "continued_as_new"}, moved) == []
    assert judge({"status": "completed"}, moved) == [
        "status: expected completed, got continued_as_new (ContinuedAsNew: workflow 'w' "
        "continued as new (run r2); set follow_runs: true to follow it)"
    ]
