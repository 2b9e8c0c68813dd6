"""Load-time validation: one invalid playbook per rule (tests/unit/invalid/), whole
messages with line and column; several problems at once; valid playbooks stay clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from playbook.errors import InvalidInputs, InvalidPlaybook, Problem
from playbook.loader import Playbook, load, load_many
from playbook.validation import template_refs, validate
from playbook.yamlsource import load_text

ROOT = Path(__file__).parents[2]
CORPUS = Path(__file__).parent / "invalid"
CASES = sorted(CORPUS.glob("*.yaml"))

SPEC_EXAMPLE = (Path(__file__).parents[1] / "data" / "spec_example.yaml").read_text()


def head(problem: Problem) -> str:
    """``file:line:col: path: message``, the problem without its excerpt."""
    where = f"{problem.file}:{problem.line}:{problem.column}"
    return (
        f"{where}: {problem.path}: {problem.message}"
        if problem.path
        else f"{where}: {problem.message}"
    )


def problems_of(path: str | Path) -> list[str]:
    try:
        load(path)
    except InvalidPlaybook as error:
        return [head(p) for p in error.problems]
    return []


def expected_of(case: Path) -> list[str]:
    lines = case.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def test_the_corpus_covers_many_rules() -> None:
    assert len(CASES) >= 45
    for case in CASES:
        assert expected_of(case), f"{case.name} has no '# expect: ' line"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_playbook(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    assert problems_of(case.name) == expected_of(case)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SEVERAL = """\
version: 1
name: several problems
inputs:
  count: {type: integer, default: two}
steps:
  - id: order
    create: {type: OrderWorkflow, task_queue: orders, id_conflict_policy: fial}
  - sigal: {workflow: order, signal: go}
  - start: {workflow: ordr, args: [1]}
  - id: order
    sleep: soon
  - log: "{{ inputs.cuont }}"
finally:
  - cancel: {workflow: order, if_running: maybe}
"""


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "several.yaml", SEVERAL)
    with pytest.raises(InvalidPlaybook) as caught:
        load(path)
    f = str(path)
    assert [head(p) for p in caught.value.problems] == [
        f"{f}:4:35: inputs.count.default: the default 'two' is not an integer; change the default or the type",
        f"{f}:7:75: steps[0].create.id_conflict_policy: 'fial' is not one of fail, use_existing, "
        "terminate_existing; did you mean 'fail'?",
        f"{f}:8:5: steps[1].sigal: unknown key 'sigal'; did you mean 'signal'?",
        f"{f}:9:23: steps[2].start.workflow: no create step has the id 'ordr'; did you mean 'order'?",
        f"{f}:10:9: steps[3].id: duplicate step id 'order' (first used at line 6); give each step its own id",
        f"{f}:11:12: steps[3].sleep: 'soon' is not a duration; a duration is like 500ms, 10s, 1m30s, "
        "2h, 1d, PT10S, or a number of seconds",
        f"{f}:12:10: steps[4].log: inputs.cuont is not declared; declare it under inputs; did you "
        "mean 'count'?",
        f"{f}:14:43: finally[0].cancel.if_running: expected a boolean or a template, got the string 'maybe'",
    ]
    assert str(caught.value).endswith("\n8 problems found")


def test_a_problem_shows_the_line_it_is_on(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "version: 1\nname: t\nsteps:\n  - sigal: {workflow: x}\n")
    with pytest.raises(InvalidPlaybook) as caught:
        load(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:4:5: steps[0].sigal: unknown key 'sigal'; did you mean 'signal'?\n"
        "   4 |   - sigal: {workflow: x}\n"
        "     |     ^"
    ]


def test_the_spec_example_is_valid(tmp_path: Path) -> None:
    playbook = load(write(tmp_path, "order.yaml", SPEC_EXAMPLE))
    assert playbook.name == "Order smoke test"
    assert playbook.description == "Places an order, pays it, checks it ships."
    assert playbook.tags == ("smoke",)
    assert playbook.connection == {"namespace": "default"}
    assert list(playbook.inputs) == ["customer", "api_token"]
    assert playbook.vars == {"order_id": "order-{{ uuid() }}"}
    assert [s.kind for s in playbook.steps] == [
        "create",
        "start",
        "signal",
        "query",
        "assert",
        "update",
        "await_result",
        "assert",
    ]
    assert [(s.kind, s.fields) for s in playbook.finally_steps] == [
        ("terminate", {"workflow": "order", "reason": "smoke test cleanup", "if_running": True})
    ]
    assert playbook.line_of(("steps", 3)) == 29
    assert playbook.line_of(("steps", 3, "retry", "until")) == 31
    assert playbook.line_of(("steps", 99)) == 21  # the deepest node that exists: the list


EXAMPLES = sorted((ROOT / "playbooks").rglob("*.yaml")) if (ROOT / "playbooks").is_dir() else []


def test_every_example_playbook_is_valid() -> None:
    for example in EXAMPLES:
        assert problems_of(example) == [], example


SCOPES = """\
version: 1
name: scopes that work
inputs:
  customers: {type: array, default: [alice, bob]}
vars:
  first: one
  second: "{{ vars.first }}-two"
steps:
  - id: a
    create: {type: A, task_queue: q, id_conflict_policy: use_existing}
  - parallel:
      steps:
        - id: b
          create: {type: B, task_queue: q}
        - signal: {workflow: a, signal: go}
  - start: {workflow: b}
  - update_with_start: {workflow: a, update: u}
  - id: loop
    foreach:
      items: "{{ inputs.customers }}"
      as: customer
      steps:
        - id: c
          create: {type: C, task_queue: q, workflow_id: "c-{{ customer }}-{{ index }}"}
        - start: {workflow: c}
        - id: inner
          query: {workflow: c, query: q}
        - assert: steps.inner.result == 1
  - set: {later: "{{ steps.loop.result }}"}
  - log: "{{ vars.later }} {{ vars.second }}"
  - id: existing
    create: {workflow_id: "{{ inputs.customers[0] }}"}
  - signal: {workflow: existing, signal: s}
  - await_result: {workflow: a}
    expect: {status: completed}
  - describe: {workflow: a}
    expect: {status: failed, error: {type: X}}
  - when: inputs.customers | length > 1
    retry: {until: "result.status == 'running'", timeout: "{{ 5 }}", interval: 1s}
    describe: {workflow: b}
finally:
  - id: d
    create: {type: D, task_queue: q}
  - terminate: {workflow: a, if_running: true}
  - terminate: {workflow: b, if_running: true}
  - terminate: {workflow: d, if_running: true}
"""


def test_scopes_that_work_are_valid(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "ok.yaml", SCOPES)) == []


def test_validate_works_on_a_source_without_a_file() -> None:
    source = load_text("version: 1\nname: t\nsteps:\n  - sleep: 1s\n  - sleep: 1 s\n", "inline")
    assert [head(p) for p in validate(source)] == [
        "inline:5:12: steps[1].sleep: '1 s' is not a duration; a duration is like 500ms, 10s, "
        "1m30s, 2h, 1d, PT10S, or a number of seconds"
    ]


def test_template_refs() -> None:
    refs = template_refs("{{ steps.a.result }} {{ inputs['b'] }} {{ uuid() }} {{ item }}")
    assert refs.attributes == {("steps", "a"), ("inputs", "b")}
    assert refs.calls == {"uuid"}
    assert refs.names == {"steps", "inputs", "uuid", "item"}
    assert template_refs("x ==", expression=True).names == frozenset()


def test_includes_are_loaded_and_checked(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    write(
        tmp_path,
        "common/place.yaml",
        "version: 1\nname: place\ninputs:\n  who: {type: string, required: true}\n"
        "  n: {type: integer, default: 1}\nsteps:\n  - log: '{{ inputs.who }}'\n",
    )
    main = write(
        tmp_path,
        "main.yaml",
        "version: 1\nname: main\nsteps:\n"
        "  - include: {playbook: common/place.yaml, inputs: {who: alice}}\n"
        "  - include: {playbook: common/place.yaml, inputs: {who: '{{ 1 }}', n: x}}\n",
    )
    with pytest.raises(InvalidPlaybook) as caught:
        load(main)
    assert [head(p) for p in caught.value.problems] == [
        f"{main}:5:72: steps[1].include.inputs.n: input 'n' of {tmp_path}/common/place.yaml: "
        "'x' is not an integer; give a value of its type"
    ]
    write(tmp_path, "main.yaml", main.read_text().replace("n: x", "n: 2"))
    playbook = load(main)
    assert playbook.included("common/place.yaml").name == "place"


def test_load_many_reports_every_file(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", "version: 1\nname: g\nsteps:\n  - log: hi\n")
    bad1 = write(tmp_path, "bad1.yaml", "version: 1\nname: b\nsteps:\n  - lg: hi\n")
    bad2 = write(tmp_path, "bad2.yaml", "version: 1\nsteps:\n  - log: hi\n")
    with pytest.raises(InvalidPlaybook) as caught:
        load_many([good, bad1, bad2])
    assert [head(p) for p in caught.value.problems] == [
        f"{bad1}:4:5: steps[0].lg: unknown key 'lg'; did you mean 'log'?",
        f"{bad2}:1:1: missing required key 'name'",
    ]
    assert [p.name for p in load_many([good, good])] == ["g", "g"]


def test_load_checks_inputs_when_given(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "in.yaml",
        "version: 1\nname: i\ninputs:\n  count: {type: integer, required: true}\n"
        "steps:\n  - log: hi\n",
    )
    assert isinstance(load(path), Playbook)
    assert load(path, inputs={"count": "5"}, inputs_from_cli=True).input_values == {"count": 5}
    with pytest.raises(InvalidInputs) as caught:
        load(path, inputs={"cuont": "5"}, inputs_from_cli=True)
    assert caught.value.problems == [
        "unknown input 'cuont'; did you mean 'count'?",
        "input 'count': missing required input; give it with -i count=VALUE or in --inputs-file",
    ]
    assert load(path, inputs={}, allow_missing_inputs=True).input_values == {}


NAMES_THAT_WORK = """\
version: 1
name: names that work
vars: {greeting: "{{ 'hello' | upper }}"}
inputs: {customers: {type: array, default: [alice, bob]}}
steps:
  - id: outer
    foreach:
      items: "{{ inputs.customers | select('string') | map('lower') | list }}"
      as: customer
      concurrency: "{{ inputs.customers | length }}"
      steps:
        - log: "{{ customer }} {{ index }} {{ vars.greeting }}"
        - parallel:
            steps:
              - foreach:
                  items: "{{ [customer] }}"
                  steps:
                    - log: "{{ customer }} {{ item }} {{ index }}"
                      when: item is string and customer is defined
        - include: {playbook: inner.yaml, inputs: {who: "{{ customer }}"}}
  - id: count
    log: "{% set n = 1 %}{% for c in inputs.customers %}{{ c }}{{ loop.index }}{% endfor %}{{ n }}"
    retry: {until: "result is none or result | length > 0", timeout: "{{ '2s' }}"}
  - log: "{{ uuid() }} {{ now() }} {{ range(2) | list }} {{ dict(a=1) }} {{ namespace(a=1).a }}"
  - log: "{{ env.HOME | default('') }} {{ run.id }} {{ steps.count.result }}"
  - log: "{% if steps.count.result is none %}{{ steps.count.result | to_json }}{% endif %}"
"""
INNER = (
    "version: 1\nname: inner\ninputs:\n  who: {type: string}\nsteps:\n  - log: '{{ inputs.who }}'\n"
)


def test_names_and_filters_that_work_are_valid(tmp_path: Path) -> None:
    """Loop variables inside their foreach (also through parallel and nested loops, and in
    an include's inputs), ``result`` in retry.until, a template's own names, the globals,
    and filters and tests of the sandbox, also by name in select and map."""
    write(tmp_path, "inner.yaml", INNER)
    assert problems_of(write(tmp_path, "ok.yaml", NAMES_THAT_WORK)) == []


def test_template_refs_name_filters_tests_and_free_names() -> None:
    refs = template_refs(
        "{% set n = 1 %}{% for c in vars.xs | map('uper') %}{{ c | fmt }}{{ n }}{% endfor %}"
        "{% if ok %}{{ order_id | later }}{% endif %}{{ x is palindrome }}"
        "{{ [1] | selectattr('a', 'odd') | reject('evn') | list }}"
    )
    assert refs.free == {"vars", "ok", "order_id", "x"}
    assert refs.filters == {"map", "uper", "fmt", "later", "selectattr", "reject", "list"}
    assert refs.tests == {"palindrome", "odd", "evn"}
    assert template_refs("x ==", expression=True).free == frozenset()


def test_an_included_playbook_does_not_see_the_loop_variable(tmp_path: Path) -> None:
    """An included playbook has its own names: a loop variable of the including foreach
    is not one of them."""
    write(tmp_path, "inner.yaml", "version: 1\nname: inner\nsteps:\n  - log: '{{ customer }}'\n")
    main = write(
        tmp_path,
        "main.yaml",
        "version: 1\nname: main\nsteps:\n  - foreach:\n      items: [a]\n      as: customer\n"
        "      steps:\n        - include: {playbook: inner.yaml}\n",
    )
    assert problems_of(main) == [
        f"{tmp_path}/inner.yaml:4:10: steps[0].log: customer is not defined; here a template "
        "can read inputs, vars, env, steps and run, and call dict(), namespace(), now(), "
        "range() and uuid()"
    ]


def test_run_refuses_an_unknown_filter_before_connecting(tmp_path: Path) -> None:
    """``run`` validates first: exit 2, nothing connects (the address would refuse)."""
    path = write(
        tmp_path,
        "greet.yaml",
        "version: 1\nname: greet\nvars:\n  who: world\nsteps:\n"
        '  - log: "{{ vars.who | format_greeting }}"\n',
    )
    done = subprocess.run(
        [sys.executable, "-m", "playbook", "run", str(path), "--address", "127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: {path}:6:10: steps[0].log: no filter named 'format_greeting'; the filters are "
        "Jinja's built-in ones and to_json, from_json and duration",
        '   6 |   - log: "{{ vars.who | format_greeting }}"',
        "     |          ^",
        "1 problem found",
    ]
