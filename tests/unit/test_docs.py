"""The docs keep up with the code: every error class has a troubleshooting entry."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import playbook
from playbook.errors import PlaybookError

DOCS = Path(__file__).resolve().parents[2] / "docs"


def all_error_classes() -> set[type[PlaybookError]]:
    for module in pkgutil.walk_packages(playbook.__path__, "playbook."):
        if module.name.endswith(("pytest_plugin", "__main__")):
            continue
        importlib.import_module(module.name)
    found: set[type[PlaybookError]] = set()
    todo: list[type[PlaybookError]] = [PlaybookError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if not sub.__name__.startswith("_") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_error_class_has_a_troubleshooting_entry() -> None:
    text = (DOCS / "troubleshooting.md").read_text()
    missing = sorted(c.__name__ for c in all_error_classes() if f"### `{c.__name__}`" not in text)
    assert missing == []


def test_error_classes_found() -> None:
    names = {c.__name__ for c in all_error_classes()}
    assert {"InvalidPlaybook", "WorkflowFailed", "ConnectionFailed", "StepFailed",
            "ServerFailed", "ConfirmationRequired"} <= names


def test_spec_example_copy_is_current() -> None:
    """tests/data/spec_example.yaml is SPEC section 2's example, word for word (the
    contract lives beside the checkout, in ../shared)."""
    import re

    spec = Path(__file__).resolve().parents[3] / "shared" / "SPEC.md"
    if not spec.exists():
        import pytest

        pytest.skip("../shared/SPEC.md is not beside this checkout")
    block = re.search(r"## 2\. A playbook\n\n```yaml\n(.*?)```", spec.read_text(), re.S)
    assert block is not None
    copy = Path(__file__).resolve().parents[1] / "data" / "spec_example.yaml"
    assert copy.read_text() == block.group(1)
