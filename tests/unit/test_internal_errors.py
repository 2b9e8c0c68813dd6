"""A bug of ours through the whole command: ``playbook run`` with an action that raises a
``KeyError`` exits 3 with "internal error" and the log's path, runs ``finally`` and writes
both reports. Offline: the playbook never connects."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from playbook.actions import REGISTRY, Call
from playbook.cli import _run_cli

PLAYBOOK = """\
    version: 1
    name: buggy
    steps:
      - id: before
        set: {a: 1}
      - id: broken
        log: boom
      - set: {b: 2}
    finally:
      - id: cleanup
        set: {cleaned: true}
    """


def test_a_key_error_in_an_action_is_exit_3_with_the_log_and_both_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(call: Call) -> Any:
        empty: dict[str, Any] = {}
        return empty["missing"]

    monkeypatch.setitem(REGISTRY, "log", broken)
    monkeypatch.setenv("PLAYBOOK_LOG_DIR", str(tmp_path / "logs"))
    path = tmp_path / "buggy.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK))
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code = _run_cli(["run", str(path), "--json-report", str(report), "--junit-xml", str(junit)])
    out = capsys.readouterr()
    console = out.out + out.err

    assert code == 3
    (log,) = (tmp_path / "logs").iterdir()
    message = f"internal error: KeyError: 'missing' (the traceback is in {log}; please report it)"
    assert f"error: {message}" in console
    assert "Traceback" not in console
    assert 'return empty["missing"]' in log.read_text()

    run = json.loads(report.read_text())["runs"][0]
    assert (run["status"], run["exit_code"], run["error"]) == ("error", 3, message)
    assert [(s["id"], s["status"]) for s in run["steps"]] == [
        ("before", "passed"),
        ("broken", "error"),
        (None, "skipped"),
        ("cleanup", "passed"),
    ]
    assert run["steps"][1]["error"] == {
        "type": "InternalError",
        "message": message,
        "details": None,
        "non_retryable": None,
        "causes": [],
    }

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    errors = [case.get("name") for case in suite.iter("testcase") if case.find("error") is not None]
    assert errors == ["steps[1]: log broken", "run"]
    assert suite.get("errors") == "2" and suite.get("failures") == "0"
