"""File -> :class:`~playbook.model.Playbook`: read the YAML, validate it and every file it
includes, build the frozen model once, and optionally check inputs. Every problem of
every file is raised at once.

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

from playbook import model, validation
from playbook.errors import InvalidInputs, InvalidPlaybook, Problem
from playbook.inputs import resolve_inputs, type_problem
from playbook.model import Playbook
from playbook.options import did_you_mean, is_template
from playbook.yamlsource import Source, YamlPath, format_path, load_file

__all__ = ["Playbook", "load", "load_many"]


@dataclass
class _File:
    """A file being loaded: its source and, once followed, the files it includes."""

    path: str
    source: Source
    data: dict[str, Any]
    includes: dict[str, _File] = field(default_factory=dict)
    """Included files, by the ``include.playbook`` value as written in this file."""

    @property
    def inputs(self) -> dict[str, Any]:
        return dict(self.data.get("inputs") or {})


def _resolved(path: Path) -> Path | None:
    """The absolute path with links followed; None for a link loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # "Symlink loop from ..."
        return None


def _build(file: _File, built: dict[int, Playbook]) -> Playbook:
    """The model of a valid file, its includes first (a file included twice is built once;
    cycles were refused)."""
    key = id(file)
    if key not in built:
        includes = {relative: _build(child, built) for relative, child in file.includes.items()}
        built[key] = model.build(file.path, file.source, includes)
    return built[key]


class _Loader:
    """Loads files once each, following includes; collects every problem."""

    def __init__(self, include_root: str | Path | None = None) -> None:
        self.loaded: dict[Path, _File | None] = {}  # None: the file has problems
        self.problems: list[Problem] = []
        self.stack: list[Path] = []
        self.include_root = Path(include_root).resolve() if include_root is not None else None
        self.root = Path.cwd()
        """The folder includes must stay in: --include-root, or the top-level file's."""

    def load_top(self, path: str | Path) -> _File | None:
        """Load a file given on the command line: its folder bounds what it may include."""
        self.root = self.include_root or (_resolved(Path(path)) or Path(path).absolute()).parent
        return self.load(path)

    def load(self, path: str | Path) -> _File | None:
        key = _resolved(Path(path)) or Path(path).absolute()
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
        playbook = _File(str(path), source, source.data if isinstance(source.data, dict) else {})
        self.stack.append(key)
        try:
            ok = self.follow_includes(playbook) and not problems
        finally:
            self.stack.pop()
        if ok:
            self.loaded[key] = playbook
        return playbook if ok else None

    def problem(self, playbook: _File, path: YamlPath, message: str) -> None:
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

    def follow_includes(self, playbook: _File) -> bool:
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
            resolved = _resolved(target)
            if resolved is None:
                self.problem(
                    playbook,
                    where,
                    f"the included playbook {relative!r} is a symbolic "
                    "link loop; give the path of a file",
                )
                ok = False
                continue
            if not resolved.is_relative_to(self.root):
                # refused unread: not even whether it exists is told
                self.problem(
                    playbook,
                    where,
                    f"the included playbook {relative!r} is outside {self.root}; includes "
                    "stay inside the playbook's folder (widen it with --include-root DIR)",
                )
                ok = False
                continue
            if not target.is_file():
                self.problem(
                    playbook,
                    where,
                    f"the included playbook {relative!r} does not exist "
                    f"(looked for {target}); give a path relative to this file",
                )
                ok = False
                continue
            if resolved in self.stack:
                chain = " -> ".join(p.name for p in [*self.stack, resolved])
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
        self, playbook: _File, path: YamlPath, body: Mapping[str, Any], child: _File
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
) -> list[Playbook]:
    problems: list[str] = []
    checked: list[Playbook] = []
    for playbook in playbooks:
        try:
            values = resolve_inputs(
                dict(playbook.inputs), inputs, from_cli=from_cli, allow_missing=allow_missing
            )
            checked.append(playbook.with_inputs(values))
        except InvalidInputs as error:
            prefix = f"{playbook.path}: " if len(playbooks) > 1 else ""
            problems.extend(prefix + p for p in error.problems)
    if problems:
        raise InvalidInputs(problems)
    return checked


def load(
    path: str | Path,
    *,
    inputs: Mapping[str, Any] | None = None,
    inputs_from_cli: bool = False,
    allow_missing_inputs: bool = False,
    include_root: str | Path | None = None,
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
        include_root=include_root,
    )[0]


def load_many(
    paths: Sequence[str | Path],
    *,
    inputs: Mapping[str, Any] | None = None,
    inputs_from_cli: bool = False,
    allow_missing_inputs: bool = False,
    include_root: str | Path | None = None,
) -> list[Playbook]:
    """Load several playbooks; one ``InvalidPlaybook`` at the end with every problem.

    An ``include`` must stay inside ``include_root``, by default the folder of the file
    given here (symbolic links are followed before the check)."""
    loader = _Loader(include_root)
    playbooks = [loader.load_top(path) for path in paths]
    if loader.problems or any(p is None for p in playbooks):
        unique = {(p.file, p.line, p.column, p.path, p.message): p for p in loader.problems}
        raise InvalidPlaybook(list(unique.values()))
    built: dict[int, Playbook] = {}
    ready = [_build(p, built) for p in playbooks if p is not None]
    if inputs is not None:
        return _check_inputs(ready, inputs, inputs_from_cli, allow_missing_inputs)
    return ready
