"""Kept so that ``from playbook.core.translate import translate`` still works: the
translation lives in :mod:`playbook.core.errors`."""

from playbook.core.errors import failure_facts, translate, workflow_ended
from playbook.errors import UpdateRejected

__all__ = ["UpdateRejected", "failure_facts", "translate", "workflow_ended"]
