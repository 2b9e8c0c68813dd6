"""Templating: native types, messages that name things, the sandbox and its limits."""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from playbook.errors import TemplateError, TemplateSecurityError
from playbook.templating import (
    check_expression,
    check_template,
    evaluate,
    is_template,
    referenced_names,
    render,
    timing,
    truthy,
)

WHERE = "step 'status' (steps[3]), field query.args[0]"
INTERNALS = "use the values in inputs, vars, env, steps and run"


@pytest.fixture
def context() -> dict[str, Any]:
    return {
        "inputs": {"count": 3, "name": "orders"},
        "vars": {"code": "007", "items": [1, 2, 3], "order": {"id": "o-1", "_id": 9}},
        "env": {"HOME": "/home/me"},
        "steps": {"start": {"result": {"lines": [{"sku": "a"}, {"sku": "b"}]}}},
        "run": {"id": "run-1", "playbook": "smoke", "started_at": "2026-01-01T00:00:00+00:00"},
    }


def fails(value: Any, context: dict[str, Any], *, where: str = WHERE) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render(value, context, where=where)
    return info.value


def refused(value: str, context: dict[str, Any]) -> str:
    with pytest.raises(TemplateSecurityError) as info:
        render(value, context, where=WHERE)
    return str(info.value)


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ vars.items }}", [1, 2, 3]),
        ("{{ vars.order }}", {"id": "o-1", "_id": 9}),
        ("{{ inputs.count }}", 3),
        ("{{ inputs.count / 2 }}", 1.5),
        ("{{ none }}", None),
        ("{{ true }}", True),
        ("{{ inputs.count > 5 }}", False),
        ("{{ vars.code }}", "007"),
        ("{{  inputs.count  }}", 3),
        ("  {{ inputs.count }}\n", 3),
        ("{{- inputs.count -}}", 3),
        ("{{ -1 }}", -1),
        ("{{ '}}' }}", "}}"),
        ("{{ vars.items | select('odd') }}", [1, 3]),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ {'a': (1, 2)} }}", {"a": [1, 2]}),
    ],
)
def test_a_lone_expression_keeps_its_type(
    template: str, expected: Any, context: dict[str, Any]
) -> None:
    result = render(template, context)
    assert result == expected
    assert type(result) is type(expected)


def test_a_string_that_looks_like_a_number_stays_a_string(context: dict[str, Any]) -> None:
    assert render("{{ vars.code }}", context) == "007"
    assert render("code {{ vars.code }}", context) == "code 007"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a {{ 1 }}", "a 1"),
        ("{{ 1 }} {{ 2 }}", "1 2"),
        ("{{ inputs.count }}{# why #}", "3"),
        ("{% if inputs.count %}yes{% endif %}", "yes"),
        ("{% raw %}{{ x }}{% endraw %}", "{{ x }}"),
        ("{{ vars.items }}!", "[1, 2, 3]!"),
        ("line\n", "line\n"),
        ("{{ 1 }}\n{{ 2 }}\n", "1\n2\n"),
    ],
)
def test_other_templates_render_to_strings(
    template: str, expected: str, context: dict[str, Any]
) -> None:
    assert render(template, context) == expected


def test_non_templates_are_returned_as_they_are(context: dict[str, Any]) -> None:
    assert render("plain { text }", context) == "plain { text }"
    for value in (1, 2.5, None, True):
        assert render(value, context) is value


def test_mappings_and_lists_are_rendered_recursively(context: dict[str, Any]) -> None:
    value = {
        "{{ keys }}": "left alone",
        "args": ["{{ inputs.count }}", "n={{ inputs.count }}", 7, None, {"x": "{{ vars.code }}"}],
    }
    assert render(value, context) == {
        "{{ keys }}": "left alone",
        "args": [3, "n=3", 7, None, {"x": "007"}],
    }


def test_errors_inside_a_structure_name_the_item(context: dict[str, Any]) -> None:
    error = fails({"args": ["ok", "{{ nope }}"]}, context, where="step 'a' (steps[0]), field query")
    assert str(error) == (
        "step 'a' (steps[0]), field query.args[1]: "
        "'nope' is undefined (available: env, inputs, run, steps, vars)"
    )
    assert error.where == "step 'a' (steps[0]), field query.args[1]"


def test_loops_keep_working(context: dict[str, Any]) -> None:
    template = (
        "{% for x in vars.items %}{{ loop.index }}/{{ loop.length }}"
        "{% if not loop.last %},{% endif %}{% endfor %}"
    )
    assert render(template, context) == "1/3,2/3,3/3"
    assert render("{% for x in [] %}a{% else %}empty{% endfor %}", context) == "empty"
    assert render("{% for x in vars.items if x > 1 %}{{ x }}{% endfor %}", context) == "23"
    counted = "{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"
    assert render(counted, context) == "6"


def test_a_key_wins_over_a_method_of_the_same_name(context: dict[str, Any]) -> None:
    # Playbook data is JSON: `vars.items` is the key "items", not dict.items.
    assert render("{{ vars.items }}", context) == [1, 2, 3]
    assert render("{{ vars.order.items() | list }}", context) == [["id", "o-1"], ["_id", 9]]


def test_tilde_joins_strings(context: dict[str, Any]) -> None:
    assert render("{{ 'a' ~ inputs.count ~ none ~ vars.items }}", context) == "a3None[1, 2, 3]"


def test_is_template() -> None:
    assert is_template("{{ x }}")
    assert is_template("{% if x %}{% endif %}")
    assert is_template("a {# note #}")
    assert not is_template("a { b }")
    assert not is_template(3)
    assert not is_template(None)


# --------------------------------------------------------------------------- messages


def test_an_undefined_name_is_named(context: dict[str, Any]) -> None:
    error = fails("{{ foo }}", context)
    assert str(error) == f"{WHERE}: 'foo' is undefined (available: env, inputs, run, steps, vars)"
    assert type(error) is TemplateError
    assert error.where == WHERE


def test_an_undefined_name_in_a_string_template(context: dict[str, Any]) -> None:
    error = fails("id-{{ foo.bar }}", context)
    assert str(error) == f"{WHERE}: 'foo' is undefined (available: env, inputs, run, steps, vars)"


def test_the_line_is_given_in_a_multiline_template(context: dict[str, Any]) -> None:
    error = fails("first\n{{ foo }}\n", context)
    assert str(error) == (
        f"{WHERE}: line 2: 'foo' is undefined (available: env, inputs, run, steps, vars)"
    )


def test_available_names_follow_the_context() -> None:
    error = fails("{{ x }}", {"vars": {}, "item": 1, "index": 0})
    assert str(error) == f"{WHERE}: 'x' is undefined (available: index, item, vars)"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ vars.nope }}", "vars has no key 'nope' (it has: code, items, order)"),
        ("{{ vars['nope'] }}", "vars has no key 'nope' (it has: code, items, order)"),
        ("{{ vars._nope }}", "vars has no key '_nope' (it has: code, items, order)"),
        ("{{ env.nope }}", "env has no key 'nope' (it has: HOME)"),
        (
            "{{ steps.start.result.lines[1].qty }}",
            "steps.start.result.lines[1] has no key 'qty' (it has: sku)",
        ),
        (
            "{{ steps.start.result.lines[5] }}",
            "steps.start.result.lines has no item 5 (it has 2 items)",
        ),
        ("{{ vars.code.nope }}", "vars.code (a string) has no attribute 'nope'"),
        ("{{ [vars.nope] }}", "vars has no key 'nope' (it has: code, items, order)"),
        ("{{ {'a': 1}.b }}", "the mapping has no key 'b' (it has: a)"),
    ],
)
def test_an_undefined_attribute_says_of_what(
    template: str, message: str, context: dict[str, Any]
) -> None:
    assert str(fails(template, context)) == f"{WHERE}: {message}"


def test_a_key_that_starts_with_an_underscore_is_data(context: dict[str, Any]) -> None:
    assert render("{{ vars.order._id }}", context) == 9
    assert render("{{ vars.order['_id'] }}", context) == 9


def test_a_syntax_error_at_render_time(context: dict[str, Any]) -> None:
    assert str(fails("{{ x", context)) == (
        f"{WHERE}: template syntax error: "
        "unexpected end of template, expected 'end of print statement'."
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ inputs.name + 1 }}", 'can only concatenate str (not "int") to str'),
        (
            "{{ 'abc' | from_json }}",
            "from_json: not valid JSON: Expecting value: line 1 column 1 (char 0)",
        ),
        ("{{ uuid }}", "'uuid' is a function; call it, e.g. uuid()"),
        ("{% include 'other.yaml' %}", "no loader for this environment specified"),
    ],
)
def test_exceptions_become_template_errors(
    template: str, message: str, context: dict[str, Any]
) -> None:
    error = fails(template, context)
    assert type(error) is TemplateError
    assert str(error) == f"{WHERE}: {message}"


def test_without_where_the_message_stands_alone(context: dict[str, Any]) -> None:
    with pytest.raises(TemplateError) as info:
        render("{{ 1 / 0 }}", context)
    assert str(info.value) == "division by zero"


# --------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{{ ''.__class__ }}", "__class__"),
        ("{{ vars.__class__ }}", "__class__"),
        ("{{ vars['__class__'] }}", "__class__"),
        ("{{ uuid.__globals__ }}", "__globals__"),
        ("{{ ().__class__.__base__.__subclasses__() }}", "__class__"),
        ("{{ cycler.__init__.__globals__ }}", "cycler"),
        ("{{ self._TemplateReference__context }}", "_TemplateReference__context"),
        ("{{ lipsum }}", "lipsum"),
        ("{{ joiner() }}", "joiner"),
        ("{{ namespace.__init__.__globals__ }}", "__init__"),
        ("{{ config }}", "config"),
        ("{{ config.items() }}", "config"),
        ("{{ request.application }}", "request"),
        ("{{ __builtins__ }}", "__builtins__"),
        ("{{ vars | attr('__class__') }}", "__class__"),
        ("{{ '{0.__class__}'.format(1) }}", "__class__"),
        ("{{ vars.items | map(attribute='__class__') | list }}", "__class__"),
        ("{% set x = vars.__class__ %}", "__class__"),
        ("{{ now.__globals__ }}", "__globals__"),
    ],
)
def test_python_internals_are_out_of_reach(
    template: str, name: str, context: dict[str, Any]
) -> None:
    assert refused(template, context) == (
        f"{WHERE}: templates cannot access Python internals ('{name}'); {INTERNALS}"
    )


def test_internals_are_refused_in_expressions_too(context: dict[str, Any]) -> None:
    with pytest.raises(TemplateSecurityError) as info:
        evaluate("''.__class__.__mro__", context, where="step 'a' (steps[0]), field when")
    assert str(info.value) == (
        f"step 'a' (steps[0]), field when: "
        f"templates cannot access Python internals ('__class__'); {INTERNALS}"
    )


def test_values_cannot_be_changed(context: dict[str, Any]) -> None:
    assert refused("{{ vars.items.append(4) }}", context) == (
        f"{WHERE}: templates cannot change values ('append' of a list); build a new value instead"
    )
    assert context["vars"]["items"] == [1, 2, 3]


def test_safe_helpers_remain(context: dict[str, Any]) -> None:
    assert render("{{ dict(a=1) }}", context) == {"a": 1}
    assert render("{% set ns = namespace(a=2) %}{{ ns.a }}", context) == "2"
    assert render("{{ vars.items | join('-') | upper }}", context) == "1-2-3"
    assert render("{{ vars.items is sequence }}", context) is True


# --------------------------------------------------------------------------- resources


def refused_quickly(template: str, context: dict[str, Any], within: float = 1.0) -> str:
    # Timed without a tracer: under coverage's (CI runs the suite under it) rendering is up to
    # seven times slower, enough to reach the time budget before the limit under test. The
    # cost: coverage does not see the limits these calls reach.
    tracer = sys.gettrace()
    sys.settrace(None)
    try:
        started = time.monotonic()
        message = refused(template, context)
        elapsed = time.monotonic() - started
    finally:
        sys.settrace(tracer)
    assert elapsed < within
    return message


def test_a_huge_range_is_refused(context: dict[str, Any]) -> None:
    assert refused_quickly("{{ range(10**9) | length }}", context) == (
        f"{WHERE}: range() would have 1000000000 items; the limit is 100000"
    )
    assert render("{{ range(100000) | length }}", context) == 100000


def test_a_huge_string_is_refused(context: dict[str, Any]) -> None:
    assert refused_quickly("{{ 'x' * 10**9 }}", context) == (
        f"{WHERE}: the result would be longer than 1000000 characters"
    )
    assert refused_quickly("{{ ('x' * 600000) ~ ('y' * 600000) }}", context) == (
        f"{WHERE}: the result would be longer than 1000000 characters"
    )
    assert refused_quickly("{{ 'x'.center(10**9) }}", context) == (
        f"{WHERE}: the result would be longer than 1000000 characters"
    )


def test_a_huge_list_is_refused(context: dict[str, Any]) -> None:
    assert refused_quickly("{{ [0] * 10**8 }}", context) == (
        f"{WHERE}: the result would be larger than 1000000 items"
    )
    assert refused_quickly("{{ ([0] * 600000) + ([0] * 600000) }}", context) == (
        f"{WHERE}: the result would be larger than 1000000 items"
    )
    # nesting counts: 1000 references to a 1000-item list write out a million items
    assert refused_quickly("{{ [[0] * 1000] * 1001 }}", context) == (
        f"{WHERE}: the result would be larger than 1000000 items"
    )


def test_shared_references_cannot_blow_up_the_output(context: dict[str, Any]) -> None:
    # Each render builds a 999,999-item list and weighs it: a few tenths of a second, more
    # on a loaded machine. The bound only says "not the minutes that writing out 10 million
    # items would take"; tests/unit/test_template_sizes.py proves by the memory used that
    # refusals come before the value is built.
    template = "{% set a = [0] * 999999 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}"
    assert refused_quickly(template + "{{ b }}", context, within=5.0) == (
        f"{WHERE}: template output is larger than 1000000 characters"
    )
    assert refused_quickly(template + "{{ b | string }}", context, within=5.0) == (
        f"{WHERE}: the result would be larger than 1000000 items"
    )
    assert refused_quickly(template + "{{ b ~ '' }}", context, within=5.0) == (
        f"{WHERE}: the result would be longer than 1000000 characters"
    )
    context["vars"]["big"] = [0] * 999_999
    assert refused_quickly("{{ [vars.big, vars.big] }}", context, within=5.0) == (
        f"{WHERE}: the result would be larger than 1000000 items"
    )
    tracer = sys.gettrace()  # (under coverage's tracer this render reaches the time budget)
    sys.settrace(None)
    try:
        assert len(render("{{ vars.big }}", context)) == 999_999
    finally:
        sys.settrace(tracer)


def test_huge_powers_are_refused(context: dict[str, Any]) -> None:
    assert refused_quickly("{{ 9 ** (9 ** 9) }}", context) == (
        f"{WHERE}: the result would be a number larger than 100000 bits"
    )
    assert refused_quickly("{{ (2 ** 90000) * (2 ** 90000) }}", context) == (
        f"{WHERE}: the result would be a number larger than 100000 bits"
    )
    # Jinja's ** is left-associative: 9**9**9 is (9**9)**9, a 78-digit number, and fine.
    assert render("{{ 9**9**9 }}", context) == (9**9) ** 9


def test_too_much_output_is_refused(context: dict[str, Any]) -> None:
    template = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    assert refused_quickly(template, context, within=2.5) == (
        f"{WHERE}: template output is larger than 1000000 characters"
    )


def test_a_loop_without_output_runs_out_of_time(context: dict[str, Any]) -> None:
    template = (
        "{% for i in range(100000) %}{% for j in range(100000) %}"
        "{% set x = i %}{% endfor %}{% endfor %}done"
    )
    assert refused_quickly(template, context, within=2.5) == (
        f"{WHERE}: template took longer than 2s; simplify it"
    )


def test_runaway_recursion_runs_out_of_time(context: dict[str, Any]) -> None:
    template = (
        "{% macro f(n) %}{% if n %}{% set _ = f(n - 1) %}{% set _ = f(n - 1) %}"
        "{% endif %}{% endmacro %}{% set _ = f(40) %}"
    )
    assert refused_quickly(template, context, within=2.5) == (
        f"{WHERE}: template took longer than 2s; simplify it"
    )


def test_the_time_budget_holds_off_the_main_thread(
    context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timing, "TIME_BUDGET", 0.2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            render(
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                context,
            )
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert [type(e) for e in errors] == [TemplateSecurityError]
    assert str(errors[0]) == "template took longer than 0.2s; simplify it"


def test_an_overlong_template_is_refused(context: dict[str, Any]) -> None:
    assert refused("x" * 100_001 + "{{ 1 }}", context) == (
        f"{WHERE}: template is longer than 100000 characters"
    )
    assert check_template("{{ 1 }}" + "x" * 100_000) == "template is longer than 100000 characters"


# --------------------------------------------------------------------------- the alarm


@pytest.fixture
def sigalrm_free() -> Iterator[None]:
    """SIGALRM as a plain program has it (pytest-timeout borrows it); put back afterwards."""
    previous = signal.signal(signal.SIGALRM, signal.SIG_DFL)
    remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        signal.signal(signal.SIGALRM, previous)
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining, interval)


@pytest.mark.usefixtures("sigalrm_free")
def test_the_alarm_stops_what_the_checks_miss(
    context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Switch the cooperative checks off, so that only the SIGALRM backstop is left.
    monkeypatch.setattr(timing, "tick", lambda: None)
    monkeypatch.setattr(timing, "TIME_BUDGET", 0.3)
    # Some seconds of work without the alarm (pytest-timeout is off here, so no hang).
    template = (
        "{% for i in range(100000) %}{% for j in range(300) %}"
        "{% set x = i %}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    assert refused(template, context) == f"{WHERE}: template took longer than 0.3s; simplify it"
    assert time.monotonic() - started < 1.5
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.usefixtures("sigalrm_free")
def test_the_alarm_is_disarmed_after_a_render(context: dict[str, Any]) -> None:
    assert render("{{ inputs.count }}", context) == 3
    assert render("n={{ inputs.count }}", context) == "n=3"
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.usefixtures("sigalrm_free")
def test_someone_elses_alarm_is_left_alone(context: dict[str, Any]) -> None:
    def theirs(signum: int, frame: object) -> None:
        raise AssertionError("their alarm fired")

    signal.signal(signal.SIGALRM, theirs)
    assert render("{{ inputs.count }}", context) == 3
    assert signal.getsignal(signal.SIGALRM) is theirs
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --------------------------------------------------------------------------- helpers


def test_uuid(context: dict[str, Any]) -> None:
    first, second = render("{{ uuid() }}", context), render("{{ uuid() }}", context)
    pattern = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(pattern, first)
    assert first != second


def test_now(context: dict[str, Any]) -> None:
    value = render("{{ now() }}", context)
    assert isinstance(value, str)
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0)
    assert abs((datetime.now(moment.tzinfo) - moment).total_seconds()) < 5


def test_json_filters(context: dict[str, Any]) -> None:
    assert render("{{ vars.order | to_json }}", context) == '{"id":"o-1","_id":9}'
    assert render("{{ {'b': 1, 'a': 'é'} | to_json }}", context) == '{"b":1,"a":"é"}'
    assert render("{{ [1] | to_json(indent=2) }}", context) == "[\n  1\n]"
    assert render("{{ '{\"a\": [1, null]}' | from_json }}", context) == {"a": [1, None]}
    assert render("{{ (vars.order | to_json | from_json).id }}", context) == "o-1"
    assert str(fails("{{ vars.items | from_json }}", context)) == (
        f"{WHERE}: from_json expects a string, got a list"
    )
    assert str(fails("{{ {'a': vars.nope} | to_json }}", context)) == (
        f"{WHERE}: vars has no key 'nope' (it has: code, items, order)"
    )


def test_duration_filters(context: dict[str, Any]) -> None:
    assert render("{{ '1m30s' | duration }}", context) == 90.0
    assert render("{{ 'PT2S' | seconds }}", context) == 2.0
    assert render("{{ 5 | duration }}", context) == 5.0
    assert str(fails("{{ 'soon' | duration }}", context)) == (
        f"{WHERE}: duration filter: 'soon' is not a duration; a duration is like "
        "500ms, 10s, 1m30s, 2h, 1d, PT10S, or a number of seconds"
    )


# --------------------------------------------------------------------------- expressions


def test_evaluate(context: dict[str, Any]) -> None:
    assert evaluate("inputs.count > 2", context) is True
    assert evaluate("vars.items | length", context) == 3
    assert evaluate("vars.code", context) == "007"
    assert evaluate("steps.start.result.lines | map(attribute='sku') | list", context) == [
        "a",
        "b",
    ]
    assert evaluate(True, context) is True  # type: ignore[arg-type]


def test_evaluate_errors(context: dict[str, Any]) -> None:
    with pytest.raises(TemplateError) as info:
        evaluate("nope == 1", context, where="step 'a' (steps[0]), field when")
    assert str(info.value) == (
        "step 'a' (steps[0]), field when: "
        "'nope' is undefined (available: env, inputs, run, steps, vars)"
    )
    with pytest.raises(TemplateError) as info:
        evaluate("1 / 0", context, where="W")
    assert str(info.value) == "W: division by zero"
    with pytest.raises(TemplateError) as info:
        evaluate("{{ inputs.count }}", context, where="W")
    assert str(info.value) == (
        "W: expression syntax error: expected token ':', got '}' "
        "(write the expression without {{ }} or {% %})"
    )


def test_check_template() -> None:
    assert check_template("{{ inputs.count }}") is None
    assert check_template("plain") is None
    assert check_template("{% for x in y %}{{ x }}{% endfor %}") is None
    assert check_template("{{ x") == (
        "template syntax error: unexpected end of template, expected 'end of print statement'."
    )
    assert check_template("a\nb\n{% if %}") == (
        "template syntax error on line 3: Expected an expression, got 'end of statement block'"
    )
    assert check_template("{{ x | nosuchfilter }}") == (
        "template syntax error: No filter named 'nosuchfilter'."
    )


def test_check_expression() -> None:
    assert check_expression("inputs.count > 2 and vars.ok") is None
    assert check_expression("a b") == "expression syntax error: chunk after expression"
    assert check_expression("x +") == "expression syntax error: unexpected 'end of template'"
    assert check_expression("{{ x }}") == (
        "expression syntax error: expected token ':', got '}' "
        "(write the expression without {{ }} or {% %})"
    )


def test_referenced_names() -> None:
    template = "{{ vars.a }} {% for s in steps %}{{ s }} {{ uuid() }} {{ loop.index }}{% endfor %}"
    assert referenced_names(template) == {"vars", "steps"}
    assert referenced_names("{% set x = 1 %}{{ x }}{{ run.id }}") == {"run"}
    assert referenced_names("plain") == set()
    assert referenced_names("{{ broken") == set()
    assert referenced_names("inputs.a and range(3) | length > env.N", expression=True) == {
        "inputs",
        "env",
    }
    assert referenced_names("a b", expression=True) == set()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (None, False),
        (0, False),
        (0.0, False),
        (1, True),
        ("", False),
        ("false", True),
        ([], False),
        ([0], True),
        ({}, False),
        ({"a": 1}, True),
    ],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected
