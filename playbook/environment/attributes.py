"""Search attributes for the embedded dev server: those given with
``--search-attribute NAME=TYPE`` and those that a ``create`` step names literally with a
declared or inferable type, registered when the server starts (the dev server registers
no custom search attributes of its own)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from playbook.errors import UsageError
from playbook.options import infer_search_attribute
from playbook.options.vocabulary import SEARCH_ATTRIBUTE_TYPES
from playbook.suggest import did_you_mean
from playbook.templating import is_template

if TYPE_CHECKING:
    from playbook.model import Playbook

CLI_TYPES = {
    "keyword": "Keyword",
    "text": "Text",
    "int": "Int",
    "double": "Double",
    "bool": "Bool",
    "datetime": "Datetime",
    "keyword_list": "KeywordList",
}
"""Our type names (the schema's) -> the ``temporal`` CLI's."""
_ALIASES = {cli.lower(): ours for ours, cli in CLI_TYPES.items()}


def parse(pairs: Sequence[str], flag: str = "--search-attribute") -> dict[str, str]:
    """``NAME=TYPE`` pairs (our type names or the CLI's, any case) by name."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, kind = pair.partition("=")
        name, kind = name.strip(), kind.strip()
        ours = kind.lower() if kind.lower() in CLI_TYPES else _ALIASES.get(kind.lower())
        if not sep or not name or ours is None:
            hint = did_you_mean(kind, list(SEARCH_ATTRIBUTE_TYPES)) if sep and kind else ""
            raise UsageError(
                f"{flag} takes NAME=TYPE with TYPE one of {', '.join(SEARCH_ATTRIBUTE_TYPES)}, "
                f"got {pair!r}{hint}"
            )
        found[name] = ours
    return found


def named_by(playbooks: Iterable[Playbook]) -> dict[str, str]:
    """The search attributes that the playbooks' ``create`` steps (included playbooks'
    too) name literally, with their declared or inferred types."""
    found: dict[str, str] = {}
    for playbook in playbooks:
        for step in playbook.every_step():
            attributes = step.fields.get("search_attributes") if step.kind == "create" else None
            if isinstance(attributes, Mapping):
                for name, raw in attributes.items():
                    kind = _kind(str(name), raw)
                    if kind is not None and not is_template(name):
                        found.setdefault(str(name), kind)
    return found


def _kind(name: str, raw: object) -> str | None:
    if isinstance(raw, Mapping) and set(raw) == {"type", "value"}:
        kind = raw["type"]
        return kind if kind in CLI_TYPES else None
    if is_template(raw):
        return None  # its type is known only once rendered
    attribute, _ = infer_search_attribute(name, raw)
    return attribute.type if attribute is not None else None


def command_line(attributes: Mapping[str, str]) -> list[str]:
    """``NAME=CliType`` strings for ``temporal server start-dev --search-attribute``."""
    return [f"{name}={CLI_TYPES[kind]}" for name, kind in sorted(attributes.items())]
