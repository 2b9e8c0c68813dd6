"""The collector is tuned only in the console script's own process, never in a program (or
a test suite) that runs playbooks in-process."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from playbook.commands import collector


def test_settle_leaves_an_embedding_process_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "_TUNED", False)
    before = gc.get_threshold()
    collector.settle()
    assert gc.get_threshold() == before


def test_the_console_scripts_process_is_tuned() -> None:
    probe = (
        "import gc; from playbook.commands import collector; "
        "collector.tune_this_process(); collector.settle(); "
        "print(gc.get_threshold(), gc.get_freeze_count() > 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == f"{collector.THRESHOLDS} True\n"
