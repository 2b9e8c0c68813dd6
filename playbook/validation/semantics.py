"""The semantic pass: the rules of SPEC section 7 that the schema cannot say, in order.

It gathers the step ids first (reporting duplicates), then checks workflow references
(:mod:`~playbook.validation.scopes`), input defaults, the templates of the connection and
vars (:mod:`~playbook.validation.template_checks`) and each step
(:mod:`~playbook.validation.step_rules`)."""

from __future__ import annotations

from typing import Any

from playbook.inputs import secret_names, type_problem
from playbook.validation.context import Context
from playbook.validation.schema_pass import Checker
from playbook.validation.scopes import check_scopes
from playbook.validation.shape import action_of, all_steps
from playbook.validation.step_rules import check_step
from playbook.validation.template_checks import check_templates_outside_steps


def check_semantics(checker: Checker, data: dict[str, Any]) -> None:
    """Add the semantic problems of one document to the schema pass's collector."""
    ctx = Context(checker, data)
    steps = list(all_steps(data))
    for path, step in steps:
        step_id = step.get("id")
        action = action_of(step)
        if isinstance(step_id, str):
            if step_id in ctx.ids:
                first = ctx.line(ctx.ids[step_id])
                ctx.add(
                    (*path, "id"),
                    f"duplicate step id {step_id!r} (first used at line {first}); "
                    "give each step its own id",
                )
            else:
                ctx.ids[step_id] = path
            if action == "create":
                ctx.creates.setdefault(step_id, path)
        if action == "set" and isinstance(step["set"], dict):
            ctx.var_names.update(step["set"])
    check_scopes(ctx)
    _check_inputs(ctx)
    check_templates_outside_steps(ctx)
    for path, step in steps:
        check_step(ctx, path, step)


def _check_inputs(ctx: Context) -> None:
    """Each input's default must have the input's type (a secret's is not shown)."""
    specs = ctx.data.get("inputs")
    if not isinstance(specs, dict):
        return
    for name, spec in specs.items():
        if not isinstance(spec, dict) or spec.get("default") is None:
            continue
        kind = spec.get("type", "string")
        if not isinstance(kind, str):
            continue
        problem = type_problem(kind, spec["default"], secret=name in secret_names(specs))
        if problem:
            ctx.add(
                ("inputs", name, "default"),
                f"the default {problem}; change the default or the type",
            )
