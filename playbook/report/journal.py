"""The report files, streamed: the JSON report and the JUnit XML come out in pieces, a step
record at a time, from each run's records (a list, or for ``playbook run`` the run's
on-disk :class:`~playbook.record_log.RecordLog`), so that neither the records nor the
documents are held whole in memory. ``files.json_report_text`` and ``files.junit_xml`` are
these pieces joined; the writers in :mod:`.files` write them as they come.

Every record is masked with its run's secrets as it is read (the last line of defence, as
:func:`.files.masked` is for a whole run); a log whose run knows no secret gives the JSON
report its lines as they were written.

JUnit needs a suite's counts before its cases, and the document's totals before its first
suite: the cases of a suite are written to a temporary file as they are made, then the
suites to another, and the document is read back from it.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields, replace
from typing import IO

from playbook import __version__
from playbook.record_log import RecordLog, encode, masked_record
from playbook.records import RunResult, StepRecord

_CHUNK = 1 << 16
_HOLE = "playbook-cases-go-here"
"""A stand-in element where the streamed children go in an element's serialization."""


def masked_head(result: RunResult) -> RunResult:
    """``result`` with its own fields masked (not its records: :func:`records_of` masks
    those one at a time)."""
    masker = result.masker
    if not masker:
        return result
    skip = ("records", "masker")
    values = {
        f.name: masker.data(getattr(result, f.name), numbers=False)
        for f in fields(result)
        if f.name not in skip
    }
    return replace(result, **values)


def records_of(result: RunResult) -> Iterator[StepRecord]:
    """The run's records, each masked as it is read."""
    masker = result.masker
    for record in result.records:
        yield masked_record(record, masker)


def _step_lines(result: RunResult) -> Iterator[str]:
    records = result.records
    if isinstance(records, RecordLog) and not result.masker:
        for item in records.reported_lines():
            yield item if isinstance(item, str) else encode(item.to_dict())
        return
    for record in records_of(result):
        yield encode(record.to_dict())


def json_chunks(results: Sequence[RunResult]) -> Iterator[str]:
    """The JSON report as text: indented down to the runs, then one step a line.

    ``indent`` on the whole document would send every value through CPython's pure-Python
    encoder (seconds and hundreds of MB for a 10,000-item loop, see docs/performance.md);
    one compact line a step keeps the C encoder, and the file stays readable and greppable.
    """
    from playbook.report.files import JSON_REPORT_VERSION, worst_exit_code

    top = {
        "report_version": JSON_REPORT_VERSION,
        "tool": {"name": "temporal-playbook", "version": __version__},
        "exit_code": worst_exit_code(r.exit_code for r in results),
    }
    yield "{\n"
    for key, value in top.items():
        yield f"  {encode(key)}: {encode(value)},\n"
    yield '  "runs": [\n'
    for index, result in enumerate(results):
        yield "    {\n"
        for key, value in masked_head(result).head().items():
            yield f"      {encode(key)}: {encode(value)},\n"
        yield '      "steps": ['
        separator = "\n"
        for line in _step_lines(result):
            yield f"{separator}        {line}"
            separator = ",\n"
        yield "\n      ]\n"
        yield "    }" + ("," if index < len(results) - 1 else "") + "\n"
    yield "  ]\n}\n"


# -- JUnit ----------------------------------------------------------------------------------


def _spool() -> IO[str]:
    # (unnamed, removed when closed or when the process ends)
    return tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass")


def _read_back(spool: IO[str]) -> Iterator[str]:
    spool.seek(0)
    while chunk := spool.read(_CHUNK):
        yield chunk


def _around(element: ET.Element, position: int, level: int) -> tuple[str, str, str]:
    """``element`` serialized as ``ET.indent`` lays it out at ``level``, split where the
    children streamed in at ``position`` go: the text before them, the separator between
    them (and after the last one), and the text after."""
    hole = ET.Element(_HOLE)
    element.insert(position, hole)
    ET.indent(element, level=level)
    text = ET.tostring(element, encoding="unicode")
    before, after = text.split(f"<{_HOLE} />", 1)
    tail = hole.tail or ""
    return before, tail, after[len(tail) :]


def _cases_into(spool: IO[str], cases: Iterable[ET.Element], level: int) -> dict[str, int]:
    """Write each case as it comes (laid out at ``level``, the separator before every case
    but the first); how many there were, and of those with a failure, an error, skipped."""
    counts = {"tests": 0, "failure": 0, "error": 0, "skipped": 0}
    separator = "\n" + "  " * level
    for case in cases:
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                counts[tag] += 1
        ET.indent(case, level=level)
        case.tail = None
        spool.write((separator if counts["tests"] else "") + ET.tostring(case, encoding="unicode"))
        counts["tests"] += 1
    return counts


def _suite_into(out: IO[str], result: RunResult) -> dict[str, int]:
    from playbook.report import files

    head = masked_head(result)
    with _spool() as cases:
        counts = _cases_into(cases, files.junit_cases(head, records_of(result)), level=2)
        suite, position = files.suite_shell(head, counts)
        if not counts["tests"]:
            ET.indent(suite, level=1)
            out.write(ET.tostring(suite, encoding="unicode"))
            return counts
        before, between, after = _around(suite, position, level=1)
        out.write(before)
        out.writelines(_read_back(cases))
        out.write(between + after)
    return counts


def junit_chunks(results: Sequence[RunResult]) -> Iterator[str]:
    """The JUnit XML document, as ``ET.indent`` lays it out, in pieces."""
    from playbook.report import files

    totals = {"tests": 0, "failures": 0, "errors": 0}
    with _spool() as body:
        for index, result in enumerate(results):
            if index:
                body.write("\n  ")
            counts = _suite_into(body, result)
            totals["tests"] += counts["tests"]
            totals["failures"] += counts["failure"]
            totals["errors"] += counts["error"]
        suites = files.suites_shell(results, totals)
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        if not results:
            ET.indent(suites)
            yield ET.tostring(suites, encoding="unicode") + "\n"
            return
        before, between, after = _around(suites, 0, level=0)
        yield before
        yield from _read_back(body)
        yield between + after + "\n"
