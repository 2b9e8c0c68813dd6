"""The step model: a loaded playbook as frozen values, built once by the loader.

Validation reads the YAML as it was written (it has to: it reports what is wrong with
it); everything after the loader (plan, the runner, the reports, the pytest plugin)
reads only these values. A :class:`Step` knows its kind (the action key), id, display
name, source line and YAML path, the action's fields as written (templates are rendered
by the runner, per attempt), the common keys, and its nested steps; an ``include`` step
also carries the playbook it includes, when its path is literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from playbook.actions import TEMPORAL_ACTIONS
from playbook.validation import ACTIONS, COMMON_KEYS
from playbook.yamlsource import Source, YamlPath

NESTING = ("parallel", "foreach")
"""Kinds whose fields hold a ``steps`` list of nested steps."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a playbook, as the loader read it."""

    kind: str
    """The action key: ``start``, ``log``, ``foreach``..."""
    fields: Any
    """The action's value as written: a mapping for most actions, a string or list for
    ``assert``, ``log``, ``sleep``... Read-only by convention; the runner renders it."""
    path: YamlPath
    """Where it stands in its file: ``("steps", 2, "foreach", "steps", 0)``."""
    line: int
    name: str
    """The display name: the ``name`` key, else ``<kind> <workflow>``, ``<kind> <id>``
    or the kind."""
    id: str | None = None
    named: bool = False
    """Whether ``name`` was given (rather than derived)."""
    when: str | None = None
    timeout: Any = None
    retry: Any = None
    expect: Any = None
    continue_on_error: Any = False
    tags: tuple[str, ...] = ()
    common: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The common keys given, as written, in the schema's order (for ``plan``)."""
    steps: tuple[Step, ...] = ()
    """Nested steps of ``parallel`` and ``foreach``."""
    included: Playbook | None = field(default=None, repr=False)
    """The playbook an ``include`` with a literal path names."""

    @property
    def target(self) -> str | None:
        """The workflow (a ``create`` step's id) that the step acts on, if any."""
        if isinstance(self.fields, Mapping):
            name = self.fields.get("workflow")
            return name if isinstance(name, str) else None
        return None

    def walk(self) -> tuple[Step, ...]:
        """This step and every step nested in it, depth first."""
        return (self, *(s for child in self.steps for s in child.walk()))


@dataclass(frozen=True)
class Playbook:
    """A loaded, valid playbook."""

    path: str
    name: str
    source: Source = field(repr=False)
    description: str = ""
    tags: tuple[str, ...] = ()
    connection: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Input specifications by name."""
    vars: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    finally_steps: tuple[Step, ...] = ()
    includes: Mapping[str, Playbook] = field(default_factory=dict, repr=False)
    """Included playbooks, by the ``include.playbook`` value as written in this file."""
    uses_temporal: bool = False
    """Whether running it talks to Temporal (an ``include`` is assumed to)."""
    input_values: Mapping[str, Any] | None = None
    """The checked inputs, when :func:`playbook.loader.load` was given some."""
    preflight: bool = True
    cleanup: str = "none"
    verify: Mapping[str, Any] = field(default_factory=dict)
    """Run-level hygiene (SPEC section 10): ``preflight``, ``cleanup``, ``verify``."""

    def line_of(self, path: YamlPath) -> int:
        """The line of a node, e.g. ``("steps", 3)``; of its deepest existing parent otherwise."""
        return self.source.locate(path)[0]

    def included(self, relative: str) -> Playbook:
        """The playbook that an ``include`` step of this file names."""
        return self.includes[relative]

    def all_steps(self) -> tuple[Step, ...]:
        """Every step of the file (nested ones too, not those of included files)."""
        return tuple(s for top in (*self.steps, *self.finally_steps) for s in top.walk())

    def every_step(self) -> tuple[Step, ...]:
        """Every step of the file and of the files it includes (each file once)."""
        found: list[Step] = []
        seen: set[int] = set()
        pending = [self]
        while pending:
            current = pending.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            for step in current.all_steps():
                found.append(step)
                if step.included is not None:
                    pending.append(step.included)
        return tuple(found)

    def with_inputs(self, values: Mapping[str, Any]) -> Playbook:
        return replace(self, input_values=dict(values))


def build(path: str, source: Source, includes: Mapping[str, Playbook]) -> Playbook:
    """The model of a valid playbook file whose includes are already built."""
    data: Mapping[str, Any] = source.data if isinstance(source.data, Mapping) else {}
    steps = _steps(source, data.get("steps"), ("steps",), includes)
    cleanup = _steps(source, data.get("finally"), ("finally",), includes)
    name = data.get("name")
    return Playbook(
        path=path,
        name=str(name) if name is not None else Path(path).stem,
        source=source,
        description=str(data.get("description", "")),
        tags=tuple(str(t) for t in data.get("tags") or ()),
        connection=dict(data.get("connection") or {}),
        inputs=dict(data.get("inputs") or {}),
        vars=dict(data.get("vars") or {}),
        steps=steps,
        finally_steps=cleanup,
        includes=dict(includes),
        uses_temporal=any(_talks_to_temporal(s) for top in (*steps, *cleanup) for s in top.walk()),
        preflight=bool(data.get("preflight", True)),
        cleanup=str(data.get("cleanup", "none")),
        verify=dict(data.get("verify") or {}),
    )


def _talks_to_temporal(step: Step) -> bool:
    return step.kind in TEMPORAL_ACTIONS or step.kind == "include"


def _steps(
    source: Source, raw: Any, path: YamlPath, includes: Mapping[str, Playbook]
) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(_step(source, item, (*path, i), includes) for i, item in enumerate(raw))


def _step(
    source: Source, raw: Mapping[str, Any], path: YamlPath, includes: Mapping[str, Playbook]
) -> Step:
    kind = next(key for key in raw if key in ACTIONS)
    fields = raw[kind]
    nested: tuple[Step, ...] = ()
    included = None
    if kind in NESTING and isinstance(fields, Mapping):
        nested = _steps(source, fields.get("steps"), (*path, kind, "steps"), includes)
    elif kind == "include" and isinstance(fields, Mapping):
        included = includes.get(str(fields.get("playbook")))
    step_id = raw.get("id")
    given = raw.get("name")
    target = fields.get("workflow") if isinstance(fields, Mapping) else None
    if given:
        name = str(given)
    elif isinstance(target, str):
        name = f"{kind} {target}"
    else:
        name = f"{kind} {step_id}" if step_id else kind
    return Step(
        kind=kind,
        fields=fields,
        path=path,
        line=source.locate(path)[0],
        name=name,
        id=str(step_id) if step_id is not None else None,
        named="name" in raw,
        when=raw.get("when"),
        timeout=raw.get("timeout"),
        retry=raw.get("retry"),
        expect=raw.get("expect"),
        continue_on_error=raw.get("continue_on_error", False),
        tags=tuple(str(t) for t in raw.get("tags") or ()),
        common={k: raw[k] for k in COMMON_KEYS if k in raw and k not in ("id", "name")},
        steps=nested,
        included=included,
    )
