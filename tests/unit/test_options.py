"""Workflow options: every bad value and combination, with the whole message."""

from datetime import datetime, timedelta, timezone

from playbook.options import (
    Priority,
    RetryPolicy,
    SearchAttribute,
    check_for_action,
    check_wait_stage,
    check_workflow_options,
    infer_search_attribute,
)


def problems(**options: object) -> list[tuple[str, str]]:
    checked, found = check_workflow_options({"task_queue": "q", **options})
    assert (checked is None) == bool(found)
    return found


def test_everything_normalised() -> None:
    checked, found = check_workflow_options(
        {
            "task_queue": "orders",
            "workflow_id": "order-1",
            "id_reuse_policy": "reject_duplicate",
            "id_conflict_policy": "use_existing",
            "execution_timeout": "10m",
            "run_timeout": 60,
            "task_timeout": "PT10S",
            "start_delay": "500ms",
            "retry": {
                "initial_interval": "1s",
                "backoff_coefficient": 2,
                "maximum_interval": "1m",
                "maximum_attempts": 3,
                "non_retryable_error_types": ["Bad"],
            },
            "memo": {"a": 1},
            "search_attributes": {"K": "v", "N": 3},
            "priority": {"priority_key": 2, "fairness_key": "t", "fairness_weight": 1.5},
        }
    )
    assert found == []
    assert checked is not None
    assert checked.execution_timeout == timedelta(minutes=10)
    assert checked.task_timeout == timedelta(seconds=10)
    assert checked.start_delay == timedelta(milliseconds=500)
    assert checked.retry == RetryPolicy(
        timedelta(seconds=1), 2.0, timedelta(minutes=1), 3, ("Bad",)
    )
    assert checked.search_attributes == (
        SearchAttribute("K", "keyword", "v"),
        SearchAttribute("N", "int", 3),
    )
    assert checked.priority == Priority(2, "t", 1.5)


def test_all_problems_at_once() -> None:
    found = check_workflow_options(
        {
            "id_reuse_policy": "reject_duplicates",
            "id_conflict_policy": "replace",
            "execution_timeout": "10 minutes",
            "retry": {"maximum_attempts": -1, "backof_coefficient": 2},
            "task_que": "x",
        }
    )[1]
    assert found == [
        ("task_que", "unknown workflow option; did you mean 'task_queue'?"),
        ("task_queue", "task_queue is required for a new workflow"),
        (
            "id_reuse_policy",
            "'reject_duplicates' is not one of allow_duplicate, "
            "allow_duplicate_failed_only, reject_duplicate, terminate_if_running; did you mean "
            "'reject_duplicate'?",
        ),
        ("id_conflict_policy", "'replace' is not one of fail, use_existing, terminate_existing"),
        (
            "execution_timeout",
            "'10 minutes' is not a duration; a duration is like 500ms, 10s, "
            "1m30s, 2h, 1d, PT10S, or a number of seconds",
        ),
        ("retry.backof_coefficient", "unknown retry option; did you mean 'backoff_coefficient'?"),
        ("retry.maximum_attempts", "must be a whole number >= 0 (0: unlimited), not -1"),
    ]


def test_incompatible_combinations() -> None:
    assert problems(id_reuse_policy="terminate_if_running", id_conflict_policy="fail") == [
        (
            "id_reuse_policy",
            "id_reuse_policy 'terminate_if_running' cannot be combined with an "
            "id_conflict_policy; use id_conflict_policy 'terminate_existing' alone instead",
        )
    ]
    assert problems(
        id_reuse_policy="reject_duplicate", id_conflict_policy="terminate_existing"
    ) == [
        (
            "id_conflict_policy",
            "id_conflict_policy 'terminate_existing' cannot be combined with "
            "id_reuse_policy 'reject_duplicate'; choose one",
        )
    ]
    assert problems(cron_schedule="@hourly", start_delay="1m") == [
        ("start_delay", "start_delay cannot be combined with cron_schedule; remove one of them")
    ]


def test_templates_are_left_for_later() -> None:
    assert problems(id_reuse_policy="{{ vars.policy }}", execution_timeout="{{ inputs.t }}") == []


def test_priority_and_cron_problems() -> None:
    assert problems(priority={"priority_key": 0, "fairness_weight": -1, "urgency": 1}) == [
        ("priority.urgency", "unknown priority option"),
        ("priority.priority_key", "must be a whole number >= 1 (1 runs first), not 0"),
        ("priority.fairness_weight", "must be a positive number, not -1"),
    ]
    assert problems(cron_schedule="every hour") == [
        ("cron_schedule", "'every hour' is not a cron schedule such as '*/5 * * * *' or '@hourly'")
    ]


def test_search_attribute_inference() -> None:
    assert infer_search_attribute("a", True) == (SearchAttribute("a", "bool", True), None)
    assert infer_search_attribute("a", 1.5) == (SearchAttribute("a", "double", 1.5), None)
    assert infer_search_attribute("a", ["x"]) == (SearchAttribute("a", "keyword_list", ["x"]), None)
    assert infer_search_attribute("a", {"type": "datetime", "value": "2024-01-02T03:04:05Z"}) == (
        SearchAttribute("a", "datetime", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        None,
    )
    assert infer_search_attribute("a", {"type": "int", "value": "x"}) == (
        None,
        "value 'x' is not a valid int",
    )
    assert infer_search_attribute("a", {"type": "date", "value": "x"}) == (
        None,
        "'date' is not one of keyword, text, int, double, bool, datetime, keyword_list; "
        "did you mean 'datetime'?",
    )
    assert infer_search_attribute("a", [1, 2])[1] == (
        "cannot infer the type of [1, 2]; give a string, integer, float, boolean or list of "
        "strings, or {type: keyword|text|int|double|bool|datetime|keyword_list, value: ...}"
    )


def test_action_specific_checks() -> None:
    assert check_for_action({"task_queue": "q"}, "update_with_start") == [
        (
            "id_conflict_policy",
            "update_with_start needs an id_conflict_policy on its workflow "
            "(use_existing to join a running workflow, fail to refuse, terminate_existing)",
        )
    ]
    assert check_for_action(
        {"id_conflict_policy": "fail", "cron_schedule": "@daily"}, "update_with_start"
    ) == [("cron_schedule", "update_with_start cannot start a workflow that has cron_schedule")]
    assert check_for_action({"id_conflict_policy": "fail"}, "signal_with_start") == [
        (
            "id_conflict_policy",
            "signal_with_start cannot use id_conflict_policy 'fail' (the "
            "server rejects it: signal-with-start signals a running workflow); use use_existing or "
            "terminate_existing",
        )
    ]
    assert check_for_action({"id_conflict_policy": "fail"}, "start") == []


def test_wait_stage() -> None:
    assert check_wait_stage("accepted") is None
    assert check_wait_stage("admitted") == (
        "wait_for_stage 'admitted' is not supported by Temporal (the client cannot wait for it); "
        "use 'accepted' or 'completed'"
    )
    assert check_wait_stage("complete") == (
        "'complete' is not one of accepted, completed; did you mean 'completed'?"
    )
