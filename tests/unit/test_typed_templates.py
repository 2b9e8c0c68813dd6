"""Typed fields that hold templates: ``validate`` accepts a template in every typed field
(durations, counts, numbers, booleans, typed search attribute values) and still checks
literal values there; a bad rendered value fails its step, naming the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from playbook.cli import _run_cli

DATA = Path(__file__).parent / "data"


def test_templates_are_accepted_in_every_typed_field(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "typed_templates.yaml"
    assert _run_cli(["validate", str(path)]) == 0
    assert capsys.readouterr().out == f"ok: {path}\n1 file valid\n"


def test_literal_typed_values_are_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: literal
        steps:
          - id: wf
            create:
              type: T
              task_queue: q
              search_attributes:
                Count: {type: int, value: three}
                Other: {type: integer, value: "{{ 3 }}"}
        """)
    )
    assert _run_cli(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert (
        f"{path}:9:16: steps[0].create.search_attributes.Count: value 'three' is not a valid int"
        in out
    )
    assert (
        f"{path}:10:23: steps[0].create.search_attributes.Other.type: 'integer' is not one of"
        in out
    )
    assert out.endswith("2 problems in 1 of 1 file\n")


def test_a_bad_sleep_value_fails_its_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: sleepy
        inputs: {d: {type: string}}
        steps:
          - sleep: "{{ inputs.d }}"
        finally:
          - log: cleanup ran
        """)
    )
    assert _run_cli(["run", str(path), "-i", "d=10x"]) == 1
    out = capsys.readouterr().out
    assert (
        f"{path}:5: step 'sleep' (steps[0]), field sleep: '10x' is not a duration; a "
        "duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number of seconds"
    ) in out
    assert "| cleanup ran" in out
