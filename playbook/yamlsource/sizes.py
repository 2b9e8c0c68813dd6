"""The billion-laughs guard: how many values a document expands to, without expanding it
(a long string counting for its length).

Sizes are computed per node and memoised, so a node reached through many aliases costs
once; a document over ``MAX_NODES`` is refused at the value where building would
overflow, blaming the alias that took it there when there is one.
"""

from __future__ import annotations

from typing import cast

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from playbook.yamlsource import limits
from playbook.yamlsource.composer import Alias, Fatal, deref
from playbook.yamlsource.mappings import RECURSIVE, Mappings
from playbook.yamlsource.scalars import MAP, SEQ
from playbook.yamlsource.source import YamlPath


def _own(node: Node) -> int:
    """What a value counts for itself: 1, and a long string one more per CHARS_PER_NODE
    characters, so that aliases repeating a long string count for the text they expand
    to (a 700 KB string written out 30,000 times is 21 GB)."""
    if isinstance(node, ScalarNode):
        return 1 + len(node.value) // limits.CHARS_PER_NODE
    return 1


class Sizes:
    """Counts the values of a node graph, mappings flattened as the data will have them."""

    def __init__(self, mappings: Mappings) -> None:
        self._mappings = mappings
        self._sizes: dict[int, int] = {}

    def check(self, root: MappingNode) -> None:
        """Refuse a document over MAX_NODES at the value where building would overflow."""
        if self._size(root) <= limits.MAX_NODES:
            return
        count, node, path = 0, cast(Node, root), cast(YamlPath, ())
        while True:  # walk down towards the overflow, skipping whole subtrees that fit
            target = deref(node)
            if isinstance(node, Alias):
                raise Fatal(node.start_mark, path, limits.too_many(aliased=True))
            count += _own(target)
            if count > limits.MAX_NODES:
                raise Fatal(node.start_mark, path, limits.too_many(aliased=False))
            if isinstance(target, SequenceNode):
                children: list[tuple[str | int, Node]] = list(enumerate(target.value))
            else:
                assert isinstance(target, MappingNode)
                children = [
                    (key, pair[1]) for key, pair in self._mappings.flatten(target).pairs.items()
                ]
            for step, child in children:
                size = self._sizes[id(deref(child))]
                if count + size > limits.MAX_NODES:
                    node, path = child, (*path, step)
                    break
                count += size

    def _children(self, node: Node) -> list[Node]:
        if isinstance(node, SequenceNode) and node.tag == SEQ:
            return list(node.value)
        if isinstance(node, MappingNode) and node.tag == MAP:
            return [value for _, value in self._mappings.flatten(node).pairs.values()]
        return []

    def _size(self, root: Node) -> int:
        """How many values ``root`` expands to (capped at MAX_NODES + 1), memoised per node.

        Iterative, so that long alias chains cannot exhaust the stack; a node met again
        while its own size is being computed is a recursive alias.
        """
        sizes = self._sizes
        cap = limits.MAX_NODES + 1
        stack: list[tuple[Node, bool]] = [(root, False)]
        open_nodes: set[int] = set()
        while stack:
            node, closing = stack.pop()
            target = deref(node)
            if closing:
                total = _own(target) + sum(
                    sizes[id(deref(child))] for child in self._children(target)
                )
                sizes[id(target)] = min(total, cap)
                open_nodes.discard(id(target))
            elif id(target) not in sizes:
                if id(target) in open_nodes:
                    raise Fatal(node.start_mark, (), RECURSIVE)
                open_nodes.add(id(target))
                stack.append((target, True))
                stack.extend((child, False) for child in reversed(self._children(target)))
        return sizes[id(deref(root))]
