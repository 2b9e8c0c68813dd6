"""Integers of any size are refused cleanly: at load time (exit 2, file:line:col), as a
failed step at run time (exit 1, ``finally`` runs, both reports written), and the plan
and report writers never fail on one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from playbook import numbers
from playbook.cli import _run_cli
from playbook.errors import InvalidPlaybook
from playbook.records import RunResult, StepRecord
from playbook.report.files import json_report_text, junit_xml
from playbook.yamlsource import load_text

HEX = "0x" + "f" * 4000  # 4,817 digits
DESCRIBED = "<a number of more than 4300 digits>"


def problem(text: str) -> str:
    with pytest.raises(InvalidPlaybook) as info:
        load_text(text, "p.yaml")
    (found,) = info.value.problems
    return f"{found.line}:{found.column}: {found.path}: {found.message}"


@pytest.mark.parametrize(
    ("literal", "shown"),
    [
        (HEX, "0xfffffffffffffffffffffffffffffffffff..."),
        ("0o" + "7" * 5000, "0o77777777777777777777777777777777777..."),
        ("!!float 0x" + "f" * 400, "0xfffffffffffffffffffffffffffffffffff..."),
    ],
)
def test_a_long_integer_literal_is_a_load_error(literal: str, shown: str) -> None:
    assert problem(f"a: 1\nb: {literal}\n") == (
        f"2:4: b: the number '{shown}' is too large; quote it to keep it as a string"
    )


def test_an_integer_up_to_the_limit_loads() -> None:
    largest = 10**4300 - 1
    assert load_text(f"a: {hex(largest)}\nb: {largest}\n").data == {"a": largest, "b": largest}
    assert load_text(f"a: '{HEX}'\n").data == {"a": HEX}


BIG = """\
version: 1
name: big
vars:
  fine: "{{ 10 ** 4299 % 7 }}"
steps:
  - id: first
    set: {x: "{{ 10 ** 5000 }}"}
    continue_on_error: true
  - log: "{{ (10 ** 30000) | round }}"
    continue_on_error: true
  - log: "{{ (10 ** 5000) ~ '' }}"
finally:
  - log: "cleanup {{ vars.fine }}"
"""


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("big.yaml").write_text(BIG)
    return tmp_path


@pytest.mark.usefixtures("big")
def test_a_template_giving_a_long_number_fails_its_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run_cli(["validate", "big.yaml"]) == 0
    assert _run_cli(["plan", "big.yaml"]) == 0
    # plan shows what it cannot render as it is written
    plan = capsys.readouterr().out.splitlines()
    assert plan[plan.index("Steps:") + 1 :][:2] == [
        "  1. set (id: first)",
        "     x: {{ 10 ** 5000 }}",
    ]
    assert plan[-1] == f"  1. log: cleanup {10**4299 % 7}"
    code = _run_cli(["run", "big.yaml", "--json-report", "r.json", "--junit-xml", "r.xml"])
    output = capsys.readouterr()
    assert code == 1
    assert "internal error" not in output.out + output.err
    report = json.loads(Path("r.json").read_text())
    assert report["exit_code"] == 1
    steps = report["runs"][0]["steps"]
    assert [(s["path"], s["status"]) for s in steps] == [
        ("steps[0]", "failed"),
        ("steps[1]", "failed"),
        ("steps[2]", "failed"),
        ("finally[0]", "passed"),
    ]
    assert [s["error"]["message"] for s in steps[:3]] == [
        "step 'first' (steps[0], big.yaml:6), field set.x: "
        "the result would be a number with more than 4300 digits",
        "step 'log' (steps[1], big.yaml:9), field log: "
        "the result would be a number with more than 4300 digits",
        "step 'log' (steps[2], big.yaml:11), field log: "
        "a number with more than 4300 digits is too long to turn into text or back",
    ]
    assert steps[3]["result"] == f"cleanup {10**4299 % 7}"
    assert "too long to turn into text or back" in Path("r.xml").read_text()


def test_an_input_too_long_to_be_a_number_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text(
        "version: 1\nname: p\ninputs: {n: {type: integer}, x: {type: number}}\n"
        "steps:\n  - log: '{{ inputs.n }}'\n"
    )
    Path("inputs.yaml").write_text(f"n: {HEX}\n")
    long = "1" + "0" * 5000
    assert _run_cli(["run", "p.yaml", "-i", f"n={long}", "-i", "x=2"]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        f"  - input 'n': '{long[:56]}... is not an integer; give a whole number such as 5"
    ]
    assert _run_cli(["run", "p.yaml", "--inputs-file", "inputs.yaml"]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  - inputs.yaml:1:4: the number '0xfffffffffffffffffffffffffffffffffff...' is too "
        "large; quote it to keep it as a string"
    ]


def test_the_report_writers_show_a_long_number_instead_of_failing() -> None:
    # Nothing in a run holds such a number (the loader and templating refuse them); the
    # writers still must not lose the report over one.
    record = StepRecord(
        path="steps[0]",
        action="set",
        name="set",
        status="failed",
        result={"n": 10**5000},
        error={"type": "X", "message": "m", "details": [10**5000]},
    )
    result = RunResult(playbook="p", path="p.yaml", run_id="r1", started_at="t", records=[record])
    text = json_report_text([result])
    assert json.loads(text)["runs"][0]["steps"][0]["result"] == {"n": DESCRIBED}
    assert f'details: [\n  "{DESCRIPTION_XML}"\n]' in junit_xml([result])


DESCRIPTION_XML = DESCRIBED.replace("<", "&lt;").replace(">", "&gt;")


def test_printable_replaces_only_long_numbers() -> None:
    value = {"n": 10**5000, "list": [1, -(10**4300)], "ok": 10**4299, "t": True}
    assert numbers.printable(value) == {
        "n": DESCRIBED,
        "list": [1, DESCRIBED],
        "ok": 10**4299,
        "t": True,
    }
    assert numbers.too_big(10**4300) and not numbers.too_big(10**4300 - 1)
    assert not numbers.too_big(True) and not numbers.too_big(1e308)


def _strict(text: str) -> Any:
    """``text`` read as strict JSON (a browser's ``JSON.parse``: no NaN, no Infinity)."""

    def refuse(word: str) -> Any:
        raise AssertionError(f"not strict JSON: {word}")

    return json.loads(text, parse_constant=refuse)


def test_the_report_writers_name_infinity_and_nan() -> None:
    from playbook.report.html import html_report

    record = StepRecord(
        path="steps[0]",
        action="set",
        name="set",
        status="passed",
        result={"x": float("inf"), "y": [float("nan"), -float("inf")], "z": 1.5},
    )
    result = RunResult(playbook="p", path="p.yaml", run_id="r1", started_at="t", records=[record])
    named = {"x": "Infinity", "y": ["NaN", "-Infinity"], "z": 1.5}
    assert _strict(json_report_text([result]))["runs"][0]["steps"][0]["result"] == named
    page = html_report([result])
    data = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    assert '\\"x\\": \\"Infinity\\"' in data  # (the value's text, as the JSON report has it)
    _strict(data)
