"""``preflight`` (SPEC section 10), the runner's side: what a playbook names literally (the
task queues of its ``create`` steps and their search attributes, included playbooks'
too), and what a failed check does to the run: before the first step, exit code 3 with one
line per problem. The questions themselves go to the run's :class:`ServerChecks`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from playbook.errors import ConnectionFailed
from playbook.records import StepRecord
from playbook.runner.hygiene import settings
from playbook.templating import is_template

if TYPE_CHECKING:
    from playbook.model import Playbook
    from playbook.runner.interpreter import Runner


class PreflightFailed(ConnectionFailed):
    """What the preflight found, one line per problem (exit code 3; nothing ran, so
    ``finally`` is not attempted either)."""

    def __init__(self, problems: list[str], *, address: str, namespace: str) -> None:
        self.problems = problems
        super().__init__("\n".join(problems), address=address, namespace=namespace)


def named(playbook: Playbook) -> tuple[list[str], list[str]]:
    """The task queues and the search attributes that the ``create`` steps of ``playbook``
    and of the playbooks it includes name literally, each once, in the order met."""
    queues: dict[str, None] = {}
    attributes: dict[str, None] = {}
    for step in playbook.every_step():
        if step.kind != "create" or not isinstance(step.fields, Mapping):
            continue
        queue = step.fields.get("task_queue")
        if isinstance(queue, str) and not is_template(queue):
            queues[queue] = None
        given = step.fields.get("search_attributes")
        for name in given if isinstance(given, Mapping) else ():
            if isinstance(name, str) and not is_template(name):
                attributes[name] = None
    return list(queues), list(attributes)


async def check(runner: Runner) -> None:
    """Raise :class:`PreflightFailed` if a check fails; a check the server would not
    answer is noted in the report, and skipped."""
    shared = runner.shared
    checks = shared.checks
    if checks is None or not settings(runner.playbook, shared.options).preflight:
        return
    queues, attributes = named(runner.playbook)
    problems, notes = await checks.preflight(queues, attributes, shared.options.worker_queues)
    note = StepRecord(path="preflight", action="preflight", name="preflight")
    for text in notes:
        shared.reporter.log(note, f"preflight: {text}")
    if problems:
        result = shared.result
        raise PreflightFailed(
            [shared.masker.text(p) for p in problems],
            address=result.address or "",
            namespace=result.namespace or shared.options.namespace,
        )
