"""The fan-out's per-execution shortcuts in the client core and the actions, offline: a
memo's string values encoded once, a set of workflow options checked once, a duration
field parsed once, a lazy action imported once, and a guarded call without a deadline
awaited directly. Each must give what the long way gives (docs/performance.md)."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
import temporalio.converter
from temporalio.client import Client

from playbook import actions, core, deadline
from playbook.actions import workflow as workflow_actions
from playbook.actions.base import Call
from playbook.core import stub as stubs
from playbook.core.guard import call
from playbook.errors import InvalidOptions, PlaybookError


def _client(converter: temporalio.converter.DataConverter | None = None) -> Client:
    data_converter = converter or temporalio.converter.DataConverter.default
    return cast(Client, SimpleNamespace(data_converter=data_converter, namespace="default"))


# -- the memo --------------------------------------------------------------------------------


async def test_memo_strings_are_the_payloads_the_converter_makes_once() -> None:
    client = _client()
    memo = {"playbook": "orders", "playbook_run_id": "run-1", "count": 3, "tags": ["a"]}
    first = await stubs.memo_payloads(client, memo)
    assert first is not None
    expected = await temporalio.converter.DataConverter.default.encode(["orders"])
    assert first["playbook"] == expected[0]
    run_id = (await temporalio.converter.DataConverter.default.encode(["run-1"]))[0]
    assert first["playbook_run_id"] == run_id
    # what is not a string goes to temporalio as it was given
    assert first["count"] == 3
    assert first["tags"] == ["a"]
    again = await stubs.memo_payloads(client, {"playbook": "orders"})
    assert again is not None
    assert again["playbook"] is first["playbook"]  # encoded once
    assert memo == {"playbook": "orders", "playbook_run_id": "run-1", "count": 3, "tags": ["a"]}


async def test_a_memo_under_another_converter_is_left_to_it() -> None:
    converter = dataclasses.replace(temporalio.converter.DataConverter.default)
    memo = {"playbook": "orders"}
    assert await stubs.memo_payloads(_client(converter), memo) is memo
    assert await stubs.memo_payloads(_client(), None) is None
    assert await stubs.memo_payloads(_client(), {}) == {}


# -- workflow options ------------------------------------------------------------------------


def test_the_same_options_are_checked_once() -> None:
    options = {"task_queue": "orders", "memo": {"playbook": "p", "n": 1}}
    one = core.create_workflow(_client(), "OrderWorkflow", options)
    two = core.create_workflow(_client(), "OrderWorkflow", dict(options))
    assert one.options is two.options
    assert one.options is not None
    assert one.options.task_queue == "orders"
    assert one.options.memo == {"playbook": "p", "n": 1}
    assert one.workflow_id != two.workflow_id  # each its own readable id
    assert one.workflow_id.startswith("order-workflow-")


def test_values_that_json_tells_apart_are_not_confused() -> None:
    keys = {
        stubs._frozen({"memo": {"n": value}, "task_queue": "q"}) for value in (1, 1.0, True, "1")
    }
    assert len(keys) == 4
    assert stubs._frozen({"task_queue": "q", "memo": {"at": object()}}) is None
    assert stubs._frozen({"task_queue": "q", "tags": ("a",)}) is None
    assert stubs._frozen({"task_queue": "q", "memo": {1: "a"}}) is None
    assert stubs._frozen({"q": ["a", {"b": None}]}) == (
        dict,
        (("q", (list, ((str, "a"), (dict, (("b", (type(None), None)),))))),),
    )


def test_options_with_problems_fail_every_time() -> None:
    for _ in range(2):
        with pytest.raises(InvalidOptions) as raised:
            core.create_workflow(_client(), "OrderWorkflow", {"task_queu": "orders"})
        assert str(raised.value) == (
            "invalid options for workflow type 'OrderWorkflow':\n"
            "  - task_queu: unknown workflow option; did you mean 'task_queue'?\n"
            "  - task_queue: task_queue is required for a new workflow"
        )


def test_options_that_cannot_be_keyed_are_checked_each_time() -> None:
    options = {"task_queue": "orders", "memo": {"at": ("a", "b")}}
    one = core.create_workflow(_client(), "OrderWorkflow", options)
    two = core.create_workflow(_client(), "OrderWorkflow", options)
    assert one.options is not None
    assert two.options is not None
    assert one.options is not two.options
    assert one.options == two.options


# -- the actions -----------------------------------------------------------------------------


class _Env:
    def where(self, field: str) -> str:
        return f"fanout.yaml:17: steps[2].{field}"


def test_a_duration_field_is_parsed_once_per_text() -> None:
    env = cast(Any, _Env())
    call_ = Call("await_result", {}, env)
    workflow_actions._parsed.cache_clear()
    assert workflow_actions._seconds(call_, "60s") == 60.0
    assert workflow_actions._seconds(call_, "60s") == 60.0
    assert workflow_actions._parsed.cache_info().hits == 1
    assert workflow_actions._seconds(call_, 1.5) == 1.5
    assert workflow_actions._seconds(call_, None) is None
    for _ in range(2):
        with pytest.raises(PlaybookError) as raised:
            workflow_actions._seconds(call_, "soon")
        assert str(raised.value) == (
            "fanout.yaml:17: steps[2].await_result.timeout: 'soon' is not a duration; a "
            "duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number of seconds"
        )


async def test_a_lazy_action_imports_its_module_once(monkeypatch: pytest.MonkeyPatch) -> None:
    imported: list[str] = []
    real = importlib.import_module

    def counting(name: str) -> Any:
        imported.append(name)
        return real(name)

    monkeypatch.setattr(importlib, "import_module", counting)
    action = actions.lazy("control", "log")
    logged: list[str] = []
    env = cast(Any, SimpleNamespace(log=logged.append, render=lambda value, field: value))
    for text in ("one", "two"):
        await action(Call("log", text, env))
    assert imported == ["playbook.actions.control"]
    assert logged == ["one", "two"]
    assert action.__name__ == "log"


# -- the guarded call ------------------------------------------------------------------------


async def test_a_call_outside_a_deadline_is_awaited_as_it_is() -> None:
    stub = core.WorkflowStub(client=_client(), workflow_id="w")

    async def answer() -> str:
        return "done"

    assert deadline.remaining() is None
    assert await call(answer, stub, "signal", "add") == "done"

    async def forever() -> None:
        await asyncio.sleep(3600)

    began = asyncio.get_running_loop().time()
    with pytest.raises(asyncio.TimeoutError), deadline.within(0.05):
        await call(forever, stub, "signal", "add")
    assert asyncio.get_running_loop().time() - began < 0.5


# -- the runner's timestamps -----------------------------------------------------------------


def test_a_step_stamp_is_what_isoformat_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime, timezone

    from playbook.runner import state

    cases = {
        1_764_640_800_000_000_000: "2025-12-02T02:00:00+00:00",  # a whole second: no fraction
        1_764_640_800_000_000_999: "2025-12-02T02:00:00+00:00",  # floored, as datetime.now
        1_764_640_800_000_001_000: "2025-12-02T02:00:00.000001+00:00",
        1_764_640_859_999_999_999: "2025-12-02T02:00:59.999999+00:00",
        1_764_640_860_123_456_789: "2025-12-02T02:01:00.123456+00:00",
    }
    for nanoseconds, text in cases.items():
        monkeypatch.setattr(time, "time_ns", lambda n=nanoseconds: n)
        assert state.SYSTEM_CLOCK.iso() == text
        seconds, rest = divmod(nanoseconds, 1_000_000_000)
        exact = datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=rest // 1000)
        assert exact.isoformat() == text
    fixed = state.Clock(now=lambda: datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=timezone.utc))
    assert fixed.iso() == "2026-01-01T12:00:00.000005+00:00"  # an injected clock as it says
