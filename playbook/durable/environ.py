"""Which environment variables a durable run takes along: those its templates read.

A local run's templates see the whole environment as ``env``; a durable run's see the
environment of the machine that submitted it, captured then. Only the variables that the
playbook's templates name (``env.NAME``, ``env['NAME']``, in every file it includes) are
captured, so that the run's history does not hold the submitter's whole environment; a
template that reads ``env`` any other way (``env[name]``, ``env | list``) takes it all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError

from playbook.model import Playbook
from playbook.templating.environment import ENV


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _files(playbook: Playbook) -> Iterator[Playbook]:
    yield playbook
    for child in playbook.includes.values():
        yield from _files(child)


def _parsed(text: str) -> Iterator[nodes.Template]:
    """The text as a template, and as a bare expression (``when``, ``assert``)."""
    for source in (text, "{{ " + text + " }}"):
        try:
            yield ENV.parse(source)
        except TemplateSyntaxError:
            continue


def env_names(playbook: Playbook) -> frozenset[str] | None:
    """The variables the playbook's templates read of ``env``; None: it may read any."""
    names: set[str] = set()
    for file in _files(playbook):
        for text in _strings(file.source.data):
            if "env" not in text:
                continue
            for tree in _parsed(text):
                named = {id(n.node) for n in tree.find_all(nodes.Getattr)}
                named |= {
                    id(n.node)
                    for n in tree.find_all(nodes.Getitem)
                    if isinstance(n.arg, nodes.Const) and isinstance(n.arg.value, str)
                }
                for node in tree.find_all(nodes.Name):
                    if node.name == "env" and id(node) not in named:
                        return None  # (env as a whole: a loop over it, a filter, env[x])
                for attr in tree.find_all(nodes.Getattr):
                    if isinstance(attr.node, nodes.Name) and attr.node.name == "env":
                        names.add(attr.attr)
                for item in tree.find_all(nodes.Getitem):
                    if (
                        isinstance(item.node, nodes.Name)
                        and item.node.name == "env"
                        and isinstance(item.arg, nodes.Const)
                        and isinstance(item.arg.value, str)
                    ):
                        names.add(item.arg.value)
    return frozenset(names)
