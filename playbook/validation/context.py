"""What the rules of the semantic pass share: the problems found so far (the schema pass's
collector), the document, and the step ids, create steps and set-step variables it holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playbook.validation.schema_pass import Checker
from playbook.yamlsource import YamlPath


@dataclass
class Context:
    checker: Checker
    data: dict[str, Any]
    ids: dict[str, YamlPath] = field(default_factory=dict)
    creates: dict[str, YamlPath] = field(default_factory=dict)
    var_names: set[str] = field(default_factory=set)

    def line(self, path: YamlPath) -> int:
        return self.checker.source.locate(path)[0]

    def add(self, path: YamlPath, message: str) -> None:
        """Report a problem, unless the schema pass already found one at this path."""
        if path not in self.checker.paths:
            self.checker.add(path, message)

    def step_at(self, path: YamlPath) -> dict[str, Any]:
        node: Any = self.data
        for part in path:
            node = node[part]
        return node  # type: ignore[no-any-return]
