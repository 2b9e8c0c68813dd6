"""The actions that read what the server knows (list, count, history, task_queue, describe's
additions), offline: how each shapes what temporalio returns, and the field problems each
reports before it asks the server, at load time or at run time."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import temporalio.api.common.v1 as common
import temporalio.api.enums.v1 as enums
import temporalio.api.failure.v1 as failure
import temporalio.api.history.v1 as history_pb
import temporalio.api.taskqueue.v1 as taskqueue
import temporalio.api.workflow.v1 as wf
import temporalio.api.workflowservice.v1 as ws
from google.protobuf import duration_pb2, timestamp_pb2
from temporalio.client import (
    WorkflowExecution,
    WorkflowExecutionCount,
    WorkflowExecutionCountAggregationGroup,
)
from temporalio.converter import DataConverter

from playbook.actions import REGISTRY, TEMPORAL_ACTIONS, server
from playbook.actions.base import Call
from playbook.commands.plan import plan_text
from playbook.core import history, pending, plain, task_queues, visibility
from playbook.errors import InvalidPlaybook, PlaybookError
from playbook.loader import load

CONVERTER = DataConverter.default
STAMP = timestamp_pb2.Timestamp(seconds=1796163411, nanos=494171000)
STAMP_TEXT = "2026-12-01T22:16:51.494171+00:00"


def json_payload(value: Any) -> common.Payload:
    [encoded] = CONVERTER.payload_converter.to_payloads([value])
    return encoded


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# ------------------------------------------------------------------ wiring


def test_the_actions_are_registered_and_need_a_connection(tmp_path: Path) -> None:
    assert {"list", "count", "history", "task_queue"} <= set(REGISTRY) & TEMPORAL_ACTIONS
    assert REGISTRY["list"].__name__ == "list_"
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nname: t\nsteps:\n  - count: {}\n")
    assert load(path).uses_temporal is True


def test_plan_shows_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nname: t\nsteps:\n"
        "  - id: found\n    list: {query: \"WorkflowType = 'Order'\", limit: 5}\n"
        "  - task_queue: {name: orders, kind: activity}\n"
    )
    lines = plan_text(load(path), {}).splitlines()
    start = lines.index("Steps:")
    assert lines[start:] == [
        "Steps:",
        "  1. list (id: found)",
        "     query: WorkflowType = 'Order'",
        "     limit: 5",
        "  2. task_queue",
        "     name: orders",
        "     kind: activity",
    ]


# ------------------------------------------------------------------ shaping: list, count


def raw_execution(workflow_id: str, status: int, closed: bool = False) -> wf.WorkflowExecutionInfo:
    info = wf.WorkflowExecutionInfo(
        execution=common.WorkflowExecution(workflow_id=workflow_id, run_id=f"run-{workflow_id}"),
        type=common.WorkflowType(name="OrderWorkflow"),
        start_time=STAMP,
        status=cast(Any, status),
        task_queue="orders",
        memo=common.Memo(fields={"team": json_payload("ops")}),
    )
    if closed:
        info.close_time.CopyFrom(timestamp_pb2.Timestamp(seconds=1796163471))
    keyword = json_payload("alice")
    keyword.metadata["type"] = b"Keyword"
    info.search_attributes.indexed_fields["CustomerId"].CopyFrom(keyword)
    return info


def execution(workflow_id: str, status: int, closed: bool = False) -> WorkflowExecution:
    return WorkflowExecution._from_raw_info(
        raw_execution(workflow_id, status, closed), "default", CONVERTER
    )


def test_an_execution_is_listed_as_plain_values() -> None:
    running = enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
    assert run(visibility.execution(execution("order-1", running, closed=True))) == {
        "workflow_id": "order-1",
        "run_id": "run-order-1",
        "type": "OrderWorkflow",
        "status": "continued_as_new",
        "task_queue": "orders",
        "start_time": STAMP_TEXT,
        "close_time": "2026-12-01T22:17:51+00:00",
        "memo": {"team": "ops"},
        "search_attributes": {"CustomerId": "alice"},
    }


@dataclass
class FakeClient:
    """What list and count ask of a client: the queries they send, the answers given."""

    executions: list[WorkflowExecution] = field(default_factory=list)
    counted: WorkflowExecutionCount = field(
        default_factory=lambda: WorkflowExecutionCount(count=0, groups=[])
    )
    asked: list[tuple[str, Any]] = field(default_factory=list)

    def list_workflows(self, query: str | None, *, limit: int, page_size: int) -> Any:
        self.asked.append(("list", (query, limit, page_size)))

        async def each() -> AsyncIterator[WorkflowExecution]:
            for item in self.executions[:limit]:
                yield item

        return each()

    async def count_workflows(self, query: str | None) -> WorkflowExecutionCount:
        self.asked.append(("count", query))
        return self.counted


def running(n: int) -> list[WorkflowExecution]:
    status = enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    return [execution(f"order-{i}", status) for i in range(n)]


def test_list_asks_for_one_more_than_its_limit_to_tell_whether_more_match() -> None:
    client = FakeClient(executions=running(3))
    found, more = run(visibility.list_workflows(cast(Any, client), "X = 'y'", 2))
    assert ([f["workflow_id"] for f in found], more) == (["order-0", "order-1"], True)
    found, more = run(visibility.list_workflows(cast(Any, client), None, 3))
    assert ([f["workflow_id"] for f in found], more) == (["order-0", "order-1", "order-2"], False)
    assert client.asked == [("list", ("X = 'y'", 3, 3)), ("list", (None, 4, 4))]
    found, more = run(visibility.list_workflows(cast(Any, client), "", 5000))
    assert client.asked[-1] == ("list", (None, 5001, 1000))


def group(count: int, value: str) -> WorkflowExecutionCountAggregationGroup:
    return WorkflowExecutionCountAggregationGroup(count=count, group_values=[value])


def test_count_groups_by_status_in_lower_case_with_every_status() -> None:
    groups = [group(3, "Running"), group(1, "ContinuedAsNew"), group(1, "TimedOut")]
    client = FakeClient(counted=WorkflowExecutionCount(count=5, groups=groups))
    counted = run(visibility.count_workflows(cast(Any, client), "X = 'y'", "ExecutionStatus"))
    assert counted == {
        "count": 5,
        "groups": {
            "running": 3,
            "completed": 0,
            "failed": 0,
            "canceled": 0,
            "terminated": 0,
            "continued_as_new": 1,
            "timed_out": 1,
        },
    }
    run(visibility.count_workflows(cast(Any, client), None, "ExecutionStatus"))
    assert client.asked == [
        ("count", "X = 'y' GROUP BY ExecutionStatus"),
        ("count", "GROUP BY ExecutionStatus"),
    ]


def test_count_without_group_by_is_the_count_alone() -> None:
    client = FakeClient(counted=WorkflowExecutionCount(count=7, groups=[]))
    assert run(visibility.count_workflows(cast(Any, client), "X = 'y'")) == {"count": 7}
    assert client.asked == [("count", "X = 'y'")]


# ------------------------------------------------------------------ shaping: task queues


def test_a_task_queue_with_pollers_and_a_backlog() -> None:
    response = ws.DescribeTaskQueueResponse(
        pollers=[taskqueue.PollerInfo(identity="1234@host", last_access_time=STAMP)],
        stats=taskqueue.TaskQueueStats(approximate_backlog_count=4),
    )
    assert task_queues.shaped("orders", "activity", response) == {
        "name": "orders",
        "kind": "activity",
        "pollers": [{"identity": "1234@host", "last_access_time": STAMP_TEXT}],
        "backlog": 4,
    }
    bare = task_queues.shaped("orders", "workflow", ws.DescribeTaskQueueResponse())
    assert bare == {"name": "orders", "kind": "workflow", "pollers": [], "backlog": None}


# ------------------------------------------------------------------ shaping: history


def scheduled_event() -> history_pb.HistoryEvent:
    return history_pb.HistoryEvent(
        event_id=5,
        event_time=STAMP,
        event_type=enums.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        activity_task_scheduled_event_attributes=history_pb.ActivityTaskScheduledEventAttributes(
            activity_id="1",
            activity_type=common.ActivityType(name="ship_order"),
            task_queue=taskqueue.TaskQueue(
                name="orders", kind=enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL
            ),
            input=common.Payloads(payloads=[json_payload({"sku": "ABC"}), json_payload(2)]),
            start_to_close_timeout=duration_pb2.Duration(seconds=90),
            workflow_task_completed_event_id=4,
        ),
    )


def test_an_event_is_plain_values_with_its_payloads_decoded() -> None:
    assert run(history.event(CONVERTER, scheduled_event())) == {
        "id": 5,
        "type": "ActivityTaskScheduled",
        "time": STAMP_TEXT,
        "attributes": {
            "activity_id": "1",
            "activity_type": {"name": "ship_order"},
            "task_queue": {"name": "orders", "kind": "normal"},
            "input": [{"sku": "ABC"}, 2],
            "start_to_close_timeout": "1m30s",
            "workflow_task_completed_event_id": 4,
        },
    }


def test_a_payload_that_does_not_decode_stays_as_it_is() -> None:
    raw = common.Payload(metadata={"encoding": b"binary/encrypted"}, data=b"\x00\x01")
    assert run(plain.payload(CONVERTER, raw)) == {
        "encoding": "binary/encrypted",
        "data": base64.b64encode(b"\x00\x01").decode(),
    }


def test_event_type_names_are_temporal_spellings() -> None:
    assert len(history.EVENT_TYPES) == len(enums.EventType.DESCRIPTOR.values) - 1
    assert {"WorkflowExecutionStarted", "ActivityTaskFailed", "TimerFired"} <= set(
        history.EVENT_TYPES
    )
    unknown = history_pb.HistoryEvent(event_id=1, event_type=cast(Any, 999))
    assert history.event_type(unknown) == "999"


def events_stub(events: list[history_pb.HistoryEvent]) -> Any:
    async def fetch() -> AsyncIterator[history_pb.HistoryEvent]:
        for e in events:
            yield e

    handle = SimpleNamespace(fetch_history_events=fetch)
    client = SimpleNamespace(data_converter=CONVERTER)
    return SimpleNamespace(workflow_id="order-1", run_id=None, client=client, handle=lambda: handle)


def test_history_filters_events_but_counts_the_whole_history() -> None:
    started = history_pb.HistoryEvent(
        event_id=1, event_type=enums.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    )
    stub = events_stub([started, scheduled_event()])
    whole = run(history.history(stub, ["ActivityTaskScheduled", "ActivityTaskFailed"]))
    assert (whole["length"], [e["id"] for e in whole["events"]]) == (2, [5])
    assert whole["counts"] == {
        "ActivityTaskScheduled": 1,
        "ActivityTaskFailed": 0,
        "WorkflowExecutionStarted": 1,
    }
    every = run(history.history(stub))
    assert [e["type"] for e in every["events"]] == [
        "WorkflowExecutionStarted",
        "ActivityTaskScheduled",
    ]
    assert every["events"][0] == {
        "id": 1,
        "type": "WorkflowExecutionStarted",
        "time": None,
        "attributes": {},
    }


# ------------------------------------------------------------------ shaping: describe


def described() -> ws.DescribeWorkflowExecutionResponse:
    last = failure.Failure(
        message="card declined",
        application_failure_info=failure.ApplicationFailureInfo(type="Declined"),
    )
    info = raw_execution("order-1", 1)
    info.most_recent_worker_version_stamp.build_id = "b-7"
    info.versioning_info.CopyFrom(
        wf.WorkflowExecutionVersioningInfo(
            behavior=enums.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
        )
    )
    info.versioning_info.deployment_version.deployment_name = "orders"
    info.versioning_info.deployment_version.build_id = "b-6"
    return ws.DescribeWorkflowExecutionResponse(
        workflow_execution_info=info,
        pending_activities=[
            wf.PendingActivityInfo(
                activity_id="3",
                activity_type=common.ActivityType(name="charge"),
                state=enums.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
                attempt=4,
                maximum_attempts=5,
                last_failure=last,
                last_worker_identity="1234@host",
                scheduled_time=STAMP,
            )
        ],
        pending_children=[
            wf.PendingChildExecutionInfo(
                workflow_id="order-1-child",
                run_id="run-c",
                workflow_type_name="Shipment",
                initiated_id=7,
                parent_close_policy=enums.ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON,
            )
        ],
    )


def test_describe_adds_pending_activities_children_and_versioning() -> None:
    assert run(pending.extras(CONVERTER, described())) == {
        "pending_activities": [
            {
                "activity_id": "3",
                "activity_type": "charge",
                "attempt": 4,
                "maximum_attempts": 5,
                "state": "scheduled",
                "last_failure": {"type": "Declined", "message": "card declined", "details": None},
                "last_worker_identity": "1234@host",
                "scheduled_time": STAMP_TEXT,
                "last_started_time": None,
                "next_attempt_schedule_time": None,
            }
        ],
        "pending_children": [
            {
                "workflow_id": "order-1-child",
                "run_id": "run-c",
                "type": "Shipment",
                "parent_close_policy": "abandon",
            }
        ],
        "versioning": {
            "behavior": "pinned",
            "deployment_name": "orders",
            "build_id": "b-6",
            "override": None,
            "last_worker_build_id": "b-7",
        },
    }


def test_an_unversioned_workflow_without_pending_work() -> None:
    raw = ws.DescribeWorkflowExecutionResponse(workflow_execution_info=raw_execution("o", 1))
    assert run(pending.extras(CONVERTER, raw)) == {
        "pending_activities": [],
        "pending_children": [],
        "versioning": {
            "behavior": None,
            "deployment_name": None,
            "build_id": None,
            "override": None,
            "last_worker_build_id": None,
        },
    }


# ------------------------------------------------------------------ fields checked at run time


@dataclass
class FakeEnv:
    """Just enough of the run's services: where a field is, and no server to ask."""

    stubs: Mapping[str, Any] = field(default_factory=dict)

    def where(self, field_name: str) -> str:
        return f"step 's' (steps[0], p.yaml:4), field {field_name}"

    async def client(self) -> Any:
        raise AssertionError("a bad field is reported before connecting")

    def stub(self, name: str) -> Any:
        return self.stubs[name]


def failure_of(action: str, spec: dict[str, Any]) -> str:
    function = getattr(server, "list_" if action == "list" else action)
    with pytest.raises(PlaybookError) as caught:
        run(function(Call(action, spec, cast(Any, FakeEnv()))))
    return str(caught.value)


@pytest.mark.parametrize(
    ("action", "spec", "message"),
    [
        (
            "list",
            {"limit": 0},
            "field list.limit: limit must be a whole number of at least 1, not 0",
        ),
        (
            "list",
            {"limit": True},
            "field list.limit: limit must be a whole number of at least 1, not True",
        ),
        (
            "list",
            {"limit": "5"},
            "field list.limit: limit must be a whole number of at least 1, not '5'",
        ),
        ("count", {"query": 5}, "field count.query: a visibility query is a string, not int"),
        (
            "count",
            {"group_by": "ExecutionStatuss"},
            "field count.group_by: 'ExecutionStatuss' is not one of ExecutionStatus; did you mean "
            "'ExecutionStatus'?",
        ),
        (
            "history",
            {"workflow": "w", "event_types": ["TimerFird"]},
            "field history.event_types: 'TimerFird' is not a Temporal event type (they are spelt as "
            "Temporal spells them: ActivityTaskFailed); did you mean 'TimerFired'?",
        ),
        (
            "history",
            {"workflow": "w", "event_types": "TimerFired"},
            "field history.event_types: expected a list of event types, got 'TimerFired'",
        ),
        (
            "task_queue",
            {"name": "orders", "kind": "activities"},
            "field task_queue.kind: 'activities' is not one of workflow, activity; did you mean "
            "'activity'?",
        ),
        (
            "task_queue",
            {"name": ""},
            "field task_queue.name: a task queue name is a non-empty string, not ''",
        ),
    ],
)
def test_a_bad_rendered_field_fails_the_step_naming_it(
    action: str, spec: dict[str, Any], message: str
) -> None:
    assert failure_of(action, spec) == f"step 's' (steps[0], p.yaml:4), {message}"


# ------------------------------------------------------------------ fields checked at load time


def problems(tmp_path: Path, step: str) -> list[str]:
    path = tmp_path / "p.yaml"
    path.write_text(f"version: 1\nname: t\nsteps:\n  - {step}\n")
    with pytest.raises(InvalidPlaybook) as caught:
        load(path)
    return [f"{p.line}:{p.column}: {p.path}: {p.message}" for p in caught.value.problems]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("list: {limit: 0}", ["4:19: steps[0].list.limit: must be at least 1, not 0"]),
        (
            "list: {query: x, limt: 5}",
            ["4:22: steps[0].list.limt: unknown key 'limt'; did you mean 'limit'?"],
        ),
        (
            "count: {group_by: WorkflowType}",
            ["4:23: steps[0].count.group_by: 'WorkflowType' is not one of ExecutionStatus"],
        ),
        (
            "task_queue: {kind: activity}",
            ["4:17: steps[0].task_queue: missing required key 'name'"],
        ),
        (
            "history: {workflow: w, event_types: [activity_task_failed]}",
            [
                "4:25: steps[0].history.workflow: no create step has the id 'w'; add a create "
                "step with this id before this step",
                "4:42: steps[0].history.event_types[0]: 'activity_task_failed' is not an event "
                "type as Temporal spells it; write it like 'ActivityTaskFailed'",
            ],
        ),
    ],
)
def test_load_time_problems(tmp_path: Path, step: str, expected: list[str]) -> None:
    assert problems(tmp_path, step) == expected
