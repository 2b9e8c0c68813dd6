"""Random documents and random mutations of valid playbooks: loading, validating and
planning them raises only InvalidPlaybook or InvalidInputs, never anything else."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playbook.commands.plan import plan_text
from playbook.errors import InvalidInputs, InvalidPlaybook
from playbook.loader import load
from playbook.validation import ACTIONS, COMMON_KEYS

SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

KEYS = st.sampled_from(
    [
        *ACTIONS,
        *COMMON_KEYS,
        "version",
        "name",
        "steps",
        "finally",
        "inputs",
        "vars",
        "workflow",
        "type",
        "task_queue",
        "workflow_id",
        "args",
        "items",
        "that",
        "playbook",
        "x",
    ]
) | st.text(max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "10s",
            "1m30s",
            "PT5S",
            "-1",
            "{{ x }}",
            "{{ steps.a.result }}",
            "{%",
            "admitted",
            "use_existing",
            "fail",
            "order",
            "a",
            "inputs.x == 1",
            "{{ inputs.y }}",
            "2024-01-02",
            "1e400",
            ".inf",
        ]
    )
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)

VALID: dict[str, Any] = {
    "version": 1,
    "name": "Order smoke test",
    "inputs": {
        "customer": {"type": "string", "default": "alice"},
        "count": {"type": "integer", "required": True},
    },
    "vars": {"order_id": "order-{{ uuid() }}"},
    "steps": [
        {
            "id": "order",
            "create": {
                "type": "OrderWorkflow",
                "task_queue": "orders",
                "workflow_id": "{{ vars.order_id }}",
                "execution_timeout": "10m",
                "id_conflict_policy": "use_existing",
            },
        },
        {"start": {"workflow": "order", "args": [{"customer": "{{ inputs.customer }}"}]}},
        {
            "id": "status",
            "query": {"workflow": "order", "query": "status"},
            "retry": {"until": "result.items | length == 1", "timeout": "10s"},
        },
        {
            "parallel": {
                "steps": [
                    {"signal": {"workflow": "order", "signal": "go"}},
                    {"id": "b", "create": {"type": "B", "task_queue": "q"}},
                ]
            }
        },
        {
            "foreach": {
                "items": [1, 2],
                "as": "n",
                "steps": [
                    {
                        "update_with_start": {
                            "workflow": "order",
                            "update": "add",
                            "wait_for_stage": "completed",
                        }
                    }
                ],
            }
        },
        {"assert": {"that": ["steps.status.result.total == 20"], "message": "{{ steps.status }}"}},
        {"include": {"playbook": "other.yaml", "inputs": {"who": "x"}}},
    ],
    "finally": [{"terminate": {"workflow": "order", "reason": "cleanup", "if_running": True}}],
}
INCLUDED = (
    "version: 1\nname: other\ninputs:\n  who: {type: string, required: true}\nsteps:\n  - log: hi\n"
)


def try_load(text: str, inputs: dict[str, Any] | None = None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "other.yaml").write_text(INCLUDED, encoding="utf-8")
        path = Path(directory) / "playbook.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            playbook = load(path, inputs=inputs, inputs_from_cli=True)
            plan_text(playbook, inputs or {})  # a valid playbook can always be planned
        except (InvalidPlaybook, InvalidInputs):
            pass


@SETTINGS
@given(VALUES)
def test_random_documents(document: Any) -> None:
    try_load(yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_random_mappings(document: dict[str, Any]) -> None:
    try_load(yaml.safe_dump({"version": 1, "name": "n", **document}, allow_unicode=True))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@st.composite
def mutations(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        operation = draw(st.sampled_from(["drop", "rename", "replace", "retype"]))
        if operation == "drop":
            del parent[last]
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(KEYS)] = parent.pop(last)
        elif operation == "retype":
            value = parent[last]
            parent[last] = (
                ([value] if not isinstance(value, list) else {"v": value})
                if draw(st.booleans())
                else str(value)
            )
        else:
            parent[last] = draw(VALUES)
    return data


@SETTINGS
@given(
    mutations(),
    st.dictionaries(
        st.sampled_from(["customer", "count", "other"]), st.text(max_size=5), max_size=3
    )
    | st.none(),
)
def test_mutated_playbooks(data: dict[str, Any], inputs: dict[str, Any] | None) -> None:
    try_load(yaml.safe_dump(data, allow_unicode=True), inputs)
