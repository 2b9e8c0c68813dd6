"""Cause chains and evidence, offline: temporalio's failure chain as error records see it,
``expect.error`` matching a cause, the console's and JUnit's lines, the history files."""

from __future__ import annotations

import asyncio
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import temporalio.client
import temporalio.exceptions
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.service import RPCError, RPCStatusCode

from playbook.core import causes
from playbook.core.errors import translate
from playbook.core.evidence import history_path, write_histories
from playbook.errors import PlaybookError, TemporalError, WorkflowFailed
from playbook.expect import Outcome, error_record, judge
from playbook.records import RunResult, StepRecord
from playbook.report.console import ConsoleReporter, cause_lines
from playbook.report.files import junit_xml

GREETING = "Greeting exception: could not greet Temporal"


def activity_error(root: BaseException) -> ActivityError:
    error = ActivityError(
        "Activity task failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker-1",
        activity_type="compose_greeting",
        activity_id="1",
        retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED,
    )
    error.__cause__ = root
    return error


def greeting_failed() -> WorkflowFailed:
    """What the guarded call raises for a workflow whose activity raised RuntimeError: ours,
    chained to temporalio's exception."""
    root = ApplicationError(GREETING, type="RuntimeError")
    raised = temporalio.client.WorkflowFailureError(cause=activity_error(root))
    error = translate(raised, operation="await_result", workflow_id="greet-1", run_id="r1")
    assert isinstance(error, WorkflowFailed)
    error.__cause__ = raised
    return error


CHAIN = [
    {"type": "ActivityError", "message": "Activity task failed", "details": None},
    {"type": "RuntimeError", "message": GREETING, "details": None},
]


def test_the_chain_of_an_activity_failure_outermost_first() -> None:
    error = greeting_failed()
    assert str(error) == (
        "workflow 'greet-1' failed: ActivityError: Activity task failed "
        f"(caused by RuntimeError: {GREETING})"
    )
    assert error_record(error) == {
        "type": "ActivityError",
        "message": str(error),
        "details": None,
        "non_retryable": False,
        "causes": CHAIN,
    }


def test_a_child_workflow_chain_with_details_and_a_non_retryable_root() -> None:
    root = ApplicationError(
        "card declined", {"code": 51}, 7, type="PaymentFailed", non_retryable=True
    )
    child = temporalio.exceptions.ChildWorkflowError(
        "Child Workflow execution failed",
        namespace="default",
        workflow_id="pay-1",
        run_id="r2",
        workflow_type="Pay",
        initiated_event_id=1,
        started_event_id=2,
        retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )
    child.__cause__ = activity_error(root)
    assert causes.chain(temporalio.client.WorkflowFailureError(cause=child)) == [
        {
            "type": "ChildWorkflowError",
            "message": "Child Workflow execution failed",
            "details": None,
        },
        {"type": "ActivityError", "message": "Activity task failed", "details": None},
        {"type": "PaymentFailed", "message": "card declined", "details": [{"code": 51}, 7]},
    ]
    assert causes.non_retryable(child) is True
    assert causes.root_note(child) == " (caused by PaymentFailed: card declined)"


def test_a_single_failure_is_its_own_chain_and_names_no_root() -> None:
    failure = ApplicationError("bad", {"a": 1}, type="Boom")
    assert causes.chain(failure) == [{"type": "Boom", "message": "bad", "details": {"a": 1}}]
    assert (causes.non_retryable(failure), causes.root_note(failure)) == (False, "")
    timeout = temporalio.exceptions.TimeoutError(
        "activity StartToClose timeout", type=None, last_heartbeat_details=[]
    )
    assert causes.chain(timeout) == [
        {"type": "TimeoutError", "message": "activity StartToClose timeout", "details": None}
    ]
    assert causes.non_retryable(timeout) is None


def test_no_chain_without_a_temporal_failure() -> None:
    assert causes.chain(None) == []
    assert causes.chain(RuntimeError("h2 protocol error: http2 error")) == []
    wrapper = temporalio.client.WorkflowUpdateFailedError(RuntimeError("not a failure"))
    assert causes.chain(wrapper) == []
    assert error_record(TemporalError("signal failed", operation="signal")) == {
        "type": "TemporalError",
        "message": "signal failed",
        "details": None,
        "non_retryable": None,
        "causes": [],
    }
    assert error_record(KeyError("x")) == {
        "type": "KeyError",
        "message": "'x'",
        "details": None,
        "non_retryable": None,
        "causes": [],
    }


def test_a_chain_that_loops_ends() -> None:
    first = ApplicationError("one", type="A")
    second = ApplicationError("two", type="B")
    first.__cause__, second.__cause__ = second, first
    assert [c["type"] for c in causes.chain(first)] == ["A", "B"]


def test_expect_error_matches_any_cause_by_type_and_message() -> None:
    outcome = Outcome("await_result", error=greeting_failed())
    assert (
        judge({"error": {"type": "RuntimeError", "message": "^Greeting exception"}}, outcome) == []
    )
    assert judge({"error": {"type": "ActivityError"}}, outcome) == []
    assert judge({"status": "failed", "error": {"message": "could not greet"}}, outcome) == []
    assert judge({"error": {"type": "ValueError", "message": "^Hello"}}, outcome) == [
        "error.type: expected ValueError, got ActivityError (caused by ActivityError, "
        "RuntimeError)",
        f"error.message: /^Hello/ does not match {str(outcome.error)!r} / "
        f"'Activity task failed' / {GREETING!r}",
    ]


def test_expect_error_without_a_chain_says_what_it_got() -> None:
    outcome = Outcome("signal", error=PlaybookError("nope"))
    assert judge({"error": {"type": "Boom", "message": "yes"}}, outcome) == [
        "error.type: expected Boom, got PlaybookError",
        "error.message: /yes/ does not match 'nope'",
    ]


def failed_record() -> StepRecord:
    return StepRecord(
        path="steps[1]",
        action="await_result",
        name="await greeting",
        status="failed",
        started_at="2024-05-01T12:00:01+00:00",
        duration=1.5,
        attempts=1,
        workflow_id="greet-1",
        run_id="r1",
        error=error_record(greeting_failed()),
        history="histories/greet-1.r1.json",
    )


def test_console_shows_the_chain_a_line_per_cause() -> None:
    stream = io.StringIO()
    ConsoleReporter(stream, colour=False, live=False).step_finished(failed_record())
    assert stream.getvalue() == (
        "  FAIL  await greeting  (1.5s, workflow greet-1)\n"
        "        workflow 'greet-1' failed: ActivityError: Activity task failed (caused by "
        f"RuntimeError: {GREETING})\n"
        "        caused by ActivityError: Activity task failed\n"
        f"        caused by RuntimeError: {GREETING}\n"
    )


def test_console_lines_of_a_cause_the_message_says_and_of_a_multi_line_cause() -> None:
    said = {
        "message": "workflow 'w' failed: Boom: bad",
        "causes": [{"type": "Boom", "message": "bad", "details": None}],
    }
    assert cause_lines(said) == []
    assert cause_lines({"message": "m", "causes": []}) == []
    assert cause_lines({"message": "m"}) == []
    lines = {"message": "m", "causes": [{"type": "Boom", "message": "one\ntwo", "details": 1}]}
    assert cause_lines(lines) == ["caused by Boom: one", "  two"]


def test_junit_names_the_chain_and_the_history() -> None:
    result = RunResult(
        playbook="greet", path="greet.yaml", run_id="abc", started_at="", records=[failed_record()]
    )
    case = ET.fromstring(junit_xml([result]).encode("utf-8")).find("testsuite/testcase")
    assert case is not None
    holder = case.find("properties")
    assert holder is not None
    assert {p.get("name"): p.get("value") for p in holder} == {
        "action": "await_result",
        "workflow_id": "greet-1",
        "run_id": "r1",
        "history": "histories/greet-1.r1.json",
    }
    failure = case.find("failure")
    assert failure is not None
    assert failure.text == (
        "workflow 'greet-1' failed: ActivityError: Activity task failed (caused by "
        f"RuntimeError: {GREETING})\n"
        "caused by ActivityError: Activity task failed\n"
        f"caused by RuntimeError: {GREETING}\n\n"
        "workflow: greet-1"
    )


def test_history_paths_cannot_escape_the_directory(tmp_path: Path) -> None:
    assert history_path(tmp_path, "orders/../../etc", "r 1") == (
        tmp_path / "orders%2F..%2F..%2Fetc.r%201.json"
    )
    assert history_path("h", "a.b", "r").name == "a.b.r.json"


class FakeHandle:
    def __init__(self, client: FakeClient, workflow_id: str, run_id: str | None) -> None:
        self.client, self.workflow_id, self.run_id = client, workflow_id, run_id

    async def describe(self) -> Any:
        return type("Description", (), {"run_id": "latest-run"})()

    async def fetch_history(self) -> Any:
        self.client.fetched.append((self.workflow_id, self.run_id))
        if self.workflow_id == "gone":
            raise RPCError("workflow not found for ID: gone", RPCStatusCode.NOT_FOUND, b"")
        return type("History", (), {"to_json": lambda _self: '{"events": []}'})()


class FakeClient:
    def __init__(self) -> None:
        self.fetched: list[tuple[str, str | None]] = []

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None) -> FakeHandle:
        return FakeHandle(self, workflow_id, run_id)


def test_write_histories_once_per_execution_and_warns_for_a_miss(tmp_path: Path) -> None:
    records = [
        StepRecord(
            path="steps[0]",
            action="query",
            name="q",
            status="failed",
            workflow_id="a/b",
            run_id="r1",
        ),
        StepRecord(
            path="steps[1]",
            action="update",
            name="u",
            status="failed",
            workflow_id="a/b",
            run_id="r1",
        ),
        StepRecord(
            path="steps[2]",
            action="signal",
            name="s",
            status="passed",
            workflow_id="ok",
            run_id="r3",
        ),
        StepRecord(
            path="steps[3]",
            action="await_result",
            name="a",
            status="failed",
            workflow_id="gone",
            run_id="r4",
        ),
        StepRecord(
            path="steps[4]", action="describe", name="d", status="error", workflow_id="nolink"
        ),
        StepRecord(path="steps[5]", action="assert", name="x", status="failed"),
    ]
    client = FakeClient()
    warnings = asyncio.run(write_histories(client, records, tmp_path / "h"))  # type: ignore[arg-type]
    assert warnings == [
        "--history-dir: the history of workflow 'gone' (run r4) was not saved: workflow not "
        "found for ID: gone"
    ]
    assert client.fetched == [("a/b", "r1"), ("gone", "r4"), ("nolink", "latest-run")]
    assert [r.history for r in records] == [
        str(tmp_path / "h" / "a%2Fb.r1.json"),
        str(tmp_path / "h" / "a%2Fb.r1.json"),
        None,
        None,
        str(tmp_path / "h" / "nolink.latest-run.json"),
        None,
    ]
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == [
        "a%2Fb.r1.json",
        "nolink.latest-run.json",
    ]
    assert (tmp_path / "h" / "a%2Fb.r1.json").read_text() == '{"events": []}\n'
