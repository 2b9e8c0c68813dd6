"""GitHub Actions (``GITHUB_ACTIONS=true``): every failure also as an ``::error`` workflow
command (an annotation on the playbook's line), and a Markdown summary of the runs appended
to ``$GITHUB_STEP_SUMMARY``. Both are written from the masked results, at the end.

Escaping is the toolkit's (``@actions/core`` ``command.ts``): ``%``, CR and LF in the
message, and also ``:`` and ``,`` in the properties.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from playbook.durations import format_duration
from playbook.records import STEP_STATUSES, RunResult, StepRecord
from playbook.report.console import cause_lines
from playbook.report.files import masked

ANNOTATION_LIMIT = 50
"""Annotations printed at most (GitHub shows 10 errors a step, 50 a job, and drops the rest)."""
FAILURE_LIMIT = 50
"""Failures listed in the summary at most."""

_BAD = ("failed", "error")
_MESSAGE_LIMIT = 300
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def active(environ: Mapping[str, str] | None = None) -> bool:
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def relative(path: str, workspace: str | None) -> str:
    """``path`` relative to the workspace when it is inside it (GitHub places annotations
    by repository path), else as it was given."""
    if not workspace:
        return path
    try:
        return Path(path).resolve().relative_to(Path(workspace).resolve()).as_posix()
    except (OSError, ValueError):
        return path


def failures(result: RunResult) -> list[StepRecord]:
    """The failed steps that failed themselves: a ``foreach``, ``parallel`` or ``include``
    that failed because a step under it did is left out (that step says it better)."""
    bad = [r for r in result.records if r.status in _BAD]
    parents = {r.path[:i] for r in bad for i, char in enumerate(r.path) if char == "."}
    return [r for r in bad if r.path not in parents]


def _label(record: StepRecord) -> str:
    return record.id or record.name


def _message(record: StepRecord) -> str:
    error = record.error or {}
    return "\n".join([str(error.get("message") or record.status), *cause_lines(error)])


def annotation(
    title: str,
    message: str,
    file: str,
    line: int | None,
    workspace: str | None,
    column: int | None = None,
) -> str:
    properties = [f"file={escape_property(relative(file, workspace))}"]
    if line is not None:
        properties.append(f"line={line}")
        if column is not None:
            properties.append(f"col={column}")
    properties.append(f"title={escape_property(title)}")
    return f"::error {','.join(properties)}::{escape_data(message)}"


def annotation_lines(results: Sequence[RunResult], workspace: str | None = None) -> list[str]:
    lines: list[str] = []
    left_out = 0
    for result in map(masked, results):
        found = [
            annotation(
                f"{result.playbook}: step '{_label(r)}' ({r.path}) {r.status}",
                _message(r),
                r.file or result.path,
                r.line,
                workspace,
            )
            for r in failures(result)
        ]
        if result.error and result.status != "passed":
            found.append(
                annotation(
                    f"{result.playbook}: {result.status}",
                    result.error,
                    result.path,
                    None,
                    workspace,
                )
            )
        room = max(ANNOTATION_LIMIT - len(lines), 0)
        lines += found[:room]
        left_out += len(found[room:])
    if left_out:
        lines.append(
            f"::warning title=temporal-playbook::{left_out} more failures are not annotated "
            "(GitHub shows only the first ones); the job summary and the reports list them"
        )
    return lines


def _md(text: str) -> str:
    """Text as Markdown shows it literally, on one line."""
    text = " ".join(text.split())
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 3] + "..."
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


_ICONS = {"passed": "✅", "failed": "❌", "error": "⛔", "interrupted": "⏹️", "skipped": "⏭️"}


def summary(results: Sequence[RunResult], workspace: str | None = None) -> str:
    """The job summary: a table of the playbooks with their counts, then the failures,
    each with its place, its message and its workflow's UI link."""
    results = [masked(r) for r in results]
    worst = "passed"
    for status in ("failed", "error", "interrupted"):
        if any(r.status == status for r in results):
            worst = status
    out = [f"## temporal-playbook: {worst}", ""]
    # the five statuses always, another (--dry-run's would_run) when a step has it
    statuses = [*STEP_STATUSES]
    statuses += sorted({k for r in results for k, n in r.counts().items() if n} - set(statuses))
    head = ["playbook", "file", "status", *statuses, "time"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * 3 + "--:|" * (len(statuses) + 1))
    for result in results:
        counts = result.counts()
        cells = [
            _md(result.playbook),
            f"`{relative(result.path, workspace)}`",
            f"{_ICONS.get(result.status, '')} {result.status}",
            *(str(counts.get(s, 0)) for s in statuses),
            format_duration(result.duration),
        ]
        out.append("| " + " | ".join(cells) + " |")
    items: list[str] = []
    for result in results:
        if result.error and result.status != "passed":
            items.append(f"- **{_md(result.playbook)}**: {_md(result.error)}")
        for record in failures(result):
            where = relative(record.file or result.path, workspace)
            if record.line is not None:
                where += f":{record.line}"
            item = (
                f"- **{_md(result.playbook)}** `{where}` step **{_md(_label(record))}** "
                f"(`{record.path}`): {_md(_message(record).splitlines()[0])}"
            )
            if record.ui_link:
                link = record.ui_link.replace(" ", "%20").replace(")", "%29")
                item += f" ([workflow {_md(record.workflow_id or '')}]({link}))"
            items.append(item)
    if items:
        out += ["", "### Failures", "", *items[:FAILURE_LIMIT]]
        if len(items) > FAILURE_LIMIT:
            out.append(f"- ... and {len(items) - FAILURE_LIMIT} more (see the reports)")
    return "\n".join(out) + "\n\n"


def publish(
    results: Sequence[RunResult], console: TextIO, environ: Mapping[str, str] | None = None
) -> None:
    """Print the annotations on ``console`` and append the summary to the step summary
    file; a summary that cannot be written is a warning, never a failed run."""
    env = os.environ if environ is None else environ
    workspace = env.get("GITHUB_WORKSPACE")
    for line in annotation_lines(results, workspace):
        console.write(line + "\n")
    target = env.get("GITHUB_STEP_SUMMARY")
    if target:
        try:
            with open(target, "a", encoding="utf-8") as file:
                file.write(summary(results, workspace))
        except OSError as e:
            console.write(
                f"warning: GITHUB_STEP_SUMMARY {target}: the summary could not be written: "
                f"{e.strerror or e}\n"
            )
    console.flush()
