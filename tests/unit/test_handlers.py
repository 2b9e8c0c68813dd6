"""Handler names and coverage offline: the name check against a fake metadata read, the
ledger's coverage, its console lines and its place in the JSON report."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from playbook.core import WorkflowStub, handlers
from playbook.coverage import Declared, HandlerLedger, summary_lines
from playbook.records import RunResult
from playbook.report.console import ConsoleReporter
from playbook.report.files import json_report

ROOT = Path(__file__).resolve().parents[2]
ORDER = Declared.of(
    "OrderWorkflow",
    {
        "signal": ["add_item", "cancel_order"],
        "query": ["__stack_trace", "__temporal_workflow_metadata", "status"],
        "update": ["pay"],
    },
)


class FakeReads:
    """Stands in for the metadata query: answers from ``answers`` in turn (None: no
    answer), counting the reads."""

    def __init__(self, *answers: Declared | None) -> None:
        self.answers = list(answers)
        self.reads = 0

    async def __call__(self, stub: WorkflowStub) -> Declared | None:
        self.reads += 1
        return self.answers.pop(0) if self.answers else None


def stub(workflow_type: str | None = "OrderWorkflow", workflow_id: str = "order-1") -> WorkflowStub:
    return WorkflowStub(
        client=None,  # type: ignore[arg-type]  # the fake read never uses it
        workflow_id=workflow_id,
        run_id="r1",
        workflow_type=workflow_type,
        started=True,
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> FakeReads:
    fake = FakeReads()
    monkeypatch.setattr(handlers, "read", fake)
    return fake


async def rejected(ledger: HandlerLedger, target: WorkflowStub, kind: str, name: str) -> str:
    with pytest.raises(handlers.UnknownHandler) as caught:
        await handlers.check(ledger, target, kind, name)
    assert (caught.value.error_type, caught.value.operation) == ("UnknownHandler", kind)
    assert caught.value.workflow_id == target.workflow_id
    return str(caught.value)


async def test_declared_names_pass_and_a_misspelt_one_fails(reads: FakeReads) -> None:
    reads.answers = [ORDER, ORDER]
    ledger = HandlerLedger()
    await handlers.check(ledger, stub(), "signal", "add_item")
    await handlers.check(ledger, stub(), "query", "status")
    await handlers.check(ledger, stub(), "query", "__stack_trace")
    assert reads.reads == 1  # once per type per run
    message = await rejected(ledger, stub(), "signal", "add_iten")
    assert message == (
        "workflow type 'OrderWorkflow' has no signal 'add_iten' (it has: add_item, "
        "cancel_order); did you mean 'add_item'?"
    )
    assert reads.reads == 2  # the execution was asked afresh before the name was rejected


async def test_messages_without_a_close_name_or_with_no_handlers(reads: FakeReads) -> None:
    reads.answers = [ORDER]
    ledger = HandlerLedger()
    assert await rejected(ledger, stub(), "query", "zzz") == (
        "workflow type 'OrderWorkflow' has no query 'zzz' (it has: status)"
    )
    bare = Declared.of("Bare", {"query": ["__stack_trace"]})
    ledger.declared["Bare"] = bare
    reads.answers = [bare]
    assert await rejected(ledger, stub("Bare"), "update", "pay") == (
        "workflow type 'Bare' has no update 'pay' (it has no updates)"
    )


async def test_a_handler_registered_at_run_time_is_found_afresh(reads: FakeReads) -> None:
    ledger = HandlerLedger()
    ledger.declared["OrderWorkflow"] = ORDER
    reads.answers = [Declared.of("OrderWorkflow", {"signal": ["add_item", "late"]})]
    await handlers.check(ledger, stub(), "signal", "late")
    assert ledger.declared["OrderWorkflow"].shown("signal") == ["add_item", "cancel_order", "late"]


async def test_unreadable_metadata_goes_on_unchecked_and_is_read_again(reads: FakeReads) -> None:
    ledger = HandlerLedger()
    await handlers.check(ledger, stub(), "signal", "anything")
    await handlers.check(ledger, stub(), "signal", "other")
    assert reads.reads == 2
    assert ledger.coverage() == {
        "OrderWorkflow": {
            "signals": {"declared": None, "dynamic": False, "called": ["anything", "other"]},
            "queries": {"declared": None, "dynamic": False, "called": []},
            "updates": {"declared": None, "dynamic": False, "called": []},
        }
    }
    assert summary_lines(ledger.coverage()) == [
        "OrderWorkflow: declared handlers not read (called: signals anything, other)"
    ]


async def test_a_cached_name_that_fails_afresh_unread_goes_on(reads: FakeReads) -> None:
    """The cache says no, but the execution cannot be asked: unchecked, not rejected."""
    ledger = HandlerLedger()
    ledger.declared["OrderWorkflow"] = ORDER
    await handlers.check(ledger, stub(), "signal", "unknown")
    assert reads.reads == 1


async def test_dynamic_handlers_take_any_name(reads: FakeReads) -> None:
    any_signal = Declared.of("AnySignal", {"signal": [""], "query": ["__stack_trace"]})
    reads.answers = [any_signal, any_signal]
    ledger = HandlerLedger()
    await handlers.check(ledger, stub("AnySignal"), "signal", "whatever")
    assert await rejected(ledger, stub("AnySignal"), "query", "whatever") == (
        "workflow type 'AnySignal' has no query 'whatever' (it has no queries)"
    )


async def test_an_execution_by_id_learns_its_type(reads: FakeReads) -> None:
    reads.answers = [ORDER]
    ledger = HandlerLedger()
    await handlers.check(ledger, stub(None, "by-id"), "update", "pay")
    await handlers.check(ledger, stub(None, "by-id"), "query", "status")
    assert (reads.reads, ledger.types) == (1, {"by-id": "OrderWorkflow"})
    assert ledger.called == {
        "OrderWorkflow": {"signal": set(), "query": {"status"}, "update": {"pay"}}
    }


def order_ledger() -> HandlerLedger:
    ledger = HandlerLedger()
    ledger.learn("order-1", ORDER)
    ledger.learn("any-1", Declared.of("AnySignal", {"signal": ["", "stop"]}))
    for kind, name in [
        ("signal", "add_item"),
        ("signal", "add_item"),
        ("query", "status"),
        ("query", "__stack_trace"),
    ]:
        ledger.call("OrderWorkflow", kind, name)
    ledger.call("AnySignal", "signal", "stop")
    ledger.call("AnySignal", "signal", "poke")
    return ledger


def test_coverage_and_its_console_lines() -> None:
    coverage = order_ledger().coverage()
    assert coverage == {
        "AnySignal": {
            "signals": {"declared": ["stop"], "dynamic": True, "called": ["poke", "stop"]},
            "queries": {"declared": [], "dynamic": False, "called": []},
            "updates": {"declared": [], "dynamic": False, "called": []},
        },
        "OrderWorkflow": {
            "signals": {
                "declared": ["add_item", "cancel_order"],
                "dynamic": False,
                "called": ["add_item"],
            },
            "queries": {"declared": ["status"], "dynamic": False, "called": ["status"]},
            "updates": {"declared": ["pay"], "dynamic": False, "called": []},
        },
    }
    assert summary_lines(coverage) == [
        "AnySignal: signals 1/1 + 1 dynamic, queries 0/0, updates 0/0",
        "OrderWorkflow: signals 1/2, queries 1/1, updates 0/1 (not called: cancel_order, pay)",
    ]


def result_with_coverage() -> RunResult:
    result = RunResult(
        playbook="p", path="p.yaml", run_id="r", started_at="2024-05-01T12:00:00+00:00"
    )
    result.handlers = order_ledger()
    return result


def test_the_json_report_carries_coverage_and_validates() -> None:
    report = json_report([result_with_coverage()])
    assert report["runs"][0]["coverage"] == order_ledger().coverage()
    schema = json.loads((ROOT / "schemas" / "json-report.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)


def test_the_console_summary_has_a_line_per_type_but_not_under_quiet() -> None:
    outputs: list[list[str]] = []
    for verbosity in (0, -1):
        stream = io.StringIO()
        ConsoleReporter(stream, colour=False, live=False, verbosity=verbosity).run_finished(
            result_with_coverage()
        )
        outputs.append(stream.getvalue().splitlines())
    summary = "passed: p: no steps in 0ms (exit 0)"
    assert outputs == [
        [
            "coverage: AnySignal: signals 1/1 + 1 dynamic, queries 0/0, updates 0/0",
            "coverage: OrderWorkflow: signals 1/2, queries 1/1, updates 0/1 "
            "(not called: cancel_order, pay)",
            summary,
        ],
        [summary],
    ]


def test_the_ledger_is_not_in_the_records_repr() -> None:
    result: Any = result_with_coverage()
    assert "handlers" not in repr(result)
