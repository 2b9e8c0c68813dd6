"""``include`` stays inside the playbook's folder unless ``--include-root`` widens it; a
refused include is never read, so its lines are never excerpted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from playbook.cli import _run_cli
from playbook.errors import InvalidPlaybook
from playbook.loader import load

SECRET_LINE = 'log: "password=hunter2"'


def tree(tmp_path: Path) -> Path:
    (tmp_path / "book" / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "creds.yaml").write_text(
        f"version: 1\nname: creds\nsteps:\n  - {SECRET_LINE}\n"
    )
    (tmp_path / "book" / "common.yaml").write_text(
        "version: 1\nname: common\nsteps:\n  - log: hi\n"
    )
    (tmp_path / "book" / "sub" / "child.yaml").write_text(
        "version: 1\nname: child\nsteps:\n  - include: {playbook: ../common.yaml}\n"
    )
    return tmp_path / "book"


def write(folder: Path, target: str) -> Path:
    path = folder / "p.yaml"
    path.write_text(f"version: 1\nname: p\nsteps:\n  - include: {{playbook: {target}}}\n")
    return path


@pytest.mark.parametrize("target", ["../outside/creds.yaml", "/etc/shadow", "/etc/passwd"])
def test_an_include_outside_the_folder_is_refused_unread(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tree(tmp_path)
    path = write(book, target)
    assert _run_cli(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert out == (
        f"{path}:4:25: steps[0].include.playbook: the included playbook {target!r} is outside "
        f"{book.resolve()}; includes stay inside the playbook's folder (widen it with "
        "--include-root DIR)\n"
        f"   4 |   - include: {{playbook: {target}}}\n"
        "     |                         ^\n"
        "1 problem in 1 of 1 file\n"
    )
    assert "hunter2" not in out and "root:" not in out


def test_a_link_inside_that_points_outside_is_refused(tmp_path: Path) -> None:
    book = tree(tmp_path)
    os.symlink(tmp_path / "outside" / "creds.yaml", book / "link.yaml")
    with pytest.raises(InvalidPlaybook) as raised:
        load(write(book, "link.yaml"))
    assert "'link.yaml' is outside" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_include_root_widens_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tree(tmp_path)
    path = write(book, "../outside/creds.yaml")
    playbook = load(path, include_root=tmp_path)
    assert playbook.steps[0].included is not None
    assert playbook.steps[0].included.name == "creds"
    assert _run_cli(["validate", "--include-root", str(tmp_path), str(path)]) == 0
    assert _run_cli(["plan", "--include-root", str(tmp_path), str(path)]) == 0
    assert "password=hunter2" in capsys.readouterr().out  # the plan shows the included step


def test_nested_includes_may_go_up_within_the_tree(tmp_path: Path) -> None:
    book = tree(tmp_path)
    playbook = load(write(book, "sub/child.yaml"))
    child = playbook.steps[0].included
    assert child is not None and child.steps[0].included is not None
    assert child.steps[0].included.name == "common"


def test_a_nested_include_is_bounded_by_the_top_level_folder(tmp_path: Path) -> None:
    book = tree(tmp_path)
    (book / "sub" / "child.yaml").write_text(
        "version: 1\nname: child\nsteps:\n  - include: {playbook: ../../outside/creds.yaml}\n"
    )
    with pytest.raises(InvalidPlaybook) as raised:
        load(write(book, "sub/child.yaml"))
    assert "'../../outside/creds.yaml' is outside" in str(raised.value)


def test_a_symlink_loop_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tree(tmp_path)
    os.symlink(book / "loop1", book / "loop2")
    os.symlink(book / "loop2", book / "loop1")
    path = write(book, "loop1")
    assert _run_cli(["validate", str(path)]) == 2
    assert "the included playbook 'loop1' is a symbolic link loop; give the path of a file" in (
        capsys.readouterr().out
    )
    assert _run_cli(["validate", str(book / "loop1")]) == 2
    out = capsys.readouterr().out
    assert "internal error" not in out and "Traceback" not in out
