"""The on-disk record log (playbook.record_log) and the streamed reports (report.journal):
records round-trip in the order they were made, the reports from a log are the reports from
a list, an interrupted run still reports every record, and secrets stay masked on disk and
in the reports."""

from __future__ import annotations

import asyncio
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from playbook.actions import REGISTRY, Call
from playbook.cli import _run_cli
from playbook.inputs import resolve_inputs
from playbook.loader import load
from playbook.record_log import Journaled, RecordLog
from playbook.records import RunResult, StepRecord
from playbook.report import NullReporter
from playbook.report.files import json_report_text, junit_xml, write_json_report, write_junit_xml
from playbook.runner import Runner, RunOptions, Shared, new_result
from playbook.secrets import Masker

SECRET = "hunter2-very-secret"


def records() -> list[StepRecord]:
    """Records of every shape the reports print: passed with a result, failed with an error
    chain and details, skipped with a reason, logged lines, a nested path, unicode."""
    return [
        StepRecord(
            path="steps[0]",
            action="set",
            name="set",
            line=4,
            status="passed",
            result={"pair": (1, 2), "text": "café ☕"},
            started_at="2026-12-01T22:00:00+00:00",
            duration=0.0123456789,
            request={"set": {"pair": [1, 2]}},
            attempts=1,
            file="p.yaml",
            logs=["first line", "second line"],
        ),
        StepRecord(
            path="steps[1].foreach[0].steps[0]",
            action="await_result",
            name="await_result echo",
            id="echo",
            line=9,
            status="failed",
            error={
                "type": "WorkflowFailed",
                "message": "workflow failed: boom\nsecond line",
                "details": {"code": 7},
                "non_retryable": True,
                "causes": [{"type": "ApplicationError", "message": "boom"}],
            },
            started_at="2026-12-01T22:00:01+00:00",
            duration=1.5,
            workflow_id="echo-1",
            run_id="r1",
            ui_link="http://ui/namespaces/default/workflows/echo-1/r1/history",
            attempts=2,
            depth=2,
            continue_on_error=True,
            file="p.yaml",
        ),
        StepRecord(path="steps[2]", action="log", name="log", line=12, reason="when was false"),
    ]


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def logged(items: list[StepRecord], masker: Masker | None = None) -> RecordLog:
    log = RecordLog(masker)
    for record in items:
        log.append(record)
        log.finish(record)
    return log


def run_of(steps: Any, masker: Masker | None = None) -> RunResult:
    result = RunResult(
        playbook="p",
        path="p.yaml",
        run_id="run1",
        started_at="2026-12-01T22:00:00+00:00",
        status="failed",
        exit_code=1,
        duration=2.0,
        records=steps,
    )
    if masker is not None:
        result.masker = masker
    return result


def test_records_read_back_in_the_order_they_were_made() -> None:
    first, second, third = records()
    log = RecordLog()
    for record in (first, second, third):
        log.append(record)
    log.finish(third)  # (steps finish in any order: a loop's items, parallel branches)
    log.finish(first)
    assert len(log) == 3
    assert log[1] is second  # not finished: the object itself, still held
    assert log.statuses() == ["passed", "failed", "skipped"]
    back = list(log)
    assert back[0] == StepRecord(
        path="steps[0]",
        action="set",
        name="set",
        line=4,
        status="passed",
        result={"pair": [1, 2], "text": "café ☕"},  # as JSON has it: a tuple is a list
        started_at="2026-12-01T22:00:00+00:00",
        duration=0.0123456789,  # unrounded (the JSON report rounds it to 6 places)
        request={"set": {"pair": [1, 2]}},
        attempts=1,
        file="p.yaml",
        logs=["first line", "second line"],
    )
    assert back[0] is not first
    assert back[2] == third
    assert log[-1] == third
    assert log[0:2] == [back[0], second]
    log.finish(second)
    assert list(log)[1] == second
    assert run_of(log).counts() == {
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "canceled": 0,
        "error": 0,
    }


def test_a_record_written_again_replaces_the_one_before() -> None:
    log = logged(records())
    record = log[1]
    record.history = "histories/echo-1.r1.json"
    log[1] = record
    assert log[1].history == "histories/echo-1.r1.json"
    assert [r.path for r in log] == ["steps[0]", "steps[1].foreach[0].steps[0]", "steps[2]"]


def test_a_record_json_cannot_hold_stays_in_memory() -> None:
    odd = StepRecord(path="steps[0]", action="set", name="set", result={(1, 2): "tuple key"})
    log = logged([odd])
    assert log[0] is odd
    assert log.statuses() == ["skipped"]


def test_reports_from_a_log_are_the_reports_from_a_list() -> None:
    from_list, from_log = run_of(records()), run_of(logged(records()))
    assert json_report_text([from_log]) == json_report_text([from_list])
    assert junit_xml([from_log]) == junit_xml([from_list])
    report = json.loads(json_report_text([from_log]))
    assert report["runs"][0]["steps"][0]["result"] == {"pair": [1, 2], "text": "café ☕"}
    assert report["runs"][0]["steps"][0]["duration"] == 0.012346
    assert report["runs"][0]["counts"]["failed"] == 1


def test_reports_of_several_runs_and_of_none_keep_their_layout() -> None:
    empty = run_of([])
    empty.status, empty.error = "error", "could not connect to Temporal at 127.0.0.1:1"
    runs = [run_of(logged(records())), empty]
    text = junit_xml(runs)
    suites = ET.fromstring(text.split("\n", 1)[1])
    assert [s.get("tests") for s in suites] == ["3", "1"]
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("4", "1", "1")
    assert text.endswith("  </testsuite>\n</testsuites>\n")
    assert junit_xml([]) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="temporal-playbook" tests="0" failures="0" errors="0" time="0.000" />\n'
    )
    assert json.loads(json_report_text(runs))["runs"][1]["steps"] == []


def test_secrets_are_masked_on_disk_and_in_the_reports() -> None:
    masker = Masker()
    masker.add(SECRET)
    leaky = StepRecord(
        path="steps[0]",
        action="log",
        name="log",
        status="failed",
        request={"log": f"token {SECRET}"},
        error={"type": "Failure", "message": f"saw {SECRET}", "details": None},
        logs=[f"token {SECRET}"],
    )
    log = logged([leaky], masker)
    later = StepRecord(path="steps[1]", action="set", name="set", result={"pin": "4242-4242-x"})
    log.append(later)
    log.finish(later)
    masker.add("4242-4242-x")  # a secret learnt after its record was written (an include's)
    log._file.seek(0)
    on_disk = log._file.read().decode()
    assert SECRET not in on_disk and "token ***" in on_disk
    result = run_of(log, masker)
    for text in (json_report_text([result]), junit_xml([result])):
        assert SECRET not in text and "4242-4242-x" not in text
        assert "token ***" in text
    assert json.loads(json_report_text([result]))["runs"][0]["steps"][1]["result"] == {"pin": "***"}


def test_an_interrupted_run_reports_every_record(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            name: interrupted loop
            steps:
              - id: many
                foreach:
                  items: "{{ range(30) }}"
                  steps:
                    - set: {last: "{{ item }}"}
                    - sleep: "{{ '1h' if item == 20 else '0s' }}"
              - log: never
            finally:
              - log: cleanup
            """
        )
    )
    playbook = load(path)

    async def scenario() -> RunResult:
        gate = asyncio.Event()

        async def sleep(call: Call) -> Any:
            if call.spec != "0s":
                gate.set()
                await asyncio.sleep(3600)

        async def no_client() -> Any:
            raise AssertionError("no client is needed")

        log = RecordLog()
        shared = Shared(
            result=new_result(playbook),
            options=RunOptions(),
            reporter=Journaled(NullReporter(), log),
            masker=Masker(),
            client_factory=no_client,
            actions={**REGISTRY, "sleep": sleep},
        )
        shared.result.records = log
        runner = Runner(playbook, resolve_inputs(playbook.inputs, {}, from_cli=False), shared)
        task = asyncio.ensure_future(runner.run())
        await gate.wait()
        assert len(log._pending) == 2  # the loop step and the sleep in flight: the rest on disk
        runner.interrupt()
        return await task

    result = asyncio.run(scenario())
    assert result.status == "interrupted"
    write_json_report(tmp_path / "report.json", [result])
    write_junit_xml(tmp_path / "junit.xml", [result])
    steps = json.loads((tmp_path / "report.json").read_text())["runs"][0]["steps"]
    assert len(steps) == 1 + 21 * 2 + 2
    assert [(s["path"], s["status"]) for s in steps[-4:]] == [
        ("steps[0].foreach[20].steps[0]", "passed"),
        ("steps[0].foreach[20].steps[1]", "canceled"),
        ("steps[1]", "skipped"),
        ("finally[0]", "passed"),
    ]
    assert (steps[0]["path"], steps[0]["status"]) == ("steps[0]", "canceled")
    suite = ET.parse(tmp_path / "junit.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("skipped")) == (str(len(steps) + 1), "3")


def test_playbook_run_writes_both_reports_from_its_log(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            name: loop
            steps:
              - foreach:
                  items: "{{ range(200) }}"
                  concurrency: 10
                  steps:
                    - set: {last: "{{ item }}"}
                    - log: "item {{ item }}"
            """
        )
    )
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code = _run_cli(
        ["run", str(path), "-q", "--json-report", str(report), "--junit-xml", str(junit)]
    )
    assert code == 0
    steps = json.loads(report.read_text())["runs"][0]["steps"]
    assert [s["path"] for s in steps[:3]] == [
        "steps[0]",
        "steps[0].foreach[0].steps[0]",
        "steps[0].foreach[0].steps[1]",
    ]
    assert len(steps) == 401 and {s["status"] for s in steps} == {"passed"}
    cases = ET.parse(junit).getroot()[0].findall("testcase")
    assert len(cases) == 401
    assert cases[2].findtext("system-out") == "item 0"
