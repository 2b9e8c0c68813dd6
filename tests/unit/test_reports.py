"""The reports, offline: the JSON report against its schema, the JUnit file against a
junit-10.xsd-style schema, atomic writes, and the console's exact text."""

from __future__ import annotations

import io
import json
import os
import platform
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import xmlschema

from playbook import __version__
from playbook.records import RUN_STATUSES, STEP_STATUSES, RunResult, StepRecord
from playbook.report.console import ConsoleReporter
from playbook.report.files import json_report, junit_xml, write_json_report, write_junit_xml

ROOT = Path(__file__).parents[2]
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "json-report.schema.json").read_text("utf-8"))
PLAYBOOK_SCHEMA = json.loads((ROOT / "schemas" / "playbook.schema.json").read_text("utf-8"))
JUNIT_XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit-10.xsd"))
VALIDATOR = jsonschema.Draft202012Validator(
    REPORT_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)

UI = "http://localhost:8233/namespaces/default/workflows"
ORDER_LINK = f"{UI}/order-1/0b5e7c/history"
DRAIN_LINK = "https://cloud.temporal.io/namespaces/ops/workflows/drain-1/5d6e/history"
SIGNAL_MESSAGE = (
    "workflow 'order-1' failed: PaymentDeclined: card <4242> & \"co\" 'x'\nsecond line: café"
)
CONNECT_ERROR = "could not connect to localhost:7999: connection refused\nis the server running?"


def at(second: int) -> str:
    return f"2024-05-01T12:00:{second:02d}.250000+00:00"


def order_run() -> RunResult:
    """A failed run: every step status but canceled, an include, a loop with a failing
    iteration, a skip after the failure, ``finally``."""
    return RunResult(
        playbook="Order smoke test ✓",
        path="playbooks/order.yaml",
        run_id="3f2a9c1b7d4e",
        started_at=at(0),
        status="failed",
        exit_code=1,
        duration=12.3456789,
        address="localhost:7233",
        namespace="default",
        records=[
            StepRecord(
                path="steps[0]",
                action="create",
                name="create order",
                id="order",
                line=12,
                status="passed",
                started_at=at(1),
                duration=0.0123456789,
                attempts=1,
                workflow_id="order-1",
                request={"create": {"workflow": "OrderWorkflow", "api_key": "***"}},
            ),
            StepRecord(
                path="steps[1]",
                action="start",
                name="start order",
                line=18,
                status="passed",
                started_at=at(1),
                duration=0.5,
                attempts=2,
                workflow_id="order-1",
                run_id="0b5e7c",
                ui_link=ORDER_LINK,
                result={"run_id": "0b5e7c"},
            ),
            StepRecord(
                path="steps[2]",
                action="include",
                name="include checks.yaml",
                line=21,
                status="passed",
                started_at=at(2),
                duration=0.0021,
                attempts=1,
            ),
            StepRecord(
                path="steps[2].include.steps[0]",
                action="log",
                name="log",
                line=3,
                status="passed",
                started_at=at(2),
                duration=0.0012,
                attempts=1,
                depth=1,
            ),
            StepRecord(
                path="steps[3]",
                action="foreach",
                name="foreach",
                line=24,
                status="failed",
                started_at=at(3),
                duration=2.4,
                attempts=1,
                result=None,
                error={
                    "type": "PlaybookError",
                    "message": "foreach failed at item 1 (steps under steps[3].foreach)",
                    "details": None,
                    "non_retryable": None,
                    "causes": [],
                },
            ),
            StepRecord(
                path="steps[3].foreach[0].steps[0]",
                action="signal",
                name="signal order",
                line=27,
                status="passed",
                started_at=at(3),
                duration=0.1,
                attempts=1,
                workflow_id="order-1",
                run_id="0b5e7c",
                ui_link=ORDER_LINK,
                depth=1,
            ),
            StepRecord(
                path="steps[3].foreach[1].steps[0]",
                action="signal",
                name="signal order",
                line=27,
                status="failed",
                started_at=at(4),
                duration=0.1,
                attempts=1,
                workflow_id="order-1",
                run_id="0b5e7c",
                ui_link=ORDER_LINK,
                depth=1,
                error={
                    "type": "PaymentDeclined",
                    "message": SIGNAL_MESSAGE,
                    "details": {"code": 42, "note": "naïve"},
                    "non_retryable": True,
                    "causes": [
                        {
                            "type": "PaymentDeclined",
                            "message": "card <4242>",
                            "details": {"code": 42, "note": "naïve"},
                        }
                    ],
                },
            ),
            StepRecord(
                path="steps[4]",
                action="query",
                name="query status",
                line=30,
                status="skipped",
                reason="an earlier step failed",
            ),
            StepRecord(
                path="finally[0]",
                action="terminate",
                name="terminate order",
                line=34,
                status="passed",
                started_at=at(11),
                duration=0.04,
                attempts=1,
                workflow_id="order-1",
                run_id="0b5e7c",
                ui_link=ORDER_LINK,
            ),
            StepRecord(
                path="finally[1]",
                action="log",
                name="log",
                line=37,
                status="skipped",
                reason="when was false ({{ inputs.dry_run }})",
            ),
        ],
    )


def interrupted_run() -> RunResult:
    return RunResult(
        playbook="Runbook: drain queue",
        path="runbooks/drain.yaml",
        run_id="9d8c7b6a5f4e",
        started_at=at(20),
        status="interrupted",
        exit_code=130,
        duration=3.0,
        error="interrupted",
        address="ops.a1b2c.tmprl.cloud:7233",
        namespace="ops.a1b2c",
        records=[
            StepRecord(
                path="steps[0]",
                action="parallel",
                name="parallel",
                line=8,
                status="canceled",
                reason="interrupted",
                started_at=at(20),
                duration=1.5,
                attempts=1,
            ),
            StepRecord(
                path="steps[0].parallel.steps[0]",
                action="update",
                name="update drain",
                id="drain",
                line=10,
                status="canceled",
                reason="interrupted",
                started_at=at(20),
                duration=1.5,
                attempts=1,
                workflow_id="drain-1",
                ui_link=DRAIN_LINK,
                depth=1,
            ),
            StepRecord(
                path="steps[0].parallel.steps[1]",
                action="sleep",
                name="sleep",
                line=14,
                status="canceled",
                reason="interrupted",
                started_at=at(20),
                duration=1.5,
                attempts=1,
                depth=1,
            ),
            StepRecord(
                path="finally[0]",
                action="log",
                name="log",
                line=20,
                status="passed",
                started_at=at(22),
                duration=0.0002,
                attempts=1,
            ),
        ],
    )


def error_run() -> RunResult:
    return RunResult(
        playbook="Connect check",
        path="connect.yaml",
        run_id="aaaaaaaaaaaa",
        started_at=at(30),
        status="error",
        exit_code=3,
        duration=5.0,
        error=CONNECT_ERROR,
        address="localhost:7999",
        namespace="default",
    )


def skipped_run() -> RunResult:
    return RunResult(
        playbook="Never run",
        path="never.yaml",
        run_id="bbbbbbbbbbbb",
        started_at=at(40),
        status="skipped",
        address="localhost:7233",
        namespace="default",
    )


def all_runs() -> list[RunResult]:
    return [order_run(), interrupted_run(), error_run(), skipped_run()]


# -- JSON report ----------------------------------------------------------------------------


def schema_errors(instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in VALIDATOR.iter_errors(instance)
    ]


def test_report_schema_is_valid_and_described() -> None:
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    undocumented = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    undocumented.append(f"{where}/{name}")
            for key, sub in node.items():
                if key not in ("if", "then"):  # conditions restate a property, no more
                    walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}/{index}")

    walk(REPORT_SCHEMA, "#")
    assert undocumented == []


def test_report_schema_matches_the_records() -> None:
    defs = REPORT_SCHEMA["$defs"]
    step = StepRecord(path="steps[0]", action="log", name="log").to_dict()
    run = RunResult(playbook="p", path="p.yaml", run_id="r", started_at=at(0)).to_dict()
    assert list(defs["step"]["properties"]) == list(step)
    assert defs["step"]["required"] == list(step)
    assert list(defs["run"]["properties"]) == list(run)
    assert defs["run"]["required"] == list(run)
    assert list(json_report([])) == REPORT_SCHEMA["required"]
    # (SPEC section 12: --dry-run's held steps, counted only when there is one)
    assert tuple(defs["step"]["properties"]["status"]["enum"]) == (*STEP_STATUSES, "would_run")
    assert set(defs["run"]["properties"]["status"]["enum"]) == {*RUN_STATUSES, "skipped"}
    counted = list(defs["run"]["properties"]["counts"]["properties"])
    assert counted == [*STEP_STATUSES, "would_run"]
    actions = {
        k.removeprefix("action_") for k in PLAYBOOK_SCHEMA["$defs"] if k.startswith("action_")
    }
    # (SPEC section 10: the run's cleanup and verify are summary steps of their own)
    assert set(defs["step"]["properties"]["action"]["enum"]) == actions | {"cleanup", "verify"}


def test_json_report_validates() -> None:
    report = json_report(all_runs())
    assert schema_errors(report) == []
    assert schema_errors(json.loads(json.dumps(report))) == []


def test_json_report_values() -> None:
    report = json_report(all_runs())
    assert report["report_version"] == 1
    assert report["tool"] == {"name": "temporal-playbook", "version": __version__}
    assert report["exit_code"] == 130
    order, interrupted, error, skipped = report["runs"]
    steps = order.pop("steps")
    assert order == {
        "playbook": "Order smoke test ✓",
        "path": "playbooks/order.yaml",
        "run_id": "3f2a9c1b7d4e",
        "started_at": "2024-05-01T12:00:00.250000+00:00",
        "duration": 12.345679,
        "status": "failed",
        "exit_code": 1,
        "address": "localhost:7233",
        "namespace": "default",
        "error": None,
        "counts": {"passed": 6, "failed": 2, "skipped": 2, "canceled": 0, "error": 0},
        "coverage": {},
    }
    assert [s["path"] for s in steps] == [
        "steps[0]",
        "steps[1]",
        "steps[2]",
        "steps[2].include.steps[0]",
        "steps[3]",
        "steps[3].foreach[0].steps[0]",
        "steps[3].foreach[1].steps[0]",
        "steps[4]",
        "finally[0]",
        "finally[1]",
    ]
    assert steps[0] == {
        "path": "steps[0]",
        "id": "order",
        "name": "create order",
        "action": "create",
        "line": 12,
        "status": "passed",
        "reason": None,
        "started_at": "2024-05-01T12:00:01.250000+00:00",
        "duration": 0.012346,
        "attempts": 1,
        "workflow_id": "order-1",
        "run_id": None,
        "ui_link": None,
        "request": {"create": {"workflow": "OrderWorkflow", "api_key": "***"}},
        "result": None,
        "error": None,
        "history": None,
    }
    assert steps[1]["result"] == {"run_id": "0b5e7c"}
    assert (steps[1]["attempts"], steps[1]["ui_link"]) == (2, ORDER_LINK)
    assert steps[6] == {
        "path": "steps[3].foreach[1].steps[0]",
        "id": None,
        "name": "signal order",
        "action": "signal",
        "line": 27,
        "status": "failed",
        "reason": None,
        "started_at": "2024-05-01T12:00:04.250000+00:00",
        "duration": 0.1,
        "attempts": 1,
        "workflow_id": "order-1",
        "run_id": "0b5e7c",
        "ui_link": ORDER_LINK,
        "request": None,
        "result": None,
        "error": {
            "type": "PaymentDeclined",
            "message": SIGNAL_MESSAGE,
            "details": {"code": 42, "note": "naïve"},
            "non_retryable": True,
            "causes": [
                {
                    "type": "PaymentDeclined",
                    "message": "card <4242>",
                    "details": {"code": 42, "note": "naïve"},
                }
            ],
        },
        "history": None,
    }
    assert steps[7] == {
        "path": "steps[4]",
        "id": None,
        "name": "query status",
        "action": "query",
        "line": 30,
        "status": "skipped",
        "reason": "an earlier step failed",
        "started_at": None,
        "duration": 0.0,
        "attempts": 0,
        "workflow_id": None,
        "run_id": None,
        "ui_link": None,
        "request": None,
        "result": None,
        "error": None,
        "history": None,
    }
    assert [(s["status"], s["reason"]) for s in interrupted["steps"]] == [
        ("canceled", "interrupted"),
        ("canceled", "interrupted"),
        ("canceled", "interrupted"),
        ("passed", None),
    ]
    assert {k: v for k, v in interrupted.items() if k != "steps"} == {
        "playbook": "Runbook: drain queue",
        "path": "runbooks/drain.yaml",
        "run_id": "9d8c7b6a5f4e",
        "started_at": "2024-05-01T12:00:20.250000+00:00",
        "duration": 3.0,
        "status": "interrupted",
        "exit_code": 130,
        "address": "ops.a1b2c.tmprl.cloud:7233",
        "namespace": "ops.a1b2c",
        "error": "interrupted",
        "counts": {"passed": 1, "failed": 0, "skipped": 0, "canceled": 3, "error": 0},
        "coverage": {},
    }
    assert error == {
        "playbook": "Connect check",
        "path": "connect.yaml",
        "run_id": "aaaaaaaaaaaa",
        "started_at": "2024-05-01T12:00:30.250000+00:00",
        "duration": 5.0,
        "status": "error",
        "exit_code": 3,
        "address": "localhost:7999",
        "namespace": "default",
        "error": CONNECT_ERROR,
        "counts": {"passed": 0, "failed": 0, "skipped": 0, "canceled": 0, "error": 0},
        "coverage": {},
        "steps": [],
    }
    assert (skipped["status"], skipped["exit_code"], skipped["steps"]) == ("skipped", 0, [])


@pytest.mark.parametrize(
    ("where", "change", "complaint"),
    [
        ("step", {"status": "timed_out"}, "'timed_out' is not one of"),
        ("step", {"path": "steps[1].foreach.steps[0]"}, "does not match"),
        (
            "step",
            {"error": {"type": "X", "message": "m"}},
            "is not valid under any of the given schemas",
        ),
        ("step", {"action": "sql"}, "'sql' is not one of"),
        ("step", {"extra": 1}, "Additional properties are not allowed"),
        ("run", {"status": "passed", "exit_code": 1}, "0 was expected"),
        ("run", {"status": "interrupted", "exit_code": 3}, "130 was expected"),
        ("run", {"exit_code": 4}, "4 is not one of"),
        ("run", {"error": {"type": "X", "message": "m", "details": None}}, "is not of type"),
        ("run", {"started_at": "2024-05-01 12:00"}, "does not match"),
    ],
)
def test_report_schema_rejects(where: str, change: dict[str, Any], complaint: str) -> None:
    report = json_report([order_run()])
    target = report["runs"][0]["steps"][0] if where == "step" else report["runs"][0]
    target.update(change)
    errors = schema_errors(report)
    assert errors and any(complaint in e for e in errors), errors


# -- JUnit XML ------------------------------------------------------------------------------


def parse(text: str) -> ET.Element:
    JUNIT_XSD.validate(text)
    return ET.fromstring(text.encode("utf-8"))


def properties(element: ET.Element) -> dict[str, str]:
    holder = element.find("properties")
    return {} if holder is None else {p.get("name", ""): p.get("value", "") for p in holder}


def test_junit_validates_and_counts() -> None:
    root = parse(junit_xml(all_runs()))
    assert root.attrib == {
        "name": "temporal-playbook",
        "tests": "17",
        "failures": "2",
        "errors": "2",
        "time": "20.346",
    }
    suites = root.findall("testsuite")
    assert [
        {
            k: s.get(k)
            for k in ("name", "tests", "failures", "errors", "skipped", "time", "timestamp", "file")
        }
        for s in suites
    ] == [
        {
            "name": "Order smoke test ✓",
            "tests": "10",
            "failures": "2",
            "errors": "0",
            "skipped": "2",
            "time": "12.346",
            "timestamp": "2024-05-01T12:00:00",
            "file": "playbooks/order.yaml",
        },
        {
            "name": "Runbook: drain queue",
            "tests": "5",
            "failures": "0",
            "errors": "1",
            "skipped": "3",
            "time": "3.000",
            "timestamp": "2024-05-01T12:00:20",
            "file": "runbooks/drain.yaml",
        },
        {
            "name": "Connect check",
            "tests": "1",
            "failures": "0",
            "errors": "1",
            "skipped": "0",
            "time": "5.000",
            "timestamp": "2024-05-01T12:00:30",
            "file": "connect.yaml",
        },
        {
            "name": "Never run",
            "tests": "1",
            "failures": "0",
            "errors": "0",
            "skipped": "1",
            "time": "0.000",
            "timestamp": "2024-05-01T12:00:40",
            "file": "never.yaml",
        },
    ]
    assert {s.get("hostname") for s in suites} == {platform.node() or "localhost"}
    assert properties(suites[0]) == {
        "run_id": "3f2a9c1b7d4e",
        "status": "failed",
        "exit_code": "1",
        "address": "localhost:7233",
        "namespace": "default",
    }


def test_junit_cases_failures_and_properties() -> None:
    suite = parse(junit_xml([order_run()])).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "steps[0]: create order",
        "steps[1]: start order",
        "steps[2]: include checks.yaml",
        "steps[2].include.steps[0]: log",
        "steps[3]: foreach",
        "steps[3].foreach[0].steps[0]: signal order",
        "steps[3].foreach[1].steps[0]: signal order",
        "steps[4]: query status",
        "finally[0]: terminate order",
        "finally[1]: log",
    ]
    assert {c.get("classname") for c in cases} == {"Order smoke test ✓"}
    assert [c.get("time") for c in cases][:3] == ["0.012", "0.500", "0.002"]
    assert properties(cases[0]) == {"action": "create", "id": "order", "workflow_id": "order-1"}
    assert properties(cases[1]) == {
        "action": "start",
        "workflow_id": "order-1",
        "run_id": "0b5e7c",
        "ui_link": ORDER_LINK,
    }
    assert properties(cases[3]) == {"action": "log"}
    failures = [(i, f.attrib, f.text) for i, c in enumerate(cases) for f in c.iter("failure")]
    assert failures == [
        (
            4,
            {
                "message": "foreach failed at item 1 (steps under steps[3].foreach)",
                "type": "PlaybookError",
            },
            "foreach failed at item 1 (steps under steps[3].foreach)",
        ),
        (
            6,
            {
                "message": "workflow 'order-1' failed: PaymentDeclined: card <4242> & \"co\" 'x'",
                "type": "PaymentDeclined",
            },
            SIGNAL_MESSAGE + '\n\ndetails: {\n  "code": 42,\n  "note": "naïve"\n}'
            "\n\nworkflow: order-1\n" + ORDER_LINK,
        ),
    ]
    skipped = [(i, s.get("message")) for i, c in enumerate(cases) for s in c.iter("skipped")]
    assert skipped == [(7, "an earlier step failed"), (9, "when was false ({{ inputs.dry_run }})")]
    assert suite.find("system-err") is None


def test_junit_run_errors_and_interrupts_are_errors() -> None:
    root = parse(junit_xml([interrupted_run(), error_run(), skipped_run()]))
    drain, connect, never = root.findall("testsuite")
    assert [
        (c.get("name"), [(o.tag, o.get("message")) for o in c if o.tag != "properties"])
        for c in drain.findall("testcase")
    ] == [
        ("steps[0]: parallel", [("skipped", "interrupted")]),
        ("steps[0].parallel.steps[0]: update drain", [("skipped", "interrupted")]),
        ("steps[0].parallel.steps[1]: sleep", [("skipped", "interrupted")]),
        ("finally[0]: log", []),
        ("run", [("error", "interrupted")]),
    ]
    assert properties(drain.findall("testcase")[1])["ui_link"] == DRAIN_LINK
    (case,) = connect.findall("testcase")
    error = case.find("error")
    assert error is not None
    assert (case.get("name"), case.get("time")) == ("run", "5.000")
    assert error.attrib == {
        "message": "could not connect to localhost:7999: connection refused",
        "type": "RunError",
    }
    assert error.text == CONNECT_ERROR
    assert connect.findtext("system-err") == CONNECT_ERROR
    assert [c.tag for c in connect] == ["properties", "testcase", "system-err"]
    (case,) = never.findall("testcase")
    assert [(o.tag, o.get("message")) for o in case] == [
        ("skipped", "not run: stopped by --fail-fast or an interrupt")
    ]


def test_junit_text_that_xml_cannot_carry() -> None:
    run = order_run()
    nasty = "\x1b[31mboom\x1b[0m <b>&amp;</b> \"q\" 'a' nul\x00 esc\x1b bell\x07 \ud800 ok\tend"
    run.playbook = "suite\x00name"
    record = run.records[6]
    record.name = "signal\x1b order"
    record.error = {"type": "Boom\x00", "message": "\n\n  " + nasty + "\nsecond", "details": None}
    record.ui_link = None
    run.records[7].reason = "skipped\x0b because"
    text = junit_xml([run])
    for bad in ("\x00", "\x1b", "\x07", "\x0b", "\ud800"):
        assert bad not in text
    suite = parse(text).find("testsuite")
    assert suite is not None
    assert suite.get("name") == "suite\ufffdname"
    case = suite.findall("testcase")[6]
    failure = case.find("failure")
    assert failure is not None
    assert case.get("name") == "steps[3].foreach[1].steps[0]: signal\ufffd order"
    clean = "boom <b>&amp;</b> \"q\" 'a' nul\ufffd esc\ufffd bell\ufffd \ufffd ok\tend"
    assert failure.attrib == {"message": clean, "type": "Boom\ufffd"}
    assert failure.text == f"\n\n  {clean}\nsecond\n\nworkflow: order-1"
    skipped = suite.findall("testcase")[7].find("skipped")
    assert skipped is not None and skipped.get("message") == "skipped\ufffd because"


def test_junit_message_is_first_line_and_bounded() -> None:
    run = order_run()
    run.records[6].error = {"type": "", "message": "", "details": None}
    run.records[4].error = {"type": "Long", "message": "x" * 600 + "\nmore", "details": None}
    cases = parse(junit_xml([run])).findall("testsuite/testcase")
    long, empty = cases[4].find("failure"), cases[6].find("failure")
    assert long is not None and empty is not None
    assert long.get("message") == "x" * 497 + "..."
    assert empty.attrib == {"message": "failed", "type": "Failure"}


def test_junit_exact_text_of_a_small_run() -> None:
    run = RunResult(
        playbook="Tiny & <small>",
        path="tiny.yaml",
        run_id="c0ffee000000",
        started_at="2024-05-01T14:00:00.999999+02:00",
        duration=1.5,
        address="localhost:7233",
        namespace="default",
        records=[
            StepRecord(
                path="steps[0]",
                action="start",
                name='start "w"',
                line=3,
                status="passed",
                duration=1.25,
                attempts=1,
                workflow_id="w-1",
                ui_link=f"{UI}/w-1/r1/history?a=1&b=2",
            ),
            StepRecord(path="steps[1]", action="log", name="log", reason="not selected by --tags"),
        ],
    )
    host = platform.node() or "localhost"
    assert (
        junit_xml([run])
        == f"""\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="temporal-playbook" tests="2" failures="0" errors="0" time="1.500">
  <testsuite name="Tiny &amp; &lt;small&gt;" tests="2" failures="0" errors="0" skipped="1" \
time="1.500" timestamp="2024-05-01T12:00:00" hostname="{host}" file="tiny.yaml">
    <properties>
      <property name="run_id" value="c0ffee000000" />
      <property name="status" value="passed" />
      <property name="exit_code" value="0" />
      <property name="address" value="localhost:7233" />
      <property name="namespace" value="default" />
    </properties>
    <testcase name="steps[0]: start &quot;w&quot;" classname="Tiny &amp; &lt;small&gt;" \
time="1.250" file="tiny.yaml" line="3">
      <properties>
        <property name="action" value="start" />
        <property name="workflow_id" value="w-1" />
        <property name="ui_link" value="{UI}/w-1/r1/history?a=1&amp;b=2" />
      </properties>
    </testcase>
    <testcase name="steps[1]: log" classname="Tiny &amp; &lt;small&gt;" time="0.000" \
file="tiny.yaml">
      <properties>
        <property name="action" value="log" />
      </properties>
      <skipped message="not selected by --tags" />
    </testcase>
  </testsuite>
</testsuites>
"""
    )
    parse(junit_xml([run]))


def test_junit_of_no_runs() -> None:
    assert parse(junit_xml([])).attrib == {
        "name": "temporal-playbook",
        "tests": "0",
        "failures": "0",
        "errors": "0",
        "time": "0.000",
    }


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        (
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c"/>'
            "<properties/></testsuite></testsuites>",
            "properties",
        ),
        (
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c">'
            '<failure message="m"/><properties/></testcase></testsuite></testsuites>',
            "properties",
        ),
        (
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><system-err>e'
            '</system-err><testcase name="c"/></testsuite></testsuites>',
            "testcase",
        ),
        ('<testsuites><testsuite name="s" failures="0" errors="0"/></testsuites>', "tests"),
        ('<testsuites><testsuite name="s" tests="-1" failures="0" errors="0"/></testsuites>', "-1"),
        ('<testsuites skipped="1"/>', "skipped"),
        (
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0" '
            'timestamp="2024-05-01T12:00:00+00:00"/></testsuites>',
            "timestamp",
        ),
        (
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c">'
            "<skipped/><failure/></testcase></testsuite></testsuites>",
            "failure",
        ),
        (
            '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c">'
            '<properties><property name="a"/></properties></testcase></testsuite></testsuites>',
            "value",
        ),
    ],
)
def test_junit_schema_is_strict(document: str, complaint: str) -> None:
    with pytest.raises(xmlschema.XMLSchemaValidationError, match=complaint):
        JUNIT_XSD.validate(document)


# -- writing the files ----------------------------------------------------------------------


def test_write_reports_make_directories_and_leave_nothing_else(tmp_path: Path) -> None:
    runs = all_runs()
    json_path = tmp_path / "a" / "b" / "report.json"
    xml_path = tmp_path / "c" / "junit.xml"
    write_json_report(json_path, runs)
    write_junit_xml(str(xml_path), runs)
    written = json_path.read_text("utf-8")
    assert "Order smoke test ✓" in written and written.endswith("}\n")
    assert json.loads(written) == json.loads(json.dumps(json_report(runs)))
    assert xml_path.read_text("utf-8") == junit_xml(runs)
    assert sorted(p.name for p in json_path.parent.iterdir()) == ["report.json"]
    assert sorted(p.name for p in xml_path.parent.iterdir()) == ["junit.xml"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert json_path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_replaces_atomically_and_cleans_up_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    write_json_report(target, [order_run()])
    before = target.read_text("utf-8")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_json_report(target, all_runs())
    assert target.read_text("utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_write_json_keeps_a_lone_surrogate(tmp_path: Path) -> None:
    run = order_run()
    run.records[1].result = {"raw": "a\udc80b"}
    write_json_report(tmp_path / "r.json", [run])
    loaded = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert loaded["runs"][0]["steps"][1]["result"] == {"raw": "a\udc80b"}


# -- console --------------------------------------------------------------------------------


def replay(result: RunResult, reporter: ConsoleReporter) -> None:
    """Tell the reporter what the runner would, in the order it would: a step's log lines
    while it runs, nested steps before their parent finishes."""
    reporter.run_started(None, result)
    records = {r.path: r for r in result.records}
    children: dict[str, list[StepRecord]] = {}
    for record in result.records:
        parent = next(
            (
                p
                for p in records
                if record.path.startswith(p + ".")
                and record.path.count("steps[") == p.count("steps[") + 1
            ),
            None,
        )
        children.setdefault(parent or "", []).append(record)

    def finish(record: StepRecord) -> None:
        if record.started_at is not None:
            reporter.step_started(record)
        if record.action == "log" and record.status == "passed":
            reporter.log(record, "balance: 12.50 €\n<ok> & done")
        for child in children.get(record.path, []):
            finish(child)
        reporter.step_finished(record)

    for record in children.get("", []):
        finish(record)
    reporter.run_finished(result)


def console(result: RunResult, **options: Any) -> str:
    stream = io.StringIO()
    replay(
        result,
        ConsoleReporter(
            stream, colour=options.pop("colour", False), live=options.pop("live", False), **options
        ),
    )
    return stream.getvalue()


ORDER_SIGNAL_FAILED = f"""\
    FAIL  signal order  (100ms, workflow order-1)
          {ORDER_LINK}
          workflow 'order-1' failed: PaymentDeclined: card <4242> & "co" 'x'
          second line: café
"""
ORDER_FOREACH_FAILED = """\
  FAIL  foreach  (2.4s)
        foreach failed at item 1 (steps under steps[3].foreach)
"""
ORDER_SUMMARY = "failed: Order smoke test ✓: 6 passed, 2 failed, 2 skipped in 12s (exit 1)\n"
ORDER_RECAP = f"failed steps:\n  signal order (steps[3].foreach[1].steps[0]): {ORDER_LINK}\n"


def test_console_plain_output() -> None:
    assert (
        console(order_run())
        == f"""\
playbook: Order smoke test ✓ (playbooks/order.yaml) run 3f2a9c1b7d4e
  PASS  create order  (12ms, workflow order-1)
  PASS  start order  (500ms, 2 attempts, workflow order-1)
      | balance: 12.50 €
      | <ok> & done
    PASS  log  (1ms)
  PASS  include checks.yaml  (2ms)
{ORDER_SIGNAL_FAILED}{ORDER_FOREACH_FAILED}\
  SKIP  query status  (an earlier step failed)
  PASS  terminate order  (40ms, workflow order-1)
  SKIP  log  (when was false ({{{{ inputs.dry_run }}}}))
{ORDER_RECAP}{ORDER_SUMMARY}"""
    )


def test_console_verbose_shows_loop_iterations() -> None:
    verbose = console(order_run(), verbosity=1)
    passed_iteration = "    PASS  signal order  (100ms, workflow order-1)\n"
    assert passed_iteration + ORDER_SIGNAL_FAILED in verbose
    assert verbose.replace(passed_iteration, "", 1) == console(order_run())


def test_console_quiet_shows_failures_and_summary_only() -> None:
    assert console(order_run(), verbosity=-1) == (
        ORDER_SIGNAL_FAILED + ORDER_FOREACH_FAILED + ORDER_SUMMARY
    )


def test_console_interrupted_and_error_runs() -> None:
    assert (
        console(interrupted_run())
        == """\
playbook: Runbook: drain queue (runbooks/drain.yaml) run 9d8c7b6a5f4e
    CANC  update drain  (1.5s, workflow drain-1, interrupted)
    CANC  sleep  (1.5s, interrupted)
  CANC  parallel  (1.5s, interrupted)
    | balance: 12.50 €
    | <ok> & done
  PASS  log  (0ms)
error: interrupted
interrupted: Runbook: drain queue: 1 passed, 3 canceled in 3.0s (exit 130)
"""
    )
    # Nothing ran: the error line says it all, header and summary would only repeat it.
    assert console(error_run()) == f"error: {CONNECT_ERROR}\n"
    assert console(error_run(), verbosity=-1) == f"error: {CONNECT_ERROR}\n"


def test_console_colour_is_only_style() -> None:
    coloured = console(order_run(), colour=True)
    assert "\x1b[" in coloured
    assert click.unstyle(coloured) == console(order_run())


def test_console_live_progress_for_loops() -> None:
    run = order_run()
    run.records = [r for r in run.records if r.path.startswith("steps[3]")]
    assert (
        console(run, live=True)
        == f"""\
playbook: Order smoke test ✓ (playbooks/order.yaml) run 3f2a9c1b7d4e
\r\x1b[K  ... steps[3].foreach[0] running (0 steps done)\
\r\x1b[K  ... steps[3].foreach[1] running (1 steps done)\r\x1b[K{ORDER_SIGNAL_FAILED}\
{ORDER_FOREACH_FAILED}{ORDER_RECAP}\
failed: Order smoke test ✓: 1 passed, 2 failed in 12s (exit 1)
"""
    )


def test_console_defaults_to_plain_when_not_a_terminal() -> None:
    reporter = ConsoleReporter(io.StringIO())
    assert (reporter.colour, reporter.live, reporter.verbosity) == (False, False, 0)


def test_console_hides_log_lines_of_loop_items_unless_verbose() -> None:
    run = RunResult(
        playbook="Loop",
        path="loop.yaml",
        run_id="d00d00d00d00",
        started_at=at(0),
        duration=0.5,
        records=[
            StepRecord(
                path="steps[0]",
                action="foreach",
                name="foreach",
                status="passed",
                started_at=at(0),
                duration=0.5,
                attempts=1,
            ),
            StepRecord(
                path="steps[0].foreach[0].steps[0]",
                action="log",
                name="log",
                status="passed",
                started_at=at(0),
                duration=0.1,
                attempts=1,
                depth=1,
            ),
        ],
    )
    summary = "passed: Loop: 2 passed in 500ms (exit 0)\n"
    assert console(run) == (
        "playbook: Loop (loop.yaml) run d00d00d00d00\n  PASS  foreach  (500ms)\n" + summary
    )
    assert (
        console(run, verbosity=1)
        == f"""\
playbook: Loop (loop.yaml) run d00d00d00d00
      | balance: 12.50 €
      | <ok> & done
    PASS  log  (100ms)
  PASS  foreach  (500ms)
{summary}"""
    )
    assert console(run, verbosity=-1) == summary


def test_console_live_line_while_a_step_runs() -> None:
    run = RunResult(
        playbook="waits",
        path="w.yaml",
        run_id="r1",
        started_at=at(0),
        duration=61.0,
        records=[
            StepRecord(
                path="steps[0]",
                action="await_result",
                name="await_result order",
                status="passed",
                started_at=at(1),
                duration=60.0,
                attempts=1,
            )
        ],
    )
    assert console(run, live=True) == (
        "playbook: waits (w.yaml) run r1\n"
        "\r\x1b[K  ....  await_result order"
        "\r\x1b[K  PASS  await_result order  (1m00s)\n"
        "passed: waits: 1 passed in 1m01s (exit 0)\n"
    )


def test_json_report_text_is_one_step_a_line() -> None:
    from playbook.report.files import json_report_text

    text = json_report_text([order_run()])
    assert json.loads(text) == json.loads(json.dumps(json_report([order_run()])))
    lines = text.splitlines()
    assert lines[:2] == ["{", '  "report_version": 1,']
    step_lines = [line for line in lines if line.startswith('        {"path": ')]
    assert len(step_lines) == len(order_run().records)
    assert json_report_text([]).splitlines()[-3:] == ['  "runs": [', "  ]", "}"]
    assert json.loads(json_report_text([])) == json_report([])
