"""The globals and filters we add to Jinja's: ``uuid()``, ``now()``, ``to_json``,
``from_json`` and ``duration`` (alias ``seconds``); and ``pprint``, Jinja's on one line.

Each is a plain function; ``sandbox`` registers them (and guards every filter's sizes and
time like Jinja's own). Their errors say which function failed and why.
"""

from __future__ import annotations

import json
import pprint
import sys
import uuid as _uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from jinja2.runtime import Undefined

from playbook.durations import parse_duration
from playbook.templating.messages import kind

SOURCES: ContextVar[tuple[Callable[[], str], Callable[[], str]] | None] = ContextVar(
    "playbook_template_sources", default=None
)
"""Where ``uuid()`` and ``now()`` come from instead (a durable run: the workflow's
deterministic sources), or None for the system's."""


def _uuid4() -> str:
    """A new random UUID, as a string."""
    sources = SOURCES.get()
    return sources[0]() if sources is not None else str(_uuid.uuid4())


def _now() -> str:
    """The current time, timezone-aware UTC, as an ISO-8601 string."""
    sources = SOURCES.get()
    return sources[1]() if sources is not None else datetime.now(timezone.utc).isoformat()


_uuid4.__name__ = _uuid4.__qualname__ = "uuid"
_now.__name__ = _now.__qualname__ = "now"


def _json_default(value: Any) -> Any:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, (tuple, set, frozenset, range, Iterator)) or type(value).__name__ in (
        "dict_keys",
        "dict_values",
        "dict_items",
    ):
        return list(value)
    raise TypeError(f"to_json: a {type(value).__name__} cannot be written as JSON")


def _to_json(value: Any, indent: int | None = None) -> str:
    """Compact JSON (keys in their order); ``to_json(indent=2)`` for humans."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        value, ensure_ascii=False, separators=separators, indent=indent, default=_json_default
    )


def _from_json(value: Any) -> Any:
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"from_json expects a string, got {kind(value)}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"from_json: not valid JSON: {exc}") from None


def _duration(value: Any) -> float:
    """A duration (``90s``, ``1m30s``, ``PT1M``, a number) as float seconds."""
    try:
        return parse_duration(value).total_seconds()
    except ValueError as exc:
        raise ValueError(f"duration filter: {exc}") from None


def _pprint(value: Any) -> str:
    """Jinja's ``pprint`` splits a long string into pieces to fit 80 columns; a secret cut
    into pieces could not be masked (:mod:`playbook.secrets`), so it stays on one line."""
    return pprint.pformat(value, width=sys.maxsize)


GLOBALS: dict[str, Callable[..., Any]] = {"uuid": _uuid4, "now": _now}
FILTERS: dict[str, Callable[..., Any]] = {
    "to_json": _to_json,
    "from_json": _from_json,
    "duration": _duration,
    "seconds": _duration,
    "pprint": _pprint,
}
