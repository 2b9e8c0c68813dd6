"""The YAML 1.2 core schema: which tag a plain scalar gets, and the value it stands for.

Also how nodes and tags are named in messages. Scalar values are built here by hand; no
PyYAML constructor runs.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import MappingNode, Node, SequenceNode

from playbook import numbers

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
SEQ, MAP, MERGE = _T + "seq", _T + "map", _T + "merge"
SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, MERGE})

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def implicit_tag(value: str) -> str:
    """The tag of a plain (unquoted, untagged) scalar written as ``value``."""
    if _NULL.fullmatch(value):
        return NULL
    if value in _TRUE or value in _FALSE:
        return BOOL
    if _INT.fullmatch(value):
        return INT
    if _FLOAT.fullmatch(value):
        return FLOAT
    return MERGE if value == "<<" else STR


def scalar_value(tag: str, text: str) -> tuple[Any, str | None]:
    """The value of a scalar with ``tag``, and the problem with it (None if there is none)."""
    try:
        if tag in (STR, MERGE):
            return text, None
        if tag == NULL and _NULL.fullmatch(text):
            return None, None
        if tag == BOOL and (text in _TRUE or text in _FALSE):
            return text in _TRUE, None
        if tag == INT and _INT.fullmatch(text):
            return _to_int(text), None
        if tag == FLOAT and (_INT.fullmatch(text) or _FLOAT.fullmatch(text)):
            return _to_float(text), None
    except (ValueError, OverflowError):
        return text, f"the number {_clip(text)} is too large; quote it to keep it as a string"
    if tag not in SCALAR_TAGS:
        return None, tag_message(tag, "a scalar")
    wanted = {NULL: "null", BOOL: "a boolean (true or false)", INT: "an integer"}.get(
        tag, "a number"
    )
    return text, f"{_clip(text)} is not {wanted}; fix the value or remove the {_short(tag)} tag"


def _to_int(text: str) -> int:
    if text.startswith("0o"):
        value = int(text[2:], 8)
    elif text.startswith("0x"):
        value = int(text[2:], 16)
    else:
        value = int(text, 10)  # `007` is 7, as in the YAML 1.2 core schema
    # Python reads hex and octal of any length but cannot write out the decimal of more
    # than 4,300 digits (reading longer decimals fails by itself): refuse it here.
    if numbers.too_big(value):
        raise ValueError(text)
    return value


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(_to_int(text)) if _INT.fullmatch(text) else float(text)


def kind(node: Node) -> str:
    """What a node is, in the words of a message: ``a list``, ``null``..."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    kinds = {NULL: "null", BOOL: "a boolean", INT: "a number", FLOAT: "a number"}
    return kinds.get(node.tag, "a string")


def _short(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


def tag_message(tag: str, on: str) -> str:
    """The problem with ``tag`` written on ``on`` ("a scalar", "a key", "a list"...)."""
    if tag in SCALAR_TAGS or tag in (SEQ, MAP):
        return f"the tag {_short(tag)} does not fit {on}; remove the tag"
    return f"tags are not supported in playbooks (found {_short(tag)}); remove the tag and write the value as plain YAML"


def _clip(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
