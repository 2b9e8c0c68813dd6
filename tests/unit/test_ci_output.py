"""CI-native output (SPEC section 14), offline: JUnit cases with file, line and system-out;
the console's colour rules and live line under a pseudo-terminal 40 and 200 columns wide."""

from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from playbook.records import RunResult, StepRecord
from playbook.report import NullReporter, github
from playbook.report.files import junit_xml, write_junit_xml
from playbook.report.terminal import Styling, fit, styling
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


# -- the console on a terminal: colours and widths ------------------------------------------

LONG_NAME = "wait for the order service to settle " + "x" * 150 + " 見出し end"
LIVE = f"""\
version: 1
name: live
steps:
  - name: "{LONG_NAME}"
    sleep: 300ms
  - log: done
"""
COLOURS = re.compile(r"\x1b\[3[0-9]m|\x1b\[9[0-7]m")
"""Foreground colour codes (bold, ``\\x1b[1m``, is not a colour)."""
SGR = re.compile(r"\x1b\[[0-9;]*m")
LIVE_LINE = "\r\x1b[K"


def run_under_pty(
    cwd: Path, args: list[str], columns: int, env: dict[str, str] | None = None
) -> str:
    """``playbook ARGS`` with standard output on a pseudo-terminal ``columns`` wide; all
    it wrote, as the terminal received it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.pop("GITHUB_ACTIONS", None)
    environ.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "playbook", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.STDOUT,
        env=environ,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=60) == 0
    # the terminal's line discipline turns \n into \r\n
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def screen(output: str, columns: int) -> list[str]:
    """The rows a terminal ``columns`` wide shows after ``output`` (colour codes ignored):
    text wraps at the last column, ``\\r`` goes to the row's start, ``\\x1b[K`` erases
    to its end."""
    rows: list[list[str]] = [[]]
    column = 0
    text = SGR.sub("", output)
    index = 0
    while index < len(text):
        if text.startswith("\x1b[K", index):
            del rows[-1][column:]
            index += 3
            continue
        char = text[index]
        index += 1
        if char == "\n":
            rows.append([])
            column = 0
        elif char == "\r":
            column = 0
        else:
            size = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
            if column + size > columns:
                rows.append([])
                column = 0
            row = rows[-1]
            row[column:] = [char, *([""] * (size - 1)), *row[column + size :]]
            column += size
    return ["".join(row) for row in rows]


LIVE_DRAW = re.compile(r"\r\x1b\[K([^\r\n]*)(?=\r)")
"""A live line: drawn after erasing the row, and erased again, never ended by a newline
(a printed line also starts by erasing the row, and ends with one)."""


@pytest.mark.parametrize(
    ("columns", "cut"),
    [
        (40, "  ....  wait for the order service to s"),  # 39 columns
        # 8 + 188 columns, then 見 (two columns): 198; 出 would make it 200
        (200, "  ....  wait for the order service to settle " + "x" * 150 + " 見"),
    ],
)
def test_the_live_line_fits_the_terminal_and_leaves_nothing_behind(
    tmp_path: Path, columns: int, cut: str
) -> None:
    (tmp_path / "live.yaml").write_text(LIVE, encoding="utf-8")
    output = run_under_pty(tmp_path, ["run", "live.yaml"], columns)
    drawn = [line for line in LIVE_DRAW.findall(output) if line.strip()]
    assert drawn, output
    for line in drawn:
        visible = SGR.sub("", line)
        assert sum(2 if unicodedata.east_asian_width(c) == "W" else 1 for c in visible) < columns
    assert SGR.sub("", drawn[0]) == cut
    # what is left on the screen is exactly what the same output without its live lines
    # leaves: the live line erased itself, at any width
    without_live = LIVE_DRAW.sub("", output)
    assert screen(output, columns) == screen(without_live, columns)
    assert screen(output, columns)[-2].startswith("passed: live: 2 passed in ")


def test_colour_rules_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "live.yaml").write_text(LIVE, encoding="utf-8")
    default = run_under_pty(tmp_path, ["run", "live.yaml"], 200)
    assert COLOURS.search(default) and LIVE_LINE in default
    no_color = run_under_pty(tmp_path, ["run", "live.yaml"], 200, {"NO_COLOR": "1"})
    # no colour; bold and the live line stay (as no-color.org allows)
    assert not COLOURS.search(no_color)
    assert "\x1b[1m" in no_color and LIVE_LINE in no_color
    assert SGR.sub("", no_color).startswith("playbook: live (live.yaml) run ")
    never = run_under_pty(tmp_path, ["run", "live.yaml", "--color", "never"], 200)
    assert not SGR.search(never) and LIVE_LINE in never
    # an explicit flag beats the environment
    forced = run_under_pty(
        tmp_path, ["run", "live.yaml", "--color", "always"], 200, {"NO_COLOR": "1"}
    )
    assert COLOURS.search(forced)
    # NO_COLOR with an empty value is not set (no-color.org)
    assert COLOURS.search(run_under_pty(tmp_path, ["run", "live.yaml"], 200, {"NO_COLOR": ""}))


def run_piped(cwd: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.pop("GITHUB_ACTIONS", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "playbook", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


def test_colour_rules_in_a_pipe(tmp_path: Path) -> None:
    (tmp_path / "live.yaml").write_text(LIVE, encoding="utf-8")
    plain = run_piped(tmp_path, ["run", "live.yaml"], {})
    assert not SGR.search(plain.stdout) and LIVE_LINE not in plain.stdout
    forced = run_piped(tmp_path, ["run", "live.yaml"], {"FORCE_COLOR": "1"})
    # colours in a CI log that shows them; never a live line outside a terminal
    assert COLOURS.search(forced.stdout) and LIVE_LINE not in forced.stdout
    assert SGR.sub("", forced.stdout).splitlines()[1].startswith(f"  PASS  {LONG_NAME}  (")
    assert not SGR.search(run_piped(tmp_path, ["run", "live.yaml"], {"FORCE_COLOR": "0"}).stdout)
    assert COLOURS.search(run_piped(tmp_path, ["run", "live.yaml", "--color", "always"], {}).stdout)
    both = run_piped(tmp_path, ["run", "live.yaml"], {"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not COLOURS.search(both.stdout)


def test_styling_rules() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    pipe, tty = io.StringIO(), Tty()
    assert styling("auto", tty, {}) == Styling(colour=True, bold=True)
    assert styling("auto", pipe, {}) == Styling(colour=False, bold=False)
    assert styling("auto", tty, {"NO_COLOR": "1"}) == Styling(colour=False, bold=True)
    assert styling("auto", pipe, {"FORCE_COLOR": "true"}) == Styling(colour=True, bold=True)
    assert styling("auto", tty, {"FORCE_COLOR": "false"}) == Styling(colour=False, bold=False)
    assert styling("never", tty, {"FORCE_COLOR": "1"}) == Styling(colour=False, bold=False)
    assert styling("always", pipe, {"NO_COLOR": "1"}) == Styling(colour=True, bold=True)


def test_fit_cuts_by_columns_and_keeps_styles() -> None:
    assert fit("abcdef", 5) == "abcd"
    assert fit("ab\ncd\tef", 80) == "ab cd ef"
    assert fit("\x1b[1m....\x1b[0m  name", 8) == "\x1b[1m....\x1b[0m  n"
    assert fit("\x1b[1mbold text", 6) == "\x1b[1mbold \x1b[0m"
    assert fit("見出し", 6) == "見出"  # two columns each: 4 of the 5
    assert fit("x", 1) == "x"


# -- GitHub Actions: annotations and the job summary ----------------------------------------

UI_LINK = "http://localhost:8233/namespaces/default/workflows/order-1/0b5e7c/history"


def github_runs(workspace: Path) -> list[RunResult]:
    failed = RunResult(
        playbook="Orders, 100%: smoke",
        path=str(workspace / "playbooks" / "orders.yaml"),
        run_id="r1",
        started_at="2024-05-01T12:00:00+00:00",
        status="failed",
        exit_code=1,
        duration=2.5,
        masker=Masker(["hunter2"]),
    )
    where = str(workspace / "playbooks" / "orders.yaml")
    failed.records = [
        StepRecord(path="steps[0]", action="log", name="log", line=5, status="passed", file=where),
        StepRecord(
            path="steps[1]",
            action="foreach",
            name="foreach",
            line=6,
            status="failed",
            file=where,
            error={"type": "PlaybookError", "message": "foreach failed at item 0"},
        ),
        StepRecord(
            path="steps[1].foreach[0].steps[0]",
            action="signal",
            name="signal order",
            id="pay",
            line=9,
            status="failed",
            file=str(workspace / "playbooks" / "common.yaml"),
            workflow_id="order-1",
            ui_link=UI_LINK,
            error={
                "type": "PaymentDeclined",
                "message": "workflow 'order-1' failed: 100% declined\r\ncard hunter2, a:b",
                "causes": [
                    {"type": "ActivityError", "message": "Activity task failed"},
                    {"type": "PaymentDeclined", "message": "declined | <b>"},
                ],
            },
        ),
        StepRecord(
            path="steps[2]",
            action="assert",
            name="assert",
            line=12,
            reason="an earlier step failed",
            file=where,
        ),
    ]
    outside = RunResult(
        playbook="connect",
        path="/elsewhere/connect.yaml",
        run_id="r2",
        started_at="2024-05-01T12:00:05+00:00",
        status="error",
        exit_code=3,
        duration=5.0,
        error="could not connect to localhost:7999: connection refused",
    )
    return [failed, outside]


def test_github_annotations(tmp_path: Path) -> None:
    assert github.annotation_lines(github_runs(tmp_path), str(tmp_path)) == [
        "::error file=playbooks/common.yaml,line=9,title=Orders%2C 100%25%3A smoke%3A step "
        "'pay' (steps[1].foreach[0].steps[0]) failed::workflow 'order-1' failed: 100%25 "
        "declined%0D%0Acard ***, a:b%0Acaused by ActivityError: Activity task failed%0A"
        "caused by PaymentDeclined: declined | <b>",
        "::error file=/elsewhere/connect.yaml,title=connect%3A error::could not connect to "
        "localhost:7999: connection refused",
    ]
    # without a workspace (or outside it) the path stays as the run has it
    assert github.annotation_lines(github_runs(tmp_path))[0].startswith(
        f"::error file={github.escape_property(str(tmp_path))}/playbooks/common.yaml,line=9,"
    )


def test_github_annotations_are_bounded(tmp_path: Path) -> None:
    runs = github_runs(tmp_path)
    template = runs[0].records[2]
    runs[0].records = [StepRecord(**{**asdict(template), "path": f"steps[{i}]"}) for i in range(60)]
    lines = github.annotation_lines(runs, str(tmp_path))
    assert len(lines) == github.ANNOTATION_LIMIT + 1
    assert lines[-1] == (
        "::warning title=temporal-playbook::11 more failures are not annotated (GitHub shows "
        "only the first ones); the job summary and the reports list them"
    )


def test_github_summary(tmp_path: Path) -> None:
    assert github.summary(github_runs(tmp_path), str(tmp_path)) == (
        "## temporal-playbook: error\n"
        "\n"
        "| playbook | file | status | passed | failed | skipped | canceled | error | time |\n"
        "|---|---|---|--:|--:|--:|--:|--:|--:|\n"
        "| Orders, 100%: smoke | `playbooks/orders.yaml` | ❌ failed | 1 | 2 | 1 | 0 | 0 | 2.5s |\n"
        "| connect | `/elsewhere/connect.yaml` | ⛔ error | 0 | 0 | 0 | 0 | 0 | 5.0s |\n"
        "\n"
        "### Failures\n"
        "\n"
        "- **Orders, 100%: smoke** `playbooks/common.yaml:9` step **pay** "
        "(`steps[1].foreach[0].steps[0]`): workflow 'order-1' failed: 100% declined "
        f"([workflow order-1]({UI_LINK}))\n"
        "- **connect**: could not connect to localhost:7999: connection refused\n"
        "\n"
    )


def test_github_markdown_is_literal() -> None:
    assert github._md("a | b <i>*x*</i> `c` [l](u)\nnext") == (
        "a \\| b &lt;i&gt;\\*x\\*&lt;/i&gt; \\`c\\` \\[l\\](u) next"
    )


FAILING = """\
version: 1
name: gate
steps:
  - log: checking
  - id: check
    assert: "1 == 2"
"""


def test_github_actions_run(tmp_path: Path) -> None:
    (tmp_path / "gate.yaml").write_text(FAILING, encoding="utf-8")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step's summary\n", encoding="utf-8")
    done = run_piped(
        tmp_path,
        ["run", "gate.yaml"],
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(tmp_path),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[-1] == (
        "::error file=gate.yaml,line=5,title=gate%3A step 'check' (steps[1]) failed::"
        "assertion failed: 1 == 2  (1 == 2)"
    )
    assert lines[-2].startswith("failed: gate: 1 passed, 1 failed in ")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step's summary\n## temporal-playbook: failed\n")
    assert "- **gate** `gate.yaml:5` step **check** (`steps[1]`): assertion failed" in text
    # outside GitHub Actions: neither
    plain = run_piped(tmp_path, ["run", "gate.yaml"], {"GITHUB_STEP_SUMMARY": str(summary)})
    assert "::error" not in plain.stdout
    assert summary.read_text(encoding="utf-8") == text


def test_github_summary_that_cannot_be_written(tmp_path: Path) -> None:
    stream = io.StringIO()
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "s.md")}
    github.publish(github_runs(tmp_path)[1:], stream, env)
    assert stream.getvalue().splitlines()[-1] == (
        f"warning: GITHUB_STEP_SUMMARY {tmp_path}/missing/s.md: the summary could not be "
        "written: No such file or directory"
    )


# -- validate and plan --format json; reports on standard output ----------------------------

GOOD = "version: 1\nname: good\nsteps:\n  - log: hi\n"
BAD = "version: 1\nname: bad\nsteps:\n  - lg: hi\n  - sleep: soon\n"
PLANNED = """\
version: 1
name: planned
inputs:
  count: {type: integer, default: 2, description: How many}
  token: {type: string, secret: true, required: true}
vars:
  label: "n={{ inputs.count }}"
steps:
  - id: order
    create: {type: Order, task_queue: q, workflow_id: "order-{{ vars.label }}"}
  - foreach: {items: "{{ range(inputs.count) }}", as: i, steps: [{log: "{{ i }}"}]}
    when: inputs.count > 1
    timeout: 10s
finally:
  - log: "token {{ inputs.token }}"
"""


def invoke(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_piped(cwd, list(args), {})


def test_validate_format_json(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    done = invoke(tmp_path, "validate", "--format", "json", "good.yaml", "bad.yaml", "missing.yaml")
    assert (done.returncode, done.stderr) == (2, "")
    assert json.loads(done.stdout) == {
        "valid": False,
        "files": [
            {"file": "good.yaml", "valid": True},
            {"file": "bad.yaml", "valid": False},
            {"file": "missing.yaml", "valid": False},
        ],
        "problems": [
            {
                "file": "bad.yaml",
                "line": 4,
                "column": 5,
                "path": "steps[0].lg",
                "message": "unknown key 'lg'; did you mean 'log'?",
            },
            {
                "file": "bad.yaml",
                "line": 5,
                "column": 12,
                "path": "steps[1].sleep",
                "message": "'soon' is not a duration; a duration is like 500ms, 10s, 1m30s, "
                "2h, 1d, PT10S, or a number of seconds",
            },
            {
                "file": "missing.yaml",
                "line": 1,
                "column": 1,
                "path": None,
                "message": "the file does not exist; check the path",
            },
        ],
    }
    good = invoke(tmp_path, "validate", "--format", "json", "good.yaml")
    assert good.returncode == 0
    assert json.loads(good.stdout) == {
        "valid": True,
        "files": [{"file": "good.yaml", "valid": True}],
        "problems": [],
    }
    (tmp_path / "planned.yaml").write_text(PLANNED, encoding="utf-8")
    inputs = invoke(tmp_path, "validate", "--format", "json", "planned.yaml", "-i", "count=x")
    assert inputs.returncode == 2
    assert json.loads(inputs.stdout)["problems"] == [
        {
            "file": "planned.yaml",
            "line": None,
            "column": None,
            "path": "inputs",
            "message": "input 'count' (How many): 'x' is not an integer; give a whole number "
            "such as 5",
        }
    ]


def test_plan_format_json(tmp_path: Path) -> None:
    (tmp_path / "planned.yaml").write_text(PLANNED, encoding="utf-8")
    done = invoke(tmp_path, "plan", "--format", "json", "planned.yaml", "-i", "token=s3cr3t")
    assert (done.returncode, done.stderr) == (0, "")
    assert "s3cr3t" not in done.stdout
    assert json.loads(done.stdout) == {
        "plan_version": 1,
        "valid": True,
        "file": "planned.yaml",
        "playbook": "planned",
        "description": "",
        "tags": [],
        "connection": {},
        "inputs": {
            "count": {
                "type": "integer",
                "value": 2,
                "missing": False,
                "required": False,
                "secret": False,
                "default": 2,
                "description": "How many",
            },
            "token": {
                "type": "string",
                "value": "***",
                "missing": False,
                "required": True,
                "secret": True,
                "default": None,
                "description": None,
            },
        },
        "vars": {"label": "n=2"},
        "steps": [
            {
                "number": "1",
                "file": "planned.yaml",
                "line": 9,
                "path": "steps[0]",
                "action": "create",
                "destructive": False,
                "id": "order",
                "name": "create order",
                "workflow": None,
                "when": None,
                "fields": {"type": "Order", "task_queue": "q", "workflow_id": "order-n=2"},
                "common": {},
            },
            {
                "number": "2",
                "file": "planned.yaml",
                "line": 11,
                "path": "steps[1]",
                "action": "foreach",
                "destructive": False,
                "id": None,
                "name": "foreach",
                "workflow": None,
                "when": "inputs.count > 1",
                "fields": {
                    "items": [0, 1],
                    "as": "i",
                    "steps": [{"log": "{{ i }}"}],
                },
                "common": {"timeout": "10s"},
                "steps": [
                    {
                        "number": "2.1",
                        "file": "planned.yaml",
                        "line": 11,
                        "path": "steps[1].foreach.steps[0]",
                        "action": "log",
                        "destructive": False,
                        "id": None,
                        "name": "log",
                        "workflow": None,
                        "when": None,
                        "fields": "{{ i }}",
                        "common": {},
                    }
                ],
            },
        ],
        "finally": [
            {
                "number": "1",
                "file": "planned.yaml",
                "line": 15,
                "path": "finally[0]",
                "action": "log",
                "destructive": False,
                "id": None,
                "name": "log",
                "workflow": None,
                "when": None,
                "fields": "token {{ inputs.token }}",
                "common": {},
            }
        ],
    }


def test_plan_format_json_marks_destructive_steps(tmp_path: Path) -> None:
    (tmp_path / "ops.yaml").write_text(
        "version: 1\nname: ops\nsteps:\n"
        "  - id: o\n    create: {type: Order, task_queue: q}\n"
        "  - terminate: {workflow: o, reason: done}\n"
        "  - batch: {query: \"WorkflowType = 'Order'\", operation: terminate, reason: r}\n",
        encoding="utf-8",
    )
    done = invoke(tmp_path, "plan", "--format", "json", "ops.yaml")
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)["steps"]
    assert [(s["action"], s["destructive"]) for s in steps] == [
        ("create", False),
        ("terminate", True),
        ("batch", True),
    ]


def test_plan_format_json_of_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    done = invoke(tmp_path, "plan", "--format", "json", "bad.yaml")
    assert (done.returncode, done.stderr) == (2, "")
    assert [p["path"] for p in json.loads(done.stdout)["problems"]] == [
        "steps[0].lg",
        "steps[1].sleep",
    ]
    (tmp_path / "planned.yaml").write_text(PLANNED, encoding="utf-8")
    unknown = invoke(tmp_path, "plan", "--format", "json", "planned.yaml", "-i", "nope=1")
    assert unknown.returncode == 2
    assert json.loads(unknown.stdout) == {
        "valid": False,
        "problems": [
            {
                "file": "planned.yaml",
                "line": None,
                "column": None,
                "path": "inputs",
                "message": "unknown input 'nope'; declared inputs: count, token",
            }
        ],
    }


@pytest.mark.parametrize("flag", ["--json-report", "--junit-xml"])
def test_a_report_on_standard_output(tmp_path: Path, flag: str) -> None:
    (tmp_path / "gate.yaml").write_text(FAILING, encoding="utf-8")
    done = invoke(tmp_path, "run", "gate.yaml", flag, "-")
    assert done.returncode == 1
    assert not (tmp_path / "-").exists()
    # standard output holds the report and nothing else; the console is on standard error
    if flag == "--json-report":
        assert json.loads(done.stdout)["runs"][0]["counts"]["failed"] == 1
    else:
        JUNIT_XSD.validate(done.stdout)
    assert done.stderr.splitlines()[0].startswith("playbook: gate (gate.yaml) run ")
    assert done.stderr.splitlines()[-1].startswith("failed: gate: 1 passed, 1 failed in ")


# -- shell completion, the pre-commit hook and the GitHub Action ----------------------------

ROOT = Path(__file__).parents[2]


def test_completion_scripts(tmp_path: Path) -> None:
    from click.shell_completion import get_completion_class

    from playbook.cli import cli

    for shell in ("bash", "zsh", "fish"):
        done = invoke(tmp_path, "completion", shell)
        complete = get_completion_class(shell)
        assert complete is not None
        assert done.returncode == 0
        assert done.stdout == complete(cli, {}, "playbook", "_PLAYBOOK_COMPLETE").source() + "\n"
    # what the bash script asks the command, and its answers
    words = {"COMP_WORDS": "playbook run --col", "COMP_CWORD": "2"}
    asked = run_piped(tmp_path, [], {**words, "_PLAYBOOK_COMPLETE": "bash_complete"})
    assert asked.stdout == "plain,--color\n"
    choices = {"COMP_WORDS": "playbook run --color a", "COMP_CWORD": "3"}
    asked = run_piped(tmp_path, [], {**choices, "_PLAYBOOK_COMPLETE": "bash_complete"})
    assert asked.stdout == "plain,auto\nplain,always\n"
    bad = invoke(tmp_path, "completion", "tcsh")
    assert bad.returncode == 2
    assert "Invalid value for '{bash|zsh|fish}': 'tcsh' is not one of 'bash', 'zsh', 'fish'." in (
        bad.stderr
    )


def test_pre_commit_hook() -> None:
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook == {
        "id": "playbook-validate",
        "name": "playbook validate",
        "description": "Check temporal-playbook playbooks offline (schema, semantics, "
        "includes); no server, no network.",
        "entry": "playbook validate",
        "language": "python",
        "types": ["yaml"],
        "files": r"(^|/)(playbooks?|runbooks?)/.*\.ya?ml$",
        "require_serial": True,
    }
    files = re.compile(hook["files"])
    assert files.search("playbooks/smoke.yaml") and files.search("ops/runbooks/drain.yml")
    assert not files.search(".github/workflows/ci.yml")
    # as pre-commit calls it: the entry, then the staged files that match
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    matched = [f for f in tracked if files.search(f)]
    assert matched
    done = subprocess.run(
        [sys.executable, "-m", "playbook", *hook["entry"].split()[1:], *matched],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout.splitlines()[-1]) == (0, f"{len(matched)} files valid")


def test_the_action_runs_playbooks_with_reports(tmp_path: Path) -> None:
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {
        "playbooks",
        "args",
        "junit-xml",
        "json-report",
        "html-report",
        "python-version",
        "install",
    }
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    (tmp_path / "gate.yaml").write_text(FAILING, encoding="utf-8")
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    # the step's script as the runner runs it: bash, its env from the inputs' defaults
    env = {
        "PLAYBOOKS": "good.yaml gate.yaml",
        "ARGS": "-q",
        "JUNIT_XML": action["inputs"]["junit-xml"]["default"],
        "JSON_REPORT": "",
        "HTML_REPORT": "reports/report.html",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, **env},
    )
    assert done.returncode == 1, done.stderr
    assert output.read_text() == "exit-code=1\n"
    JUNIT_XSD.validate(str(tmp_path / "reports" / "playbook-junit.xml"))
    assert (tmp_path / "reports" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "::error file=gate.yaml,line=5,title=gate%3A step 'check'" in done.stdout
    assert summary.read_text(encoding="utf-8").startswith("## temporal-playbook: failed\n")


def test_github_summary_counts_another_status_when_a_step_has_it(tmp_path: Path) -> None:
    run = github_runs(tmp_path)[1]
    run.records = [StepRecord(path="steps[0]", action="terminate", name="t", status="would_run")]
    table = github.summary([run]).splitlines()[2:5]
    assert table == [
        "| playbook | file | status | passed | failed | skipped | canceled | error | would_run "
        "| time |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
        "| connect | `/elsewhere/connect.yaml` | ⛔ error | 0 | 0 | 0 | 0 | 0 | 1 | 5.0s |",
    ]


def test_width_of_a_stream_that_is_not_a_terminal() -> None:
    from playbook.report.terminal import width

    assert width(io.StringIO()) == 80
    with open(os.devnull, "w") as null:
        assert width(null) == 80


def test_validate_annotates_in_github_actions(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}
    done = run_piped(tmp_path, ["validate", "--format", "json", str(tmp_path / "bad.yaml")], env)
    assert done.returncode == 2
    assert json.loads(done.stdout)["valid"] is False  # standard output: the JSON alone
    assert done.stderr.splitlines() == [
        "::error file=bad.yaml,line=4,col=5,title=playbook validate::steps[0].lg: unknown key "
        "'lg'; did you mean 'log'?",
        "::error file=bad.yaml,line=5,col=12,title=playbook validate::steps[1].sleep: 'soon' "
        "is not a duration; a duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number "
        "of seconds",
    ]
    assert "::error" not in run_piped(tmp_path, ["validate", "bad.yaml"], {}).stderr


def test_run_of_an_invalid_playbook_annotates_in_github_actions(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(tmp_path)}
    done = run_piped(tmp_path, ["run", "bad.yaml"], env)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "error: bad.yaml:4:5: steps[0].lg: unknown key 'lg'; did you mean 'log'?"
    assert lines[-2:] == [
        "::error file=bad.yaml,line=4,col=5,title=playbook validate::steps[0].lg: unknown key "
        "'lg'; did you mean 'log'?",
        "::error file=bad.yaml,line=5,col=12,title=playbook validate::steps[1].sleep: 'soon' "
        "is not a duration; a duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number "
        "of seconds",
    ]
