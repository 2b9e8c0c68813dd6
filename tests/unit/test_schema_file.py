"""The JSON Schema file itself: valid, complete, documented, and strict where it must be."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[2]
SCHEMA_PATH = ROOT / "schemas" / "playbook.schema.json"
REFERENCE_PATH = ROOT / "docs" / "reference.md"

ACTIONS = {
    "create",
    "start",
    "signal",
    "signal_with_start",
    "query",
    "update",
    "start_update",
    "await_update",
    "update_with_start",
    "await_result",
    "cancel",
    "terminate",
    "describe",
    "list",
    "count",
    "history",
    "task_queue",
    "assert",
    "sleep",
    "log",
    "set",
    "parallel",
    "foreach",
    "include",
    "confirm",
    # SPEC section 12
    "batch",
    "reset",
    "create_schedule",
    "describe_schedule",
    "update_schedule",
    "pause_schedule",
    "unpause_schedule",
    "trigger_schedule",
    "backfill_schedule",
    "delete_schedule",
    "list_schedules",
}

# SPEC section 2, without its `# yaml-language-server` comment line.
SPEC_EXAMPLE = (Path(__file__).parents[1] / "data" / "spec_example.yaml").read_text()

# Keys whose values are data (instances), not subschemas.
_DATA_KEYWORDS = {"examples", "default", "const", "enum"}


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def spec_example() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SPEC_EXAMPLE)
    return document


def errors(document: Any) -> list[str]:
    return [error.message for error in validator().iter_errors(document)]


def located(document: Any) -> list[tuple[str, str]]:
    """Each error as (dotted path of the offending value, message)."""
    return [
        (".".join(str(part) for part in error.absolute_path), error.message)
        for error in validator().iter_errors(document)
    ]


def walk_properties(node: Any, path: str = "#") -> Iterator[tuple[str, str, Any]]:
    """Every (path, property name, property schema) in every `properties` map."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{path}/properties/{name}", name, sub
                    yield from walk_properties(sub, f"{path}/properties/{name}")
            else:
                yield from walk_properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk_properties(item, f"{path}/{i}")


def resolve(schema: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    """Follow a bare `$ref` (the action properties of a step) to its definition."""
    if set(sub) == {"$ref"}:
        target: dict[str, Any] = schema
        for part in sub["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return target
    return sub


def playbook(*steps: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "name": "t", "steps": list(steps), **top}


def stub(**options: Any) -> dict[str, Any]:
    return {"id": "order", "create": {"type": "OrderWorkflow", "task_queue": "orders", **options}}


# ------------------------------------------------------------------------ the file


def test_schema_passes_the_2020_12_metaschema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://temporal-playbook.dev/schemas/playbook.schema.json"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_spec_example_validates() -> None:
    assert errors(spec_example()) == []


def test_action_defs_are_exactly_the_actions() -> None:
    defs = load_schema()["$defs"]
    assert {k.removeprefix("action_") for k in defs if k.startswith("action_")} == ACTIONS


def test_step_has_one_ref_property_per_action_and_one_of_required() -> None:
    step = load_schema()["$defs"]["step"]
    assert step["additionalProperties"] is False
    for action in ACTIONS:
        assert step["properties"][action] == {"$ref": f"#/$defs/action_{action}"}
    assert sorted(step["oneOf"], key=str) == sorted(({"required": [a]} for a in ACTIONS), key=str)
    common = set(step["properties"]) - ACTIONS
    assert common == {
        "id",
        "name",
        "when",
        "timeout",
        "retry",
        "expect",
        "continue_on_error",
        "tags",
    }


def test_every_property_has_a_description_and_examples() -> None:
    schema = load_schema()
    missing = []
    for path, _name, sub in walk_properties(schema):
        target = resolve(schema, sub)
        description = target.get("description")
        examples = target.get("examples")
        if not (isinstance(description, str) and description.strip()):
            missing.append(f"{path}: description")
        if not (isinstance(examples, list) and examples):
            missing.append(f"{path}: examples")
    assert missing == []


def test_every_example_is_valid_for_its_property() -> None:
    schema = load_schema()
    root = jsonschema.Draft202012Validator(schema)
    wrong = []
    for path, _name, sub in walk_properties(schema):
        target = resolve(schema, sub)
        check = root.evolve(schema=target)
        for example in target.get("examples", []):
            wrong += [f"{path}: {example!r}: {e.message}" for e in check.iter_errors(example)]
    assert wrong == []


def test_every_property_name_is_in_the_reference() -> None:
    reference = REFERENCE_PATH.read_text(encoding="utf-8")
    names = {name for _path, name, _sub in walk_properties(load_schema())}
    assert len(names) > 80
    assert sorted(n for n in names if f"`{n}`" not in reference) == []


def test_objects_are_closed_except_free_form_values() -> None:
    open_objects = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False:
                open_objects.append(path)
            for key, value in node.items():
                if key not in _DATA_KEYWORDS:
                    visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                visit(item, f"{path}/{i}")

    visit(load_schema(), "#")
    assert open_objects == []


# ------------------------------------------------------------------------ accepted


@pytest.mark.parametrize(
    "value",
    [
        "500ms",
        "10s",
        "1m30s",
        "2h",
        "1d",
        "1.5s",
        "PT10S",
        "P1DT2H",
        "PT1M30S",
        "10",
        10,
        0.5,
        0,
        "{{ inputs.wait }}",
    ],
)
def test_durations_accepted(value: Any) -> None:
    assert errors(playbook({"sleep": value})) == []


@pytest.mark.parametrize("value", ["10 s", "ten seconds", "1x", "P", "PT", "P1DT", -1, True, ""])
def test_bad_durations_rejected(value: Any) -> None:
    assert located(playbook({"sleep": value})) == [
        ("steps.0.sleep", f"{value!r} is not valid under any of the given schemas")
    ]


def test_every_action_in_its_fullest_form_validates() -> None:
    document = playbook(
        stub(
            workflow_id="order-{{ uuid() }}",
            id_reuse_policy="allow_duplicate_failed_only",
            id_conflict_policy="use_existing",
            execution_timeout="10m",
            run_timeout="5m",
            task_timeout="10s",
            retry={
                "initial_interval": "1s",
                "backoff_coefficient": 2,
                "maximum_interval": "1m",
                "maximum_attempts": 3,
                "non_retryable_error_types": ["InvalidOrder"],
            },
            memo={"ticket": "OPS-1"},
            search_attributes={
                "CustomerId": "alice",
                "Total": 20,
                "Price": 1.5,
                "Vip": True,
                "Labels": ["a", "b"],
                "PlacedAt": {"type": "datetime", "value": "2024-01-02T03:04:05Z"},
            },
            start_delay="30s",
            priority={"priority_key": 1, "fairness_key": "tenant-42", "fairness_weight": 2.5},
        ),
        {"id": "old", "create": {"workflow_id": "order-1", "run_id": "abc"}},
        {"start": {"workflow": "order", "args": []}},
        {"signal": {"workflow": "order", "signal": "s", "args": "{{ vars.args }}"}},
        {
            "signal_with_start": {
                "workflow": "order",
                "signal": "s",
                "signal_args": [1],
                "start_args": [2],
            }
        },
        {"query": {"workflow": "order", "query": "q", "args": [None]}},
        {"update": {"workflow": "order", "update": "u", "args": [], "update_id": "u-1"}},
        {
            "id": "started",
            "start_update": {
                "workflow": "order",
                "update": "u",
                "wait_for_stage": "completed",
                "update_id": "u-2",
            },
        },
        {"await_update": {"workflow": "order", "update_id": "u-2", "timeout": "1m"}},
        {
            "update_with_start": {
                "workflow": "order",
                "update": "u",
                "update_args": [],
                "start_args": [],
                "wait_for_stage": "accepted",
                "update_id": "x",
            }
        },
        {
            "await_result": {"workflow": "order", "timeout": "1m", "follow_runs": False},
            "expect": {"status": "timed_out"},
        },
        {"cancel": {"workflow": "order", "reason": "r", "if_running": "{{ inputs.quiet }}"}},
        {
            "terminate": {
                "workflow": "order",
                "reason": "r",
                "details": [{"a": 1}],
                "if_running": True,
            }
        },
        {"describe": {"workflow": "old"}, "expect": {"result": {"status": "running"}}},
        {"id": "found", "list": {"query": "WorkflowType = 'Order'", "limit": "{{ vars.n }}"}},
        {"count": {"query": "ExecutionStatus = 'Running'", "group_by": "ExecutionStatus"}},
        {"history": {"workflow": "old", "event_types": ["ActivityTaskFailed"]}},
        {"task_queue": {"name": "orders", "kind": "activity"}},
        {"assert": ["1 == 1", "vars.x is defined"]},
        {"assert": {"that": "1 == 1"}},
        {"log": "hello {{ run.id }}"},
        {"set": {"x": 1, "Y": {"nested": [1, 2]}}},
        {"parallel": {"max_concurrency": 2, "steps": [{"sleep": "1s"}, {"sleep": 2}]}},
        {
            "foreach": {
                "items": "{{ vars.customers }}",
                "as": "customer",
                "concurrency": 3,
                "steps": [{"log": "{{ customer }} {{ index }}"}],
            }
        },
        {"include": {"playbook": "other.yaml", "inputs": {"customer": "bob"}}},
        {
            "confirm": "Really?",
            "id": "ok",
            "name": "Ask",
            "when": "inputs.ask",
            "timeout": "1h",
            "continue_on_error": False,
            "tags": ["ops"],
            "retry": {
                "until": "result",
                "timeout": "1m",
                "interval": "1s",
                "backoff": 2,
                "attempts": 3,
            },
            "expect": {"status": "failed", "error": {"type": "Denied", "message": "no.*"}},
        },
        connection={
            "address": "localhost:7233",
            "namespace": "default",
            "profile": "dev",
            "config_file": "temporal.toml",
            "api_key": "{{ env.KEY }}",
            "tls": {
                "server_name": "s",
                "server_ca_cert": "ca.pem",
                "client_cert": "c.pem",
                "client_key": "c.key",
            },
            "identity": "ci",
            "headers": {"x-team": "payments"},
            "connect_timeout": "10s",
            "lazy": True,
        },
    )
    assert errors(document) == []


# ------------------------------------------------------------------------ rejected


def test_unknown_top_level_key_rejected() -> None:
    assert located({**spec_example(), "stepz": []}) == [
        ("", "Additional properties are not allowed ('stepz' was unexpected)")
    ]


def test_unknown_nested_key_rejected() -> None:
    document = spec_example()
    document["steps"][3]["retry"]["intervall"] = "1s"
    assert located(document) == [
        ("steps.3.retry", "Additional properties are not allowed ('intervall' was unexpected)")
    ]


def test_two_actions_in_one_step_rejected() -> None:
    assert located(playbook({"sleep": "1s", "log": "hi"})) == [
        (
            "steps.0",
            "{'sleep': '1s', 'log': 'hi'} is valid under each of "
            "{'required': ['log']}, {'required': ['sleep']}",
        )
    ]


def test_step_without_an_action_rejected() -> None:
    assert located(playbook({"id": "lonely"})) == [
        ("steps.0", "{'id': 'lonely'} is not valid under any of the given schemas")
    ]


def test_wait_for_stage_admitted_rejected() -> None:
    step = {"start_update": {"workflow": "order", "update": "u", "wait_for_stage": "admitted"}}
    assert located(playbook(stub(), step)) == [
        (
            "steps.1.start_update.wait_for_stage",
            "'admitted' is not one of ['accepted', 'completed']",
        )
    ]
    step = {"update_with_start": {"workflow": "order", "update": "u", "wait_for_stage": "admitted"}}
    assert errors(playbook(stub(), step)) == ["'admitted' is not one of ['accepted', 'completed']"]


@pytest.mark.parametrize("step_id", ["Order", "1st", "order-1", "", "order id"])
def test_bad_step_id_rejected(step_id: str) -> None:
    assert located(playbook({"id": step_id, "sleep": "1s"})) == [
        ("steps.0.id", f"{step_id!r} does not match '^[a-z_][a-z0-9_]*$'")
    ]


def test_bad_workflow_reference_rejected() -> None:
    assert located(playbook({"start": {"workflow": "Order"}})) == [
        ("steps.0.start.workflow", "'Order' does not match '^[a-z_][a-z0-9_]*$'")
    ]


def test_bad_id_reuse_policy_rejected() -> None:
    assert located(playbook(stub(id_reuse_policy="reject_duplicates"))) == [
        (
            "steps.0.create.id_reuse_policy",
            "'reject_duplicates' is not one of ['allow_duplicate', "
            "'allow_duplicate_failed_only', 'reject_duplicate', 'terminate_if_running']",
        )
    ]


def test_enums_do_not_accept_templates() -> None:
    assert errors(playbook(stub(id_conflict_policy="{{ vars.policy }}"))) == [
        "'{{ vars.policy }}' is not one of ['fail', 'use_existing', 'terminate_existing']"
    ]
    assert errors(playbook({"sleep": 1, "expect": {"status": "{{ vars.s }}"}})) == [
        "'{{ vars.s }}' is not one of "
        "['succeeded', 'failed', 'completed', 'canceled', 'terminated', 'timed_out',"
        " 'continued_as_new']"
    ]


def test_new_stub_needs_task_queue_and_existing_needs_workflow_id() -> None:
    assert errors(playbook({"id": "w", "create": {"type": "OrderWorkflow"}})) == [
        "'task_queue' is a required property"
    ]
    assert errors(playbook({"id": "w", "create": {"task_queue": "orders"}})) == [
        "'type' is a required property"
    ]
    assert errors(playbook({"id": "w", "create": {"workflow_id": "x", "run_id": "y"}})) == []
    assert errors(playbook({"id": "w", "create": {}})) == ["'workflow_id' is a required property"]


def test_run_id_only_for_existing_executions() -> None:
    assert located(playbook(stub(run_id="abc"))) == [
        ("steps.0.create", "'type' is not one of ['workflow_id', 'run_id']"),
        ("steps.0.create", "'task_queue' is not one of ['workflow_id', 'run_id']"),
    ]


def test_expressions_take_no_braces() -> None:
    no_braces = r"'^(?![\\s\\S]*(?:\\{\\{|\\{%))[\\s\\S]*\\S'"
    assert errors(playbook({"sleep": 1, "when": "{{ inputs.go }}"})) == [
        f"'{{{{ inputs.go }}}}' does not match {no_braces}"
    ]
    assert errors(playbook({"sleep": 1, "retry": {"until": "{% if x %}"}})) == [
        f"'{{% if x %}}' does not match {no_braces}"
    ]
    assert errors(playbook({"assert": "{{ 1 == 1 }}"})) == [
        "'{{ 1 == 1 }}' is not valid under any of the given schemas"
    ]
    assert errors(playbook({"assert": []})) == ["[] is not valid under any of the given schemas"]
    assert errors(playbook({"sleep": 1, "when": True})) == ["True is not of type 'string'"]


def test_version_name_and_steps_required() -> None:
    assert errors({"version": 1, "name": "t", "steps": []}) == ["[] should be non-empty"]
    assert errors({"version": 2, "name": "t", "steps": [{"sleep": 1}]}) == ["1 was expected"]
    assert errors({"version": 1, "steps": [{"sleep": 1}]}) == ["'name' is a required property"]


def test_tls_is_true_or_files() -> None:
    assert errors(playbook({"sleep": 1}, connection={"tls": True})) == []
    assert errors(playbook({"sleep": 1}, connection={"tls": "{{ inputs.tls }}"})) == []
    assert errors(playbook({"sleep": 1}, connection={"tls": False})) == [
        "False is not valid under any of the given schemas"
    ]
    assert errors(playbook({"sleep": 1}, connection={"tls": {"ca": "x"}})) == [
        "{'ca': 'x'} is not valid under any of the given schemas"
    ]


def test_foreach_loop_variable_cannot_shadow_the_context() -> None:
    step = {"foreach": {"items": [1], "as": "steps", "steps": [{"sleep": 1}]}}
    assert located(playbook(step)) == [
        (
            "steps.0.foreach.as",
            "'steps' should not be valid under "
            "{'enum': ['inputs', 'vars', 'env', 'steps', 'run', 'index']}",
        )
    ]


def test_search_attribute_types_are_closed() -> None:
    bad = stub(search_attributes={"At": {"type": "date", "value": "2024-01-02"}})
    assert located(playbook(bad)) == [
        (
            "steps.0.create.search_attributes",
            "{'At': {'type': 'date', 'value': '2024-01-02'}} "
            "is not valid under any of the given schemas",
        )
    ]


def test_nested_steps_are_checked() -> None:
    step = {"parallel": {"steps": [{"foreach": {"items": [1], "steps": [{"slep": 1}]}}]}}
    assert located(playbook(step)) == [
        (
            "steps.0.parallel.steps.0.foreach.steps.0",
            "Additional properties are not allowed ('slep' was unexpected)",
        ),
        (
            "steps.0.parallel.steps.0.foreach.steps.0",
            "{'slep': 1} is not valid under any of the given schemas",
        ),
    ]
    assert errors(playbook({"sleep": 1}, **{"finally": [{"parallel": {"steps": []}}]})) == [
        "[] should be non-empty"
    ]
