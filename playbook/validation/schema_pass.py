"""The schema pass: JSON Schema errors turned into one readable message each, located at
the offending value (or key), with the validator's internals hidden."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from playbook import options
from playbook.durations import HELP as DURATION_HELP
from playbook.errors import Problem
from playbook.schema import schema
from playbook.templating import is_template
from playbook.validation.common import (
    _DEFS,
    _STEP_PROPERTIES,
    ACTIONS,
    COMMON_KEYS,
    CONTEXT_NAMES,
    NESTING_ACTIONS,
    duration_problem,
)
from playbook.yamlsource import Source, YamlPath, format_path


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(_clip(value))
    try:
        return _clip(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return _clip(repr(value))


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"a number ({_show(value)})"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    return "a list" if isinstance(value, list) else "a mapping"


_TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
_REF_WORDS = {
    "template": "a template",
    "expression": "an expression",
    "expression_list": "a list of expressions",
    "tls": "a mapping of TLS files",
    "search_attribute_typed": "a mapping {type, value}",
    "duration": "a duration",
    "name": "a name",
}


def _or(words: list[str]) -> str:
    unique = list(dict.fromkeys(words))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " or " + unique[-1]


def _ref_name(sub: Mapping[str, Any]) -> str | None:
    ref = sub.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _resolve(sub: Mapping[str, Any]) -> Mapping[str, Any]:
    name = _ref_name(sub)
    return _resolve(_DEFS[name]) if name in _DEFS else sub


def _describe(sub: Mapping[str, Any]) -> str:
    name = _ref_name(sub)
    if name in _REF_WORDS:
        return _REF_WORDS[name]
    sub = _resolve(sub)
    if "const" in sub:
        return json.dumps(sub["const"])
    kind = sub.get("type")
    if kind == "object" and set(sub.get("properties", {})) == {"that", "message"}:
        return "a mapping {that, message}"
    if kind == "array" and sub.get("items", {}).get("type") == "string":
        return "a list of strings"
    if kind in ("integer", "number"):
        if "minimum" in sub:
            return f"{_TYPE_WORDS[kind]} >= {sub['minimum']}"
        if "exclusiveMinimum" in sub:
            return f"{_TYPE_WORDS[kind]} > {sub['exclusiveMinimum']}"
    if isinstance(kind, str):
        return _TYPE_WORDS.get(kind, kind)
    return "a valid value"


def _has_type(kind: str, value: Any) -> bool:
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "null": value is None,
    }.get(kind, False)


def _accepts(sub: Mapping[str, Any], value: Any) -> bool:
    """Whether a branch of an anyOf is the one meant for a value of this type."""
    if _ref_name(sub) == "template":
        return is_template(value)
    sub = _resolve(sub)
    if "const" in sub:
        return type(sub["const"]) is type(value)
    kind = sub.get("type")
    if isinstance(kind, str):
        return _has_type(kind, value)
    if isinstance(kind, list):
        return any(_has_type(k, value) for k in kind)
    return False


def _step_id_hint(value: str) -> str:
    fixed = re.sub(r"[^a-z0-9_]", "_", value.lower()) or "step"
    return "_" + fixed if fixed[0].isdigit() else fixed


def _pattern_message(pattern: str, value: Any) -> str:
    shown = _show(value)
    if pattern == _DEFS["step_id"]["pattern"]:
        return (
            f"{shown} is not a valid step id; use lower-case letters, digits and _, not "
            f"starting with a digit, such as {_step_id_hint(str(value))!r}"
        )
    if pattern == _DEFS["name"]["pattern"]:
        return f"{shown} is not a valid name; use letters, digits and _, not starting with a digit"
    if pattern == _DEFS["expression"]["pattern"]:
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return (
                f"{shown} is a template, but an expression is expected here; write it "
                "without {{ }} or {% %}"
            )
        return "the expression is empty; write one, such as steps.status.result.state == 'done'"
    if pattern == _DEFS["action_include"]["properties"]["playbook"]["pattern"]:
        return (
            "the include path cannot be a template; write the path of the file, relative "
            "to this playbook"
        )
    return f"{shown} does not have the expected form ({pattern})"


# --------------------------------------------------------------------------- the schema pass


def _strip_steps(sub: dict[str, Any], key: str, minimum: int) -> dict[str, Any]:
    """A copy of an object schema whose nested step list is checked by the walker instead."""
    copy = dict(sub)
    copy["properties"] = {**sub["properties"], key: {"type": "array", "minItems": minimum}}
    return copy


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    """A validator for the top level ("root"), a step's common keys ("step"), or a $def."""
    root = schema()
    if name == "root":
        top = {k: v for k, v in root.items() if k not in ("$defs", "$id")}
        top = _strip_steps(_strip_steps(top, "steps", 1), "finally", 0)
    elif name == "step":
        top = {
            "type": "object",
            "properties": {key: _STEP_PROPERTIES[key] for key in COMMON_KEYS},
        }
    elif name in ("action_parallel", "action_foreach"):
        top = _strip_steps(_DEFS[name], "steps", 1)
    else:
        top = {"$ref": f"#/$defs/{name}"}
    return Draft202012Validator({**top, "$defs": _DEFS})


_Found = tuple[YamlPath, str, bool]  # path, message, positioned at the key


def _messages(error: ValidationError, base: YamlPath) -> Iterator[_Found]:
    """Our wording of one validator error (and of the branch it picks, for anyOf)."""
    path = (*base, *error.absolute_path)
    kind: Any = error.validator
    value: Any = error.instance
    sub: Any = error.schema
    wanted: Any = error.validator_value
    schema_path = list(error.relative_schema_path)
    if "propertyNames" in schema_path or "dependentSchemas" in schema_path:
        key = str(value)
        if "dependentSchemas" in schema_path:
            message = (
                f"{key!r} cannot be given with run_id: run_id belongs to an existing execution, "
                f"named by workflow_id and run_id alone; remove run_id or {key!r}"
            )
        elif kind == "pattern":
            message = _pattern_message(wanted, key)
        else:
            message = f"{key!r} is not allowed as a key here"
        yield (*path, key), message, True
        return
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(sub.get("properties", {}))
        for key in value:
            if key not in allowed:
                hint = options.did_you_mean(key, allowed) or (
                    f"; remove it or use one of: {', '.join(allowed)}" if allowed else "; remove it"
                )
                yield (*path, key), f"unknown key {key!r}{hint}", True
        return
    if kind == "required" and isinstance(value, dict):
        hint = ""
        if "else" in schema_path and "run_id" in value:
            return  # an existing execution with extra keys: dependentSchemas says so
        if "else" in schema_path:
            hint = (
                " (a new workflow needs type and task_queue; an existing execution is "
                "named by workflow_id alone, optionally with run_id)"
            )
        elif "then" in schema_path:
            hint = " (an existing execution is named by workflow_id, optionally with run_id)"
        for key in wanted:
            if key not in value:
                yield path, f"missing required key {key!r}{hint}", False
        return
    if kind == "anyOf":
        yield from _any_of(error, base, path)
        return
    yield path, _simple_message(error, path), False


def _simple_message(error: ValidationError, path: YamlPath) -> str:
    kind: Any = error.validator
    value: Any = error.instance
    wanted: Any = error.validator_value
    if kind == "type":
        kinds: list[str] = wanted if isinstance(wanted, list) else [wanted]
        message = f"expected {_or([_TYPE_WORDS.get(k, k) for k in kinds])}, got {_got(value)}"
        if "string" in kinds and isinstance(value, (bool, int, float)):
            message += "; quote the value to make it a string"
        return message
    if kind == "const":
        message = f"must be {json.dumps(wanted)}, not {_show(value)}"
        return message + (
            "; 1 is the only version of the playbook language" if path == ("version",) else ""
        )
    if kind == "enum":
        if value == "admitted" and "accepted" in wanted:
            return options.ADMITTED_REASON
        choices = [str(c) for c in wanted]
        return f"{_show(value)} is not one of {', '.join(choices)}{options.did_you_mean(str(value), choices)}"
    if kind == "pattern":
        return _pattern_message(wanted, value)
    if kind == "minLength":
        return "must not be empty; give a value or remove the key"
    if kind == "maxLength":
        return f"is {len(value)} characters long; at most {wanted} are allowed"
    if kind == "minItems":
        last = path[-1] if path else ""
        if last == "steps":
            return "needs at least one step; add one"
        if last in ("assert", "that"):
            return "needs at least one expression; add one"
        return f"needs at least {wanted} item{'s' if wanted != 1 else ''}; add one"
    if kind == "minProperties":
        return "needs at least one entry, such as 'name: value'"
    if kind == "minimum":
        return f"must be at least {wanted}, not {_show(value)}"
    if kind == "exclusiveMinimum":
        return f"must be greater than {wanted}, not {_show(value)}"
    if kind == "not":
        return (
            f"{_show(value)} is already a name in templates ({', '.join([*CONTEXT_NAMES, 'index'])}); "
            "choose another name for the loop variable"
        )
    return f"{error.message}; fix the value"


def _any_of(error: ValidationError, base: YamlPath, path: YamlPath) -> Iterator[_Found]:
    value: Any = error.instance
    sub: Any = error.schema
    if sub is _DEFS["duration"] or sub == _DEFS["duration"]:
        yield (
            path,
            duration_problem(value) or f"{_show(value)} is not a duration; {DURATION_HELP}",
            False,
        )
        return
    if path and path[-1] == "tls" and value is False:
        yield path, "tls cannot be false; to connect without TLS, leave tls out", False
        return
    branches: list[Mapping[str, Any]] = sub["anyOf"]
    for index, branch in enumerate(branches):
        if _accepts(branch, value):
            picked = [e for e in error.context if e.relative_schema_path[0] == index]
            found = [m for e in picked for m in _messages(e, base)]
            if found:
                yield from found
                return
    described = _or([_describe(b) for b in branches])
    yield path, f"expected {described}, got {_got(value)}", False


class _Checker:
    """Collects problems of one source, each positioned at its value (or key)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: dict[tuple[int, int, str, str], Problem] = {}
        self.paths: set[YamlPath] = set()  # where the schema pass found something

    def add(self, path: YamlPath, message: str, *, at_key: bool = False) -> None:
        position = self.source.key_positions.get(path) if at_key else None
        if position is None:
            position = self.source.positions.get(path) or self.source.locate(path)
        line, column = position
        dotted = format_path(path)
        self.problems.setdefault(
            (line, column, dotted, message),
            Problem(
                self.source.path, line, column, dotted, message, self.source.excerpt(line, column)
            ),
        )

    def schema_errors(self, name: str, value: Any, base: YamlPath) -> None:
        for error in _validator(name).iter_errors(value):
            for path, message, at_key in _messages(error, base):
                self.paths.add(path)
                self.add(path, message, at_key=at_key)

    def check_schema(self, data: Any) -> None:
        self.schema_errors("root", data, ())
        for section in ("steps", "finally"):
            steps = data.get(section)
            if isinstance(steps, list):
                for index, step in enumerate(steps):
                    self.check_step(step, (section, index))

    def check_step(self, step: Any, path: YamlPath) -> None:
        if not isinstance(step, dict):
            self.paths.add(path)
            self.add(
                path,
                f"a step must be a mapping with one action key ({', '.join(ACTIONS)}), "
                f"not {_got(step)}",
            )
            return
        allowed = [*COMMON_KEYS, *ACTIONS]
        typo_of_action = False
        for key in step:
            if key not in allowed:
                hint = options.did_you_mean(key, allowed)
                typo_of_action |= any(f"'{a}'" in hint for a in ACTIONS)
                self.paths.add((*path, key))
                self.add(
                    (*path, key),
                    f"unknown key {key!r}{hint or '; remove it, or use a step key or an action'}",
                    at_key=True,
                )
        actions = [key for key in step if key in ACTIONS]
        if not actions and not typo_of_action:
            self.add(path, f"this step has no action; give it exactly one of: {', '.join(ACTIONS)}")
        if len(actions) > 1:
            listed = " and ".join(repr(a) for a in actions)
            self.add(
                path,
                f"a step has exactly one action, this one has {listed}; split it into separate steps",
            )
        self.schema_errors("step", step, path)
        for action in actions:
            body = step[action]
            self.schema_errors(f"action_{action}", body, (*path, action))
            if action in NESTING_ACTIONS and isinstance(body, dict):
                inner = body.get("steps")
                if isinstance(inner, list):
                    for index, child in enumerate(inner):
                        self.check_step(child, (*path, action, "steps", index))


