"""Inputs: parsing -i values by type, defaults, every problem at once, secrets, files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from playbook.errors import InvalidInputs, UsageError
from playbook.inputs import (
    load_inputs_file,
    parse_cli_inputs,
    resolve_inputs,
    secret_names,
)

SPECS: dict[str, Any] = {
    "customer": {
        "type": "string",
        "default": "alice",
        "description": "Customer to place the order for",
    },
    "count": {"type": "integer", "description": "How many orders"},
    "price": {"type": "number"},
    "express": {"type": "boolean", "default": False},
    "address": {"type": "object"},
    "skus": {"type": "array", "default": ["ABC"]},
    "order_id": {},
    "token": {"type": "string", "required": True, "secret": True, "description": "API token"},
}


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("count", "5", 5),
        ("count", "-12", -12),
        ("order_id", "007", "007"),
        ("customer", "", ""),
        ("price", "2.5", 2.5),
        ("price", "3", 3),
        ("price", "1e3", 1000.0),
        ("express", "true", True),
        ("express", "YES", True),
        ("express", "1", True),
        ("express", "no", False),
        ("express", "False", False),
        ("express", "0", False),
        ("address", '{"city": "Paris", "zip": "75001"}', {"city": "Paris", "zip": "75001"}),
        ("address", "{city: Paris, since: 2024-01-02}", {"city": "Paris", "since": "2024-01-02"}),
        ("skus", '["A", "B"]', ["A", "B"]),
        ("skus", "[A, 7, yes]", ["A", 7, "yes"]),
    ],
)
def test_cli_values_are_parsed_by_type(name: str, text: str, value: Any) -> None:
    resolved = resolve_inputs(SPECS, {name: text, "token": "t"}, from_cli=True)
    assert resolved[name] == value
    assert type(resolved[name]) is type(value)


def test_defaults_and_absent_optional_inputs() -> None:
    resolved = resolve_inputs(SPECS, {"token": "secret-token"}, from_cli=True)
    assert resolved == {
        "customer": "alice",
        "count": None,
        "price": None,
        "express": False,
        "address": None,
        "skus": ["ABC"],
        "order_id": None,
        "token": "secret-token",
    }
    resolved["skus"].append("changed")
    assert SPECS["skus"]["default"] == ["ABC"]  # defaults are copied, not shared


def test_values_from_a_file_or_code_keep_their_types() -> None:
    given = {"count": 3, "address": {"a": 1}, "token": "t", "order_id": "007"}
    assert resolve_inputs(SPECS, given, from_cli=False)["count"] == 3
    with pytest.raises(InvalidInputs) as caught:
        resolve_inputs(SPECS, {"count": "3", "token": "t"}, from_cli=False)
    assert caught.value.problems == [
        "input 'count' (How many orders): '3' is not an integer; give a whole number such as 5"
    ]


def test_every_problem_at_once_with_descriptions() -> None:
    given = {
        "count": "five",
        "express": "perhaps",
        "skus": "{a: 1}",
        "custmer": "bob",
        "colour": "red",
    }
    with pytest.raises(InvalidInputs) as caught:
        resolve_inputs(SPECS, given, from_cli=True)
    assert caught.value.problems == [
        "input 'count' (How many orders): 'five' is not an integer; give a whole number such as 5",
        "input 'express': 'perhaps' is not a boolean; give true, false, yes, no, 1 or 0",
        "input 'skus': '{a: 1}' is not a list; give a JSON or YAML list such as [\"a\", \"b\"]",
        "unknown input 'custmer'; did you mean 'customer'?",
        "unknown input 'colour'; declared inputs: customer, count, price, express, address, skus, "
        "order_id, token",
        "input 'token' (API token): missing required input; give it with -i token=VALUE or in "
        "--inputs-file",
    ]
    assert str(caught.value).startswith("invalid inputs:\n  - input 'count' (How many orders)")
    assert caught.value.exit_code == 2


def test_missing_required_inputs_may_be_allowed() -> None:
    assert "token" not in resolve_inputs(SPECS, {}, from_cli=True, allow_missing=True)


def test_secret_values_never_appear_in_messages() -> None:
    specs = {"pin": {"type": "integer", "secret": True}}
    with pytest.raises(InvalidInputs) as caught:
        resolve_inputs(specs, {"pin": "hunter2"}, from_cli=True)
    assert caught.value.problems == [
        "input 'pin': *** is not an integer; give a whole number such as 5"
    ]
    with pytest.raises(InvalidInputs) as caught:
        resolve_inputs(specs, {"pin": ["hunter2"]}, from_cli=False)
    assert "hunter2" not in str(caught.value)


def test_secret_names() -> None:
    specs = {"a": {"secret": True}, "b": {"secret": False}, "c": {}, "d": {"secret": "{{ 1 }}"}}
    assert secret_names(specs) == {"a", "d"}
    assert secret_names(SPECS) == {"token"}


def test_an_input_of_a_playbook_without_inputs() -> None:
    with pytest.raises(InvalidInputs) as caught:
        resolve_inputs(None, {"x": "1"}, from_cli=True)
    assert caught.value.problems == ["unknown input 'x'; the playbook declares no inputs"]


def test_parse_cli_inputs() -> None:
    assert parse_cli_inputs(["a=1", "url=http://x/?q=1", "empty=", "a=2"]) == {
        "a": "2",
        "url": "http://x/?q=1",
        "empty": "",
    }
    with pytest.raises(UsageError) as caught:
        parse_cli_inputs(["ok=1", "novalue", "=x"])
    assert str(caught.value) == (
        "-i/--input takes NAME=VALUE, got 'novalue', '=x'; write it as -i name=value "
        "(the name is letters, digits and _)"
    )
    assert caught.value.exit_code == 2


def test_load_inputs_file(tmp_path: Path) -> None:
    yaml_file = tmp_path / "in.yaml"
    yaml_file.write_text("day: 2024-01-02\ncount: 3\nflag: yes\n", encoding="utf-8")
    assert load_inputs_file(yaml_file) == {"day": "2024-01-02", "count": 3, "flag": "yes"}
    json_file = tmp_path / "in.json"
    json_file.write_text('{"customer": "bob", "skus": ["A"]}', encoding="utf-8")
    assert load_inputs_file(json_file) == {"customer": "bob", "skus": ["A"]}


def test_a_bad_inputs_file(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InvalidInputs) as caught:
        load_inputs_file(path)
    assert caught.value.problems == [
        f"{path}:1:1: an inputs file must hold a mapping of input names to values"
    ]
    with pytest.raises(InvalidInputs) as caught:
        load_inputs_file(tmp_path / "missing.yaml")
    assert caught.value.problems == [
        f"{tmp_path}/missing.yaml:1:1: the file does not exist; check the path"
    ]
