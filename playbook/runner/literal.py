"""Fields without templates: a step's fields are walked once per run to learn whether any
template is in them; those that hold none are copied per attempt instead of rendered.

Rendering a template-free mapping cost a third of a ``set``/``log`` step's CPU (the walk
checks every value against abstract base classes and counts its weight), and the fan-out's
``create``/``start``/``await_result`` fields are all literal. The loader bounds literal
values already, so the copy needs no limits; it is a copy so that an action that changes
its spec cannot change the playbook's model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from playbook.templating.rendering import is_template

if TYPE_CHECKING:
    from playbook.runner.env import StepEnv

_SEEN: dict[int, tuple[Any, bool]] = {}
"""``id(fields)`` -> (the fields, whether they hold a template); the fields are kept so
that the id cannot be reused by another object while it is in here."""
_LIMIT = 4096


def rendered(env: StepEnv, fields: Any, kind: str) -> Any:
    """A step's fields for one attempt: rendered, or copied when they hold no template."""
    return env.render(fields, kind) if has_template(fields) else copied(fields)


def has_template(value: Any) -> bool:
    """Whether ``value`` (a step's fields) holds a template string anywhere."""
    seen = _SEEN.get(id(value))
    if seen is not None and seen[0] is value:
        return seen[1]
    found = _walk(value)
    if len(_SEEN) >= _LIMIT:  # playbooks built again and again (a long pytest session)
        _SEEN.clear()
    _SEEN[id(value)] = (value, found)
    return found


def _walk(value: Any) -> bool:
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, Mapping):
        return any(_walk(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_walk(item) for item in value)
    return False


def copied(value: Any) -> Any:
    """A template-free value as rendering gives it back: mappings as dicts, sequences as
    lists, everything else as it is."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, Mapping):
        return {key: copied(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [copied(item) for item in value]
    return value
