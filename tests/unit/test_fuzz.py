"""A bounded mutation fuzzer: hostile values in valid playbooks never crash the tool.

Each mutant is a valid playbook (the examples in playbooks/, and playbooks with
templates in every typed field) with one value replaced by a hostile one: numbers too
large to print, durations that are not durations, templates that overflow, refuse or
format with huge widths, deep nesting, long strings, nulls, lists where mappings go,
YAML oddities. Every mutant goes through ``validate`` and ``plan``; those that need no
server also through ``run`` with both reports, some with a hostile ``-i`` value too.
Every exit code must be 0, 1 or 2, nothing may print "internal error" or a traceback,
and a run that got going writes both reports.

Deterministic (one seed) and bounded: one mutation a mutant, and no hostile value is a
valid long duration or a long list to loop over, so no mutant waits or loops for long. Playbooks with workflow steps connect before
their first step, so they are validated and planned only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from playbook.cli import _run_cli

SEED = 20261201
MUTANTS = 300
EXAMPLES = sorted((Path(__file__).parents[2] / "playbooks").glob("*.yaml"))

# Playbooks that run without a server, with a template in every typed field.
OFFLINE = {
    "typed": """
version: 1
name: typed fields
inputs:
  wait: {type: string, default: 1ms}
  limit: {type: string, default: 5s}
  n: {type: integer, default: 2}
  ratio: {type: number, default: 1.5}
  tolerate: {type: boolean, default: false}
  token: {type: string, default: s3cr3t-token, secret: true}
  items: {type: array, default: [1, 2]}
vars:
  greeting: "hi {{ inputs.token }}"
  doubled: "{{ inputs.items | map('string') | list }}"
steps:
  - id: first
    log: "{{ vars.greeting }} {{ inputs.n }} {{ '%5s|{:>4}' % inputs.ratio }}"
    timeout: "{{ inputs.limit }}"
  - id: value
    set: {count: "{{ inputs.n }}", items: "{{ vars.doubled }}"}
    retry:
      attempts: "{{ inputs.n }}"
      interval: "{{ inputs.wait }}"
      timeout: 1s
      backoff: "{{ inputs.ratio }}"
      until: "inputs.n > 0"
  - sleep: "{{ inputs.wait }}"
    name: "nap {{ inputs.wait }}"
  - assert:
      that: ["vars.count == inputs.n", "inputs.items | length == 2"]
      message: "count is {{ vars.count }}"
    continue_on_error: "{{ inputs.tolerate }}"
  - id: loop
    foreach:
      items: "{{ inputs.items }}"
      as: item
      concurrency: "{{ inputs.n }}"
      steps: [{log: "item {{ item }} at {{ index }}"}]
  - parallel:
      max_concurrency: "{{ inputs.n }}"
      steps: [{log: a}, {sleep: "{{ inputs.wait }}"}]
  - log: never
    when: "inputs.n > 100"
finally:
  - log: "done {{ steps.first.status }} {{ steps.first | to_json }}"
""",
}
# Playbooks with workflow steps: these connect at once, so only validate and plan them.
ONLINE = {
    "options": """
version: 1
name: workflow options
inputs:
  n: {type: integer, default: 3}
  at: {type: string, default: "2024-01-02T03:04:05Z"}
  wait: {type: string, default: 1m}
steps:
  - id: order
    create:
      type: OrderWorkflow
      task_queue: "orders-{{ inputs.n }}"
      workflow_id: "order-{{ run.id }}"
      execution_timeout: "{{ inputs.wait }}"
      run_timeout: 30s
      start_delay: "{{ inputs.n }}s"
      memo: {n: "{{ inputs.n }}", nested: {at: "{{ inputs.at }}"}}
      search_attributes:
        Count: {type: int, value: "{{ inputs.n }}"}
        Total: {type: double, value: "{{ inputs.n / 2 }}"}
        PlacedAt: {type: datetime, value: "{{ inputs.at }}"}
        Labels: {type: keyword_list, value: [a, "{{ inputs.n }}"]}
        Plain: 5
      retry:
        initial_interval: "{{ inputs.n }}s"
        backoff_coefficient: 2.0
        maximum_attempts: "{{ inputs.n }}"
      priority: {priority_key: "{{ inputs.n }}", fairness_weight: 1.5}
  - log: "made {{ steps.order.result.workflow_id }}"
""",
}

# A value written into the YAML text as it is (it cannot be a Python value).
RAW = [
    "0x" + "f" * 4000,
    "1" + "0" * 5000,
    "0o" + "7" * 6000,
    "1e400",
    ".inf",
    "-.inf",
    ".nan",
    "!!python/object/apply:os.system [id]",
    "!!binary aGk=",
    "*nowhere",
    "[&a x, *a, *a]",
    "[&s " + "x" * 100_000 + ", " + ", ".join(["*s"] * 5000) + "]",
    "~",
    "!!int '12x'",
    "!!float 0x" + "f" * 400,
]


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


# Python values; none is a valid long duration or a long list to loop over.
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    10**30,
    10**4299,
    0.0001,
    -0.5,
    1e308,
    "",
    " ",
    "10x",
    "null",
    "-1s",
    "1e308",
    "99999999999999999999s",
    "P1000000000000D",
    "x" * 100_000,
    "x" * 1_100_000,
    "ß" * 1000,
    "\u202e\u0000",
    "{{",
    "}}{{",
    "{% for x in y %}",
    "{{ 1e308 * 10 }}",
    "{{ 10 ** 5000 }}",
    "{{ 10 ** 4300 }}",
    "{{ -(10 ** 4300) }}",
    "{{ (10 ** 30000) | round }}",
    "{{ [10 ** 5000] }}",
    "{{ '%d' % 10 ** 5000 }}",
    "{{ 2 ** 64 }}",
    "{{ '{:>1000000000}'.format('x') }}",
    "{{ '{:.999999999f}'.format(1) }}",
    "{{ '%1000000000s' % 'x' }}",
    "{{ '%*s' % (10 ** 9, 'x') }}",
    "{{ '%999999999s' | format('x') }}",
    "{{ 'x' | indent(999999) }}",
    "{{ ('a\\n' * 100000) | indent(999999) }}",
    "{{ 'x' | center(10 ** 9) }}",
    "{{ ('x' * 1000) | replace('x', 'y' * 999999) }}",
    "{{ 'x' * 10 ** 9 }}",
    "{{ ('x' * 999) | list | join('y' * 999999) }}",
    "{{ [1] | slice(999999, 'x') | list }}",
    "{{ [1] | batch(999999, 'x') | list }}",
    "{{ [0] * 10 ** 8 }}",
    "{{ range(10 ** 9) }}",
    "{{ 'x' * 999999 }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler }}",
    "{{ undefined_name }}",
    "{{ inputs }}",
    "{{ inputs.nope.deeper }}",
    "{{ none }}",
    "{{ [1, 2] }}",
    "{{ {'a': 1} }}",
    "{{ true }}",
    "{{ -1 }}",
    "{{ '10x' }}",
    "{{ 1 / 0 }}",
    "{{ now() }}",
    "{{ uuid() }}",
    "{{ '1e400' | float }}",
    "{{ ('9' * 5000) | int }}",
    [],
    {},
    [1, 2],
    {"a": 1},
    [None] * 50,
    {"x" * 1000: 1},
    {"__class__": "{{ 1 }}"},
    nested(60),
    nested(150),
]

TEMPLATES = [value for value in VALUES if isinstance(value, str) and "{{" in value]
# For `when`, `retry.until` and `assert`, which take bare expressions.
EXPRESSIONS = [
    "10 ** 5000",
    "10 ** 5000 > 1",
    "-(10 ** 4300)",
    "1e308 * 10",
    "'x' * 10 ** 9",
    "range(10 ** 9) | list",
    "(10 ** 30000) | round",
    "'%1000000000s' % 'x'",
    "'{:>1000000000}'.format('x')",
    "[1] | slice(999999, 'x') | list",
    "''.__class__",
    "inputs.nope.deeper",
    "undefined_name",
    "1 / 0",
    "none",
    "[vars.greeting] * 10 ** 7",
]
# Hostile values for -i: none is a valid long duration either.
INPUTS = ["10x", "", "-1", "1e400", "{{ 7*7 }}", "[1]", '{"a": 1}', "0", "0.001", "1" + "0" * 5000]


@dataclass(frozen=True)
class Mutant:
    number: int
    base: str
    path: tuple[Any, ...]
    value: Any
    raw: str | None
    given: tuple[str, ...]

    def describe(self) -> str:
        shown = self.raw if self.raw is not None else repr(self.value)
        return f"mutant {self.number}: {self.base} at {list(self.path)} = {shown[:80]} {self.given}"


def _base(name: str) -> Any:
    if name in OFFLINE or name in ONLINE:
        return yaml.safe_load({**OFFLINE, **ONLINE}[name])
    return yaml.safe_load((Path(__file__).parents[2] / "playbooks" / name).read_text())


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a document a value sits, the document itself excluded."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


# Keys of typed fields: most mutations land on one of these.
TYPED = {
    "timeout",
    "interval",
    "backoff",
    "attempts",
    "until",
    "that",
    "concurrency",
    "max_concurrency",
    "sleep",
    "continue_on_error",
    "when",
    "value",
    "default",
    "items",
    "priority_key",
    "maximum_attempts",
    "execution_timeout",
    "start_delay",
}


def _mutants() -> list[Mutant]:
    chooser = random.Random(SEED)
    # the offline playbook half the time: it alone is run as well
    bases = [*OFFLINE] * (1 + len(EXAMPLES)) + [*ONLINE, *(path.name for path in EXAMPLES)]
    mutants = []
    for number in range(MUTANTS):
        base = bases[number % len(bases)]
        places = list(_paths(_base(base)))
        typed = [p for p in places if p[-1] in TYPED]
        on_typed = bool(typed) and chooser.random() < 0.6
        path = chooser.choice(typed if on_typed else places)
        raw = chooser.choice(RAW) if chooser.random() < 0.15 else None
        # a template passes validation in a typed field, an expression in an expression
        # field: the run has to refuse them
        pool = VALUES
        if on_typed and chooser.random() < 0.6:
            expression = path[-1] in ("until", "when") or "assert" in path
            pool = EXPRESSIONS if expression else TEMPLATES
        value = None if raw is not None else chooser.choice(pool)
        given: tuple[str, ...] = ()
        if base == "typed" and chooser.random() < 0.25:
            name = chooser.choice(["wait", "limit", "n", "ratio", "tolerate", "items", "token"])
            given = ("-i", f"{name}={chooser.choice(INPUTS)}")
        mutants.append(Mutant(number, base, path, value, raw, given))
    return mutants


def _text(mutant: Mutant) -> str:
    """The mutant as YAML text: JSON (which is YAML), a raw value spliced in verbatim."""
    document = _base(mutant.base)
    holder = document
    for step in mutant.path[:-1]:
        holder = holder[step]
    holder[mutant.path[-1]] = "\0raw\0" if mutant.raw is not None else mutant.value
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if mutant.raw is not None:
        text = text.replace(json.dumps("\0raw\0"), mutant.raw)
    return text


@pytest.mark.parametrize("mutant", _mutants(), ids=lambda m: f"{m.number}-{m.base}")
def test_a_hostile_value_never_crashes(
    mutant: Mutant,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    Path("play.yaml").write_text(_text(mutant), encoding="utf-8")
    commands = [["validate", "play.yaml"], ["plan", "play.yaml", *mutant.given]]
    if mutant.base in OFFLINE:
        reports = ["--json-report", "r.json", "--junit-xml", "r.xml"]
        commands.append(["run", "play.yaml", "--yes", *reports, *mutant.given])
    for command in commands:
        code = _run_cli(command)
        captured = capsys.readouterr()
        output = captured.out + captured.err
        where = f"{mutant.describe()}: playbook {' '.join(command[:1])} exited {code}"
        assert code in (0, 1, 2), f"{where}\n{output[-2000:]}"
        assert "internal error" not in output, f"{where}\n{output[-2000:]}"
        assert "Traceback" not in output, f"{where}\n{output[-2000:]}"
        if command[0] == "run" and code in (0, 1):
            assert Path("r.json").is_file() and Path("r.xml").is_file(), where
            assert json.loads(Path("r.json").read_text())["exit_code"] == code, where
