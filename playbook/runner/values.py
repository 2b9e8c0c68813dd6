"""Typed step fields (``timeout``, ``retry.*``, ``foreach.concurrency``...) rendered and
checked at run time: a template may render to anything, and a bad value fails its step
with a message naming the field and the value, never an internal error."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from playbook import templating
from playbook.durations import parse_duration
from playbook.errors import PlaybookError

if TYPE_CHECKING:
    from playbook.runner.env import StepEnv


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer past Python's 4,300-digit limit for str()
        return "a number too large to show"
    return text if len(text) <= 80 else text[:77] + "..."


def seconds(env: StepEnv, value: Any, field: str) -> float:
    """A duration field, in seconds."""
    rendered = env.render(value, field)
    try:
        return parse_duration(rendered).total_seconds()
    except (ValueError, TypeError, OverflowError) as e:
        raise PlaybookError(f"{env.where(field)}: {e}") from None


def number(env: StepEnv, value: Any, field: str) -> float:
    """A finite number field (``retry.backoff``)."""
    rendered = env.render(value, field)
    try:
        result = float(rendered) if not isinstance(rendered, bool) else math.nan
    except (ValueError, TypeError, OverflowError):
        result = math.nan
    if not math.isfinite(result):
        raise PlaybookError(f"{env.where(field)}: {_shown(rendered)} is not a number")
    return result


def count(env: StepEnv, value: Any, field: str) -> int:
    """A whole-number field (``retry.attempts``, ``foreach.concurrency``...)."""
    rendered = env.render(value, field)
    if isinstance(rendered, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", rendered):
        return int(rendered)
    if isinstance(rendered, float) and rendered.is_integer() and abs(rendered) < 1e18:
        return int(rendered)
    if isinstance(rendered, int) and not isinstance(rendered, bool):
        return rendered
    raise PlaybookError(f"{env.where(field)}: {_shown(rendered)} is not a whole number")


def expectation(env: StepEnv, expect: Any) -> Any:
    """``expect`` with its templates rendered, just before an outcome is judged (its values
    are templates like every other field's: ``{result: {id: "{{ vars.cart_id }}"}}``)."""
    return env.render(expect, "expect")


def flag(env: StepEnv, value: Any, field: str) -> bool:
    """A boolean field that may be a template (``continue_on_error``)."""
    if isinstance(value, bool):
        return value
    return templating.truthy(env.render(value, field))
