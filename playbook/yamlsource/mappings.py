"""A mapping's entries as the data will have them: keys checked, duplicates refused and
merge keys (``<<: *defaults``, ``<<: [*a, *b]``) applied.

Keys written in the mapping itself win over merged ones, and an earlier merged mapping
wins over a later one; merged keys take the place of the ``<<`` entry in key order. The
result is memoised per node, so a mapping reached through many aliases is flattened once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from playbook.yamlsource import limits
from playbook.yamlsource.composer import Fatal, deref
from playbook.yamlsource.scalars import MAP, MERGE, NULL, SCALAR_TAGS, SEQ, kind, tag_message

RECURSIVE = "recursive alias: this alias refers to a node that contains it; remove the alias"
_MERGE_HELP = (
    "the merge key '<<' takes a mapping or a list of mappings, such as *defaults or "
    "[*a, *b]; fix the value, or quote '<<' to use it as an ordinary key"
)

Issue = tuple[Mark, str | None, str]
"""A problem in a mapping: where, the key it is under (None: the mapping), the message."""


@dataclass
class Flat:
    """A mapping's entries after merging: key -> (key node, value node), and its problems."""

    pairs: dict[str, tuple[Node, Node]]
    issues: list[Issue]


class Mappings:
    """Flattens mappings, remembering each one it has done."""

    def __init__(self) -> None:
        self._flat: dict[int, Flat] = {}
        self._merging: list[int] = []

    def flatten(self, node: MappingNode) -> Flat:
        """The mapping's keys and values, duplicates and merges dealt with; memoised."""
        done = self._flat.get(id(node))
        if done is not None:
            return done
        issues: list[Issue] = []
        written: dict[str, Node] = {}
        entries: list[tuple[str | None, Node, Node]] = []  # key None: a merge
        for key_node, value_node in node.value:
            target = deref(key_node)
            if isinstance(target, ScalarNode) and target.tag == MERGE:
                key: str | None = None
            else:
                key = self._key(key_node, issues)
                if key is None:
                    continue
            first = written.get("<<" if key is None else key)
            if first is not None:
                issues.append(
                    (
                        key_node.start_mark,
                        key,
                        f"duplicate key {'<<' if key is None else key!r} (first defined at line {first.start_mark.line + 1}); remove one of them",
                    )
                )
                continue
            written["<<" if key is None else key] = key_node
            entries.append((key, key_node, value_node))
        pairs: dict[str, tuple[Node, Node]] = {}
        for key, key_node, value_node in entries:
            if key is not None:
                pairs[key] = (key_node, value_node)
                continue
            for source_mark, source in self._merge_sources(value_node, issues):
                if id(source) in self._merging or id(source) == id(node):
                    raise Fatal(source_mark, (), RECURSIVE)
                if len(self._merging) >= limits.MAX_DEPTH:
                    raise Fatal(source_mark, (), limits.too_deep())
                self._merging.append(id(node))
                try:
                    merged = self.flatten(source)
                finally:
                    self._merging.pop()
                issues.extend(merged.issues)
                for name, pair in merged.pairs.items():
                    if name not in written and name not in pairs:
                        pairs[name] = pair
        done = self._flat[id(node)] = Flat(pairs, issues)
        return done

    def _merge_sources(
        self, value: Node, issues: list[Issue]
    ) -> Iterator[tuple[Mark, MappingNode]]:
        target = deref(value)
        items = target.value if isinstance(target, SequenceNode) and target.tag == SEQ else [value]
        for item in items:
            source = deref(item)
            if isinstance(source, MappingNode) and source.tag == MAP:
                yield item.start_mark, source
            else:
                issues.append((item.start_mark, None, _MERGE_HELP))

    def _key(self, key_node: Node, issues: list[Issue]) -> str | None:
        target = deref(key_node)
        mark = key_node.start_mark
        if not isinstance(target, ScalarNode):
            message = (
                f"mapping keys must be strings, not {kind(target)}; write the key as plain text"
            )
        elif target.tag not in SCALAR_TAGS:
            message = tag_message(target.tag, "a key")
        elif target.value == "" and target.tag == NULL:
            message = "a mapping key is missing; write a key before the ':'"
        else:
            return str(target.value)  # a plain scalar key keeps its text: `1: x` has the key "1"
        issues.append((mark, None, message))
        return None
