"""Search attributes: a bare value, whose type is inferred, or ``{type, value}``; each
checked against its type and normalised (datetimes parsed, doubles as floats)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from playbook.options.model import Problems, SearchAttribute
from playbook.options.vocabulary import SEARCH_ATTRIBUTE_TYPES
from playbook.suggest import one_of
from playbook.templating import is_template

# One per type of SEARCH_ATTRIBUTE_TYPES (a test holds them equal).
VALUE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "keyword": lambda v: isinstance(v, str),
    "text": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "datetime": lambda v: isinstance(v, (str, datetime)),
    "keyword_list": lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
}


def check_search_attributes(
    attributes: Any,
) -> tuple[tuple[SearchAttribute, ...], Problems]:
    """The ``search_attributes`` option: each attribute, or the problems by name ("" for
    the option itself). Attributes that are still templates are left out."""
    if not isinstance(attributes, Mapping):
        return (), [("", "search_attributes must be a mapping of names to values")]
    parsed: list[SearchAttribute] = []
    problems: Problems = []
    for name, raw in attributes.items():
        if is_template(raw):
            continue
        if _typed_template(raw):  # {type, value} with a templated value: checked once rendered
            continue  # (the schema checks the type)
        attribute, error = infer_search_attribute(str(name), raw)
        if error:
            problems.append((str(name), error))
        elif attribute:
            parsed.append(attribute)
    return tuple(parsed), problems


def _typed_template(raw: Any) -> bool:
    return isinstance(raw, Mapping) and set(raw) == {"type", "value"} and is_template(raw["value"])


def infer_search_attribute(name: str, raw: Any) -> tuple[SearchAttribute | None, str | None]:
    """A search attribute from a bare value (type inferred) or ``{type, value}``."""
    if isinstance(raw, Mapping) and set(raw) == {"type", "value"}:
        kind, value = raw["type"], raw["value"]
        if kind not in SEARCH_ATTRIBUTE_TYPES:
            return None, one_of(str(kind), SEARCH_ATTRIBUTE_TYPES)
        error = _check_value(kind, value)
        if error:
            return None, error
        if kind == "datetime" and isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "double":
            value = float(value)
        if kind == "keyword_list":
            value = list(value)
        return SearchAttribute(name, kind, value), None
    if isinstance(raw, bool):
        return SearchAttribute(name, "bool", raw), None
    if isinstance(raw, int):
        return SearchAttribute(name, "int", raw), None
    if isinstance(raw, float):
        return SearchAttribute(name, "double", raw), None
    if isinstance(raw, str):
        return SearchAttribute(name, "keyword", raw), None
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return SearchAttribute(name, "keyword_list", list(raw)), None
    return None, (
        f"cannot infer the type of {raw!r}; give a string, integer, float, boolean or list "
        f"of strings, or {{type: {'|'.join(SEARCH_ATTRIBUTE_TYPES)}, value: ...}}"
    )


def _check_value(kind: str, value: Any) -> str | None:
    if not VALUE_CHECKS[kind](value):
        return f"value {value!r} is not a valid {kind}"
    if kind == "datetime" and isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"value {value!r} is not an ISO-8601 date-time such as 2024-01-02T03:04:05Z"
    return None
