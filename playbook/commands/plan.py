"""``playbook plan FILE``: what a run would do, as plain text; offline.

The runbook's help page: name and description, inputs (type, default, description and the
value that would be used; secrets, and a secret input's default, as ``***``, missing
required ones as ``<required>``),
vars rendered in order, then every step with its action, target workflow and fields,
nested steps indented, and the ``finally`` steps; a destructive action (``reset``, ``batch``,
``terminate``...: :data:`playbook.actions.DESTRUCTIVE`) is marked ``[destructive]``.

A template is rendered when everything it reads is known before a run: inputs that have a
value (not secret), vars rendered so far. Templates that read ``steps``, ``run``, ``env``,
a loop variable, a var that a ``set`` step changes, or call ``uuid()``/``now()``, are
shown as written. The whole text then goes through a masker of the secret inputs' values
(those of included playbooks too) and the environment's API key, as a run's output does.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from playbook import numbers, templating
from playbook.actions import DESTRUCTIVE
from playbook.commands.validate import gather_inputs
from playbook.errors import InvalidInputs, TemplateError
from playbook.inputs import resolve_inputs, secret_names
from playbook.loader import load
from playbook.model import Playbook, Step
from playbook.secrets import Masker, environment_secrets
from playbook.validation import TARGETING_ACTIONS, is_existing_execution, template_refs

_KNOWN_GLOBALS = frozenset({"inputs", "vars", "range", "dict", "namespace"})
_RUNTIME_CALLS = frozenset({"uuid", "now"})
_HANDLER = {
    "signal": "signal",
    "signal_with_start": "signal",
    "query": "query",
    "update": "update",
    "start_update": "update",
    "update_with_start": "update",
    "await_update": "update_id",
}
_SECRET_CONNECTION = ("api_key", "client_key")
_PLAIN = re.compile(r"[A-Za-z0-9_./@+-](?:[A-Za-z0-9_ ./@+()'-]*[A-Za-z0-9_./@+)-])?")
_MASK = "***"
MISSING = "<required>"


def _flow(value: Any, top: bool = True) -> str:
    """A value as one line of YAML flow style; a top-level string as it is."""
    if isinstance(value, str):
        if top or (
            _PLAIN.fullmatch(value)
            and value not in ("true", "false", "null")
            and not re.fullmatch(r"[-+.\d][\d.eE+-]*", value)
        ):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v, False)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v, False) for v in value) + "]"
    if numbers.too_big(value):
        return numbers.DESCRIBED
    return json.dumps(value, ensure_ascii=False)


class _Planner:
    """Renders one playbook's plan; ``inputs`` holds only the values known before a run."""

    def __init__(
        self, playbook: Playbook, inputs: Mapping[str, Any], secrets: set[str], masker: Masker
    ) -> None:
        self.playbook = playbook
        self.inputs = {k: v for k, v in inputs.items() if k not in secrets}
        self.masker = masker
        for name in secrets:  # the value a run would use, and a default it would not
            masker.add(inputs.get(name))
            spec = playbook.inputs.get(name)
            masker.add(spec.get("default") if isinstance(spec, Mapping) else None)
        self.vars: dict[str, Any] = {}
        self.lines: list[str] = []

    # ---- values

    def _renderable(self, text: str) -> bool:
        refs = template_refs(text)
        if refs.calls & _RUNTIME_CALLS or refs.names - _KNOWN_GLOBALS:
            return False
        for root, name in refs.attributes:
            if (root == "inputs" and name not in self.inputs) or (
                root == "vars" and name not in self.vars
            ):
                return False
        return True

    def value(self, value: Any) -> tuple[Any, bool]:
        """The value with what can be rendered rendered, and whether all of it was."""
        if isinstance(value, Mapping):
            pairs = {k: self.value(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs.items()}, all(ok for _, ok in pairs.values())
        if isinstance(value, list):
            items = [self.value(v) for v in value]
            return [v for v, _ in items], all(ok for _, ok in items)
        if not templating.is_template(value):
            return value, True
        if not self._renderable(value):
            return value, False
        try:
            context = {"inputs": self.inputs, "vars": self.vars}
            return templating.render(value, context), True
        except TemplateError:
            return value, False

    def show(self, value: Any) -> str:
        return _flow(self.value(value)[0])

    # ---- sections

    def header(self, inputs: Mapping[str, Any], secrets: set[str], missing: set[str]) -> None:
        book = self.playbook
        self.lines.append(f"Playbook: {book.name} ({book.path})")
        if book.description:
            self.lines.append(book.description)
        if book.tags:
            self.lines.append(f"Tags: {', '.join(book.tags)}")
        if book.connection:
            self.lines += ["", "Connection:"]
            for key, item in book.connection.items():
                shown = _MASK if key in _SECRET_CONNECTION else self.show(item)
                if key == "tls" and isinstance(item, Mapping):
                    masked = {k: (_MASK if k in _SECRET_CONNECTION else v) for k, v in item.items()}
                    shown = _flow(masked)
                self.lines.append(f"  {key}: {shown}")
        if book.inputs:
            self.lines += ["", "Inputs:"]
            for name, spec in book.inputs.items():
                if name in missing:
                    shown = MISSING
                elif name in secrets and inputs.get(name) is not None:
                    shown = _MASK
                else:
                    shown = _flow(inputs.get(name))
                self.lines.append(f"  {name}: {shown}")
                facts = [str(spec.get("type", "string"))]
                if spec.get("default") is not None:
                    default = _MASK if name in secrets else _flow(spec["default"], top=False)
                    facts.append(f"default {default}")
                facts += [flag for flag in ("required", "secret") if spec.get(flag)]
                detail = ", ".join(facts)
                if spec.get("description"):
                    detail += f"; {spec['description']}"
                self.lines.append(f"      {detail}")
        if book.vars:
            self.lines += ["", "Vars:"]
            for name, item in book.vars.items():
                rendered, complete = self.value(item)
                if complete:
                    self.vars[name] = rendered
                self.lines.append(f"  {name}: {_flow(rendered)}")

    def steps(self, steps: Sequence[Step], indent: str, prefix: str = "") -> None:
        for index, step in enumerate(steps, start=1):
            self.step(step, indent, f"{prefix}{index}")

    def step(self, step: Step, indent: str, number: str) -> None:
        action, body = step.kind, step.fields
        fields: list[tuple[str, Any]] = []
        title = action
        nested: list[tuple[str, Sequence[Step], Playbook | None]] = []
        if action == "create" and isinstance(body, Mapping):
            kind = (
                "existing execution" if is_existing_execution(body) else f"new {body.get('type')}"
            )
            title = f"create {step.id or '(no id)'}: {kind}"
            fields = [(k, v) for k, v in body.items() if k != "type"]
        elif action in TARGETING_ACTIONS and isinstance(body, Mapping):
            title = f"{action} {body.get('workflow')}"
            handler = _HANDLER.get(action)
            if handler and handler in body:
                title += f": {self.show(body[handler])}"
            skip = {"workflow", handler}
            fields = [(k, v) for k, v in body.items() if k not in skip]
        elif action == "assert":
            self.assert_fields(body, fields)
        elif action in ("sleep", "log", "confirm"):
            title = (
                f"{action} {self.show(body)}"
                if action == "sleep"
                else f"{action}: {self.show(body)}"
            )
        elif action == "set" and isinstance(body, Mapping):
            fields = list(body.items())
        elif action == "parallel" and isinstance(body, Mapping):
            if "max_concurrency" in body:
                title += f" (at most {self.show(body['max_concurrency'])} at once)"
            nested.append(("", step.steps, None))
        elif action == "foreach" and isinstance(body, Mapping):
            title = f"foreach {body.get('as', 'item')} in {_flow(self.value(body.get('items'))[0], top=False)}"
            if "concurrency" in body:
                title += f" ({self.show(body['concurrency'])} at once)"
            nested.append(("", step.steps, None))
        elif action == "include" and isinstance(body, Mapping):
            title = f"include {body.get('playbook')}"
            fields = [("inputs", body["inputs"])] if "inputs" in body else []
            child = step.included
            if child is not None:
                nested.append(("", child.steps, child))
                if child.finally_steps:
                    nested.append(("finally:", child.finally_steps, child))
        elif isinstance(body, Mapping):  # list, count, task_queue...: every field as given
            fields = list(body.items())
        if step.id is not None and action != "create":
            title += f" (id: {step.id})"
        if step.named:
            title += f" -- {step.name}"
        if action in DESTRUCTIVE:  # (SPEC section 12: --dry-run never runs these)
            title += "  [destructive]"
        self.lines.append(f"{indent}{number}. {title}")
        pad = indent + " " * (len(number) + 2)
        when = [("when", step.when)] if step.when is not None else []
        common = [(k, v) for k, v in step.common.items() if k != "when"]
        for key, item in [*when, *fields, *common]:
            self.lines.append(f"{pad}{key}: {item if key == 'when' else self.show(item)}")
        for label, inner, child in nested:
            if label:
                self.lines.append(f"{pad}{label}")
            if child is None:
                self.steps(inner, pad, f"{number}.")
            else:
                self.include(child, step, inner, pad, number)
        if action == "set" and isinstance(body, Mapping):
            for name in body:  # from here on the value is only known during a run
                self.vars.pop(name, None)

    def assert_fields(self, body: Any, fields: list[tuple[str, Any]]) -> None:
        if isinstance(body, Mapping):
            that = body.get("that")
            for item in that if isinstance(that, list) else [that]:
                fields.append(("that", item))
            if "message" in body:
                fields.append(("message", body["message"]))
        else:
            for item in body if isinstance(body, list) else [body]:
                fields.append(("that", item))

    def include(
        self, child: Playbook, step: Step, steps: Sequence[Step], pad: str, number: str
    ) -> None:
        given, _ = self.value(step.fields.get("inputs") or {})
        known = {k: v for k, v in given.items() if not templating.is_template(v)}
        try:
            values = resolve_inputs(child.inputs, known, from_cli=False, allow_missing=True)
        except InvalidInputs:
            values = known
        planner = _Planner(child, values, secret_names(dict(child.inputs)), self.masker)
        for name, item in child.vars.items():
            rendered, complete = planner.value(item)
            if complete:
                planner.vars[name] = rendered
        planner.steps(steps, pad, f"{number}.")
        self.lines += planner.lines


def plan_text(playbook: Playbook, given: Mapping[str, Any], *, from_cli: bool = True) -> str:
    """The plan of a loaded playbook; raises ``InvalidInputs`` for unknown or ill-typed inputs."""
    values = resolve_inputs(playbook.inputs, given, from_cli=from_cli, allow_missing=True)
    secrets = secret_names(playbook.inputs)
    missing = {name for name in playbook.inputs if name not in values}
    masker = Masker(environment_secrets(os.environ))
    planner = _Planner(playbook, values, secrets, masker)
    planner.header(values, secrets, missing)
    planner.lines += ["", "Steps:"]
    planner.steps(playbook.steps, "  ")
    if playbook.finally_steps:
        planner.lines += ["", "Finally:"]
        planner.steps(playbook.finally_steps, "  ")
    return masker.text("\n".join(planner.lines))


def run(
    file: str | Path,
    *,
    inputs: Sequence[str] = (),
    inputs_file: str | None = None,
    include_root: str | None = None,
    format: str = "text",
) -> int:
    if format == "json":
        from playbook.commands.plan_json import run_json

        return run_json(file, inputs=inputs, inputs_file=inputs_file, include_root=include_root)
    given = gather_inputs(inputs, inputs_file)
    playbook = load(file, include_root=include_root)
    click.echo(plan_text(playbook, given))
    return 0
