"""Handler coverage (SPEC section 10): the signals, queries and updates each workflow type
declares, as its workers said once in this run, and the ones the run called.

:class:`HandlerLedger` is the run's memory of both (one per run, on the run's
:class:`~playbook.records.RunResult`); :class:`Declared` is one type's declared handlers.
Nothing here talks to Temporal (:mod:`playbook.core.handlers` reads the metadata), so a run
without workflow steps never imports temporalio for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("signal", "query", "update")
"""The kinds of handler, as the actions name them."""

PLURALS = {"signal": "signals", "query": "queries", "update": "updates"}
"""The kinds as the reports name them."""


def is_builtin(name: str) -> bool:
    """A name the SDK itself answers (``__stack_trace``, ``__temporal_workflow_metadata``):
    never shown in "it has:" nor counted in coverage."""
    return name.startswith("__")


@dataclass(frozen=True)
class Declared:
    """One workflow type's declared handlers: per kind the names (built-ins included) and
    whether a dynamic handler (an entry with an empty name) catches every other name."""

    workflow_type: str
    names: Mapping[str, frozenset[str]]
    dynamic: frozenset[str] = frozenset()

    @classmethod
    def of(cls, workflow_type: str, names: Mapping[str, Iterable[str]]) -> Declared:
        """From the names the metadata lists per kind ('' for a dynamic handler)."""
        listed = {kind: frozenset(names.get(kind, ())) for kind in KINDS}
        dynamic = frozenset(kind for kind in KINDS if "" in listed[kind])
        return cls(workflow_type, {k: v - {""} for k, v in listed.items()}, dynamic)

    def accepts(self, kind: str, name: str) -> bool:
        return kind in self.dynamic or name in self.names[kind]

    def shown(self, kind: str) -> list[str]:
        """The names of ``kind`` a user declared, sorted, built-ins left out."""
        return sorted(n for n in self.names[kind] if not is_builtin(n))

    def merged(self, other: Declared) -> Declared:
        """These handlers and ``other``'s (an execution that registered more at run time)."""
        names = {kind: self.names[kind] | other.names[kind] for kind in KINDS}
        return Declared(self.workflow_type, names, self.dynamic | other.dynamic)


@dataclass
class HandlerLedger:
    """What one run knows of handlers: the declared handlers per workflow type (read once
    per type), the type of each execution targeted by id alone, and the names called."""

    declared: dict[str, Declared] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    """Workflow id -> type, for stubs of existing executions (their type is learnt)."""
    called: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def learn(self, workflow_id: str, declared: Declared) -> Declared:
        """Remember ``declared`` for its type (merged with what was known); the result."""
        known = self.declared.get(declared.workflow_type)
        merged = declared if known is None else known.merged(declared)
        self.declared[declared.workflow_type] = merged
        self.types[workflow_id] = declared.workflow_type
        return merged

    def call(self, workflow_type: str | None, kind: str, name: str) -> None:
        """Count a call of handler ``name`` (of ``kind``) on a workflow of ``workflow_type``."""
        if workflow_type is None or is_builtin(name):
            return
        by_kind = self.called.get(workflow_type)
        if by_kind is None:
            by_kind = self.called[workflow_type] = {kind: set() for kind in KINDS}
        by_kind[kind].add(name)

    def coverage(self) -> dict[str, Any]:
        """The JSON report's ``coverage``: per type, per kind ``declared`` (sorted; null when
        the type's metadata could not be read), ``dynamic`` and ``called`` (sorted)."""
        out: dict[str, Any] = {}
        for workflow_type in sorted({*self.declared, *self.called}):
            declared = self.declared.get(workflow_type)
            called = self.called.get(workflow_type, {})
            out[workflow_type] = {
                PLURALS[kind]: {
                    "declared": None if declared is None else declared.shown(kind),
                    "dynamic": declared is not None and kind in declared.dynamic,
                    "called": sorted(called.get(kind, ())),
                }
                for kind in KINDS
            }
        return out


def summary_lines(coverage: Mapping[str, Any]) -> list[str]:
    """One console line per workflow type, from a report's ``coverage``:
    ``Order: signals 2/3, queries 1/1, updates 0/1 (not called: pay)``."""
    return [f"{workflow_type}: {_line(kinds)}" for workflow_type, kinds in coverage.items()]


def _line(kinds: Mapping[str, Any]) -> str:
    if all(kinds[PLURALS[k]]["declared"] is None for k in KINDS):
        named = [
            f"{PLURALS[k]} {', '.join(kinds[PLURALS[k]]['called'])}"
            for k in KINDS
            if kinds[PLURALS[k]]["called"]
        ]
        return "declared handlers not read (called: " + "; ".join(named) + ")"
    parts: list[str] = []
    missed: list[str] = []
    for kind in KINDS:
        entry = kinds[PLURALS[kind]]
        declared: list[str] = entry["declared"] or []
        called = set(entry["called"])
        part = f"{PLURALS[kind]} {len(called.intersection(declared))}/{len(declared)}"
        others = len(called.difference(declared))
        if entry["dynamic"]:
            part += f" + {others} dynamic" if others else " + dynamic"
        parts.append(part)
        missed += [name for name in declared if name not in called]
    tail = f" (not called: {', '.join(missed)})" if missed else ""
    return ", ".join(parts) + tail
