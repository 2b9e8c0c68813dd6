"""What is not a regular file (a FIFO, a device, a symbolic link loop) given as a playbook
or as an inputs file is refused at once, exit 2, never read; a FIFO does not hang."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from playbook.cli import _run_cli

PLAYBOOK = "version: 1\nname: p\ninputs: {who: {type: string, default: x}}\nsteps:\n  - log: hi\n"
FIFO = "this is a named pipe (FIFO), not a regular file; give the path of a YAML file"
DEVICE = "this is a device, not a regular file; give the path of a YAML file"
LOOP = "the path is a symbolic link loop; give the path of a file"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("play.yaml").write_text(PLAYBOOK)
    os.mkfifo("fifo.yaml")
    os.symlink("loop2.yaml", "loop1.yaml")
    os.symlink("loop1.yaml", "loop2.yaml")
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    started = time.monotonic()
    code = _run_cli(list(args))
    # a FIFO without a writer would block an open() for ever: the refusal is at once
    assert time.monotonic() - started < 10
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


@pytest.mark.usefixtures("place")
@pytest.mark.parametrize("command", ["validate", "plan", "run"])
@pytest.mark.parametrize(("name", "message"), [("fifo.yaml", FIFO), ("loop1.yaml", LOOP)])
def test_a_playbook_that_is_not_a_regular_file_is_refused(
    capsys: pytest.CaptureFixture[str], command: str, name: str, message: str
) -> None:
    code, lines = cli(capsys, command, name)
    assert code == 2
    expected = f"{name}:1:1: {message}"
    assert (expected if command == "validate" else f"error: {expected}") in lines


@pytest.mark.usefixtures("place")
@pytest.mark.parametrize("command", ["validate", "plan", "run"])
@pytest.mark.parametrize(("name", "message"), [("fifo.yaml", FIFO), ("loop1.yaml", LOOP)])
def test_an_inputs_file_that_is_not_a_regular_file_is_refused(
    capsys: pytest.CaptureFixture[str], command: str, name: str, message: str
) -> None:
    code, lines = cli(capsys, command, "play.yaml", "--inputs-file", name)
    assert code == 2
    assert lines[-2:] == ["error: invalid inputs:", f"  - {name}:1:1: {message}"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
@pytest.mark.usefixtures("place")
def test_a_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "validate", "/dev/null") == (
        2,
        [f"/dev/null:1:1: {DEVICE}", "1 problem in 1 of 1 file"],
    )
    code, lines = cli(capsys, "run", "play.yaml", "--inputs-file", "/dev/null")
    assert (code, lines[-1]) == (2, f"  - /dev/null:1:1: {DEVICE}")


@pytest.mark.usefixtures("place")
def test_a_link_to_a_regular_file_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    os.symlink("play.yaml", "link.yaml")
    assert cli(capsys, "validate", "link.yaml") == (0, ["ok: link.yaml", "1 file valid"])
