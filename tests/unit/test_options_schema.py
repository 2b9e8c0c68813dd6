"""The workflow options' value lists are the JSON Schema's: read from it, and equal to it."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from playbook import options
from playbook.options.search_attributes import VALUE_CHECKS

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "playbook.schema.json").read_text("utf-8")
)
DEFS: dict[str, Any] = SCHEMA["$defs"]
CREATE: dict[str, Any] = DEFS["action_create"]["properties"]


def test_policies_are_the_schemas() -> None:
    reuse = CREATE["id_reuse_policy"]["enum"]
    assert tuple(reuse) == options.ID_REUSE_POLICIES
    assert reuse == [
        "allow_duplicate", "allow_duplicate_failed_only", "reject_duplicate", "terminate_if_running"
    ]  # fmt: skip
    conflict = CREATE["id_conflict_policy"]["enum"]
    assert tuple(conflict) == options.ID_CONFLICT_POLICIES
    assert conflict == ["fail", "use_existing", "terminate_existing"]


def test_search_attribute_types_are_the_schemas() -> None:
    typed = DEFS["search_attribute_typed"]["properties"]["type"]["enum"]
    assert tuple(typed) == options.SEARCH_ATTRIBUTE_TYPES
    assert typed == ["keyword", "text", "int", "double", "bool", "datetime", "keyword_list"]
    assert list(VALUE_CHECKS) == typed  # a value check for each type


def test_wait_stages_are_the_schemas_for_both_actions() -> None:
    for action in ("action_start_update", "action_update_with_start"):
        stages = DEFS[action]["properties"]["wait_for_stage"]["enum"]
        assert tuple(stages) == options.WAIT_STAGES
        assert stages == ["accepted", "completed"]


def test_option_keys_are_the_schemas() -> None:
    assert tuple(k for k in CREATE if k not in ("type", "run_id")) == options.WORKFLOW_OPTION_KEYS
    assert set(CREATE) == {"type", "run_id", *options.WORKFLOW_OPTION_KEYS}
    assert options.WORKFLOW_OPTION_KEYS == (
        "workflow_id", "task_queue", "id_reuse_policy", "id_conflict_policy", "execution_timeout",
        "run_timeout", "task_timeout", "retry", "cron_schedule", "memo", "search_attributes",
        "start_delay", "priority",
    )  # fmt: skip
    durations = [k for k, v in CREATE.items() if v.get("$ref") == "#/$defs/duration"]
    assert tuple(durations) == options.DURATION_KEYS
    assert durations == ["execution_timeout", "run_timeout", "task_timeout", "start_delay"]


def test_retry_and_priority_keys_are_the_schemas() -> None:
    assert CREATE["retry"]["$ref"] == "#/$defs/workflow_retry"
    retry = list(DEFS["workflow_retry"]["properties"])
    assert tuple(retry) == options.RETRY_KEYS
    assert retry == [
        "initial_interval", "backoff_coefficient", "maximum_interval", "maximum_attempts",
        "non_retryable_error_types",
    ]  # fmt: skip
    assert CREATE["priority"]["$ref"] == "#/$defs/priority"
    priority = list(DEFS["priority"]["properties"])
    assert tuple(priority) == options.PRIORITY_KEYS
    assert priority == ["priority_key", "fairness_key", "fairness_weight"]


def test_the_checks_accept_every_value_the_schema_lists() -> None:
    for key in ("id_reuse_policy", "id_conflict_policy"):
        for policy in CREATE[key]["enum"]:
            assert options.check_workflow_options({"task_queue": "q", key: policy})[1] == []
    for stage in DEFS["action_start_update"]["properties"]["wait_for_stage"]["enum"]:
        assert options.check_wait_stage(stage) is None


def test_options_do_not_import_temporalio() -> None:
    code = "import sys, playbook.options; print('temporalio' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"
