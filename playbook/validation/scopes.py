"""Workflow references and their scope: a ``workflow`` field must name a create step that
is visible there (earlier in the same list, not in another parallel branch or another loop
iteration), and what is started from it must be startable by that action."""

from __future__ import annotations

from typing import Any

from playbook import options
from playbook.suggest import did_you_mean
from playbook.validation.context import Context
from playbook.validation.shape import (
    STARTING_ACTIONS,
    TARGETING_ACTIONS,
    action_of,
    is_existing_execution,
)
from playbook.yamlsource import YamlPath

Scope = dict[str, YamlPath]
"""Create step id -> the path of that create step."""


def check_scopes(ctx: Context) -> None:
    """Check every workflow reference of the playbook; ``finally`` sees what ``steps`` made."""
    end = _scope(ctx, step_pairs(ctx.data.get("steps"), ("steps",)), {})
    _scope(ctx, step_pairs(ctx.data.get("finally"), ("finally",)), end)


def step_pairs(steps: Any, path: YamlPath) -> list[tuple[YamlPath, dict[str, Any]]]:
    """The steps (mappings) of one list, with their paths; not the nested ones."""
    if not isinstance(steps, list):
        return []
    return [((*path, i), s) for i, s in enumerate(steps) if isinstance(s, dict)]


def _scope(ctx: Context, steps: list[tuple[YamlPath, dict[str, Any]]], outer: Scope) -> Scope:
    """Check the workflow references of a list of steps; return the scope after it."""
    scope = dict(outer)
    for path, step in steps:
        action = action_of(step)
        body = step.get(action) if action else None
        if action in TARGETING_ACTIONS and isinstance(body, dict):
            name = body.get("workflow")
            if isinstance(name, str):
                _check_reference(ctx, name, path, action, scope)
        if action == "create" and isinstance(step.get("id"), str):
            scope[step["id"]] = path
        elif action == "parallel" and isinstance(body, dict):
            inner = step_pairs(body.get("steps"), (*path, "parallel", "steps"))
            exported: Scope = {}
            for branch in inner:  # each branch sees the outer scope only
                exported.update(_scope(ctx, [branch], scope))
            scope.update(exported)
        elif action == "foreach" and isinstance(body, dict):
            _scope(ctx, step_pairs(body.get("steps"), (*path, "foreach", "steps")), scope)
    return scope


def _check_reference(ctx: Context, name: str, path: YamlPath, action: str, scope: Scope) -> None:
    where = (*path, action, "workflow")
    if name in scope:
        create_path = scope[name]
        body = ctx.step_at(create_path)["create"]
        if action in STARTING_ACTIONS and is_existing_execution(body):
            ctx.add(
                where,
                f"{action} cannot start workflow {name!r}: its create step (line "
                f"{ctx.line(create_path)}) names an existing execution by workflow_id; "
                "give that create step type and task_queue to start a new workflow",
            )
        elif action in ("signal_with_start", "update_with_start") and isinstance(body, dict):
            used = f"workflow {name!r} is used by {action} at line {ctx.line(path)}"
            for key, message in options.check_for_action(body, action):
                ctx.add((*create_path, "create", key), f"{message} ({used})")
        return
    if name in ctx.creates:
        reason = _out_of_scope_reason(ctx, ctx.creates[name], path)
        ctx.add(where, f"workflow {name!r} is not in scope here: {reason}")
    elif name in ctx.ids:
        kind = action_of(ctx.step_at(ctx.ids[name])) or "step"
        ctx.add(
            where,
            f"step {name!r} (line {ctx.line(ctx.ids[name])}) is a {kind} step, not a create "
            "step; workflow must name the id of a create step",
        )
    else:
        hint = did_you_mean(name, list(scope))
        ctx.add(
            where,
            f"no create step has the id {name!r}{hint or ''}"
            + ("" if hint else "; add a create step with this id before this step"),
        )


def _out_of_scope_reason(ctx: Context, create: YamlPath, ref: YamlPath) -> str:
    line = ctx.line(create)
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
