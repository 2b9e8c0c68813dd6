"""The in-process worker's own output goes to the worker log, never among the step lines:
what a workflow and its activities (async and not) print or log, masked; the summary names
the file; a failing step quotes the last worker lines of its own workflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

MODULE = """\
import logging
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError


@activity.defn
async def shout(word: str) -> str:
    print(f"MARK-async-activity {{word}}")
    activity.logger.info("MARK-activity-logger %s", word)
    return word + "!"


@activity.defn
def whisper(word: str) -> str:
    print(f"MARK-sync-activity {{word}}")
    logging.getLogger("orders").warning("MARK-module-logger %s", word)
    return word.lower()


@activity.defn
def explode(word: str) -> str:
    print(f"MARK-before-failing {{word}}")
    raise ApplicationError(f"exploded on {{word}}", non_retryable=True)


@workflow.defn
class Chatty:
    @workflow.run
    async def run(self, word: str) -> list[str]:
        print(f"MARK-workflow {{word}}")
        workflow.logger.info("MARK-workflow-logger %s", word)
        options: Any = {{"start_to_close_timeout": timedelta(seconds=10)}}
        loud = await workflow.execute_activity(shout, word, **options)
        quiet = await workflow.execute_activity(whisper, word, **options)
        if word.startswith("boom"):
            await workflow.execute_activity(explode, word, **options)
        return [loud, quiet]


task_queue = "chatty-{suffix}"
workflows = [Chatty]
activities = [shout, whisper, explode]
"""

PLAYBOOK = """\
    version: 1
    name: chatty
    inputs:
      token: {{type: string, secret: true}}
    steps:
      - id: chatty
        create: {{type: Chatty, task_queue: chatty-{suffix}, workflow_id: chatty-{suffix}, execution_timeout: 1m}}
      - start: {{workflow: chatty, args: ["{word}-{{{{ inputs.token }}}}"]}}
      - await_result: {{workflow: chatty, timeout: 30s}}
    """


def run(
    tmp_path: Path, word: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, object], str]:
    suffix = uuid.uuid4().hex[:8]
    (tmp_path / f"chatty_{suffix}.py").write_text(MODULE.format(suffix=suffix))
    playbook = textwrap.dedent(PLAYBOOK.format(suffix=suffix, word=word))
    (tmp_path / "p.yaml").write_text(playbook)
    command = Path(sys.executable).with_name("playbook")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    worker = ["--dev-server", "--worker", f"chatty_{suffix}", "-i", f"token=tok{suffix}"]
    done = subprocess.run(
        [str(command), "run", "p.yaml", *worker, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report_file = tmp_path / "reports" / "r.json"
    report = json.loads(report_file.read_text())["runs"][0] if report_file.exists() else {}
    return done, report, suffix


def test_worker_output_goes_to_the_log_beside_the_reports(tmp_path: Path) -> None:
    done, report, suffix = run(tmp_path, "hello", "--json-report", "reports/r.json")
    assert done.returncode == 0, done.stdout + done.stderr
    console = done.stdout + done.stderr
    assert "MARK-" not in console
    log_file = tmp_path / "reports" / "playbook-worker.log"
    lines = log_file.read_text().splitlines()
    assert (
        console.splitlines()[-1] == f"worker log: reports/playbook-worker.log ({len(lines)} lines)"
    )
    text = "\n".join(lines)
    for marker in (
        "MARK-workflow hello-***",
        "MARK-workflow-logger hello-***",
        "MARK-async-activity hello-***",
        "MARK-activity-logger hello-***",
        "MARK-sync-activity hello-***",
        "MARK-module-logger hello-***",
    ):
        assert marker in text, text
    assert f"tok{suffix}" not in text
    tagged = [line for line in lines if "MARK-sync-activity" in line]
    assert f" stdout [chatty-{suffix}] MARK-sync-activity hello-***" in tagged[0]
    steps = report["steps"]
    assert isinstance(steps, list)
    assert steps[2]["result"] == ["hello-***!", "hello-***"]


def test_a_failing_step_quotes_its_workflows_worker_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "w.log"
    done, report, suffix = run(
        tmp_path, "boom", "--worker-log", str(log_file), "--json-report", "reports/r.json"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    steps = report["steps"]
    assert isinstance(steps, list)
    message = steps[2]["error"]["message"]
    first, quoted = message.split("\n", 1)
    assert first == (
        f"workflow 'chatty-{suffix}' failed: ActivityError: Activity task failed "
        "(caused by ApplicationError: exploded on boom-***)"
    )
    header, *lines = quoted.split("\n")
    assert header == f"worker log {log_file}, the last lines of workflow 'chatty-{suffix}':"
    assert 1 <= len(lines) <= 5
    assert all(line.startswith("  | ") for line in lines)
    assert "  | MARK-before-failing boom-***" in lines
    assert lines[-1] == (  # (temporalio's context dict is left out of the quote)
        "  | WARNING Completing activity as failed ... "
        "temporalio.exceptions.ApplicationError: exploded on boom-***"
    )
    assert f"tok{suffix}" not in done.stdout + done.stderr + log_file.read_text()
    console = (done.stdout + done.stderr).splitlines()
    assert [line for line in console if "MARK-" in line and " | " not in line] == []


def test_without_reports_the_log_is_in_a_temporary_folder(tmp_path: Path) -> None:
    done, _, _ = run(tmp_path, "hi")
    assert done.returncode == 0, done.stdout + done.stderr
    last = (done.stdout + done.stderr).splitlines()[-1]
    assert last.startswith("worker log: /") and last.endswith(" lines)")
    path = Path(last.removeprefix("worker log: ").rsplit(" (", 1)[0])
    assert path.name == "worker.log" and path.parent.name.startswith("playbook-")
    assert "MARK-workflow hi-***" in path.read_text()
