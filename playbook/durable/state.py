"""Plain-data forms of what crosses a durable run's boundaries: a workflow stub's state
(between the interpreter and its call activities), the handler ledger, and the run's
result (the progress query, the workflow's return value, ``status`` and ``report``).

A :class:`StubState` is what the interpreter keeps in a scope for a ``create`` step: the
stub without its client. The call activity rebuilds a client-bound stub from it
(:func:`playbook.durable.calls.rebuilt`) and hands the state back after the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from playbook.coverage import Declared, HandlerLedger
from playbook.records import RunResult, StepRecord
from playbook.secrets import Masker


@dataclass
class StubState:
    """A workflow stub as the interpreter holds it (no client): the fields the runner reads
    of a stub, and the create step's options to rebuild it from."""

    workflow_id: str
    run_id: str | None = None
    workflow_type: str | None = None
    options: dict[str, Any] | None = None
    """The ``create`` step's rendered options (workflow id fixed, memo included); None for
    a stub of an existing execution."""
    started: bool = False
    latest_run_id: str | None = None
    reset_run_id: str | None = None

    @property
    def current_run_id(self) -> str | None:
        return self.latest_run_id or self.run_id

    @property
    def is_new(self) -> bool:
        return self.options is not None

    @property
    def task_queue(self) -> str | None:
        return None if self.options is None else self.options.get("task_queue")

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StubState:
        values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(cls)}
        return cls(**values)


def ledger_data(ledger: HandlerLedger) -> dict[str, Any]:
    return {
        "declared": {
            t: {"names": {k: sorted(v) for k, v in d.names.items()}, "dynamic": sorted(d.dynamic)}
            for t, d in ledger.declared.items()
        },
        "types": dict(ledger.types),
        "called": {
            t: {k: sorted(v) for k, v in kinds.items()} for t, kinds in ledger.called.items()
        },
    }


def load_ledger(ledger: HandlerLedger, data: Mapping[str, Any]) -> HandlerLedger:
    """``ledger`` (changed in place) holding what ``data`` says."""
    ledger.declared = {
        t: Declared(t, {k: frozenset(v) for k, v in d["names"].items()}, frozenset(d["dynamic"]))
        for t, d in data["declared"].items()
    }
    ledger.types = dict(data["types"])
    ledger.called = {
        t: {k: set(v) for k, v in kinds.items()} for t, kinds in data["called"].items()
    }
    return ledger


def result_data(result: RunResult, finished: list[int], done: bool) -> dict[str, Any]:
    """The run so far, masked: every record with all its fields, in the order they were
    made, ``finished``: record indexes in the order the steps ended, ``done``: the run ended."""
    from playbook.report.files import masked

    shown = masked(result)
    return {
        "result": {
            f.name: getattr(shown, f.name)
            for f in fields(shown)
            if f.name not in ("records", "masker", "handlers")
        },
        "records": [asdict(r) for r in shown.records],
        "handlers": shown.masker.data(ledger_data(result.handlers), numbers=False),
        "finished": list(finished),
        "done": done,
    }


def result_from(data: Mapping[str, Any]) -> RunResult:
    """The :class:`RunResult` a progress document describes (for the console and reports)."""
    result = RunResult(**data["result"], masker=Masker([]))
    result.records = [StepRecord(**r) for r in data["records"]]
    load_ledger(result.handlers, data["handlers"])
    return result


def merge_ledger(ledger: HandlerLedger, data: Mapping[str, Any]) -> None:
    """Add what a call learnt (``data``) to the run's ``ledger``: calls made side by side
    each bring back their own copy, so nothing is replaced, only added."""
    learnt = load_ledger(HandlerLedger(), data)
    for workflow_type, declared in learnt.declared.items():
        known = ledger.declared.get(workflow_type)
        ledger.declared[workflow_type] = declared if known is None else known.merged(declared)
    ledger.types.update(learnt.types)
    for workflow_type, kinds in learnt.called.items():
        for kind, names in kinds.items():
            for name in names:
                ledger.call(workflow_type, kind, name)


PACK_ABOVE = 64_000
"""Bytes of JSON above which a document travels compressed (Temporal refuses payloads over
2 MB, and a long run's records compress tenfold or more)."""


def pack(document: dict[str, Any]) -> dict[str, Any]:
    """``document``, or ``{"packed": <base64 of its zlib-compressed JSON>}`` when large."""
    import base64
    import json
    import zlib

    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) <= PACK_ABOVE:
        return document
    return {"packed": base64.b64encode(zlib.compress(text.encode(), 6)).decode()}


def unpack(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document :func:`pack` was given."""
    import base64
    import json
    import zlib

    if set(document) != {"packed"}:
        return dict(document)
    loaded: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(document["packed"])))
    return loaded
