"""The report files: ``--json-report`` and ``--junit-xml``. Both are written from the runs'
results, also after a failure or an interrupt.

The JSON report's shape is ``schemas/json-report.schema.json``; the JUnit file follows the
Jenkins/Ant ``junit-10.xsd`` dialect that CI servers read (one suite per playbook, one case
per step). docs/reports.md describes both.
"""

from __future__ import annotations

import json
import platform
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from playbook import __version__, numbers
from playbook.records import RunResult, StepRecord
from playbook.report import paths
from playbook.report.console import cause_lines

JSON_REPORT_VERSION = 1

# Colour codes mean nothing in a CI viewer; the rest of what XML 1.0 cannot carry at all
# (NUL, ESC and the other C0 controls, lone surrogates, U+FFFE/U+FFFF) would make the
# whole file unreadable, so it becomes U+FFFD.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MESSAGE_LIMIT = 500
_RUN_ERROR_TYPES = {"error": "RunError", "interrupted": "Interrupted"}


def masked(result: RunResult) -> RunResult:
    """A copy of ``result`` with every secret of its run masked in every field: the last
    line of defence, so that what the writers emit never holds a secret, whatever the
    runner missed (the run's address and namespace included). Numbers are masked only in
    the user's values (requests, results, errors): a number secret must not mask a line
    number or a duration."""
    from playbook.report.journal import masked_head, records_of

    if not result.masker:
        return result
    return replace(masked_head(result), records=list(records_of(result)))


def json_report(results: Sequence[RunResult]) -> dict[str, Any]:
    return {
        "report_version": JSON_REPORT_VERSION,
        "tool": {"name": "temporal-playbook", "version": __version__},
        "exit_code": worst_exit_code(r.exit_code for r in results),
        "runs": [masked(r).to_dict() for r in results],
    }


def json_report_text(results: Sequence[RunResult]) -> str:
    """The report as text (:func:`playbook.report.journal.json_chunks`, joined)."""
    from playbook.report.journal import json_chunks

    return "".join(json_chunks(results))


def write_json_report(
    path: str | Path, results: Sequence[RunResult], *, stop: Callable[[], bool] | None = None
) -> None:
    """Write the JSON report to ``path`` as what it is: ``-`` (standard output), a device,
    a FIFO or a link written through, a regular file atomically (:mod:`.paths`); written
    as it is made, a step record at a time (:mod:`.journal`)."""
    from playbook.report.journal import json_chunks

    paths.write_text(path, json_chunks(results), stop=stop)


def worst_exit_code(codes: Any) -> int:
    order = {0: 0, 1: 1, 2: 2, 3: 3, 130: 4}
    worst = 0
    for code in codes:
        if order.get(code, 3) > order.get(worst, 0):
            worst = code
    return worst


# -- JUnit ----------------------------------------------------------------------------------


def _xml_text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", _ANSI.sub("", str(value)))


def _first_line(text: str) -> str:
    """A ``message`` attribute: the first non-blank line, cut to a length viewers show."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    if len(line) > _MESSAGE_LIMIT:
        line = line[: _MESSAGE_LIMIT - 3] + "..."
    return _xml_text(line)


def _timestamp(started_at: str) -> str | None:
    """JUnit's timestamp: ISO 8601 in UTC, to the second, without a zone."""
    try:
        when = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _properties(parent: ET.Element, source: object, names: Sequence[str]) -> None:
    """``<properties>`` with those attributes of ``source`` that have a value."""
    pairs = [(name, getattr(source, name)) for name in names]
    present = [(k, v) for k, v in pairs if v is not None and v != ""]
    if present:
        holder = ET.SubElement(parent, "properties")
        for name, value in present:
            ET.SubElement(holder, "property", name=name, value=_xml_text(value))


def _case(
    classname: str, name: str, duration: float, file: str, line: int | None = None
) -> ET.Element:
    """A ``testcase``; ``file`` and ``line`` let CI viewers (GitHub's reporters among them)
    point at the step in the playbook rather than at line 1."""
    attributes = {
        "name": _xml_text(name),
        "classname": _xml_text(classname),
        "time": f"{duration:.3f}",
        "file": _xml_text(file),
    }
    if line is not None:
        attributes["line"] = str(line)
    return ET.Element("testcase", attributes)


def _step_case(result: RunResult, record: StepRecord) -> ET.Element:
    case = _case(
        result.playbook,
        f"{record.path}: {record.name}",
        record.duration,
        record.file or result.path,
        record.line,
    )
    _properties(case, record, ("action", "id", "workflow_id", "run_id", "ui_link", "history"))
    if record.status in ("failed", "error"):
        error = record.error or {}
        message = str(error.get("message") or "failed")
        # JUnit's <error> is an unexpected error (a bug of ours), <failure> a failed check
        failure = ET.SubElement(
            case,
            "failure" if record.status == "failed" else "error",
            {
                "message": _first_line(message) or "failed",
                "type": _xml_text(error.get("type") or "Failure"),
            },
        )
        text = "\n".join([message, *cause_lines(error)])
        if error.get("details") is not None:
            text += "\n\ndetails: " + json.dumps(
                numbers.printable(error["details"]), indent=2, ensure_ascii=False, default=str
            )
        if record.workflow_id:
            text += f"\n\nworkflow: {record.workflow_id}"
        if record.ui_link:
            text += f"\n{record.ui_link}"
        failure.text = _xml_text(text)
    elif record.status in ("skipped", "canceled", "would_run"):  # (would_run: --dry-run)
        ET.SubElement(case, "skipped", message=_xml_text(record.reason or record.status))
    if record.logs:
        ET.SubElement(case, "system-out").text = _xml_text("\n".join(record.logs))
    return case


def _run_case(result: RunResult) -> ET.Element | None:
    """The run itself as a case when it did not get through its steps: a connection failure
    or an interrupt is an ``error`` (a suite of zero tests would look green), a run that
    never started (``--fail-fast``, an interrupt) is ``skipped``."""
    if result.error and result.status != "passed":
        case = _case(result.playbook, "run", result.duration, result.path)
        error = ET.SubElement(
            case,
            "error",
            {
                "message": _first_line(result.error) or result.status,
                "type": _RUN_ERROR_TYPES.get(result.status, "PlaybookError"),
            },
        )
        error.text = _xml_text(result.error)
        return case
    if result.status == "skipped":
        case = _case(result.playbook, "run", 0.0, result.path)
        ET.SubElement(case, "skipped", message="not run: stopped by --fail-fast or an interrupt")
        return case
    return None


def junit_cases(result: RunResult, records: Iterable[StepRecord]) -> Iterator[ET.Element]:
    """A suite's cases: one per (masked) record, then the run's own when it has one."""
    for record in records:
        yield _step_case(result, record)
    run_case = _run_case(result)
    if run_case is not None:
        yield run_case


def suite_shell(result: RunResult, counts: Mapping[str, int]) -> tuple[ET.Element, int]:
    """A run's ``testsuite`` without its cases (``counts``: how many, and of them with a
    failure, an error, skipped), and where among its children the cases go."""
    suite = ET.Element(
        "testsuite",
        {
            "name": _xml_text(result.playbook),
            "tests": str(counts["tests"]),
            "failures": str(counts["failure"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["skipped"]),
            "time": f"{result.duration:.3f}",
        },
    )
    timestamp = _timestamp(result.started_at)
    if timestamp is not None:
        suite.set("timestamp", timestamp)
    suite.set("hostname", platform.node() or "localhost")
    suite.set("file", _xml_text(result.path))
    _properties(suite, result, ("run_id", "status", "exit_code", "address", "namespace"))
    position = len(suite)
    if result.error and result.status != "passed":
        ET.SubElement(suite, "system-err").text = _xml_text(result.error)
    return suite, position


def suites_shell(results: Sequence[RunResult], totals: Mapping[str, int]) -> ET.Element:
    """The document's ``testsuites``, without its suites."""
    suites = ET.Element("testsuites", name="temporal-playbook")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{sum(r.duration for r in results):.3f}")
    return suites


def junit_xml(results: Sequence[RunResult]) -> str:
    """The JUnit document (:func:`playbook.report.journal.junit_chunks`, joined)."""
    from playbook.report.journal import junit_chunks

    return "".join(junit_chunks(results))


def write_junit_xml(
    path: str | Path, results: Sequence[RunResult], *, stop: Callable[[], bool] | None = None
) -> None:
    """Write the JUnit XML report to ``path``, as :func:`write_json_report` does."""
    from playbook.report.journal import junit_chunks

    paths.write_text(path, junit_chunks(results), stop=stop)
