"""Load-time checks of one parsed playbook file: every problem, each with file:line:col.

Two passes over a :class:`~playbook.yamlsource.Source`:

1. The JSON Schema, with the validator's internals hidden (:mod:`.schema_pass` walks the
   file, :mod:`.messages` words each error, :mod:`.words` describes values and schema
   branches). A step is checked by first picking its action key and then validating the
   step against that action only, so the schema's ``oneOf`` over the actions never reaches
   the user; ``anyOf`` branches are chosen by the value's type (best-match style) and
   described in words.
2. The rules the schema cannot say (SPEC section 7), run by :mod:`.semantics`: duplicate
   ids, ``workflow`` references in scope and stubs of existing executions that would be
   started (:mod:`.scopes`), workflow option problems (:mod:`playbook.options`) and
   durations (:mod:`.step_rules`), template and expression syntax, and references to
   steps, inputs and vars that do not exist (:mod:`.template_checks`), filters and tests
   that the sandbox does not have, and bare names that no context provides where the
   template is (:mod:`.template_names`).

:mod:`.shape` holds the step's shape as the schema gives it, :mod:`.values` what a single
value reads or means. Files that a playbook includes are the loader's business; this
package sees one file.
"""

from __future__ import annotations

from playbook.errors import Problem
from playbook.validation.schema_pass import Checker
from playbook.validation.semantics import check_semantics
from playbook.validation.shape import (
    ACTIONS,
    COMMON_KEYS,
    TARGETING_ACTIONS,
    action_of,
    all_steps,
    is_existing_execution,
    walk_steps,
)
from playbook.validation.values import TemplateRefs, duration_problem, template_refs
from playbook.validation.words import got
from playbook.yamlsource import Source

__all__ = [
    "ACTIONS",
    "COMMON_KEYS",
    "TARGETING_ACTIONS",
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
    checker = Checker(source)
    data = source.data
    if not isinstance(data, dict):
        checker.add(
            (), f"a playbook must be a mapping with version, name and steps, not {got(data)}"
        )
        return sorted(checker.problems.values())
    checker.check_schema(data)
    check_semantics(checker, data)
    return sorted(checker.problems.values())
