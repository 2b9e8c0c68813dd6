"""File -> :class:`Playbook`: read the YAML, validate it and every file it includes, and
optionally check inputs. Every problem of every file is raised at once.

The included files are checked here (not in :mod:`playbook.validation`, which sees one
file): each ``include`` path must exist relative to the including file and be a valid
playbook itself, its required inputs must be given by the step's ``inputs`` and no
unknown input may be given. Includes are followed recursively; a file is checked once
however often it is included, and a cycle of includes is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playbook import validation
from playbook.errors import InvalidInputs, InvalidPlaybook, Problem
from playbook.inputs import resolve_inputs, type_problem
from playbook.options import did_you_mean, is_template
from playbook.yamlsource import Source, YamlPath, format_path, load_file


@dataclass
class Playbook:
    """A loaded, valid playbook: its file, parsed source and data."""

    path: str
    source: Source
    data: dict[str, Any]
    includes: dict[str, Playbook] = field(default_factory=dict, repr=False)
    """Included playbooks, by the ``include.playbook`` value as written in this file."""
    input_values: dict[str, Any] | None = None
    """The checked inputs, when :func:`load` was given some."""

    @property
    def name(self) -> str:
        name = self.data.get("name")  # the runner reads this per step: no Path() unless needed
        return str(name) if name is not None else Path(self.path).stem

    @property
    def description(self) -> str:
        return str(self.data.get("description", ""))

    @property
    def tags(self) -> list[str]:
        return list(self.data.get("tags") or [])

    @property
    def connection(self) -> dict[str, Any]:
        return dict(self.data.get("connection") or {})

    @property
    def inputs(self) -> dict[str, Any]:
        """Input specifications by name."""
        return dict(self.data.get("inputs") or {})

    @property
    def vars(self) -> dict[str, Any]:
        return dict(self.data.get("vars") or {})

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.data.get("steps") or [])

    @property
    def finally_steps(self) -> list[dict[str, Any]]:
        return list(self.data.get("finally") or [])

    def line_of(self, path: tuple[str | int, ...]) -> int:
        """The line of a node, e.g. ``("steps", 3)``; of its deepest existing parent otherwise."""
        return self.source.locate(path)[0]

    def included(self, relative: str) -> Playbook:
        """The playbook that an ``include`` step of this file names."""
        return self.includes[relative]


class _Loader:
    """Loads files once each, following includes; collects every problem."""

    def __init__(self) -> None:
        self.loaded: dict[Path, Playbook | None] = {}  # None: the file has problems
        self.problems: list[Problem] = []
        self.stack: list[Path] = []

    def load(self, path: str | Path) -> Playbook | None:
        key = Path(path).resolve()
        if key in self.loaded:
            return self.loaded[key]
        self.loaded[key] = None
        try:
            source = load_file(path)
        except InvalidPlaybook as error:
            self.problems.extend(error.problems)
            return None
        problems = validation.validate(source)
        self.problems.extend(problems)
        playbook = Playbook(str(path), source, source.data if isinstance(source.data, dict) else {})
        self.stack.append(key)
        try:
            ok = self.follow_includes(playbook) and not problems
        finally:
            self.stack.pop()
        if ok:
            self.loaded[key] = playbook
        return playbook if ok else None

    def problem(self, playbook: Playbook, path: YamlPath, message: str) -> None:
        line, column = playbook.source.positions.get(path) or playbook.source.locate(path)
        self.problems.append(
            Problem(
                playbook.path,
                line,
                column,
                format_path(path),
                message,
                playbook.source.excerpt(line, column),
            )
        )

    def follow_includes(self, playbook: Playbook) -> bool:
        ok = True
        for path, step in validation.all_steps(playbook.data):
            body = step.get("include")
            if validation.action_of(step) != "include" or not isinstance(body, dict):
                continue
            relative = body.get("playbook")
            if not isinstance(relative, str) or is_template(relative):
                continue  # the schema pass has reported it
            where = (*path, "include", "playbook")
            target = Path(playbook.path).parent / relative
            if not target.is_file():
                self.problem(
                    playbook,
                    where,
                    f"the included playbook {relative!r} does not exist "
                    f"(looked for {target}); give a path relative to this file",
                )
                ok = False
                continue
            if target.resolve() in self.stack:
                chain = " -> ".join(p.name for p in [*self.stack, target.resolve()])
                self.problem(
                    playbook,
                    where,
                    f"include cycle: {chain}; a playbook cannot include "
                    "itself, directly or through others",
                )
                ok = False
                continue
            child = self.load(target)
            if child is None:  # its problems are reported under its own file name
                ok = False
                continue
            playbook.includes[relative] = child
            ok &= self.check_include_inputs(playbook, path, body, child)
        return ok

    def check_include_inputs(
        self, playbook: Playbook, path: YamlPath, body: Mapping[str, Any], child: Playbook
    ) -> bool:
        given = body.get("inputs") or {}
        if not isinstance(given, dict):
            return True
        specs = child.inputs
        ok = True
        for name, value in given.items():
            where = (*path, "include", "inputs", name)
            spec = specs.get(name)
            if not isinstance(spec, dict):
                hint = did_you_mean(name, list(specs)) or (
                    f"; it declares: {', '.join(specs)}" if specs else "; it declares no inputs"
                )
                self.problem(playbook, where, f"{child.path} has no input {name!r}{hint}")
                ok = False
            elif not is_template(value):
                problem = type_problem(
                    str(spec.get("type", "string")), value, secret=spec.get("secret") is True
                )
                if problem:
                    self.problem(
                        playbook,
                        where,
                        f"input {name!r} of {child.path}: {problem}; give a value of its type",
                    )
                    ok = False
        for name, spec in specs.items():
            if (
                isinstance(spec, dict)
                and spec.get("required") is True
                and spec.get("default") is None
                and name not in given
            ):
                about = (
                    f" ({spec['description']})" if isinstance(spec.get("description"), str) else ""
                )
                self.problem(
                    playbook,
                    (*path, "include"),
                    f"the included playbook {child.path} requires the input {name!r}"
                    f"{about}; give it under inputs: {name}: ...",
                )
                ok = False
        return ok


def _check_inputs(
    playbooks: Sequence[Playbook], inputs: Mapping[str, Any], from_cli: bool, allow_missing: bool
) -> None:
    problems: list[str] = []
    for playbook in playbooks:
        try:
            playbook.input_values = resolve_inputs(
                playbook.inputs, inputs, from_cli=from_cli, allow_missing=allow_missing
            )
        except InvalidInputs as error:
            prefix = f"{playbook.path}: " if len(playbooks) > 1 else ""
            problems.extend(prefix + p for p in error.problems)
    if problems:
        raise InvalidInputs(problems)


def load(
    path: str | Path,
    *,
    inputs: Mapping[str, Any] | None = None,
    inputs_from_cli: bool = False,
    allow_missing_inputs: bool = False,
) -> Playbook:
    """Read and check a playbook and everything it includes.

    Raises ``InvalidPlaybook`` with every problem of every file; then, when ``inputs`` is
    given, ``InvalidInputs`` with every input problem (values in ``playbook.input_values``).
    """
    return load_many(
        [path],
        inputs=inputs,
        inputs_from_cli=inputs_from_cli,
        allow_missing_inputs=allow_missing_inputs,
    )[0]


def load_many(
    paths: Sequence[str | Path],
    *,
    inputs: Mapping[str, Any] | None = None,
    inputs_from_cli: bool = False,
    allow_missing_inputs: bool = False,
) -> list[Playbook]:
    """Load several playbooks; one ``InvalidPlaybook`` at the end with every problem."""
    loader = _Loader()
    playbooks = [loader.load(path) for path in paths]
    if loader.problems or any(p is None for p in playbooks):
        unique = {(p.file, p.line, p.column, p.path, p.message): p for p in loader.problems}
        raise InvalidPlaybook(list(unique.values()))
    ready = [p for p in playbooks if p is not None]
    if inputs is not None:
        _check_inputs(ready, inputs, inputs_from_cli, allow_missing_inputs)
    return ready
