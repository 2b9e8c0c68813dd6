"""CI-native output (SPEC section 14), offline: JUnit cases with file, line and system-out."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from playbook.records import RunResult, StepRecord
from playbook.report import NullReporter
from playbook.report.files import junit_xml, write_junit_xml
from playbook.runner import Runner, RunOptions, Shared, new_result
from playbook.secrets import Masker

JUNIT_XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit-10.xsd"))

MAIN = """\
version: 1
name: ci
inputs:
  token: {type: string, secret: true, default: s3cr3t-token}
steps:
  - log: "first line\\nsecond <line> & {{ inputs.token }}"
  - include: {playbook: inc.yaml}
  - id: check
    assert: "1 == 2"
"""
INCLUDED = """\
version: 1
name: inc
steps:
  - set: {a: 1}
  - log: "from the include: {{ vars.a }}"
"""


@pytest.fixture
def playbooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.yaml").write_text(MAIN, encoding="utf-8")
    (tmp_path / "inc.yaml").write_text(INCLUDED, encoding="utf-8")
    return tmp_path


def run_offline(path: Path) -> RunResult:
    """A run of ``path`` without a server (its steps need none), as the CLI runs it."""
    from playbook.inputs import resolve_inputs, secret_names
    from playbook.loader import load

    playbook = load(path)
    resolved = resolve_inputs(playbook.inputs, {}, from_cli=False)
    masker = Masker([resolved[name] for name in secret_names(playbook.inputs)])

    async def no_client() -> Any:
        return object()  # connected up front for the include; none of its steps uses it

    shared = Shared(
        result=new_result(playbook),
        options=RunOptions(),
        reporter=NullReporter(),
        masker=masker,
        client_factory=no_client,
    )
    result = asyncio.run(Runner(playbook, resolved, shared).run())
    result.masker = masker  # as the run command hands it to the report writers
    return result


def test_junit_cases_carry_file_line_and_logs(playbooks: Path) -> None:
    result = run_offline(Path("main.yaml"))
    assert result.exit_code == 1
    write_junit_xml("out.xml", [result])
    text = (playbooks / "out.xml").read_text(encoding="utf-8")
    JUNIT_XSD.validate(text)
    assert "s3cr3t-token" not in text
    cases = ET.fromstring(text).findall("testsuite/testcase")
    assert [
        (c.get("name"), c.get("file"), c.get("line"), c.findtext("system-out")) for c in cases
    ] == [
        ("steps[0]: log", "main.yaml", "6", "first line\nsecond <line> & ***"),
        ("steps[1]: include", "main.yaml", "7", None),
        ("steps[1].include.steps[0]: set", "inc.yaml", "4", None),
        ("steps[1].include.steps[1]: log", "inc.yaml", "5", "from the include: 1"),
        ("steps[2]: assert check", "main.yaml", "8", None),
    ]
    # the order the XSD asks for: properties, the outcome, then the output
    assert [child.tag for child in cases[0]] == ["properties", "system-out"]
    assert [child.tag for child in cases[4]] == ["properties", "failure"]


def test_junit_run_case_names_the_file_without_a_line(tmp_path: Path) -> None:
    run = RunResult(
        playbook="p",
        path="dir/p.yaml",
        run_id="r",
        started_at="2024-05-01T12:00:00+00:00",
        status="error",
        exit_code=3,
        error="could not connect to localhost:1: refused",
    )
    text = junit_xml([run])
    JUNIT_XSD.validate(text)
    (case,) = ET.fromstring(text).findall("testsuite/testcase")
    assert case.attrib == {"name": "run", "classname": "p", "time": "0.000", "file": "dir/p.yaml"}


def test_junit_log_text_that_xml_cannot_carry(tmp_path: Path) -> None:
    record = StepRecord(
        path="steps[0]",
        action="log",
        name="log",
        line=4,
        status="passed",
        started_at="2024-05-01T12:00:00+00:00",
        logs=["\x1b[31mred\x1b[0m bell\x07", "]]> </system-out>"],
    )
    run = RunResult(playbook="p", path="p.yaml", run_id="r", started_at="2024-05-01T12:00:00+00:00")
    run.records.append(record)
    text = junit_xml([run])
    JUNIT_XSD.validate(text)
    assert text.count("<system-out>") == 1
    (case,) = ET.fromstring(text).findall("testsuite/testcase")
    assert case.findtext("system-out") == "red bell\ufffd\n]]> </system-out>"
