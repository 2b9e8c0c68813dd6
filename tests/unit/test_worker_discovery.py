"""A module in the shape of Temporal's samples (decorated workflows and activities, the task
queue only inside its ``main()``) is hosted as it is: its workflows are found by their
decorators and served on the task queues that the playbooks' ``create`` steps give them."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from playbook.environment.workers import WorkerSpec, load_worker_specs, place
from playbook.errors import UsageError
from playbook.loader import load
from playbook.model import Playbook

SAMPLE = """\
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client


@activity.defn
def compose(name: str) -> str:
    return f"Hi, {name}"


@workflow.defn(name="Greeter")
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            compose, name, start_to_close_timeout=timedelta(seconds=5)
        )


@workflow.defn
class Other:
    @workflow.run
    async def run(self) -> None:
        pass


async def main() -> None:
    client = await Client.connect("localhost:7233")
    print(client, "would start a worker on task queue greeting-queue")
"""


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[str]:
    name = f"sample_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(SAMPLE)
    sys.path.insert(0, str(tmp_path))
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def playbook(tmp_path: Path, body: str) -> Playbook:
    path = tmp_path / f"p{uuid.uuid4().hex[:6]}.yaml"
    steps = textwrap.indent(textwrap.dedent(body), "  ")
    path.write_text(f"version: 1\nname: p\nvars: {{q: from-vars}}\nsteps:\n{steps}")
    return load(str(path))


def test_a_sample_module_is_found_by_its_decorators(sample: str) -> None:
    (spec,) = load_worker_specs(sample)
    assert spec.task_queue == ""
    assert [w.__name__ for w in spec.workflows] == ["GreetingWorkflow", "Other"]
    assert [a.__name__ for a in spec.activities] == ["compose"]


def test_its_workers_serve_the_queues_the_create_steps_give_its_types(
    tmp_path: Path, sample: str
) -> None:
    first = playbook(
        tmp_path,
        """\
        - id: a
          create: {type: Greeter, task_queue: greeting-queue}
        - id: b
          create: {type: Unrelated, task_queue: elsewhere}
        - id: c
          create: {type: Other, task_queue: "{{ vars.q }}"}
        """,
    )
    second = playbook(
        tmp_path,
        """\
        - parallel:
            steps:
              - id: d
                create: {type: Other, task_queue: other-queue}
              - id: e
                create: {type: Greeter, task_queue: greeting-queue}
        """,
    )
    specs = place(load_worker_specs(sample), [first, second], "--worker")
    assert [s.task_queue for s in specs] == ["greeting-queue", "other-queue"]
    assert all(s.workflows == specs[0].workflows for s in specs)


def test_a_module_with_a_task_queue_is_left_as_it_is(tmp_path: Path) -> None:
    spec = WorkerSpec("orders", [], [], "orders_module")
    assert place([spec], [], "--worker") == [spec]


def test_no_queue_for_its_types_is_a_usage_error(tmp_path: Path, sample: str) -> None:
    only_templates = playbook(
        tmp_path,
        """\
        - id: a
          create: {type: Greeter, task_queue: "{{ vars.q }}"}
        """,
    )
    with pytest.raises(UsageError) as raised:
        place(load_worker_specs(sample), [only_templates], "--worker")
    assert str(raised.value) == (
        f"--worker {sample}: the module exports no task_queue, and no create step names a "
        "task queue for its workflows (Greeter, Other); export task_queue = '...' in the "
        "module (see docs/workers.md), or give the create steps of those types a literal "
        "task_queue"
    )


def test_a_module_with_neither_exports_nor_workflows_is_refused(tmp_path: Path) -> None:
    name = f"empty_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("x = 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(UsageError) as raised:
            load_worker_specs(name)
    finally:
        sys.path.remove(str(tmp_path))
    assert str(raised.value) == (
        f"--worker {name}: no task_queue found; export task_queue (a string), workflows (a "
        "list of @workflow.defn classes) and activities (a list), or a 'worker' object or "
        "mapping with those three (see docs/workers.md)"
    )
