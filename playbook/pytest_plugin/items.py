"""A playbook file as a pytest test: :class:`PlaybookFile` loads it at collection (no
server needed) into one :class:`PlaybookItem`, named after the playbook, marked
``playbook`` and matched by its tags with ``-k``. An invalid playbook fails with its
validation message, a failed run with :func:`explain` (the failed steps, their errors,
workflow ids and UI links, the run's summary); neither shows a traceback of this plugin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from playbook.pytest_plugin.session import SESSION

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr

    from playbook.errors import PlaybookError
    from playbook.model import Playbook
    from playbook.records import RunResult


class PlaybookFile(pytest.File):
    """A playbook file; its one item is named after the playbook."""

    def collect(self) -> Iterator[PlaybookItem]:
        from playbook.errors import PlaybookError
        from playbook.loader import load

        playbook: Playbook | None = None
        error: PlaybookError | None = None
        try:
            playbook = load(self.path)
        except PlaybookError as e:
            error = e
        yield PlaybookItem.from_parent(
            self, name=self._name(playbook), playbook=playbook, error=error
        )

    def _name(self, playbook: Playbook | None) -> str:
        """The playbook's ``name``, read from the YAML when the playbook is invalid (so that
        the node id stays when it is fixed); the file's stem without one."""
        from playbook.errors import PlaybookError
        from playbook.yamlsource import load_file

        stem = self.path.name.split(".")[0] or self.path.name
        name: object = playbook.name if playbook is not None else None
        if name is None:
            with contextlib.suppress(PlaybookError):
                data = load_file(self.path).data
                name = data.get("name") if isinstance(data, dict) else None
        text = name.replace("::", ":").strip() if isinstance(name, str) else ""
        return text or stem


class PlaybookFailed(Exception):
    """A playbook ran and did not pass."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        super().__init__(explain(result))


class PlaybookItem(pytest.Item):
    def __init__(
        self, *, playbook: Playbook | None, error: PlaybookError | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.playbook = playbook
        self.error = error
        self.add_marker("playbook")
        if playbook is not None:
            self.extra_keyword_matches.update(playbook.tags)  # -k smoke
            given = self.config.stash[SESSION].settings.inputs
            missing = [
                name
                for name, spec in playbook.inputs.items()
                if isinstance(spec, Mapping)
                and spec.get("required") is True
                and spec.get("default") is None
                and name not in given
            ]
            if missing:  # a runbook for a given order, say: it cannot run without its inputs
                self.add_marker(
                    pytest.mark.skip(
                        reason=f"needs input {', '.join(missing)}: give --playbook-input "
                        f"{missing[0]}=VALUE"
                    )
                )

    def runtest(self) -> None:
        if self.error is not None:
            raise self.error
        assert self.playbook is not None
        session = self.config.stash[SESSION]
        result = session.run(self.playbook)
        if result.exit_code != 0:
            raise PlaybookFailed(result)

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        from playbook.errors import InvalidInputs, PlaybookError

        error = excinfo.value
        if isinstance(error, InvalidInputs):  # its advice names the CLI's flags
            return f"{self.path}: " + str(error).replace(
                "give it with -i ", "give it with --playbook-input "
            ).replace(" or in --inputs-file", "")
        if isinstance(error, (PlaybookFailed, PlaybookError)):
            return str(error)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"playbook: {self.name}"  # a skip report needs a line


def explain(result: RunResult) -> str:
    """What went wrong in a run, for a test report: each failed step with its error,
    workflow and UI link, the run's error if any, and the summary line."""
    from playbook.durations import format_duration

    outcome = {"error": "failed with an error", "interrupted": "was interrupted"}
    lines = [
        f"playbook '{result.playbook}' {outcome.get(result.status, result.status)} ({result.path})"
    ]
    for record in result.records:
        if record.status != "failed":
            continue
        where = ", ".join(
            p
            for p in (
                f"id {record.id}" if record.id else "",
                f"line {record.line}" if record.line else "",
            )
            if p
        )
        lines.append(
            f"step {record.path} '{record.name}'" + (f" ({where})" if where else "") + " failed"
        )
        error = record.error or {}
        message = str(error.get("message") or "no error message")
        kind = error.get("type")
        if kind and kind not in message:
            message = f"{kind}: {message}"
        first, *rest = message.splitlines() or [""]
        lines.append(f"  error: {first}")
        lines += [f"    {line}" for line in rest]
        if record.workflow_id:
            run = f" (run {record.run_id})" if record.run_id else ""
            lines.append(f"  workflow: {record.workflow_id}{run}")
        if record.ui_link:
            lines.append(f"  ui: {record.ui_link}")
    if result.error:
        first, *rest = result.error.splitlines()
        lines += [f"error: {first}", *(f"  {line}" for line in rest)]
    counts = result.counts()
    parts = [f"{counts[k]} {k}" for k in ("passed", "failed", "skipped", "canceled") if counts[k]]
    lines.append(
        f"{result.status}: {result.playbook}: {', '.join(parts) or 'no steps'} in "
        f"{format_duration(result.duration)} (exit {result.exit_code})"
    )
    return "\n".join(lines)
