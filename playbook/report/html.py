"""``--html-report FILE``: one self-contained HTML file (inline CSS and script, nothing
fetched) to look at instead of reading: the summary, a timeline of every step with lanes
for parallel branches and ``foreach`` items, and each step's status, duration, rendered
request, result, error chain and UI link.

This module turns the (masked) results into the page's data: steps with their parent,
their ``foreach`` item and their lane, times as offsets from the run's start, and values
as JSON text cut to a size a browser shows at once (the JSON report has them whole). The
page itself, ``html_report.html`` beside this module, draws them; a 10,000-step run stays
readable because loops are collapsed and a step's details are drawn only when opened.

Lanes: the steps of one ``foreach`` item or one ``parallel`` branch are a unit; units are
packed into lanes by time (a unit takes the first lane that is free when it starts), so a
``foreach`` of 500 items at concurrency 50 shows as 50 lanes, and the top-level steps
have lane 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from playbook import __version__, numbers
from playbook.durations import format_duration
from playbook.records import RunResult, StepRecord
from playbook.report import paths
from playbook.report.console import cause_lines
from playbook.report.files import masked, worst_exit_code

VALUE_LIMIT = 20_000
"""Characters of a request or result shown; the rest is said to be cut."""
_UNIT = re.compile(r"\.foreach\[\d+\]|\.parallel\.steps\[\d+\]")
_NESTED = re.compile(r"^(.*)\.(?:parallel|include)\.(?:steps|finally)\[\d+\]$")
_ITEM = re.compile(r"^(.*)\.foreach\[(\d+)\]\.steps\[\d+\]$")
_TEMPLATE = "html_report.html"
_DATA_MARK = "__PLAYBOOK_REPORT_DATA__"


def _when(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    """A value as indented JSON text, cut to :data:`VALUE_LIMIT` characters."""
    if value is None:
        return None
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:  # an integer too long to write out, infinity, NaN
        text = json.dumps(numbers.printable(value), indent=2, ensure_ascii=False, default=str)
    if len(text) > VALUE_LIMIT:
        more = len(text) - VALUE_LIMIT
        text = f"{text[:VALUE_LIMIT]}\n... ({more:,} more characters: the JSON report has it all)"
    return text


def _error(record: StepRecord) -> dict[str, Any] | None:
    error = record.error
    if not error:
        return None
    return {
        "type": error.get("type"),
        "message": str(error.get("message") or ""),
        "chain": cause_lines(error),
        "details": _text(error.get("details")),
    }


def parents(records: Sequence[StepRecord]) -> list[tuple[int | None, int | None]]:
    """Each record's parent (an index, None at the top) and ``foreach`` item (or None)."""
    index = {record.path: i for i, record in enumerate(records)}
    out: list[tuple[int | None, int | None]] = []
    for record in records:
        item = _ITEM.match(record.path)
        nested = _NESTED.match(record.path)
        if item:
            out.append((index.get(item.group(1)), int(item.group(2))))
        elif nested:
            out.append((index.get(nested.group(1)), None))
        else:
            out.append((None, None))
    return out


def lanes(records: Sequence[StepRecord], starts: Sequence[float | None]) -> list[int]:
    """Each record's lane (see the module's docstring); 0 for the top level."""
    return _packed(records, starts)[0]


def _packed(
    records: Sequence[StepRecord], starts: Sequence[float | None]
) -> tuple[list[int], list[str]]:
    """The records' lanes, and each lane's label: the first unit it holds, and how many
    more (``steps[2].foreach[0] +24``)."""
    units: dict[str, list[float]] = {}
    keys: list[str] = []
    for record, start in zip(records, starts):
        found = list(_UNIT.finditer(record.path))
        key = record.path[: found[-1].end()] if found else ""
        keys.append(key)
        if key and start is not None:
            span = units.setdefault(key, [start, start + record.duration])
            span[0] = min(span[0], start)
            span[1] = max(span[1], start + record.duration)
    lane_of: dict[str, int] = {"": 0}
    ends: list[float] = []  # lane 1 + i is free from ends[i]
    for key, (start, end) in sorted(units.items(), key=lambda kv: (kv[1][0], kv[0])):
        free = next((i for i, e in enumerate(ends) if e <= start + 1e-6), None)
        if free is None:
            ends.append(end)
            free = len(ends) - 1
        else:
            ends[free] = end
        lane_of[key] = free + 1
    held: list[list[str]] = [[] for _ in range(len(ends) + 1)]
    for key, lane in lane_of.items():
        held[lane].append(key)
    labels = ["steps"] + [
        units[0] + (f" +{len(units) - 1}" if len(units) > 1 else "") for units in held[1:]
    ]
    return [lane_of.get(key, 0) for key in keys], labels


def _run_data(result: RunResult) -> dict[str, Any]:
    result = masked(result)
    origin = _when(result.started_at) or 0.0
    records = result.records
    starts = [_when(r.started_at) for r in records]
    offsets = [None if s is None else round(max(s - origin, 0.0), 6) for s in starts]
    steps = []
    lane_list, lane_labels = _packed(records, offsets)
    for record, offset, (parent, item), lane in zip(records, offsets, parents(records), lane_list):
        steps.append(
            {
                "path": record.path,
                "name": record.name,
                "id": record.id,
                "action": record.action,
                "status": record.status,
                "reason": record.reason,
                "file": record.file or result.path,
                "line": record.line,
                "start": offset,
                "duration": record.duration,
                "took": format_duration(record.duration) if record.started_at else None,
                "attempts": record.attempts,
                "workflow_id": record.workflow_id,
                "run_id": record.run_id,
                "ui_link": record.ui_link,
                "request": _text(record.request),
                "result": _text(record.result),
                "error": _error(record),
                "logs": record.logs,
                "parent": parent,
                "item": item,
                "lane": lane,
            }
        )
    return {
        "playbook": result.playbook,
        "path": result.path,
        "run_id": result.run_id,
        "started_at": result.started_at,
        "status": result.status,
        "exit_code": result.exit_code,
        "duration": result.duration,
        "took": format_duration(result.duration),
        "address": result.address,
        "namespace": result.namespace,
        "error": result.error,
        "counts": result.counts(),
        "lanes": len(lane_labels),
        "lane_labels": lane_labels,
        "steps": steps,
    }


def report_data(results: Sequence[RunResult]) -> dict[str, Any]:
    return {
        "tool": {"name": "temporal-playbook", "version": __version__},
        "exit_code": worst_exit_code(r.exit_code for r in results),
        "runs": [_run_data(r) for r in results],
    }


def _script_json(data: Any) -> str:
    """JSON that a ``<script>`` element holds as it is: no ``</script>``, no ``<!--``."""
    try:
        text = json.dumps(
            data, ensure_ascii=False, default=str, separators=(",", ":"), allow_nan=False
        )
    except ValueError:  # (JSON.parse refuses NaN and Infinity)
        text = json.dumps(
            numbers.printable(data), ensure_ascii=False, default=str, separators=(",", ":")
        )
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def html_report(results: Sequence[RunResult]) -> str:
    template = resources.files("playbook.report").joinpath(_TEMPLATE).read_text("utf-8")
    return template.replace(_DATA_MARK, _script_json(report_data(results)), 1)


def write_html_report(
    path: str | Path, results: Sequence[RunResult], *, stop: Callable[[], bool] | None = None
) -> None:
    """Write the HTML report to ``path``, as the other reports are written (:mod:`.paths`)."""
    paths.write_text(path, html_report(results), stop=stop)
