"""The secrets suite: leak attempts, each a playbook and a secret value, run through
``playbook run`` (with both reports) and ``playbook plan`` in this process, offline.

Each case asserts that the secret (every leaf of a structured one), raw and in each escaped
form (``repr``, ``json.dumps`` with and without ``ensure_ascii``, XML-escaped), and any 10
characters of those, appear in none of the console (stdout and stderr), the JSON report and
the JUnit XML; and that the step did run and shows the mask where the secret would be.
Forms that need a server (a workflow's result, the worker's log lines) are in
tests/integration/test_secrets_live.py.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shlex
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

from playbook.cli import _run_cli
from playbook.records import RunResult, StepRecord
from playbook.report.console import ConsoleReporter
from playbook.report.files import json_report_text, junit_xml
from playbook.secrets import MASK, Masker, masked_logs, printed_forms

PLAIN = "s3cr3t-Plain-Token"
BACKSLASH = "C:\\Users\\svc\\t0ken"
QUOTES = 'it\'s "quoted" tok'
NEWLINE = "line-one\nline-two"
TAB = "tab\tsep\tsecret"
UNICODE = "pässwörd-秘密-🔑"
CONTROL = "ctl\x01bell\x07tok"
MARKUP = "<b>&amp;'sec'</b>"
URLISH = "a/b?c=d&e f+g%"
EVERYTHING = "ab\\c\"d'e\tf\ng-é-ü"
LONG = "L0ng-" + "x9" * 150
LONG_ESCAPED = 'L\\ng"' + "é\t" * 100
INTEGER = 987654321
NUMBER = 3.14159265
OBJECT = {"user": "svc-account", "password": "hun'ter\"22", "nested": {"pin": 98765}}
ARRAY = ["tok-alpha\\1", "tok-beta\n2", 4242]
API_KEY = 'tmprl-\\api"key\n-0123456789'

STRINGS = [
    PLAIN,
    BACKSLASH,
    QUOTES,
    NEWLINE,
    TAB,
    UNICODE,
    CONTROL,
    MARKUP,
    URLISH,
    EVERYTHING,
    LONG,
    LONG_ESCAPED,
]


@dataclass(frozen=True)
class Attempt:
    """One leak attempt: ``steps`` (YAML, after the secret input ``tok``) with ``secret``."""

    name: str
    steps: str
    secret: Any
    shows: str  # a console line fragment (a regex after "re:"): the step ran, showing the mask
    code: int = 0
    kind: str = "string"
    given: str = "cli"  # how the secret is given: "cli" (-i), "file" (--inputs-file), "default"
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    head: str = ""  # YAML between the inputs and the steps (connection, vars)


# Playbooks that print a string secret somewhere: (name, steps, console fragment, exit code)
STRING_PLAYBOOKS = [
    ("log", '- log: "{{ inputs.tok }}"', "    | ***", 0),
    ("log-list", '- log: "{{ [inputs.tok] }}"', '    | ["***"]', 0),
    ("tojson", '- log: "{{ inputs.tok | tojson }}"', '    | "***"', 0),
    ("pprint", '- log: "{{ inputs.tok | pprint }}"', r"re:    \| (\'\*\*\*\'|\"\*\*\*\")\n", 0),
    ("urlencode", '- log: "{{ inputs.tok | urlencode }}"', "    | ***", 0),
    ("html-escape", '- log: "{{ inputs.tok | e }}"', "    | ***", 0),
    ("format", "- log: \"{{ 'got %s.' | format(inputs.tok) }}\"", "    | got ***.", 0),
    ("join", "- log: \"{{ [inputs.tok, inputs.tok] | join(',') }}\"", "    | ***,***", 0),
    ("dict-key", '- log: "{{ {inputs.tok: 1} }}"', '    | {"***": 1}', 0),
    ("inputs-whole", '- log: "{{ inputs }}"', '    | {"tok": "***"}', 0),
    ("assert-operands", "- assert: \"inputs.tok == 'x'\"", "('***' == 'x')", 1),
    ("assert-list", '- assert: "[inputs.tok] == []"', '(["***', 1),
    (
        "assert-message",
        '- assert: {that: ["false"], message: "bad token {{ inputs.tok }}"}',
        "step 'assert': bad token ***",
        1,
    ),
    (
        "expect-mismatch",
        '- set: {a: "{{ inputs.tok }}"}\n  expect: {result: {a: 1}}',
        "result.a: expected 1, got '***'",
        1,
    ),
    ("duration", '- sleep: "{{ inputs.tok }}"', "field sleep: '***' is not a duration", 1),
    (
        "timeout",
        '- log: hi\n  timeout: "{{ inputs.tok }}"',
        "re:field timeout: ['\"]\\*\\*\\*['\"] is not a duration",
        1,
    ),
    (
        "concurrency",
        '- foreach: {items: [1], concurrency: "{{ inputs.tok }}", steps: [{log: hi}]}',
        "field foreach.concurrency: '***",
        1,
    ),
    (
        "backoff",
        '- set: {a: 1}\n  retry: {until: "true", backoff: "{{ inputs.tok }}"}',
        "field retry.backoff: '***",
        1,
    ),
    (
        "retry-gave-up",
        '- set: {a: "{{ inputs.tok }}"}\n  retry: {until: "false", attempts: 2, interval: 1ms}',
        "last result: {'a': '***",
        1,
    ),
    ("missing-key", '- log: "{{ vars[inputs.tok] }}"', "re:vars has no key ['\"]\\*\\*\\*['\"]", 1),
    ("filter-error", '- log: "{{ inputs.tok | duration }}"', "duration filter: '***'", 1),
    (
        "confirm",
        '- confirm: "sure {{ inputs.tok }}?"',
        "field confirm: 'sure ***?' needs an answer",
        2,
    ),
    (
        "set-then-vars",
        '- set: {a: "{{ inputs.tok }}"}\n- log: "{{ vars }}"',
        '    | {"a": "***',
        0,
    ),
    (
        "workflow-id",
        '- id: w\n  create: {workflow_id: "wf-{{ inputs.tok }}"}',
        "ms, workflow wf-***)",
        0,
    ),
    (
        "include",
        "- include: {playbook: child.yaml, inputs: {value: '{{ inputs.tok }}'}}",
        "      | child got ***",
        0,
    ),
]

CHILD = """\
version: 1
name: child
inputs:
  value: {type: string}
steps:
  - log: "child got {{ inputs.value }}"
"""


# these may talk to Temporal: a lazy connection is made only by a call that needs it
LAZY = {"workflow-id": "connection: {lazy: true}\n", "include": "connection: {lazy: true}\n"}


def _string_attempts() -> list[Attempt]:
    """Each playbook with three secrets in turn (so every secret meets many playbooks)."""
    attempts = []
    for index, (name, steps, shows, code) in enumerate(STRING_PLAYBOOKS):
        for offset in (0, 4, 8):
            secret = STRINGS[(index + offset) % len(STRINGS)]
            attempts.append(
                Attempt(
                    f"{name}-{STRINGS.index(secret)}",
                    steps,
                    secret,
                    shows,
                    code,
                    given="file" if secret == CONTROL else "cli",  # (argv cannot hold all)
                    head=LAZY.get(name, ""),
                )
            )
    return attempts


SPECIAL_ATTEMPTS = [
    # a cut inside the secret: what is left before "..." is masked too
    Attempt("cut-by-the-playbook", '- log: "{{ inputs.tok[:20] }}..."', LONG, "    | ***..."),
    Attempt(
        "cut-repr",
        '- foreach: {items: [1], concurrency: "{{ inputs.tok }}", steps: [{log: hi}]}',
        LONG_ESCAPED,
        "field foreach.concurrency: '***... is not a whole number",
        1,
    ),
    Attempt("cut-json-list", '- assert: "[inputs.tok] == []"', LONG, '(["***... == [])', 1),
    # numbers: as text, and as numbers in the JSON report's request and result
    Attempt("integer-log", '- log: "{{ inputs.tok }}"', INTEGER, "    | ***", kind="integer"),
    Attempt(
        "integer-set", '- set: {n: "{{ inputs.tok }}"}', INTEGER, "  PASS  set", kind="integer"
    ),
    Attempt(
        "integer-assert",
        '- assert: "inputs.tok == 1"',
        INTEGER,
        "(*** == 1)",
        1,
        kind="integer",
    ),
    Attempt(
        "integer-in-list",
        '- log: "{{ [inputs.tok, 1] }}"',
        INTEGER,
        "    | [***, 1]",
        kind="integer",
    ),
    Attempt(
        "integer-expect",
        '- set: {n: "{{ inputs.tok }}"}\n  expect: {result: {n: 1}}',
        INTEGER,
        "result.n: expected 1, got ***",
        1,
        kind="integer",
    ),
    Attempt("number-log", '- log: "{{ inputs.tok }}"', NUMBER, "    | ***", kind="number"),
    Attempt("number-set", '- set: {n: "{{ inputs.tok }}"}', NUMBER, "  PASS  set", kind="number"),
    Attempt("number-assert", '- assert: "inputs.tok == 1"', NUMBER, "(*** == 1)", 1, kind="number"),
    # every leaf of an object or array secret
    Attempt("object-log", '- log: "{{ inputs.tok }}"', OBJECT, "    | ***", kind="object"),
    Attempt(
        "object-tojson",
        '- log: "{{ inputs.tok | tojson }}"',
        OBJECT,
        '"password": "***"',
        kind="object",
    ),
    Attempt(
        "object-leaf", '- log: "{{ inputs.tok.password }}"', OBJECT, "    | ***", kind="object"
    ),
    Attempt(
        "object-nested-number",
        '- log: "pin {{ inputs.tok.nested.pin }}"',
        OBJECT,
        "    | pin ***",
        kind="object",
    ),
    Attempt("object-set", '- set: {c: "{{ inputs.tok }}"}', OBJECT, "  PASS  set", kind="object"),
    Attempt(
        "object-assert", '- assert: "inputs.tok == {}"', OBJECT, "(*** == {})", 1, kind="object"
    ),
    Attempt(
        "object-from-file",
        '- log: "{{ inputs.tok }}"',
        OBJECT,
        "    | ***",
        kind="object",
        given="file",
    ),
    Attempt("array-log", '- log: "{{ inputs.tok }}"', ARRAY, "    | ***", kind="array"),
    Attempt("array-item", '- log: "{{ inputs.tok[1] }}"', ARRAY, "    | ***", kind="array"),
    Attempt(
        "array-foreach",
        '- foreach: {items: "{{ inputs.tok }}", steps: [{log: "item {{ item }}"}]}',
        ARRAY,
        "      | item ***",
        kind="array",
        args=("-v",),
    ),
    Attempt("array-assert", '- assert: "inputs.tok == []"', ARRAY, "(*** == [])", 1, kind="array"),
    # defaults: the run uses them, plan must not show them
    Attempt("default-log", '- log: "{{ inputs.tok }}"', EVERYTHING, "    | ***", given="default"),
    Attempt(
        "default-object",
        '- log: "{{ inputs.tok }}"',
        OBJECT,
        "    | ***",
        kind="object",
        given="default",
    ),
    Attempt(
        "confirmed",
        '- confirm: "sure {{ inputs.tok }}?"',
        QUOTES,
        "    | confirmed by --yes: sure ***?",
        args=("--yes",),
    ),
    # the environment's API key, read by an offline playbook
    Attempt(
        "env-api-key",
        '- log: "{{ env.TEMPORAL_API_KEY }} {{ inputs.tok }}"',
        API_KEY,
        "    | *** ***",
        env={"TEMPORAL_API_KEY": API_KEY},
    ),
    Attempt(
        "env-holding-the-key",
        '- log: "{{ env.DEPLOY_AUTH }}"',
        API_KEY,
        "    | Bearer ***",
        env={"TEMPORAL_API_KEY": API_KEY, "DEPLOY_AUTH": f"Bearer {API_KEY}"},
    ),
    Attempt(
        "env-as-json",
        "- log: \"{{ {'k': env.TEMPORAL_API_KEY} | tojson }}\"",
        API_KEY,
        '    | {"k": "***"}',
        env={"TEMPORAL_API_KEY": API_KEY},
    ),
    # a var that renders the secret into an error before the first step
    Attempt(
        "vars",
        '- log: "{{ vars.v }}"',
        BACKSLASH,
        "'***' is not a duration",
        1,
        head="vars:\n  v: '{{ inputs.tok | duration }}'\n",
    ),
]

# Connections that fail at once (nothing listens on port 1): the message and the reports
# name the address and the namespace.
REFUSED = "address: 127.0.0.1:1\n  connect_timeout: 2s"
WORKFLOW_STEPS = "- id: w\n  create: {type: X, task_queue: q}\n- start: {workflow: w}"
CONNECTION_ATTEMPTS = [
    Attempt(
        "connection-namespace",
        WORKFLOW_STEPS,
        EVERYTHING,
        "(namespace '***'): connection refused",
        3,
        head=f"connection:\n  {REFUSED}\n  namespace: '{{{{ inputs.tok }}}}'\n",
    ),
    Attempt(
        "connection-namespace-with-worker",
        WORKFLOW_STEPS,
        QUOTES,
        "(namespace '***'): connection refused",
        3,
        args=("--worker", "playbook.demo"),
        head=f"connection:\n  {REFUSED}\n  namespace: '{{{{ inputs.tok }}}}'\n",
    ),
    Attempt(
        "connection-address",
        WORKFLOW_STEPS,
        UNICODE,
        "could not connect to Temporal at ***",
        3,
        head="connection:\n  address: '{{ inputs.tok }}'\n  connect_timeout: 2s\n",
    ),
    Attempt(
        "connection-api-key",
        WORKFLOW_STEPS,
        NEWLINE,
        "could not connect to Temporal at 127.0.0.1:1",
        3,
        head=f"connection:\n  {REFUSED}\n  api_key: '{{{{ inputs.tok }}}}'\n",
    ),
    Attempt(
        "connection-header",
        WORKFLOW_STEPS,
        TAB,
        "could not connect to Temporal at 127.0.0.1:1",
        3,
        head=f"connection:\n  {REFUSED}\n  headers: {{authorization: 'Bearer {{{{ inputs.tok }}}}'}}\n",
    ),
    Attempt(
        "api-key-flag",
        WORKFLOW_STEPS,
        PLAIN,
        "could not connect to Temporal at 127.0.0.1:1",
        3,
        args=("--api-key", f"flag-{PLAIN}", "--address", "127.0.0.1:1", "--connect-timeout", "2s"),
    ),
    Attempt(
        "api-key-env",
        WORKFLOW_STEPS,
        API_KEY,
        "could not connect to Temporal at 127.0.0.1:1",
        3,
        args=("--address", "127.0.0.1:1", "--connect-timeout", "2s"),
        env={"TEMPORAL_API_KEY": API_KEY},
    ),
]

ATTEMPTS = _string_attempts() + SPECIAL_ATTEMPTS + CONNECTION_ATTEMPTS


# -- what counts as a leak --------------------------------------------------------------------


def leaves(secret: Any) -> list[str]:
    """The texts a secret shows as: every leaf of an object or array."""
    if isinstance(secret, dict):
        return [text for value in secret.values() for text in leaves(value)]
    if isinstance(secret, list):
        return [text for value in secret for text in leaves(value)]
    return [str(secret)]


def escaped_forms(text: str) -> set[str]:
    """The text raw, as ``repr``, JSON (ASCII or not) and XML (text and attribute) show it."""
    return {
        text,
        repr(text)[1:-1],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        escape(text),
        quoteattr(text)[1:-1],
    }


def pieces(secret: Any) -> set[str]:
    """Every escaped form of every leaf, and every 10 characters of those (a cut secret)."""
    found: set[str] = set()
    for leaf in leaves(secret):
        for form in escaped_forms(leaf):
            found.add(form)
            if not leaf.replace(".", "").isdigit():
                found.update(form[i : i + 10] for i in range(len(form) - 9))
    return {piece for piece in found if len(piece) >= 3}


def assert_hidden(secret: Any, outputs: dict[str, str]) -> None:
    for where, text in outputs.items():
        leaked = sorted(piece for piece in pieces(secret) if piece in text)
        assert not leaked, f"{where} shows {leaked!r}:\n{text}"


# -- running them -----------------------------------------------------------------------------


def _playbook(tmp_path: Path, attempt: Attempt) -> Path:
    spec = f"type: {attempt.kind}, secret: true"
    if attempt.given == "default":
        spec += f", default: {json.dumps(attempt.secret)}"
    (tmp_path / "child.yaml").write_text(CHILD, encoding="utf-8")
    path = tmp_path / "leak.yaml"
    steps = textwrap.indent(attempt.steps, "  ")
    path.write_text(
        f"version: 1\nname: leak\ninputs:\n  tok: {{{spec}}}\n{attempt.head}steps:\n{steps}\n",
        encoding="utf-8",
    )
    return path


def _inputs(tmp_path: Path, attempt: Attempt) -> list[str]:
    if attempt.given == "default":
        return []
    if attempt.given == "file":
        values = tmp_path / "inputs.json"
        values.write_text(json.dumps({"tok": attempt.secret}), encoding="utf-8")
        return ["--inputs-file", str(values)]
    value = attempt.secret if isinstance(attempt.secret, str) else json.dumps(attempt.secret)
    return ["-i", f"tok={value}"]


def cli(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``playbook ARGS`` in this process: the exit code and everything printed."""
    code = _run_cli(list(args))
    out, err = capfd.readouterr()
    return code, out + err


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=lambda a: a.name)
def test_a_secret_never_shows(
    attempt: Attempt,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEMPORAL_API_KEY", raising=False)
    for name, value in attempt.env.items():
        monkeypatch.setenv(name, value)
    path = _playbook(tmp_path, attempt)
    inputs = _inputs(tmp_path, attempt)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code, console = cli(
        capfd,
        "run",
        str(path),
        *inputs,
        *attempt.args,
        "--json-report",
        str(report),
        "--junit-xml",
        str(junit),
    )
    assert code == attempt.code, console
    if attempt.shows.startswith("re:"):
        assert re.search(attempt.shows[3:], console), console
    else:
        assert attempt.shows in console, console
    json.loads(report.read_text(encoding="utf-8"))  # both reports are whole
    ET.fromstring(junit.read_text(encoding="utf-8"))
    outputs = {
        "the console": console,
        "the JSON report": report.read_text(encoding="utf-8"),
        "the JUnit XML": junit.read_text(encoding="utf-8"),
    }
    assert_hidden(attempt.secret, outputs)

    plan_code, plan = cli(capfd, "plan", str(path), *inputs)
    assert plan_code == 0, plan
    assert "  tok: ***\n      " in plan, plan
    assert_hidden(attempt.secret, {"plan": plan})


def test_the_suite_has_at_least_50_distinct_attempts() -> None:
    assert len({(a.steps, json.dumps(a.secret), a.given, a.head) for a in ATTEMPTS}) >= 50
    assert len({a.name for a in ATTEMPTS}) == len(ATTEMPTS)


# -- echoes of what was given -------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "plan", "validate"])
def test_a_malformed_input_pair_never_echoes_its_value(
    command: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = _playbook(tmp_path, Attempt("echo", '- log: "{{ inputs.tok }}"', PLAIN, ""))
    code, output = cli(capfd, command, str(path), "-i", f"tok-en={EVERYTHING}", "-i", "=x")
    assert code == 2
    assert output == (
        "error: -i/--input takes NAME=VALUE, got 'tok-en=***', '=x'; write it as -i "
        "name=value (the name is letters, digits and _)\n"
    )


def test_an_ill_typed_secret_input_is_named_not_shown(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    attempt = Attempt("typed", '- log: "{{ inputs.tok }}"', PLAIN, "", kind="integer")
    path = _playbook(tmp_path, attempt)
    for command in ("run", "plan"):
        code, output = cli(capfd, command, str(path), "-i", f"tok={EVERYTHING}")
        assert code == 2
        assert output == (
            "error: invalid inputs:\n  - input 'tok': *** is not an integer; give a whole "
            "number such as 5\n"
        )


def test_plan_shows_a_secret_default_as_the_mask(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    attempt = Attempt("plan", '- log: "{{ inputs.tok }}"', QUOTES, "", given="default")
    code, plan = cli(capfd, "plan", str(_playbook(tmp_path, attempt)), "-i", "tok=given-value")
    assert code == 0
    assert plan.splitlines()[2:5] == [
        "Inputs:",
        "  tok: ***",
        "      string, default ***, secret",
    ]
    assert_hidden(QUOTES, {"plan": plan})
    assert "given-value" not in plan


# -- the reports, as the last line of defence ---------------------------------------------


def test_the_json_report_masks_numbers_and_every_leaf(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "numbers.yaml"
    path.write_text(
        "version: 1\nname: numbers\ninputs:\n  n: {type: integer, secret: true}\n"
        "  creds: {type: object, secret: true}\nsteps:\n"
        "  - set: {n: '{{ inputs.n }}', big: '{{ inputs.n * 10 }}', creds: '{{ inputs.creds }}'}\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    code, console = cli(
        capfd,
        "run",
        str(path),
        "-i",
        f"n={INTEGER}",
        "-i",
        f"creds={json.dumps(OBJECT)}",
        "--json-report",
        str(report),
    )
    assert code == 0, console
    step = json.loads(report.read_text(encoding="utf-8"))["runs"][0]["steps"][0]
    masked = {
        "n": "***",
        "big": "***",
        "creds": {"user": "***", "password": "***", "nested": {"pin": "***"}},
    }
    assert step["request"] == {"set": masked}
    assert step["result"] == masked


def _unmasked_result() -> RunResult:
    """A run whose records hold the secret as the runner would never leave it."""
    result = RunResult(
        playbook="p",
        path="p.yaml",
        run_id="r1",
        started_at="2026-01-01T00:00:00+00:00",
        status="error",
        exit_code=3,
        error=f"could not connect (namespace {EVERYTHING!r})",
        namespace=EVERYTHING,
        address=f"{PLAIN}:7233",
        masker=Masker([EVERYTHING, PLAIN]),
    )
    result.records.append(
        StepRecord(
            path="steps[0]",
            action="log",
            name=f"log {PLAIN}",
            status="failed",
            workflow_id=f"wf-{PLAIN}",
            request={"log": [EVERYTHING, {PLAIN: 1}]},
            error={"type": "X", "message": f"bad {LONG_ESCAPED!r}"[:60] + "...", "details": None},
        )
    )
    result.masker.add(LONG_ESCAPED)
    return result


def test_the_report_writers_mask_whatever_the_runner_missed() -> None:
    result = _unmasked_result()
    report = json_report_text([result])
    junit = junit_xml([result])
    assert_hidden(EVERYTHING, {"json": report, "junit": junit})
    assert_hidden(PLAIN, {"json": report, "junit": junit})
    assert_hidden(LONG_ESCAPED, {"json": report, "junit": junit})
    run = json.loads(report)["runs"][0]
    assert (run["namespace"], run["address"], run["error"]) == (
        "***",
        "***:7233",
        "could not connect (namespace '***')",
    )
    step = run["steps"][0]
    assert step["request"] == {"log": ["***", {"***": 1}]}
    assert (step["name"], step["workflow_id"]) == ("log ***", "wf-***")
    assert step["error"]["message"] == "bad '***..."
    suite = ET.fromstring(junit).find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (properties["namespace"], properties["address"]) == ("***", "***:7233")
    assert result.namespace == EVERYTHING  # the copy is masked, not the run's own result


def test_the_console_masks_every_line_it_writes() -> None:
    stream = io.StringIO()
    console = ConsoleReporter(stream)
    result = _unmasked_result()
    console.run_started(None, result)
    console.step_started(result.records[0])
    console.log(result.records[0], f"one {EVERYTHING} two")
    console.step_finished(result.records[0])
    console.run_finished(result)
    assert_hidden(EVERYTHING, {"console": stream.getvalue()})
    assert_hidden(LONG_ESCAPED, {"console": stream.getvalue()})
    assert stream.getvalue().splitlines() == [
        "playbook: p (p.yaml) run r1",
        "    | one *** two",  # masked before it is split into lines
        "  FAIL  log ***  (workflow wf-***)",
        "        bad '***...",
        "error: could not connect (namespace '***')",
        "error: p: 1 failed in 0ms (exit 3)",
    ]


# -- the masker itself ----------------------------------------------------------------------


@pytest.mark.parametrize("secret", STRINGS)
def test_every_printed_form_of_a_string_secret_is_masked(secret: str) -> None:
    masker = Masker([secret])
    shown = [
        secret,
        repr(secret),
        ascii(secret),
        repr([secret]),
        repr(repr(secret)),
        json.dumps(secret),
        json.dumps(secret, ensure_ascii=False),
        json.dumps(json.dumps(secret)),
        json.dumps(repr(secret)),
        escape(secret),
        quoteattr(secret),
    ]
    for text in shown:
        masked = masker.text(f"before {text} after")
        assert masked.startswith("before ") and MASK in masked
        assert_hidden(secret, {text: masked})


def test_a_cut_inside_a_secret_masks_what_is_left() -> None:
    masker = Masker([PLAIN])
    assert masker.text(f"value {PLAIN[:3]}... more") == "value ***... more"
    assert masker.text(f"value {PLAIN[:12]}…") == "value ***…"
    assert masker.text(f"...{PLAIN[-5:]} rest") == "...*** rest"
    assert Masker([EVERYTHING]).text(f"{repr(EVERYTHING)[:9]}...") == "'***..."
    assert masker.text(f"{PLAIN[:2]}...") == f"{PLAIN[:2]}..."  # 2 characters are not a secret
    # CPython cuts its own messages without a mark ('%.200R'): at the end of a line or text
    assert masker.text(f"int(): {PLAIN[:7]}\nnext {PLAIN[:4]}") == "int(): ***\nnext ***"
    assert masker.text(f"{PLAIN[:6]} in the middle") == f"{PLAIN[:6]} in the middle"
    assert masker.text("loading...") == "loading..."


def test_numbers_and_structures() -> None:
    masker = Masker([INTEGER, NUMBER, OBJECT, ARRAY, True, None, 12, "ab"])
    assert masker.data({"n": INTEGER, "m": INTEGER * 10, "f": NUMBER, "ok": 12, "t": True}) == {
        "n": MASK,
        "m": MASK,
        "f": MASK,
        "ok": 12,
        "t": True,
    }
    assert masker.text(f"id-{INTEGER} pi {NUMBER}") == "id-*** pi ***"
    assert masker.data(OBJECT) == {"user": MASK, "password": MASK, "nested": {"pin": MASK}}
    assert masker.text(str(OBJECT)) == MASK
    assert masker.text(json.dumps(ARRAY)) == MASK
    assert masker.data(ARRAY) == [MASK, MASK, MASK]
    assert masker.text("ab 12 True") == "ab 12 True"
    assert not Masker([None, True, "ab", 7])
    assert masker.data(10**5000) == 10**5000  # too long to print: nothing to mask


def test_printed_forms_are_few_for_a_plain_secret() -> None:
    assert printed_forms(PLAIN) == {PLAIN}
    assert {'it\'s \\"quoted\\" tok', 'it\\\'s "quoted" tok'} <= printed_forms(QUOTES)


def test_log_records_are_masked_while_a_run_is_on(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("playbook.test.worker")
    masker = Masker([EVERYTHING])
    with caplog.at_level(logging.WARNING), masked_logs(masker):
        logger.warning("item %s ignored", {"sku": EVERYTHING})
        try:
            int(EVERYTHING)
        except ValueError:
            logger.exception("Failed activation on workflow wf-%s", EVERYTHING)
    logger.warning("after the run: %s", EVERYTHING)
    first, second, after = caplog.records
    assert first.getMessage() == "item {'sku': '***'} ignored"
    assert second.getMessage() == "Failed activation on workflow wf-***"
    assert second.exc_text is not None
    assert second.exc_text.endswith("ValueError: invalid literal for int() with base 10: '***'")
    assert after.getMessage() == f"after the run: {EVERYTHING}"  # the run is over
    assert logging.getLogRecordFactory() is logging.LogRecord


def test_each_line_of_a_secret_with_several_is_masked() -> None:
    key = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n"
        "-----END PRIVATE KEY-----"
    )
    masker = Masker([key])
    assert masker.text(textwrap.indent(key, "    ")) == "    ***\n    ***\n    ***\n    ***"
    assert masker.text(f"data={key.encode()!r}") == "data=b'***'"
    assert Masker([QUOTES]).text(f"echo {shlex.quote(QUOTES)}") == "echo '***'"


def test_a_long_start_of_a_secret_is_masked_where_a_message_goes_on() -> None:
    """Python cuts a value in its own messages without a mark (``%.200R``), and a message
    of ours may go on after it: the start of the secret is masked all the same."""
    from playbook.secrets import Masker

    secret = 'L\\ng"é\té' * 40
    masker = Masker([secret])
    said = f"invalid literal for int() with base 10: {secret!r}"[:240]
    assert masker.text(f"cannot finish: {said}; fix the workflow code") == (
        "cannot finish: invalid literal for int() with base 10: '***; fix the workflow code"
    )
    assert masker.text("the value starts 'L\\\\ng' and goes on") == (
        "the value starts 'L\\\\ng' and goes on"
    )  # a short start is not the secret
