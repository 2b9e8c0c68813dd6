"""A module shaped as Temporal's samples are (decorated workflows and a non-async activity,
the task queue only inside ``main()``) is hosted by ``--worker`` as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_worker_discovery import SAMPLE

PLAYBOOK = """\
version: 1
name: sample
steps:
  - id: greeter
    create: {type: Greeter, task_queue: greeting-queue, execution_timeout: 1m}
  - start: {workflow: greeter, args: [Ada]}
  - await_result: {workflow: greeter, timeout: 30s}
    expect: {result: "Hi, Ada"}
"""


def test_an_unmodified_sample_module_runs_with_worker(tmp_path: Path) -> None:
    (tmp_path / "hello_sample.py").write_text(SAMPLE)
    (tmp_path / "p.yaml").write_text(PLAYBOOK)
    command = Path(sys.executable).with_name("playbook")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(command), "run", "p.yaml", "--dev-server", "--worker", "hello_sample"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed: sample: 3 passed in " in done.stdout
