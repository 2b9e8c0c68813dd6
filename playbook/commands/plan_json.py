"""``playbook plan --format json``: the plan as one JSON document, for tools; offline.

The same facts as the text plan (:mod:`.plan`), rendered the same way (a template is
rendered when everything it reads is known before a run, else kept as written) and masked
the same way. An invalid playbook or invalid inputs print ``{"valid": false, "problems":
[...]}`` (as ``validate --format json`` does) and exit 2, as without ``--format``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from playbook import templating
from playbook.actions import DESTRUCTIVE
from playbook.commands.plan import _MASK, _SECRET_CONNECTION, _Planner
from playbook.commands.validate import gather_inputs, input_problem, print_json, problem_dict
from playbook.errors import InvalidInputs, InvalidPlaybook
from playbook.inputs import resolve_inputs, secret_names
from playbook.loader import load
from playbook.model import Playbook, Step
from playbook.secrets import Masker, environment_secrets
from playbook.yamlsource.source import format_path

PLAN_VERSION = 1


class _JsonPlanner:
    """Walks the steps as the text plan does, building mappings instead of lines."""

    def __init__(self, planner: _Planner) -> None:
        self.planner = planner

    def value(self, item: Any) -> Any:
        return self.planner.value(item)[0]

    def steps(self, steps: Sequence[Step], prefix: str = "") -> list[dict[str, Any]]:
        return [self.step(step, f"{prefix}{i}") for i, step in enumerate(steps, start=1)]

    def step(self, step: Step, number: str) -> dict[str, Any]:
        book = self.planner.playbook
        out: dict[str, Any] = {
            "number": number,
            "file": book.path,
            "line": step.line,
            "path": format_path(step.path),
            "action": step.kind,
            "destructive": step.kind in DESTRUCTIVE,
            "id": step.id,
            "name": step.name,
            "workflow": step.target,
            "when": step.when,
            "fields": self.value(step.fields),
            "common": {k: self.value(v) for k, v in step.common.items() if k != "when"},
        }
        if step.kind == "set" and isinstance(step.fields, Mapping):
            for name in step.fields:  # from here on the value is only known during a run
                self.planner.vars.pop(name, None)
        if step.steps:
            out["steps"] = self.steps(step.steps, f"{number}.")
        child = step.included
        if child is not None:
            inner = self.include(child, step)
            out["steps"] = inner.steps(child.steps, f"{number}.")
            if child.finally_steps:
                out["finally"] = inner.steps(child.finally_steps, f"{number}.")
        return out

    def include(self, child: Playbook, step: Step) -> _JsonPlanner:
        given = self.value(step.fields.get("inputs") or {})
        known = {k: v for k, v in given.items() if not templating.is_template(v)}
        try:
            values = resolve_inputs(child.inputs, known, from_cli=False, allow_missing=True)
        except InvalidInputs:
            values = known
        planner = _Planner(child, values, secret_names(dict(child.inputs)), self.planner.masker)
        for name, item in child.vars.items():
            rendered, complete = planner.value(item)
            if complete:
                planner.vars[name] = rendered
        return _JsonPlanner(planner)


def _inputs(book: Playbook, values: Mapping[str, Any], secrets: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in book.inputs.items():
        secret = name in secrets
        value = values.get(name)
        default = spec.get("default")
        out[name] = {
            "type": str(spec.get("type", "string")),
            "value": _MASK if secret and value is not None else value,
            "missing": name not in values,
            "required": bool(spec.get("required")),
            "secret": secret,
            "default": _MASK if secret and default is not None else default,
            "description": spec.get("description"),
        }
    return out


def plan_document(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """The plan of a loaded playbook; raises ``InvalidInputs`` for unknown or ill-typed inputs."""
    values = resolve_inputs(playbook.inputs, given, from_cli=True, allow_missing=True)
    secrets = secret_names(playbook.inputs)
    masker = Masker(environment_secrets(os.environ))
    planner = _Planner(playbook, values, secrets, masker)
    walker = _JsonPlanner(planner)
    connection: dict[str, Any] = {
        key: _MASK if key in _SECRET_CONNECTION else walker.value(item)
        for key, item in playbook.connection.items()
    }
    tls = connection.get("tls")
    if isinstance(tls, Mapping):
        connection["tls"] = {k: _MASK if k in _SECRET_CONNECTION else v for k, v in tls.items()}
    rendered_vars: dict[str, Any] = {}
    for name, item in playbook.vars.items():
        rendered, complete = planner.value(item)
        if complete:
            planner.vars[name] = rendered
        rendered_vars[name] = rendered
    document = {
        "plan_version": PLAN_VERSION,
        "valid": True,
        "file": playbook.path,
        "playbook": playbook.name,
        "description": playbook.description,
        "tags": list(playbook.tags),
        "connection": connection,
        "inputs": _inputs(playbook, values, secrets),
        "vars": rendered_vars,
        "steps": walker.steps(playbook.steps),
        "finally": walker.steps(playbook.finally_steps),
    }
    # every string through the masker, as the text plan's whole text is
    result: dict[str, Any] = masker.data(document, numbers=False)
    return result


def run_json(
    file: str | Path,
    *,
    inputs: Sequence[str] = (),
    inputs_file: str | None = None,
    include_root: str | None = None,
) -> int:
    given = gather_inputs(inputs, inputs_file)
    try:
        playbook = load(file, include_root=include_root)
        document = plan_document(playbook, given)
    except InvalidPlaybook as error:
        print_json({"valid": False, "problems": [problem_dict(p) for p in error.problems]})
        return 2
    except InvalidInputs as error:
        problems = [input_problem(str(file), line) for line in error.problems]
        print_json({"valid": False, "problems": problems})
        return 2
    print_json(document)
    return 0
