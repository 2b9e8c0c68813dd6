"""Step fields without templates are copied per attempt, not rendered (runner/literal.py):
the copy is what rendering gives back, and an action that changes it cannot change the
playbook's model."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from playbook.runner import literal


class RenderingEnv:
    """Stands in for StepEnv: says what it was asked to render."""

    def __init__(self) -> None:
        self.rendered: list[Any] = []

    def render(self, value: Any, field_name: str) -> Any:
        self.rendered.append((value, field_name))
        return {"rendered": True}


def test_template_free_fields_are_copied_as_rendering_gives_them() -> None:
    fields = MappingProxyType({"type": "Echo", "args": (1, [2, {"x": None}]), "n": 1.5})
    env = RenderingEnv()
    spec = literal.rendered(env, fields, "create")  # type: ignore[arg-type]
    assert spec == {"type": "Echo", "args": [1, [2, {"x": None}]], "n": 1.5}
    assert type(spec) is dict and type(spec["args"]) is list
    assert env.rendered == []
    spec["args"][1].append(3)
    assert fields["args"] == (1, [2, {"x": None}])


def test_fields_with_a_template_anywhere_are_rendered() -> None:
    fields = {"workflow": "echo", "args": [1, {"deep": "{{ item }}"}]}
    env = RenderingEnv()
    assert literal.rendered(env, fields, "start") == {"rendered": True}  # type: ignore[arg-type]
    assert env.rendered == [(fields, "start")]
    assert literal.has_template(fields) is True
    assert literal.has_template({"log": "{% if x %}y{% endif %}"}) is True
    assert literal.has_template(["plain", {"a": "text {not a template}"}]) is False
    assert literal.has_template("item {{ item }}") is True
