"""Turning a playbook's text into plain JSON-typed data, positions and problems.

The builder composes the one document (see ``composer``), refuses what is not a mapping,
checks its expanded size (``sizes``) when aliases could make it grow, then walks the node
graph: every value's and key's position is recorded under its ``YamlPath``, and every
problem found on the way is collected, once per spot, so that all of them are reported
together.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from playbook.errors import Problem
from playbook.yamlsource import composer, limits
from playbook.yamlsource.composer import Alias, Fatal
from playbook.yamlsource.excerpts import excerpt
from playbook.yamlsource.mappings import Mappings
from playbook.yamlsource.scalars import MAP, NULL, SEQ, kind, scalar_value, tag_message
from playbook.yamlsource.sizes import Sizes
from playbook.yamlsource.source import Position, YamlPath, format_path

_EMPTY = "the file is empty; a playbook needs at least version, name and steps"


class Builder:
    """Turns the node graph into data, positions and problems."""

    def __init__(self, file: str, lines: list[str]) -> None:
        self.file, self.lines = file, lines
        self.positions: dict[YamlPath, Position] = {}
        self.key_positions: dict[YamlPath, Position] = {}
        self.problems: list[Problem] = []
        self._reported: set[tuple[int, int, str]] = set()
        self._mappings = Mappings()

    def report(self, mark: Mark | None, path: YamlPath, message: str) -> None:
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if (line, column, message) in self._reported:
            return  # the same node reached again through an alias
        self._reported.add((line, column, message))
        shown = excerpt(self.lines, line, column) if mark else ""
        self.problems.append(Problem(self.file, line, column, format_path(path), message, shown))

    def run(self, text: str) -> Any:
        loader: Any = composer.Loader(text)
        try:
            loader.get_event()  # the stream's start
            if loader.check_event(yaml.StreamEndEvent):
                raise Fatal(None, (), _EMPTY)
            root = loader.compose_document()
            if not loader.check_event(yaml.StreamEndEvent):
                raise Fatal(
                    loader.peek_event().start_mark,
                    (),
                    "a second YAML document starts here; a playbook file holds one document: "
                    "remove this '---' and what follows, or move it to a file of its own",
                )
        finally:
            loader.dispose()
        if root is None or (isinstance(root, ScalarNode) and root.value == "" and root.tag == NULL):
            raise Fatal(None, (), _EMPTY)
        if not isinstance(root, MappingNode):
            raise Fatal(
                root.start_mark,
                (),
                f"a playbook must be a mapping with version, name and steps, not {kind(root)}; "
                "write it as 'key: value' lines, starting with 'version: 1'",
            )
        # Without aliases, and under the limit, every value is written out once: no check.
        if loader.aliases or loader.nodes > limits.MAX_NODES:
            Sizes(self._mappings).check(root)
        return self._build(root, ())

    def _build(self, node: Node, path: YamlPath, via: tuple[Mark, YamlPath] | None = None) -> Any:
        """``node``'s data at ``path``; ``via``: the alias we came through, if any, and its path."""
        mark = node.start_mark  # an alias's own position, not its anchor's
        if isinstance(node, Alias):
            node, via = node.target, (mark, path)
        if (
            len(path) > limits.MAX_DEPTH
        ):  # past the composer's check only through an alias: blame it
            raise Fatal(*(via or (mark, path)), limits.too_deep())
        self.positions[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, ScalarNode):
            value, problem = scalar_value(node.tag, node.value)
            if problem is not None:
                self.report(mark, path, problem)
            return value
        if node.tag != (SEQ if isinstance(node, SequenceNode) else MAP):
            self.report(mark, path, tag_message(node.tag, kind(node)))
            return None
        if isinstance(node, SequenceNode):
            return [self._build(item, (*path, i), via) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        flat = self._mappings.flatten(node)
        for issue_mark, key, message in flat.issues:
            self.report(issue_mark, path if key is None else (*path, key), message)
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in flat.pairs.items():
            key_path = (*path, key)
            self.key_positions[key_path] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self._build(value_node, key_path, via)
        return result
