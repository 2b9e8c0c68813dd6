"""The check of a create step's workflow options as a whole: each option, the options
that cannot go together (SPEC section 7), those that only show with the action a stub is
used for, and ``wait_for_stage``. Values that are still templates are checked once
rendered: the loader calls these before anything renders, the client core after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playbook.durations import parse_duration
from playbook.options.groups import check_priority, check_retry
from playbook.options.model import Problems, WorkflowOptions
from playbook.options.search_attributes import check_search_attributes
from playbook.options.vocabulary import (
    ADMITTED_REASON,
    DURATION_KEYS,
    ID_CONFLICT_POLICIES,
    ID_REUSE_POLICIES,
    WAIT_STAGES,
    WORKFLOW_OPTION_KEYS,
)
from playbook.suggest import did_you_mean, one_of
from playbook.templating import is_template


def check_workflow_options(
    options: Mapping[str, Any], *, prefix: str = ""
) -> tuple[WorkflowOptions | None, Problems]:
    """Check a ``create`` step's options; return them normalised, or every problem.

    Values that are still templates are skipped (they are checked once rendered).
    """
    problems: Problems = []
    out: dict[str, Any] = {}

    def bad(key: str, message: str) -> None:
        problems.append((f"{prefix}{key}", message))

    def given(key: str) -> bool:
        return options.get(key) is not None and not is_template(options[key])

    for key in options:
        if key not in WORKFLOW_OPTION_KEYS and key != "type":
            bad(key, f"unknown workflow option{did_you_mean(key, WORKFLOW_OPTION_KEYS)}")

    task_queue = options.get("task_queue")
    if task_queue is None:
        bad("task_queue", "task_queue is required for a new workflow")
    elif not isinstance(task_queue, str) or not task_queue:
        bad("task_queue", f"task_queue must be a non-empty string, not {task_queue!r}")
    else:
        out["task_queue"] = task_queue

    workflow_id = options.get("workflow_id")
    if workflow_id is not None:
        if not isinstance(workflow_id, str) or not workflow_id:
            bad("workflow_id", f"workflow_id must be a non-empty string, not {workflow_id!r}")
        else:
            out["workflow_id"] = workflow_id

    for key, choices in (
        ("id_reuse_policy", ID_REUSE_POLICIES),
        ("id_conflict_policy", ID_CONFLICT_POLICIES),
    ):
        if given(key):
            if options[key] not in choices:
                bad(key, one_of(str(options[key]), choices))
            else:
                out[key] = options[key]

    for key in DURATION_KEYS:
        if given(key):
            try:
                out[key] = parse_duration(options[key])
            except ValueError as e:
                bad(key, str(e))

    if given("retry"):
        out["retry"], found = check_retry(options["retry"])
        problems.extend(_within(prefix, "retry", found))

    cron = options.get("cron_schedule")
    if given("cron_schedule"):
        if not isinstance(cron, str) or (
            len(cron.split()) not in (5, 6, 7) and not cron.startswith("@")
        ):
            bad(
                "cron_schedule",
                f"{cron!r} is not a cron schedule such as '*/5 * * * *' or '@hourly'",
            )
        else:
            out["cron_schedule"] = cron

    memo = options.get("memo")
    if given("memo"):
        if not isinstance(memo, Mapping):
            bad("memo", f"memo must be a mapping of names to values, not {memo!r}")
        else:
            out["memo"] = dict(memo)

    if given("search_attributes"):
        out["search_attributes"], found = check_search_attributes(options["search_attributes"])
        problems.extend(_within(prefix, "search_attributes", found))

    if given("priority"):
        out["priority"], found = check_priority(options["priority"])
        problems.extend(_within(prefix, "priority", found))

    problems.extend((f"{prefix}{k}", m) for k, m in _check_combinations(options))
    if problems or "task_queue" not in out:
        return None, problems
    return WorkflowOptions(**out), []


def _within(prefix: str, group: str, found: Problems) -> Problems:
    """A group's problems keyed by their full path ("" is the group itself)."""
    return [(f"{prefix}{group}.{key}" if key else f"{prefix}{group}", m) for key, m in found]


def _check_combinations(options: Mapping[str, Any]) -> Problems:
    """Policies and schedules that cannot go together (SPEC section 7)."""
    problems: Problems = []
    reuse = options.get("id_reuse_policy")
    conflict = options.get("id_conflict_policy")
    if reuse == "terminate_if_running" and conflict is not None:
        problems.append(
            (
                "id_reuse_policy",
                "id_reuse_policy 'terminate_if_running' cannot be combined with an id_conflict_policy; "
                "use id_conflict_policy 'terminate_existing' alone instead",
            )
        )
    if reuse == "reject_duplicate" and conflict == "terminate_existing":
        problems.append(
            (
                "id_conflict_policy",
                "id_conflict_policy 'terminate_existing' cannot be combined with id_reuse_policy "
                "'reject_duplicate'; choose one",
            )
        )
    if options.get("cron_schedule") is not None and options.get("start_delay") is not None:
        problems.append(
            (
                "start_delay",
                "start_delay cannot be combined with cron_schedule; remove one of them",
            )
        )
    return problems


def check_for_action(options: Mapping[str, Any], action: str) -> Problems:
    """Problems of a stub's options that only show with the action it is used for."""
    problems: Problems = []
    if action == "update_with_start":
        if options.get("id_conflict_policy") is None:
            problems.append(
                (
                    "id_conflict_policy",
                    "update_with_start needs an id_conflict_policy on its workflow "
                    "(use_existing to join a running workflow, fail to refuse, terminate_existing)",
                )
            )
        for key in ("cron_schedule", "start_delay"):
            if options.get(key) is not None:
                problems.append((key, f"update_with_start cannot start a workflow that has {key}"))
    if action == "signal_with_start" and options.get("id_conflict_policy") == "fail":
        problems.append(
            (
                "id_conflict_policy",
                "signal_with_start cannot use id_conflict_policy 'fail' (the server rejects it: "
                "signal-with-start signals a running workflow); use use_existing or terminate_existing",
            )
        )
    return problems


def check_wait_stage(stage: Any) -> str | None:
    """The message for a bad ``wait_for_stage``, or None."""
    if stage == "admitted":
        return ADMITTED_REASON
    if stage not in WAIT_STAGES:
        return one_of(str(stage), WAIT_STAGES)
    return None
