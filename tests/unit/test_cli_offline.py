"""The offline commands: validate, plan and schema, through the click group and as a process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from playbook.cli import cli
from playbook.schema import schema_text

GOOD = "version: 1\nname: good\nsteps:\n  - log: hi\n"
BAD = "version: 1\nname: bad\nsteps:\n  - lg: hi\n  - sleep: soon\n"
INPUTS = (
    "version: 1\nname: inputs\ninputs:\n  count: {type: integer, description: How many}\n"
    "  token: {type: string, required: true}\nsteps:\n  - log: '{{ inputs.count }}'\n"
)


def invoke(*args: str) -> Result:
    """Run the group as cli.main does (not standalone), so the command's int comes back."""
    return CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in {"good.yaml": GOOD, "bad.yaml": BAD, "inputs.yaml": INPUTS}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_validate_good_and_bad_files(files: Path) -> None:
    result = invoke("validate", "good.yaml", "bad.yaml", "missing.yaml")
    assert result.return_value == 2
    assert result.stdout == textwrap.dedent("""\
        ok: good.yaml
        bad.yaml:4:5: steps[0].lg: unknown key 'lg'; did you mean 'log'?
           4 |   - lg: hi
             |     ^
        bad.yaml:5:12: steps[1].sleep: 'soon' is not a duration; a duration is like 500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number of seconds
           5 |   - sleep: soon
             |            ^
        missing.yaml:1:1: the file does not exist; check the path
        3 problems in 2 of 3 files
        """)


def test_validate_good_files(files: Path) -> None:
    result = invoke("validate", "good.yaml", "inputs.yaml")
    assert result.return_value == 0
    assert result.stdout == "ok: good.yaml\nok: inputs.yaml\n2 files valid\n"


def test_validate_checks_inputs_only_when_given(files: Path) -> None:
    assert invoke("validate", "inputs.yaml").return_value == 0
    assert (
        invoke("validate", "inputs.yaml", "-i", "count=3").return_value == 0
    )  # token may be absent
    result = invoke("validate", "inputs.yaml", "-i", "count=three", "-i", "cuont=1")
    assert result.return_value == 2
    assert result.stdout == (
        "inputs.yaml: inputs: input 'count' (How many): 'three' is not an integer; give a whole "
        "number such as 5\n"
        "inputs.yaml: inputs: unknown input 'cuont'; did you mean 'count'?\n"
        "2 problems in 1 of 1 file\n"
    )


def test_validate_reads_an_inputs_file(files: Path) -> None:
    (files / "values.yaml").write_text("count: many\n", encoding="utf-8")
    result = invoke("validate", "inputs.yaml", "--inputs-file", "values.yaml")
    assert result.return_value == 2
    assert "'many' is not an integer" in result.stdout


RUNBOOK = """\
version: 1
name: Unstick an order
description: Finds a stuck order, signals it and checks it moved on.
tags: [ops]
connection: {address: "temporal.example.com:7233", namespace: "{{ inputs.namespace }}", api_key: "{{ inputs.token }}"}
inputs:
  order: {type: string, required: true, description: Id of the stuck order}
  namespace: {type: string, default: prod}
  attempts: {type: integer, default: 3, description: How often to nudge it}
  token: {type: string, required: true, secret: true}
vars:
  workflow_id: "order-{{ inputs.order }}"
  ticket: "{{ uuid() }}"
  note: "nudged {{ inputs.attempts }} times"
steps:
  - confirm: "Signal {{ vars.workflow_id }}?"
  - id: stuck
    create: {workflow_id: "{{ vars.workflow_id }}"}
  - id: info
    describe: {workflow: stuck}
  - foreach:
      items: "{{ range(inputs.attempts) | list }}"
      as: attempt
      steps:
        - signal: {workflow: stuck, signal: nudge, args: ["{{ attempt }}", "{{ vars.note }}"]}
        - sleep: 1s
  - parallel:
      max_concurrency: 2
      steps:
        - query: {workflow: stuck, query: status}
        - log: "ticket {{ vars.ticket }}"
  - include: {playbook: common/check.yaml, inputs: {state: running}}
  - set: {note: "{{ steps.info.result.status }}"}
  - name: Final check
    when: steps.info.result.status == 'running'
    assert: ["vars.note == 'running'"]
finally:
  - log: "done with {{ vars.workflow_id }} ({{ vars.note }})"
"""
CHECK = """\
version: 1
name: check
inputs:
  state: {type: string, required: true}
steps:
  - log: "expecting {{ inputs.state }}"
finally:
  - log: bye
"""
PLAN = """\
Playbook: Unstick an order (runbook.yaml)
Finds a stuck order, signals it and checks it moved on.
Tags: ops

Connection:
  address: temporal.example.com:7233
  namespace: prod
  api_key: ***

Inputs:
  order: 1234
      string, required; Id of the stuck order
  namespace: prod
      string, default prod
  attempts: 2
      integer, default 3; How often to nudge it
  token: <required>
      string, required, secret

Vars:
  workflow_id: order-1234
  ticket: {{ uuid() }}
  note: nudged 2 times

Steps:
  1. confirm: Signal order-1234?
  2. create stuck: existing execution
     workflow_id: order-1234
  3. describe stuck (id: info)
  4. foreach attempt in [0, 1]
     4.1. signal stuck: nudge
          args: ["{{ attempt }}", nudged 2 times]
     4.2. sleep 1s
  5. parallel (at most 2 at once)
     5.1. query stuck: status
     5.2. log: ticket {{ vars.ticket }}
  6. include common/check.yaml
     inputs: {state: running}
     6.1. log: expecting running
     finally:
     6.1. log: bye
  7. set
     note: {{ steps.info.result.status }}
  8. assert -- Final check
     when: steps.info.result.status == 'running'
     that: vars.note == 'running'

Finally:
  1. log: done with {{ vars.workflow_id }} ({{ vars.note }})
"""


def test_plan_of_a_runbook(files: Path) -> None:
    (files / "runbook.yaml").write_text(RUNBOOK, encoding="utf-8")
    (files / "common").mkdir()
    (files / "common" / "check.yaml").write_text(CHECK, encoding="utf-8")
    result = invoke("plan", "runbook.yaml", "-i", "order=1234", "-i", "attempts=2")
    assert result.return_value == 0
    assert result.stdout == PLAN
    secret = invoke(
        "plan", "runbook.yaml", "-i", "order=1234", "-i", "attempts=2", "-i", "token=s3cr3t"
    )
    assert "s3cr3t" not in secret.stdout
    assert "  token: ***\n" in secret.stdout


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playbook", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_exit_codes_as_a_process(files: Path) -> None:
    assert run_cli("validate", "good.yaml", cwd=files).returncode == 0
    bad = run_cli("validate", "good.yaml", "bad.yaml", cwd=files)
    assert bad.returncode == 2
    assert "bad.yaml:4:5: steps[0].lg: unknown key 'lg'; did you mean 'log'?" in bad.stdout
    usage = run_cli("validate", "good.yaml", "-i", "novalue", cwd=files)
    assert usage.returncode == 2
    assert usage.stderr == (
        "error: -i/--input takes NAME=VALUE, got 'novalue'; write it as -i name=value "
        "(the name is letters, digits and _)\n"
    )
    invalid_plan = run_cli("plan", "bad.yaml", cwd=files)
    assert invalid_plan.returncode == 2
    assert invalid_plan.stderr.endswith("2 problems found\n")


def test_validate_and_plan_do_not_import_temporalio(files: Path) -> None:
    script = textwrap.dedent("""\
        import sys
        from playbook.cli import _run_cli
        codes = [_run_cli(["validate", "good.yaml", "bad.yaml"]), _run_cli(["plan", "good.yaml"])]
        print(codes, sorted(m for m in sys.modules if m.split(".")[0] == "temporalio"))
        """)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=files, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "[2, 0] []"


def test_schema_prints_the_schema(files: Path) -> None:
    result = invoke("schema")
    assert result.stdout == schema_text()
    root = Path(__file__).parents[2]
    assert json.loads(result.stdout) == json.loads(
        (root / "schemas" / "playbook.schema.json").read_text(encoding="utf-8")
    )


def test_an_offline_run_does_not_import_temporalio(tmp_path: Path) -> None:
    (tmp_path / "offline.yaml").write_text(
        textwrap.dedent("""\
        version: 1
        name: offline
        steps:
          - set: {a: 1}
          - assert: "false"
            timeout: 5s
            retry: {attempts: 2, interval: 10ms}
            continue_on_error: true
          - log: "{{ vars.a }}"
        """)
    )
    script = textwrap.dedent("""\
        import sys
        from playbook.cli import _run_cli
        code = _run_cli(["run", "offline.yaml", "-q"])
        print(code, sorted(m for m in sys.modules if m.split(".")[0] == "temporalio"))
        """)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr
