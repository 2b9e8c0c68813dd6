"""The docs keep up with the code: every error class has a troubleshooting entry."""

from __future__ import annotations

import hashlib
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
    assert {
        "InvalidPlaybook",
        "WorkflowFailed",
        "ConnectionFailed",
        "StepFailed",
        "ServerFailed",
        "ConfirmationRequired",
    } <= names


# The sha256 of tests/data/spec_example.yaml as copied from SPEC section 2 (checked against
# ../shared/SPEC.md when the digest was taken). The contract is not part of a clone, so the
# test pins the copy instead: when SPEC section 2 changes, recopy it and update the digest.
SPEC_EXAMPLE_SHA256 = "18b57afc7a7efe5f0aa2d0f0ea5b914ae46feb3354e9d5efbabc5b0b466059d4"


def test_spec_example_copy_is_unchanged() -> None:
    """tests/data/spec_example.yaml is SPEC section 2's example, word for word: nobody edits
    the copy to make a test pass."""
    copy = Path(__file__).resolve().parents[1] / "data" / "spec_example.yaml"
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == SPEC_EXAMPLE_SHA256
