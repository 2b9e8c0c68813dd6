"""What a step sees: its :class:`Scope` (records, stubs, vars, loop variables, inherited
tags), the one template context built from it, and :class:`StepEnv`, the services the
runner offers to actions (the :class:`playbook.actions.base.Env` protocol)."""

from __future__ import annotations

import asyncio
from collections import ChainMap
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playbook import templating
from playbook.actions.base import ConfirmationRequired
from playbook.errors import PlaybookError

if TYPE_CHECKING:
    from temporalio.client import Client

    from playbook.core import WorkflowStub
    from playbook.model import Step
    from playbook.records import StepRecord
    from playbook.runner.interpreter import Runner


def template_context(
    inputs: Mapping[str, Any],
    vars: Mapping[str, Any],
    env: Mapping[str, Any],
    steps: Mapping[str, Any],
    run: Mapping[str, Any],
    **names: Any,
) -> dict[str, Any]:
    """The names every template sees (SPEC section 5); loop variables and ``result`` on top."""
    return {"inputs": inputs, "vars": vars, "env": env, "steps": steps, "run": run, **names}


@dataclass
class Scope:
    """Names visible to a step: records, stubs, vars and loop variables."""

    records: MutableMapping[str, Any]
    stubs: MutableMapping[str, WorkflowStub]
    vars: MutableMapping[str, Any]
    locals: dict[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    """Tags inherited from the playbook and the enclosing control steps."""

    def child(self, **local: Any) -> Scope:
        """A nested scope (a loop iteration): what it adds stays in it."""
        return Scope(
            ChainMap({}, self.records),
            ChainMap({}, self.stubs),
            ChainMap({}, self.vars),
            {**self.locals, **local},
            self.tags,
        )

    def tagged(self, tags: Iterable[str]) -> Scope:
        """The same names, with more inherited tags (for a control step's nested steps)."""
        more = frozenset(tags)
        if more <= self.tags:
            return self
        return Scope(self.records, self.stubs, self.vars, self.locals, self.tags | more)


class StepEnv:
    """The run's services for one step."""

    def __init__(self, runner: Runner, scope: Scope, record: StepRecord, step: Step) -> None:
        self.runner = runner
        self.scope = scope
        self.record = record
        self.step = step
        self.playbook_name = runner.playbook.name
        self.run_id = runner.shared.result.run_id
        self.step_id = step.id
        self.handlers = runner.shared.result.handlers
        self.extra: dict[str, Any] = {}

    def where(self, field_name: str) -> str:
        label = self.record.id or self.record.name
        return (
            f"step '{label}' ({self.record.path}, {self.runner.playbook.path}:"
            f"{self.record.line}), field {field_name}"
        )

    def context(self) -> dict[str, Any]:
        runner = self.runner
        return template_context(
            runner.inputs,
            self.scope.vars,
            runner.environ,
            self.scope.records,
            runner.run_info,
            **self.scope.locals,
            **self.extra,
        )

    async def client(self) -> Client:
        return await self.runner.client()

    def stub(self, name: str) -> WorkflowStub:
        try:
            return self.scope.stubs[name]
        except KeyError:
            raise PlaybookError(
                f"{self.where('workflow')}: workflow '{name}' was not created in this run "
                "(its create step was skipped or failed)"
            ) from None

    def add_stub(self, name: str, stub: WorkflowStub) -> None:
        self.scope.stubs[name] = stub

    def evaluate(self, expression: str) -> Any:
        return templating.evaluate(expression, self.context(), where=self.where("expression"))

    def render(self, value: Any, field_name: str) -> Any:
        return templating.render(value, self.context(), where=self.where(field_name))

    def log(self, text: str) -> None:
        shared = self.runner.shared
        text = shared.masker.text(text)
        self.record.logs.append(text)
        shared.reporter.log(self.record, text)

    def expect_ended(self, workflow_ids: Iterable[str]) -> None:
        """Workflows a step ends on purpose (a batch terminate): ``verify`` expects them so."""
        for workflow_id in workflow_ids:
            self.runner.shared.ledger.expect(workflow_id)

    def progress(self, text: str) -> None:
        """A live progress line for this step (a batch job's count), where the reporter
        has one (a console on a terminal); nothing otherwise."""
        shared = self.runner.shared
        show = getattr(shared.reporter, "progress", None)
        if callable(show):
            show(self.record, shared.masker.text(text))

    def set_vars(self, values: Mapping[str, Any]) -> None:
        self.scope.vars.update(values)

    async def confirm(self, text: str) -> bool:
        shared = self.runner.shared
        if shared.options.yes:
            self.log(f"confirmed by --yes: {text}")
            return True
        if not shared.options.interactive:
            raise ConfirmationRequired(
                f"{self.where('confirm')}: '{text}' needs an answer, but there is no terminal; "
                "run with --yes to answer yes"
            )
        import click

        clear = getattr(shared.reporter, "before_prompt", None)
        if callable(clear):
            clear()  # a live progress line would run into the question
        return await asyncio.to_thread(click.confirm, text, default=False)

    async def sleep(self, seconds: float) -> None:
        await self.runner.shared.sleep(seconds)
