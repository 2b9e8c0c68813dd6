"""Workflow stubs: what an operation acts on, and how a new one is made and started.

A stub is either *new* (a workflow type and checked options, not yet started) or
*existing* (a workflow id, and maybe a run id). Only a new stub can be started; its
options become temporalio's start arguments here (:func:`start_kwargs`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import temporalio.api.common.v1
import temporalio.client
import temporalio.common
import temporalio.converter
from temporalio.client import Client

from playbook.core.guard import bounded, call
from playbook.errors import InvalidOptions, TemporalError
from playbook.options import WorkflowOptions, check_workflow_options


@dataclass
class WorkflowStub:
    """A workflow to act on: new (``workflow_type`` + ``options``) or existing (an id)."""

    client: Client
    workflow_id: str
    run_id: str | None = None
    workflow_type: str | None = None
    options: WorkflowOptions | None = None
    started: bool = field(default=False)
    latest_run_id: str | None = None
    """The latest run of the chain that a response named (an update's, a describe's, the
    end of an ``await_result``), after continue-as-new or reset; ``run_id`` stays the run
    that started the chain (what :meth:`handle` follows from)."""
    reset_run_id: str | None = None
    """The run that the latest ``reset`` made: a result is awaited from it (the runs before
    a reset end terminated, and no result follows them to it)."""

    @property
    def current_run_id(self) -> str | None:
        """The run that calls reach, as far as this run has been told: what records name."""
        return self.latest_run_id or self.run_id

    @property
    def is_new(self) -> bool:
        return self.options is not None

    @property
    def task_queue(self) -> str | None:
        return self.options.task_queue if self.options else None

    def handle(self) -> temporalio.client.WorkflowHandle[Any, Any]:
        """A started stub follows its run chain (continue-as-new included), as temporalio's
        own handle from a start does; a stub of an existing execution targets the run it
        names, or the latest run."""
        if self.started:
            return self.client.get_workflow_handle(
                self.workflow_id, first_execution_run_id=self.run_id
            )
        return self.client.get_workflow_handle(self.workflow_id, run_id=self.run_id)


@dataclass
class UpdateHandle:
    """An update that was sent: its id, its workflow, and its awaitable result."""

    id: str
    workflow_id: str
    run_id: str | None
    name: str | None
    _handle: temporalio.client.WorkflowUpdateHandle[Any] = field(repr=False)
    _stub: WorkflowStub = field(repr=False)

    @classmethod
    def sent(
        cls,
        stub: WorkflowStub,
        handle: temporalio.client.WorkflowUpdateHandle[Any],
        name: str | None,
        run_id: str | None,
    ) -> UpdateHandle:
        """The handle of an update sent to ``stub``'s workflow (its run ``run_id``)."""
        return cls(handle.id, stub.workflow_id, run_id, name, _handle=handle, _stub=stub)

    async def result(self, timeout: float | None = None) -> Any:
        return await call(
            lambda: bounded(self._handle.result(), timeout),
            self._stub,
            "await_update",
            self.name or self.id,
            timeout=timeout,
            update_id=self.id,
        )


def _readable_id(workflow_type: str) -> str:
    # 48 random bits, as the first 12 hex digits of a uuid4 are (without building one)
    return f"{_slug(workflow_type)}-{os.urandom(6).hex()}"


@functools.lru_cache(maxsize=256)
def _slug(workflow_type: str) -> str:
    """``OrderWorkflow`` -> ``order-workflow`` (once per type: a fan-out creates thousands)."""
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", workflow_type).lower()
    return re.sub(r"[^a-z0-9-]+", "-", slug).strip("-") or "workflow"


def create_workflow(
    client: Client,
    workflow: str,
    options: Mapping[str, Any] | str | None = None,
    *,
    run_id: str | None = None,
) -> WorkflowStub:
    """Two forms, as the seed's ``create-workflow``:

    - ``create_workflow(client, workflow_id, run_id=None)``: a stub of an existing execution;
    - ``create_workflow(client, workflow_type, options)``: a new, unstarted stub, whose
      options (playbook spelling) are all checked now; every problem is reported at once.
    """
    if options is None or isinstance(options, str):
        run_id = options if isinstance(options, str) else run_id
        return WorkflowStub(client=client, workflow_id=workflow, run_id=run_id)
    checked = _checked(workflow, options)
    workflow_id = checked.workflow_id or _readable_id(workflow)
    return WorkflowStub(
        client=client, workflow_id=workflow_id, workflow_type=workflow, options=checked
    )


_CHECKED: dict[Any, WorkflowOptions] = {}
"""Options checked already, by their values (what :func:`_frozen` makes of them)."""
_CHECKED_KEPT = 256


def _checked(workflow: str, options: Mapping[str, Any]) -> WorkflowOptions:
    """``options`` checked (the same values once per process: a fan-out creates thousands
    of workflows with one set of options); every problem is reported at once."""
    key = _frozen(options)
    cached = _CHECKED.get(key) if key is not None else None
    if cached is not None:
        return cached
    checked, problems = check_workflow_options(options)
    if problems or checked is None:
        raise InvalidOptions(
            [f"{path}: {message}" for path, message in problems],
            what=f"options for workflow type '{workflow}'",
        )
    if key is not None:
        if len(_CHECKED) >= _CHECKED_KEPT:
            _CHECKED.clear()
        _CHECKED[key] = checked
    return checked


_PLAIN = (str, int, float, bool, type(None))


def _frozen(value: Any) -> Any:
    """A hashable key that tells apart any two option values JSON tells apart (``1``,
    ``1.0`` and ``true`` too); ``None`` for a value of another kind (nothing cached)."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is dict:
        items = []
        for k, v in value.items():
            frozen = _frozen(v)
            if frozen is None or type(k) is not str:
                return None
            items.append((k, frozen))
        return (dict, tuple(items))
    if kind is list:
        parts = tuple(_frozen(v) for v in value)
        return None if None in parts else (list, parts)
    return None


def require_new(stub: WorkflowStub, operation: str) -> WorkflowOptions:
    """The options of a new stub; an existing execution cannot be started."""
    if stub.options is None:
        raise TemporalError(
            f"{operation} needs a new workflow stub, but workflow '{stub.workflow_id}' was made "
            "from an id alone (an existing execution); create it with a workflow type and a "
            "task_queue to start it",
            operation=operation,
            workflow_id=stub.workflow_id,
            error_type="NotStartable",
        )
    return stub.options


def start_kwargs(stub: WorkflowStub, *, for_operation: bool = False) -> dict[str, Any]:
    """temporalio's start arguments for a new stub (``for_operation``: of an update-with-start,
    which takes no start delay)."""
    o = require_new(stub, "start")
    kwargs: dict[str, Any] = {
        "id": stub.workflow_id,
        "task_queue": o.task_queue,
        "execution_timeout": o.execution_timeout,
        "run_timeout": o.run_timeout,
        "task_timeout": o.task_timeout,
        "memo": o.memo or None,
        "cron_schedule": o.cron_schedule or "",
    }
    if o.id_reuse_policy:
        kwargs["id_reuse_policy"] = temporalio.common.WorkflowIDReusePolicy[
            o.id_reuse_policy.upper()
        ]
    if o.id_conflict_policy:
        kwargs["id_conflict_policy"] = temporalio.common.WorkflowIDConflictPolicy[
            o.id_conflict_policy.upper()
        ]
    if o.start_delay is not None and not for_operation:
        kwargs["start_delay"] = o.start_delay
    if o.retry:
        kwargs["retry_policy"] = temporalio.common.RetryPolicy(
            initial_interval=o.retry.initial_interval or timedelta(seconds=1),
            backoff_coefficient=o.retry.backoff_coefficient or 2.0,
            maximum_interval=o.retry.maximum_interval,
            maximum_attempts=o.retry.maximum_attempts or 0,
            non_retryable_error_types=list(o.retry.non_retryable_error_types) or None,
        )
    if o.search_attributes:
        kwargs["search_attributes"] = temporalio.common.TypedSearchAttributes(
            [_search_pair(a.name, a.type, a.value) for a in o.search_attributes]
        )
    if o.priority:
        kwargs["priority"] = temporalio.common.Priority(
            priority_key=o.priority.priority_key,
            fairness_key=o.priority.fairness_key,
            fairness_weight=o.priority.fairness_weight,
        )
    return kwargs


_MEMO_PAYLOADS: dict[str, temporalio.api.common.v1.Payload] = {}
"""Memo values (strings) already encoded by temporalio's default converter."""
_MEMO_CACHED = 1024


async def memo_payloads(client: Client, memo: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """``memo`` with its string values as the payloads the client would encode them to,
    each encoded once per process: every start of a run carries the same ``playbook`` and
    ``playbook_run_id`` entries (SPEC section 6), and a fan-out of thousands of starts
    encoded them again for each one. Only for the default data converter: a codec or a
    converter of the user's encodes every value itself, as before."""
    if not memo or client.data_converter is not temporalio.converter.DataConverter.default:
        return memo
    out: dict[str, Any] = {}
    for key, value in memo.items():
        if type(value) is str:
            payload = _MEMO_PAYLOADS.get(value)
            if payload is None:
                if len(_MEMO_PAYLOADS) >= _MEMO_CACHED:
                    _MEMO_PAYLOADS.clear()
                payload = (await client.data_converter.encode([value]))[0]
                _MEMO_PAYLOADS[value] = payload
            value = payload
        out[key] = value
    return out


_KEY_FACTORY: dict[str, Callable[[str], Any]] = {
    "keyword": temporalio.common.SearchAttributeKey.for_keyword,
    "text": temporalio.common.SearchAttributeKey.for_text,
    "int": temporalio.common.SearchAttributeKey.for_int,
    "double": temporalio.common.SearchAttributeKey.for_float,
    "bool": temporalio.common.SearchAttributeKey.for_bool,
    "datetime": temporalio.common.SearchAttributeKey.for_datetime,
    "keyword_list": temporalio.common.SearchAttributeKey.for_keyword_list,
}


def _search_pair(name: str, kind: str, value: Any) -> temporalio.common.SearchAttributePair[Any]:
    return temporalio.common.SearchAttributePair(_KEY_FACTORY[kind](name), value)
