"""The rules of one step that the schema cannot say: which of its values are templates,
expressions or durations, an ``expect.status`` that fits the action, and the workflow
options of a create step (:mod:`playbook.options`)."""

from __future__ import annotations

from typing import Any

from playbook import options
from playbook.validation.context import Context
from playbook.validation.shape import ACTIONS, NESTING_ACTIONS, action_of, is_existing_execution
from playbook.validation.template_checks import duration, expression, templates
from playbook.yamlsource import YamlPath

_CLOSING_STATUSES = (
    "completed",
    "failed",
    "canceled",
    "terminated",
    "timed_out",
    "continued_as_new",
)
_STEP_STATUSES = ("succeeded", "failed")
# Values of these keys are names or paths, never rendered.
_NOT_TEMPLATED = {"id", "workflow", "as", "playbook", "tags", "expect"}


def check_step(ctx: Context, path: YamlPath, step: dict[str, Any]) -> None:
    for key, value in step.items():
        if key in ("when",):
            expression(ctx, value, (*path, key))
        elif key == "retry" and isinstance(value, dict):
            for name, item in value.items():
                if name == "until":
                    expression(ctx, item, (*path, key, name))
                else:
                    templates(ctx, item, (*path, key, name))
                    if name in ("timeout", "interval"):
                        duration(ctx, item, (*path, key, name))
        elif key == "timeout":
            templates(ctx, value, (*path, key))
            duration(ctx, value, (*path, key))
        elif key == "expect" and isinstance(value, dict):
            # rendered just before judging; status takes fixed values only
            for name, item in value.items():
                if name != "status":
                    templates(ctx, item, (*path, key, name))
        elif key not in _NOT_TEMPLATED and key not in ACTIONS:
            templates(ctx, value, (*path, key))
    action = action_of(step)
    if action is None:
        return
    body, here = step[action], (*path, action)
    _check_expect(ctx, step, path, action)
    if action == "assert":
        _check_assert(ctx, body, here)
    elif action == "sleep":
        templates(ctx, body, here)
        duration(ctx, body, here)
    elif action == "create" and isinstance(body, dict):
        templates(ctx, body, here)
        if not is_existing_execution(body):
            _check_options(ctx, body, here)
    elif isinstance(body, dict):
        for key, value in body.items():
            if key in _NOT_TEMPLATED or (key == "steps" and action in NESTING_ACTIONS):
                continue
            templates(ctx, value, (*here, key))
            if key == "timeout":
                duration(ctx, value, (*here, key))
    else:
        templates(ctx, body, here)


def _check_expect(ctx: Context, step: dict[str, Any], path: YamlPath, action: str) -> None:
    expect = step.get("expect")
    status = expect.get("status") if isinstance(expect, dict) else None
    if not isinstance(status, str):
        return
    where = (*path, "expect", "status")
    if action == "await_result" and status not in _CLOSING_STATUSES:
        ctx.add(
            where,
            f"await_result ends with the workflow's closing status, not {status!r}; "
            f"use one of {', '.join(_CLOSING_STATUSES)}",
        )
    elif action != "await_result" and status not in _STEP_STATUSES:
        ctx.add(
            where,
            f"{status!r} is a workflow status, for await_result steps only; a {action} step "
            "ends succeeded or failed",
        )


def _check_assert(ctx: Context, body: Any, here: YamlPath) -> None:
    if isinstance(body, dict):
        _check_assert(ctx, body.get("that"), (*here, "that"))
        if "message" in body:
            templates(ctx, body["message"], (*here, "message"))
    elif isinstance(body, list):
        for index, item in enumerate(body):
            expression(ctx, item, (*here, index))
    else:
        expression(ctx, body, here)


def _check_options(ctx: Context, body: dict[str, Any], here: YamlPath) -> None:
    given = {k: v for k, v in body.items() if k != "type"}
    _, found = options.check_workflow_options(given)
    for key, message in found:
        if message.startswith(("unknown ", "task_queue is required")):
            continue  # the schema pass reports these, in its own words
        head, _, rest = key.partition(".")
        ctx.add((*here, head, rest) if rest else (*here, head), message)
