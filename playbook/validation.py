"""Load-time checks of one parsed playbook file: every problem, each with file:line:col.

Two passes over a :class:`~playbook.yamlsource.Source`:

1. The JSON Schema, with the validator's internals hidden. A step is checked by first
   picking its action key and then validating the step against that action only, so the
   schema's ``oneOf`` over the actions never reaches the user; ``anyOf`` branches are
   chosen by the value's type (best-match style) and described in words.
2. The rules the schema cannot say (SPEC section 7): duplicate ids, ``workflow``
   references in scope, stubs of existing executions that would be started, workflow
   option problems (:mod:`playbook.options`), durations, template and expression syntax,
   and references to steps, inputs and vars that do not exist.

Files that a playbook includes are the loader's business; this module sees one file.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, nodes
from jinja2.parser import Parser
from jsonschema import Draft202012Validator, ValidationError

from playbook import options
from playbook.durations import HELP as DURATION_HELP
from playbook.durations import parse_duration
from playbook.errors import Problem
from playbook.schema import schema
from playbook.templating import check_expression, check_template, is_template
from playbook.yamlsource import Source, YamlPath, format_path

_DEFS: dict[str, Any] = schema()["$defs"]
_STEP_PROPERTIES: dict[str, Any] = _DEFS["step"]["properties"]
ACTIONS: tuple[str, ...] = tuple(
    key
    for key, sub in _STEP_PROPERTIES.items()
    if sub.get("$ref", "").startswith("#/$defs/action_")
)
COMMON_KEYS: tuple[str, ...] = tuple(key for key in _STEP_PROPERTIES if key not in ACTIONS)
WORKFLOW_ACTIONS: tuple[str, ...] = tuple(
    a for a in ACTIONS if a != "create" and "workflow" in _DEFS[f"action_{a}"].get("properties", {})
)
STARTING_ACTIONS = ("start", "signal_with_start", "update_with_start")
NESTING_ACTIONS = ("parallel", "foreach")
CONTEXT_NAMES = ("inputs", "vars", "env", "steps", "run")
_CLOSING_STATUSES = ("completed", "failed", "canceled", "terminated", "timed_out")
_STEP_STATUSES = ("succeeded", "failed")
# Values of these keys are names or paths, never rendered.
_NOT_TEMPLATED = {"id", "workflow", "as", "playbook", "tags", "expect"}


def action_of(step: Any) -> str | None:
    """The step's one action key, or None when it has none or several."""
    if not isinstance(step, Mapping):
        return None
    found = [key for key in step if key in ACTIONS]
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateRefs:
    """What a template or expression reads: top-level names, ``name.attr`` pairs, calls."""

    names: frozenset[str] = frozenset()
    attributes: frozenset[tuple[str, str]] = frozenset()
    calls: frozenset[str] = frozenset()


_PARSER_ENV = Environment()  # syntax only; rendering happens in playbook.templating


@functools.lru_cache(maxsize=4096)
def template_refs(value: str, *, expression: bool = False) -> TemplateRefs:
    """The names a template (or bare expression) reads; empty when it does not parse."""
    try:
        if expression:
            parser = Parser(_PARSER_ENV, value, state="variable")
            body = parser.parse_expression()
            if not parser.stream.eos:
                return TemplateRefs()
            tree: nodes.Node = nodes.Template([nodes.Output([body])])
        else:
            tree = _PARSER_ENV.parse(value)
    except Exception:  # a template that does not parse reads nothing; check_* report it
        return TemplateRefs()
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    attributes: set[tuple[str, str]] = set()
    for attr in tree.find_all(nodes.Getattr):
        if isinstance(attr.node, nodes.Name):
            attributes.add((attr.node.name, attr.attr))
    for item in tree.find_all(nodes.Getitem):
        key = item.arg
        if isinstance(item.node, nodes.Name) and isinstance(key, nodes.Const):
            if isinstance(key.value, str):
                attributes.add((item.node.name, key.value))
    calls = {c.node.name for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Name)}
    return TemplateRefs(frozenset(names), frozenset(attributes), frozenset(calls))


def duration_problem(value: Any) -> str | None:
    """The message for a value that is not a usable duration, or None."""
    if is_template(value):
        return None
    try:
        parse_duration(value)
    except ValueError as error:
        return str(error)
    return None


# --------------------------------------------------------------------------- wording


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


# --------------------------------------------------------------------------- the semantic pass


def walk_steps(steps: Any, path: YamlPath) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    """Every step (mapping) in a list, and the steps nested in parallel and foreach."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = (*path, index)
        yield here, step
        action = action_of(step)
        if action in NESTING_ACTIONS and isinstance(step[action], dict):
            yield from walk_steps(step[action].get("steps"), (*here, action, "steps"))


def all_steps(data: Mapping[str, Any]) -> Iterator[tuple[YamlPath, dict[str, Any]]]:
    yield from walk_steps(data.get("steps"), ("steps",))
    yield from walk_steps(data.get("finally"), ("finally",))


def is_existing_execution(body: Any) -> bool:
    """A ``create`` of an existing execution: only workflow_id (and run_id)."""
    return (
        isinstance(body, dict) and "workflow_id" in body and set(body) <= {"workflow_id", "run_id"}
    )


@dataclass
class _Semantics:
    checker: _Checker
    data: dict[str, Any]
    ids: dict[str, YamlPath] = field(default_factory=dict)
    creates: dict[str, YamlPath] = field(default_factory=dict)
    var_names: set[str] = field(default_factory=set)

    def line(self, path: YamlPath) -> int:
        return self.checker.source.locate(path)[0]

    def add(self, path: YamlPath, message: str) -> None:
        if path not in self.checker.paths:
            self.checker.add(path, message)

    def step_at(self, path: YamlPath) -> dict[str, Any]:
        node: Any = self.data
        for part in path:
            node = node[part]
        return node  # type: ignore[no-any-return]

    def run(self) -> None:
        steps = list(all_steps(self.data))
        for path, step in steps:
            step_id = step.get("id")
            if isinstance(step_id, str):
                if step_id in self.ids:
                    first = self.line(self.ids[step_id])
                    self.add(
                        (*path, "id"),
                        f"duplicate step id {step_id!r} (first used at line {first}); "
                        "give each step its own id",
                    )
                else:
                    self.ids[step_id] = path
                if action_of(step) == "create":
                    self.creates.setdefault(step_id, path)
            action = action_of(step)
            if action == "set" and isinstance(step["set"], dict):
                self.var_names.update(step["set"])
        end = self.scope(self.pairs(self.data.get("steps"), ("steps",)), {})
        self.scope(self.pairs(self.data.get("finally"), ("finally",)), end)
        self.check_inputs()
        self.check_templates_outside_steps()
        for path, step in steps:
            self.check_step(path, step)

    @staticmethod
    def pairs(steps: Any, path: YamlPath) -> list[tuple[YamlPath, dict[str, Any]]]:
        if not isinstance(steps, list):
            return []
        return [((*path, i), s) for i, s in enumerate(steps) if isinstance(s, dict)]

    # ---- scope

    def scope(
        self, steps: list[tuple[YamlPath, dict[str, Any]]], outer: dict[str, YamlPath]
    ) -> dict[str, YamlPath]:
        """Check the workflow references of a list of steps; return the scope after it."""
        scope = dict(outer)
        for path, step in steps:
            action = action_of(step)
            body = step.get(action) if action else None
            if action in WORKFLOW_ACTIONS and isinstance(body, dict):
                name = body.get("workflow")
                if isinstance(name, str):
                    self.check_reference(name, path, action, scope)
            if action == "create" and isinstance(step.get("id"), str):
                scope[step["id"]] = path
            elif action == "parallel" and isinstance(body, dict):
                inner = self.pairs(body.get("steps"), (*path, "parallel", "steps"))
                exported: dict[str, YamlPath] = {}
                for branch in inner:  # each branch sees the outer scope only
                    exported.update(self.scope([branch], scope))
                scope.update(exported)
            elif action == "foreach" and isinstance(body, dict):
                self.scope(self.pairs(body.get("steps"), (*path, "foreach", "steps")), scope)
        return scope

    def check_reference(
        self, name: str, path: YamlPath, action: str, scope: dict[str, YamlPath]
    ) -> None:
        where = (*path, action, "workflow")
        if name in scope:
            create_path = scope[name]
            body = self.step_at(create_path)["create"]
            if action in STARTING_ACTIONS and is_existing_execution(body):
                self.add(
                    where,
                    f"{action} cannot start workflow {name!r}: its create step (line "
                    f"{self.line(create_path)}) names an existing execution by workflow_id; "
                    "give that create step type and task_queue to start a new workflow",
                )
            elif action in ("signal_with_start", "update_with_start") and isinstance(body, dict):
                self.check_for_action(name, create_path, body, path, action)
            return
        if name in self.creates:
            create_path = self.creates[name]
            reason = self.out_of_scope_reason(create_path, path)
            self.add(where, f"workflow {name!r} is not in scope here: {reason}")
        elif name in self.ids:
            kind = action_of(self.step_at(self.ids[name])) or "step"
            self.add(
                where,
                f"step {name!r} (line {self.line(self.ids[name])}) is a {kind} step, not a create "
                "step; workflow must name the id of a create step",
            )
        else:
            hint = options.did_you_mean(name, list(scope))
            self.add(
                where,
                f"no create step has the id {name!r}{hint or ''}"
                + ("" if hint else "; add a create step with this id before this step"),
            )

    def out_of_scope_reason(self, create: YamlPath, ref: YamlPath) -> str:
        line = self.line(create)
        for k, part in enumerate(create):
            if part == "foreach" and ref[:k] != create[:k]:
                return (
                    f"it is created inside a foreach (line {line}), and a loop's workflows "
                    "are visible only within the same iteration"
                )
            if part == "parallel" and ref[:k] == create[:k] and ref[: k + 3] != create[: k + 3]:
                return (
                    f"it is created in another branch of the same parallel step (line {line}); "
                    "branches cannot use each other's workflows, only those created before the "
                    "parallel step"
                )
        return f"its create step comes later (line {line}); move the create step before this step"

    def check_for_action(
        self, name: str, create: YamlPath, body: dict[str, Any], user: YamlPath, action: str
    ) -> None:
        used = f"workflow {name!r} is used by {action} at line {self.line(user)}"
        for key, message in options.check_for_action(body, action):
            self.add((*create, "create", key), f"{message} ({used})")

    # ---- inputs, vars, connection

    def check_inputs(self) -> None:
        from playbook.inputs import type_problem

        specs = self.data.get("inputs")
        if not isinstance(specs, dict):
            return
        for name, spec in specs.items():
            if not isinstance(spec, dict) or spec.get("default") is None:
                continue
            kind = spec.get("type", "string")
            if not isinstance(kind, str):
                continue
            problem = type_problem(kind, spec["default"])
            if problem:
                self.add(
                    ("inputs", name, "default"),
                    f"the default {problem}; change the default or the type",
                )

    def check_templates_outside_steps(self) -> None:
        connection = self.data.get("connection")
        if isinstance(connection, dict):
            self.templates(connection, ("connection",))
            timeout = connection.get("connect_timeout")
            if timeout is not None:
                self.duration(timeout, ("connection", "connect_timeout"))
        variables = self.data.get("vars")
        if isinstance(variables, dict):
            names = list(variables)
            for index, (name, value) in enumerate(variables.items()):
                self.templates(value, ("vars", name), earlier=set(names[:index]), later=names)

    # ---- steps

    def check_step(self, path: YamlPath, step: dict[str, Any]) -> None:
        for key, value in step.items():
            if key in ("when",):
                self.expression(value, (*path, key))
            elif key == "retry" and isinstance(value, dict):
                for name, item in value.items():
                    if name == "until":
                        self.expression(item, (*path, key, name))
                    else:
                        self.templates(item, (*path, key, name))
                        if name in ("timeout", "interval"):
                            self.duration(item, (*path, key, name))
            elif key == "timeout":
                self.templates(value, (*path, key))
                self.duration(value, (*path, key))
            elif key not in _NOT_TEMPLATED and key not in ACTIONS:
                self.templates(value, (*path, key))
        action = action_of(step)
        if action is None:
            return
        body, here = step[action], (*path, action)
        self.check_expect(step, path, action)
        if action == "assert":
            self.check_assert(body, here)
        elif action == "sleep":
            self.templates(body, here)
            self.duration(body, here)
        elif action == "create" and isinstance(body, dict):
            self.templates(body, here)
            if not is_existing_execution(body):
                self.check_options(body, here)
        elif isinstance(body, dict):
            for key, value in body.items():
                if key in _NOT_TEMPLATED or (key == "steps" and action in NESTING_ACTIONS):
                    continue
                self.templates(value, (*here, key))
                if key == "timeout":
                    self.duration(value, (*here, key))
        else:
            self.templates(body, here)

    def check_expect(self, step: dict[str, Any], path: YamlPath, action: str) -> None:
        expect = step.get("expect")
        status = expect.get("status") if isinstance(expect, dict) else None
        if not isinstance(status, str):
            return
        where = (*path, "expect", "status")
        if action == "await_result" and status not in _CLOSING_STATUSES:
            self.add(
                where,
                f"await_result ends with the workflow's closing status, not {status!r}; "
                f"use one of {', '.join(_CLOSING_STATUSES)}",
            )
        elif action != "await_result" and status not in _STEP_STATUSES:
            self.add(
                where,
                f"{status!r} is a workflow status, for await_result steps only; a {action} step "
                "ends succeeded or failed",
            )

    def check_assert(self, body: Any, here: YamlPath) -> None:
        if isinstance(body, dict):
            self.check_assert(body.get("that"), (*here, "that"))
            if "message" in body:
                self.templates(body["message"], (*here, "message"))
        elif isinstance(body, list):
            for index, item in enumerate(body):
                self.expression(item, (*here, index))
        else:
            self.expression(body, here)

    def check_options(self, body: dict[str, Any], here: YamlPath) -> None:
        given = {k: v for k, v in body.items() if k != "type"}
        _, found = options.check_workflow_options(given)
        for key, message in found:
            if message.startswith(("unknown ", "task_queue is required")):
                continue  # the schema pass reports these, in its own words
            head, _, rest = key.partition(".")
            self.add((*here, head, rest) if rest else (*here, head), message)

    # ---- values

    def duration(self, value: Any, path: YamlPath) -> None:
        problem = duration_problem(value)
        if problem:
            self.add(path, problem)

    def expression(self, value: Any, path: YamlPath) -> None:
        if not isinstance(value, str):
            return
        problem = check_expression(value)
        if problem:
            self.add(path, f"{problem.rstrip('.')}; fix the expression")
            return
        self.references(template_refs(value, expression=True), path)

    def templates(
        self,
        value: Any,
        path: YamlPath,
        *,
        earlier: set[str] | None = None,
        later: list[str] | None = None,
    ) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                self.templates(item, (*path, key), earlier=earlier, later=later)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.templates(item, (*path, index), earlier=earlier, later=later)
        elif is_template(value):
            problem = check_template(value)
            if problem:
                self.add(path, f"{problem.rstrip('.')}; fix the template")
                return
            self.references(template_refs(value), path, earlier=earlier, later=later)

    def references(
        self,
        refs: TemplateRefs,
        path: YamlPath,
        *,
        earlier: set[str] | None = None,
        later: list[str] | None = None,
    ) -> None:
        declared = self.data.get("inputs")
        inputs = list(declared) if isinstance(declared, dict) else []
        variables = self.data.get("vars")
        var_names = list(variables) if isinstance(variables, dict) else []
        section = path[0] if path else ""
        for root, name in sorted(refs.attributes):
            if section == "connection" and root in ("vars", "steps"):
                self.add(
                    path,
                    f"the connection cannot use {root}.{name}: it is set up before vars and steps "
                    "exist; use inputs or env instead",
                )
            elif section == "vars" and root == "steps":
                self.add(
                    path,
                    f"vars cannot use steps.{name}: vars are rendered before any step runs; "
                    "use a set step after that step instead",
                )
            elif root == "steps" and name not in self.ids:
                hint = options.did_you_mean(name, list(self.ids))
                self.add(
                    path,
                    f"steps.{name} names no step: no step has the id {name!r}"
                    + (hint or "; give the step you mean an id"),
                )
            elif root == "inputs" and name not in inputs:
                hint = options.did_you_mean(name, inputs)
                self.add(path, f"inputs.{name} is not declared; declare it under inputs{hint}")
            elif root == "vars" and earlier is not None:
                if name in earlier:
                    continue
                current = str(path[1])
                if name == current:
                    self.add(
                        path, f"vars.{name} uses itself; a variable can use only the ones above it"
                    )
                elif later is not None and name in later:
                    self.add(
                        path,
                        f"vars.{name} is used before it is defined: vars are rendered in order; "
                        f"move {name} above {current}",
                    )
                else:
                    hint = options.did_you_mean(name, sorted(earlier))
                    self.add(
                        path, f"vars.{name} is not defined above; define it earlier in vars{hint}"
                    )
            elif root == "vars" and name not in var_names and name not in self.var_names:
                hint = options.did_you_mean(name, sorted({*var_names, *self.var_names}))
                self.add(
                    path,
                    f"vars.{name} is not defined; define it under vars or with a set step{hint}",
                )


def validate(source: Source) -> list[Problem]:
    """Every problem of one parsed playbook file, sorted by position."""
    checker = _Checker(source)
    data = source.data
    if not isinstance(data, dict):
        checker.add(
            (), f"a playbook must be a mapping with version, name and steps, not {_got(data)}"
        )
        return sorted(checker.problems.values())
    checker.check_schema(data)
    _Semantics(checker, data).run()
    return sorted(checker.problems.values())
