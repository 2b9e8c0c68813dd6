"""The console report: a line per step, failure details, a summary line.

Plain, stable text when not on a terminal (CI logs): a UI link only under a failed step
and in the summary. On a terminal: colours (as :mod:`.terminal` decides), a link under
every step and a live progress line for loops and long waits, cut to the terminal's width.
Steps inside loop iterations are shown only when they fail, or with ``-v``, so that a
1,000-item ``foreach`` stays readable.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

import click

from playbook.coverage import summary_lines
from playbook.durations import format_duration
from playbook.records import STEP_STATUSES, RunResult, StepRecord
from playbook.report import terminal
from playbook.secrets import Masker

LABELS = {
    "passed": "PASS",
    "failed": "FAIL",
    "skipped": "SKIP",
    "canceled": "CANC",
    "error": "ERR!",
    "would_run": "DRY ",  # --dry-run held it
}
COLOURS = {
    "passed": "green",
    "failed": "red",
    "skipped": "yellow",
    "canceled": "magenta",
    "error": "red",
    "would_run": "cyan",
}

_BAD = ("failed", "error")
_RECAP_LIMIT = 10
"""Failed steps' links listed with the summary, at most."""


def cause_lines(error: Mapping[str, Any]) -> list[str]:
    """An error's cause chain, a line per cause (``caused by ActivityError: Activity task
    failed``); none for a single cause that the error's message already says."""
    causes = error.get("causes") or []
    said = [f"{cause.get('type')}: {cause.get('message')}" for cause in causes]
    if len(said) == 1 and said[0] in str(error.get("message", "")):
        return []
    lines: list[str] = []
    for text in said:
        first, *rest = text.splitlines() or [""]
        lines += [f"caused by {first}", *(f"  {line}" for line in rest)]
    return lines


class ConsoleReporter:
    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        verbosity: int = 0,
        colour: bool | None = None,
        live: bool | None = None,
        bold: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        tty = terminal.is_terminal(self.stream)
        self.verbosity = verbosity
        self.colour = tty if colour is None else colour
        self.bold = self.colour if bold is None else bold
        self.live = tty if live is None else live
        self._progress: str | None = None
        self._loop_done = 0
        self._header: str | None = None
        self._masker = Masker()

    def _write(self, text: str) -> None:
        """Every line goes through the run's masker, whatever the runner missed."""
        if self._progress is not None:
            self.stream.write("\r\033[K")
            self._progress = None
        self.stream.write(self._masker.text(text) + "\n")
        self.stream.flush()

    def _lines(self, text: str) -> list[str]:
        """A text's lines, masked before it is split (a secret may hold a newline)."""
        return self._masker.text(text).splitlines()

    def _style(self, text: str, **style: Any) -> str:
        if self.colour:
            return click.style(text, **style)
        if self.bold and style.get("bold"):
            return click.style(text, bold=True)
        return text

    def run_started(self, playbook: Any, result: RunResult) -> None:
        self._masker = result.masker
        self._header = (
            self._style(f"playbook: {result.playbook}", bold=True)
            + f" ({result.path}) run {result.run_id}"
        )

    def _announce(self) -> None:
        """The header is printed with the first step, so that a run that cannot even
        connect says so in one line."""
        if self._header is not None and self.verbosity >= 0:
            header, self._header = self._header, None
            self._write(header)

    def _in_loop(self, record: StepRecord) -> bool:
        return ".foreach[" in record.path

    def step_started(self, record: StepRecord) -> None:
        """On a terminal: a live line while a step runs (a long wait shows as such), and
        for loop items a count of the steps done so far."""
        self._announce()
        if not self.live:
            return
        if self._in_loop(record):
            if self.verbosity <= 0:
                loop = record.path.split(".steps[")[0]
                self._show_progress(f"  ... {loop} running ({self._loop_done} steps done)")
        elif record.action not in ("parallel", "foreach", "include"):
            indent = "  " * (record.depth + 1)
            self._show_progress(f"{indent}{self._style('....', bold=True)}  {record.name}")

    def progress(self, record: StepRecord, text: str) -> None:
        """A step's own progress (a batch job's count) on the live line; only on a terminal."""
        if self.live and not self._in_loop(record):
            self._show_progress(f"{'  ' * (record.depth + 1)}....  {record.name}: {text}")

    def before_prompt(self) -> None:
        """Clear the live line so that a question asked on the terminal stands alone."""
        if self._progress is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._progress = None

    def _show_progress(self, text: str) -> None:
        line = terminal.fit(self._masker.text(text), terminal.width(self.stream))
        self.stream.write("\r\033[K" + line)
        self.stream.flush()
        self._progress = text

    def step_finished(self, record: StepRecord) -> None:
        self._announce()
        if self._in_loop(record):
            self._loop_done += 1
            if record.status not in _BAD and self.verbosity <= 0:
                return
        if self.verbosity < 0 and record.status not in _BAD:
            return
        indent = "  " * (record.depth + 1)
        label = self._style(LABELS[record.status], fg=COLOURS[record.status], bold=True)
        line = f"{indent}{label}  {record.name}"
        extras = []
        if record.started_at is not None:
            extras.append(format_duration(record.duration))
        if record.attempts > 1:
            extras.append(f"{record.attempts} attempts")
        if record.workflow_id:
            extras.append(f"workflow {record.workflow_id}")
        if record.reason:
            extras.append(record.reason)
        if extras:
            line += f"  ({', '.join(extras)})"
        self._write(line)
        # A failure keeps its link under -q and in a CI log: it is where one starts
        # looking. A CI log leaves the others out (half its lines, dead after --dev-server).
        if record.ui_link and (
            record.status in _BAD
            or (self.live and record.status != "skipped" and self.verbosity >= 0)
        ):
            self._write(f"{indent}      {record.ui_link}")
        if record.status in _BAD and record.error:
            message = located(record, str(record.error.get("message", "")))
            for text in [*self._lines(message), *cause_lines(record.error)]:
                self._write(f"{indent}      {self._style(text, fg='red')}")

    def log(self, record: StepRecord, text: str) -> None:
        # Like the steps that write them, log lines inside loop items need -v.
        if self.verbosity > 0 or (self.verbosity == 0 and not self._in_loop(record)):
            indent = "  " * (record.depth + 1)
            for line in self._lines(text) or [""]:
                self._write(f"{indent}  | {line}")

    def run_finished(self, result: RunResult) -> None:
        self._masker = result.masker
        counts = result.counts()
        parts = [f"{counts[k]} {k}" for k in (*STEP_STATUSES, "would_run") if counts.get(k)]
        if result.error and result.status != "passed":
            for line in self._lines(f"error: {result.error}"):
                self._write(self._style(line, fg="red"))
            if not result.records:
                return  # nothing ran: the error line says it all
        if self.verbosity >= 0:
            for line in summary_lines(result.handlers.coverage()):
                self._write(f"coverage: {line}")
            for line in _recap(result):
                self._write(line)
        colour = "green" if result.status == "passed" else "red"
        summary = (
            f"{result.status}: {result.playbook}: {', '.join(parts) or 'no steps'} in "
            f"{format_duration(result.duration)} (exit {result.exit_code})"
        )
        self._write(self._style(summary, fg=colour, bold=True))


def _recap(result: RunResult) -> list[str]:
    """The failed steps' UI links, once each, above the summary line: in a long log the
    end is where one looks."""
    failed = [r for r in result.records if r.status in _BAD and r.ui_link]
    seen: dict[str, StepRecord] = {}
    for record in failed:
        seen.setdefault(str(record.ui_link), record)
    if not seen:
        return []
    lines = ["failed steps:"]
    for link, record in list(seen.items())[:_RECAP_LIMIT]:
        lines.append(f"  {record.id or record.name} ({record.path}): {link}")
    if len(seen) > _RECAP_LIMIT:
        lines.append(f"  ... and {len(seen) - _RECAP_LIMIT} more (the reports have them all)")
    return lines


def located(record: StepRecord, message: str) -> str:
    """A failure's message as its first line starts: ``file:line: step 'label' (path)...``
    (SPEC section 11). A message that names its step already ("step 'x' (steps[0],
    f.yaml:5), field timeout: ...") has that location moved to the front."""
    if not record.file or record.line is None:
        return message
    where = f"{record.file}:{record.line}"
    label = record.id or record.name
    named = f"step '{label}' ({record.path}, {where})"
    if message.startswith(named):
        return f"{where}: step '{label}' ({record.path})" + message[len(named) :]
    return f"{where}: step '{label}': {message}"
