"""yamlsource: YAML text -> JSON-typed data with positions, and every way it refuses input."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from playbook import yamlsource
from playbook.errors import InvalidPlaybook, Problem
from playbook.yamlsource import (
    MAX_FILE_BYTES,
    composer,
    excerpts,
    format_path,
    limits,
    load_file,
    load_text,
)

LOADERS = ["python"] + (["libyaml"] if yaml.__with_libyaml__ else [])


@pytest.fixture(params=LOADERS)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with each parser PyYAML offers here; libyaml's is the default."""
    name: str = request.param
    if name == "python":
        monkeypatch.setattr(composer, "Loader", composer.PythonLoader)
    yield name


def problems(text: str | bytes) -> list[Problem]:
    with pytest.raises(InvalidPlaybook) as caught:
        load_text(text, "p.yaml")
    return caught.value.problems


def only_problem(text: str | bytes) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


PLAYBOOK = """\
version: 1
name: Order smoke test
steps:
  - id: order
    create:
      type: OrderWorkflow
      args: [1, {sku: ABC}]
  - signal: {workflow: order, signal: add_item}
"""


# --- positions ---------------------------------------------------------------------------


def test_positions_of_values_in_nested_maps_and_lists(loader: str) -> None:
    source = load_text(PLAYBOOK, "p.yaml")
    assert source.positions == {
        (): (1, 1),
        ("version",): (1, 10),
        ("name",): (2, 7),
        ("steps",): (4, 3),
        ("steps", 0): (4, 5),
        ("steps", 0, "id"): (4, 9),
        ("steps", 0, "create"): (6, 7),
        ("steps", 0, "create", "type"): (6, 13),
        ("steps", 0, "create", "args"): (7, 13),
        ("steps", 0, "create", "args", 0): (7, 14),
        ("steps", 0, "create", "args", 1): (7, 17),
        ("steps", 0, "create", "args", 1, "sku"): (7, 23),
        ("steps", 1): (8, 5),
        ("steps", 1, "signal"): (8, 13),
        ("steps", 1, "signal", "workflow"): (8, 24),
        ("steps", 1, "signal", "signal"): (8, 39),
    }


def test_positions_of_keys(loader: str) -> None:
    source = load_text(PLAYBOOK, "p.yaml")
    assert source.key_positions == {
        ("version",): (1, 1),
        ("name",): (2, 1),
        ("steps",): (3, 1),
        ("steps", 0, "id"): (4, 5),
        ("steps", 0, "create"): (5, 5),
        ("steps", 0, "create", "type"): (6, 7),
        ("steps", 0, "create", "args"): (7, 7),
        ("steps", 0, "create", "args", 1, "sku"): (7, 18),
        ("steps", 1, "signal"): (8, 5),
        ("steps", 1, "signal", "workflow"): (8, 14),
        ("steps", 1, "signal", "signal"): (8, 31),
    }


def test_source_keeps_path_text_and_data() -> None:
    source = load_text(PLAYBOOK, "dir/p.yaml")
    assert source.path == "dir/p.yaml"
    assert source.text == PLAYBOOK
    assert source.data["steps"][0]["create"]["args"] == [1, {"sku": "ABC"}]


def test_position_of_an_empty_value_and_of_crlf_lines(loader: str) -> None:
    source = load_text("a:\r\nb: 2\r\n", "p.yaml")
    assert source.data == {"a": None, "b": 2}
    assert source.positions[("a",)] == (1, 3)
    assert source.positions[("b",)] == (2, 4)


def test_an_alias_value_is_located_at_the_alias() -> None:
    source = load_text("a: &x {k: 1}\nb: *x\n", "p.yaml")
    assert source.data == {"a": {"k": 1}, "b": {"k": 1}}
    assert source.positions[("b",)] == (2, 4)
    assert source.positions[("b", "k")] == (
        1,
        11,
    )  # inside the anchor: the only place it is written


def test_locate_falls_back_to_the_deepest_existing_prefix() -> None:
    source = load_text(PLAYBOOK, "p.yaml")
    assert source.locate(["steps", 1, "signal", "args", 0]) == (8, 13)
    assert source.locate(("steps", 7)) == (4, 3)
    assert source.locate(("steps", 0, "create", "type")) == (6, 13)
    assert source.locate(("nope", "deeper")) == (1, 1)
    assert source.locate(()) == (1, 1)


def test_excerpt_shows_the_line_and_a_caret() -> None:
    source = load_text("a: 1\nb:\n  name: again\n", "p.yaml")
    assert source.excerpt(3, 3) == "   3 |   name: again\n     |   ^"
    assert source.excerpt(9, 1) == "   9 | \n     | ^"


def test_excerpt_keeps_tabs_under_the_caret_and_cuts_long_lines() -> None:
    assert excerpts.excerpt(["a:\t'x' # c"], 1, 4) == "   1 | a:\t'x' # c\n     |   \t^"
    long = "k: " + "x" * 196 + "Y" + "x" * 200  # Y at column 200
    first, second = excerpts.excerpt([long], 1, 200).split("\n")
    assert first == "   1 | ..." + "x" * 60 + "Y" + "x" * 59 + "..."
    assert second.index("^") == first.index("Y")
    first, second = excerpts.excerpt([long], 1, 4).split("\n")
    assert first == "   1 | " + long[:120] + "..."
    assert second == "     |    ^"
    assert excerpts.excerpt(["a"], 12345, 1) == "12345 | \n      | ^"


def test_format_path() -> None:
    assert format_path(("steps", 2, "signal", "args")) == "steps[2].signal.args"
    assert format_path(()) == ""
    assert format_path((0, "a-b", "x.y")) == '[0].a-b["x.y"]'


# --- JSON types ---------------------------------------------------------------------------


def test_scalars_follow_the_yaml_1_2_core_schema() -> None:
    source = load_text(
        "date: 2024-01-02\n"
        "stamp: 2024-01-02T03:04:05Z\n"
        "yes_: yes\nno_: no\non_: on\noff_: off\n"
        "quoted_int: '12'\nquoted_bool: \"true\"\nquoted_null: 'null'\n"
        "int: 12\nneg: -3\nplus: +4\nzeros: 007\nhex: 0x1F\noct: 0o17\nunderscore: 1_000\n"
        "float: 1.5\nexp: 1e3\ndot: .5\ninf: .inf\nneginf: -.Inf\n"
        "null1: null\nnull2: ~\nnull3:\nNULL4: NULL\n"
        "t1: true\nt2: True\nt3: TRUE\nf1: false\nf2: False\nf3: FALSE\n"
        "literal: |\n  two\n  lines\n"
        "seven: 0x\n",
        "p.yaml",
    )
    assert source.data == {
        "date": "2024-01-02",
        "stamp": "2024-01-02T03:04:05Z",
        "yes_": "yes",
        "no_": "no",
        "on_": "on",
        "off_": "off",
        "quoted_int": "12",
        "quoted_bool": "true",
        "quoted_null": "null",
        "int": 12,
        "neg": -3,
        "plus": 4,
        "zeros": 7,
        "hex": 31,
        "oct": 15,
        "underscore": "1_000",
        "float": 1.5,
        "exp": 1000.0,
        "dot": 0.5,
        "inf": math.inf,
        "neginf": -math.inf,
        "null1": None,
        "null2": None,
        "null3": None,
        "NULL4": None,
        "t1": True,
        "t2": True,
        "t3": True,
        "f1": False,
        "f2": False,
        "f3": False,
        "literal": "two\nlines\n",
        "seven": "0x",
    }
    assert type(source.data["int"]) is int
    assert type(source.data["exp"]) is float


def test_nan_is_a_float() -> None:
    assert math.isnan(load_text("x: .nan\n").data["x"])


def test_standard_tags_convert() -> None:
    source = load_text(
        "a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!bool 'true'\ne: !!null ''\n"
        "f: !!map {k: v}\ng: !!seq [1]\n"
    )
    assert source.data == {
        "a": "12",
        "b": 12,
        "c": 1.0,
        "d": True,
        "e": None,
        "f": {"k": "v"},
        "g": [1],
    }


def test_a_standard_tag_on_a_value_it_does_not_fit() -> None:
    found = problems("a: !!int abc\nb: !!str [x]\nc: !!bool yes\n")
    assert [(p.line, p.column, p.path, p.message) for p in found] == [
        (1, 4, "a", "'abc' is not an integer; fix the value or remove the !!int tag"),
        (2, 4, "b", "the tag !!str does not fit a list; remove the tag"),
        (
            3,
            4,
            "c",
            "'yes' is not a boolean (true or false); fix the value or remove the !!bool tag",
        ),
    ]


def test_an_integer_too_long_for_python() -> None:
    problem = only_problem("a: " + "9" * 5000 + "\n")
    assert (problem.line, problem.column, problem.path) == (1, 4, "a")
    assert problem.message == (
        "the number '9999999999999999999999999999999999999...' is too large; "
        "quote it to keep it as a string"
    )


# --- keys -----------------------------------------------------------------------------------


def test_duplicate_key_names_the_first_line() -> None:
    problem = only_problem("version: 1\nname: x\nsteps:\n  - {}\nname: again\n")
    assert str(problem) == (
        "p.yaml:5:1: name: duplicate key 'name' (first defined at line 2); remove one of them\n"
        "   5 | name: again\n"
        "     | ^"
    )


def test_duplicate_keys_in_nested_mappings_are_all_reported() -> None:
    found = problems("a: {b: 1, b: 2}\nsteps:\n  - x: 1\n    x: 2\n")
    assert [str(p).split("\n")[0] for p in found] == [
        "p.yaml:1:11: a.b: duplicate key 'b' (first defined at line 1); remove one of them",
        "p.yaml:4:5: steps[0].x: duplicate key 'x' (first defined at line 3); remove one of them",
    ]


def test_plain_scalar_keys_keep_their_text() -> None:
    source = load_text("1: a\nnull: b\ntrue: c\n~: d\n0x1F: e\n'quoted': f\n")
    assert source.data == {"1": "a", "null": "b", "true": "c", "~": "d", "0x1F": "e", "quoted": "f"}


def test_keys_that_differ_only_in_quoting_are_duplicates() -> None:
    problem = only_problem("1: a\n'1': b\n")
    assert problem.message == "duplicate key '1' (first defined at line 1); remove one of them"


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (
            "? [a]\n: x\n",
            3,
            "mapping keys must be strings, not a list; write the key as plain text",
        ),
        (
            "? {a: 1}\n: x\n",
            3,
            "mapping keys must be strings, not a mapping; write the key as plain text",
        ),
        ("? \n: x\n", 2, "a mapping key is missing; write a key before the ':'"),
    ],
)
def test_complex_and_empty_keys_are_refused(
    loader: str, text: str, column: int, message: str
) -> None:
    problem = only_problem(text)
    assert (problem.line, problem.column, problem.path, problem.message) == (1, column, "", message)


def test_an_alias_of_a_scalar_is_a_key_and_of_a_list_is_not() -> None:
    assert load_text("a: &k name\nb: {*k : y}\n").data == {"a": "name", "b": {"name": "y"}}
    found = problems("a: &k [x]\nb: {*k : y}\n")
    assert [(p.line, p.column, p.path) for p in found] == [(2, 5, "b")]
    assert (
        found[0].message == "mapping keys must be strings, not a list; write the key as plain text"
    )


# --- tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!!python/object:os.system {}", "!!python/object:os.system"),
        ("!!python/object/apply:os.system [ls]", "!!python/object/apply:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!timestamp 2024-01-02", "!!timestamp"),
        ("!custom x", "!custom"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("! 12", "!"),
        ("!<tag:example.com,2024:thing> x", "tag:example.com,2024:thing"),
    ],
)
def test_tags_are_refused(value: str, shown: str) -> None:
    problem = only_problem(f"version: 1\nbad: {value}\n")
    assert (problem.line, problem.column, problem.path) == (2, 6, "bad")
    assert problem.message == (
        f"tags are not supported in playbooks (found {shown}); "
        "remove the tag and write the value as plain YAML"
    )


def test_a_tag_on_a_key_is_refused() -> None:
    problem = only_problem("!!binary aGk=: x\n")
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message.startswith("tags are not supported in playbooks (found !!binary)")


# --- merge keys ---------------------------------------------------------------------------


def test_merge_keys_explicit_keys_win_and_earlier_sources_win() -> None:
    source = load_text(
        "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  w: 0\n  <<: [*a, *b]\n  x: 3\n"
    )
    assert source.data["c"] == {"w": 0, "x": 3, "y": 1, "z": 2}
    assert list(source.data["c"]) == ["w", "y", "z", "x"]  # merged keys where `<<` stands
    assert source.positions[("c", "x")] == (6, 6)
    assert source.positions[("c", "y")] == (1, 17)  # where it was written, in the anchor
    assert source.key_positions[("c", "z")] == (2, 14)


def test_a_merge_of_a_single_mapping_and_a_quoted_merge_key() -> None:
    source = load_text("d: &d {x: 1}\ne: {<<: *d}\nf: {'<<': *d}\n")
    assert source.data == {"d": {"x": 1}, "e": {"x": 1}, "f": {"<<": {"x": 1}}}


def test_a_merge_of_something_not_a_mapping() -> None:
    problem = only_problem("c: {<<: 5}\n")
    assert (problem.line, problem.column, problem.path) == (1, 9, "c")
    assert problem.message == (
        "the merge key '<<' takes a mapping or a list of mappings, such as *defaults or "
        "[*a, *b]; fix the value, or quote '<<' to use it as an ordinary key"
    )


# --- documents and top level ---------------------------------------------------------------


def test_a_second_document_is_refused_at_its_start() -> None:
    problem = only_problem("version: 1\n---\nversion: 2\n")
    assert str(problem) == (
        "p.yaml:2:1: a second YAML document starts here; a playbook file holds one document: "
        "remove this '---' and what follows, or move it to a file of its own\n"
        "   2 | ---\n"
        "     | ^"
    )


def test_an_explicit_document_end_is_fine() -> None:
    assert load_text("---\nversion: 1\n...\n").data == {"version": 1}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", b""])
def test_an_empty_file(text: str | bytes) -> None:
    problem = only_problem(text)
    assert problem == Problem(
        "p.yaml",
        1,
        1,
        "",
        "the file is empty; a playbook needs at least version, name and steps",
    )
    assert problem.excerpt == ""


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "a string"), ("12\n", "a number"), ("~\n", "null")],
)
def test_the_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    problem = only_problem(text)
    assert (problem.line, problem.column, problem.path) == (1, 1, "")
    assert problem.message == (
        f"a playbook must be a mapping with version, name and steps, not {kind}; "
        "write it as 'key: value' lines, starting with 'version: 1'"
    )


# --- limits ---------------------------------------------------------------------------------


def test_a_text_over_the_size_limit_is_refused_before_parsing() -> None:
    text = "a: [" + "1," * (MAX_FILE_BYTES // 2) + "]"
    problem = only_problem(text)
    assert str(problem) == (
        f"p.yaml:1:1: the file is {len(text)} bytes, over the limit of 1000000 bytes; "
        "split it into smaller playbooks"
    )
    problem = only_problem(b"#" * (MAX_FILE_BYTES + 1))
    assert problem.message.startswith("the file is 1000001 bytes, over the limit")


def test_a_multibyte_text_is_measured_in_utf8_bytes() -> None:
    problem = only_problem("a: '" + "é" * 500_000 + "'")
    assert problem.message.startswith("the file is 1000005 bytes, over the limit")


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 10))
    with pytest.raises(InvalidPlaybook) as caught:
        load_file(big)
    assert [str(p) for p in caught.value.problems] == [
        f"{big}:1:1: the file is 1000010 bytes, over the limit of 1000000 bytes; "
        "split it into smaller playbooks"
    ]


BILLION_LAUGHS = (
    'lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def test_billion_laughs_is_refused_quickly(loader: str) -> None:
    started = time.perf_counter()
    problem = only_problem(BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0  # a guard, not a benchmark: expanding it would take hours
    # 74,733 values fit before f; f[0] brings 66,430 more, f[1] would pass 200,000.
    assert str(problem) == (
        "p.yaml:6:11: f[1]: too many nodes after alias expansion (more than 200000); "
        "the file is refused (billion-laughs protection)\n"
        "   6 | f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "     |           ^"
    )


def test_billion_laughs_through_merge_keys_is_refused_quickly() -> None:
    lines = ["a0: &a0 {k: [1, 2, 3, 4, 5, 6, 7, 8, 9]}"]
    for level in range(1, 12):
        keys = ", ".join(f"k{n}: *a{level - 1}" for n in range(9))
        lines.append(f"a{level}: &a{level} {{{keys}}}")
    started = time.perf_counter()
    problem = only_problem("\n".join(lines))
    assert time.perf_counter() - started < 1.0
    assert problem.message.startswith("too many nodes after alias expansion (more than 200000)")


def test_aliases_repeating_a_long_string_are_refused_quickly() -> None:
    # 30,000 aliases of a 700 KB string: a 940 KB file that is 21 GB of text written out
    text = "a: &a " + "x" * 700_000 + "\nb: [" + ", ".join(["*a"] * 30_000) + "]\n"
    started = time.perf_counter()
    problem = only_problem(text)
    assert time.perf_counter() - started < 5.0  # a guard: validating it would take minutes
    # the string counts 1 + 700,000 // 50 = 14,001 values: b[13] passes 200,000
    assert (problem.line, problem.column, problem.path) == (2, 57, "b[13]")
    assert problem.message == (
        "too many nodes after alias expansion (more than 200000); "
        "the file is refused (billion-laughs protection)"
    )
    assert load_text("a: &a " + "x" * 700_000 + "\nb: [*a]\n").data["b"] == ["x" * 700_000]


def test_too_many_plain_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_NODES", 5)
    assert load_text("a: [1, 2, 3]\n").data == {"a": [1, 2, 3]}  # 5 values, the mapping included
    problem = only_problem("a: [1, 2, 3]\nb: 4\n")
    assert (problem.line, problem.column, problem.path) == (2, 4, "b")
    assert problem.message == "too many nodes (more than 5); split the playbook into smaller ones"


def test_nesting_up_to_the_limit_is_fine(loader: str) -> None:
    depth = yamlsource.MAX_DEPTH
    data = load_text("a: " + "[" * depth + "]" * depth).data
    for _ in range(depth):
        data = data["a"] if isinstance(data, dict) else data[0]
    assert data == []


def test_nesting_deeper_than_the_limit_is_refused(loader: str) -> None:
    problem = only_problem("a: " + "[" * 150 + "]" * 150)
    assert (problem.line, problem.column, problem.path) == (1, 104, "")
    assert problem.message == "the data nests deeper than 100 levels; flatten it"


def test_nesting_deeper_than_the_limit_through_aliases_is_refused() -> None:
    chain = "a0: &a0 " + "[" * 60 + "]" * 60 + "\na1: &a1 " + "[" * 60 + "*a0" + "]" * 60
    problem = only_problem(chain)
    assert (problem.line, problem.column) == (2, 69)  # the alias, not the anchor's inside
    assert problem.path == "a1" + "[0]" * 60
    assert problem.message == "the data nests deeper than 100 levels; flatten it"


@pytest.mark.parametrize(
    ("text", "column"),
    [("a: &a [*a]\n", 8), ("a: &a {b: *a}\n", 11), ("a: &a {<<: *a}\n", 12), ("a: &a [[*a]]\n", 9)],
)
def test_a_recursive_alias_is_refused(text: str, column: int) -> None:
    problem = only_problem(text)
    assert (problem.line, problem.column) == (1, column)
    assert problem.message == (
        "recursive alias: this alias refers to a node that contains it; remove the alias"
    )


def test_a_duplicate_anchor_is_refused() -> None:
    problem = only_problem("a: &x 1\nb: &x 2\n")
    assert (problem.line, problem.column) == (2, 4)
    assert (
        problem.message
        == "duplicate anchor '&x' (first defined at line 1); give each anchor its own name"
    )


# --- encodings and bytes --------------------------------------------------------------------


def test_invalid_utf8_is_refused_at_the_first_bad_byte() -> None:
    problem = only_problem(b"a: 1\nb: caf\xc3\xa9 \xff\n")
    assert str(problem) == (
        "p.yaml:2:9: the file is not valid UTF-8 (byte 0xff); save it as UTF-8\n"
        "   2 | b: café \ufffd\n"
        "     |         ^"
    )


def test_a_nul_byte_is_refused() -> None:
    problem = only_problem(b"a: 1\nb: x\x00y\n")
    assert str(problem) == (
        "p.yaml:2:5: the file contains a NUL byte, which YAML does not allow; "
        "remove it (is this a binary file?)\n"
        "   2 | b: x\ufffdy\n"
        "     |     ^"
    )


def test_other_control_characters_are_refused() -> None:
    problem = only_problem("a: \x1b[31m\n")
    assert (problem.line, problem.column) == (1, 4)
    assert problem.message.startswith("the file contains the character U+001B, which YAML")


def test_a_utf8_bom_is_skipped() -> None:
    source = load_text(b"\xef\xbb\xbfa: 1\n")
    assert source.data == {"a": 1}
    assert source.positions[("a",)] == (1, 4)
    assert load_text("\ufeffa: 1\n").data == {"a": 1}


def test_utf16_is_refused() -> None:
    problem = only_problem("a: 1\n".encode("utf-16"))
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message == (
        "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
    )


# --- syntax errors --------------------------------------------------------------------------

SYNTAX = {
    "unclosed quote": (
        "version: 1\nname: 'Order\nsteps: []\n",
        (4, 1),
        {
            "python": "invalid YAML: found unexpected end of stream while scanning a quoted "
            "scalar (started at line 2, column 7); close the quote",
            "libyaml": "invalid YAML: found unexpected end of stream while scanning a quoted "
            "scalar (started at line 2, column 7); close the quote",
        },
    ),
    "bad indentation": (
        "version: 1\nsteps:\n  - id: a\n   name: b\n",
        (4, 4),
        {
            "python": "invalid YAML: expected <block end>, but found '<block mapping start>' "
            "while parsing a block collection (started at line 3, column 3); "
            "check the indentation of this line",
            "libyaml": "invalid YAML: did not find expected '-' indicator while parsing a block "
            "collection (started at line 3, column 3); check the indentation of this line",
        },
    ),
    "a tab": (
        "version: 1\nsteps:\n\t- id: a\n",
        (3, 1),
        {
            "python": "invalid YAML: found character '\\t' that cannot start any token while "
            "scanning for the next token; indent with spaces; YAML does not allow tabs there",
            "libyaml": "invalid YAML: found character that cannot start any token while "
            "scanning for the next token; indent with spaces; YAML does not allow tabs there",
        },
    ),
    "a colon in a value": (
        "name: a: b\n",
        (1, 8),
        {
            "python": "invalid YAML: mapping values are not allowed here; "
            "quote the value if it contains ': ', or fix the indentation",
            "libyaml": "invalid YAML: mapping values are not allowed in this context; "
            "quote the value if it contains ': ', or fix the indentation",
        },
    ),
    "an undefined alias": (
        "a: *nope\n",
        (1, 4),
        {
            "python": "invalid YAML: found undefined alias 'nope'; "
            "define the anchor (&name) before an alias (*name) uses it",
            "libyaml": "invalid YAML: found undefined alias 'nope'; "
            "define the anchor (&name) before an alias (*name) uses it",
        },
    ),
}


@pytest.mark.parametrize("case", list(SYNTAX))
def test_syntax_errors_are_located_and_rephrased(loader: str, case: str) -> None:
    text, (line, column), messages = SYNTAX[case]
    problem = only_problem(text)
    assert (problem.file, problem.line, problem.column, problem.path) == (
        "p.yaml",
        line,
        column,
        "",
    )
    assert problem.message == messages[loader]
    assert problem.excerpt == excerpts.excerpt(text.split("\n"), line, column)


def test_an_unclosed_flow_list_shows_its_excerpt(loader: str) -> None:
    problem = only_problem("a: [1, 2\n")
    assert problem.message.endswith("close the list with ']', or separate its items with ','")


def test_several_problems_are_reported_at_once() -> None:
    with pytest.raises(InvalidPlaybook) as caught:
        load_text("a: !!binary x\nb: 1\nb: 2\n", "p.yaml")
    assert str(caught.value).splitlines()[-1] == "2 problems found"
    assert [(p.line, p.path) for p in caught.value.problems] == [(1, "a"), (3, "b")]


# --- files ----------------------------------------------------------------------------------


def test_load_file_reads_a_playbook(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PLAYBOOK, encoding="utf-8")
    source = load_file(path)
    assert source.path == str(path)
    assert source.data["name"] == "Order smoke test"
    assert load_file(str(path)).positions == source.positions


def test_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InvalidPlaybook) as caught:
        load_file(missing)
    assert caught.value.problems == [
        Problem(str(missing), 1, 1, "", "the file does not exist; check the path")
    ]


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidPlaybook) as caught:
        load_file(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}:1:1: this is a directory, not a playbook file; give the path of a YAML file"
    ]


def test_an_unreadable_path() -> None:
    with pytest.raises(InvalidPlaybook) as caught:
        load_file("x" * 5000)
    assert caught.value.problems[0].message == (
        "the file cannot be read: File name too long; check the path"
    )


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_device_is_not_read() -> None:
    with pytest.raises(InvalidPlaybook) as caught:
        load_file("/dev/zero")
    assert [str(p) for p in caught.value.problems] == [
        "/dev/zero:1:1: this is a device, not a regular file; give the path of a YAML file"
    ]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RecursionError(), "the file nests too deeply to read; flatten it"),
        (ValueError("odd"), "the file cannot be read as YAML (odd); check its syntax"),
    ],
)
def test_anything_the_parser_raises_becomes_invalid_playbook(
    monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
) -> None:
    def explode(text: str) -> composer.Composer:
        raise error

    monkeypatch.setattr(composer, "Loader", explode)
    assert only_problem("a: 1\n") == Problem("p.yaml", 1, 1, "", message)


def test_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_bytes(b"a: 1\na: 2\n")
    with pytest.raises(InvalidPlaybook) as caught:
        load_file(path)
    assert str(caught.value.problems[0]).startswith(f"{path}:2:1: a: duplicate key 'a'")


# --- nothing escapes but InvalidPlaybook ------------------------------------------------------


def _load_or_refuse(text: str | bytes) -> None:
    try:
        source = load_text(text, "fuzz.yaml")
    except InvalidPlaybook as error:
        assert error.problems
        for problem in error.problems:
            assert problem.line >= 1 and problem.column >= 1
    else:
        assert isinstance(source.data, dict)


YAMLISH = st.text(alphabet=st.sampled_from(list("ab1 :-[]{},'\"&*!|>#?\n\t<.~%@`\\")), max_size=80)


@contextmanager
def parser(name: str) -> Iterator[None]:
    """Like the ``loader`` fixture, for hypothesis tests (which cannot take function fixtures)."""
    saved = composer.Loader
    composer.Loader = composer.PythonLoader if name == "python" else saved
    try:
        yield
    finally:
        composer.Loader = saved


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), YAMLISH))
def test_random_text_raises_only_invalid_playbook(text: str) -> None:
    for name in LOADERS:
        with parser(name):
            _load_or_refuse(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_invalid_playbook(data: bytes) -> None:
    _load_or_refuse(data)
