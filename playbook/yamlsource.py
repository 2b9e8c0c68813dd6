"""YAML text -> plain JSON-typed data, with the line and column of every node.

This module owns reading a playbook file as YAML and nothing else: what the data means is
the schema's and the loader's business. Every problem becomes ``InvalidPlaybook``; no
input, however broken, produces a traceback.

Choices, for the docs to repeat:

- Scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 rules. ``null``, ``~``
  and an empty value are null; ``true``/``false`` (also ``True``, ``TRUE``...) are booleans;
  decimal, ``0o17`` and ``0x1F`` are integers; ``1.5``, ``1e3``, ``.inf`` and ``.nan`` are
  floats; everything else is a string. So ``yes``, ``no``, ``on``, ``off``, ``2024-01-02``
  and ``2024-01-02T03:04:05Z`` stay strings. As in the core schema, ``007`` is the integer
  7: quote it (``"007"``) to keep the string. Quoted and block scalars are always strings.
- Merge keys are supported: ``<<: *defaults`` or ``<<: [*a, *b]``. Keys written in the
  mapping itself win over merged ones, and an earlier merged mapping wins over a later
  one; merged keys take the place of the ``<<`` entry in key order, and their positions
  are where they were written (inside the anchored mapping). A quoted ``"<<"`` is a key.
- Tags other than the standard ``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!map`` and ``!!seq`` are refused, as is the non-specific ``!``.
- A UTF-8 byte-order mark at the start is skipped; any other encoding is refused.
- Plain scalar mapping keys keep their text (``1: x`` has the key ``"1"``); mappings and
  lists as keys are refused. Duplicate keys are errors, anchors must be unique.
- Limits: ``MAX_FILE_BYTES`` checked before parsing; ``MAX_DEPTH`` levels of nesting,
  checked while parsing and again after alias expansion; ``MAX_NODES`` values after alias
  expansion, computed from sizes memoised per node, so a billion-laughs file is refused
  at its offending alias without expanding anything.

Parsing: libyaml's parser when PyYAML was built with it (about ten times faster), else
PyYAML's pure-Python one; both give the same data and positions (bar the exact spot of
an implicit empty value after a ``? key``); the wording of syntax errors differs. Either way the *composer* is PyYAML's Python one with
``compose_node`` hooked, not ``CSafeLoader``'s: the hook bounds nesting while parsing and
keeps each alias's own position, and the C composer recurses without a bound. Data is
built from the node graph by hand; no PyYAML constructor runs.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import yaml
from yaml.composer import Composer
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from playbook.errors import InvalidPlaybook, Problem

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 200_000  # after alias expansion
MAX_DEPTH = 100

YamlPath = tuple[str | int, ...]
Position = tuple[int, int]

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
SEQ, MAP, MERGE = _T + "seq", _T + "map", _T + "merge"
_SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, MERGE})

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# The line breaks PyYAML counts in its marks; str.splitlines() knows more of them.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

_EMPTY = "the file is empty; a playbook needs at least version, name and steps"
_RECURSIVE = "recursive alias: this alias refers to a node that contains it; remove the alias"
_MERGE_HELP = (
    "the merge key '<<' takes a mapping or a list of mappings, such as *defaults or "
    "[*a, *b]; fix the value, or quote '<<' to use it as an ordinary key"
)
# What to do about PyYAML's and libyaml's syntax errors, by a word of their problem or context.
_HINTS = (
    ("escape", "use a valid escape sequence, or single quotes"),
    ("quoted scalar", "close the quote"),
    (
        "mapping values are not allowed",
        "quote the value if it contains ': ', or fix the indentation",
    ),
    ("expected ':'", "check the indentation, and that each key ends with ': '"),
    ("',' or ']'", "close the list with ']', or separate its items with ','"),
    ("',' or '}'", "close the mapping with '}', or separate its entries with ','"),
    ("block end", "check the indentation of this line"),
    ("expected key", "check the indentation of this line"),
    ("'-' indicator", "check the indentation of this line"),
    ("undefined alias", "define the anchor (&name) before an alias (*name) uses it"),
)


@dataclass(frozen=True)
class Source:
    """A parsed file: its data, and where each value and key was written."""

    path: str
    text: str
    data: Any
    positions: dict[YamlPath, Position] = field(repr=False)
    key_positions: dict[YamlPath, Position] = field(repr=False)

    def locate(self, path: Sequence[str | int]) -> Position:
        """The position of ``path``, or of its deepest prefix that exists; (1, 1) for ()."""
        parts = tuple(path)
        for end in range(len(parts), 0, -1):
            found = self.positions.get(parts[:end])
            if found is not None:
                return found
        return (1, 1)

    def excerpt(self, line: int, column: int) -> str:
        """The source line, numbered, with a caret under ``column``."""
        return _excerpt(self._lines, line, column)

    @cached_property
    def _lines(self) -> list[str]:
        return _LINE_BREAK.split(self.text)


def format_path(path: Sequence[str | int]) -> str:
    """``("steps", 2, "signal", "args")`` -> ``steps[2].signal.args``; "" for ()."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def load_file(path: str | os.PathLike[str]) -> Source:
    """Read and parse a playbook file; raises ``InvalidPlaybook``."""
    name = os.fspath(path)

    def fail(message: str) -> InvalidPlaybook:
        return InvalidPlaybook([Problem(name, 1, 1, "", message)])

    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
                raise fail(_too_big(info.st_size))
            data = file.read(MAX_FILE_BYTES + 1)  # bounded: a pipe or a device may be endless
    except FileNotFoundError:
        raise fail("the file does not exist; check the path") from None
    except IsADirectoryError:
        raise fail(
            "this is a directory, not a playbook file; give the path of a YAML file"
        ) from None
    except PermissionError:
        raise fail("the file cannot be read: permission denied; check its permissions") from None
    except OSError as error:
        raise fail(f"the file cannot be read: {error.strerror or error}; check the path") from None
    if len(data) > MAX_FILE_BYTES:
        raise fail(_too_big(None))
    return load_text(data, name)


def load_text(text: str | bytes, path: str = "<string>") -> Source:
    """Parse playbook YAML; raises ``InvalidPlaybook`` with every problem found."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_FILE_BYTES:
            raise InvalidPlaybook([Problem(path, 1, 1, "", _too_big(len(text)))])
        text = _decode(bytes(text), path)
    elif len(text) > MAX_FILE_BYTES // 4:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise InvalidPlaybook([Problem(path, 1, 1, "", _too_big(size))])
    text = text.removeprefix("\ufeff")
    lines = _LINE_BREAK.split(text)
    bad = _NON_PRINTABLE.search(text)
    if bad:
        line, column = _position_at(text, bad.start())
        what = "a NUL byte" if bad.group() == "\0" else f"the character U+{ord(bad.group()):04X}"
        message = f"the file contains {what}, which YAML does not allow; remove it (is this a binary file?)"
        raise InvalidPlaybook(
            [Problem(path, line, column, "", message, _excerpt(lines, line, column))]
        )

    builder = _Builder(path, lines)
    try:
        data = builder.run(text)
    except _Fatal as fatal:
        builder.report(fatal.mark, fatal.path, fatal.message)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        builder.report(mark, (), _rephrase(error, lines))
    except RecursionError:
        builder.report(None, (), "the file nests too deeply to read; flatten it")
    except Exception as error:  # a guard: whatever PyYAML raises must not become a traceback
        builder.report(None, (), f"the file cannot be read as YAML ({error}); check its syntax")
    if builder.problems:
        raise InvalidPlaybook(builder.problems)
    return Source(path, text, data, builder.positions, builder.key_positions)


class _Fatal(Exception):
    """A problem after which reading cannot go on."""

    def __init__(self, mark: Mark | None, path: YamlPath, message: str) -> None:
        super().__init__(message)
        self.mark, self.message, self.path = mark, message, path


class _Alias(Node):
    """An alias as written: the node it refers to, and where the alias itself stands."""

    def __init__(self, target: Node, start_mark: Any, end_mark: Any) -> None:
        super().__init__(target.tag, None, start_mark, end_mark)
        self.target = target


def _deref(node: Node) -> Node:
    return node.target if isinstance(node, _Alias) else node


class _Composer(Composer):
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
        if _NULL.fullmatch(value):
            return NULL
        if value in _TRUE or value in _FALSE:
            return BOOL
        if _INT.fullmatch(value):
            return INT
        if _FLOAT.fullmatch(value):
            return FLOAT
        return MERGE if value == "<<" else STR

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: Any = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = super().compose_node(parent, index)  # raises for an undefined alias
            assert target is not None
            self.aliases += 1
            return _Alias(target, event.start_mark, event.end_mark)
        if event.anchor is not None and event.anchor in self.anchors:
            first = self.anchors[event.anchor].start_mark.line + 1
            raise _Fatal(
                event.start_mark,
                (),
                f"duplicate anchor '&{event.anchor}' (first defined at line {first}); "
                "give each anchor its own name",
            )
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH + 1:  # the top-level node is depth 1, at path ()
            raise _Fatal(event.start_mark, (), _too_deep())
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if node is not None and event.tag == "!":
            node.tag = "!"  # the composer resolves `!` like an untagged node; we refuse it
        return node


class _PythonLoader(Reader, Scanner, Parser, _Composer):
    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)


_Loader: Callable[[str], _Composer] = _PythonLoader
if yaml.__with_libyaml__:  # about ten times faster than the pure-Python parser
    from yaml._yaml import CParser

    class _LibyamlLoader(CParser, _Composer):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Composer.__init__(self)

    _Loader = _LibyamlLoader


@dataclass
class _Flat:
    """A mapping's entries after merging: key -> (key node, value node), and its problems."""

    pairs: dict[str, tuple[Node, Node]]
    issues: list[tuple[Mark, str | None, str]]


class _Builder:
    """Turns the node graph into data, positions and problems."""

    def __init__(self, file: str, lines: list[str]) -> None:
        self.file, self.lines = file, lines
        self.positions: dict[YamlPath, Position] = {}
        self.key_positions: dict[YamlPath, Position] = {}
        self.problems: list[Problem] = []
        self._reported: set[tuple[int, int, str]] = set()
        self._sizes: dict[int, int] = {}
        self._flat: dict[int, _Flat] = {}
        self._merging: list[int] = []

    def report(self, mark: Mark | None, path: YamlPath, message: str) -> None:
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if (line, column, message) in self._reported:
            return  # the same node reached again through an alias
        self._reported.add((line, column, message))
        shown = _excerpt(self.lines, line, column) if mark else ""
        self.problems.append(Problem(self.file, line, column, format_path(path), message, shown))

    def run(self, text: str) -> Any:
        loader: Any = _Loader(text)
        try:
            loader.get_event()  # the stream's start
            if loader.check_event(yaml.StreamEndEvent):
                raise _Fatal(None, (), _EMPTY)
            root = loader.compose_document()
            if not loader.check_event(yaml.StreamEndEvent):
                raise _Fatal(
                    loader.peek_event().start_mark,
                    (),
                    "a second YAML document starts here; a playbook file holds one document: "
                    "remove this '---' and what follows, or move it to a file of its own",
                )
        finally:
            loader.dispose()
        if root is None or (isinstance(root, ScalarNode) and root.value == "" and root.tag == NULL):
            raise _Fatal(None, (), _EMPTY)
        if not isinstance(root, MappingNode):
            raise _Fatal(
                root.start_mark,
                (),
                f"a playbook must be a mapping with version, name and steps, not {_kind(root)}; "
                "write it as 'key: value' lines, starting with 'version: 1'",
            )
        if loader.aliases or loader.nodes > MAX_NODES:  # else every value is written out once
            self._check_size(root)
        return self._build(root, ())

    def _build(self, node: Node, path: YamlPath, via: tuple[Mark, YamlPath] | None = None) -> Any:
        """``node``'s data at ``path``; ``via``: the alias we came through, if any, and its path."""
        mark = node.start_mark  # an alias's own position, not its anchor's
        if isinstance(node, _Alias):
            node, via = node.target, (mark, path)
        if len(path) > MAX_DEPTH:  # past the composer's check only through an alias: blame it
            raise _Fatal(*(via or (mark, path)), _too_deep())
        self.positions[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, mark, path)
        if node.tag != (SEQ if isinstance(node, SequenceNode) else MAP):
            self.report(mark, path, _tag_message(node.tag, _kind(node)))
            return None
        if isinstance(node, SequenceNode):
            return [self._build(item, (*path, i), via) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        flat = self._flatten(node)
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

    def _scalar(self, node: ScalarNode, mark: Mark, path: YamlPath) -> Any:
        text: str = node.value
        tag = node.tag
        try:
            if tag in (STR, MERGE):
                return text
            if tag == NULL and _NULL.fullmatch(text):
                return None
            if tag == BOOL and (text in _TRUE or text in _FALSE):
                return text in _TRUE
            if tag == INT and _INT.fullmatch(text):
                return _to_int(text)
            if tag == FLOAT and (_INT.fullmatch(text) or _FLOAT.fullmatch(text)):
                return _to_float(text)
        except (ValueError, OverflowError):
            self.report(
                mark,
                path,
                f"the number {_clip(text)} is too large; quote it to keep it as a string",
            )
            return text
        if tag not in _SCALAR_TAGS:
            self.report(mark, path, _tag_message(tag, "a scalar"))
            return None
        wanted = {NULL: "null", BOOL: "a boolean (true or false)", INT: "an integer"}.get(
            tag, "a number"
        )
        self.report(
            mark,
            path,
            f"{_clip(text)} is not {wanted}; fix the value or remove the {_short(tag)} tag",
        )
        return text

    def _flatten(self, node: MappingNode) -> _Flat:
        """The mapping's keys and values, duplicates and merges dealt with; memoised."""
        done = self._flat.get(id(node))
        if done is not None:
            return done
        issues: list[tuple[Mark, str | None, str]] = []
        written: dict[str, Node] = {}
        entries: list[tuple[str | None, Node, Node]] = []  # key None: a merge
        for key_node, value_node in node.value:
            target = _deref(key_node)
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
                    raise _Fatal(source_mark, (), _RECURSIVE)
                if len(self._merging) >= MAX_DEPTH:
                    raise _Fatal(source_mark, (), _too_deep())
                self._merging.append(id(node))
                try:
                    merged = self._flatten(source)
                finally:
                    self._merging.pop()
                issues.extend(merged.issues)
                for name, pair in merged.pairs.items():
                    if name not in written and name not in pairs:
                        pairs[name] = pair
        done = self._flat[id(node)] = _Flat(pairs, issues)
        return done

    def _merge_sources(
        self, value: Node, issues: list[tuple[Mark, str | None, str]]
    ) -> Iterator[tuple[Mark, MappingNode]]:
        target = _deref(value)
        items = target.value if isinstance(target, SequenceNode) and target.tag == SEQ else [value]
        for item in items:
            source = _deref(item)
            if isinstance(source, MappingNode) and source.tag == MAP:
                yield item.start_mark, source
            else:
                issues.append((item.start_mark, None, _MERGE_HELP))

    def _key(self, key_node: Node, issues: list[tuple[Mark, str | None, str]]) -> str | None:
        target = _deref(key_node)
        mark = key_node.start_mark
        if not isinstance(target, ScalarNode):
            message = (
                f"mapping keys must be strings, not {_kind(target)}; write the key as plain text"
            )
        elif target.tag not in _SCALAR_TAGS:
            message = _tag_message(target.tag, "a key")
        elif target.value == "" and target.tag == NULL:
            message = "a mapping key is missing; write a key before the ':'"
        else:
            return str(target.value)  # a plain scalar key keeps its text: `1: x` has the key "1"
        issues.append((mark, None, message))
        return None

    def _children(self, node: Node) -> list[Node]:
        if isinstance(node, SequenceNode) and node.tag == SEQ:
            return list(node.value)
        if isinstance(node, MappingNode) and node.tag == MAP:
            return [value for _, value in self._flatten(node).pairs.values()]
        return []

    def _size(self, root: Node) -> int:
        """How many values ``root`` expands to (capped at MAX_NODES + 1), memoised per node.

        Iterative, so that long alias chains cannot exhaust the stack; a node met again
        while its own size is being computed is a recursive alias.
        """
        sizes = self._sizes
        stack: list[tuple[Node, bool]] = [(root, False)]
        open_nodes: set[int] = set()
        while stack:
            node, closing = stack.pop()
            target = _deref(node)
            if closing:
                total = 1 + sum(sizes[id(_deref(child))] for child in self._children(target))
                sizes[id(target)] = min(total, MAX_NODES + 1)
                open_nodes.discard(id(target))
            elif id(target) not in sizes:
                if id(target) in open_nodes:
                    raise _Fatal(node.start_mark, (), _RECURSIVE)
                open_nodes.add(id(target))
                stack.append((target, True))
                stack.extend((child, False) for child in reversed(self._children(target)))
        return sizes[id(_deref(root))]

    def _check_size(self, root: MappingNode) -> None:
        """Refuse a document over MAX_NODES at the value where building would overflow."""
        if self._size(root) <= MAX_NODES:
            return
        count, node, path = 0, cast(Node, root), cast(YamlPath, ())
        while True:  # walk down towards the overflow, skipping whole subtrees that fit
            target = _deref(node)
            if isinstance(node, _Alias):
                raise _Fatal(node.start_mark, path, _too_many(aliased=True))
            count += 1
            if count > MAX_NODES:
                raise _Fatal(node.start_mark, path, _too_many(aliased=False))
            if isinstance(target, SequenceNode):
                children: list[tuple[str | int, Node]] = list(enumerate(target.value))
            else:
                assert isinstance(target, MappingNode)
                children = [(key, pair[1]) for key, pair in self._flatten(target).pairs.items()]
            for step, child in children:
                size = self._sizes[id(_deref(child))]
                if count + size > MAX_NODES:
                    node, path = child, (*path, step)
                    break
                count += size


def _to_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # `007` is 7, as in the YAML 1.2 core schema


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(_to_int(text)) if _INT.fullmatch(text) else float(text)


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    kinds = {NULL: "null", BOOL: "a boolean", INT: "a number", FLOAT: "a number"}
    return kinds.get(node.tag, "a string")


def _short(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


def _tag_message(tag: str, on: str) -> str:
    if tag in _SCALAR_TAGS or tag in (SEQ, MAP):
        return f"the tag {_short(tag)} does not fit {on}; remove the tag"
    return f"tags are not supported in playbooks (found {_short(tag)}); remove the tag and write the value as plain YAML"


def _clip(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _too_deep() -> str:
    return f"the data nests deeper than {MAX_DEPTH} levels; flatten it"


def _too_many(aliased: bool) -> str:
    if aliased:
        return (
            f"too many nodes after alias expansion (more than {MAX_NODES}); "
            "the file is refused (billion-laughs protection)"
        )
    return f"too many nodes (more than {MAX_NODES}); split the playbook into smaller ones"


def _too_big(size: int | None) -> str:
    what = "" if size is None else f" {size} bytes,"
    return f"the file is{what} over the limit of {MAX_FILE_BYTES} bytes; split it into smaller playbooks"


def _rephrase(error: yaml.MarkedYAMLError, lines: list[str]) -> str:
    """The parser's problem text as ours: what is wrong, then what to do."""
    problem = (error.problem or "").strip()
    context = (error.context or "").strip()
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels), met when
        return _too_deep()  # its scanner reads far ahead of our composer's count
    message = f"invalid YAML: {problem} {context}".strip()
    start, at = error.context_mark, error.problem_mark
    if (
        start
        and at
        and context.startswith("while")
        and (start.line, start.column) != (at.line, at.column)
    ):
        message += f" (started at line {start.line + 1}, column {start.column + 1})"
    line = lines[at.line] if at and at.line < len(lines) else ""
    if at and line[at.column : at.column + 1] == "\t":
        hint = "indent with spaces; YAML does not allow tabs there"
    else:
        words = f"{problem} {context}"
        hint = next((hint for word, hint in _HINTS if word in words), "check the YAML syntax here")
    return f"{message}; {hint}"


def _position_at(text: str, index: int) -> Position:
    lines = _LINE_BREAK.split(text[:index])
    return len(lines), len(lines[-1]) + 1


def _decode(data: bytes, path: str) -> str:
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8")
        line, column = _position_at(prefix, len(prefix))
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            message = (
                "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
            )
        else:
            message = (
                f"the file is not valid UTF-8 (byte 0x{data[error.start]:02x}); save it as UTF-8"
            )
        lines = _LINE_BREAK.split(data.decode("utf-8", "replace"))
        raise InvalidPlaybook(
            [Problem(path, line, column, "", message, _excerpt(lines, line, column))]
        ) from None


_WINDOW = 120


def _excerpt(lines: list[str], line: int, column: int) -> str:
    """``   3 |   name: again`` and a caret line under ``column``; long lines are cut."""
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    index = column - 1
    if len(text) > _WINDOW:
        start = max(0, min(index - _WINDOW // 2, len(text) - _WINDOW))
        head = "..." if start else ""
        text = head + text[start : start + _WINDOW] + ("..." if start + _WINDOW < len(text) else "")
        index += len(head) - start
    text = "".join("\ufffd" if ch != "\t" and _NON_PRINTABLE.match(ch) else ch for ch in text)
    pad = "".join("\t" if ch == "\t" else " " for ch in text[:index]) + " " * max(
        0, index - len(text)
    )
    width = max(4, len(str(line)))
    return f"{line:>{width}} | {text}\n{'':>{width}} | {pad}^"
