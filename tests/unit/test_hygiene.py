"""Run-level hygiene offline (SPEC section 10): ``preflight``, ``cleanup`` and ``verify``
against fake actions and a fake :class:`~playbook.runner.hygiene.ServerChecks` injected
into the runner."""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from playbook.actions import Call
from playbook.errors import PlaybookError, ServerError
from playbook.loader import load
from playbook.records import RunResult, StepRecord
from playbook.report.files import json_report_text, junit_xml
from playbook.runner import Runner, RunOptions
from playbook.runner.hygiene import CoreChecks, Ledger, settings
from playbook.runner.preflight import named
from tests.unit.test_interpreter import FakeServer, make_runner, playbook_file, statuses

ROOT = Path(__file__).parents[2]
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "json-report.schema.json").read_text("utf-8"))
UI = "http://ui/namespaces/default/workflows"


@dataclass
class FakeChecks:
    """A server that knows each workflow's status (running unless told) and whose memo
    names this run, unless ``strangers`` lists it."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    strangers: set[str] = field(default_factory=set)
    failing: dict[str, BaseException] = field(default_factory=dict)
    run_id: str = ""
    asked: list[tuple[Any, ...]] = field(default_factory=list)
    ended: list[tuple[str, str | None, str, str]] = field(default_factory=list)

    async def preflight(
        self, task_queues: Sequence[str], search_attributes: Sequence[str], own: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        self.asked.append(("preflight", list(task_queues), list(search_attributes), sorted(own)))
        return self.problems, self.notes

    async def facts(self, workflow_id: str, run_id: str | None) -> Mapping[str, Any] | None:
        self.asked.append(("facts", workflow_id, run_id))
        owner = "someone-else" if workflow_id in self.strangers else self.run_id
        return {
            "status": self.statuses.get(workflow_id, "running"),
            "run_id": f"{run_id}-last",
            "type": "Order",
            "memo": {"playbook_run_id": owner},
        }

    async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
        if workflow_id in self.failing:
            raise self.failing[workflow_id]
        self.ended.append((workflow_id, run_id, mode, reason))
        self.statuses[workflow_id] = "terminated" if mode == "terminate" else "canceled"
        return True


def runner_for(
    path: Path, checks: FakeChecks | None, server: FakeServer | None = None, **options: Any
) -> Runner:
    runner = make_runner(path, server=server, **options)
    runner.shared.checks = checks
    if checks is not None:
        checks.run_id = runner.shared.result.run_id
    return runner


def run(path: Path, checks: FakeChecks | None, **kwargs: Any) -> RunResult:
    return asyncio.run(runner_for(path, checks, **kwargs).run())


def record(result: RunResult, path: str) -> StepRecord:
    [found] = [r for r in result.records if r.path == path]
    return found


PREFLIGHTED = """\
    version: 1
    name: preflighted
    vars: {queue: dynamic, attribute: Dyn}
    steps:
      - id: order
        create:
          type: Order
          task_queue: orders
          search_attributes: {CustomerId: alice, "{{ vars.attribute }}": x}
      - id: other
        create: {type: Order, task_queue: "{{ vars.queue }}"}
      - id: again
        create: {type: Order, task_queue: orders, search_attributes: {Region: eu}}
      - start: {workflow: order}
    finally:
      - log: finally ran
    """


def test_preflight_problems_end_the_run_before_any_step_with_exit_3(tmp_path: Path) -> None:
    problems = [
        "no worker is polling task queue 'orders' in namespace 'default'",
        "search attribute 'Region' is not registered in namespace 'default' (register it)",
    ]
    checks, server = FakeChecks(problems=problems), FakeServer()
    path = playbook_file(tmp_path, PREFLIGHTED)
    result = run(path, checks, server=server, worker_queues=frozenset({"mine", "also"}))
    assert (result.exit_code, result.status) == (3, "error")
    assert result.error == "\n".join(problems)
    assert result.records == []  # not a step, not finally
    assert server.calls == []
    # literal names only (no template in them), each once
    assert checks.asked == [("preflight", ["orders"], ["CustomerId", "Region"], ["also", "mine"])]


def test_a_passing_preflight_lets_the_run_go_on_and_notes_what_it_skipped(
    tmp_path: Path,
) -> None:
    notes = ["search attributes not checked: the server refused (permission denied)"]
    logged: list[tuple[str, str]] = []

    class Logging:
        def run_started(self, playbook: Any, result: RunResult) -> None: ...
        def step_started(self, record: StepRecord) -> None: ...
        def step_finished(self, record: StepRecord) -> None: ...
        def run_finished(self, result: RunResult) -> None: ...

        def log(self, record: StepRecord, text: str) -> None:
            logged.append((record.path, text))

    result = run(playbook_file(tmp_path, PREFLIGHTED), FakeChecks(notes=notes), reporter=Logging())
    assert result.exit_code == 0
    assert logged[0] == ("preflight", f"preflight: {notes[0]}")
    assert [r.path for r in result.records][-1] == "finally[0]"  # no summary step of its own


@pytest.mark.parametrize(
    ("key", "option", "asked"),
    [("true", None, True), ("false", None, False), ("true", False, False), ("false", True, True)],
)
def test_preflight_by_key_and_by_run_option(
    tmp_path: Path, key: str, option: bool | None, asked: bool
) -> None:
    path = playbook_file(
        tmp_path, PREFLIGHTED.replace("name: preflighted", f"name: p\n    preflight: {key}")
    )
    checks = FakeChecks(problems=["no worker is polling task queue 'orders'"])
    result = run(path, checks, preflight=option)
    assert bool(checks.asked) is asked
    assert result.exit_code == (3 if asked else 0)


def test_a_lazy_connection_and_an_offline_playbook_are_not_preflighted(tmp_path: Path) -> None:
    lazy = PREFLIGHTED.replace("name: preflighted", "name: lazy\n    connection: {lazy: true}")
    checks = FakeChecks(problems=["no worker"])
    assert run(playbook_file(tmp_path, lazy), checks).exit_code == 0
    offline = "version: 1\nname: offline\nsteps:\n  - log: hi\n"
    assert run(playbook_file(tmp_path, offline, "o.yaml"), checks).exit_code == 0
    assert checks.asked == []


def test_named_reads_included_playbooks_too(tmp_path: Path) -> None:
    playbook_file(
        tmp_path,
        """\
        version: 1
        name: inner
        steps:
          - id: pay
            create: {type: Pay, task_queue: payments, search_attributes: {Amount: 3}}
          - start: {workflow: pay}
        """,
        "inner.yaml",
    )
    outer = playbook_file(
        tmp_path,
        """\
        version: 1
        name: outer
        steps:
          - id: order
            create: {type: Order, task_queue: orders}
          - foreach:
              items: [1]
              steps:
                - include: {playbook: inner.yaml}
                - include: {playbook: inner.yaml}
        """,
    )
    assert named(load(outer)) == (["orders", "payments"], ["Amount"])


LOOP = """\
    version: 1
    name: loop
    cleanup: terminate
    steps:
      - foreach:
          items: [0, 1, 2]
          steps:
            - id: order
              create: {type: Order, task_queue: q, workflow_id: "w-{{ index }}"}
            - start: {workflow: order}
            - assert: index < 1
    """


def test_cleanup_ends_what_a_failed_loop_left_running(tmp_path: Path) -> None:
    checks = FakeChecks(statuses={"w-0": "completed"})
    result = run(playbook_file(tmp_path, LOOP), checks)
    assert result.exit_code == 1  # the loop's failure; cleanup passed
    summary = record(result, "cleanup")
    assert result.records[-1] is summary
    assert (summary.action, summary.name, summary.status) == (
        "cleanup",
        "cleanup: terminate",
        "passed",
    )
    started = [("w-0", "run-2"), ("w-1", "run-4")]
    assert [(w, r) for _, w, r in checks.asked[1:]] == started
    run_id = result.run_id
    assert checks.ended == [
        ("w-1", "run-4", "terminate", f"cleanup of playbook run {run_id} (loop)")
    ]
    link = f"{UI}/w-1/run-4-last/history"
    assert summary.result == {
        "mode": "terminate",
        "started": 2,
        "ended": [{"workflow_id": "w-1", "run_id": "run-4-last", "ui_link": link}],
        "closed": 1,
    }
    assert summary.reason == "terminated 1 of the 2 workflows this run started; 1 had closed"


def test_cleanup_by_run_option_cancels_and_leaves_a_workflow_it_did_not_start(
    tmp_path: Path,
) -> None:
    checks = FakeChecks(strangers={"w-1"})
    result = run(playbook_file(tmp_path, LOOP), checks, cleanup="cancel")
    assert [(w, mode) for w, _, mode, _ in checks.ended] == [("w-0", "cancel")]
    summary = record(result, "cleanup")
    assert summary.name == "cleanup: cancel"
    assert summary.reason == "canceled 1 of the 1 workflow this run started; 0 had closed"


def test_cleanup_none_and_a_run_that_started_nothing(tmp_path: Path) -> None:
    result = run(playbook_file(tmp_path, LOOP), FakeChecks(), cleanup="none")
    assert [r.action for r in result.records if r.action in ("cleanup", "verify")] == []
    quiet = "version: 1\nname: quiet\ncleanup: cancel\nsteps:\n  - log: hi\n"
    result = run(playbook_file(tmp_path, quiet, "q.yaml"), None)
    summary = record(result, "cleanup")
    assert (summary.status, summary.reason) == ("passed", "this run started no workflow")
    assert result.exit_code == 0


def test_cleanup_without_a_server_to_ask_is_skipped(tmp_path: Path) -> None:
    result = run(playbook_file(tmp_path, LOOP), None)
    summary = record(result, "cleanup")
    assert (summary.status, summary.reason) == ("skipped", "no server to ask in this run")


def test_a_workflow_cleanup_could_not_end_fails_it_with_the_error_exit_code(
    tmp_path: Path,
) -> None:
    refusal = ServerError("terminate on workflow 'w-1' failed: the server is unavailable")
    checks = FakeChecks(failing={"w-1": refusal})
    result = run(playbook_file(tmp_path, LOOP), checks)
    summary = record(result, "cleanup")
    assert summary.status == "failed" and result.exit_code == 3
    assert summary.error is not None
    assert summary.error["type"] == "CleanupFailed"
    assert summary.error["message"] == (
        "workflow 'w-1' could not be terminated: terminate on workflow 'w-1' failed: "
        "the server is unavailable"
    )


def test_a_bug_in_the_checks_is_an_internal_error_on_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYBOOK_LOG_DIR", str(tmp_path / "logs"))
    checks = FakeChecks(failing={"w-1": KeyError("oops")})
    result = run(playbook_file(tmp_path, LOOP), checks)
    summary = record(result, "cleanup")
    assert summary.status == "error" and result.exit_code == 3
    assert summary.error is not None
    assert summary.error["message"].startswith("internal error: KeyError: 'oops' (the traceback")


INTERRUPTED = """\
    version: 1
    name: interrupted
    cleanup: terminate
    steps:
      - foreach:
          items: [0, 1, 2, 3]
          steps:
            - id: order
              create: {type: Order, task_queue: q, workflow_id: "w-{{ index }}"}
            - start: {workflow: order}
            - sleep: 1h
    finally:
      - sleep: 1h
    """


def test_a_second_interrupt_in_finally_skips_cleanup(tmp_path: Path) -> None:
    checks = FakeChecks()

    async def scenario() -> RunResult:
        entered = asyncio.Queue[str]()

        async def slow(call: Call) -> Any:
            await entered.put(call.env.record.path)  # type: ignore[attr-defined]
            await asyncio.sleep(3600)

        runner = runner_for(playbook_file(tmp_path, INTERRUPTED), checks)
        runner.shared.actions = {**runner.shared.actions, "sleep": slow}
        task = asyncio.ensure_future(runner.run())
        assert await entered.get() == "steps[0].foreach[0].steps[2]"
        runner.interrupt()  # mid-loop (SIGINT or SIGTERM)
        assert await entered.get() == "finally[0]"
        runner.interrupt()  # in finally: a first interrupt lets it go on
        await asyncio.sleep(0.01)
        assert not task.done()
        runner.interrupt(hard=True)  # the user wants out now
        return await task

    result = asyncio.run(scenario())
    assert result.exit_code == 130
    assert checks.ended == []
    assert statuses(result)[-2:] == [("finally[0]", "canceled"), ("cleanup", "skipped")]
    assert record(result, "cleanup").reason == "interrupted"


def test_cleanup_runs_after_finally_when_the_interrupt_was_soft(tmp_path: Path) -> None:
    text = INTERRUPTED.replace("finally:\n      - sleep: 1h", "finally:\n      - log: bye")
    checks = FakeChecks()

    async def scenario() -> RunResult:
        entered = asyncio.Event()

        async def slow(call: Call) -> Any:
            entered.set()
            await asyncio.sleep(3600)

        runner = runner_for(playbook_file(tmp_path, text), checks)
        runner.shared.actions = {**runner.shared.actions, "sleep": slow}
        task = asyncio.ensure_future(runner.run())
        await entered.wait()
        runner.interrupt()
        return await task

    result = asyncio.run(scenario())
    assert result.exit_code == 130 and result.status == "interrupted"
    assert [w for w, *_ in checks.ended] == ["w-0"]
    assert statuses(result)[-2:] == [("finally[0]", "passed"), ("cleanup", "passed")]


VERIFIED = """\
    version: 1
    name: verified
    verify: {no_failed_workflows: true}
    steps:
      - id: expected
        create: {type: Order, task_queue: q, workflow_id: expected}
      - start: {workflow: expected}
      - await_result: {workflow: expected}
        expect: {status: failed}
      - id: surprise
        create: {type: Order, task_queue: q, workflow_id: surprise}
      - start: {workflow: surprise}
      - id: ended
        create: {type: Order, task_queue: q, workflow_id: ended}
      - start: {workflow: ended}
      - terminate: {workflow: ended}
      - id: slow
        create: {type: Order, task_queue: q, workflow_id: slow}
      - start: {workflow: slow}
      - id: fine
        create: {type: Order, task_queue: q, workflow_id: fine}
      - start: {workflow: fine}
      - id: stranger
        create: {type: Order, task_queue: q, workflow_id: stranger}
      - start: {workflow: stranger}
    """


def _verify_checks() -> FakeChecks:
    return FakeChecks(
        statuses={
            "expected": "failed",
            "surprise": "failed",
            "ended": "terminated",
            "slow": "timed_out",
            "fine": "completed",
            "stranger": "failed",
        },
        strangers={"stranger"},
    )


def test_verify_fails_the_run_for_unexpected_ends_only(tmp_path: Path) -> None:
    server = FakeServer(answers={"await_result": [PlaybookError("workflow failed")]})
    result = run(playbook_file(tmp_path, VERIFIED), _verify_checks(), server=server)
    summary = record(result, "verify")
    assert [r.status for r in result.records if r.path.startswith("steps")] == ["passed"] * 14
    assert (summary.name, summary.status, result.exit_code) == (
        "verify: no failed workflows",
        "failed",
        1,
    )
    assert summary.result == {
        "checked": 5,
        "problems": [
            {
                "workflow_id": "surprise",
                "run_id": "run-5-last",
                "type": "Order",
                "status": "failed",
                "ui_link": f"{UI}/surprise/run-5-last/history",
            },
            {
                "workflow_id": "slow",
                "run_id": "run-10-last",
                "type": "Order",
                "status": "timed_out",
                "ui_link": f"{UI}/slow/run-10-last/history",
            },
        ],
    }
    assert summary.error is not None
    assert summary.error["type"] == "VerifyFailed"
    assert summary.error["message"] == (
        "2 workflows this run started ended badly and no step expected it:\n"
        f"  workflow 'surprise' (Order) failed: {UI}/surprise/run-5-last/history\n"
        f"  workflow 'slow' (Order) timed_out: {UI}/slow/run-10-last/history"
    )


def test_verify_counts_what_cleanup_ended_as_expected(tmp_path: Path) -> None:
    text = LOOP.replace(
        "cleanup: terminate", "cleanup: terminate\n    verify: {no_failed_workflows: true}"
    )
    result = run(playbook_file(tmp_path, text), FakeChecks())
    summary = record(result, "verify")
    assert [r.path for r in result.records][-2:] == ["cleanup", "verify"]
    assert (summary.status, summary.result) == ("passed", {"checked": 2, "problems": []})
    assert summary.reason == "2 workflows checked"
    assert result.exit_code == 1  # the loop's own failure


def test_verify_by_run_option(tmp_path: Path) -> None:
    text = VERIFIED.replace("    verify: {no_failed_workflows: true}\n", "")
    server = FakeServer(answers={"await_result": [PlaybookError("workflow failed")]})
    assert run(playbook_file(tmp_path, text), _verify_checks(), server=server).exit_code == 0
    server = FakeServer(answers={"await_result": [PlaybookError("workflow failed")]})
    result = run(playbook_file(tmp_path, text), _verify_checks(), server=server, verify=True)
    assert result.exit_code == 1
    off = run(playbook_file(tmp_path, VERIFIED, "v.yaml"), _verify_checks(), verify=False)
    assert [r.path for r in off.records if r.path == "verify"] == []


def test_the_reports_carry_the_summary_steps(tmp_path: Path) -> None:
    text = LOOP.replace(
        "cleanup: terminate", "cleanup: terminate\n    verify: {no_failed_workflows: true}"
    )
    checks = FakeChecks(statuses={"w-0": "failed"})
    result = run(playbook_file(tmp_path, text), checks)
    report = json.loads(json_report_text([result]))
    jsonschema.Draft202012Validator(
        REPORT_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(report)
    steps = report["runs"][0]["steps"]
    assert [(s["path"], s["action"], s["status"]) for s in steps[-2:]] == [
        ("cleanup", "cleanup", "passed"),
        ("verify", "verify", "failed"),
    ]
    cases = ET.fromstring(junit_xml([result])).iter("testcase")
    names = [c.get("name") for c in cases]
    assert names[-2:] == ["cleanup: cleanup: terminate", "verify: verify: no failed workflows"]


def test_settings_and_ledger() -> None:
    ledger = Ledger()
    ledger.noted("start", "a", "r1")
    ledger.noted("start", "a", "r1")
    ledger.noted("signal", "b", "r2")
    ledger.noted("update_with_start", "c", None)
    ledger.noted("terminate", "b", "r2")
    ledger.noted("start", None, None)
    assert list(ledger.started) == [("a", "r1"), ("c", None)]
    assert ledger.expected == {"b"}


def test_core_checks_import_temporalio_only_when_asked() -> None:
    async def factory() -> Any:
        raise AssertionError("not called")

    assert CoreChecks(factory).client_factory is factory


def test_settings_resolve_options_over_keys(tmp_path: Path) -> None:
    path = playbook_file(
        tmp_path,
        "version: 1\nname: s\npreflight: false\ncleanup: cancel\n"
        "verify: {no_failed_workflows: true}\nsteps:\n  - log: hi\n",
    )
    playbook = load(path)
    chosen = settings(playbook, RunOptions())
    assert (chosen.preflight, chosen.cleanup, chosen.verify) == (False, "cancel", True)
    chosen = settings(playbook, RunOptions(preflight=True, cleanup="terminate", verify=False))
    assert (chosen.preflight, chosen.cleanup, chosen.verify) == (True, "terminate", False)
    default = settings(
        load(playbook_file(tmp_path, "version: 1\nname: d\nsteps: [{log: x}]\n", "d.yaml")),
        RunOptions(),
    )
    assert (default.preflight, default.cleanup, default.verify) == (True, "none", False)


def test_the_run_options_reach_the_runner_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from playbook.cli import _run_cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text("version: 1\nname: quiet\nsteps:\n  - log: hi\n")
    code = _run_cli(["run", "p.yaml", "--cleanup", "cancel", "--verify", "--no-preflight"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [re.sub(r"\(\d+ms, ", "(Nms, ", line) for line in out.splitlines()]
    assert lines[-3:-1] == [
        "  PASS  cleanup: cancel  (Nms, this run started no workflow)",
        "  PASS  verify: no failed workflows  (Nms, 0 workflows checked)",
    ]
    assert _run_cli(["run", "p.yaml", "--cleanup", "kill"]) == 2
    assert "Invalid value for '--cleanup': 'kill' is not one of 'none', 'cancel', 'terminate'" in (
        capsys.readouterr().err
    )


def test_a_workflow_verify_cannot_read_fails_it_and_says_so(tmp_path: Path) -> None:
    class Unreadable(FakeChecks):
        async def facts(self, workflow_id: str, run_id: str | None) -> Mapping[str, Any] | None:
            if workflow_id == "w-0":
                raise ServerError("describe on workflow 'w-0' failed: the server is unavailable")
            return await super().facts(workflow_id, run_id)

    text = LOOP.replace("cleanup: terminate", "verify: {no_failed_workflows: true}")
    result = run(playbook_file(tmp_path, text), Unreadable(statuses={"w-1": "completed"}))
    summary = record(result, "verify")
    assert (summary.status, summary.result) == ("failed", {"checked": 1, "problems": []})
    assert summary.error is not None
    assert summary.error["message"] == (
        "0 workflows this run started ended badly and no step expected it\n"
        "  workflow 'w-0' could not be checked: describe on workflow 'w-0' failed: "
        "the server is unavailable"
    )


def test_a_hard_interrupt_during_cleanup_cancels_it(tmp_path: Path) -> None:
    class Stuck(FakeChecks):
        async def end(self, workflow_id: str, run_id: str | None, mode: str, reason: str) -> bool:
            stuck.set()
            await asyncio.sleep(3600)
            return True

    stuck = asyncio.Event()

    async def scenario() -> RunResult:
        runner = runner_for(playbook_file(tmp_path, LOOP), Stuck())
        task = asyncio.ensure_future(runner.run())
        await stuck.wait()
        runner.interrupt()  # after finally: a first interrupt lets cleanup go on
        await asyncio.sleep(0.01)
        assert not task.done()
        runner.interrupt(hard=True)
        return await task

    result = asyncio.run(scenario())
    summary = record(result, "cleanup")
    assert (summary.status, summary.reason, result.exit_code) == ("canceled", "interrupted", 130)


CUT_SHORT = """\
    version: 1
    name: cut short
    cleanup: terminate
    steps:
      - foreach:
          items: [0, 1, 2, 3]
          steps:
            - id: order
              create: {type: Order, task_queue: q, workflow_id: "w-{{ index }}"}
            - start: {workflow: order}
              continue_on_error: true
    """


def test_a_start_cut_short_may_have_started_its_workflow(tmp_path: Path) -> None:
    """Failed with an error that does not say it did not start, or interrupted
    mid-request: cleanup asks about the id, and the memo decides."""
    checks = FakeChecks(strangers={"w-2"})

    async def scenario() -> RunResult:
        runner = runner_for(playbook_file(tmp_path, CUT_SHORT), checks)
        started = runner.shared.actions["start"]
        in_flight = asyncio.Event()

        async def start(call: Call) -> Any:
            index = call.env.scope.locals["index"]  # type: ignore[attr-defined]
            if index == 1:
                raise ServerError("start failed: the server is unavailable")
            if index == 3:
                in_flight.set()
                await asyncio.sleep(3600)
            return await started(call)

        runner.shared.actions = {**runner.shared.actions, "start": start}
        task = asyncio.ensure_future(runner.run())
        await in_flight.wait()
        runner.interrupt()
        return await task

    result = asyncio.run(scenario())
    assert result.exit_code == 130
    assert [(w, r) for w, r, _, _ in checks.ended] == [
        ("w-0", "run-2"),
        ("w-1", None),
        ("w-3", None),
    ]
    assert record(result, "cleanup").reason == (
        "terminated 3 of the 3 workflows this run started; 0 had closed"
    )


def test_a_workflow_is_asked_about_once() -> None:
    ledger = Ledger()
    ledger.noted("start", "a", "r1")
    ledger.started[("a", None)] = None  # (a second start of it, cut short)
    ledger.started[("b", None)] = None
    assert ledger.chains() == [("a", "r1"), ("b", None)]
