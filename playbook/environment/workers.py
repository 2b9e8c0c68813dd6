"""``--worker MODULE[:ATTR]``: what a worker module exports, found and checked before any
server starts. Every mistake in the reference or the module is a usage error naming the
option as the caller spells it (``--worker``, ``--playbook-worker``); hosting the workers
is :func:`playbook.devserver.hosted_workers`'s.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from playbook.errors import UsageError
from playbook.templating import is_template

if TYPE_CHECKING:
    from playbook.model import Playbook

_SHAPE = (
    "export task_queue (a string), workflows (a list of @workflow.defn classes) and "
    "activities (a list), or a 'worker' object or mapping with those three "
    "(see docs/workers.md)"
)


@dataclass
class WorkerSpec:
    """What a ``--worker`` module exports: a task queue, its workflows and activities."""

    task_queue: str
    """The queue to poll; "" until :func:`place` gives one (a module with no export)."""
    workflows: list[type]
    activities: list[Callable[..., Any]]
    source: str
    worker_options: dict[str, Any] = field(default_factory=dict)
    """More keyword arguments for temporalio's ``Worker`` (``max_concurrent_activities``...)."""
    data_converter: Any = None
    """The module's ``temporalio.converter.DataConverter``: its workers' and the run's."""


def load_worker_specs(reference: str, flag: str = "--worker") -> list[WorkerSpec]:
    """``MODULE`` or ``MODULE:ATTR``. The object found (ATTR, else the module attribute
    ``worker``, else the module itself) has ``task_queue``, ``workflows`` and ``activities``
    (attributes or mapping keys, also spelt in capitals as module constants are); ATTR may
    also name a list of such objects, or a function without arguments that returns one."""
    where = f"{flag} {reference!r}" if not reference.strip() else f"{flag} {reference}"
    module_name, _, attr = reference.strip().partition(":")
    if not module_name or module_name.startswith("."):
        raise UsageError(
            f"{where}: give a module to import, as MODULE or MODULE:ATTR "
            f"(e.g. {flag} playbook.demo)"
        )
    target = _attribute(_import(module_name, where), module_name, attr, where)
    targets = target if isinstance(target, (list, tuple)) else [target]
    return [_spec(item, reference, where) for item in targets]


def _import(module_name: str, where: str) -> object:
    if "" not in sys.path and os.getcwd() not in sys.path:
        # the current folder is importable, as with `python -m` (docs/workers.md)
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module_name)
    except ImportError as e:
        raise UsageError(
            f"{where}: cannot import module '{module_name}' ({e}); check the name "
            "and that it is on PYTHONPATH"
        ) from None
    except Exception as e:  # the module's own code failed as it was imported
        raise UsageError(
            f"{where}: importing module '{module_name}' failed: {type(e).__name__}: {e}"
        ) from e


def _attribute(module: object, module_name: str, attr: str, where: str) -> object:
    if attr:
        if not hasattr(module, attr):
            raise UsageError(f"{where}: module '{module_name}' has no attribute '{attr}'")
        target: object = getattr(module, attr)
    else:
        target = getattr(module, "worker", module)
    if (
        callable(target)
        and not isinstance(target, type)
        and not hasattr(target, "__temporal_workflow_definition")
    ):
        try:
            target = target()
        except TypeError as e:
            raise UsageError(
                f"{where}: calling it failed ({e}); give a function without "
                "arguments, or an object with task_queue, workflows and "
                "activities"
            ) from None
    return target


def _spec(item: object, reference: str, where: str) -> WorkerSpec:
    def get(name: str) -> object:
        if isinstance(item, dict):
            return item.get(name, item.get(name.upper()))
        return getattr(item, name, getattr(item, name.upper(), None))

    task_queue, workflows, activities = get("task_queue"), get("workflows"), get("activities")
    if task_queue is None and workflows is None and isinstance(item, types.ModuleType):
        found = _decorated(item)
        if found is not None:  # a plain module, as Temporal's samples are: see place()
            return WorkerSpec(
                "", *found, reference, {}, data_converter(get("data_converter"), where)
            )
    if not isinstance(task_queue, str) or not task_queue:
        raise UsageError(f"{where}: no task_queue found; {_SHAPE}")
    options = get("worker_options")
    if options is not None and not isinstance(options, dict):
        raise UsageError(
            f"{where}: worker_options is {type(options).__name__}; give a mapping of keyword "
            "arguments for temporalio's Worker (e.g. {'max_concurrent_activities': 10})"
        )
    reserved = sorted(set(options or {}) & {"client", "task_queue", "workflows", "activities"})
    if reserved:
        raise UsageError(
            f"{where}: worker_options may not set {', '.join(reserved)}: export them as "
            "task_queue, workflows and activities"
        )
    return WorkerSpec(
        task_queue,
        cast("list[type]", _listed(workflows, "workflows", where)),
        cast("list[Callable[..., Any]]", _listed(activities, "activities", where)),
        reference,
        dict(options or {}),
        data_converter(get("data_converter"), where),
    )


def _decorated(module: types.ModuleType) -> tuple[list[type], list[Callable[..., Any]]] | None:
    """The ``@workflow.defn`` classes and ``@activity.defn`` functions at the module's top
    level (defined there or imported); None if it has no workflow."""
    values = list(vars(module).values())
    workflows = [v for v in values if isinstance(v, type) and _definition(v) is not None]
    activities = [v for v in values if callable(v) and hasattr(v, "__temporal_activity_definition")]
    return (workflows, activities) if workflows else None


def _definition(value: object) -> Any:
    return getattr(value, "__temporal_workflow_definition", None)


def place(specs: list[WorkerSpec], playbooks: Sequence[Playbook], flag: str) -> list[WorkerSpec]:
    """Give a module that exports no task queue (its workflows were found by their
    decorators) the task queues that the playbooks' ``create`` steps of its workflow types
    name literally: one worker per queue."""
    placed: list[WorkerSpec] = []
    for spec in specs:
        if spec.task_queue:
            placed.append(spec)
            continue
        names = [str(_definition(w).name) for w in spec.workflows]
        queues: dict[str, None] = {}
        for playbook in playbooks:
            for step in playbook.every_step():
                queue = step.fields.get("task_queue") if step.kind == "create" else None
                if step.fields.get("type") in names and isinstance(queue, str):
                    if not is_template(queue):
                        queues[queue] = None
        if not queues:
            raise UsageError(
                f"{flag} {spec.source}: the module exports no task_queue, and no create step "
                f"names a task queue for its workflows ({', '.join(names)}); export task_queue "
                "= '...' in the module (see docs/workers.md), or give the create steps of "
                "those types a literal task_queue"
            )
        placed += [dataclasses.replace(spec, task_queue=queue) for queue in queues]
    return placed


def data_converter(value: object, where: str) -> Any:
    """A ``temporalio.converter.DataConverter`` (or None); anything else is a usage error."""
    if value is None:
        return None
    from temporalio.converter import DataConverter

    if not isinstance(value, DataConverter):
        raise UsageError(
            f"{where}: data_converter is {type(value).__name__}, not a "
            "temporalio.converter.DataConverter; build one, e.g. "
            "dataclasses.replace(DataConverter.default, payload_converter_class=...)"
        )
    return value


def load_data_converter(reference: str, flag: str = "--data-converter") -> Any:
    """``MODULE:ATTR`` naming a DataConverter (or a function without arguments making one)."""
    where = f"{flag} {reference}"
    module_name, sep, attr = reference.strip().partition(":")
    if not module_name or not sep or not attr:
        raise UsageError(f"{where}: give MODULE:ATTR, the module and the name of a DataConverter")
    value = getattr(_import(module_name, where), attr, None)
    if value is None:
        raise UsageError(f"{where}: module '{module_name}' has no attribute '{attr}'")
    if callable(value) and not isinstance(value, type) and not hasattr(value, "payload_converter"):
        value = value()
    return data_converter(value, where)


def _listed(value: object, name: str, where: str) -> list[object]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise UsageError(f"{where}: {name} is {type(value).__name__}, not a list; {_SHAPE}")
    return list(value)
