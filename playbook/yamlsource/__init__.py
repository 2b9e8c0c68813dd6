"""YAML text -> plain JSON-typed data, with the line and column of every node.

This package owns reading a playbook file as YAML and nothing else: what the data means is
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

The modules, each owning one thing (later ones import earlier ones):

``limits``    the size limits and the messages that refuse more
``excerpts``  the numbered source line with a caret, and positions in text
``source``    ``Source`` (data, positions, ``locate``), ``YamlPath``, ``format_path``
``scalars``   the YAML 1.2 core schema: tags and values of scalars; naming nodes
``syntax``    the parsers' syntax errors as our messages
``composer``  events to nodes: nesting bound, anchors, aliases; the parser in use
``mappings``  keys, duplicates and merge keys
``sizes``     the billion-laughs guard: expanded size without expanding
``builder``   the node graph to data, positions and problems
``reading``   ``load_file`` and ``load_text``: regular files only, size, encoding,
              characters, then the builder
"""

from __future__ import annotations

from playbook.yamlsource.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from playbook.yamlsource.reading import load_file, load_text
from playbook.yamlsource.source import Position, Source, YamlPath, format_path

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Position",
    "Source",
    "YamlPath",
    "format_path",
    "load_file",
    "load_text",
]
