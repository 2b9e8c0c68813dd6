"""Loops that notice the deadline: every ``{% for %}`` iterable is checked item by item.

The compiler is changed in two places: each for-loop's iterable goes through the hidden
``_budget_loop`` filter (so a loop that writes nothing, ``{% set %}`` only, still reaches
a time check), and ``~`` (a ``Concat`` node) calls the environment's ``concat_values``
(so the sandbox can check its size).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator as JinjaCodeGenerator
from jinja2.compiler import Frame
from jinja2.runtime import Undefined

from playbook.templating import timing


class Iteration:
    """A loop's iterable that checks the deadline on every item (keeps ``len``)."""

    def __init__(self, items: Any) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            timing.tick()
            yield item


def budget_loop(items: Any) -> Any:
    """The hidden filter every ``{% for %}`` iterable goes through."""
    if isinstance(items, Undefined):
        return items
    return Iteration(items)


class CodeGenerator(JinjaCodeGenerator):
    """Routes every for-loop's iterable through the hidden ``_budget_loop`` filter, so that
    loops that write nothing (``{% set %}`` only) still notice the deadline."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Before the base class collects the filters the template uses.
        for loop in node.find_all(nodes.For):
            wrapped = nodes.Filter(
                loop.iter, "_budget_loop", [], [], None, None, lineno=loop.iter.lineno
            )
            wrapped.set_environment(self.environment)
            loop.iter = wrapped
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # Autoescape is always off, so the base class would write str_join((...)).
        self.write("environment.concat_values((")
        for value in node.nodes:
            self.visit(value, frame)
            self.write(", ")
        self.write("))")
