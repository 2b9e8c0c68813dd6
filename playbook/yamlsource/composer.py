"""Composing YAML events into a node graph, with our scalar rules, limits and positions.

The composer is PyYAML's Python one with ``compose_node`` hooked (not ``CSafeLoader``'s):
the hook bounds nesting while parsing, refuses duplicate anchors and keeps each alias's
own position as an ``Alias`` node. The C composer recurses without a bound. The events
come from a parser mixed in beside it: libyaml's when PyYAML was built with it (about ten
times faster), else PyYAML's pure-Python one. ``Loader`` is the one in use; the builder
looks it up here each time, so a test can swap it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.composer import Composer as YamlComposer
from yaml.error import Mark
from yaml.nodes import Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from playbook.yamlsource import limits
from playbook.yamlsource.scalars import MAP, SEQ, STR, implicit_tag
from playbook.yamlsource.source import YamlPath


class Fatal(Exception):
    """A problem after which reading cannot go on."""

    def __init__(self, mark: Mark | None, path: YamlPath, message: str) -> None:
        super().__init__(message)
        self.mark, self.message, self.path = mark, message, path


class Alias(Node):
    """An alias as written: the node it refers to, and where the alias itself stands."""

    def __init__(self, target: Node, start_mark: Any, end_mark: Any) -> None:
        super().__init__(target.tag, None, start_mark, end_mark)
        self.target = target


def deref(node: Node) -> Node:
    """The node an alias refers to; any other node itself."""
    return node.target if isinstance(node, Alias) else node


class Composer(YamlComposer):
    """PyYAML's composer with our scalar rules, our limits and each alias's own position.

    The events come from a parser mixed in beside it: libyaml's when PyYAML has it, else
    PyYAML's own. Both are state machines; only composing recurses, and it is bounded here.
    """

    peek_event: Callable[[], Any]  # from the parser beside us

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.nodes = 0  # composed, keys included
        self.aliases = 0

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # no path resolvers

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not ScalarNode:
            return SEQ if kind is SequenceNode else MAP
        if not implicit[0]:
            return STR
        return implicit_tag(value)

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Any = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = super().compose_node(parent, index)  # raises for an undefined alias
            assert target is not None
            self.aliases += 1
            return Alias(target, event.start_mark, event.end_mark)
        if event.anchor is not None and event.anchor in self.anchors:
            first = self.anchors[event.anchor].start_mark.line + 1
            raise Fatal(
                event.start_mark,
                (),
                f"duplicate anchor '&{event.anchor}' (first defined at line {first}); "
                "give each anchor its own name",
            )
        self.depth += 1
        self.nodes += 1
        if self.depth > limits.MAX_DEPTH + 1:  # the top-level node is depth 1, at path ()
            raise Fatal(event.start_mark, (), limits.too_deep())
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if node is not None and event.tag == "!":
            node.tag = "!"  # the composer resolves `!` like an untagged node; we refuse it
        return node


class PythonLoader(Reader, Scanner, Parser, Composer):
    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)


Loader: Callable[[str], Composer] = PythonLoader
if yaml.__with_libyaml__:  # about ten times faster than the pure-Python parser
    from yaml._yaml import CParser

    class LibyamlLoader(CParser, Composer):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)

    Loader = LibyamlLoader
