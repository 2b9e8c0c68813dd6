"""A playbook's inputs: values from ``-i NAME=VALUE`` and ``--inputs-file``, checked
against the declared ``inputs`` and completed with defaults.

Every problem (missing, unknown, ill-typed) is collected and raised at once as one
:class:`~playbook.errors.InvalidInputs`, each line naming the input and its description.
Values of secret inputs never appear in a message, nor does the value of a malformed
``-i`` pair.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from playbook.errors import InvalidInputs, InvalidPlaybook, UsageError
from playbook.options import did_you_mean, is_template
from playbook.secrets import Masker

TYPES = ("string", "integer", "number", "boolean", "object", "array")
_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "a mapping",
    "array": "a list",
}
_EXAMPLES = {
    "integer": "a whole number such as 5",
    "number": "a number such as 2.5",
    "boolean": "true, false, yes, no, 1 or 0",
    "object": 'a JSON or YAML mapping such as {"sku": "ABC"}',
    "array": 'a JSON or YAML list such as ["a", "b"]',
    "string": "any text",
}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _show(value: Any) -> str:
    text = (
        repr(value)
        if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False, default=str)
    )
    return text if len(text) <= 60 else text[:57] + "..."


def has_type(kind: str, value: Any) -> bool:
    """Whether a JSON value has an input type."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and (isinstance(value, int) or math.isfinite(value))
        )
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return False


def type_problem(kind: str, value: Any, *, secret: bool = False) -> str | None:
    """``"'abc' is not an integer"`` for a value that does not have the type, else None."""
    if kind not in TYPES or has_type(kind, value):
        return None
    return f"{'***' if secret else _show(value)} is not {_WORDS[kind]}"


def _flag(value: Any) -> bool:
    """``required`` and ``secret`` as booleans; a template counts as true (the safe side)."""
    return value is True or is_template(value)


def secret_names(specs: Mapping[str, Any]) -> set[str]:
    """Names of the inputs marked ``secret``."""
    return {
        name
        for name, spec in specs.items()
        if isinstance(spec, Mapping) and _flag(spec.get("secret"))
    }


def parse_value(kind: str, text: str) -> Any:
    """A command-line string as a value of the input's type; raises ``ValueError``."""
    stripped = text.strip()
    if kind == "string":
        return text
    if kind == "integer" and _INTEGER.fullmatch(stripped):
        return int(stripped)
    if kind == "number" and _NUMBER.fullmatch(stripped):
        return int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped)
    if kind == "boolean" and stripped.lower() in _TRUE | _FALSE:
        return stripped.lower() in _TRUE
    if kind in ("object", "array"):
        value = _parse_structure(stripped)
        if has_type(kind, value):
            return value
    raise ValueError(kind)


def _parse_structure(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    from playbook.yamlsource import load_text

    try:  # YAML flow style ({sku: ABC}, [a, b]), read with the playbook's own YAML rules
        return load_text("value: " + text.replace("\n", "\n  "), "<input>").data["value"]
    except InvalidPlaybook:
        return None


def _label(name: str, spec: Mapping[str, Any]) -> str:
    description = spec.get("description")
    return f"input {name!r}" + (f" ({description})" if isinstance(description, str) else "")


def resolve_inputs(
    specs: Mapping[str, Any] | None,
    given: Mapping[str, Any],
    *,
    from_cli: bool,
    allow_missing: bool = False,
) -> dict[str, Any]:
    """The inputs' values: given ones checked (strings parsed when ``from_cli``), defaults
    applied, absent optional inputs null. Raises ``InvalidInputs`` with every problem.

    ``allow_missing`` lets required inputs be absent (``validate`` and ``plan``); they are
    left out of the result.
    """
    specs = specs or {}
    problems: list[str] = []
    values: dict[str, Any] = {}
    declared = list(specs)
    for name, value in given.items():
        spec = specs.get(name)
        if not isinstance(spec, Mapping):
            hint = did_you_mean(name, declared)
            known = (
                f"; declared inputs: {', '.join(declared)}"
                if declared
                else "; the playbook declares no inputs"
            )
            problems.append(f"unknown input {name!r}{hint or known}")
            continue
        kind = spec.get("type", "string")
        secret = _flag(spec.get("secret"))
        if from_cli and isinstance(value, str) and kind != "string":
            try:
                value = parse_value(kind, value)
            except ValueError:
                shown = "***" if secret else _show(value)
                problems.append(
                    f"{_label(name, spec)}: {shown} is not {_WORDS.get(kind, kind)}; "
                    f"give {_EXAMPLES.get(kind, 'a valid value')}"
                )
                continue
        problem = type_problem(kind, value, secret=secret)
        if problem:
            problems.append(f"{_label(name, spec)}: {problem}; give {_EXAMPLES[kind]}")
            continue
        values[name] = value
    for name, spec in specs.items():
        if name in given or not isinstance(spec, Mapping):
            continue
        if spec.get("default") is not None:
            values[name] = copy.deepcopy(spec["default"])
        elif _flag(spec.get("required")):
            if not allow_missing:
                problems.append(
                    f"{_label(name, spec)}: missing required input; give it with -i {name}=VALUE "
                    "or in --inputs-file"
                )
        else:
            values[name] = None
    if problems:
        raise InvalidInputs(problems)
    return values


def resolve_each(
    declared: Sequence[tuple[str, Mapping[str, Any]]],
    given: Mapping[str, Any],
    *,
    from_cli: bool,
    shared: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The inputs of each playbook of a run, given as ``(path, input specs)`` pairs.

    ``given`` are the run's values (strings parsed when ``from_cli``). With one playbook
    they are all its own; with several, each takes those it declares and an input is
    unknown only when none declares it, every problem naming its file. ``shared`` values
    (strings, as a pytest session's ``--playbook-input``) go, under ``given``, to the
    playbooks that declare them and are never unknown.
    """
    several = len(declared) > 1
    names = sorted({name for _, specs in declared for name in specs})
    problems: list[str] = []
    if several:
        problems = [
            f"unknown input '{name}'{did_you_mean(name, names)}; declared inputs: "
            f"{', '.join(names) or 'none'}"
            for name in given
            if name not in names
        ]
    resolved: list[dict[str, Any]] = []
    for path, specs in declared:
        mine = {k: v for k, v in given.items() if k in specs or not several}
        extra = {k: v for k, v in (shared or {}).items() if k in specs and k not in mine}
        try:
            typed = resolve_inputs({k: specs[k] for k in extra}, extra, from_cli=True)
            resolved.append(resolve_inputs(specs, {**typed, **mine}, from_cli=from_cli))
        except InvalidInputs as e:
            problems.extend(f"{path}: {p}" if several else p for p in e.problems)
    if problems:
        raise InvalidInputs(list(dict.fromkeys(problems)))
    return resolved


def parse_cli_inputs(pairs: Sequence[str]) -> dict[str, str]:
    """``-i NAME=VALUE`` pairs as a mapping (a later pair for the same name wins)."""
    values: dict[str, str] = {}
    bad: list[str] = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            bad.append(pair)
            continue
        values[name] = value
    if bad:
        # the value of a malformed pair may be a secret (-i tok-en=VALUE): never echoed
        values_given = Masker(pair.partition("=")[2] for pair in bad)
        shown = ", ".join(values_given.text(repr(b)) for b in bad)
        raise UsageError(
            f"-i/--input takes NAME=VALUE, got {shown}; write it as -i name=value "
            "(the name is letters, digits and _)"
        )
    return values


def load_inputs_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Input values from a YAML or JSON file holding one mapping (dates stay strings)."""
    from playbook.yamlsource import load_file

    try:
        data = load_file(path).data
    except InvalidPlaybook as error:
        lines = []
        for problem in error.problems:
            message = problem.message
            if message.startswith(("a playbook must be a mapping", "the file is empty")):
                message = "an inputs file must hold a mapping of input names to values"
            lines.append(f"{problem.file}:{problem.line}:{problem.column}: {message}")
        raise InvalidInputs(lines) from None
    if not isinstance(data, dict):  # pragma: no cover - yamlsource refuses non-mappings
        raise InvalidInputs(
            [f"{os.fspath(path)}: an inputs file must hold a mapping of input names to values"]
        )
    return data
