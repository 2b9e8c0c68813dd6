"""Load-time checks of one parsed playbook file: every problem, each with file:line:col.

Two passes over a :class:`~playbook.yamlsource.Source`:

1. The JSON Schema, with the validator's internals hidden. A step is checked by first
   picking its action key and then validating the step against that action only, so the
   schema's ``oneOf`` over the actions never reaches the user; ``anyOf`` branches are
   chosen by the value's type (best-match style) and described in words.
2. The rules the schema cannot say (SPEC section 7): duplicate ids, ``workflow``
   references in scope, stubs of existing executions that would be started, workflow
   option problems (:mod:`playbook.options`), durations, template and expression syntax,
   and references to steps, inputs and vars that do not exist.

Files that a playbook includes are the loader's business; this module sees one file.
"""

from __future__ import annotations

from playbook.errors import Problem
from playbook.validation.common import (
    ACTIONS,
    COMMON_KEYS,
    WORKFLOW_ACTIONS,
    TemplateRefs,
    action_of,
    duration_problem,
    template_refs,
)
from playbook.validation.schema_pass import _Checker, _got
from playbook.validation.semantics import _Semantics, all_steps, is_existing_execution, walk_steps
from playbook.yamlsource import Source

__all__ = [
    "ACTIONS",
    "COMMON_KEYS",
    "WORKFLOW_ACTIONS",
    "TemplateRefs",
    "action_of",
    "all_steps",
    "duration_problem",
    "is_existing_execution",
    "template_refs",
    "validate",
    "walk_steps",
]


def validate(source: Source) -> list[Problem]:
    """Every problem of one parsed playbook file, sorted by position."""
    checker = _Checker(source)
    data = source.data
    if not isinstance(data, dict):
        checker.add(
            (), f"a playbook must be a mapping with version, name and steps, not {_got(data)}"
        )
        return sorted(checker.problems.values())
    checker.check_schema(data)
    _Semantics(checker, data).run()
    return sorted(checker.problems.values())
