"""Hostile playbooks, offline: each is refused quickly, with a clear message, the right exit
code and no traceback.

Two kinds: files that attack the YAML reader (alias bombs, giant files, deep nesting,
binary garbage, bad encodings, Python tags), refused at load time with exit code 2; and
templates that try to escape the sandbox or to exhaust time or memory, refused when they
are rendered (a step fails, exit code 1). docs/robustness.md lists the limits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from playbook import templating
from playbook.errors import InvalidPlaybook
from playbook.loader import load

ROOT = Path(__file__).resolve().parents[2]
QUICK = 10.0  # seconds a refusal may take in a subprocess, interpreter start included


def cli(*args: str, timeout: float = 30) -> tuple[int, str, float]:
    """Exit code, stdout and stderr together, and the wall time of ``python -m playbook``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PLAYBOOK_"))}
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "playbook", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - began


# -- the YAML reader -------------------------------------------------------------------------


def _billion_laughs() -> bytes:
    lines = [
        "version: 1",
        "name: lol",
        "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    ]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    return ("\n".join([*lines, "steps:", "  - log: hi", ""])).encode()


def _ten_megabytes() -> bytes:
    return b"version: 1\nname: big\nsteps:\n  - log: hi\n# " + b"x" * (10 * 1024 * 1024) + b"\n"


def _deep(opening: str) -> Callable[[], bytes]:
    return lambda: (
        "version: 1\nname: deep\nvars:\n  x: " + opening * 10_000 + "\nsteps:\n  - log: hi\n"
    ).encode()


def _binary() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4


# name -> (the file's bytes, the first line of the problem, after "<path>:")
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "billion_laughs": (
        _billion_laughs,
        "8:10: a5[0]: too many nodes after alias expansion (more than 200000); "
        "the file is refused (billion-laughs protection)",
    ),
    "ten_megabytes": (
        _ten_megabytes,
        "1:1: the file is 10485803 bytes, over the limit of 1000000 bytes; split "
        "it into smaller playbooks",
    ),
    "deep_lists": (_deep("["), "4:1004: the data nests deeper than 100 levels; flatten it"),
    "deep_mappings": (_deep("{a: "), "4:399: the data nests deeper than 100 levels; flatten it"),
    "binary": (_binary, "3:115: the file is not valid UTF-8 (byte 0x80); save it as UTF-8"),
    "latin1": (
        lambda: b"version: 1\nname: caf\xe9\nsteps:\n  - log: hi\n",
        "2:10: the file is not valid UTF-8 (byte 0xe9); save it as UTF-8",
    ),
    "utf16": (
        lambda: "version: 1\nname: x\nsteps:\n  - log: hi\n".encode("utf-16"),
        "1:1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8",
    ),
    "nul_bytes": (
        lambda: b"version: 1\nname: x\x00\x00\nsteps:\n  - log: hi\n",
        "2:8: the file contains a NUL byte, which YAML does not allow; remove it (is "
        "this a binary file?)",
    ),
    "python_tag": (
        lambda: b"version: 1\nname: !!python/object/apply:os.system [id]\nsteps:\n  - log: hi\n",
        "2:7: name: tags are not supported in playbooks (found "
        "!!python/object/apply:os.system); remove the tag and write the value as "
        "plain YAML",
    ),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for name, (make, _) in HOSTILE.items():
        files[name] = folder / f"{name}.yaml"
        files[name].write_bytes(make())
    return files


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_load_refuses_quickly(name: str, hostile_files: dict[str, Path]) -> None:
    began = time.monotonic()
    with pytest.raises(InvalidPlaybook) as e:
        load(hostile_files[name])
    assert time.monotonic() - began < 2.0
    assert len(e.value.problems) == 1
    assert str(e.value.problems[0]).splitlines()[0] == f"{hostile_files[name]}:{HOSTILE[name][1]}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_run_refuses_with_exit_2(name: str, hostile_files: dict[str, Path]) -> None:
    code, output, elapsed = cli("run", str(hostile_files[name]))
    assert code == 2, output
    assert elapsed < QUICK
    assert "Traceback" not in output
    lines = output.splitlines()
    assert lines[0] == f"error: {hostile_files[name]}:{HOSTILE[name][1]}"
    assert lines[-1] == "1 problem found"


@pytest.mark.timeout(60)
def test_validate_refuses_every_hostile_file_at_once(hostile_files: dict[str, Path]) -> None:
    code, output, elapsed = cli("validate", *map(str, hostile_files.values()))
    assert code == 2, output
    assert elapsed < QUICK
    assert "Traceback" not in output
    lines = output.splitlines()
    for name, path in hostile_files.items():
        assert f"{path}:{HOSTILE[name][1]}" in lines
    assert lines[-1] == f"{len(HOSTILE)} problems in {len(HOSTILE)} of {len(HOSTILE)} files"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_refused_unread(device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    code, output, elapsed = cli("validate", device)
    assert (code, elapsed < QUICK) == (2, True), output
    assert output.splitlines()[0] == (
        f"{device}:1:1: this is a device, not a regular file; give the path of a YAML file"
    )


# -- templates ------------------------------------------------------------------------------

INTERNALS = (
    "templates cannot access Python internals ({}); use the values in inputs, vars, "
    "env, steps and run"
)

# template -> what the step's failure says after "field log: "
TEMPLATES = {
    "{{ ''.__class__.__mro__ }}": INTERNALS.format("'__class__'"),
    "{{ cycler.__init__.__globals__ }}": INTERNALS.format("'cycler'"),
    "{{ lipsum.__globals__['os'].popen('id').read() }}": INTERNALS.format("'lipsum'"),
    "{{ namespace.__init__.__globals__ }}": INTERNALS.format("'__init__'"),
    "{{ ().__class__.__base__.__subclasses__() }}": INTERNALS.format("'__class__'"),
    "{{ ''|attr('__class__') }}": INTERNALS.format("'__class__'"),
    "{{ '{0.__class__}'.format(1) }}": INTERNALS.format("'__class__'"),
    "{{ range.__globals__ }}": INTERNALS.format("'__globals__'"),
    "{{ config.items() }}": INTERNALS.format("'config'"),
    "{{ env['__class__'] }}": INTERNALS.format("'__class__'"),
    "{{ [].append(1) }}": "templates cannot change values ('append' of a list); build a new "
    "value instead",
    "{{ range(10**9) | list }}": "range() would have 1000000000 items; the limit is 100000",
    "{{ 'x' * 10**10 }}": "the result would be longer than 1000000 characters",
    "{{ [0] * 10**8 }}": "the result would be larger than 1000000 items",
    "{{ 'x' | center(10**9) }}": "the result would be longer than 1000000 characters",
    "{{ 10 ** 1000000 }}": "the result would be a number larger than 100000 bits",
    "{{ 'x' * 600000 ~ 'x' * 600000 }}": "the result would be longer than 1000000 characters",
    "x{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}": "template took longer than 2s; simplify it",
}


@pytest.mark.timeout(60)
def test_template_escapes_and_bombs_fail_their_step(tmp_path: Path) -> None:
    path = tmp_path / "escapes.yaml"
    # every step but the last goes on after its failure; the last one fails the run
    steps = "".join(
        f"  - log: {_quoted(template)}\n    continue_on_error: true\n"
        for template in list(TEMPLATES)[:-1]
    )
    steps += f"  - log: {_quoted(list(TEMPLATES)[-1])}\n"
    path.write_text(f"version: 1\nname: escapes\nsteps:\n{steps}")
    code, output, elapsed = cli("run", str(path))
    assert code == 1, output
    assert elapsed < QUICK + templating.TIME_BUDGET
    assert "Traceback" not in output
    lines = output.splitlines()
    assert lines[0].startswith(f"playbook: escapes ({path}) run ")
    for index, message in enumerate(TEMPLATES.values()):
        assert lines[1 + 2 * index].startswith("  FAIL  log  (")
        assert lines[2 + 2 * index] == (
            f"        {path}:{4 + 2 * index}: step 'log' (steps[{index}]), field log: {message}"
        )
    assert lines[-1].startswith(f"failed: escapes: {len(TEMPLATES)} failed in ")
    assert lines[-1].endswith(" (exit 1)")
    assert len(lines) == 2 + 2 * len(TEMPLATES)


def _quoted(template: str) -> str:
    return "'" + template.replace("'", "''") + "'"


@pytest.mark.timeout(30)
def test_an_escape_in_vars_ends_the_run_before_any_step(tmp_path: Path) -> None:
    path = tmp_path / "vars.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: escape in vars
        vars:
          x: "{{ ''.__class__.__mro__ }}"
        steps:
          - log: "{{ vars.x }}"
        """)
    )
    code, output, _ = cli("run", str(path))
    assert code == 1, output
    assert output.splitlines() == [
        f"error: {path}:4: vars.x: {INTERNALS.format(repr('__class__'))}"
    ]


@pytest.mark.timeout(30)
def test_inputs_are_data_not_templates(tmp_path: Path) -> None:
    path = tmp_path / "inject.yaml"
    path.write_text(
        textwrap.dedent("""\
        version: 1
        name: injection
        inputs:
          who: {type: string}
        vars:
          greeting: "hello {{ inputs.who }}"
        steps:
          - log: "{{ vars.greeting }}"
        """)
    )
    payload = "{{ ''.__class__ }}{% for x in range(10**9) %}{% endfor %}"
    code, output, _ = cli("run", str(path), "-i", f"who={payload}")
    assert code == 0, output
    assert f"    | hello {payload}\n" in output  # printed as it came, never rendered
