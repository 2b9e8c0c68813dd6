"""The leaf control steps: assert, sleep, log, set, confirm."""

from __future__ import annotations

import json
from typing import Any

from playbook.actions.base import Call, StepFailed
from playbook.durations import parse_duration
from playbook.errors import PlaybookError

_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<", " not in ", " in ", " is not ", " is ")


def split_comparison(expression: str) -> tuple[str, str, str] | None:
    """``a.b == 20`` -> (``a.b``, ``==``, ``20``): the top-level comparison, if any, found
    outside brackets and quotes. Chains and boolean combinations are left whole."""
    depth, quote, i = 0, "", 0
    text = f" {expression} "
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            if text.startswith((" and ", " or "), i):
                return None
            for op in _COMPARISONS:
                if text.startswith(op, i):
                    left, right = text[:i].strip(), text[i + len(op) :].strip()
                    if left and right and split_comparison(right) is None:
                        return left, op.strip(), right
                    return None
    return None


def show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def explain(call: Call, expression: str) -> str:
    """The operands' values of a failed assertion: ``18 == 20``."""
    parts = split_comparison(expression)
    if parts is None:
        return ""
    left, op, right = parts
    try:
        return f"{show(call.env.evaluate(left))} {op} {show(call.env.evaluate(right))}"
    except PlaybookError:
        return ""


async def assert_(call: Call) -> Any:
    spec = call.spec
    message = None
    if isinstance(spec, dict):
        that = spec["that"]
        message = spec.get("message")
    else:
        that = spec
    expressions = [that] if isinstance(that, str) else list(that)
    failures = []
    for expression in expressions:
        if not call.env.evaluate(expression):
            operands = explain(call, expression)
            failures.append(f"{expression}" + (f"  ({operands})" if operands else ""))
    if failures:
        text = "assertion failed: " + "; ".join(failures)
        if message:
            text = f"{call.env.render(message, 'assert.message')}\n  {text}"
        raise StepFailed(text, error_type="AssertionFailed")
    return True


async def sleep(call: Call) -> Any:
    try:
        seconds = parse_duration(call.spec).total_seconds()
    except ValueError as e:
        raise PlaybookError(f"{call.env.where('sleep')}: {e}") from None
    await call.env.sleep(seconds)
    return None


async def log(call: Call) -> Any:
    text = call.spec if isinstance(call.spec, str) else show(call.spec)
    call.env.log(text)
    return text


async def set_(call: Call) -> Any:
    call.env.set_vars(call.spec)
    return dict(call.spec)


async def confirm(call: Call) -> Any:
    text = call.spec if isinstance(call.spec, str) else show(call.spec)
    if not await call.env.confirm(text):
        raise StepFailed(f"not confirmed: {text}", error_type="NotConfirmed")
    return True
