"""The interpreter offline, against fake workflow actions injected into the runner: the
step life cycle, records, retries on an injected clock, timeouts, interrupts, finally, and
internal errors (a bug of ours is exit 3 and never a failed step)."""

from __future__ import annotations

import asyncio
import io
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from playbook.actions import REGISTRY, Action, Call, Done
from playbook.errors import ConnectionFailed, PlaybookError, WorkflowNotFound
from playbook.inputs import resolve_inputs
from playbook.loader import load
from playbook.records import RunResult
from playbook.report import NullReporter
from playbook.report.console import ConsoleReporter
from playbook.report.files import write_json_report, write_junit_xml
from playbook.runner import Clock, Runner, RunOptions, Shared, new_result
from playbook.secrets import Masker


@dataclass
class FakeStub:
    workflow_id: str
    workflow_type: str = "Fake"
    task_queue: str = "q"
    run_id: str | None = None


@dataclass
class FakeServer:
    """What the fake workflow actions did, and what they answer."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    answers: dict[str, list[Any]] = field(default_factory=dict)

    def answer(self, action: str) -> Any:
        queue = self.answers.get(action) or [None]
        value = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(value, BaseException):
            raise value
        return value

    def registry(self) -> dict[str, Action]:
        async def create(call: Call) -> Any:
            stub = FakeStub(call.spec.get("workflow_id") or f"{call.spec['type']}-1")
            if call.env.step_id:
                call.env.add_stub(call.env.step_id, stub)  # type: ignore[arg-type]
            self.calls.append(("create", call.spec))
            return Done({"workflow_id": stub.workflow_id}, stub.workflow_id, None)

        def acting(name: str) -> Action:
            async def act(call: Call) -> Any:
                stub = call.env.stub(call.spec["workflow"])
                self.calls.append((name, call.spec))
                if name == "start":
                    stub.run_id = f"run-{len(self.calls)}"
                value = self.answer(name)
                if isinstance(value, Done):
                    return Done(value.value, stub.workflow_id, stub.run_id, value.note)
                return Done(value, stub.workflow_id, stub.run_id)

            return act

        names = ("start", "signal", "query", "update", "await_result", "cancel", "terminate")
        return {**REGISTRY, "create": create, **{n: acting(n) for n in names}}


class FakeTime:
    """A clock and a sleep that only move when the run sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def clock(self) -> Clock:
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        return Clock(
            monotonic=lambda: self.now, now=lambda: start + timedelta(seconds=self.now - 1000.0)
        )


def playbook_file(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def make_runner(
    path: Path,
    *,
    server: FakeServer | None = None,
    time: FakeTime | None = None,
    actions: dict[str, Action] | None = None,
    inputs: dict[str, Any] | None = None,
    reporter: Any = None,
    client: Callable[[], Any] | None = None,
    **options: Any,
) -> Runner:
    playbook = load(path)

    async def no_client() -> Any:
        if client is not None:
            return client()
        return object()

    time = time or FakeTime()
    shared = Shared(
        result=new_result(playbook, clock=time.clock()),
        options=RunOptions(ui_url="http://ui", **options),
        reporter=reporter or NullReporter(),
        masker=Masker(["s3cret"]),
        client_factory=no_client,
        sleep=time.sleep,
        clock=time.clock(),
        actions=actions or (server or FakeServer()).registry(),
    )
    return Runner(playbook, resolve_inputs(playbook.inputs, inputs or {}, from_cli=False), shared)


def run(path: Path, **kwargs: Any) -> RunResult:
    return asyncio.run(make_runner(path, **kwargs).run())


def statuses(result: RunResult) -> list[tuple[str, str]]:
    return [(r.path, r.status) for r in result.records]


ORDER = """\
    version: 1
    name: order
    steps:
      - id: order
        create: {type: OrderWorkflow, task_queue: q}
      - start: {workflow: order, args: [1]}
      - id: status
        query: {workflow: order, query: status}
        retry: {until: "result == 'shipped'", interval: 1s, backoff: 2, timeout: 30s}
      - id: final
        await_result: {workflow: order}
        expect: {result: {state: done}}
    finally:
      - terminate: {workflow: order, if_running: true}
    """


def test_workflow_steps_record_the_execution_they_touched(tmp_path: Path) -> None:
    server = FakeServer(
        answers={
            "query": ["new", "paid", "shipped"],
            "await_result": [{"state": "done"}],
            "terminate": [Done(note="the workflow had already closed")],
        }
    )
    time = FakeTime()
    result = run(playbook_file(tmp_path, ORDER), server=server, time=time)
    assert result.exit_code == 0, [r.error for r in result.records]
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "passed"),
        ("steps[2]", "passed"),
        ("steps[3]", "passed"),
        ("finally[0]", "passed"),
    ]
    create, start, query, final, cleanup = result.records
    assert (create.workflow_id, create.run_id, create.ui_link) == ("OrderWorkflow-1", None, None)
    assert (start.workflow_id, start.run_id) == ("OrderWorkflow-1", "run-2")
    assert start.ui_link == "http://ui/namespaces/default/workflows/OrderWorkflow-1/run-2/history"
    assert start.request == {"start": {"workflow": "order", "args": [1]}}
    assert query.attempts == 3 and query.result == "shipped"
    assert time.slept == [1.0, 2.0]  # interval, then interval * backoff: the injected sleep
    assert final.result == {"state": "done"}
    assert cleanup.reason == "the workflow had already closed"
    assert create.started_at == "2026-01-01T00:00:00+00:00"  # the injected clock
    assert [name for name, _ in server.calls] == [
        "create",
        "start",
        "query",
        "query",
        "query",
        "await_result",
        "terminate",
    ]


def test_a_failed_call_names_its_workflow_and_skips_the_rest(tmp_path: Path) -> None:
    server = FakeServer(
        answers={"query": [WorkflowNotFound("query failed: gone", operation="query")]}
    )
    result = run(
        playbook_file(
            tmp_path,
            ORDER.replace("retry: {until", "x: {until").replace("        x: {until", "        #"),
        ),
        server=server,
    )
    assert result.exit_code == 1
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "passed"),
        ("steps[2]", "failed"),
        ("steps[3]", "skipped"),
        ("finally[0]", "passed"),
    ]
    failed = result.records[2]
    assert (failed.workflow_id, failed.run_id) == ("OrderWorkflow-1", "run-2")
    assert failed.error == {
        "type": "WorkflowNotFound",
        "message": "query failed: gone",
        "details": None,
        "non_retryable": None,
        "causes": [],
    }
    assert result.records[3].reason == "an earlier step failed"


def test_retry_gives_up_on_the_injected_clock(tmp_path: Path) -> None:
    server = FakeServer(answers={"query": ["new"]})
    time = FakeTime()
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: r
        steps:
          - id: order
            create: {type: T, task_queue: q}
          - query: {workflow: order, query: status}
            retry: {until: "result == 'shipped'", interval: 2s, timeout: 5s}
        """,
    )
    result = run(path, server=server, time=time)
    assert time.slept == [2.0, 2.0]
    assert result.records[1].attempts == 3
    assert result.records[1].error == {
        "type": "PlaybookError",
        "details": None,
        "non_retryable": None,
        "causes": [],
        "message": "retry gave up after 3 attempts: until 'result == 'shipped'' never held  "
        "('new' == 'shipped'); last result: 'new'",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timeout", "10x", "field timeout: '10x' is not a duration"),
        (
            "retry",
            "{attempts: '{{ inputs.v }}'}",
            "field retry.attempts: '10x' is not a whole number",
        ),
        ("retry", "{backoff: '{{ inputs.v }}'}", "field retry.backoff: '10x' is not a number"),
        ("retry", "{interval: '{{ inputs.v }}'}", "field retry.interval: '10x' is not a duration"),
    ],
)
def test_a_bad_rendered_value_fails_its_step_and_finally_runs(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    body = value if field == "retry" else "'{{ inputs.v }}'"
    path = playbook_file(
        tmp_path,
        f"""\
        version: 1
        name: typed
        inputs: {{v: {{type: string}}}}
        steps:
          - id: s
            log: hi
            {field}: {body}
        finally:
          - log: cleanup
        """,
    )
    result = run(path, inputs={"v": "10x"})
    assert result.exit_code == 1 and result.status == "failed"
    assert statuses(result) == [("steps[0]", "failed"), ("finally[0]", "passed")]
    error = result.records[0].error
    assert error is not None
    assert error["message"].startswith(f"step 's' (steps[0], {path}:5), {message}")


def test_foreach_concurrency_that_is_not_a_number_fails_the_step(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: loop
        steps:
          - id: loop
            foreach: {items: [1], concurrency: "{{ 1e308 * 10 }}", steps: [{log: x}]}
        """,
    )
    result = run(path)
    assert result.records[0].error == {
        "type": "PlaybookError",
        "details": None,
        "non_retryable": None,
        "causes": [],
        "message": f"step 'loop' (steps[0], {path}:4), field foreach.concurrency: "
        "inf is not a whole number",
    }


def test_continue_on_error_may_be_a_template(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: c
        inputs: {tolerate: {type: boolean, default: true}}
        steps:
          - assert: "false"
            continue_on_error: "{{ inputs.tolerate }}"
          - log: after
        """,
    )
    assert statuses(run(path)) == [("steps[0]", "failed"), ("steps[1]", "passed")]
    assert statuses(run(path, inputs={"tolerate": False})) == [
        ("steps[0]", "failed"),
        ("steps[1]", "skipped"),
    ]


def buggy(error: BaseException) -> dict[str, Action]:
    async def broken(call: Call) -> Any:
        raise error

    return {**REGISTRY, "log": broken}


BUGGY = """\
    version: 1
    name: buggy
    steps:
      - set: {a: 1}
      - id: broken
        log: boom
      - set: {b: 2}
    finally:
      - set: {cleaned: true}
    """


def test_a_bug_in_an_action_is_an_internal_error_not_a_failed_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYBOOK_LOG_DIR", str(tmp_path / "logs"))
    console = io.StringIO()
    result = run(
        playbook_file(tmp_path, BUGGY),
        actions=buggy(KeyError("state")),
        reporter=ConsoleReporter(console, colour=False, live=False),
    )
    assert result.exit_code == 3 and result.status == "error"
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "error"),
        ("steps[2]", "skipped"),
        ("finally[0]", "passed"),
    ]
    assert result.records[2].reason == "an internal error stopped the run"
    (log,) = (tmp_path / "logs").iterdir()
    message = f"internal error: KeyError: 'state' (the traceback is in {log}; please report it)"
    assert result.error == message
    assert result.records[1].error == {
        "type": "InternalError",
        "message": message,
        "details": None,
        "non_retryable": None,
        "causes": [],
    }
    assert "Traceback (most recent call last)" in log.read_text()
    assert "raise error" in log.read_text()
    assert f"error: {message}" in console.getvalue()
    assert "ERR!  log broken" in console.getvalue()
    write_json_report(tmp_path / "report.json", [result])
    write_junit_xml(tmp_path / "junit.xml", [result])
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["runs"][0]["exit_code"] == 3
    assert report["runs"][0]["counts"] == {
        "passed": 2,
        "failed": 0,
        "skipped": 1,
        "canceled": 0,
        "error": 1,
    }
    junit = (tmp_path / "junit.xml").read_text()
    assert '<error message="internal error: KeyError' in junit
    assert 'errors="2"' in junit  # the step, and the run as a whole


def test_a_bug_in_a_nested_step_marks_its_parents_and_finally_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYBOOK_LOG_DIR", str(tmp_path / "logs"))
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: nested
        steps:
          - parallel:
              steps:
                - sleep: 1h
                - foreach: {items: [1, 2], steps: [{log: "{{ item }}"}]}
        finally:
          - log: cleanup one
          - set: {cleaned: true}
        """,
    )

    async def hang(call: Call) -> Any:
        await asyncio.sleep(3600)

    result = run(path, actions={**buggy(TypeError("bad")), "sleep": hang})
    assert result.exit_code == 3
    assert statuses(result) == [
        ("steps[0]", "error"),
        ("steps[0].parallel.steps[0]", "canceled"),
        ("steps[0].parallel.steps[1]", "error"),
        ("steps[0].parallel.steps[1].foreach[0].steps[0]", "error"),
        ("finally[0]", "error"),
        ("finally[1]", "passed"),
    ]
    assert result.records[0].error is not None
    assert result.records[0].error["message"] == (
        "internal error in a nested step (steps[0].parallel.steps[1].foreach[0].steps[0])"
    )
    assert result.error is not None and result.error.startswith("internal error: TypeError: bad")


def test_an_interrupt_cancels_the_step_in_flight_then_finally_runs(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: interrupted
        steps:
          - sleep: 1h
          - log: never
        finally:
          - log: cleanup
        """,
    )

    async def scenario() -> RunResult:
        gate = asyncio.Event()

        async def slow(call: Call) -> Any:
            gate.set()
            await asyncio.sleep(3600)

        runner = make_runner(path, actions={**REGISTRY, "sleep": slow})
        task = asyncio.ensure_future(runner.run())
        await gate.wait()
        runner.interrupt()
        return await task

    result = asyncio.run(scenario())
    assert result.exit_code == 130 and result.status == "interrupted"
    assert statuses(result) == [
        ("steps[0]", "canceled"),
        ("steps[1]", "skipped"),
        ("finally[0]", "passed"),
    ]
    assert result.records[0].reason == "interrupted"
    assert result.records[1].reason == "interrupted"


def test_a_second_interrupt_stops_finally(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: hard
        steps:
          - log: work
        finally:
          - sleep: 1h
          - log: more cleanup
        """,
    )

    async def scenario() -> RunResult:
        gate = asyncio.Event()

        async def slow(call: Call) -> Any:
            gate.set()
            await asyncio.sleep(3600)

        runner = make_runner(path, actions={**REGISTRY, "sleep": slow})
        task = asyncio.ensure_future(runner.run())
        await gate.wait()
        runner.interrupt()  # in finally: a first interrupt lets cleanup go on
        await asyncio.sleep(0.01)
        assert not task.done()
        runner.interrupt(hard=True)
        return await task

    result = asyncio.run(scenario())
    assert result.exit_code == 130
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("finally[0]", "canceled"),
        ("finally[1]", "skipped"),
    ]


def test_a_connection_failure_runs_nothing(tmp_path: Path) -> None:
    def refuse() -> Any:
        raise ConnectionFailed(
            "could not connect to Temporal at x:1", address="x:1", namespace="default"
        )

    result = run(playbook_file(tmp_path, ORDER), client=refuse)
    assert result.exit_code == 3 and result.status == "error"
    assert result.error == "could not connect to Temporal at x:1"
    assert result.records == []


def test_a_bug_rendering_vars_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYBOOK_LOG_DIR", str(tmp_path / "logs"))
    runner = make_runner(playbook_file(tmp_path, BUGGY))

    def broken() -> None:
        raise RuntimeError("vars broke")

    monkeypatch.setattr(runner, "render_vars", broken)
    result = asyncio.run(runner.run())
    assert result.exit_code == 3
    assert result.error is not None and result.error.startswith(
        "internal error: RuntimeError: vars broke (the traceback is in "
    )
    assert statuses(result) == [("finally[0]", "passed")]


def test_the_cleanup_of_a_never_created_workflow_is_skipped(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: never
        steps:
          - assert: "false"
          - id: order
            create: {type: T, task_queue: q}
        finally:
          - terminate: {workflow: order, if_running: true}
        """,
    )
    result = run(path)
    assert statuses(result) == [
        ("steps[0]", "failed"),
        ("steps[1]", "skipped"),
        ("finally[0]", "skipped"),
    ]
    assert result.records[2].reason == "workflow 'order' was never created in this run"


def test_a_when_that_cannot_be_evaluated_fails_the_step(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: when
        vars: {zero: 0}
        steps:
          - log: x
            when: "1 / vars.zero"
        """,
    )
    result = run(path)
    assert statuses(result) == [("steps[0]", "failed")]
    error = result.records[0].error
    assert error is not None and error["type"] == "TemplateError"


def test_include_runs_its_finally_and_returns_its_records(tmp_path: Path) -> None:
    playbook_file(
        tmp_path,
        """\
        version: 1
        name: child
        inputs: {who: {type: string, required: true}}
        steps:
          - id: said
            log: "hello {{ inputs.who }}"
        finally:
          - log: child cleanup
        """,
        name="child.yaml",
    )
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: parent
        steps:
          - id: inc
            include: {playbook: child.yaml, inputs: {who: bob}}
          - assert: "steps.inc.result.said.result == 'hello bob'"
        """,
    )
    result = run(path)
    assert result.exit_code == 0, [r.error for r in result.records]
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[0].include.steps[0]", "passed"),
        ("steps[0].include.finally[0]", "passed"),
        ("steps[1]", "passed"),
    ]
    assert result.records[1].line == 5  # its line in child.yaml


def test_a_failing_include_fails_its_step(tmp_path: Path) -> None:
    playbook_file(
        tmp_path,
        """\
        version: 1
        name: child
        steps:
          - assert: "false"
        """,
        name="child.yaml",
    )
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: parent
        steps:
          - include: {playbook: child.yaml}
        """,
    )
    result = run(path)
    assert statuses(result) == [("steps[0]", "failed"), ("steps[0].include.steps[0]", "failed")]
    assert result.records[0].error == {
        "type": "PlaybookError",
        "details": None,
        "non_retryable": None,
        "causes": [],
        "message": f"included playbook {tmp_path / 'child.yaml'} failed",
    }


def test_parallel_results_and_max_concurrency(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: par
        steps:
          - id: both
            parallel:
              max_concurrency: 1
              steps:
                - {id: a, set: {a: 1}}
                - {id: b, log: two}
                - {assert: "false", continue_on_error: true}
          - assert: "steps.both.result == {'a': {'a': 1}, 'b': 'two'}"
        """,
    )
    result = run(path)
    assert result.exit_code == 0, [r.error for r in result.records]


def test_foreach_over_a_mapping_and_a_failing_item(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: loop
        steps:
          - id: loop
            foreach:
              items: "{{ {'a': 1, 'b': 2} }}"
              steps:
                - assert: "item.value < 2"
        """,
    )
    result = run(path)
    assert statuses(result) == [
        ("steps[0]", "failed"),
        ("steps[0].foreach[0].steps[0]", "passed"),
        ("steps[0].foreach[1].steps[0]", "failed"),
    ]
    assert result.records[0].error is not None
    assert result.records[0].error["message"] == (
        "foreach failed at item 1 (steps under steps[0].foreach)"
    )


def test_foreach_items_must_be_a_list(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: loop
        steps:
          - id: loop
            foreach: {items: "{{ 5 }}", steps: [{log: x}]}
        """,
    )
    result = run(path)
    assert result.records[0].error is not None
    assert result.records[0].error["message"] == (
        f"step 'loop' (steps[0], {path}:4), field foreach.items: items must be a list, not int (5)"
    )


def test_a_timeout_names_the_workflow_it_waited_on(tmp_path: Path) -> None:
    async def hang(call: Call) -> Any:
        await asyncio.sleep(3600)

    server = FakeServer()
    actions = {**server.registry(), "query": hang}
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: t
        steps:
          - id: order
            create: {type: T, task_queue: q}
          - id: q
            query: {workflow: order, query: status}
            timeout: 50ms
        """,
    )
    result = run(path, actions=actions)
    assert result.records[1].error is not None
    assert result.records[1].error["message"] == (
        f"step 'q' (steps[1], {path}:6), field timeout: the step did not finish within 50ms "
        "(workflow 'T-1'; is a worker polling its task queue, and were its arguments right?)"
    )


def test_an_unknown_workflow_name_is_a_failed_step(tmp_path: Path) -> None:
    registry = FakeServer().registry()

    async def lost(call: Call) -> Any:
        return call.env.stub("nowhere")

    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: lost
        steps:
          - id: s
            log: x
        """,
    )
    result = run(path, actions={**registry, "log": lost})
    assert result.records[0].error is not None
    assert result.records[0].error["message"] == (
        f"step 's' (steps[0], {path}:4), field workflow: workflow 'nowhere' was not created "
        "in this run (its create step was skipped or failed)"
    )


def test_playbook_errors_from_actions_are_failed_steps(tmp_path: Path) -> None:
    async def refuse(call: Call) -> Any:
        raise PlaybookError("nope")

    result = run(playbook_file(tmp_path, BUGGY), actions={**REGISTRY, "log": refuse})
    assert result.exit_code == 1
    assert statuses(result)[1] == ("steps[1]", "failed")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("'{{ true }}'", "True is not a number"),
        ("'{{ 1e308 * 10 }}'", "inf is not a number"),
        ("'{{ [1] }}'", "[1] is not a number"),
    ],
)
def test_backoff_must_be_a_finite_number(tmp_path: Path, value: str, shown: str) -> None:
    path = playbook_file(
        tmp_path,
        f"""\
        version: 1
        name: b
        steps:
          - id: s
            log: x
            retry: {{backoff: {value}, attempts: 2}}
        """,
    )
    error = run(path).records[0].error
    assert error is not None
    assert error["message"] == f"step 's' (steps[0], {path}:4), field retry.backoff: {shown}"


@pytest.mark.parametrize(
    ("value", "attempts"), [("'{{ \"2\" }}'", 2), ("'{{ 2.0 }}'", 2), ("3", 3)]
)
def test_attempts_take_whole_numbers_in_any_form(tmp_path: Path, value: str, attempts: int) -> None:
    path = playbook_file(
        tmp_path,
        f"""\
        version: 1
        name: a
        steps:
          - assert: "false"
            retry: {{attempts: {value}, interval: 1s}}
        """,
    )
    assert run(path).records[0].attempts == attempts


def test_a_number_too_large_to_print_is_refused_plainly(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: big
        steps:
          - id: s
            assert: "false"
            retry: {attempts: "{{ [10 ** 5000] }}"}
        """,
    )
    error = run(path).records[0].error
    assert error is not None
    # templating refuses a result that Python could not write out (playbook.numbers)
    assert error["message"] == (
        f"step 's' (steps[0], {path}:4), field retry.attempts: "
        "the result would be a number with more than 4300 digits"
    )
    assert error["type"] == "TemplateSecurityError"


def test_retry_until_an_expectation_is_met(tmp_path: Path) -> None:
    server = FakeServer(answers={"query": [1, 2, 3]})
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: e
        steps:
          - id: order
            create: {type: T, task_queue: q}
          - query: {workflow: order, query: n}
            expect: {result: 3}
            retry: {interval: 1s}
          - query: {workflow: order, query: n}
            retry: {until: "result.missing.deeper > 1", attempts: 2, interval: 1s}
        """,
    )
    result = run(path, server=server)
    assert result.records[1].attempts == 3 and result.records[1].status == "passed"
    error = result.records[2].error
    assert error is not None and error["message"].startswith(
        "retry gave up after 2 attempts: until 'result.missing.deeper > 1' never held ("
    )


def test_confirm_with_yes_and_without_a_terminal(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: c
        steps:
          - confirm: "Terminate everything?"
        """,
    )
    assert statuses(run(path, yes=True)) == [("steps[0]", "passed")]
    result = run(path)
    assert result.exit_code == 2
    assert result.records[0].reason == "needs --yes"
    assert result.records[0].error is not None
    assert result.records[0].error["message"] == (
        f"step 'confirm' (steps[0], {path}:4), field confirm: 'Terminate everything?' needs an "
        "answer, but there is no terminal; run with --yes to answer yes"
    )


def test_a_lazy_connection_that_fails_mid_run_is_recorded(tmp_path: Path) -> None:
    async def unreachable(call: Call) -> Any:
        raise ConnectionFailed(
            "could not connect to Temporal at x:1", address="x:1", namespace="default"
        )

    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: lazy
        connection: {lazy: true}
        steps:
          - log: first
          - id: order
            create: {type: T, task_queue: q}
          - log: never
        finally:
          - log: not attempted
        """,
    )
    result = run(path, actions={**REGISTRY, "create": unreachable})
    assert result.exit_code == 3 and result.status == "error"
    assert statuses(result) == [
        ("steps[0]", "passed"),
        ("steps[1]", "failed"),
        ("steps[2]", "skipped"),
    ]
    assert result.records[2].reason == "the server could not be reached"
    assert result.error == "could not connect to Temporal at x:1"


@pytest.mark.parametrize(("answer", "status"), [(True, "passed"), (False, "failed")])
def test_confirm_on_a_terminal_asks_and_clears_the_live_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: bool, status: str
) -> None:
    import click

    asked: list[str] = []

    def confirm(text: str, default: bool) -> bool:
        asked.append(text)
        return answer

    monkeypatch.setattr(click, "confirm", confirm)

    class Live(NullReporter):
        cleared = 0

        def before_prompt(self) -> None:
            Live.cleared += 1

    path = playbook_file(
        tmp_path,
        """\
        version: 1
        name: c
        steps:
          - confirm: "Go on?"
        """,
    )
    result = run(path, interactive=True, reporter=Live())
    assert statuses(result) == [("steps[0]", status)]
    assert asked == ["Go on?"] and Live.cleared == 1
    if not answer:
        error = result.records[0].error
        assert error is not None
        assert (error["type"], error["message"]) == ("NotConfirmed", "not confirmed: Go on?")
