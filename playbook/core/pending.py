"""What a ``describe`` adds beyond the execution's info (SPEC section 10): its pending
activities (attempt, state, last failure), its pending child workflows and the versioning
info the server has, as plain values from the raw description."""

from __future__ import annotations

from typing import Any

import temporalio.api.workflow.v1 as wf
import temporalio.api.workflowservice.v1
import temporalio.converter

from playbook.core.errors import failure_facts
from playbook.core.plain import enum_word, plain, time_of

_ACTIVITY_STATE = wf.PendingActivityInfo.DESCRIPTOR.fields_by_name["state"].enum_type
_CLOSE_POLICY = wf.PendingChildExecutionInfo.DESCRIPTOR.fields_by_name[
    "parent_close_policy"
].enum_type
_BEHAVIOR = wf.WorkflowExecutionVersioningInfo.DESCRIPTOR.fields_by_name["behavior"].enum_type


async def last_failure(
    converter: temporalio.converter.DataConverter, activity: wf.PendingActivityInfo
) -> dict[str, Any] | None:
    """The activity's last failure as an error record (``{type, message, details}``)."""
    if not activity.HasField("last_failure"):
        return None
    try:
        error: BaseException | None = await converter.decode_failure(activity.last_failure)
    except Exception:  # a codec this client lacks: the failure's own words still tell
        return {"type": "Unknown", "message": activity.last_failure.message, "details": None}
    error_type, message, details = failure_facts(error)
    return {"type": error_type, "message": message, "details": details}


async def activity(
    converter: temporalio.converter.DataConverter, info: wf.PendingActivityInfo
) -> dict[str, Any]:
    return {
        "activity_id": info.activity_id,
        "activity_type": info.activity_type.name,
        "attempt": info.attempt,
        # 0: no limit
        "maximum_attempts": info.maximum_attempts or None,
        "state": enum_word(_ACTIVITY_STATE, info.state),
        "last_failure": await last_failure(converter, info),
        "last_worker_identity": info.last_worker_identity or None,
        "scheduled_time": time_of(info, "scheduled_time"),
        "last_started_time": time_of(info, "last_started_time"),
        "next_attempt_schedule_time": time_of(info, "next_attempt_schedule_time"),
    }


def child(info: wf.PendingChildExecutionInfo) -> dict[str, Any]:
    return {
        "workflow_id": info.workflow_id,
        "run_id": info.run_id or None,
        "type": info.workflow_type_name,
        "parent_close_policy": enum_word(_CLOSE_POLICY, info.parent_close_policy),
    }


async def versioning(
    converter: temporalio.converter.DataConverter, info: wf.WorkflowExecutionInfo
) -> dict[str, Any]:
    """``{behavior, deployment_name, build_id, override, last_worker_build_id}``: the
    Worker Deployment version the workflow is on (None for each the server does not know:
    all but ``last_worker_build_id`` for an unversioned worker)."""
    given = info.versioning_info
    has = info.HasField("versioning_info")
    version = given.deployment_version if has and given.HasField("deployment_version") else None
    return {
        "behavior": enum_word(_BEHAVIOR, given.behavior) if has else None,
        "deployment_name": (version.deployment_name if version else None)
        or info.worker_deployment_name
        or None,
        "build_id": (version.build_id if version else None) or info.assigned_build_id or None,
        "override": (
            await plain(converter, given.versioning_override)
            if has and given.HasField("versioning_override")
            else None
        ),
        "last_worker_build_id": info.most_recent_worker_version_stamp.build_id or None,
    }


async def extras(
    converter: temporalio.converter.DataConverter,
    raw: temporalio.api.workflowservice.v1.DescribeWorkflowExecutionResponse,
) -> dict[str, Any]:
    """The keys that ``describe`` adds: ``pending_activities``, ``pending_children`` and
    ``versioning``."""
    return {
        "pending_activities": [await activity(converter, a) for a in raw.pending_activities],
        "pending_children": [child(c) for c in raw.pending_children],
        "versioning": await versioning(converter, raw.workflow_execution_info),
    }
