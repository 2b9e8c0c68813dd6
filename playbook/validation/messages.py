"""The wording of schema errors: one readable message per validator error, with the path
it belongs to, and whether it points at the key rather than the value. For an ``anyOf``
the branch meant for the value's type is picked and only its errors are worded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import ValidationError

from playbook.durations import HELP as DURATION_HELP
from playbook.options import ADMITTED_REASON
from playbook.suggest import did_you_mean
from playbook.validation.shape import CONTEXT_NAMES, DEFS
from playbook.validation.values import duration_problem
from playbook.validation.words import TYPE_WORDS, accepts, describe, got, one_of_words, show
from playbook.yamlsource import YamlPath

Found = tuple[YamlPath, str, bool]
"""A worded error: path, message, positioned at the key."""


def _step_id_hint(value: str) -> str:
    fixed = re.sub(r"[^a-z0-9_]", "_", value.lower()) or "step"
    return "_" + fixed if fixed[0].isdigit() else fixed


def _pattern_message(pattern: str, value: Any) -> str:
    shown = show(value)
    if pattern == DEFS["step_id"]["pattern"]:
        return (
            f"{shown} is not a valid step id; use lower-case letters, digits and _, not "
            f"starting with a digit, such as {_step_id_hint(str(value))!r}"
        )
    if pattern == DEFS["name"]["pattern"]:
        return f"{shown} is not a valid name; use letters, digits and _, not starting with a digit"
    if pattern == DEFS["expression"]["pattern"]:
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return (
                f"{shown} is a template, but an expression is expected here; write it "
                "without {{ }} or {% %}"
            )
        return "the expression is empty; write one, such as steps.status.result.state == 'done'"
    if pattern == DEFS["action_include"]["properties"]["playbook"]["pattern"]:
        return (
            "the include path cannot be a template; write the path of the file, relative "
            "to this playbook"
        )
    if pattern == DEFS["event_type"]["pattern"]:
        words = [w for w in re.split(r"[^A-Za-z]+", str(value)) if w]
        spelt = "".join(w[:1].upper() + w[1:] for w in words) or "ActivityTaskFailed"
        return f"{shown} is not an event type as Temporal spells it; write it like {spelt!r}"
    return f"{shown} does not have the expected form ({pattern})"


def messages(error: ValidationError, base: YamlPath) -> Iterator[Found]:
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
                hint = did_you_mean(key, allowed) or (
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
        elif "then" in schema_path and "operation" in value:  # a batch
            hint = f" (operation: {value['operation']} needs it)"
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
        message = (
            f"expected {one_of_words([TYPE_WORDS.get(k, k) for k in kinds])}, got {got(value)}"
        )
        if "string" in kinds and isinstance(value, (bool, int, float)):
            message += "; quote the value to make it a string"
        return message
    if kind == "const":
        message = f"must be {json.dumps(wanted)}, not {show(value)}"
        return message + (
            "; 1 is the only version of the playbook language" if path == ("version",) else ""
        )
    if kind == "enum":
        if value == "admitted" and "accepted" in wanted:
            return ADMITTED_REASON
        choices = [str(c) for c in wanted]
        return (
            f"{show(value)} is not one of {', '.join(choices)}{did_you_mean(str(value), choices)}"
        )
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
        return f"must be at least {wanted}, not {show(value)}"
    if kind == "exclusiveMinimum":
        return f"must be greater than {wanted}, not {show(value)}"
    if kind == "not":
        return (
            f"{show(value)} is already a name in templates ({', '.join([*CONTEXT_NAMES, 'index'])}); "
            "choose another name for the loop variable"
        )
    return f"{error.message}; fix the value"


def _any_of(error: ValidationError, base: YamlPath, path: YamlPath) -> Iterator[Found]:
    value: Any = error.instance
    sub: Any = error.schema
    if sub is DEFS["duration"] or sub == DEFS["duration"]:
        yield (
            path,
            duration_problem(value) or f"{show(value)} is not a duration; {DURATION_HELP}",
            False,
        )
        return
    if path and path[-1] == "tls" and value is False:
        yield path, "tls cannot be false; to connect without TLS, leave tls out", False
        return
    branches: list[Mapping[str, Any]] = sub["anyOf"]
    for index, branch in enumerate(branches):
        if accepts(branch, value):
            picked = [e for e in error.context if e.relative_schema_path[0] == index]
            found = [m for e in picked for m in messages(e, base)]
            if found:
                yield from found
                return
    described = one_of_words([describe(b) for b in branches])
    yield path, f"expected {described}, got {got(value)}", False
