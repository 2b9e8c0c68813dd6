"""Values and schema branches in words, for the schema pass's messages: how a value is
shown, what it is ("a number (3)"), what a schema branch expects ("a duration"), and which
branch of an ``anyOf`` a value of this type was meant for."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from playbook.templating import is_template
from playbook.validation.shape import DEFS

TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
_REF_WORDS = {
    "template": "a template",
    "expression": "an expression",
    "expression_list": "a list of expressions",
    "tls": "a mapping of TLS files",
    "search_attribute_typed": "a mapping {type, value}",
    "duration": "a duration",
    "name": "a name",
}


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show(value: Any) -> str:
    """A value as the user wrote it, clipped to a readable length."""
    if isinstance(value, str):
        return repr(_clip(value))
    try:
        return _clip(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return _clip(repr(value))


def got(value: Any) -> str:
    """What a value is, for "expected ..., got ..."."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"a number ({show(value)})"
    if isinstance(value, str):
        return f"the string {show(value)}"
    return "a list" if isinstance(value, list) else "a mapping"


def one_of_words(words: list[str]) -> str:
    """``a, b or c``, each word once."""
    unique = list(dict.fromkeys(words))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " or " + unique[-1]


def _ref_name(sub: Mapping[str, Any]) -> str | None:
    ref = sub.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _resolve(sub: Mapping[str, Any]) -> Mapping[str, Any]:
    name = _ref_name(sub)
    return _resolve(DEFS[name]) if name in DEFS else sub


def describe(sub: Mapping[str, Any]) -> str:
    """What a schema branch expects, in words."""
    name = _ref_name(sub)
    if name in _REF_WORDS:
        return _REF_WORDS[name]
    sub = _resolve(sub)
    if "const" in sub:
        return json.dumps(sub["const"])
    kind = sub.get("type")
    if kind == "object" and set(sub.get("properties", {})) == {"that", "message"}:
        return "a mapping {that, message}"
    if kind == "array" and sub.get("items", {}).get("type") == "string":
        return "a list of strings"
    if kind in ("integer", "number"):
        if "minimum" in sub:
            return f"{TYPE_WORDS[kind]} >= {sub['minimum']}"
        if "exclusiveMinimum" in sub:
            return f"{TYPE_WORDS[kind]} > {sub['exclusiveMinimum']}"
    if isinstance(kind, str):
        return TYPE_WORDS.get(kind, kind)
    return "a valid value"


def _has_type(kind: str, value: Any) -> bool:
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "null": value is None,
    }.get(kind, False)


def accepts(sub: Mapping[str, Any], value: Any) -> bool:
    """Whether a branch of an anyOf is the one meant for a value of this type."""
    if _ref_name(sub) == "template":
        return is_template(value)
    sub = _resolve(sub)
    if "const" in sub:
        return type(sub["const"]) is type(value)
    kind = sub.get("type")
    if isinstance(kind, str):
        return _has_type(kind, value)
    if isinstance(kind, list):
        return any(_has_type(k, value) for k in kind)
    return False
