"""The names of the workflow options and the values each may take, read from the JSON
Schema (``action_create`` and the definitions it uses), so that the checks and the schema
cannot disagree."""

from __future__ import annotations

import re
from typing import Any

from playbook.schema import schema

_DEFS: dict[str, Any] = schema()["$defs"]
_CREATE: dict[str, Any] = _DEFS["action_create"]["properties"]


def _enum(sub: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sub["enum"])


ID_REUSE_POLICIES = _enum(_CREATE["id_reuse_policy"])
ID_CONFLICT_POLICIES = _enum(_CREATE["id_conflict_policy"])
SEARCH_ATTRIBUTE_TYPES = _enum(_DEFS["search_attribute_typed"]["properties"]["type"])
WAIT_STAGES = _enum(_DEFS["action_start_update"]["properties"]["wait_for_stage"])
RETRY_KEYS: tuple[str, ...] = tuple(_DEFS["workflow_retry"]["properties"])
PRIORITY_KEYS: tuple[str, ...] = tuple(_DEFS["priority"]["properties"])
DURATION_KEYS: tuple[str, ...] = tuple(
    key for key, sub in _CREATE.items() if sub.get("$ref") == "#/$defs/duration"
)
# What a create step of a new workflow may set besides its type (run_id names an
# existing execution, which has no options).
WORKFLOW_OPTION_KEYS: tuple[str, ...] = tuple(k for k in _CREATE if k not in ("type", "run_id"))

ADMITTED_REASON = (
    "wait_for_stage 'admitted' is not supported by Temporal (the client cannot wait for it); "
    "use 'accepted' or 'completed'"
)

WORKFLOW_ID_RE = re.compile(r"[^\s]+")
