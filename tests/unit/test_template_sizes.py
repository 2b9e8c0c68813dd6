"""Template limits hold before a value is built, and numbers of any size are refused cleanly.

Each hostile template below would allocate a gigabyte or more if it ran; the refusal is
proven to come first by the memory allocated while rendering (``tracemalloc``), not by
timing, which a loaded machine cannot promise.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from playbook.errors import TemplateError, TemplateSecurityError
from playbook.templating import check_template, evaluate, render

WHERE = "step 's' (steps[0]), field log"
LONG = f"{WHERE}: the result would be longer than 1000000 characters"
LARGE = f"{WHERE}: the result would be larger than 1000000 items"
DIGITS = f"{WHERE}: the result would be a number with more than 4300 digits"
UNWRITABLE = f"{WHERE}: a number with more than 4300 digits is too long to turn into text or back"
PEAK = 64 * 1024 * 1024  # far below the gigabytes these would build, above any honest step


@pytest.fixture
def context() -> dict[str, Any]:
    return {
        "inputs": {},
        "vars": {"big": "x" * 600_000, "small": "abc"},
        "env": {},
        "steps": {},
        "run": {},
    }


def refused_unbuilt(template: str, context: dict[str, Any]) -> str:
    """The refusal of ``template``, after checking that it allocated less than PEAK."""
    tracemalloc.start()
    try:
        with pytest.raises(TemplateSecurityError) as info:
            render(template, context, where=WHERE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK, f"{peak / 2**20:.0f} MB allocated before the refusal"
    return str(info.value)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        # a width or a precision
        ("{{ '{:>1000000000}'.format('x') }}", LONG),
        ("{{ '{:>{}}'.format('x', 10**9) }}", LONG),
        ("{{ '{0:.999999999f}'.format(1.5) }}", LONG),
        ("{{ '{a}{a}{a}'.format_map({'a': vars.big}) }}", LONG),
        ("{{ '%1000000000s' % 'x' }}", LONG),
        ("{{ '%.1000000000f' % 1.0 }}", LONG),
        ("{{ '%*s' % (1000000000, 'x') }}", LONG),
        ("{{ '%(a)s%(a)s' % {'a': vars.big} }}", LONG),
        ("{{ '%999999999s' | format('x') }}", LONG),
        ("{{ '%s%s' | format(vars.big, vars.big) }}", LONG),
        ("{{ 'x' | center(1000000000) }}", LONG),
        ("{{ 'x'.ljust(1000000000) }}", LONG),
        ("{{ (1).to_bytes(1000000000, 'big') }}", LONG),
        # a part repeated for every line, match or item
        ("{{ ('a\\nb' * 200000) | indent(999999) }}", LONG),
        ("{{ ('a\\nb' * 200000) | indent('x' * 999999) }}", LONG),
        ("{{ ('x' * 1000) | replace('x', 'y' * 999999) }}", LONG),
        ("{{ ('x' * 1000).replace('x', 'y' * 999999) }}", LONG),
        ("{{ ('x' * 999) | list | join('y' * 999999) }}", LONG),
        ("{{ ('x' * 999) | map('upper') | join('y' * 999999) }}", LONG),
        ("{{ ('y' * 999999).join('x' * 1000) }}", LONG),
        ("{{ ('\t' * 999999).expandtabs(999999) }}", LONG),
        ("{{ ('x' * 1000).translate({120: 'y' * 999999}) }}", LONG),
        ("{{ ('a ' * 300000) | wordwrap(1, wrapstring='x' * 1000) }}", LONG),
        ("{{ ('www.a.co ' * 100000) | urlize(target='x' * 100000) }}", LONG),
        ("{{ [[[[1]]]] | tojson(indent=999999) }}", LONG),
        ("{{ {'a': [1]} | to_json(indent=999999) }}", LONG),
        # repetition
        ("{{ 'x' * 1000000000 }}", LONG),
        ("{{ 'x'.encode() * 1000000000 }}", LONG),
        ("{{ [vars.big] * 300 }}", LARGE),
        # padding
        ("{{ [1] | slice(999999, 'x') | list }}", LARGE),
        ("{{ [1] | batch(999999, 'x') | list }}", LARGE),
        # every reference counts
        ("{{ [vars.big, vars.big] }}", LARGE),
        ("{{ {'a': vars.big, 'b': vars.big} }}", LARGE),
    ],
)
def test_a_template_is_refused_before_its_result_is_built(
    template: str, message: str, context: dict[str, Any]
) -> None:
    assert refused_unbuilt(template, context) == message


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ '{:>6}|{:<3}|{:^5}'.format('ab', 'c', 'd') }}", "    ab|c  |  d  "),
        ("{{ '{:,}'.format(1234567) }}", "1,234,567"),
        ("{{ '{:08.3f}'.format(3.14159) }}", "0003.142"),
        ("{{ '{a}-{b}'.format_map({'a': 1, 'b': 2}) }}", "1-2"),
        ("{{ '%05.1f|%-4s|%%' % (2.25, 'ab') }}", "002.2|ab  |%"),
        ("{{ '%(n)03d' % {'n': 7} }}", "007"),
        ("{{ '%s and %s' | format('a', 'b') }}", "a and b"),
        ("{{ 'x' | center(5) }}", "  x  "),
        ("{{ 'a\nb' | indent(2, true) }}", "  a\n  b"),
        ("{{ 'hello' | replace('l', 'L', 1) }}", "heLlo"),
        ("{{ [1, 2, 3] | join(', ') }}", "1, 2, 3"),
        ("{{ ['a', 'b'] | map('upper') | join }}", "AB"),
        ("{{ '-'.join(['a', 'b']) }}", "a-b"),
        ("{{ 'a\tb'.expandtabs(4) }}", "a   b"),
        ("{{ 'ab'.translate({97: 'xy'}) }}", "xyb"),
        ("{{ 'one two three' | wordwrap(7) }}", "one two\nthree"),
        ("{{ [1, [2]] | to_json(indent=1) }}", "[\n 1,\n [\n  2\n ]\n]"),
        ("{{ [1, 2, 3, 4, 5] | batch(2, 0) | list }}", [[1, 2], [3, 4], [5, 0]]),
        ("{{ [1, 2, 3, 4, 5] | slice(2) | list }}", [[1, 2, 3], [4, 5]]),
        ("{{ 'x' * 999999 }}", "x" * 999_999),
        ("{{ [vars.small] * 3 }}", ["abc", "abc", "abc"]),
    ],
)
def test_ordinary_formatting_is_untouched(
    template: str, expected: Any, context: dict[str, Any]
) -> None:
    assert render(template, context) == expected


def test_a_rendered_value_weighs_every_reference(context: dict[str, Any]) -> None:
    # 300 templates that each give the same 1 MB string would write out 300 MB
    with pytest.raises(TemplateSecurityError) as info:
        render({"items": ["{{ vars.big }}"] * 300}, context, where=WHERE)
    assert str(info.value) == (f"{WHERE}.items[1]: the result would be larger than 1000000 items")
    with pytest.raises(TemplateSecurityError) as info:
        render(["{{ vars.big }}", {"again": "{{ vars.big }}"}], context, where=WHERE)
    assert str(info.value) == (f"{WHERE}[1].again: the result would be larger than 1000000 items")
    # plain strings count too: a YAML alias repeats its value without costing the file
    big = context["vars"]["big"]
    with pytest.raises(TemplateSecurityError) as info:
        render([big, big, "{{ 1 }}"], context, where=WHERE)
    assert str(info.value) == f"{WHERE}[1]: the result would be larger than 1000000 items"
    assert render(["{{ vars.big }}", "{{ vars.small }}"], context) == [big, "abc"]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 10 ** 4300 }}", DIGITS),
        ("{{ -(10 ** 4300) }}", DIGITS),
        ("{{ (10 ** 30000) | round }}", DIGITS),
        ("{{ (10 ** 30000) | int }}", DIGITS),
        ("{{ [1, 10 ** 5000] }}", DIGITS),
        ("{{ {'n': 10 ** 5000} }}", DIGITS),
        ("{{ '%d' % 10 ** 5000 }}", UNWRITABLE),
        ("{{ (10 ** 5000) ~ '' }}", UNWRITABLE),
        ("{{ '{}'.format(10 ** 5000) }}", UNWRITABLE),
        ("{{ (10 ** 5000) | string }}x", UNWRITABLE),
        ("n = {{ 10 ** 5000 }}", UNWRITABLE),
        ("{{ [10 ** 5000] | to_json }}", UNWRITABLE),
    ],
)
def test_a_number_too_long_to_write_out_is_refused(
    template: str, message: str, context: dict[str, Any]
) -> None:
    assert refused_unbuilt(template, context) == message


def test_numbers_up_to_the_limit_are_values(context: dict[str, Any]) -> None:
    assert render("{{ 10 ** 4299 }}", context) == 10**4299  # 4,300 digits
    assert render("{{ -(10 ** 4299) }}", context) == -(10**4299)
    assert render("{{ (10 ** 30000) % 7 }}", context) == 10**30000 % 7
    assert render("{{ (10 ** 4299) | string | length }}", context) == 4300
    assert render("{{ 1e308 * 10 }}", context) == float("inf")


def test_a_long_integer_literal_is_a_syntax_error(context: dict[str, Any]) -> None:
    decimal = "{{ 1" + "0" * 5000 + " }}"
    hexadecimal = "{{ 0x" + "f" * 4000 + " }}"
    message = "template syntax error: a number has more than 4300 digits"
    assert check_template(decimal) == message
    assert check_template(hexadecimal) == message
    with pytest.raises(TemplateError) as info:
        render(decimal, context, where=WHERE)
    assert str(info.value) == f"{WHERE}: {message}"


def test_an_expression_giving_a_long_number_is_refused(context: dict[str, Any]) -> None:
    with pytest.raises(TemplateSecurityError) as info:
        evaluate("10 ** 5000", context, where="step 'a' (steps[0]), field assert")
    assert str(info.value) == (
        "step 'a' (steps[0]), field assert: the result would be a number with more than 4300 digits"
    )
    assert evaluate("10 ** 5000 > 1", context) is True
