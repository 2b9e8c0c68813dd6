"""The semantic pass: the rules of SPEC section 7 that the schema cannot say."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from playbook import options
from playbook.templating import check_expression, check_template, is_template
from playbook.validation.common import (
    _CLOSING_STATUSES,
    _NOT_TEMPLATED,
    _STEP_STATUSES,
    ACTIONS,
    NESTING_ACTIONS,
    STARTING_ACTIONS,
    WORKFLOW_ACTIONS,
    TemplateRefs,
    action_of,
    duration_problem,
    template_refs,
)
from playbook.validation.schema_pass import _Checker
from playbook.yamlsource import YamlPath


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


