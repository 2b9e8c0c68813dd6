"""``--worker`` hosts a module as a temporalio Worker would: non-async (``def``) activities
run on a thread pool, and the current folder is importable (as with ``python -m``), with
no PYTHONPATH set. The module is the tests' own, shaped like Temporal's hello samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

MODULE = """\
from datetime import timedelta

from temporalio import activity, workflow

task_queue = "sync-activities-{suffix}"


@activity.defn
def compose_greeting(name: str) -> str:  # a plain def: it needs a thread pool
    return f"Hello, {{name}}!"


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        greeting = await workflow.execute_activity(
            compose_greeting, name, start_to_close_timeout=timedelta(seconds=10))
        return await workflow.execute_activity(
            shout, greeting, start_to_close_timeout=timedelta(seconds=10))


workflows = [GreetingWorkflow]
activities = [compose_greeting, shout]
"""

PLAYBOOK = """\
    version: 1
    name: sync activities
    steps:
      - id: greet
        create: {{type: GreetingWorkflow, task_queue: sync-activities-{suffix}, execution_timeout: 1m}}
      - start: {{workflow: greet, args: [World]}}
      - id: result
        await_result: {{workflow: greet, timeout: 30s}}
        expect: {{result: "HELLO, WORLD!"}}
    """


def test_a_module_with_sync_activities_runs_from_the_current_folder(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    name = f"greetings_{suffix}"
    (tmp_path / f"{name}.py").write_text(MODULE.format(suffix=suffix))
    (tmp_path / "p.yaml").write_text(textwrap.dedent(PLAYBOOK.format(suffix=suffix)))
    command = Path(sys.executable).with_name("playbook")  # the console script, not python -m
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [
            str(command),
            "run",
            "p.yaml",
            "--dev-server",
            "--worker",
            name,
            "--json-report",
            "report.json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads((tmp_path / "report.json").read_text())["runs"][0]
    assert run["steps"][2]["result"] == "HELLO, WORLD!"
    assert "activity_executor" not in done.stdout + done.stderr
