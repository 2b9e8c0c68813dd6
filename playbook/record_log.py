"""The on-disk record log: a run's step records in an unnamed temporary file, one JSON line
each, so that a run of 100,000 steps does not keep 100,000 records in memory.

:class:`RecordLog` is a sequence of :class:`~playbook.records.StepRecord` in the order the
runner made them (what ``RunResult.records`` is for ``playbook run``; a plain list
elsewhere). A record is *appended* when its step begins and stays in memory, the object
itself, until it is *finished* (:meth:`RecordLog.finish`, called when the reporter is told
``step_finished``, see :class:`Journaled`); then its line is written and the object is no
longer held. Reading a record back (indexing, iterating) gives a new object with the
values as JSON has them (tuples are lists, what JSON cannot hold is its ``str``, as the
reports write it); assigning ``log[i] = record`` writes a record again (``history`` is
set after the run). A record that cannot be written as JSON stays in memory, so the
reports fail on it as they would have.

Each line holds the record as the JSON report writes it (already masked with the run's
secrets known at the time), a tab, then the fields the report leaves out: the JSON report
copies the first part as it is when no secret is known (:meth:`RecordLog.reported_lines`).
The file is removed as soon as it is made (``tempfile.TemporaryFile``): nothing stays
behind, whatever stops the process.
"""

from __future__ import annotations

import json
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator, MutableSequence
from dataclasses import fields
from typing import IO, TYPE_CHECKING, Any, overload

from playbook import numbers
from playbook.records import _REPORTED, RunResult, StepRecord

if TYPE_CHECKING:
    from playbook.report import Reporter
    from playbook.runner import Runner
    from playbook.secrets import Masker

_PENDING = -1
_EXTRA = tuple(f.name for f in fields(StepRecord) if f.name not in _REPORTED)
"""The record's fields that the JSON report leaves out (kept after the tab)."""
_USER_DATA = ("request", "result", "error")
"""A record's fields that hold the user's values: numbers are masked only in them."""


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)
"""``json.dumps(value, ensure_ascii=False, default=str, allow_nan=False)``, without making
an encoder per call (a third of the time of writing a record)."""


def encode(value: Any) -> str:
    """Compact JSON as the reports write it (an integer too long for Python to write out is
    shown as such, and infinity and NaN by their names: :func:`playbook.numbers.printable`)."""
    try:
        return _ENCODER.encode(value)
    except ValueError:
        return _ENCODER.encode(numbers.printable(value))


def masked_record(record: StepRecord, masker: Masker | None) -> StepRecord:
    """A copy of ``record`` with every secret masked in every field (numbers only in the
    user's values: a number secret must not mask a line number or a duration)."""
    if not masker:
        return record
    values = {
        f.name: masker.data(getattr(record, f.name), numbers=f.name in _USER_DATA)
        for f in fields(record)
    }
    return StepRecord(**values)


class RecordLog(MutableSequence[StepRecord]):
    """One run's step records, on disk once finished (see the module)."""

    def __init__(self, masker: Masker | None = None, directory: str | None = None) -> None:
        self.masker = masker
        """The run's secrets: a line is masked with those known when it is written."""
        # kept open for the run (close() ends it; unnamed, so nothing outlives the process)
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115
        self._size = 0
        self._offsets = array("q")
        self._lengths = array("q")
        self._statuses: list[str] = []
        self._pending: dict[int, StepRecord] = {}
        self._index: dict[int, int] = {}  # id(pending record) -> its index

    # -- writing ---------------------------------------------------------------------------

    def append(self, value: StepRecord) -> None:
        index = len(self._offsets)
        self._offsets.append(_PENDING)
        self._lengths.append(0)
        self._statuses.append(value.status)
        self._pending[index] = value
        self._index[id(value)] = index

    def finish(self, record: StepRecord) -> None:
        """Write a finished record and stop holding it (a record not in this log, or one
        written already, is left alone)."""
        index = self._index.get(id(record))
        if index is not None and self._pending.get(index) is record:
            self._write(index, record)

    def _write(self, index: int, record: StepRecord) -> None:
        try:
            line = _line(masked_record(record, self.masker))
        except Exception:  # not JSON: kept in memory, the reports meet it as they would have
            self._pending[index] = record
            self._index[id(record)] = index
            return
        self._file.write(line)
        self._offsets[index], self._lengths[index] = self._size, len(line)
        self._size += len(line)
        self._statuses[index] = record.status
        if self._pending.pop(index, None) is not None:
            self._index.pop(id(record), None)

    @overload
    def __setitem__(self, index: int, value: StepRecord) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[StepRecord]) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            raise TypeError("a record log is written a record at a time")
        index = self._position(index)
        old = self._pending.pop(index, None)
        if old is not None:
            self._index.pop(id(old), None)
        self._write(index, value)

    def __delitem__(self, index: int | slice) -> None:
        raise TypeError("a record log keeps every record")

    def insert(self, index: int, value: StepRecord) -> None:
        if index < len(self):
            raise TypeError("a record log only grows at its end")
        self.append(value)

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> StepRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[StepRecord]: ...
    def __getitem__(self, index: int | slice) -> StepRecord | list[StepRecord]:
        if isinstance(index, slice):
            return [self._read(i) for i in range(*index.indices(len(self)))]
        return self._read(self._position(index))

    def __iter__(self) -> Iterator[StepRecord]:
        for index in range(len(self)):
            yield self._read(index)

    def statuses(self) -> list[str]:
        """Every record's status, without reading the file."""
        return [
            self._pending[i].status if i in self._pending else status
            for i, status in enumerate(self._statuses)
        ]

    def reported_lines(self) -> Iterator[str | StepRecord]:
        """Each record as the JSON report's compact text (masked with the secrets known when
        it was written), or the record itself where it is still held in memory."""
        for index in range(len(self)):
            if index in self._pending:
                yield self._pending[index]
            else:
                yield self._raw(index).split(b"\t", 1)[0].decode("utf-8", "surrogatepass")

    def close(self) -> None:
        """Remove the file: the records finished are gone with it."""
        self._file.close()

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:  # (a log nobody closed: its file goes with it, quietly)
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()

    def _position(self, index: int) -> int:
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("record log index out of range")
        return position

    def _raw(self, index: int) -> bytes:
        self._file.flush()
        return os.pread(self._file.fileno(), self._lengths[index], self._offsets[index])

    def _read(self, index: int) -> StepRecord:
        pending = self._pending.get(index)
        if pending is not None:
            return pending
        reported, extra = self._raw(index).decode("utf-8", "surrogatepass").split("\t", 1)
        values = {**json.loads(reported), **json.loads(extra)}
        return StepRecord(**values)


def _line(record: StepRecord) -> bytes:
    reported = encode(record.to_dict())
    # the duration unrounded too (the JSON report rounds it; JUnit rounds it otherwise)
    extra = encode(
        {"duration": record.duration, **{name: getattr(record, name) for name in _EXTRA}}
    )
    # (compact JSON escapes a tab inside a string: the first raw tab ends the first part)
    return f"{reported}\t{extra}\n".encode("utf-8", "surrogatepass")


class Journaled:
    """A reporter that also writes each finished record to the run's log (after the reporter
    it wraps has shown it). Every attribute else is the wrapped reporter's."""

    def __init__(self, reporter: Reporter, log: RecordLog) -> None:
        self.reporter = reporter
        self.records = log

    def run_started(self, playbook: Any, result: RunResult) -> None:
        self.reporter.run_started(playbook, result)

    def step_started(self, record: StepRecord) -> None:
        self.reporter.step_started(record)

    def step_finished(self, record: StepRecord) -> None:
        self.reporter.step_finished(record)
        self.records.finish(record)

    def log(self, record: StepRecord, text: str) -> None:
        self.reporter.log(record, text)

    def run_finished(self, result: RunResult) -> None:
        self.reporter.run_finished(result)

    def __getattr__(self, name: str) -> Any:  # (before_prompt, and what reporters add)
        if name == "reporter":  # (not set yet: a copy being made)
            raise AttributeError(name)
        return getattr(self.reporter, name)


def journaled(runner: Runner) -> Runner:
    """``runner`` with its step records going to an on-disk log as they finish, and its
    reports reading them back from it: a 100,000-step run in bounded memory."""
    shared = runner.shared
    log = RecordLog(shared.masker)
    shared.result.records = log
    shared.reporter = Journaled(shared.reporter, log)
    return runner
