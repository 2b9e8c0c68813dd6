"""batch, reset and schedules offline (SPEC section 12): field checks, the max_affected guard
and the requests built for the server, against fake clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import temporalio.api.enums.v1 as enums
from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.service import RPCError, RPCStatusCode

from playbook.core import batch, reset, schedules
from playbook.errors import InvalidOptions, InvalidPlaybook, TemporalError
from playbook.loader import load


def test_batch_check_reports_every_problem_at_once() -> None:
    request, problems = batch.check(
        {"operation": "signal", "query": "", "max_affected": 0, "rps": -1, "reset": {}}
    )
    assert request is None
    assert problems == [
        "query: required, a non-empty string",
        "reason: required, a non-empty string",
        "signal: required with operation: signal (the signal's name)",
        "reset: only with operation: reset",
        "max_affected: must be a whole number of at least 1, not 0",
        "rps: must be a positive number, not -1",
    ]


def test_batch_check_of_a_reset_needs_its_point() -> None:
    base = {"operation": "reset", "query": "q", "reason": "r"}
    assert batch.check({**base, "reset": {"to": "build_id"}})[1] == [
        "reset.build_id: required with reset.to: build_id"
    ]
    assert batch.check(base)[1] == [
        "reset.to: required with operation: reset, one of first_workflow_task, "
        "last_workflow_task, build_id"
    ]
    request, problems = batch.check({**base, "reset": {"to": "first_workflow_task"}})
    assert problems == [] and request is not None
    assert (request.max_affected, request.wait, request.rps) == (100, True, None)


def test_the_refusal_spells_its_numbers_as_the_spec_does() -> None:
    assert batch.too_many(1204, 100) == "query matches 1,204 workflows, more than max_affected 100"


def _request(**fields: Any) -> batch.BatchRequest:
    request, problems = batch.check({"query": "q", "reason": "why", **fields})
    assert problems == [] and request is not None
    return request


def test_start_request_names_exactly_the_listed_executions_not_the_query() -> None:
    started = batch.start_request(
        "ns", "job-1", _request(operation="terminate", rps=5), [("a", "r1"), ("b", "r2")]
    )
    assert started.visibility_query == ""
    assert [(e.workflow_id, e.run_id) for e in started.executions] == [("a", "r1"), ("b", "r2")]
    assert (started.namespace, started.job_id, started.reason) == ("ns", "job-1", "why")
    assert started.max_operations_per_second == 5.0
    assert started.WhichOneof("operation") == "termination_operation"


def test_start_request_of_each_operation() -> None:
    fields_of: dict[str, dict[str, Any]] = {
        "signal": {"operation": "signal", "signal": "stop"},
        "cancel": {"operation": "cancel"},
        "delete": {"operation": "delete"},
        "reset": {"operation": "reset", "reset": {"to": "build_id", "build_id": "b7"}},
    }
    which = {
        op: batch.start_request("ns", "j", _request(**fields), [("a", "r")]).WhichOneof("operation")
        for op, fields in fields_of.items()
    }
    assert which == {
        "signal": "signal_operation",
        "cancel": "cancellation_operation",
        "delete": "deletion_operation",
        "reset": "reset_operation",
    }
    signal = batch.start_request("ns", "j", _request(operation="signal", signal="stop"), [])
    assert signal.signal_operation.signal == "stop"
    resetting = _request(operation="reset", reset={"to": "build_id", "build_id": "b7"})
    assert batch.start_request("ns", "j", resetting, []).reset_operation.options.build_id == "b7"


@dataclass
class _Count:
    count: int


@dataclass
class _Listed:
    id: str
    run_id: str


@dataclass
class FakeClient:
    """count/list over ``n`` matches; a batch service that is busy ``busy`` times."""

    n: int
    busy: int = 0
    listed_limits: list[int | None] = field(default_factory=list)
    starts: list[Any] = field(default_factory=list)
    namespace: str = "default"

    async def count_workflows(self, query: str) -> _Count:
        return _Count(self.n)

    def list_workflows(self, query: str, limit: int | None = None) -> AsyncIterator[_Listed]:
        self.listed_limits.append(limit)

        async def listing() -> AsyncIterator[_Listed]:
            for i in range(min(self.n, limit or self.n)):
                yield _Listed(f"w{i}", f"r{i}")

        return listing()

    @property
    def workflow_service(self) -> FakeClient:
        return self

    async def start_batch_operation(self, request: Any) -> None:
        self.starts.append(request)
        if len(self.starts) <= self.busy:
            raise RPCError(
                "Max concurrent batch operations is reached", RPCStatusCode.RESOURCE_EXHAUSTED, b""
            )

    async def describe_batch_operation(self, request: Any) -> Any:
        @dataclass
        class Described:
            state: int = enums.BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
            complete_operation_count: int = self.n
            failure_operation_count: int = 0

        return Described()


def _client(fake: FakeClient) -> Client:
    return fake  # type: ignore[return-value]


async def test_more_matches_than_max_affected_fail_before_anything_is_listed() -> None:
    fake = FakeClient(n=1204)
    with pytest.raises(batch.BatchFailed) as caught:
        await batch.run(_client(fake), _request(operation="terminate"))
    assert str(caught.value) == "query matches 1,204 workflows, more than max_affected 100"
    assert (fake.listed_limits, fake.starts) == ([], [])


async def test_a_list_longer_than_the_count_is_refused_too() -> None:
    class Growing(FakeClient):
        async def count_workflows(self, query: str) -> _Count:
            return _Count(2)  # visibility lags: the list sees more

    fake = Growing(n=4)
    with pytest.raises(batch.BatchFailed) as caught:
        await batch.run(_client(fake), _request(operation="cancel", max_affected=3))
    assert str(caught.value) == "query matches 4 workflows, more than max_affected 3"
    assert (fake.listed_limits, fake.starts) == ([4], [])


async def test_a_busy_namespace_is_retried_and_the_job_reported() -> None:
    fake = FakeClient(n=3, busy=2)
    result = await batch.run(_client(fake), _request(operation="terminate"))
    assert len(fake.starts) == 3
    assert [e.workflow_id for e in fake.starts[-1].executions] == ["w0", "w1", "w2"]
    assert fake.listed_limits == [101]
    assert result == {
        "job_id": fake.starts[-1].job_id,
        "matched": 3,
        "succeeded": 3,
        "failed": 0,
        "state": "completed",
    }


async def test_a_busy_namespace_beyond_the_deadline_fails_the_step() -> None:
    from playbook import deadline

    fake = FakeClient(n=1, busy=1000)
    with deadline.within(0.3), pytest.raises((TemporalError, asyncio.TimeoutError)):
        await asyncio.wait_for(batch.run(_client(fake), _request(operation="delete")), 0.3)
    assert 1 <= len(fake.starts) <= 3


def test_reset_to_and_its_request() -> None:
    assert reset.check_to("first_workflow_task") is None
    assert reset.check_to({"event_id": 4}) is None
    assert reset.check_to({"event_id": 0}) == (
        "to: must be first_workflow_task, last_workflow_task or {event_id: N}, not {'event_id': 0}"
    )
    request = reset.reset_request("ns", "w", "r", 4, "bug fixed", reapply_signals=False)
    assert (request.workflow_execution.workflow_id, request.workflow_execution.run_id) == (
        "w",
        "r",
    )
    assert (request.workflow_task_finish_event_id, request.reason) == (4, "bug fixed")
    assert request.reset_reapply_type == enums.ResetReapplyType.RESET_REAPPLY_TYPE_NONE
    signals = reset.reset_request("ns", "w", "r", 4, "x").reset_reapply_type
    assert signals == enums.ResetReapplyType.RESET_REAPPLY_TYPE_SIGNAL


def test_a_schedule_from_its_fields() -> None:
    schedule = schedules.schedule_of(
        _client(FakeClient(n=0)),
        "nightly",
        {
            "spec": {
                "cron": ["0 2 * * *"],
                "intervals": [{"every": "1h30m", "offset": "5m"}],
                "calendars": [{"hour": [2, 14], "day_of_week": {"start": 1, "end": 5}}],
                "timezone": "Europe/Paris",
            },
            "action": {
                "start_workflow": {
                    "type": "Report",
                    "task_queue": "reports",
                    "args": [1],
                    "execution_timeout": "10m",
                }
            },
            "overlap": "buffer_one",
            "paused": True,
            "note": "n",
        },
    )
    action: Any = schedule.action
    assert (action.workflow, action.id, action.task_queue, action.args) == (
        "Report",
        "nightly",
        "reports",
        [1],
    )
    assert action.execution_timeout == timedelta(minutes=10)
    assert schedule.policy.overlap == ScheduleOverlapPolicy.BUFFER_ONE
    assert (schedule.state.paused, schedule.state.note) == (True, "n")
    assert schedules.spec_facts(schedule.spec) == {
        "cron": ["0 2 * * *"],
        "intervals": [{"every": "1h30m", "offset": "5m"}],
        "calendars": [  # what is left out, Temporal fills in: second 0, minute 0, every day
            {
                "second": [0],
                "minute": [0],
                "hour": [2, 14],
                "day_of_month": [{"start": 1, "end": 31, "step": 1}],
                "month": [{"start": 1, "end": 12, "step": 1}],
                "day_of_week": [{"start": 1, "end": 5, "step": 1}],
            }
        ],
        "start_at": None,
        "end_at": None,
        "jitter": None,
        "timezone": "Europe/Paris",
    }


def test_a_schedule_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidOptions) as caught:
        schedules.schedule_of(
            _client(FakeClient(n=0)),
            "broken",
            {
                "spec": {"intervals": [{"offset": "5m"}], "start_at": "yesterday"},
                "action": {"start_workflow": {"type": "E", "task_queue": "q", "start_delay": 1}},
                "overlap": "sometimes",
            },
        )
    assert str(caught.value) == (
        "invalid schedule 'broken':\n"
        "  - spec.intervals[0].every: required\n"
        "  - spec.start_at: not an ISO-8601 time ('yesterday'), e.g. 2026-01-31T02:00:00Z\n"
        "  - action.start_workflow.start_delay: a schedule's workflow cannot take it\n"
        "  - overlap: one of skip, buffer_one, buffer_all, cancel_other, terminate_other, "
        "allow_all, not 'sometimes'"
    )


@pytest.mark.parametrize(
    ("delta", "spelt"),
    [
        (timedelta(hours=1), "1h"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(0), "0s"),
        (timedelta(milliseconds=1500), "1500ms"),
        (timedelta(days=1, hours=2), "1d2h"),
    ],
)
def test_durations_are_spelt_as_a_playbook_writes_them(delta: timedelta, spelt: str) -> None:
    assert schedules.spelt(delta) == spelt


def test_load_time_checks_of_the_ops_steps(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\n"
        "name: bad\n"
        "steps:\n"
        "  - batch: {query: x, operation: signal, reason: r}\n"
        "  - batch: {query: x, operation: reset, reason: r}\n"
        "  - batch: {query: x, operation: \"{{ 'reset' }}\", reason: r, reset: {to: first_workflow_task}}\n"
        "  - batch: {query: x, operation: terminate}\n"
        "  - reset: {workflow: nope, to: first_workflow_task, reason: r}\n"
        "  - trigger_schedule: {schedule_id: s, overlap: sometimes}\n"
    )
    with pytest.raises(InvalidPlaybook) as caught:
        load(str(path))
    where = str(path)
    assert [f"{p.line}: {p.path}: {p.message}" for p in caught.value.problems] == [
        "4: steps[0].batch: missing required key 'signal' (operation: signal needs it)",
        "5: steps[1].batch: missing required key 'reset' (operation: reset needs it)",
        "7: steps[3].batch: missing required key 'reason'",
        "8: steps[4].reset.workflow: no create step has the id 'nope'; add a create step "
        "with this id before this step",
        "9: steps[5].trigger_schedule.overlap: expected a valid value or a template, got the "
        "string 'sometimes'",
    ]
    assert all(p.file == where for p in caught.value.problems)


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (
            RPCStatusCode.NOT_FOUND,
            "NotFound",
            "describe_schedule failed: schedule 'nightly' was not found; check the id and the "
            "namespace",
        ),
        (
            RPCStatusCode.ALREADY_EXISTS,
            "AlreadyExists",
            "describe_schedule failed: schedule 'nightly' already exists; delete it first or "
            "choose another id",
        ),
        (
            RPCStatusCode.RESOURCE_EXHAUSTED,
            "ResourceExhausted",
            "describe_schedule on schedule 'nightly' was refused by the server: busy",
        ),
    ],
)
def test_what_an_aimed_call_raised_becomes_ours(
    status: RPCStatusCode, error_type: str, message: str
) -> None:
    from playbook.core.errors import translate_aimed

    error = translate_aimed(
        RPCError("busy", status, b""), operation="describe_schedule", target="schedule 'nightly'"
    )
    assert isinstance(error, TemporalError)
    assert (error.error_type, str(error), error.operation) == (
        error_type,
        message,
        "describe_schedule",
    )
