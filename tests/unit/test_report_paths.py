"""Report paths through ``playbook run`` (offline playbooks of log/set steps): checked
before anything runs, written through when they are links, FIFOs or devices, ``-`` for
standard output, and a failed write is exit 3 that does not cost the other report."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import textwrap
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from playbook.actions import REGISTRY, Call
from playbook.cli import _run_cli
from playbook.report.files import write_json_report
from playbook.report.paths import ReportInterrupted

PLAYBOOK = """\
    version: 1
    name: offline
    steps:
      - log: hello
      - set: {a: 1}
    """


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    path = tmp_path / "offline.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = _run_cli(["run", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def ran(console: str) -> bool:
    return "PASS  log" in console


def assert_report(text: str, status: str = "passed", code: int = 0) -> None:
    report = json.loads(text)
    assert (report["exit_code"], report["runs"][0]["status"]) == (code, status)
    assert [s["status"] for s in report["runs"][0]["steps"]] == ["passed", "passed"]


# -- written through, never replaced ---------------------------------------------------


def test_a_symbolic_link_is_written_through_and_stays_a_link(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    dangling_target, dangling = tmp_path / "new.xml", tmp_path / "dangling.xml"
    dangling.symlink_to(dangling_target)
    code, out, _ = run(
        capsys, str(playbook), "--json-report", str(link), "--junit-xml", str(dangling)
    )
    assert code == 0 and ran(out)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert_report(target.read_text())
    assert dangling.is_symlink() and os.readlink(dangling) == str(dangling_target)
    assert ET.parse(dangling_target).getroot().get("tests") == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.xml",
        "link.json",
        "new.xml",
        "offline.yaml",
        "target.json",
    ]


def test_a_fifo_gets_the_report_from_its_reader(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            received.append(f.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    code, out, _ = run(capsys, str(playbook), "--json-report", str(fifo))
    thread.join(timeout=10)
    assert code == 0 and ran(out)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert_report(received[0].decode())


def test_the_wait_for_a_fifo_reader_can_be_stopped(tmp_path: Path) -> None:
    fifo = tmp_path / "nobody.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ReportInterrupted, match="interrupted while waiting for a reader"):
        write_json_report(fifo, [], stop=lambda: True)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_device_is_written_through_and_stays_a_device(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root in a CI container, --json-report /dev/null used to replace /dev/null by a
    regular file. (A null device of our own, so that a bug cannot break the machine's.)"""
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as e:
        pytest.skip(f"cannot make a device node here: {e}")
    code, out, _ = run(capsys, str(playbook), "--json-report", str(null))
    assert code == 0 and ran(out)
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert null.lstat().st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null", "offline.yaml"]


# -- standard output ---------------------------------------------------------------------


def test_dash_is_standard_output_and_the_console_goes_to_standard_error(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit.xml"
    code, out, err = run(capsys, str(playbook), "--json-report", "-", "--junit-xml", str(junit))
    assert code == 0
    assert_report(out)
    assert out.startswith("{\n") and out.endswith("}\n")
    # durations vary (coverage's tracer slows a run): compare the lines without them
    lines = [re.sub(r"\d+ms", "Nms", line) for line in err.splitlines()[1:]]
    assert lines == [
        "    | hello",
        "  PASS  log  (Nms)",
        "  PASS  set  (Nms)",
        "passed: offline: 2 passed in Nms (exit 0)",
    ]
    assert not (tmp_path / "-").exists() and not Path("-").exists()
    assert ET.parse(junit).getroot().get("tests") == "2"


def test_junit_on_standard_output(playbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(playbook), "--junit-xml", "-")
    assert code == 0 and ran(err)
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    assert ET.fromstring(out).get("tests") == "2"


def test_two_reports_on_standard_output_are_exit_2(
    playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(playbook), "--json-report", "-", "--junit-xml", "-")
    assert code == 2 and out == ""
    assert err == (
        "error: --json-report and --junit-xml both go to standard output (-, -): "
        "only one report can\n"
    )


# -- checked before anything runs --------------------------------------------------------


def test_a_path_under_a_file_is_exit_2_before_running(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("x")
    bad = tmp_path / "file.txt" / "report.json"
    code, out, err = run(capsys, str(playbook), "--json-report", str(bad))
    assert code == 2 and out == ""
    assert err == f"error: --json-report {bad}: {tmp_path / 'file.txt'} is not a folder\n"


def test_every_bad_path_is_named_at_once(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("x")
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    bad = tmp_path / "file.txt" / "sub" / "junit.xml"
    code, out, err = run(capsys, str(playbook), "--json-report", str(loop), "--junit-xml", str(bad))
    assert code == 2 and out == ""
    assert err == (
        f"error: --json-report {loop}: a symbolic link loop; give a file\n"
        f"--junit-xml {bad}: {tmp_path / 'file.txt'} is not a folder\n"
    )


def test_the_same_file_twice_is_exit_2(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report"
    code, out, err = run(
        capsys, str(playbook), "--json-report", str(path), "--junit-xml", str(path)
    )
    assert code == 2 and out == ""
    assert err == (
        f"error: --json-report and --junit-xml name the same file ({path}): give two files\n"
    )


def test_missing_folders_are_created(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "a" / "b" / "report.json"
    code, out, _ = run(capsys, str(playbook), "--json-report", str(report))
    assert code == 0 and ran(out)
    assert_report(report.read_text())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_exit_2_before_running(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "old.json").write_text("{}")
    folder.chmod(0o555)
    try:
        new, old = folder / "new.json", folder / "old.json"
        code, out, err = run(capsys, str(playbook), "--json-report", str(new))
        assert code == 2 and out == ""
        assert err == f"error: --json-report {new}: the folder {folder} is not writable\n"
        code, out, err = run(capsys, str(playbook), "--json-report", str(old))
        assert code == 2 and out == ""
        assert err == (
            f"error: --json-report {old}: its folder {folder} is not writable (a report is "
            "written beside its file, then renamed into place)\n"
        )
    finally:
        folder.chmod(0o755)


# -- a failure at the end ----------------------------------------------------------------


def test_a_write_failure_is_exit_3_and_the_other_report_is_written(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """The log step replaces the report's folder by a file: the JSON report cannot be
    written at the end (a plain message, exit 3), the JUnit file still is."""
    folder = tmp_path / "reports"
    folder.mkdir()
    plain = REGISTRY["log"]

    async def log_and_break(call: Call) -> Any:
        shutil.rmtree(folder)
        folder.write_text("not a folder any more")
        return await plain(call)

    monkeypatch.setitem(REGISTRY, "log", log_and_break)
    report, junit = folder / "report.json", tmp_path / "junit.xml"
    code, out, err = run(
        capsys, str(playbook), "--json-report", str(report), "--junit-xml", str(junit)
    )
    assert code == 3 and ran(out)
    assert err == (
        f"error: --json-report {report}: the report could not be written: Not a directory\n"
    )
    assert "internal error" not in out + err and "Traceback" not in out + err
    assert ET.parse(junit).getroot().get("tests") == "2"


def test_a_full_device_is_exit_3_and_the_other_report_is_written(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (PermissionError, OSError) as e:
        pytest.skip(f"cannot make a device node here: {e}")
    report = tmp_path / "report.json"
    code, out, err = run(
        capsys, str(playbook), "--junit-xml", str(full), "--json-report", str(report)
    )
    assert code == 3 and ran(out)
    assert err == (
        f"error: --junit-xml {full}: the report could not be written: No space left on device\n"
    )
    assert_report(report.read_text(), "passed", 0)
    assert stat.S_ISCHR(full.lstat().st_mode)
