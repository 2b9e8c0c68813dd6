"""Workflow options in playbook spelling: checked and normalised in one place.

Both the loader (at load time, before anything connects) and the client core (when a
stub is created) call :func:`check_workflow_options`; so a playbook and a Python user
get the same messages. This package does not import temporalio, so that
``playbook validate`` stays fast. Its parts:

- :mod:`.vocabulary`: the option names and the values each may take, from the JSON Schema;
- :mod:`.model`: the checked options (:class:`WorkflowOptions` and its parts);
- :mod:`.check`: the options as a whole, their combinations, per-action rules;
- :mod:`.groups`: ``retry`` and ``priority``; :mod:`.search_attributes`: those.
"""

from __future__ import annotations

from playbook.options.check import check_for_action, check_wait_stage, check_workflow_options
from playbook.options.model import Priority, Problems, RetryPolicy, SearchAttribute, WorkflowOptions
from playbook.options.search_attributes import infer_search_attribute
from playbook.options.vocabulary import (
    ADMITTED_REASON,
    DURATION_KEYS,
    ID_CONFLICT_POLICIES,
    ID_REUSE_POLICIES,
    PRIORITY_KEYS,
    RETRY_KEYS,
    SEARCH_ATTRIBUTE_TYPES,
    WAIT_STAGES,
    WORKFLOW_ID_RE,
    WORKFLOW_OPTION_KEYS,
)
from playbook.suggest import did_you_mean
from playbook.templating import is_template as is_template

__all__ = [
    "ADMITTED_REASON",
    "DURATION_KEYS",
    "ID_CONFLICT_POLICIES",
    "ID_REUSE_POLICIES",
    "PRIORITY_KEYS",
    "RETRY_KEYS",
    "SEARCH_ATTRIBUTE_TYPES",
    "WAIT_STAGES",
    "WORKFLOW_ID_RE",
    "WORKFLOW_OPTION_KEYS",
    "Priority",
    "Problems",
    "RetryPolicy",
    "SearchAttribute",
    "WorkflowOptions",
    "check_for_action",
    "check_wait_stage",
    "check_workflow_options",
    "did_you_mean",
    "infer_search_attribute",
    "is_template",
]
