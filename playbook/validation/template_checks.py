"""Checks of the values that are rendered or evaluated: template and expression syntax,
durations, the filters and tests they apply and the bare names they read
(:mod:`.template_names`), and the steps, inputs and vars they read, which must exist, in
the order the playbook makes them: the connection before vars, vars before steps, vars in
order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playbook.suggest import did_you_mean
from playbook.templating import check_expression, check_template, is_template
from playbook.validation.context import Context
from playbook.validation.template_names import (
    filter_and_test_problems,
    undefined_name,
    visible_names,
)
from playbook.validation.values import TemplateRefs, duration_problem, template_refs
from playbook.yamlsource import YamlPath


@dataclass(frozen=True)
class VarOrder:
    """Where a var stands among the vars, which are rendered in order."""

    current: str
    earlier: frozenset[str]  # the vars above it, which it may use
    names: tuple[str, ...]  # all of them


def duration(ctx: Context, value: Any, path: YamlPath) -> None:
    problem = duration_problem(value)
    if problem:
        ctx.add(path, problem)


def expression(ctx: Context, value: Any, path: YamlPath) -> None:
    if isinstance(value, str):
        _check(ctx, value, path, expression=True)


def templates(ctx: Context, value: Any, path: YamlPath, order: VarOrder | None = None) -> None:
    """Check every template in a value (nested mappings and lists included); ``order`` is
    given for the value of a var."""
    if isinstance(value, dict):
        for key, item in value.items():
            templates(ctx, item, (*path, key), order)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            templates(ctx, item, (*path, index), order)
    elif is_template(value):
        _check(ctx, value, path, order=order)


def _check(
    ctx: Context,
    value: str,
    path: YamlPath,
    order: VarOrder | None = None,
    *,
    expression: bool = False,
) -> None:
    """One template or expression: its filters and tests, else its syntax; then what it
    reads. (The compiler stops at the first unknown filter or test, in words of its own.)"""
    refs = template_refs(value, expression=expression)
    unknown = filter_and_test_problems(refs)
    for message in unknown:
        ctx.add(path, message)
    if not unknown:
        problem = check_expression(value) if expression else check_template(value)
        if problem:
            kind = "expression" if expression else "template"
            ctx.add(path, f"{problem.rstrip('.')}; fix the {kind}")
            return
    _references(ctx, refs, path, order)
    visible = visible_names(ctx, path)
    if visible is not None:
        for name in sorted(refs.free - visible):
            ctx.add(path, undefined_name(ctx, name, path, visible, expression=expression))


def check_templates_outside_steps(ctx: Context) -> None:
    """The templates of the connection and of vars, and the connection's timeout."""
    connection = ctx.data.get("connection")
    if isinstance(connection, dict):
        templates(ctx, connection, ("connection",))
        timeout = connection.get("connect_timeout")
        if timeout is not None:
            duration(ctx, timeout, ("connection", "connect_timeout"))
    variables = ctx.data.get("vars")
    if isinstance(variables, dict):
        names = tuple(variables)
        for index, (name, value) in enumerate(variables.items()):
            order = VarOrder(str(name), frozenset(names[:index]), names)
            templates(ctx, value, ("vars", name), order)


def _references(
    ctx: Context, refs: TemplateRefs, path: YamlPath, order: VarOrder | None = None
) -> None:
    declared = ctx.data.get("inputs")
    inputs = list(declared) if isinstance(declared, dict) else []
    variables = ctx.data.get("vars")
    var_names = list(variables) if isinstance(variables, dict) else []
    section = path[0] if path else ""
    for root, name in sorted(refs.attributes):
        if section == "connection" and root in ("vars", "steps"):
            ctx.add(
                path,
                f"the connection cannot use {root}.{name}: it is set up before vars and steps "
                "exist; use inputs or env instead",
            )
        elif section == "vars" and root == "steps":
            ctx.add(
                path,
                f"vars cannot use steps.{name}: vars are rendered before any step runs; "
                "use a set step after that step instead",
            )
        elif root == "steps" and name not in ctx.ids:
            hint = did_you_mean(name, list(ctx.ids))
            ctx.add(
                path,
                f"steps.{name} names no step: no step has the id {name!r}"
                + (hint or "; give the step you mean an id"),
            )
        elif root == "inputs" and name not in inputs:
            hint = did_you_mean(name, inputs)
            ctx.add(path, f"inputs.{name} is not declared; declare it under inputs{hint}")
        elif root == "vars" and order is not None:
            if name not in order.earlier:
                _var_order(ctx, name, path, order)
        elif root == "vars" and name not in var_names and name not in ctx.var_names:
            hint = did_you_mean(name, sorted({*var_names, *ctx.var_names}))
            ctx.add(
                path,
                f"vars.{name} is not defined; define it under vars or with a set step{hint}",
            )


def _var_order(ctx: Context, name: str, path: YamlPath, order: VarOrder) -> None:
    """A var that reads ``vars.name``, which is not above it."""
    current = order.current
    if name == current:
        ctx.add(path, f"vars.{name} uses itself; a variable can use only the ones above it")
    elif name in order.names:
        ctx.add(
            path,
            f"vars.{name} is used before it is defined: vars are rendered in order; "
            f"move {name} above {current}",
        )
    else:
        hint = did_you_mean(name, sorted(order.earlier))
        ctx.add(path, f"vars.{name} is not defined above; define it earlier in vars{hint}")
